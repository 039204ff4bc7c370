//! Diagnosis on synthetic deliveries whose answer is known: the demo song's stems (drums,
//! bass, keys, lead and a reverb return) with one fault applied by a small, independent
//! implementation of the process (compressor, shelving EQ), fed to the [`Diagnoser`] as
//! aligned blocks, exactly as the reconciliation's streaming pass does.

// Test code may unwrap: a panic is the failure report (this covers the helpers too).
#![allow(clippy::unwrap_used)]

use analyzer_core::diagnose::{Diagnoser, Diagnosis};
use analyzer_core::synth::{SynthStem, demo_song, mix_down};
use analyzer_core::{FindingCode, Severity};

const SR: u32 = 48_000;
const SECONDS: f32 = 16.0;

fn song() -> Vec<SynthStem> {
    demo_song(SR, SECONDS)
}

fn sum_of(stems: &[SynthStem], keep: &[&str]) -> Vec<f32> {
    let chosen: Vec<SynthStem> = stems
        .iter()
        .filter(|s| keep.contains(&s.name.as_str()))
        .cloned()
        .collect();
    assert_eq!(
        chosen.len(),
        keep.len(),
        "demo stems: {:?}",
        stems.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    mix_down(&chosen, 2)
}

/// Feeds the diagnoser in blocks of 160 ms, as the reconciliation does.
fn run(mix: &[f32], sum: &[f32], fitted: &[f32]) -> Diagnosis {
    let mut d = Diagnoser::new(2, SR);
    let block = 7680 * 2;
    let n = mix.len().min(sum.len());
    let mut i = 0;
    while i < n {
        let j = (i + block).min(n);
        d.push(&mix[i..j], &sum[i..j], &fitted[i..j]);
        i = j;
    }
    d.finish(None)
}

fn codes(d: &Diagnosis) -> Vec<(FindingCode, Severity)> {
    d.findings.iter().map(|f| (f.code, f.severity)).collect()
}

/// Runs the diagnoser with the fitted sum = the plain sum times its least-squares gain (the
/// per-stem fit absorbs the average gain, as the reconciliation's does); returns the diagnosis
/// and a description for assertion messages.
fn run_gain_fitted(mix: &[f32], sum: &[f32], case: &str) -> (Diagnosis, String) {
    let (c, e) = mix
        .iter()
        .zip(sum)
        .fold((0.0f64, 0.0f64), |(c, e), (m, s)| {
            (c + f64::from(m * s), e + f64::from(s * s))
        });
    let fitted: Vec<f32> = sum.iter().map(|x| x * (c / e) as f32).collect();
    let d = run(mix, sum, &fitted);
    let why = format!("{case}: {:?} {:?}", codes(&d), d.scores);
    (d, why)
}

const ALL: [&str; 5] = ["Drums", "Bass", "Keys", "Lead", "FX_Return"];
const DRY: [&str; 4] = ["Drums", "Bass", "Keys", "Lead"];

#[test]
fn stems_that_sum_to_the_mix_need_no_explanation() {
    let stems = song();
    let mix = sum_of(&stems, &ALL);
    let d = run(&mix, &mix, &mix);
    assert!(d.findings.is_empty(), "{:?}", codes(&d));
}

#[test]
fn quantisation_noise_is_not_a_missing_element() {
    let stems = song();
    let sum = sum_of(&stems, &ALL);
    // The mix exported at 16 bits with TPDF dither: a residual around -80 dB.
    let mut rng = analyzer_core::synth::Rng::new(3);
    let q = 1.0 / 32768.0;
    let mix: Vec<f32> = sum
        .iter()
        .map(|&x| ((x + q * 0.5 * (rng.next_f32() + rng.next_f32())) / q).round() * q)
        .collect();
    let d = run(&mix, &sum, &sum);
    assert!(
        d.findings.iter().all(|f| f.severity < Severity::Warning),
        "{:?}",
        codes(&d)
    );
}

#[test]
fn a_reverb_return_no_stem_carries_is_an_fx_return() {
    let stems = song();
    let mix = sum_of(&stems, &ALL);
    let sum = sum_of(&stems, &DRY);
    let d = run(&mix, &sum, &sum);
    let first = d.findings.first().expect("a finding");
    assert_eq!(
        first.code,
        FindingCode::MissingFxReturn,
        "{:?} {:?}",
        codes(&d),
        d.residual
    );
    let r = d.residual.expect("features");
    assert!(r.interchannel_correlation.is_some_and(|c| c < 0.5), "{r:?}");
    assert!(
        first.measured["tail_rt60_s"]
            .as_f64()
            .is_some_and(|t| t > 0.2),
        "{:?}",
        first.measured
    );
    assert!(
        first.measured["residual_db"]
            .as_f64()
            .is_some_and(|l| l < -3.0 && l > -40.0)
    );
}

#[test]
fn a_stem_left_out_is_a_missing_element_with_its_spectrum_region() {
    let stems = song();
    let mix = sum_of(&stems, &ALL);
    let sum = sum_of(&stems, &["Bass", "Keys", "Lead", "FX_Return"]);
    let d = run(&mix, &sum, &sum);
    let first = d.findings.first().expect("a finding");
    assert_eq!(first.code, FindingCode::MissingElement, "{:?}", codes(&d));
    assert_eq!(first.severity, Severity::Error);
    let lo = first.measured["spectrum_low_hz"].as_f64().unwrap();
    let hi = first.measured["spectrum_high_hz"].as_f64().unwrap();
    assert!(lo < hi, "{lo} {hi}");
}

/// A feed-forward compressor: peak detector with 5 ms attack and 150 ms release, 4:1 above
/// -24 dBFS, on the linked channels.
fn compress(x: &[f32]) -> Vec<f32> {
    let a_att = (-1.0 / (0.005 * SR as f32)).exp();
    let a_rel = (-1.0 / (0.150 * SR as f32)).exp();
    let mut env = 0.0f32;
    let mut out = vec![0.0; x.len()];
    for (i, fr) in x.chunks_exact(2).enumerate() {
        let p = fr[0].abs().max(fr[1].abs());
        let a = if p > env { a_att } else { a_rel };
        env = a * env + (1.0 - a) * p;
        let level_db = 20.0 * env.max(1e-9).log10();
        let over = (level_db + 24.0).max(0.0);
        let g = 10f32.powf(-over * 0.75 / 20.0);
        out[i * 2] = fr[0] * g;
        out[i * 2 + 1] = fr[1] * g;
    }
    out
}

#[test]
fn bus_compression_is_missing_bus_processing_with_gain_reduction() {
    let stems = song();
    let sum = sum_of(&stems, &ALL);
    let mix = compress(&sum);
    let d = run(&mix, &sum, &sum);
    let first = d.findings.first().expect("a finding");
    assert_eq!(
        first.code,
        FindingCode::MissingBusProcessing,
        "{:?}",
        codes(&d)
    );
    let gr = first.measured["gain_reduction_typical_db"]
        .as_f64()
        .unwrap();
    assert!(gr > 1.0, "{:?}", first.measured);
    let s = d.scores.unwrap();
    assert!(s.dynamics_gain_db > s.filter_gain_db, "{s:?}");
}

/// A soft clipper on the mix bus (tanh with 6 dB of drive, then 6 dB down): each sample maps
/// through one curve. It is bus processing of the saturation kind, with the peaks it takes off;
/// neither the unexplained residual it read as before nor a compressor.
#[test]
fn a_soft_clipper_on_the_mix_bus_is_saturation() {
    let stems = song();
    let sum = sum_of(&stems, &ALL);
    let mix: Vec<f32> = sum.iter().map(|&x| (2.0 * x).tanh() / 2.0).collect();
    let (d, why) = run_gain_fitted(&mix, &sum, "soft clipper");
    let first = d.findings.first().expect("a finding");
    assert_eq!(first.code, FindingCode::MissingBusProcessing, "{why}");
    assert_eq!(first.measured["kind"], "saturation", "{why}");
    assert!(
        first.measured["gain_reduction_max_db"].as_f64().unwrap() > 0.3,
        "{:?}",
        first.measured
    );
    assert!(
        first.measured["null_gain_with_waveshaper_db"]
            .as_f64()
            .unwrap()
            >= 6.0,
        "{:?}",
        first.measured
    );
}

/// The bus compressor above is still compression: its gain follows the level over the last
/// milliseconds, which no curve of each sample's own amplitude reproduces.
#[test]
fn bus_compression_is_not_saturation() {
    let stems = song();
    let sum = sum_of(&stems, &ALL);
    let mix = compress(&sum);
    let d = run(&mix, &sum, &sum);
    let first = d.findings.first().expect("a finding");
    assert_eq!(
        first.measured["kind"], "compression",
        "{:?}",
        first.measured
    );
}

/// RBJ low shelf, +6 dB at 200 Hz, applied per channel.
fn low_shelf(x: &[f32]) -> Vec<f32> {
    let (f0, gain_db, s) = (200.0f64, 6.0f64, 1.0f64);
    let a = 10f64.powf(gain_db / 40.0);
    let w0 = 2.0 * std::f64::consts::PI * f0 / f64::from(SR);
    let alpha = w0.sin() / 2.0 * ((a + 1.0 / a) * (1.0 / s - 1.0) + 2.0).sqrt();
    let c = w0.cos();
    let sa = 2.0 * a.sqrt() * alpha;
    let b0 = a * ((a + 1.0) - (a - 1.0) * c + sa);
    let b1 = 2.0 * a * ((a - 1.0) - (a + 1.0) * c);
    let b2 = a * ((a + 1.0) - (a - 1.0) * c - sa);
    let a0 = (a + 1.0) + (a - 1.0) * c + sa;
    let a1 = -2.0 * ((a - 1.0) + (a + 1.0) * c);
    let a2 = (a + 1.0) + (a - 1.0) * c - sa;
    let mut out = vec![0.0f32; x.len()];
    for ch in 0..2 {
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        for i in 0..x.len() / 2 {
            let xi = f64::from(x[i * 2 + ch]);
            let y = (b0 * xi + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2) / a0;
            x2 = x1;
            x1 = xi;
            y2 = y1;
            y1 = y;
            out[i * 2 + ch] = y as f32;
        }
    }
    out
}

#[test]
fn a_bus_eq_is_reported_with_its_octave_curve() {
    let stems = song();
    let sum = sum_of(&stems, &ALL);
    let mix = low_shelf(&sum);
    let d = run(&mix, &sum, &sum);
    let first = d.findings.first().expect("a finding");
    assert_eq!(first.code, FindingCode::BusEq, "{:?}", codes(&d));
    let hz: Vec<f64> = first.measured["octave_band_hz"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_f64())
        .collect();
    let db: Vec<f64> = first.measured["octave_band_gain_db"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_f64())
        .collect();
    let at = |f: f64| db[hz.iter().position(|&h| h == f).unwrap()];
    assert!((at(63.0) - 6.0).abs() < 1.5, "63 Hz: {hz:?} {db:?}");
    assert!(at(4000.0).abs() < 1.0, "4 kHz: {hz:?} {db:?}");
}

#[test]
fn a_pure_gain_is_left_to_the_reconciliation() {
    let stems = song();
    let sum = sum_of(&stems, &ALL);
    let mix: Vec<f32> = sum.iter().map(|x| x * 0.7).collect();
    let fitted = mix.clone(); // the per-stem fit absorbs a gain
    let d = run(&mix, &sum, &fitted);
    assert!(d.findings.is_empty(), "{:?}", codes(&d));
}

/// A heavy feed-forward compressor like a DAW's bus compressor (Ardour's ACE Compressor, ffmpeg
/// `acompressor`): RMS detector (5 ms attack, 100 ms release), `ratio`:1 above `threshold_db`,
/// then `makeup_db`.
fn compress_rms(x: &[f32], threshold_db: f32, ratio: f32, makeup_db: f32) -> Vec<f32> {
    let a_att = (-1.0 / (0.005 * SR as f32)).exp();
    let a_rel = (-1.0 / (0.100 * SR as f32)).exp();
    let makeup = 10f32.powf(makeup_db / 20.0);
    let mut ms = 0.0f32;
    let mut out = vec![0.0; x.len()];
    for (i, fr) in x.chunks_exact(2).enumerate() {
        let p = 0.5 * (fr[0] * fr[0] + fr[1] * fr[1]);
        let a = if p > ms { a_att } else { a_rel };
        ms = a * ms + (1.0 - a) * p;
        let level_db = 10.0 * ms.max(1e-12).log10();
        let over = (level_db - threshold_db).max(0.0);
        let g = makeup * 10f32.powf(-over * (1.0 - 1.0 / ratio) / 20.0);
        out[i * 2] = fr[0] * g;
        out[i * 2 + 1] = fr[1] * g;
    }
    out
}

#[test]
fn heavy_bus_compression_is_dynamics_not_a_flat_eq() {
    let stems = song();
    let sum = sum_of(&stems, &ALL);
    for (threshold_db, ratio, makeup_db) in [(-26.0, 4.0, 0.0), (-36.0, 8.0, 8.0)] {
        let mix = compress_rms(&sum, threshold_db, ratio, makeup_db);
        let (d, why) = run_gain_fitted(&mix, &sum, &format!("{threshold_db} dB {ratio}:1"));
        let first = d.findings.first().expect("a finding");
        assert_eq!(first.code, FindingCode::MissingBusProcessing, "{why}");
        assert_eq!(first.measured["kind"], "compression", "{why}");
        assert!(
            first.measured["gain_reduction_typical_db"]
                .as_f64()
                .is_some_and(|g| g > 1.5),
            "{why}: {:?}",
            first.measured
        );
        assert!(
            !d.findings
                .iter()
                .any(|f| f.code == FindingCode::BusEq && f.severity >= Severity::Warning),
            "{why}"
        );
    }
}

/// Two causes at once: the mix went through a bus compressor *and* a stem was left out. The
/// missing part fills the residual, so no null-depth model shows the compressor; the gain the
/// stems enter the mix with still falls as the mix gets louder. Neither the cold stems nor the
/// compressor's side effects may be reported as the stems' fault (no false error).
#[test]
fn bus_compression_under_a_missing_part_is_still_found() {
    let stems = song();
    let sum = sum_of(&stems, &["Drums", "Bass", "Lead", "FX_Return"]);
    // The part left out is the loudest of the mix (as when the keys carry a song), so it
    // fills the residual.
    let keys = sum_of(&stems, &["Keys"]);
    let full: Vec<f32> = sum.iter().zip(&keys).map(|(s, k)| s + 3.0 * k).collect();
    for (threshold_db, ratio, makeup_db) in [(-26.0, 4.0, 0.0), (-36.0, 8.0, 8.0)] {
        let mix = compress_rms(&full, threshold_db, ratio, makeup_db);
        let (d, why) = run_gain_fitted(&mix, &sum, &format!("{threshold_db} dB {ratio}:1"));
        let bus = d
            .findings
            .iter()
            .find(|f| f.code == FindingCode::MissingBusProcessing)
            .unwrap_or_else(|| panic!("no missing_bus_processing: {why}"));
        assert!(bus.severity >= Severity::Warning, "{why}");
        assert!(
            bus.measured["gain_reduction_typical_db"]
                .as_f64()
                .is_some_and(|g| g > 1.0),
            "{why}: {:?}",
            bus.measured
        );
        for f in &d.findings {
            assert!(
                f.severity < Severity::Error
                    || matches!(
                        f.code,
                        FindingCode::MissingBusProcessing | FindingCode::MissingElement
                    ),
                "false error {:?}: {why}",
                f.code
            );
        }
    }
}

/// The converse: a stem left out of an uncompressed mix must not read as bus compression.
#[test]
fn a_missing_part_alone_is_not_bus_compression() {
    let stems = song();
    let mix = sum_of(&stems, &ALL);
    let sum = sum_of(&stems, &["Drums", "Bass", "Lead", "FX_Return"]);
    let d = run(&mix, &sum, &sum);
    assert!(
        !d.findings
            .iter()
            .any(|f| f.code == FindingCode::MissingBusProcessing),
        "{:?}",
        codes(&d)
    );
}

/// The finding's spectral signature has the spectral shape of `part` (the content the stems
/// lack, as it enters the mix): per third-octave band, its share of the signature's power is
/// within `tol_db` of the part's own share (measured by the file meter's [`SpectrumMeter`]),
/// in every band that holds at least 2 % of the part's power; and the bands outside the part's
/// own 98 % hold little of the signature. Returns the signature's bands and shares for more
/// checks.
fn assert_signature_is_the_parts(
    f: &analyzer_core::Finding,
    part: &[f32],
    tol_db: f64,
) -> Vec<(f64, f64)> {
    let sig = f
        .spectral_signature
        .as_ref()
        .unwrap_or_else(|| panic!("{:?} has no spectral signature", f.code));
    let mut meter = analyzer_core::meter::SpectrumMeter::new(2, SR);
    meter.process(part);
    assert_eq!(meter.band_hz(), sig.band_hz.as_slice(), "same bands");
    let share = |levels: &[Option<f64>]| -> Vec<f64> {
        let p: Vec<f64> = levels
            .iter()
            .map(|l| l.map_or(0.0, |d| 10f64.powf(d / 10.0)))
            .collect();
        let total: f64 = p.iter().sum();
        p.iter().map(|x| x / total).collect()
    };
    let want = share(&meter.band_levels_db().expect("present"));
    let got = share(&sig.residual_db);
    let mut outside = 0.0;
    for (b, (&w, &g)) in want.iter().zip(&got).enumerate() {
        if w >= 0.02 {
            let err_db = 10.0 * (g / w).log10();
            assert!(
                err_db.abs() <= tol_db,
                "{:?}: band {} Hz holds {:.3} of the signature, {:.3} of the part",
                f.code,
                sig.band_hz[b],
                g,
                w
            );
        } else {
            outside += g;
        }
    }
    assert!(
        outside < 0.15,
        "{:?}: {outside:.3} of the signature lies where the part has little",
        f.code
    );
    // The mix is on the same scale and carries at least what it lacks, band by band (within
    // the estimate's noise).
    for (r, m) in sig.residual_db.iter().zip(&sig.mix_db) {
        if let (Some(r), Some(m)) = (r, m) {
            assert!(r <= &(m + 1.0), "residual {r} dB over the mix's {m} dB");
        }
    }
    sig.band_hz.iter().copied().zip(got).collect()
}

#[test]
fn a_reverb_returns_signature_has_the_returns_spectrum() {
    let stems = song();
    let mix = sum_of(&stems, &ALL);
    let sum = sum_of(&stems, &DRY);
    let d = run(&mix, &sum, &sum);
    let f = d
        .findings
        .iter()
        .find(|f| f.code == FindingCode::MissingFxReturn)
        .expect("missing_fx_return");
    assert_signature_is_the_parts(f, &sum_of(&stems, &["FX_Return"]), 3.0);
    let sig = f.spectral_signature.as_ref().expect("present");
    assert!(
        sig.start_s < 1.0 && sig.end_s > SECONDS as f64 - 1.0,
        "whole song: {sig:?}"
    );
    assert_eq!(
        (sig.low_hz, sig.high_hz),
        (
            f.measured["spectrum_low_hz"].as_f64().expect("present"),
            f.measured["spectrum_high_hz"].as_f64().expect("present")
        )
    );
}

/// The demo song's mix against the sum of every stem but `missing`: the diagnosis and the
/// index of its `missing_element` finding.
fn without(stems: &[SynthStem], missing: &str) -> (Diagnosis, usize) {
    let mix = sum_of(stems, &ALL);
    let kept: Vec<&str> = ALL.iter().copied().filter(|n| *n != missing).collect();
    let sum = sum_of(stems, &kept);
    let d = run(&mix, &sum, &sum);
    let i = d
        .findings
        .iter()
        .position(|f| f.code == FindingCode::MissingElement)
        .unwrap_or_else(|| panic!("no missing_element without {missing}: {:?}", codes(&d)));
    (d, i)
}

#[test]
fn a_missing_bass_lines_signature_sits_below_300_hz() {
    let stems = song();
    let (d, i) = without(&stems, "Bass");
    let f = &d.findings[i];
    let bands = assert_signature_is_the_parts(f, &sum_of(&stems, &["Bass"]), 3.0);
    let low: f64 = bands.iter().filter(|b| b.0 <= 315.0).map(|b| b.1).sum();
    assert!(
        low > 0.85,
        "{low:.3} of the signature below 315 Hz: {bands:?}"
    );
    let sig = f.spectral_signature.as_ref().expect("present");
    assert!(sig.high_hz <= 400.0, "{sig:?}");
}

#[test]
fn missing_drums_signature_is_the_drums_spectrum() {
    let stems = song();
    let (d, i) = without(&stems, "Drums");
    assert_signature_is_the_parts(&d.findings[i], &sum_of(&stems, &["Drums"]), 3.0);
    // Every other finding has none.
    for g in d.findings.iter().filter(|g| {
        !matches!(
            g.code,
            FindingCode::MissingElement | FindingCode::MissingFxReturn
        )
    }) {
        assert!(g.spectral_signature.is_none(), "{:?}", g.code);
    }
}

/// Checks the demo song through the check's own path (reconciliation, then diagnosis): the
/// mix of every part, the stems without `missing`, each stem scaled by its entry in `gains_db`.
/// Returns the `gain_mismatch` findings at warning or above, by stem name, with the report's
/// codes for assertion messages.
fn check_without(missing: &str, gains_db: &[(&str, f32)]) -> (Vec<String>, String) {
    use analyzer_core::analyze::{Options, check_paths};
    use analyzer_core::synth::{WavFormat, write_wav};
    let dir = tempfile::tempdir().unwrap();
    let stems = demo_song(SR, 12.0);
    let mix = mix_down(&stems, 2);
    write_wav(
        &dir.path().join("Song_Mix.wav"),
        2,
        SR,
        WavFormat::Float32,
        &mix,
    )
    .unwrap();
    for s in stems.iter().filter(|s| s.name != missing) {
        let g = gains_db
            .iter()
            .find(|(n, _)| *n == s.name)
            .map_or(1.0, |(_, db)| 10f32.powf(db / 20.0));
        let samples: Vec<f32> = s.samples.iter().map(|x| x * g).collect();
        let path = dir.path().join(format!("Song_{}.wav", s.name));
        write_wav(&path, s.channels, SR, WavFormat::Float32, &samples).unwrap();
    }
    let opts = Options {
        threads: 1,
        ..Options::default()
    };
    let report = check_paths(&[dir.path().to_path_buf()], &opts).unwrap();
    let all: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{:?}/{:?} {:?}: {}", f.code, f.severity, f.files, f.message))
        .collect();
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.code == FindingCode::MissingElement && f.severity == Severity::Error),
        "{all:#?}"
    );
    let gains: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::GainMismatch && f.severity >= Severity::Warning)
        .flat_map(|f| f.files.clone())
        .map(|p| {
            let name = p.rsplit('/').next().unwrap_or(&p).to_owned();
            name.trim_start_matches("Song_")
                .trim_end_matches(".wav")
                .to_owned()
        })
        .collect();
    (gains, format!("{all:#?}"))
}

