//! The audio-thread side of the live meters, on analyzer-core's streaming meters.
//!
//! Sample peak, true peak (ITU-R BS.1770-4 Annex 2, 4x oversampled below 96 kHz) and momentary /
//! short-term loudness (EBU R128, Tech 3341) are measured on every block whether the editor is
//! open or not (they are cheap, and the clip latch must not miss anything). Peaks are handed to
//! the GUI as "highest since the last read" (see [`crate::shared::MeterShared`]).

use std::sync::atomic::Ordering;

use analyzer_core::meter::{Loudness, SamplePeak, TruePeak};

use crate::shared::{MeterShared, raise_f32};

/// Frames interleaved at a time; the scratch buffer is this many frames (allocated once).
pub const METER_CHUNK_FRAMES: usize = 1024;

/// Meters for one activation (channel count and sample rate fixed).
#[derive(Debug)]
pub struct AudioMeters {
    channels: usize,
    sample_peak: SamplePeak,
    true_peak: TruePeak,
    loudness: Loudness,
    scratch: Vec<f32>,
}

impl AudioMeters {
    /// Allocates everything; call from `activate()`.
    pub fn new(channels: usize, sample_rate: u32) -> Self {
        let channels = channels.max(1);
        Self {
            channels,
            sample_peak: SamplePeak::new(channels, sample_rate),
            true_peak: TruePeak::new(channels, sample_rate),
            loudness: Loudness::new(channels, sample_rate),
            scratch: vec![0.0; METER_CHUNK_FRAMES * channels],
        }
    }

    /// Clears filter states and loudness windows (not the GUI's latched clip).
    pub fn reset(&mut self) {
        self.sample_peak.reset();
        self.true_peak.reset();
        self.loudness.reset();
    }

    /// Meters one planar block and publishes the results. Never allocates.
    pub fn process<S: AsRef<[f32]>>(&mut self, channels: &[S], frames: usize, out: &MeterShared) {
        let mut clipped = false;
        let mut non_finite = 0u64;
        let mut offset = 0;
        while offset < frames {
            let n = METER_CHUNK_FRAMES.min(frames - offset);
            for c in 0..self.channels {
                let src = channels.get(c).map(|s| s.as_ref()).unwrap_or(&[]);
                for f in 0..n {
                    let x = src.get(offset + f).copied().unwrap_or(0.0);
                    if !x.is_finite() {
                        non_finite += 1;
                        clipped = true;
                    } else if x.abs() >= 1.0 {
                        clipped = true;
                    }
                    self.scratch[f * self.channels + c] = x;
                }
            }
            let block = &self.scratch[..n * self.channels];
            self.sample_peak.process(block);
            self.true_peak.process(block);
            self.loudness.process(block);
            offset += n;
        }
        raise_f32(&out.sample_peak_linear, self.sample_peak.take_max_peak());
        raise_f32(&out.true_peak_linear, self.true_peak.take_max_peak());
        out.momentary_lufs
            .store(self.loudness.momentary_lufs() as f32, Ordering::Relaxed);
        out.short_term_lufs
            .store(self.loudness.short_term_lufs() as f32, Ordering::Relaxed);
        if clipped {
            out.clip_latched.store(true, Ordering::Relaxed);
        }
        if non_finite > 0 {
            out.non_finite_samples
                .fetch_add(non_finite, Ordering::Relaxed);
        }
    }
}

/// What the GUI shows, taken once per frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeterReading {
    pub sample_peak_dbfs: f32,
    pub true_peak_dbtp: f32,
    pub momentary_lufs: f32,
    pub short_term_lufs: f32,
    pub clip_latched: bool,
    pub non_finite_samples: u64,
}

fn to_db(linear: f32) -> f32 {
    if linear > 0.0 {
        20.0 * linear.log10()
    } else {
        f32::NEG_INFINITY
    }
}

/// Takes the peaks held since the last read (clearing them) and the current loudness.
pub fn take_reading(shared: &MeterShared) -> MeterReading {
    MeterReading {
        sample_peak_dbfs: to_db(shared.sample_peak_linear.swap(0.0, Ordering::Relaxed)),
        true_peak_dbtp: to_db(shared.true_peak_linear.swap(0.0, Ordering::Relaxed)),
        momentary_lufs: shared.momentary_lufs.load(Ordering::Relaxed),
        short_term_lufs: shared.short_term_lufs.load(Ordering::Relaxed),
        clip_latched: shared.clip_latched.load(Ordering::Relaxed),
        non_finite_samples: shared.non_finite_samples.load(Ordering::Relaxed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_are_held_until_read_and_clip_latches() {
        let shared = MeterShared::default();
        let mut m = AudioMeters::new(2, 48_000);
        let loud = vec![0.5f32; 4800];
        let quiet = vec![0.01f32; 4800];
        m.process(&[&loud[..], &loud[..]], 4800, &shared);
        m.process(&[&quiet[..], &quiet[..]], 4800, &shared);
        let r = take_reading(&shared);
        assert!((r.sample_peak_dbfs - (-6.0206)).abs() < 0.01, "{r:?}");
        assert!(r.true_peak_dbtp >= r.sample_peak_dbfs - 0.01);
        assert!(!r.clip_latched);
        // Read clears the hold: the next reading only sees the quiet block.
        m.process(&[&quiet[..], &quiet[..]], 4800, &shared);
        assert!(take_reading(&shared).sample_peak_dbfs < -39.0);

        let mut bad = vec![0.1f32; 64];
        bad[3] = f32::NAN;
        m.process(&[&bad[..], &bad[..]], 64, &shared);
        let r = take_reading(&shared);
        assert!(r.clip_latched && r.non_finite_samples == 2);
        assert!(r.sample_peak_dbfs.is_finite() && r.true_peak_dbtp.is_finite());
    }
}
