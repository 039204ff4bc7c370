//! Invariants of the meters: gain reads as gain, true peak is never below sample peak, polarity
//! does not change DC magnitude or clip counts, and streaming in any block size gives exactly the
//! whole-buffer result.

use analyzer_core::meter::{FileMeter, Loudness, Metrics, SamplePeak, TruePeak};
use analyzer_core::synth::Rng;
use proptest::prelude::*;

/// Deterministic test programme: partials plus noise, with a level that moves over time.
fn programme(rate: u32, channels: usize, frames: usize, seed: u64, freq: f64) -> Vec<f32> {
    let mut rng = Rng::from_state(seed);
    let mut v = Vec::with_capacity(frames * channels);
    for i in 0..frames {
        let t = i as f64 / f64::from(rate);
        let level = 0.05 + 0.2 * (0.5 + 0.5 * (2.0 * std::f64::consts::PI * 0.3 * t).sin());
        for c in 0..channels {
            let s = (2.0 * std::f64::consts::PI * freq * t + c as f64).sin()
                + 0.3 * (2.0 * std::f64::consts::PI * freq * 2.7 * t).sin()
                + 0.2 * rng.next_f64();
            v.push((level * s) as f32);
        }
    }
    v
}

fn file_metrics(rate: u32, channels: usize, x: &[f32], block_frames: usize) -> Metrics {
    let mut m = FileMeter::new(channels, rate);
    for chunk in x.chunks(block_frames * channels) {
        m.process(chunk);
    }
    m.finish()
}

fn scaled(x: &[f32], gain_db: f64) -> Vec<f32> {
    let g = analyzer_core::units::db_to_amp(gain_db);
    x.iter().map(|&s| (f64::from(s) * g) as f32).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn gain_reads_as_gain(gain_db in -30.0f64..12.0, seed in 1u64..1000, freq in 50.0f64..8000.0,
                          stereo in any::<bool>()) {
        let rate = 48_000;
        let ch = if stereo { 2 } else { 1 };
        let x = programme(rate, ch, rate as usize * 5, seed, freq);
        let y = scaled(&x, gain_db);
        let a = file_metrics(rate, ch, &x, 8192);
        let b = file_metrics(rate, ch, &y, 8192);
        let close = |p: Option<f64>, q: Option<f64>, tol: f64| {
            (q.unwrap() - p.unwrap() - gain_db).abs() < tol
        };
        // The gates move with the signal, so only float rounding separates the readings.
        prop_assert!(close(a.integrated_lufs, b.integrated_lufs, 0.01));
        prop_assert!(close(a.max_momentary_lufs, b.max_momentary_lufs, 0.01));
        prop_assert!(close(a.max_short_term_lufs, b.max_short_term_lufs, 0.01));
        prop_assert!(close(a.sample_peak_dbfs, b.sample_peak_dbfs, 0.001));
        prop_assert!(close(a.true_peak_dbtp, b.true_peak_dbtp, 0.001));
        prop_assert!(close(a.rms_dbfs, b.rms_dbfs, 0.001));
        prop_assert!((a.loudness_range_lu.unwrap() - b.loudness_range_lu.unwrap()).abs() < 0.05);
    }

    #[test]
    fn true_peak_is_never_below_sample_peak(seed in 1u64..10_000, freq in 20.0f64..20_000.0,
                                            rate in prop::sample::select(vec![44_100u32, 48_000, 96_000, 192_000]),
                                            frames in 1usize..5000) {
        let x = programme(rate, 2, frames, seed, freq);
        let mut sp = SamplePeak::new(2, rate);
        let mut tp = TruePeak::new(2, rate);
        sp.process(&x);
        tp.process(&x);
        for c in 0..2 {
            prop_assert!(tp.peak(c) >= sp.peak(c), "ch {c}: {} < {}", tp.peak(c), sp.peak(c));
        }
    }

    #[test]
    fn polarity_keeps_dc_magnitude_and_clip_counts(seed in 1u64..1000, dc in -0.2f32..0.2,
                                                    drive in 1.0f32..4.0) {
        // A driven, hard-clipped programme with DC; inverting it changes neither the clip
        // statistics nor |DC|.
        let rate = 44_100;
        let x: Vec<f32> = programme(rate, 2, 20_000, seed, 220.0)
            .iter()
            .map(|&s| (s * drive * 4.0 + dc).clamp(-1.0, 1.0))
            .collect();
        let y: Vec<f32> = x.iter().map(|&s| -s).collect();
        let a = file_metrics(rate, 2, &x, 1000);
        let b = file_metrics(rate, 2, &y, 1000);
        prop_assert_eq!(a.clipped_runs, b.clipped_runs);
        prop_assert_eq!(a.longest_clip_run_samples, b.longest_clip_run_samples);
        for (p, q) in a.dc_offset.iter().zip(&b.dc_offset) {
            prop_assert!((p + q).abs() < 1e-9);
        }
        // Gain scales DC linearly.
        let z = scaled(&x, -6.0);
        let c = file_metrics(rate, 2, &z, 1000);
        prop_assert!((c.dc_offset_dbfs.unwrap() - a.dc_offset_dbfs.unwrap() + 6.0).abs() < 1e-3);
    }
}

