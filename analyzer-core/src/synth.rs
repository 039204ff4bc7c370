//! A small deterministic song synthesizer: the built-in demo and the test signals.
//!
//! `stemcheck demo` and many tests need stems whose right answer is known: a short arrangement
//! of drums, bass, keys, a lead and the reverb return of keys and lead, rendered as separate
//! stems whose plain sum is the mix. Everything is seeded, so every run renders the same audio.
//!
//! The building blocks here ([`Rng`], [`constant_power_pan`], [`write_wav`]) are also those of
//! the reconciliation's synthetic deliveries (`reconcile::synth`), so every test signal of the
//! workspace draws from one generator and one pan law.

use std::path::Path;

use crate::error::{Error, Result};

/// One rendered stem: interleaved samples.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthStem {
    /// Name of the stem (what it holds: the demo writes it as `Demo_<name>.wav`).
    pub name: String,
    /// Channel count (1 or 2).
    pub channels: u16,
    /// Interleaved samples, nominally within -1..1.
    pub samples: Vec<f32>,
}

impl SynthStem {
    /// Number of frames.
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels as usize
    }
}

/// A tiny xorshift generator so the test signals render identically everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (any value, 0 included).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A generator starting from the raw xorshift state `state` (made odd, so never 0), without
    /// `new`'s seed scrambling: for test signals that were defined by their raw start state.
    pub fn from_state(state: u64) -> Self {
        Self(state | 1)
    }

    /// The next 64 raw bits (xorshift 13/7/17).
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in [-1, 1).
    pub fn next_f32(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 23) as f32) - 1.0
    }

    /// Uniform in [-1, 1), in `f64` (the same 24 random bits as [`next_f32`](Self::next_f32)).
    pub fn next_f64(&mut self) -> f64 {
        ((self.next_u64() >> 40) as f64 / (1u64 << 23) as f64) - 1.0
    }

    /// Uniform in `0..n` (`n` > 0; the modulo bias is irrelevant for test signals).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

fn midi_hz(note: f32) -> f32 {
    440.0 * 2f32.powf((note - 69.0) / 12.0)
}

/// Left and right gains of the constant-power (sine/cosine, -3 dB at the centre) pan law for a
/// position from -1 (left) to 1 (right).
pub fn constant_power_pan(pan: f32) -> [f32; 2] {
    let angle = (pan.clamp(-1.0, 1.0) + 1.0) * std::f32::consts::FRAC_PI_4;
    [angle.cos(), angle.sin()]
}

/// Adds a mono voice into an interleaved buffer with a constant-power pan (-1 left .. 1 right).
fn add_panned(out: &mut [f32], channels: usize, start: usize, voice: &[f32], pan: f32) {
    let [gl, gr] = constant_power_pan(pan);
    for (i, v) in voice.iter().enumerate() {
        let frame = start + i;
        if frame * channels >= out.len() {
            break;
        }
        if channels == 1 {
            out[frame] += v;
        } else {
            out[frame * channels] += v * gl;
            out[frame * channels + 1] += v * gr;
        }
    }
}

