//! The audio the harnesses feed the hosts: the analyzer's deterministic demo song, and the two
//! faults the tests inject on the way (a stem shifted in time, a compressor on the mix path).

use analyzer_core::synth::{SynthStem, demo_song};

/// Planar audio: one `Vec` per channel, all of one length.
pub type Planar = Vec<Vec<f32>>;

/// One stem as a host track: its name (the CLAP track name / the Ardour bus name) and audio.
#[derive(Debug, Clone, PartialEq)]
pub struct Stem {
    pub name: String,
    pub audio: Planar,
}

/// The demo song's stems as stereo planar tracks. A mono stem is fed to both channels, as a
/// host's stereo track would play a mono item.
pub fn demo_stems(sample_rate: u32, seconds: f32) -> Vec<Stem> {
    demo_song(sample_rate, seconds)
        .iter()
        .map(|s| Stem {
            name: s.name.replace('_', " "),
            audio: stereo(s),
        })
        .collect()
}

fn stereo(stem: &SynthStem) -> Planar {
    let ch = stem.channels as usize;
    (0..2)
        .map(|c| {
            (0..stem.frames())
                .map(|i| stem.samples[i * ch + c.min(ch - 1)])
                .collect()
        })
        .collect()
}

/// The benches' song of `stems` parts (analyzer-core's multi-stem synth, seed 7) as stereo
/// tracks: a mono part panned by its pan gains, as a host's stereo track plays it.
pub fn bench_song_tracks(sample_rate: u32, seconds: f64, stems: usize) -> Vec<Stem> {
    let song = analyzer_core::reconcile::synth::Song::new(sample_rate, seconds, stems, 7);
    song.stems
        .iter()
        .map(|s| Stem {
            name: s.name.clone(),
            audio: (0..2)
                .map(|c| {
                    (0..s.frames())
                        .map(|t| {
                            if s.channels == 1 {
                                s.samples[t] * s.pan[c]
                            } else {
                                s.samples[t * s.channels + c]
                            }
                        })
                        .collect()
                })
                .collect(),
        })
        .collect()
}

/// The plain sum of planar tracks (the mix bus input of a host with unity faders).
pub fn sum(tracks: &[&Planar]) -> Planar {
    let channels = tracks.first().map_or(0, |t| t.len());
    let frames = tracks
        .iter()
        .map(|t| t.first().map_or(0, Vec::len))
        .max()
        .unwrap_or(0);
    let mut out = vec![vec![0.0f32; frames]; channels];
    for t in tracks {
        for (o, i) in out.iter_mut().zip(t.iter()) {
            for (o, i) in o.iter_mut().zip(i) {
                *o += i;
            }
        }
    }
    out
}

/// `audio` delayed by `frames` (silence in front), keeping its length: a stem rendered late.
pub fn delayed(audio: &Planar, frames: usize) -> Planar {
    audio
        .iter()
        .map(|ch| {
            let mut out = vec![0.0f32; ch.len()];
            if frames < ch.len() {
                out[frames..].copy_from_slice(&ch[..ch.len() - frames]);
            }
            out
        })
        .collect()
}

/// Settings of [`compress`], a plain feed-forward bus compressor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Compressor {
    pub threshold_dbfs: f32,
    pub ratio: f32,
    pub attack_s: f32,
    pub release_s: f32,
}

impl Default for Compressor {
    /// A firm glue setting that audibly reduces the demo song's peaks.
    fn default() -> Self {
        Self {
            threshold_dbfs: -24.0,
            ratio: 4.0,
            attack_s: 0.003,
            release_s: 0.08,
        }
    }
}

/// `audio` through a stereo-linked peak compressor (no make-up gain): the dynamics a mix bus adds
/// that no stem carries (`missing_bus_processing`).
pub fn compress(audio: &Planar, sample_rate: u32, c: Compressor) -> Planar {
    let frames = audio.first().map_or(0, Vec::len);
    let coeff = |t: f32| (-1.0 / (t * sample_rate as f32)).exp();
    let (att, rel) = (coeff(c.attack_s), coeff(c.release_s));
    let mut env_db = -120.0f32;
    let mut out = audio.clone();
    for i in 0..frames {
        let peak = audio.iter().map(|ch| ch[i].abs()).fold(0.0f32, f32::max);
        let level_db = 20.0 * peak.max(1e-6).log10();
        let k = if level_db > env_db { att } else { rel };
        env_db = k * env_db + (1.0 - k) * level_db;
        let over_db = (env_db - c.threshold_dbfs).max(0.0);
        let gain = 10f32.powf(-over_db * (1.0 - 1.0 / c.ratio) / 20.0);
        for ch in out.iter_mut() {
            ch[i] *= gain;
        }
    }
    out
}

/// Interleaves planar audio (for WAV writing).
pub fn interleave(audio: &Planar) -> Vec<f32> {
    let frames = audio.first().map_or(0, Vec::len);
    let mut out = Vec::with_capacity(frames * audio.len());
    for i in 0..frames {
        for ch in audio {
            out.push(ch[i]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_shifts_and_keeps_length() {
        let a = vec![vec![1.0, 2.0, 3.0, 4.0]];
        assert_eq!(delayed(&a, 1), vec![vec![0.0, 1.0, 2.0, 3.0]]);
        assert_eq!(delayed(&a, 9), vec![vec![0.0; 4]]);
    }

    #[test]
    fn compressor_reduces_loud_parts_only() {
        let sr = 48_000;
        let loud: Vec<f32> = (0..sr).map(|i| 0.9 * (i as f32 * 0.05).sin()).collect();
        let quiet: Vec<f32> = loud.iter().map(|s| s * 0.01).collect();
        let c = Compressor::default();
        let l = compress(&vec![loud.clone()], sr as u32, c);
        let q = compress(&vec![quiet.clone()], sr as u32, c);
        let peak = |x: &[f32]| x[sr / 2..].iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!(
            peak(&l[0]) < 0.5 * peak(&loud),
            "loud signal not compressed"
        );
        assert_eq!(
            q[0], quiet,
            "signal under the threshold must pass untouched"
        );
    }

    #[test]
    fn demo_stems_are_stereo_and_sum() {
        let stems = demo_stems(48_000, 1.0);
        assert!(
            stems
                .iter()
                .all(|s| s.audio.len() == 2 && s.audio[0].len() == 48_000)
        );
        let refs: Vec<&Planar> = stems.iter().map(|s| &s.audio).collect();
        let mix = sum(&refs);
        let i = 30_000;
        let expect: f32 = stems.iter().map(|s| s.audio[1][i]).sum();
        assert!((mix[1][i] - expect).abs() < 1e-6);
    }
}
