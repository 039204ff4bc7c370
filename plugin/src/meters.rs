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
    /// The true peak this thread last raised `MeterShared::true_peak_linear` to.
    published_true_peak: f32,
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
            published_true_peak: 0.0,
        }
    }

    /// Clears filter states and loudness windows (not the GUI's latched clip).
    pub fn reset(&mut self) {
        self.sample_peak.reset();
        self.true_peak.reset();
        self.loudness.reset();
        self.published_true_peak = 0.0;
    }

    /// Meters one planar block and publishes the results. Never allocates.
    ///
    /// A channel shorter than `frames` (or missing) is metered as silence past its end.
    pub fn process<S: AsRef<[f32]>>(&mut self, channels: &[S], frames: usize, out: &MeterShared) {
        // The GUI takes the published true peak with a swap to 0, and only this thread raises
        // the cell, so a cell below what was last published means the GUI has read it: only
        // then does the meter forget its peak since the last take. That peak is also the floor
        // under which `TruePeak` skips the 4x interpolation; taking it after every block made
        // nearly every sample go through the filter (2-3x the cost of all the meters). A read
        // racing with this block at worst shows the same peak in one more GUI frame; no peak
        // is ever missed.
        if self.published_true_peak > 0.0
            && out.true_peak_linear.load(Ordering::Relaxed) < self.published_true_peak
        {
            self.true_peak.take_max_peak();
        }
        let ch = self.channels;
        let mut clipped = false;
        let mut non_finite = 0u64;
        let mut offset = 0;
        while offset < frames {
            let n = METER_CHUNK_FRAMES.min(frames - offset);
            let block = &mut self.scratch[..n * ch];
            let source = |c: usize| -> &[f32] {
                let src = channels.get(c).map(|s| s.as_ref()).unwrap_or(&[]);
                let src = src.get(offset..).unwrap_or(&[]);
                &src[..n.min(src.len())]
            };
            for c in 0..ch {
                let (over, bad) = scan_out_of_range(source(c));
                clipped |= over;
                non_finite += bad;
            }
            match (ch, source(0), source(1)) {
                (2, l, r) if l.len() == n && r.len() == n => {
                    let (dst, _) = block.as_chunks_mut::<2>();
                    for ((d, &a), &b) in dst.iter_mut().zip(l).zip(r) {
                        *d = [a, b];
                    }
                }
                _ => {
                    for c in 0..ch {
                        let src = source(c);
                        let mut dst = block[c..].iter_mut().step_by(ch);
                        for (d, &x) in dst.by_ref().zip(src) {
                            *d = x;
                        }
                        dst.for_each(|d| *d = 0.0);
                    }
                }
            }
            let block = &self.scratch[..n * ch];
            self.sample_peak.process(block);
            self.true_peak.process(block);
            self.loudness.process(block);
            offset += n;
        }
        raise_f32(&out.sample_peak_linear, self.sample_peak.take_max_peak());
        self.published_true_peak = self.true_peak.max_peak_since_take();
        raise_f32(&out.true_peak_linear, self.published_true_peak);
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

/// Whether any sample is at or above full scale or not finite, and how many are not finite.
/// The first pass has no branch so it vectorises; the count runs only when something is off.
fn scan_out_of_range(x: &[f32]) -> (bool, u64) {
    let mut over = false;
    for &v in x {
        // Non-short-circuit `|` keeps the loop branch-free; NaN fails every comparison.
        over |= (v.abs() >= 1.0) | v.is_nan();
    }
    if !over {
        return (false, 0);
    }
    (true, x.iter().filter(|v| !v.is_finite()).count() as u64)
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
        let r = take_reading(&shared);
        assert!(r.sample_peak_dbfs < -39.0, "{r:?}");
        assert!(r.true_peak_dbtp < -39.0, "{r:?}");

        let mut bad = vec![0.1f32; 64];
        bad[3] = f32::NAN;
        m.process(&[&bad[..], &bad[..]], 64, &shared);
        let r = take_reading(&shared);
        assert!(r.clip_latched && r.non_finite_samples == 2);
        assert!(r.sample_peak_dbfs.is_finite() && r.true_peak_dbtp.is_finite());
    }

    /// Whatever the block size and however often the GUI reads, the readings' true peaks are
    /// each the peak since the previous reading: their maximum is the programme's true peak, and
    /// a reading after quiet blocks only shows the quiet.
    #[test]
    fn true_peak_readings_follow_the_gui_not_the_blocks() {
        let frames = 48_000;
        let sig: Vec<f32> = (0..frames)
            .map(|i| {
                let t = i as f32 / 48_000.0;
                let burst = if (i / 4_000) % 3 == 0 { 0.9 } else { 0.05 };
                burst * (std::f32::consts::TAU * 11_000.0 * t + 0.7).sin()
            })
            .collect();
        let mut whole = TruePeak::new(2, 48_000);
        let inter: Vec<f32> = sig.iter().flat_map(|&x| [x, x * 0.5]).collect();
        whole.process(&inter);
        let right: Vec<f32> = sig.iter().map(|x| x * 0.5).collect();
        for block in [64usize, 500, 4096] {
            for read_every in [1usize, 3, 1000] {
                let shared = MeterShared::default();
                let mut m = AudioMeters::new(2, 48_000);
                let mut best = f32::NEG_INFINITY;
                let mut readings = Vec::new();
                for (i, start) in (0..frames).step_by(block).enumerate() {
                    let end = (start + block).min(frames);
                    m.process(
                        &[&sig[start..end], &right[start..end]],
                        end - start,
                        &shared,
                    );
                    if i % read_every == 0 {
                        let r = take_reading(&shared);
                        readings.push((start, end, r.true_peak_dbtp));
                        best = best.max(r.true_peak_dbtp);
                    }
                }
                best = best.max(take_reading(&shared).true_peak_dbtp);
                let expected = 20.0 * whole.max_peak().log10();
                assert!(
                    (best - expected).abs() < 1e-3,
                    "block {block} read every {read_every}: {best} vs {expected}"
                );
                if read_every == 1 {
                    // A reading of a block (and its filter history) inside a quiet stretch
                    // sees only the quiet.
                    let loud = |i: usize| (i / 4_000).is_multiple_of(3);
                    let quiet: Vec<f32> = readings
                        .iter()
                        .filter(|&&(start, end, _)| start >= 16 && !(start - 16..end).any(loud))
                        .map(|&(_, _, db)| db)
                        .collect();
                    assert!(!quiet.is_empty(), "block {block}: no quiet reading");
                    let quiet = quiet.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    assert!(
                        quiet < -25.0,
                        "block {block}: {quiet} dBTP in a quiet stretch"
                    );
                }
            }
        }
    }
}
