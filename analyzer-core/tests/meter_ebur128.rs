//! Agreement with the `ebur128` crate (a port of libebur128, the reference implementation most
//! tools use) on the same signals: within 0.1 LU for momentary, short-term, integrated loudness
//! and LRA, and within 0.1 dB for true peak.

// Test code may unwrap: a panic is the failure report (clippy.toml allows it in #[test]
// functions; this covers the helpers of this test crate too).
#![allow(clippy::unwrap_used)]

use analyzer_core::meter::{Loudness, SamplePeak, TruePeak};
use analyzer_core::synth::Rng;
use analyzer_core::units::{amp_to_db, db_to_amp};
use ebur128::{EbuR128, Mode};

fn sine(rate: u32, channels: usize, secs: f64, freq: f64, dbfs: f64) -> Vec<f32> {
    let n = (f64::from(rate) * secs) as usize;
    let a = db_to_amp(dbfs);
    let mut v = Vec::with_capacity(n * channels);
    for i in 0..n {
        let t = i as f64 / f64::from(rate);
        for c in 0..channels {
            // A small phase offset per channel so channels are not identical.
            let ph = 0.3 * c as f64;
            v.push((a * (2.0 * std::f64::consts::PI * freq * t + ph).sin()) as f32);
        }
    }
    v
}

fn noise(rate: u32, channels: usize, secs: f64, dbfs: f64, seed: u64) -> Vec<f32> {
    let n = (f64::from(rate) * secs) as usize * channels;
    let mut g = Rng::from_state(seed);
    let a = db_to_amp(dbfs) as f32;
    (0..n).map(|_| a * g.next_f32()).collect()
}

/// Music-like: a few harmonic partials with changing pitch every 0.5 s, a decaying note envelope,
/// a lowpassed noise bed, and sections whose level moves over a 20 dB range.
fn music(rate: u32, channels: usize, secs: f64, seed: u64) -> Vec<f32> {
    let n = (f64::from(rate) * secs) as usize;
    let mut g = Rng::from_state(seed);
    let notes = [110.0, 146.8, 196.0, 130.8, 220.0, 164.8, 98.0, 174.6];
    let mut lp = vec![0f64; channels];
    let mut v = Vec::with_capacity(n * channels);
    for i in 0..n {
        let t = i as f64 / f64::from(rate);
        let note = notes[(t / 0.5) as usize % notes.len()];
        let since = t % 0.5;
        let env = (-since * 6.0).exp();
        let section = [-10.0, -18.0, -6.0, -25.0, -14.0][(t / 4.0) as usize % 5];
        let level = db_to_amp(section);
        for (c, lp) in lp.iter_mut().enumerate() {
            let mut s = 0.0;
            for h in 1..=6 {
                let hf = h as f64;
                s += (2.0 * std::f64::consts::PI * note * hf * t + c as f64).sin() / hf;
            }
            *lp = 0.95 * *lp + 0.05 * f64::from(g.next_f32());
            v.push((level * (0.5 * env * s + 0.8 * *lp)) as f32);
        }
    }
    v
}

fn reference(rate: u32, channels: usize) -> EbuR128 {
    EbuR128::new(
        channels as u32,
        rate,
        Mode::I | Mode::LRA | Mode::M | Mode::S | Mode::TRUE_PEAK | Mode::SAMPLE_PEAK,
    )
    .unwrap()
}

