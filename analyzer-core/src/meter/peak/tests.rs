//! Unit tests of the sample-peak and true-peak meters.
use super::*;

#[test]
fn filters_are_mirrored_and_near_unity_gain() {
    for p in 0..4 {
        let mut r = ANNEX2[3 - p];
        r.reverse();
        assert_eq!(ANNEX2[p], r);
        let dc: f64 = ANNEX2[p].iter().sum();
        assert!((dc - 1.0).abs() < 0.03, "phase {p} DC gain {dc}");
    }
    for p in &hann_sinc::<2, 24>() {
        let dc: f32 = p.iter().sum();
        assert!((dc - 1.0).abs() < 0.002, "2x DC gain {dc}");
    }
    let f = hann_sinc::<4, 12>();
    for p in &f {
        let dc: f32 = p.iter().sum();
        assert!((dc - 1.0).abs() < 0.002, "4x DC gain {dc}");
    }
    // Phase 0 passes the samples through (delayed by 6).
    assert!((f[0][5] - 1.0).abs() < 1e-6 || (f[0][6] - 1.0).abs() < 1e-6);
}

#[test]
fn oversampling_follows_rate() {
    assert_eq!(Oversampling::for_rate(44_100), Oversampling::X4);
    assert_eq!(Oversampling::for_rate(88_200), Oversampling::X4);
    assert_eq!(Oversampling::for_rate(96_000), Oversampling::X2);
    assert_eq!(Oversampling::for_rate(192_000), Oversampling::None);
}

#[test]
fn inter_sample_peak_of_quarter_rate_sine() {
    // fs/4 sine at 45 degrees: every sample sits at A/sqrt(2), the waveform reaches A.
    let a = 0.5f32;
    let x: Vec<f32> = (0..4800)
        .map(|i| {
            let ph = std::f64::consts::FRAC_PI_2 * (i % 4) as f64 + std::f64::consts::FRAC_PI_4;
            a * ph.sin() as f32
        })
        .collect();
    let mut sp = SamplePeak::new(1, 48_000);
    sp.process(&x);
    assert!((sp.max_peak() - a / 2f32.sqrt()).abs() < 1e-4);
    for which in [TruePeakFilter::HannSinc, TruePeakFilter::Bs1770Annex2] {
        let mut tp = TruePeak::with_filter(1, 48_000, which);
        tp.process(&x);
        let db = crate::units::amp_to_db_f32(tp.max_peak() / a);
        assert!(db.abs() < 0.3, "{which:?}: true peak {db} dB off");
    }
}

/// Straightforward polyphase interpolation over the whole signal, no skipping.
fn brute_force(x: &[f32], rate: u32, which: TruePeakFilter) -> f32 {
    let phases: Vec<Vec<f32>> = match (Oversampling::for_rate(rate), which) {
        (Oversampling::None, _) => vec![],
        (Oversampling::X2, _) => hann_sinc::<2, 24>().iter().map(|p| p.to_vec()).collect(),
        (Oversampling::X4, TruePeakFilter::HannSinc) => {
            hann_sinc::<4, 12>().iter().map(|p| p.to_vec()).collect()
        }
        (Oversampling::X4, TruePeakFilter::Bs1770Annex2) => {
            annex2_filter().iter().map(|p| p.to_vec()).collect()
        }
    };
    let mut peak = x.iter().fold(0f32, |m, v| m.max(v.abs()));
    for h in &phases {
        let taps = h.len();
        let mut padded = vec![0f32; taps - 1];
        padded.extend_from_slice(x);
        for k in 0..x.len() {
            let y: f32 = (0..taps).map(|t| h[t] * padded[k + t]).sum();
            peak = peak.max(y.abs());
        }
    }
    peak
}

#[test]
fn skipping_is_exact() {
    // Bursts over a quiet bed, so that some windows are skipped and some are not.
    let mut rng = crate::synth::Rng::from_state(12345);
    let x: Vec<f32> = (0..20_000)
        .map(|i| {
            let n = 0.5 * rng.next_f32();
            let burst = if (i / 700) % 5 == 0 { 1.5 } else { 0.05 };
            n * burst * (1.0 + (i as f32 * 0.0007).sin())
        })
        .collect();
    for rate in [44_100, 96_000, 192_000] {
        for which in [TruePeakFilter::HannSinc, TruePeakFilter::Bs1770Annex2] {
            let expected = brute_force(&x, rate, which);
            for block in [1, 5, 64, 333, 20_000] {
                let mut tp = TruePeak::with_filter(1, rate, which);
                let mut took = 0f32;
                for c in x.chunks(block) {
                    tp.process(c);
                    took = took.max(tp.take_max_peak());
                }
                let rel = (tp.max_peak() - expected).abs() / expected;
                assert!(
                    rel < 1e-5,
                    "{rate} {which:?} block {block}: {} vs {expected}",
                    tp.max_peak()
                );
                assert_eq!(took, tp.max_peak());
            }
        }
    }
}