/// A part missing from the stems whose reverb is in the FX return stem (the demo's lead feeds
/// the return): the least-squares fit boosts the return to stand in for the lead it correlates
/// with, by a gain that comes and goes with the lead. That is the missing part, not a fault of
/// the return's level: no `gain_mismatch` on the return.
#[test]
fn a_missing_part_does_not_make_its_reverb_return_a_gain_mismatch() {
    let (gains, all) = check_without("Lead", &[]);
    assert!(gains.is_empty(), "{gains:?} {all}");
}

/// The same delivery with the drums really 4 dB low: that fader offset is the same in every
/// window, and stays a `gain_mismatch` on the drums (and only on them).
#[test]
fn a_stem_really_low_beside_a_missing_part_stays_a_gain_mismatch() {
    let (gains, all) = check_without("Lead", &[("Drums", -4.0)]);
    assert_eq!(gains, ["Drums"], "{all}");
}

/// A toy transform codec, the way MP3, AAC, Vorbis and Opus code audio: short-time spectra
/// (1024-point frames, hop 512, sqrt-Hann analysis and synthesis windows, which overlap-add to
/// the input exactly), each bin's real and imaginary parts rounded to a step set per
/// third-octave band and frame so that the coding noise sits `nsr_db(f)` under the band's own
/// power (a perceptual codec's noise allocation: coarse in the highs), bins under half a step
/// coded as zero.
fn toy_codec(x: &[f32], channels: usize, nsr_db: impl Fn(f64) -> f64) -> Vec<f32> {
    use realfft::RealFftPlanner;
    const N: usize = 1024;
    const HOP: usize = N / 2;
    let frames = x.len() / channels;
    let mut planner = RealFftPlanner::<f64>::new();
    let (fwd, inv) = (planner.plan_fft_forward(N), planner.plan_fft_inverse(N));
    let window: Vec<f64> = (0..N)
        .map(|i| (std::f64::consts::PI * i as f64 / N as f64).sin())
        .collect();
    let bin_hz = f64::from(SR) / N as f64;
    // Third-octave bands of bins (from 1 bin wide at the bottom).
    let band_of: Vec<usize> = (0..=N / 2)
        .map(|k| ((k.max(1) as f64 * bin_hz / 25.0).log2() * 3.0).max(0.0) as usize)
        .collect();
    let bands = band_of.iter().max().unwrap() + 1;
    let mut out = vec![0.0f64; x.len()];
    for c in 0..channels {
        let mut start = 0usize;
        while start + N <= frames {
            let mut buf: Vec<f64> = (0..N)
                .map(|i| f64::from(x[(start + i) * channels + c]) * window[i])
                .collect();
            let mut spec = fwd.make_output_vec();
            fwd.process(&mut buf, &mut spec).unwrap();
            let mut power = vec![(0.0f64, 0usize); bands];
            for (k, z) in spec.iter().enumerate() {
                power[band_of[k]].0 += z.norm_sqr();
                power[band_of[k]].1 += 1;
            }
            for (k, z) in spec.iter_mut().enumerate() {
                let (p, n) = power[band_of[k]];
                let mean = p / n as f64;
                // Uniform rounding adds step^2 / 12 of noise to each part, step^2 / 6 per bin.
                let step = (6.0 * mean * 10f64.powf(nsr_db(k as f64 * bin_hz) / 10.0)).sqrt();
                if step > 0.0 {
                    z.re = (z.re / step).round() * step;
                    z.im = (z.im / step).round() * step;
                }
            }
            spec[0].im = 0.0;
            spec[N / 2].im = 0.0;
            inv.process(&mut spec, &mut buf).unwrap();
            for i in 0..N {
                out[(start + i) * channels + c] += buf[i] * window[i] / N as f64;
            }
            start += HOP;
        }
    }
    out.iter().map(|&v| v as f32).collect()
}

