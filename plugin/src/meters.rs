//! The audio-thread side of the live meters, on analyzer-core's streaming meters. The GUI's side
//! (readings, the true-peak display, the bars) is in `crate::editor`.
//!
//! Sample peak, true peak (ITU-R BS.1770-4 Annex 2, 4x oversampled below 96 kHz) and momentary /
//! short-term loudness (EBU R128, Tech 3341) are measured on every block whether the editor is
//! open or not (they are cheap, and the clip latch must not miss anything). The sample peak is
//! handed to the GUI as "highest since the last read" (see [`crate::shared::MeterShared`]); the
//! true peak through the hand-over [`crate::shared::TruePeakCell`] describes, which lets the
//! true-peak meter restart its hold at the reader's floor instead of 0.
//!
use std::sync::atomic::Ordering;

use analyzer_core::meter::{Loudness, SamplePeak, TruePeak};

use crate::interleave::interleave;
use crate::shared::{MeterShared, TruePeakCell, raise_f32};

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
    /// Generation of the reader's marker the true-peak hold last restarted under; `None` until
    /// the first block (a new activation may find the previous meters' peak in the cell).
    true_peak_gen: Option<u32>,
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
            true_peak_gen: None,
        }
    }

    /// Clears filter states and loudness windows (not the GUI's latched clip).
    pub fn reset(&mut self) {
        self.sample_peak.reset();
        self.true_peak.reset();
        self.loudness.reset();
    }

    /// Meters one planar block and publishes the results. Never allocates or locks.
    ///
    /// A channel shorter than `frames` (or missing) is metered as silence past its end.
    pub fn process<S: AsRef<[f32]>>(&mut self, channels: &[S], frames: usize, out: &MeterShared) {
        self.process_with(channels, frames, out, || {});
    }

    /// [`process`](Self::process), calling `during` between metering and publishing (tests
    /// use it to take a reading in the middle of a block).
    pub(crate) fn process_with<S: AsRef<[f32]>>(
        &mut self,
        channels: &[S],
        frames: usize,
        out: &MeterShared,
        during: impl FnOnce(),
    ) {
        // Odd from here until the true peak is published (see the module docs); sequentially
        // consistent with the load below and with the reader's swap.
        out.audio_blocks.fetch_add(1, Ordering::SeqCst);
        let cell = out.true_peak.load(Ordering::SeqCst);
        let generation = match TruePeakCell::unpack(cell) {
            TruePeakCell::Read { floor, generation } => {
                self.true_peak.take_max_peak_above(floor);
                generation
            }
            // Fresh meters hold nothing yet, so they are exact above any floor: they carry on
            // under the generation they find.
            TruePeakCell::Peak { generation, .. } => self.true_peak_gen.unwrap_or(generation),
        };
        self.true_peak_gen = Some(generation);
        self.meter(channels, frames, out);
        during();
        let value = TruePeakCell::Peak {
            peak: self.true_peak.max_peak_since_take(),
            generation,
        }
        .pack();
        // Only the reader changes the cell besides this thread, and only to a `Read` marker: a
        // failure means it took the previous value during this block. This block's peak then
        // replaces its marker, under this block's generation (the floor it is exact above), and
        // the next block, finding a `Peak`, goes on under the same floor until the next take.
        let mut expected = cell;
        while let Err(actual) =
            out.true_peak
                .compare_exchange_weak(expected, value, Ordering::SeqCst, Ordering::SeqCst)
        {
            expected = actual;
        }
        out.audio_blocks.fetch_add(1, Ordering::Release);
    }

    fn meter<S: AsRef<[f32]>>(&mut self, channels: &[S], frames: usize, out: &MeterShared) {
        let ch = self.channels;
        let mut clipped = false;
        let mut non_finite = 0u64;
        let mut offset = 0;
        while offset < frames {
            let n = METER_CHUNK_FRAMES.min(frames - offset);
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
            interleave(channels, offset, ch, &mut self.scratch[..n * ch]);
            let block = &self.scratch[..n * ch];
            self.sample_peak.process(block);
            self.true_peak.process(block);
            self.loudness.process(block);
            offset += n;
        }
        raise_f32(&out.sample_peak_linear, self.sample_peak.take_max_peak());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::editor::meter_reading::take_reading;

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