/// Renders the demo arrangement at `sample_rate` for `seconds`: 0.5 s of silence, then a
/// 120 bpm groove in A minor. Stems: Drums (stereo), Bass (mono), Keys (stereo), Lead (stereo,
/// enters in bar 3, silent before), FX_Return (stereo reverb of keys and lead).
///
/// One function (~130 lines) on purpose: it is the score, read top to bottom bar by bar, and
/// its samples are part of the demo's report (the refactor check compares it byte for byte), so
/// it is kept as one sequence of draws from one generator rather than split across helpers that
/// would have to thread the generator's state through.
pub fn demo_song(sample_rate: u32, seconds: f32) -> Vec<SynthStem> {
    let sr = sample_rate as f32;
    let frames = (seconds * sr) as usize;
    let beat = (sr * 0.5) as usize;
    let lead_in = (sr * 0.5) as usize;
    let mut rng = Rng::new(7);
    let mut drums = vec![0.0f32; frames * 2];
    let mut bass = vec![0.0f32; frames];
    let mut keys = vec![0.0f32; frames * 2];
    let mut lead = vec![0.0f32; frames * 2];
    let chords: [[f32; 3]; 4] = [
        [57., 60., 64.],
        [53., 57., 60.],
        [48., 52., 55.],
        [55., 59., 62.],
    ];
    let melody: [f32; 16] = [
        76., 74., 72., 74., 76., 76., 76., 0., 74., 74., 74., 0., 76., 79., 79., 0.,
    ];
    let beats = frames.saturating_sub(lead_in) / beat;
    for b in 0..beats {
        let t0 = lead_in + b * beat;
        // Kick on 1 and 3: a pitch-swept sine.
        if b % 2 == 0 {
            let n = (0.25 * sr) as usize;
            let mut phase = 0.0f32;
            let kick: Vec<f32> = (0..n)
                .map(|i| {
                    let t = i as f32 / sr;
                    phase += 2.0 * std::f32::consts::PI * (45.0 + 80.0 * (-t * 30.0).exp()) / sr;
                    0.5 * phase.sin() * (-t * 12.0).exp()
                })
                .collect();
            add_panned(&mut drums, 2, t0, &kick, 0.0);
        } else {
            // Snare on 2 and 4: noise plus a 180 Hz body.
            let n = (0.2 * sr) as usize;
            let snare: Vec<f32> = (0..n)
                .map(|i| {
                    let t = i as f32 / sr;
                    (0.22 * rng.next_f32() + 0.15 * (2.0 * std::f32::consts::PI * 180.0 * t).sin())
                        * (-t * 20.0).exp()
                })
                .collect();
            add_panned(&mut drums, 2, t0, &snare, 0.1);
        }
        // Hats on every eighth: differentiated noise (a crude high-pass).
        for h in 0..2 {
            let n = (0.05 * sr) as usize;
            let mut prev = 0.0;
            let hat: Vec<f32> = (0..n)
                .map(|i| {
                    let x = rng.next_f32();
                    let y = x - prev;
                    prev = x;
                    0.06 * y * (-(i as f32 / sr) * 60.0).exp()
                })
                .collect();
            add_panned(&mut drums, 2, t0 + h * beat / 2, &hat, 0.5);
        }
        let chord = chords[(b / 4) % 4];
        // Bass: eighth notes on the chord root, a low square-ish tone through a one-pole.
        for e in 0..2 {
            let f = midi_hz(chord[0] - 24.0);
            let n = beat / 2;
            let mut lp = 0.0f32;
            let note: Vec<f32> = (0..n)
                .map(|i| {
                    let t = i as f32 / sr;
                    let sq = if (f * t).fract() < 0.5 { 1.0 } else { -1.0 };
                    lp += 0.08 * (sq - lp);
                    0.3 * lp * (1.0 - (-t * 200.0).exp()) * (-t * 3.0).exp()
                })
                .collect();
            add_panned(&mut bass, 1, t0 + e * n, &note, 0.0);
        }
        // Keys: the chord held for the beat, triangle tones spread across the stereo field.
        for (k, note) in chord.iter().enumerate() {
            let f = midi_hz(*note);
            let voice: Vec<f32> = (0..beat)
                .map(|i| {
                    let t = i as f32 / sr;
                    let tri = 2.0 * (2.0 * (f * t).fract() - 1.0).abs() - 1.0;
                    0.07 * tri * (1.0 - (-t * 80.0).exp()) * (-t * 2.0).exp()
                })
                .collect();
            add_panned(&mut keys, 2, t0, &voice, -0.6 + 0.6 * k as f32);
        }
        // Lead from bar 3 on: a sine melody with vibrato.
        let note = melody[b % 16];
        if b >= 8 && note > 0.0 {
            let f = midi_hz(note);
            let mut phase = 0.0f32;
            let voice: Vec<f32> = (0..beat)
                .map(|i| {
                    let t = i as f32 / sr;
                    phase += 2.0 * std::f32::consts::PI * f * (1.0 + 0.004 * (t * 30.0).sin()) / sr;
                    0.18 * phase.sin() * (1.0 - (-t * 60.0).exp()) * (-t * 1.5).exp()
                })
                .collect();
            add_panned(&mut lead, 2, t0, &voice, 0.0);
        }
    }
    let fx = reverb(&keys, &lead, sr);
    vec![
        SynthStem {
            name: "Drums".into(),
            channels: 2,
            samples: drums,
        },
        SynthStem {
            name: "Bass".into(),
            channels: 1,
            samples: bass,
        },
        SynthStem {
            name: "Keys".into(),
            channels: 2,
            samples: keys,
        },
        SynthStem {
            name: "Lead".into(),
            channels: 2,
            samples: lead,
        },
        SynthStem {
            name: "FX_Return".into(),
            channels: 2,
            samples: fx,
        },
    ]
}

/// A small Schroeder reverb (parallel combs, series all-passes) with different delays per
/// channel, so the return is decorrelated between channels like a real one.
fn reverb(a: &[f32], b: &[f32], sr: f32) -> Vec<f32> {
    let frames = a.len() / 2;
    let mut out = vec![0.0f32; a.len()];
    for ch in 0..2 {
        let input: Vec<f32> = (0..frames)
            .map(|i| 0.5 * (a[i * 2 + ch] + b[i * 2 + ch]))
            .collect();
        let spread = if ch == 0 { 1.0 } else { 1.07 };
        let mut wet = vec![0.0f32; frames];
        for (ms, g) in [(29.7, 0.80), (37.1, 0.78), (41.1, 0.76), (43.7, 0.74)] {
            let d = ((ms * spread / 1000.0) * sr) as usize;
            let mut line = vec![0.0f32; frames];
            for i in 0..frames {
                let fb = if i >= d { line[i - d] } else { 0.0 };
                line[i] = input[i] + g * fb;
                wet[i] += 0.25 * line[i];
            }
        }
        for (ms, g) in [(5.0, 0.7), (1.7, 0.7)] {
            let d = ((ms * spread / 1000.0) * sr) as usize;
            let mut y = vec![0.0f32; frames];
            for i in 0..frames {
                let xd = if i >= d { wet[i - d] } else { 0.0 };
                let yd = if i >= d { y[i - d] } else { 0.0 };
                y[i] = -g * wet[i] + xd + g * yd;
            }
            wet = y;
        }
        for i in 0..frames {
            out[i * 2 + ch] = 0.35 * wet[i];
        }
    }
    out
}