/// The toy codec's noise allocation: 40 dB under the music at 100 Hz rising to 12 dB under it
/// at 16 kHz (coarse in the highs, as a perceptual codec's).
fn codec_nsr_db(f: f64) -> f64 {
    let t = ((f.max(100.0) / 100.0).log2() / (16_000f64 / 100.0).log2()).min(1.0);
    -40.0 + 28.0 * t
}

/// [`run`] over the frames the toy codec covers (its last hop is left out), the plain sum
/// also the fitted one.
fn run_coded(mix: &[f32], sum: &[f32]) -> Diagnosis {
    let n = (mix.len().min(sum.len()) / 2 / 512 - 1) * 512 * 2;
    run(&mix[..n], &sum[..n], &sum[..n])
}

/// The diagnosis is one `lossy_codec` warning and nothing else.
fn assert_only_lossy_codec(d: &Diagnosis) {
    let want = [(FindingCode::LossyCodec, Severity::Warning)];
    assert_eq!(codes(d), want, "{:?}", d.findings);
}

/// A mix delivered through a lossy codec (the toy codec above, [`codec_nsr_db`]) is
/// `lossy_codec`, a warning, and nothing else: not the chorus or short reverb
/// (`missing_fx_return`) the added-content models read it as.
#[test]
fn coding_noise_is_a_lossy_codec_not_an_fx_return() {
    let stems = song();
    let sum = sum_of(&stems, &ALL);
    let d = run_coded(&toy_codec(&sum, 2, codec_nsr_db), &sum);
    assert_only_lossy_codec(&d);
    let f = &d.findings[0];
    let low = f.measured["noise_to_mix_low_db"].as_f64().unwrap();
    let high = f.measured["noise_to_mix_high_db"].as_f64().unwrap();
    assert!(low < -25.0 && high > low + 10.0, "{low} {high}");
}

