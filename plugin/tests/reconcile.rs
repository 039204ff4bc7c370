//! The mix instance's reconciliation panel data: after a bounce, the mix instance waits for the
//! stem captures (written by other instances, here on other threads) and runs analyzer-core on
//! the bounce folder, the same check as `stemcheck check <folder>`.

// Test code may unwrap: a panic is the failure report (clippy.toml allows it in #[test]
// functions; this covers the helpers of this test crate too).
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use analyzer_core::capture::{CaptureRole, ProcessMode};
use analyzer_core::report::Verdict;
use common::*;
use stemcheck_plugin::reconcile::analyze_folder;
use stemcheck_plugin::shared::ReconcileState;

#[test]
fn mix_instance_reports_the_bounce_after_its_stems_complete() {
    let root = tempfile::tempdir().unwrap();
    let frames = 4 * RATE as usize;
    let stems: Vec<Vec<Vec<f32>>> = (0..3).map(|i| signal(50 + i, 2, frames)).collect();
    let mix: Vec<Vec<f32>> = (0..2)
        .map(|c| {
            (0..frames)
                .map(|f| stems.iter().map(|s| s[c][f]).sum())
                .collect()
        })
        .collect();

    let mut mix_engine = engine_with(
        root.path(),
        "Mix",
        2,
        ProcessMode::Offline,
        4096,
        analyze_folder,
    );
    let mut mix_info = stem_block(false, None);
    mix_info.role = Some(CaptureRole::Mix);
    // The mix finishes first; the stems (another "process") trail it.
    feed(&mut mix_engine, &mix, &[4096], 0, mix_info);
    let shared = mix_engine.shared().clone();
    let stem_threads: Vec<_> = stems
        .into_iter()
        .zip(["Drums", "Bass", "Keys"])
        .map(|(input, label)| {
            let root = root.path().to_path_buf();
            std::thread::spawn(move || {
                let mut e = engine(&root, label, 2, ProcessMode::Offline, 4096);
                feed(&mut e, &input, &[1000, 4096], 0, stem_block(false, None));
                e.deactivate();
            })
        })
        .collect();
    // The mix's bounce ends when the host stops calling process(): the writer's idle
    // finalize hands it to the reconciler, which must wait for the stems.
    for t in stem_threads {
        t.join().unwrap();
    }
    let start = Instant::now();
    let report = loop {
        let state = shared.reconcile.lock().clone();
        match state {
            ReconcileState::Done { report, .. } => break report,
            ReconcileState::Failed { reason, .. } => panic!("analysis failed: {reason}"),
            _ if start.elapsed() > Duration::from_secs(120) => panic!("no result: {state:?}"),
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    assert_eq!(report.files.len(), 4, "{report:#?}");
    assert_ne!(report.verdict, Verdict::Fail, "{:#?}", report.findings);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.code.as_str() == "sum_matches_mix"),
        "{:#?}",
        report.findings
    );
    mix_engine.deactivate();
}

fn write_wav(path: &std::path::Path, planar: &[Vec<f32>]) {
    analyzer_core::synth::write_wav(
        path,
        planar.len() as u16,
        RATE,
        analyzer_core::synth::WavFormat::Float32,
        &interleave(planar),
    )
    .unwrap();
}