/// Sums stems into a mix with `channels` channels. A mono stem is panned to the centre with
/// the constant-power (-3 dB) pan law most DAWs use, so it feeds every channel at
/// `1/sqrt(channels)`: the convention the reconciliation reads as 0 dB.
pub fn mix_down(stems: &[SynthStem], channels: u16) -> Vec<f32> {
    let frames = stems.iter().map(SynthStem::frames).max().unwrap_or(0);
    let ch = channels as usize;
    let mut mix = vec![0.0f32; frames * ch];
    for s in stems {
        let sc = s.channels as usize;
        let pan_gain = if sc == 1 && ch > 1 {
            1.0 / (ch as f32).sqrt()
        } else {
            1.0
        };
        for i in 0..s.frames() {
            for c in 0..ch {
                mix[i * ch + c] += pan_gain * s.samples[i * sc + c.min(sc - 1)];
            }
        }
    }
    mix
}

/// How to store samples in a WAV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WavFormat {
    /// IEEE 32-bit float: stores every sample as it is (no clipping at full scale).
    Float32,
    /// 8-bit PCM (stored unsigned, as the format has it); full scale is 127/128.
    Int8,
    /// 16-bit integer PCM.
    Int16,
    /// 24-bit integer PCM.
    Int24,
    /// 32-bit integer PCM.
    Int32,
}

/// Writes interleaved samples to a WAV file: the one WAV writer of the demo and of every test,
/// benchmark and tool that needs a file on disk. Integer formats are scaled by 2^(bits-1),
/// rounded and clamped to the format's range, without dither (1.0 becomes the largest positive
/// code).
pub fn write_wav(
    path: &Path,
    channels: u16,
    sample_rate: u32,
    format: WavFormat,
    samples: &[f32],
) -> Result<()> {
    let (bits, sample_format) = match format {
        WavFormat::Float32 => (32, hound::SampleFormat::Float),
        WavFormat::Int8 => (8, hound::SampleFormat::Int),
        WavFormat::Int16 => (16, hound::SampleFormat::Int),
        WavFormat::Int24 => (24, hound::SampleFormat::Int),
        WavFormat::Int32 => (32, hound::SampleFormat::Int),
    };
    let spec = hound::WavSpec {
        channels,
        sample_rate,
        bits_per_sample: bits,
        sample_format,
    };
    let err = |e: hound::Error| match e {
        hound::Error::IoError(source) => Error::Io {
            path: path.to_owned(),
            source,
        },
        other => Error::Write {
            path: path.to_owned(),
            source: other,
        },
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(err)?;
    match format {
        WavFormat::Float32 => {
            for &s in samples {
                w.write_sample(s).map_err(err)?;
            }
        }
        WavFormat::Int8 | WavFormat::Int16 | WavFormat::Int24 | WavFormat::Int32 => {
            let scale = (1i64 << (bits - 1)) as f64;
            let (lo, hi) = (-scale, scale - 1.0);
            for &s in samples {
                w.write_sample((s as f64 * scale).round().clamp(lo, hi) as i32)
                    .map_err(err)?;
            }
        }
    }
    w.finalize().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_song_is_deterministic_and_has_headroom() {
        let a = demo_song(48_000, 6.0);
        let b = demo_song(48_000, 6.0);
        assert_eq!(a, b);
        assert_eq!(a.len(), 5);
        for s in &a {
            let peak = s.samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            assert!(peak > 0.01, "{} is silent", s.name);
            assert!(peak < 0.5, "{} peaks at {peak}", s.name);
            assert_eq!(s.frames(), 288_000);
            // Silence before the first beat.
            assert!(
                s.samples[..s.channels as usize * 20_000]
                    .iter()
                    .all(|x| *x == 0.0)
            );
        }
        let mix = mix_down(&a, 2);
        let peak = mix.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(peak < 0.85, "mix peaks at {peak}");
    }

    #[test]
    fn reverb_return_is_decorrelated_between_channels() {
        let s = demo_song(48_000, 6.0);
        let fx = &s[4].samples;
        let (mut lr, mut ll, mut rr) = (0.0f64, 0.0f64, 0.0f64);
        for f in fx.chunks(2) {
            lr += (f[0] * f[1]) as f64;
            ll += (f[0] * f[0]) as f64;
            rr += (f[1] * f[1]) as f64;
        }
        let corr = lr / (ll * rr).sqrt();
        assert!(corr < 0.8, "reverb channel correlation {corr}");
    }
}