#[test]
fn streaming_in_any_block_size_equals_whole_buffer() {
    for (rate, ch) in [(48_000u32, 2usize), (44_100, 1), (96_000, 2), (48_000, 6)] {
        let mut x = programme(rate, ch, rate as usize * 4 + 123, 42, 440.0);
        // Some full-scale runs and bad samples so every meter has something to do.
        for s in &mut x[1000 * ch..1010 * ch] {
            *s = 1.0;
        }
        x[5000] = f32::NAN;
        x[5001] = f32::INFINITY;
        let whole = file_metrics(rate, ch, &x, x.len());
        for block in [1, 7, 64, 8192] {
            let streamed = file_metrics(rate, ch, &x, block);
            assert_eq!(streamed, whole, "{rate} Hz {ch} ch, blocks of {block}");
        }
        assert_eq!(whole.non_finite_samples, 2);
        assert!(whole.clipped_runs >= 1);
    }
}

#[test]
fn loudness_readouts_stream_identically() {
    let rate = 48_000;
    let x = programme(rate, 2, rate as usize * 6, 9, 1000.0);
    let mut whole = Loudness::new(2, rate);
    whole.process(&x);
    for block in [1, 7, 64, 8192] {
        let mut l = Loudness::new(2, rate);
        for c in x.chunks(block * 2) {
            l.process(c);
        }
        assert_eq!(l.integrated_lufs(), whole.integrated_lufs());
        assert_eq!(l.momentary_lufs(), whole.momentary_lufs());
        assert_eq!(l.short_term_lufs(), whole.short_term_lufs());
        assert_eq!(l.loudness_range_lu(), whole.loudness_range_lu());
    }
}

#[test]
fn non_finite_samples_do_not_poison_other_meters() {
    let rate = 48_000;
    let clean = programme(rate, 2, rate as usize * 5, 5, 500.0);
    let mut dirty = clean.clone();
    // Replace samples with NaN / inf; compare against the clean signal with zeros there.
    let mut zeroed = clean.clone();
    for i in (0..dirty.len()).step_by(9973) {
        dirty[i] = if i % 2 == 0 {
            f32::NAN
        } else {
            f32::NEG_INFINITY
        };
        zeroed[i] = 0.0;
    }
    let a = file_metrics(rate, 2, &dirty, 8192);
    let b = file_metrics(rate, 2, &zeroed, 8192);
    assert!(a.non_finite_samples > 0);
    assert_eq!(b.non_finite_samples, 0);
    assert_eq!(a.integrated_lufs, b.integrated_lufs);
    assert_eq!(a.true_peak_dbtp, b.true_peak_dbtp);
    assert_eq!(a.sample_peak_dbfs, b.sample_peak_dbfs);
    assert_eq!(a.dc_offset, b.dc_offset);
    assert_eq!(a.rms_dbfs, b.rms_dbfs);
    assert!(a.integrated_lufs.unwrap().is_finite());
}

#[test]
fn reset_starts_over() {
    let rate = 44_100;
    let x = programme(rate, 2, rate as usize * 4, 11, 300.0);
    let mut m = FileMeter::new(2, rate);
    m.process(&scaled(&x, 10.0));
    m.reset();
    m.process(&x);
    assert_eq!(m.finish(), file_metrics(rate, 2, &x, x.len()));
}