/// Stems passed around as lossy files, each coded on its own, against a lossless mix: the
/// same finding (which side was coded the residual cannot tell).
#[test]
fn stems_coded_one_by_one_are_a_lossy_codec_too() {
    let stems = song();
    let mix = sum_of(&stems, &ALL);
    let mut sum = vec![0.0f32; mix.len()];
    for name in ALL {
        let coded = toy_codec(&sum_of(&stems, &[name]), 2, codec_nsr_db);
        for (acc, x) in sum.iter_mut().zip(coded) {
            *acc += x;
        }
    }
    let d = run_coded(&mix, &sum);
    assert_only_lossy_codec(&d);
}

/// The same noise but flat over frequency (each band's noise 30 dB under it, as no perceptual
/// codec allocates it) is not called a lossy codec: the rise towards the highs is the codec's
/// signature.
#[test]
fn flat_noise_that_follows_the_music_is_not_a_lossy_codec() {
    let stems = song();
    let sum = sum_of(&stems, &ALL);
    let d = run_coded(&toy_codec(&sum, 2, |_| -30.0), &sum);
    assert!(
        d.findings.iter().all(|f| f.code != FindingCode::LossyCodec),
        "{:?}",
        codes(&d)
    );
}

/// The stereo sum `x` with its side (left minus right) through `side`: a mid/side width
/// control on the mix bus.
fn mid_side(x: &[f32], mut side: impl FnMut(f32) -> f32) -> Vec<f32> {
    x.chunks_exact(2)
        .flat_map(|f| {
            let (m, s) = (0.5 * (f[0] + f[1]), side(0.5 * (f[0] - f[1])));
            [m + s, m - s]
        })
        .collect()
}