/// With the since-take peak restarted at a floor, every reading above the floor is the exact
/// peak of its stretch, one at or below it says the stretch stayed at or below the floor,
/// and the peak since reset is unaffected.
#[test]
fn take_above_a_floor_is_exact_above_it() {
    let mut rng = crate::synth::Rng::from_state(777);
    let x: Vec<f32> = (0..30_000)
        .map(|i| {
            let n = 0.5 * rng.next_f32();
            let level = if (i / 900) % 4 == 0 {
                1.6
            } else {
                0.3 + 0.2 * ((i / 900) % 3) as f32
            };
            n * level
        })
        .collect();
    for rate in [48_000, 96_000] {
        let mut tp = TruePeak::new(1, rate);
        let mut whole = TruePeak::new(1, rate);
        let floors = [0.0f32, 0.1, 0.25, 0.4, 0.8, 2.0, f32::NAN, -1.0];
        let mut floor = 0.0f32;
        let mut start = 0;
        for (i, stretch) in [700usize, 64, 1_500, 333, 4_000, 1, 2_048]
            .iter()
            .cycle()
            .enumerate()
        {
            if start >= x.len() {
                break;
            }
            let end = (start + stretch).min(x.len());
            for c in x[start..end].chunks(256) {
                tp.process(c);
                whole.process(c);
            }
            // The stretch's exact peak, including its filter history (brute force over the
            // signal from the start, minus the peak before the stretch is not available; use
            // a fresh meter fed the history and the stretch and take the stretch's part).
            let mut reference = TruePeak::new(1, rate);
            let hist = start.saturating_sub(64);
            reference.process(&x[hist..start]);
            reference.take_max_peak();
            reference.process(&x[start..end]);
            let exact = reference.take_max_peak();
            let got = tp.max_peak_since_take();
            let f = if floor >= 0.0 { floor } else { 0.0 };
            if exact > f {
                assert_eq!(got, exact, "{rate} Hz stretch {i}: floor {floor}");
            } else {
                assert!(
                    got <= f,
                    "{rate} Hz stretch {i}: {got} above floor {floor} ({exact})"
                );
            }
            floor = floors[i % floors.len()];
            tp.take_max_peak_above(floor);
            start = end;
        }
        assert_eq!(tp.max_peak(), whole.max_peak());
    }
}

#[test]
fn take_reads_and_forgets() {
    let mut sp = SamplePeak::new(2, 48_000);
    sp.process(&[0.5, -0.25, 0.1, 0.1]);
    let mut out = [0.0; 2];
    sp.take_peaks(&mut out);
    assert_eq!(out, [0.5, 0.25]);
    sp.process(&[0.1, 0.2]);
    assert_eq!(sp.take_max_peak(), 0.2);
    assert_eq!(sp.take_max_peak(), 0.0);
    assert_eq!(sp.max_peak(), 0.5);
    let mut tp = TruePeak::new(1, 44_100);
    tp.process(&[0.0, 0.9, 0.0]);
    let peeked = tp.max_peak_since_take();
    assert!(peeked >= 0.9);
    assert_eq!(tp.take_max_peak(), peeked);
    assert_eq!(tp.max_peak_since_take(), 0.0);
    assert_eq!(tp.take_max_peak(), 0.0);
    assert!(tp.max_peak() >= 0.9);
}

#[test]
fn non_finite_samples_are_ignored() {
    let mut sp = SamplePeak::new(1, 48_000);
    let mut tp = TruePeak::new(1, 48_000);
    let x = [0.25, f32::NAN, f32::INFINITY, -0.5, f32::NEG_INFINITY];
    sp.process(&x);
    tp.process(&x);
    assert_eq!(sp.max_peak(), 0.5);
    assert!(tp.max_peak().is_finite() && tp.max_peak() < 0.7);
}

#[test]
fn the_dispatched_interpolator_gives_the_baseline_bits() {
    let mut rng = crate::synth::Rng::new(0x9e37_79b9);
    let mut next = move || rng.next_f32();
    let x: Vec<f32> = (0..4_096)
        .map(|i| next() * if i % 700 < 40 { 1.0 } else { 0.3 })
        .collect();
    let sinc4 = {
        let [_, p1, p2, p3] = hann_sinc::<4, 12>();
        [p1, p2, p3]
    };
    let sinc2 = [hann_sinc::<2, 24>()[1]];
    let annex2 = annex2_filter();
    let mut compared = 0;
    for n in [0, 5, 8, 64, 1_000, 4_000] {
        for skip in [0.0, 0.1, 0.5, 0.9, 2.0] {
            let got = [
                fir_abs_max(&sinc4, &x, n, skip),
                fir_abs_max(&sinc2, &x, n, skip),
                fir_abs_max(&annex2, &x, n, skip),
            ];
            let want = [
                fir_abs_max_baseline(&sinc4, &x, n, skip),
                fir_abs_max_baseline(&sinc2, &x, n, skip),
                fir_abs_max_baseline(&annex2, &x, n, skip),
            ];
            assert_eq!(
                got.map(f32::to_bits),
                want.map(f32::to_bits),
                "n {n}, skip {skip}"
            );
            compared += usize::from(got[0] > 0.0);
        }
    }
    assert!(compared > 10, "too few non-trivial cases: {compared}");
}