/// Feeds both meters in 100 ms steps, comparing momentary and short-term loudness at each
/// step, then compares integrated, LRA, sample and true peak.
fn compare(name: &str, rate: u32, channels: usize, x: &[f32], lra_tol: f64) {
    let mut ours = Loudness::new(channels, rate);
    // libebur128 takes a short-term value for LRA every 1 s.
    ours.set_lra_interval_ms(1000);
    let mut ours_10hz = Loudness::new(channels, rate);
    let mut tp = TruePeak::new(channels, rate);
    let mut sp = SamplePeak::new(channels, rate);
    let mut reff = reference(rate, channels);
    let step = (rate as usize + 5) / 10 * channels;
    let mut steps = 0;
    for chunk in x.chunks(step) {
        ours.process(chunk);
        ours_10hz.process(chunk);
        tp.process(chunk);
        sp.process(chunk);
        reff.add_frames_f32(chunk).unwrap();
        if chunk.len() < step {
            break;
        }
        steps += 1;
        let m_ref = reff.loudness_momentary().unwrap();
        let m = ours.momentary_lufs();
        if m_ref > -70.0 {
            assert!(
                (m - m_ref).abs() < 0.1,
                "{name}: momentary {m} vs {m_ref} at step {steps}"
            );
        }
        if steps >= 30 {
            let s_ref = reff.loudness_shortterm().unwrap();
            let s = ours.short_term_lufs();
            if s_ref > -70.0 {
                assert!((s - s_ref).abs() < 0.1, "{name}: short-term {s} vs {s_ref}");
            }
        }
    }
    let i_ref = reff.loudness_global().unwrap();
    let i = ours.integrated_lufs();
    assert!(
        (i - i_ref).abs() < 0.1 || (i == f64::NEG_INFINITY && i_ref == f64::NEG_INFINITY),
        "{name}: integrated {i} vs {i_ref}"
    );
    let lra_ref = reff.loudness_range().unwrap();
    let lra = ours.loudness_range_lu().unwrap_or(0.0);
    assert!(
        (lra - lra_ref).abs() < 0.1,
        "{name}: LRA {lra} vs {lra_ref}"
    );
    // Tech 3342 (2016) asks for short-term values at 10 Hz or more, the default; on programmes
    // with abrupt level steps that moves the percentiles a little.
    let lra_10hz = ours_10hz.loudness_range_lu().unwrap_or(0.0);
    assert!(
        (lra_10hz - lra_ref).abs() <= lra_tol,
        "{name}: LRA at 10 Hz {lra_10hz} vs {lra_ref}"
    );
    for c in 0..channels {
        let tp_ref = amp_to_db(reff.true_peak(c as u32).unwrap());
        let t = amp_to_db(f64::from(tp.peak(c).max(sp.peak(c))));
        assert!(
            (t - tp_ref).abs() < 0.1,
            "{name}: true peak ch{c} {t} vs {tp_ref}"
        );
        let sp_ref = reff.sample_peak(c as u32).unwrap();
        assert!(
            (f64::from(sp.peak(c)) - sp_ref).abs() < 1e-6,
            "{name}: sample peak"
        );
    }
}

#[test]
fn sines_agree() {
    for rate in [44_100, 48_000, 96_000] {
        for channels in [1, 2] {
            for (freq, level) in [
                (100.0, -20.0),
                (997.0, -6.0),
                (1000.0, -40.0),
                (3000.0, -12.0),
                (5000.0, -3.0),
                (10_000.0, -18.0),
            ] {
                let x = sine(rate, channels, 6.0, freq, level);
                compare(
                    &format!("sine {freq} Hz {level} dB {rate} Hz {channels} ch"),
                    rate,
                    channels,
                    &x,
                    0.1,
                );
            }
        }
    }
}

#[test]
fn noise_agrees() {
    for rate in [44_100, 48_000, 96_000] {
        for channels in [1, 2] {
            let x = noise(rate, channels, 8.0, -12.0, 7 + rate as u64);
            compare(
                &format!("noise {rate} Hz {channels} ch"),
                rate,
                channels,
                &x,
                0.1,
            );
        }
    }
}

#[test]
fn music_like_agrees() {
    // LRA at 10 Hz: ebur128 takes a short-term value every 1 s; this programme's 4 s sections
    // with level steps of up to 19 dB make the transitions weigh differently.
    for rate in [44_100, 48_000, 96_000] {
        for channels in [1, 2] {
            let x = music(rate, channels, 40.0, 99 + channels as u64);
            compare(
                &format!("music {rate} Hz {channels} ch"),
                rate,
                channels,
                &x,
                1.5,
            );
        }
    }
}

#[test]
fn inter_sample_peaks_agree() {
    // Sines near fs/4 and fs/6 with phases that put the true peak between samples.
    for rate in [44_100u32, 48_000, 96_000] {
        for (div, phase_deg) in [(4.0, 45.0), (6.0, 30.0), (8.0, 22.5), (5.3, 10.0)] {
            let f = f64::from(rate) / div;
            let n = rate as usize;
            let ph = phase_deg * std::f64::consts::PI / 180.0;
            let x: Vec<f32> = (0..n)
                .map(|i| {
                    (0.5 * (2.0 * std::f64::consts::PI * f * i as f64 / f64::from(rate) + ph).sin())
                        as f32
                })
                .collect();
            let mut tp = TruePeak::new(1, rate);
            tp.process(&x);
            let mut r = reference(rate, 1);
            r.add_frames_f32(&x).unwrap();
            let a = amp_to_db(f64::from(tp.max_peak()));
            let b = amp_to_db(r.true_peak(0).unwrap());
            assert!((a - b).abs() < 0.1, "{rate} Hz fs/{div}: {a} vs {b}");
        }
    }
}

#[test]
fn multichannel_5_1_agrees() {
    // 6 channels: L R C LFE Ls Rs with BS.1770 weights (LFE excluded, surrounds 1.41).
    let rate = 48_000;
    let x = noise(rate, 6, 6.0, -20.0, 3);
    let mut ours = Loudness::new(6, rate);
    ours.process(&x);
    let mut r = reference(rate, 6);
    r.add_frames_f32(&x).unwrap();
    let (a, b) = (ours.integrated_lufs(), r.loudness_global().unwrap());
    assert!((a - b).abs() < 0.1, "5.1 integrated {a} vs {b}");
}