#[test]
fn a_stereo_width_on_the_mix_bus_is_named_with_its_side_gain() {
    let stems = song();
    let sum = sum_of(&stems, &ALL);
    let mix = mid_side(&sum, |s| 1.4 * s);
    let (d, why) = run_gain_fitted(&mix, &sum, "side x1.4");
    let first = d.findings.first().expect("a finding");
    assert_eq!(first.code, FindingCode::MissingBusProcessing, "{why}");
    assert_eq!(first.measured["kind"], "stereo_width", "{why}");
    let side = first.measured["side_minus_mid_db"].as_f64().unwrap();
    assert!((side - 20.0 * 1.4f64.log10()).abs() < 0.1, "{side}");
    assert!(
        !codes(&d)
            .iter()
            .any(|(c, _)| *c == FindingCode::MissingFxReturn),
        "the widened side is no effect return: {why}"
    );
}

#[test]
fn a_width_beside_a_bus_compressor_is_named_with_it_not_an_effect_return() {
    // Side x1.4, then the bus compressor: the compressor's misfit hid the width from the
    // width model, and the widened side read as an effect return no stem carries.
    let stems = song();
    let sum = sum_of(&stems, &ALL);
    let mix = compress(&mid_side(&sum, |s| 1.4 * s));
    let (d, why) = run_gain_fitted(&mix, &sum, "side x1.4, then compressed");
    let kinds: Vec<&str> = d
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::MissingBusProcessing)
        .filter_map(|f| f.measured["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"stereo_width"), "{why}");
    assert!(
        kinds
            .iter()
            .any(|k| *k == "compression" || *k == "limiting"),
        "{why}"
    );
    let width = d
        .findings
        .iter()
        .find(|f| f.measured["kind"] == "stereo_width")
        .unwrap();
    let side = width.measured["side_minus_mid_db"].as_f64().unwrap();
    assert!((side - 20.0 * 1.4f64.log10()).abs() < 0.3, "{side}");
    assert!(
        d.findings
            .iter()
            .all(|f| f.code == FindingCode::MissingBusProcessing || f.severity < Severity::Warning),
        "nothing else at warning or above: {why}"
    );
    // The compressor alone has no width beside it.
    let (d, why) = run_gain_fitted(&compress(&sum), &sum, "compressed");
    assert!(
        !d.findings
            .iter()
            .any(|f| f.measured["kind"] == "stereo_width"),
        "{why}"
    );
}

#[test]
fn lows_made_mono_on_the_mix_bus_are_a_width_curve() {
    // The side high-passed (one pole at 150 Hz): the mix's lows narrowed, its highs as they
    // were (an imager's "mono bass").
    let stems = song();
    let sum = sum_of(&stems, &ALL);
    let a = (-std::f32::consts::TAU * 150.0 / SR as f32).exp();
    let mut low = 0.0f32;
    let mix = mid_side(&sum, |s| {
        low = (1.0 - a) * s + a * low;
        s - low
    });
    let (d, why) = run_gain_fitted(&mix, &sum, "side high-passed");
    let first = d.findings.first().expect("a finding");
    assert_eq!(first.measured["kind"], "stereo_width", "{why}");
    let octaves = &first.measured["side_minus_mid_db_by_octave"];
    let at = |hz: &str| octaves[hz].as_f64().unwrap_or(f64::NAN);
    // The demo song's bass is centred: the lowest octave with side energy is 125 Hz, where a
    // one-pole high-pass at 150 Hz takes about 3 dB off.
    assert!(at("125") < -2.0, "{octaves}");
    assert!(at("4000").abs() < 0.5, "{octaves}");
}

#[test]
fn a_master_fade_the_stems_lack_is_automation_not_compression() {
    // The last 4 s of the mix faded out on the master bus; the stems exported without it.
    let stems = song();
    let sum = sum_of(&stems, &ALL);
    let fade_from = ((SECONDS - 4.0) * SR as f32) as usize;
    let mix: Vec<f32> = sum
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let t = i / 2;
            let g = if t < fade_from {
                1.0
            } else {
                1.0 - (t - fade_from) as f32 / (4.0 * SR as f32)
            };
            x * g
        })
        .collect();
    let (d, why) = run_gain_fitted(&mix, &sum, "master fade");
    let first = d.findings.first().expect("a finding");
    assert_eq!(first.code, FindingCode::GainMismatch, "{why}");
    assert_eq!(first.measured["level_automation"], true, "{why}");
    assert_eq!(first.measured["automation_on"], "master", "{why}");
    let stretch = &first.measured["stretches_s"][0];
    let (from, to) = (stretch[0].as_f64().unwrap(), stretch[1].as_f64().unwrap());
    assert!(from > 12.0 && from < 13.0 && to > 15.5, "{stretch}");
    assert!(
        !codes(&d)
            .iter()
            .any(|(c, _)| *c == FindingCode::MissingBusProcessing),
        "{why}"
    );
}
