//! Synthetic stem deliveries whose answer is known, for tests, benchmarks and demos.
//!
//! The "music" is built to be hard for alignment in the ways real music is: silence at the
//! start, stems that are silent for long stretches, a bass and a keys part playing the same
//! notes an octave apart (correlated lines), sparse percussion, mono stems panned in a stereo
//! mix. Everything is deterministic from a seed, drawn from the one test-signal generator
//! ([`Rng`]) with the one constant-power pan law of [`crate::synth`].

use crate::Result;
use crate::source::{FrameSource, MemorySource};
use crate::synth::{Rng, constant_power_pan};

/// A mix and its stems as boxed sources.
pub type Sources = (Box<dyn FrameSource>, Vec<Box<dyn FrameSource>>);

/// One stem: interleaved samples, and for a mono stem the gains that pan it into the stereo
/// mix (constant power).
#[derive(Debug, Clone)]
pub struct Stem {
    /// Name of the stem (what it holds).
    pub name: String,
    /// Channel count (1 or 2).
    pub channels: usize,
    /// Interleaved samples.
    pub samples: Vec<f32>,
    /// Gains into the left and right mix channel (mono stems only).
    pub pan: [f32; 2],
}

impl Stem {
    /// Length in frames.
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels
    }

    /// Delays the content by `d` frames (negative: advances it), keeping the length: the stem
    /// then has an offset of `d` against a mix built before the shift.
    pub fn shift(&mut self, d: i64) {
        let ch = self.channels;
        let n = self.frames() as i64;
        let old = std::mem::take(&mut self.samples);
        self.samples = vec![0.0; old.len()];
        for t in 0..n {
            let s = t - d;
            if (0..n).contains(&s) {
                let (t, s) = (t as usize * ch, s as usize * ch);
                self.samples[t..t + ch].copy_from_slice(&old[s..s + ch]);
            }
        }
    }

    /// Scales by a gain in dB (negative gain values invert polarity via `invert`).
    pub fn scale_db(&mut self, gain_db: f64) {
        let g = crate::units::db_to_amp(gain_db) as f32;
        self.samples.iter_mut().for_each(|x| *x *= g);
    }

    /// Inverts the polarity.
    pub fn invert(&mut self) {
        self.samples.iter_mut().for_each(|x| *x = -*x);
    }
}

/// A song: stems of equal length at one sample rate; the mix is their stereo sum.
#[derive(Debug, Clone)]
pub struct Song {
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Length of the song and of every stem, frames.
    pub frames: usize,
    /// The stems, whose (panned) sum is the mix.
    pub stems: Vec<Stem>,
}

/// A decaying harmonic tone (partials 1..=`harmonics` at 1/h), `len` frames from `start`.
struct Tone {
    start: usize,
    len: usize,
    freq: f32,
    harmonics: usize,
    decay_s: f32,
    amp: f32,
}

impl Tone {
    /// Adds the tone to `out` (interleaved, `ch` channels; channel `c` scaled by `gains[c]`).
    fn add_to(&self, out: &mut [f32], ch: usize, gains: &[f32], sr: f32) {
        let Tone {
            start,
            len,
            freq,
            harmonics,
            decay_s,
            amp,
        } = *self;
        let frames = out.len() / ch;
        let end = (start + len).min(frames);
        for t in start..end {
            let x = (t - start) as f32 / sr;
            let env =
                (-x / decay_s).exp() * (x * 200.0).min(1.0) * ((end - t) as f32 / 64.0).min(1.0);
            let mut v = 0.0;
            for h in 1..=harmonics {
                v += (std::f32::consts::TAU * freq * h as f32 * x).sin() / h as f32;
            }
            for (c, g) in gains.iter().enumerate().take(ch) {
                out[t * ch + c] += amp * env * v * g;
            }
        }
    }
}