/// The standalone's `STEMCHECK_SHOW_FOLDER` path: a delivery folder checked on a background
/// thread, and the report carries what the panel plots (level timeline, band spectrum), which
/// the plot geometry accepts.
#[test]
fn a_shown_folder_is_checked_in_the_background_with_plot_data() {
    use stemcheck_plugin::plots::{PlotGeometry, XScale, timeline_xs};
    let dir = tempfile::tempdir().unwrap();
    let frames = 3 * RATE as usize;
    let a = signal(80, 2, frames);
    let b = signal(81, 2, frames);
    // The mix holds a little more than the stems: a residual to plot.
    let extra = signal(82, 2, frames);
    let mix: Vec<Vec<f32>> = (0..2)
        .map(|c| {
            (0..frames)
                .map(|f| a[c][f] + b[c][f] + 0.05 * extra[c][f])
                .collect()
        })
        .collect();
    write_wav(&dir.path().join("Song_Drums.wav"), &a);
    write_wav(&dir.path().join("Song_Bass.wav"), &b);
    write_wav(&dir.path().join("Song_Mix.wav"), &mix);

    let shared = std::sync::Arc::new(stemcheck_plugin::shared::Shared::default());
    stemcheck_plugin::reconcile::show_folder(shared.clone(), dir.path().into(), analyze_folder)
        .unwrap();
    let start = Instant::now();
    let report = loop {
        let state = shared.reconcile.lock().clone();
        match state {
            ReconcileState::Done { report, .. } => break report,
            ReconcileState::Failed { reason, .. } => panic!("analysis failed: {reason}"),
            _ if start.elapsed() > Duration::from_secs(120) => panic!("no result: {state:?}"),
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let r = report
        .reconciliation
        .as_ref()
        .expect("the mix was found by name");
    let rect = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::Vec2::new(400.0, 120.0));
    let t = r.timeline.as_ref().expect("level timeline");
    assert_eq!(t.mix_db.len(), 3, "one level per second");
    let xs = timeline_xs(t.step_s, t.mix_db.len());
    let g = PlotGeometry::new(rect, &xs, XScale::Linear, &[&t.mix_db, &t.residual_db]).unwrap();
    assert_eq!(g.polylines(&xs, &t.residual_db).concat().len(), 3);
    let s = r.spectrum.as_ref().expect("band spectrum");
    let g = PlotGeometry::new(rect, &s.band_hz, XScale::Log, &[&s.mix_db, &s.residual_db]).unwrap();
    // The residual (-26 dB of noise and sine) sits well below the mix in every plotted band.
    let total = |v: &[Option<f64>]| {
        v.iter()
            .flatten()
            .map(|d| 10f64.powf(d / 10.0))
            .sum::<f64>()
    };
    let ratio_db = 10.0 * (total(&s.residual_db) / total(&s.mix_db)).log10();
    assert!((-40.0..-15.0).contains(&ratio_db), "{ratio_db}");
    assert!(g.db.hi_db <= 10.0 && g.db.lo_db < g.db.hi_db);
    assert!(!g.polylines(&s.band_hz, &s.mix_db).is_empty());
}

#[test]
fn a_shown_folder_that_cannot_be_checked_reports_why() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no such folder");
    let shared = std::sync::Arc::new(stemcheck_plugin::shared::Shared::default());
    stemcheck_plugin::reconcile::show_folder(shared.clone(), missing, analyze_folder).unwrap();
    let start = Instant::now();
    loop {
        let state = shared.reconcile.lock().clone();
        match state {
            ReconcileState::Failed { bounce_id, reason } => {
                assert_eq!(bounce_id, "no such folder");
                assert!(reason.contains("no such folder"), "{reason}");
                break;
            }
            ReconcileState::Done { report, .. } => panic!("checked a missing folder: {report:#?}"),
            _ if start.elapsed() > Duration::from_secs(60) => panic!("no result: {state:?}"),
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// The panel steps a verdict back to "previous bounce" once the transport plays on: the engine
/// counts blocks processed while the transport plays (not while it is stopped), and a
/// published verdict notes the count it was published at.
#[test]
fn a_verdict_notes_how_far_the_transport_had_played() {
    use std::sync::atomic::Ordering::Relaxed;
    let root = tempfile::tempdir().unwrap();
    let mut e = engine(root.path(), "Bus", 2, ProcessMode::Offline, 512);
    let x = signal(7, 2, 2048);
    let mut stopped = stem_block(false, None);
    stopped.auto_arm = false;
    feed(&mut e, &x, &[512], 0, stopped);
    let shared = e.shared().clone();
    assert_eq!(shared.played_blocks.load(Relaxed), 0);
    let mut playing = stem_block(true, Some(0));
    playing.auto_arm = false;
    feed(&mut e, &x, &[512], 0, playing);
    assert_eq!(shared.played_blocks.load(Relaxed), 4);

    let folder = root.path().join("some-bounce");
    std::fs::create_dir_all(&folder).unwrap();
    stemcheck_plugin::reconcile::show_folder(shared.clone(), folder, |_, _| {
        Err(analyzer_core::Error::InvalidInput("stand-in".into()))
    })
    .unwrap();
    let start = Instant::now();
    while !matches!(*shared.reconcile.lock(), ReconcileState::Failed { .. }) {
        assert!(start.elapsed() < Duration::from_secs(10), "no verdict");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(shared.played_blocks_at_verdict.load(Relaxed), 4);
    feed(&mut e, &x[..], &[2048], 0, playing);
    assert_ne!(
        shared.played_blocks.load(Relaxed),
        shared.played_blocks_at_verdict.load(Relaxed),
        "played on: the verdict is the previous bounce's"
    );
}

/// Set by [`slow_analysis`] when it starts, and when it saw the cancel flag.
static SLOW_STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static SLOW_SAW_CANCEL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// An analysis that runs until it is cancelled (at most two minutes, then gives up without
/// having seen the flag).
fn slow_analysis(
    _: &std::path::Path,
    cancel: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Result<analyzer_core::report::Report, analyzer_core::Error> {
    use std::sync::atomic::Ordering;
    SLOW_STARTED.store(true, Ordering::SeqCst);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        if cancel.load(Ordering::SeqCst) {
            SLOW_SAW_CANCEL.store(true, Ordering::SeqCst);
            return Err(analyzer_core::Error::Cancelled);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Err(analyzer_core::Error::InvalidInput("never cancelled".into()))
}

/// A host destroying the mix instance while it analyses a bounce (closing the session or
/// quitting right after an export) waits only until the analysis sees the cancel flag, not
/// for the whole check (~15 s of CPU for a 3-minute, 13-stem bounce in Ardour; issue 20).
#[test]
fn destroying_the_mix_instance_cancels_a_running_analysis() {
    use std::sync::atomic::Ordering;
    let root = tempfile::tempdir().unwrap();
    let mix = signal(90, 2, RATE as usize / 2);
    let mut mix_engine = engine_with(
        root.path(),
        "Mix",
        2,
        ProcessMode::Offline,
        4096,
        slow_analysis,
    );
    let mut mix_info = stem_block(false, None);
    mix_info.role = Some(CaptureRole::Mix);
    feed(&mut mix_engine, &mix, &[4096], 0, mix_info);
    mix_engine.deactivate();
    let start = Instant::now();
    while !SLOW_STARTED.load(Ordering::SeqCst) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the analysis never started: {:?}",
            mix_engine.shared().reconcile.lock()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Dropping joins the reconciliation thread: it returns once the analysis stopped.
    drop(mix_engine);
    assert!(
        SLOW_SAW_CANCEL.load(Ordering::SeqCst),
        "the analysis ran to its end instead of being cancelled"
    );
}
