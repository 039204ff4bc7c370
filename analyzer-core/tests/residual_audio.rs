//! The residual as audio ([`render_residual`]) is the residual the null depths measure: a
//! stem delivered with its channels swapped and another with inverted polarity leave a loud
//! residual as delivered, and none once read as the corrected sum reads them.

// Test code may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use analyzer_core::profile::MASTERING;
use analyzer_core::reconcile::synth::{Song, Stem};
use analyzer_core::reconcile::{
    ReconcileOptions, ResidualKind, reconcile_sources, render_residual,
};

mod common;
use common::song::stretch;

const SR: u32 = 48_000;

fn energy(x: &[f32]) -> f64 {
    x.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
}

#[test]
fn corrected_residual_undoes_a_swap_and_a_polarity_flip() {
    // Six stems plus a wide stereo stem whose sides carry different parts.
    let mut song = Song::new(SR, 12.0, 6, 1);
    let other = Song::new(SR, 12.0, 6, 2);
    let (l, r) = (&other.stems[0].samples, &other.stems[4].samples);
    song.stems.push(Stem {
        name: "wide".into(),
        channels: 2,
        samples: l.iter().zip(r).flat_map(|(&a, &b)| [a, b]).collect(),
        pan: [1.0, 1.0],
    });
    let mix = song.mix();
    let mut delivered = song.clone();
    delivered
        .stems
        .last_mut()
        .unwrap()
        .samples
        .chunks_exact_mut(2)
        .for_each(|f| f.swap(0, 1));
    delivered.stems[1].samples.iter_mut().for_each(|x| *x = -*x);
    let (m, stems) = delivered.sources(&mix).unwrap();
    let r = reconcile_sources(
        m,
        stems,
        &MASTERING,
        &ReconcileOptions::default(),
        None,
        &|_| {},
    )
    .unwrap();
    let plan = &r.residual_plan;
    assert_eq!(plan.stems.len(), delivered.stems.len());
    assert!(
        plan.stems
            .last()
            .unwrap()
            .as_ref()
            .unwrap()
            .channel_fix
            .is_some(),
        "{plan:?}"
    );

    let render = |kind| {
        let (m, stems) = delivered.sources(&mix).unwrap();
        let mut out = Vec::new();
        render_residual(
            m,
            stems.into_iter().map(Some).collect(),
            plan,
            kind,
            &mut |b| {
                out.extend_from_slice(b);
                Ok(())
            },
        )
        .unwrap();
        out
    };
    let (as_delivered, corrected) = (
        render(ResidualKind::Delivered),
        render(ResidualKind::Corrected),
    );
    assert_eq!(as_delivered.len(), mix.len());
    assert_eq!(corrected.len(), mix.len());
    let db = |x: &[f32]| 10.0 * (energy(x) / energy(&mix)).log10();
    assert!(
        db(&as_delivered) > -20.0,
        "as delivered {:.1} dB",
        db(&as_delivered)
    );
    assert!(db(&corrected) < -60.0, "corrected {:.1} dB", db(&corrected));
    // The report's corrected null is this residual's level (over the judged span).
    let reported = r.reconciliation.corrected_null_depth_db.unwrap();
    assert!(
        reported < -60.0 && (db(&corrected) - reported).abs() < 3.0,
        "written {:.1} dB, reported {reported:.1} dB",
        db(&corrected)
    );
}

#[test]
fn corrected_residual_undoes_clock_drift() {
    let mut song = Song::new(SR, 20.0, 6, 1);
    let mix = song.mix();
    let keys = &mut song.stems[1];
    keys.samples = stretch(&keys.samples, keys.channels, 100.0);
    let (m, stems) = song.sources(&mix).unwrap();
    let r = reconcile_sources(
        m,
        stems,
        &MASTERING,
        &ReconcileOptions::default(),
        None,
        &|_| {},
    )
    .unwrap();
    let plan = &r.residual_plan;
    assert!(plan.stems[1].as_ref().unwrap().drift.is_some(), "{plan:?}");
    let render = |kind| {
        let (m, stems) = song.sources(&mix).unwrap();
        let mut out = Vec::new();
        render_residual(
            m,
            stems.into_iter().map(Some).collect(),
            plan,
            kind,
            &mut |b| {
                out.extend_from_slice(b);
                Ok(())
            },
        )
        .unwrap();
        out
    };
    let db = |x: &[f32]| 10.0 * (energy(x) / energy(&mix)).log10();
    let (d, c) = (
        db(&render(ResidualKind::Delivered)),
        db(&render(ResidualKind::Corrected)),
    );
    assert!(c < d - 15.0, "as delivered {d:.1} dB, corrected {c:.1} dB");
    let reported = r.reconciliation.corrected_null_depth_db.unwrap();
    assert!(
        (c - reported).abs() < 3.0,
        "written {c:.1} dB, reported {reported:.1} dB"
    );
}