impl Song {
    /// A song of `stems` stems (at least 1) and `seconds` seconds.
    pub fn new(sample_rate: u32, seconds: f64, stems: usize, seed: u64) -> Self {
        let sr = sample_rate as f32;
        let frames = (seconds * f64::from(sample_rate)).round() as usize;
        let beat = (0.5 * sr) as usize;
        let mut rng = Rng::new(seed);
        let scale = [0, 3, 5, 7, 10, 12];
        let notes: Vec<f32> = (0..frames / beat + 1)
            .map(|_| 55.0 * 2f32.powf(scale[rng.below(scale.len())] as f32 / 12.0))
            .collect();
        let mut out = Vec::new();
        for s in 0..stems.max(1) {
            let kind = s.min(5 + s % 2);
            let (name, ch) = match kind {
                0 => ("bass".to_owned(), 1),
                1 => ("keys".to_owned(), 2),
                2 => ("drums".to_owned(), 2),
                3 => ("pad".to_owned(), 2),
                4 => ("lead".to_owned(), 1),
                5 => (format!("perc{s}"), 1),
                _ => (format!("synth{s}"), 2),
            };
            let mut x = vec![0.0f32; frames * ch];
            let pan = constant_power_pan(rng.next_f32() * 0.8);
            match kind {
                0 => {
                    for (k, &f) in notes.iter().enumerate().skip(2) {
                        Tone {
                            start: k * beat,
                            len: beat * 9 / 10,
                            freq: f,
                            harmonics: 6,
                            decay_s: 0.3,
                            amp: 0.15,
                        }
                        .add_to(&mut x, 1, &[1.0], sr);
                    }
                }
                1 => {
                    // Same notes an octave up, same timing: correlated with the bass.
                    for (k, &f) in notes.iter().enumerate().skip(2) {
                        Tone {
                            start: k * beat,
                            len: beat * 9 / 10,
                            freq: 2.0 * f,
                            harmonics: 4,
                            decay_s: 0.25,
                            amp: 0.1,
                        }
                        .add_to(&mut x, 2, &[0.8, 0.6], sr);
                    }
                }
                2 => {
                    for k in 1..frames / beat + 1 {
                        let t0 = k * beat;
                        if k % 2 == 1 {
                            // kick: falling sine
                            for t in t0..(t0 + (0.15 * sr) as usize).min(frames) {
                                let x_s = (t - t0) as f32 / sr;
                                let f = 50.0 + 70.0 * (-x_s * 30.0).exp();
                                let v = 0.3
                                    * (std::f32::consts::TAU * f * x_s).sin()
                                    * (-x_s / 0.05).exp();
                                x[t * 2] += v;
                                x[t * 2 + 1] += v;
                            }
                        } else {
                            // snare: noise burst, different in each channel
                            for t in t0..(t0 + (0.1 * sr) as usize).min(frames) {
                                let e = (-((t - t0) as f32 / sr) / 0.03).exp() * 0.2;
                                x[t * 2] += e * rng.next_f32();
                                x[t * 2 + 1] += e * rng.next_f32();
                            }
                        }
                    }
                }
                3 => {
                    // Silent for the first half, then a sustained chord.
                    let start = frames / 2;
                    for (j, f) in [220.0f32, 277.2, 329.6].iter().enumerate() {
                        for t in start..frames {
                            let x_s = (t - start) as f32 / sr;
                            let env = (x_s / 0.5).min(1.0) * 0.04;
                            x[t * 2] += env * (std::f32::consts::TAU * f * x_s).sin();
                            x[t * 2 + 1] +=
                                env * (std::f32::consts::TAU * f * 1.003 * x_s + j as f32).sin();
                        }
                    }
                }
                4 => {
                    // Phrases of 2 s with 2 s rests.
                    let phrase = 4 * beat;
                    let mut k = 3;
                    while k * beat < frames {
                        if (k * beat / phrase).is_multiple_of(2) {
                            let f = 4.0 * notes[k % notes.len()];
                            Tone {
                                start: k * beat,
                                len: beat,
                                freq: f,
                                harmonics: 3,
                                decay_s: 0.4,
                                amp: 0.08,
                            }
                            .add_to(&mut x, 1, &[1.0], sr);
                        }
                        k += 1;
                    }
                }
                5 => {
                    // Sparse noise hits.
                    let hits = (frames / beat / 4).max(1);
                    for _ in 0..hits {
                        let t0 =
                            (beat + rng.below(frames.saturating_sub(2 * beat).max(1))).min(frames);
                        let end = (t0 + (0.05 * sr) as usize).min(frames);
                        for (j, v) in x[t0..end].iter_mut().enumerate() {
                            *v += 0.15 * (-(j as f32 / sr) / 0.01).exp() * rng.next_f32();
                        }
                    }
                }
                _ => {
                    let off = rng.below(4) + 1;
                    for (k, &f) in notes.iter().enumerate().skip(off).step_by(3) {
                        let g = [
                            0.5 + 0.4 * rng.next_f32().abs(),
                            0.5 + 0.4 * rng.next_f32().abs(),
                        ];
                        Tone {
                            start: k * beat + beat / 4,
                            len: beat,
                            freq: 3.0 * f,
                            harmonics: 5,
                            decay_s: 0.2,
                            amp: 0.06,
                        }
                        .add_to(&mut x, 2, &g, sr);
                    }
                }
            }
            out.push(Stem {
                name,
                channels: ch,
                samples: x,
                pan,
            });
        }
        Self {
            sample_rate,
            frames,
            stems: out,
        }
    }

