//! EBU Tech 3341 ("EBU Mode" metering) and Tech 3342 (loudness range) test cases, synthesised
//! from their published descriptions. Tolerances are the documents': +/-0.1 LU for loudness,
//! +/-1 LU for LRA, -0.4/+0.2 dB for true peak.

use analyzer_core::meter::{FileMeter, Loudness, TruePeak};

/// Stereo (or `levels.len()`-channel) 1 kHz sine, `secs` seconds per (level-per-channel) segment.
fn tone_segments(rate: u32, segments: &[(f64, &[f64])]) -> Vec<f32> {
    let channels = segments[0].1.len();
    let mut v = Vec::new();
    let mut i = 0u64;
    for &(secs, levels) in segments {
        let n = (f64::from(rate) * secs).round() as u64;
        for _ in 0..n {
            let t = i as f64 / f64::from(rate);
            let s = (2.0 * std::f64::consts::PI * 1000.0 * t).sin();
            for &l in levels {
                v.push((analyzer_core::units::db_to_amp(l) * s) as f32);
            }
            i += 1;
        }
    }
    assert!(v.len().is_multiple_of(channels));
    v
}

fn stereo(rate: u32, segments: &[(f64, f64)]) -> Vec<f32> {
    let levels: Vec<[f64; 2]> = segments.iter().map(|&(_, l)| [l, l]).collect();
    let segs: Vec<(f64, &[f64])> = segments
        .iter()
        .zip(&levels)
        .map(|(&(s, _), l)| (s, &l[..]))
        .collect();
    tone_segments(rate, &segs)
}

fn integrated(rate: u32, channels: usize, x: &[f32]) -> f64 {
    let mut l = Loudness::new(channels, rate);
    l.process(x);
    l.integrated_lufs()
}

#[test]
fn case_1_and_2_steady_tone() {
    for rate in [44_100, 48_000] {
        for level in [-23.0, -33.0] {
            let x = stereo(rate, &[(20.0, level)]);
            let mut l = Loudness::new(2, rate);
            // Momentary and short-term must read the level once their windows are full.
            let step = (rate as usize + 5) / 10 * 2;
            for (k, chunk) in x.chunks(step).enumerate() {
                l.process(chunk);
                if k >= 30 && chunk.len() == step {
                    assert!((l.momentary_lufs() - level).abs() <= 0.1);
                    assert!((l.short_term_lufs() - level).abs() <= 0.1);
                }
            }
            let i = l.integrated_lufs();
            assert!((i - level).abs() <= 0.1, "{rate}: {level} dBFS read {i}");
        }
    }
}

#[test]
fn case_3_4_5_relative_gate() {
    let rate = 48_000;
    let c3 = stereo(rate, &[(10.0, -36.0), (60.0, -23.0), (10.0, -36.0)]);
    let c4 = stereo(
        rate,
        &[
            (10.0, -72.0),
            (10.0, -36.0),
            (60.0, -23.0),
            (10.0, -36.0),
            (10.0, -72.0),
        ],
    );
    let c5 = stereo(rate, &[(20.0, -26.0), (20.1, -20.0), (20.0, -26.0)]);
    for (name, x) in [("3", c3), ("4", c4), ("5", c5)] {
        let i = integrated(rate, 2, &x);
        assert!((i + 23.0).abs() <= 0.1, "case {name}: {i}");
    }
}

#[test]
fn case_6_five_channels() {
    // L, R, C, Ls, Rs at -28, -28, -24, -30, -30 dBFS: surrounds weighted 1.41.
    let rate = 48_000;
    let x = tone_segments(rate, &[(20.0, &[-28.0, -28.0, -24.0, -30.0, -30.0])]);
    let i = integrated(rate, 5, &x);
    assert!((i + 23.0).abs() <= 0.1, "case 6: {i}");
}

#[test]
fn true_peak_cases_15_to_19() {
    // 48 kHz sines whose samples miss the waveform's peak by known amounts. A 20 ms fade-in keeps
    // the onset (a step, whose ringing any interpolator overshoots) out of the measurement.
    let rate = 48_000u32;
    let cases: [(f64, f64, f64, f64); 5] = [
        // (fs / divisor, phase degrees, amplitude, expected dBTP)
        (4.0, 0.0, 0.5, -6.0),
        (4.0, 45.0, 0.5, -6.0),
        (6.0, 60.0, 0.5, -6.0),
        (8.0, 67.5, 0.5, -6.0),
        (4.0, 45.0, 1.41, 3.0),
    ];
    for (k, (div, deg, amp, expected)) in cases.into_iter().enumerate() {
        let f = f64::from(rate) / div;
        let ph = deg.to_radians();
        let x: Vec<f32> = (0..rate as usize)
            .flat_map(|i| {
                let fade = (i as f64 / (0.02 * f64::from(rate))).min(1.0);
                let s = (fade
                    * amp
                    * (2.0 * std::f64::consts::PI * f * i as f64 / f64::from(rate) + ph).sin())
                    as f32;
                [s, s]
            })
            .collect();
        let mut tp = TruePeak::new(2, rate);
        tp.process(&x);
        let got = tp.max_peak_dbtp();
        assert!(
            got - expected <= 0.2 && expected - got <= 0.4,
            "case {}: {got} dBTP, expected {expected}",
            15 + k
        );
    }
}

#[test]
fn tech_3342_lra_cases() {
    let rate = 48_000;
    let cases: [(&[(f64, f64)], f64); 4] = [
        (&[(20.0, -20.0), (20.0, -30.0)], 10.0),
        (&[(20.0, -20.0), (20.0, -15.0)], 5.0),
        (&[(20.0, -40.0), (20.0, -20.0)], 20.0),
        (
            &[
                (20.0, -50.0),
                (20.0, -35.0),
                (20.0, -20.0),
                (20.0, -35.0),
                (20.0, -50.0),
            ],
            15.0,
        ),
    ];
    for (k, (segments, expected)) in cases.into_iter().enumerate() {
        let x = stereo(rate, segments);
        let mut m = FileMeter::new(2, rate);
        m.process(&x);
        let lra = m.finish().loudness_range_lu.unwrap();
        assert!((lra - expected).abs() <= 1.0, "3342 case {}: {lra}", k + 1);
    }
}

#[test]
fn max_momentary_and_short_term_follow_the_loudest_part() {
    let rate = 48_000;
    let x = stereo(rate, &[(10.0, -30.0), (5.0, -18.0), (10.0, -30.0)]);
    let mut m = FileMeter::new(2, rate);
    m.process(&x);
    let r = m.finish();
    assert!((r.max_momentary_lufs.unwrap() + 18.0).abs() <= 0.1);
    assert!((r.max_short_term_lufs.unwrap() + 18.0).abs() <= 0.1);
}
