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
use crate::shared::{LOUDNESS_RING_BLOCKS, LoudnessBlock, MeterShared, TruePeakCell, raise_f32};

/// 100 ms steps in the short-term (3 s) window: from then on a step's short-term value enters
/// the loudness range.
const SHORT_TERM_STEPS: u64 = 30;

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
    /// Per-channel sample peaks of a block (allocated once).
    channel_peaks: Vec<f32>,
    /// The audio end of the loudness-block ring (see [`LoudnessBlock`]), once the GUI's end
    /// was handed out.
    blocks: Option<rtrb::Producer<LoudnessBlock>>,
    /// Frames the loudness meter has of its current 100 ms sub-block.
    frames_into_block: usize,
    /// The `meter_reset` parameter's value in the previous block.
    reset_param_on: bool,
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
            channel_peaks: vec![0.0; channels],
            blocks: None,
            frames_into_block: 0,
            reset_param_on: false,
            true_peak_gen: None,
        }
    }

    /// Clears filter states and loudness windows (not the GUI's latched clip).
    pub fn reset(&mut self) {
        self.sample_peak.reset();
        self.true_peak.reset();
        self.loudness.reset();
        self.frames_into_block = 0;
    }

    /// Creates the loudness-block ring and returns the GUI's end (allocates: call from
    /// `activate()`). Until this is called, no blocks are handed over.
    pub fn loudness_feed(&mut self) -> rtrb::Consumer<LoudnessBlock> {
        let (producer, consumer) = rtrb::RingBuffer::new(LOUDNESS_RING_BLOCKS);
        self.blocks = Some(producer);
        consumer
    }

    /// The `meter_reset` parameter's value for this block: a change from off to on counts a
    /// reset request for the GUI, marks the point in the loudness blocks and restarts the
    /// loudness windows, so that no gating block after the reset holds audio from before it.
    /// Never allocates.
    pub fn set_reset_param(&mut self, on: bool, out: &MeterShared) {
        if on && !self.reset_param_on {
            out.reset_requests.fetch_add(1, Ordering::Release);
            self.push_block(LoudnessBlock::Reset, out);
            self.loudness.reset();
            self.frames_into_block = 0;
        }
        self.reset_param_on = on;
    }

    fn push_block(&mut self, block: LoudnessBlock, out: &MeterShared) {
        if let Some(p) = self.blocks.as_mut()
            && p.push(block).is_err()
        {
            out.loudness_blocks_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Feeds the loudness meter, split at its 100 ms boundaries so every completed sub-block
    /// is handed to the GUI (at low sample rates a chunk can hold several).
    fn feed_loudness(&mut self, block: &[f32], out: &MeterShared) {
        let ch = self.channels;
        let block_frames = self.loudness.block_frames();
        let mut rest = block;
        while !rest.is_empty() {
            let n = (block_frames - self.frames_into_block).min(rest.len() / ch);
            self.loudness.process(&rest[..n * ch]);
            self.frames_into_block += n;
            rest = &rest[n * ch..];
            if self.frames_into_block == block_frames {
                self.frames_into_block = 0;
                let step = LoudnessBlock::Step {
                    momentary_lufs: self.loudness.momentary_lufs() as f32,
                    short_term_lufs: self.loudness.short_term_lufs() as f32,
                    gating_block: self.loudness.momentary_window_full(),
                    lra_value: self.loudness.blocks_done() >= SHORT_TERM_STEPS,
                };
                self.push_block(step, out);
            }
        }
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
            flush_subnormals(&mut self.scratch[..n * ch]);
            let block = &self.scratch[..n * ch];
            self.sample_peak.process(block);
            self.true_peak.process(block);
            // `block` borrows the scratch; the loudness feed needs `self` mutably.
            let block = std::mem::take(&mut self.scratch);
            self.feed_loudness(&block[..n * ch], out);
            self.scratch = block;
            offset += n;
        }
        self.sample_peak.take_peaks(&mut self.channel_peaks);
        let left = self.channel_peaks[0];
        let right = self.channel_peaks[1..].iter().copied().fold(0.0, f32::max);
        raise_f32(&out.side_peaks_linear[0], left);
        raise_f32(&out.side_peaks_linear[1], right);
        raise_f32(&out.sample_peak_linear, left.max(right));
        out.channels.store(ch as u32, Ordering::Relaxed);
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

/// Replaces subnormal samples with zero, in the meters' own copy of the block (the output and
/// the capture keep them bit for bit).
///
/// nice-plug's `unsafe_flush_denormals` sets only flush-to-zero (results), not
/// denormals-are-zero (operands): a subnormal *input* still costs a microcode assist in every
/// multiply of the true-peak interpolator, and clap-validator's `process-audio-denormals`
/// measured the plugin 5.3x slower on subnormal noise. Subnormals are below -758 dBFS, so
/// metering them as silence changes no reading. Branch-free so it vectorises; NaN and infinity
/// fail the comparison and pass unchanged (the meters count and skip them).
#[inline]
pub(crate) fn flush_subnormals(x: &mut [f32]) {
    for v in x {
        let keep = v.abs() >= f32::MIN_POSITIVE || v.is_nan();
        *v = if keep { *v } else { 0.0 };
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

    /// Subnormal input is metered as silence (it is below -758 dBFS), so the meters never run
    /// their filters on subnormal operands; normal samples, NaN and infinity pass unchanged.
    #[test]
    fn subnormal_input_is_metered_as_silence() {
        let mut x = vec![
            f32::MIN_POSITIVE / 2.0,
            -f32::MIN_POSITIVE / 3.0,
            f32::from_bits(1),
            -0.0,
            f32::MIN_POSITIVE,
            -0.25,
            f32::NAN,
            f32::INFINITY,
        ];
        flush_subnormals(&mut x);
        assert_eq!(&x[..4], &[0.0, 0.0, 0.0, 0.0]);
        assert_eq!(&x[4..6], &[f32::MIN_POSITIVE, -0.25]);
        assert!(x[6].is_nan() && x[7] == f32::INFINITY);

        let shared = MeterShared::default();
        let mut m = AudioMeters::new(2, 48_000);
        let tiny: Vec<f32> = (0..4800)
            .map(|i| f32::MIN_POSITIVE * ((i % 17) as f32 / 17.0 - 0.5))
            .collect();
        m.process(&[&tiny[..], &tiny[..]], tiny.len(), &shared);
        let r = take_reading(&shared);
        assert_eq!(r.sample_peak_dbfs, f32::NEG_INFINITY, "{r:?}");
        assert_eq!(r.true_peak_dbtp, f32::NEG_INFINITY, "{r:?}");
        assert_eq!(r.momentary_lufs, f32::NEG_INFINITY, "{r:?}");
    }

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