    /// The stereo mix of the stems as they are now (sum in f64, rounded once to f32).
    pub fn mix(&self) -> Vec<f32> {
        let mut m = vec![0.0f64; self.frames * 2];
        for s in &self.stems {
            for t in 0..self.frames.min(s.frames()) {
                for c in 0..2 {
                    let v = if s.channels == 1 {
                        f64::from(s.samples[t]) * f64::from(s.pan[c])
                    } else {
                        f64::from(s.samples[t * s.channels + c % s.channels])
                    };
                    m[t * 2 + c] += v;
                }
            }
        }
        m.into_iter().map(|v| v as f32).collect()
    }

    /// The mix and the stems as in-memory sources.
    ///
    /// # Errors
    /// Never for a song built by [`Song::new`].
    pub fn sources(&self, mix: &[f32]) -> Result<Sources> {
        let m = MemorySource::new("mix", 2, self.sample_rate, mix.to_vec())?;
        let stems = self
            .stems
            .iter()
            .map(|s| {
                MemorySource::new(
                    s.name.clone(),
                    s.channels,
                    self.sample_rate,
                    s.samples.clone(),
                )
                .map(|m| Box::new(m) as Box<dyn FrameSource>)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((Box::new(m), stems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_moves_content_later() {
        let mut s = Stem {
            name: "s".into(),
            channels: 2,
            samples: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            pan: [1.0, 0.0],
        };
        s.shift(1);
        assert_eq!(s.samples, [0.0, 0.0, 1.0, 2.0, 3.0, 4.0]);
        s.shift(-2);
        assert_eq!(s.samples, [3.0, 4.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn songs_start_silent_and_are_deterministic() {
        let a = Song::new(8_000, 6.0, 7, 3);
        let b = Song::new(8_000, 6.0, 7, 3);
        assert_eq!(a.mix(), b.mix());
        let mix = a.mix();
        assert!(
            mix[..2 * 3_000].iter().all(|&x| x == 0.0),
            "silence at the start"
        );
        assert!(mix.iter().any(|&x| x.abs() > 0.05));
        let pad = &a.stems[3];
        assert!(
            pad.samples[..pad.samples.len() / 2]
                .iter()
                .all(|&x| x == 0.0)
        );
    }
}
