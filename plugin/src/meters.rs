//! The audio-thread side of the live meters, on analyzer-core's streaming meters, and the GUI's
//! reading of them.
//!
//! Sample peak, true peak (ITU-R BS.1770-4 Annex 2, 4x oversampled below 96 kHz) and momentary /
//! short-term loudness (EBU R128, Tech 3341) are measured on every block whether the editor is
//! open or not (they are cheap, and the clip latch must not miss anything). The sample peak is
//! handed to the GUI as "highest since the last read" (see [`crate::shared::MeterShared`]).
//!
//! # The true peak hand-over
//!
//! The true-peak meter skips the 4x interpolation of every window that cannot beat the peak it
//! already holds since the last take (analyzer-core, exact). A GUI that took "the peak since the
//! last frame" at 60 Hz restarted that hold at 0 every 800 frames, and most windows were then
//! interpolated (the meters cost 1.6x with the editor open). But the editor does not need every
//! frame's peak: only one that can change what it shows, the decaying true-peak bar (released
//! at [`RELEASE_DB_PER_S`], resting at [`METER_FLOOR_DB`] - 1) and the highest true peak since
//! its reset (the headroom readout). So the reader says, with each take, below which level the
//! next stretch's peak cannot matter - the floor - and the audio thread restarts its hold at that
//! floor ([`TruePeak::take_max_peak_above`]) instead of 0:
//!
//! - One 64-bit cell ([`crate::shared::MeterShared::true_peak`]) holds either the audio thread's
//!   `Peak { peak, generation }` (the true peak since it last restarted under marker `generation`: exact when
//!   above that marker's floor, else "at most the floor") or the reader's `Read { floor, generation }`
//!   marker, swapped in when it takes the value. At the start of each block the audio thread
//!   restarts at the floor of a marker it finds; at the end it publishes with a compare-exchange.
//!   If the reader took the value during the block, the exchange fails and the block's peak
//!   replaces the marker, still under the old generation, and later blocks go on accumulating
//!   under the old floor until the next take: a peak is at worst shown one frame late.
//! - [`TruePeakDisplay`] (the GUI) picks the floor `margin` below where its bar will fall to by
//!   the next frame (and never above the max since reset), so a value at or below the floor
//!   cannot raise either display. A peak that arrives under an older floor (a block that raced a
//!   take, or a frame that came later than the margin allows) is still exact above that floor,
//!   because the bar is held from falling below the floor of any generation whose peak may still
//!   arrive: the bar then falls slower for that frame, it never drops a peak. Whether a block may
//!   still be running under an old floor, it learns from
//!   [`crate::shared::MeterShared::audio_blocks`] (odd during a block; sequentially consistent
//!   with the cell, so either the block saw the new marker or the GUI sees it running).
//!
//! [`take_reading`] is the simple reader (floor 0 on every take: the exact peak since the last
//! read, as before).

use std::sync::atomic::Ordering;

use analyzer_core::meter::{Loudness, SamplePeak, TruePeak};

use crate::shared::{MeterShared, raise_f32};

/// Frames interleaved at a time; the scratch buffer is this many frames (allocated once).
pub const METER_CHUNK_FRAMES: usize = 1024;
/// Bottom of the editor's meter scale, dBFS; the bars rest 1 dB below it.
pub const METER_FLOOR_DB: f32 = -60.0;
/// How fast the editor's peak bars fall, dB per second.
pub const RELEASE_DB_PER_S: f32 = 20.0;

/// Set in the low word of the true-peak cell when the reader wrote it.
const READ_FLAG: u32 = 1 << 31;
/// Generations count modulo 2^31.
const GEN_MASK: u32 = READ_FLAG - 1;
/// The cell before anything happened: a `Read` marker with floor 0, generation 0.
pub const TRUE_PEAK_CELL_INITIAL: u64 = READ_FLAG as u64;

/// What the true-peak cell holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TpCell {
    /// Written by the audio thread: the true peak since it restarted under marker `generation`; exact
    /// when above that marker's floor, else at most that floor.
    Peak { peak: f32, generation: u32 },
    /// Written by the reader when it took the value: restart at `floor`.
    Read { floor: f32, generation: u32 },
}

impl TpCell {
    fn pack(self) -> u64 {
        let (value, low) = match self {
            TpCell::Peak { peak, generation } => (peak, generation & GEN_MASK),
            TpCell::Read { floor, generation } => (floor, (generation & GEN_MASK) | READ_FLAG),
        };
        (u64::from(value.to_bits()) << 32) | u64::from(low)
    }

    fn unpack(word: u64) -> Self {
        let value = f32::from_bits((word >> 32) as u32);
        let low = word as u32;
        if low & READ_FLAG != 0 {
            TpCell::Read {
                floor: value,
                generation: low & GEN_MASK,
            }
        } else {
            TpCell::Peak {
                peak: value,
                generation: low,
            }
        }
    }
}

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
    fn process_with<S: AsRef<[f32]>>(
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
        let generation = match TpCell::unpack(cell) {
            TpCell::Read { floor, generation } => {
                self.true_peak.take_max_peak_above(floor);
                generation
            }
            // Fresh meters hold nothing yet, so they are exact above any floor: they carry on
            // under the generation they find.
            TpCell::Peak { generation, .. } => self.true_peak_gen.unwrap_or(generation),
        };
        self.true_peak_gen = Some(generation);
        self.meter(channels, frames, out);
        during();
        let value = TpCell::Peak {
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
                        // `src` first: a zip that ends on it takes no element of `dst`.
                        for (&x, d) in src.iter().zip(dst.by_ref()) {
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

/// Takes the peaks held since the last read (clearing them) and the current loudness: the
/// sample and true peaks are exact peaks since the previous `take_reading` (a block racing the
/// read is counted in the next one). Not to be mixed with a [`TruePeakDisplay`] on the same
/// meters.
pub fn take_reading(shared: &MeterShared) -> MeterReading {
    let taken = shared.true_peak.swap(
        TpCell::Read {
            floor: 0.0,
            generation: 0,
        }
        .pack(),
        Ordering::SeqCst,
    );
    let true_peak = match TpCell::unpack(taken) {
        TpCell::Peak { peak, .. } => peak,
        TpCell::Read { .. } => 0.0,
    };
    MeterReading {
        true_peak_dbtp: to_db(true_peak),
        ..take_levels(shared)
    }
}

/// Everything but the true peak: the sample peak since the last read (cleared), loudness, clip
/// latch, non-finite count; `true_peak_dbtp` is -inf (the editor has a [`TruePeakDisplay`]).
pub fn take_levels(shared: &MeterShared) -> MeterReading {
    MeterReading {
        sample_peak_dbfs: to_db(shared.sample_peak_linear.swap(0.0, Ordering::Relaxed)),
        true_peak_dbtp: f32::NEG_INFINITY,
        momentary_lufs: shared.momentary_lufs.load(Ordering::Relaxed),
        short_term_lufs: shared.short_term_lufs.load(Ordering::Relaxed),
        clip_latched: shared.clip_latched.load(Ordering::Relaxed),
        non_finite_samples: shared.non_finite_samples.load(Ordering::Relaxed),
    }
}

/// Floors remembered for generations whose peak may still arrive; a block running longer than
/// this many GUI frames makes the bar hold until it publishes.
const FLOOR_HISTORY: usize = 64;
/// Smallest distance of the floor below the next frame's bar, dB (a 60 Hz frame falls 0.33 dB).
const MIN_MARGIN_DB: f32 = 1.0;

/// The editor's true-peak display: a bar with instant attack and [`RELEASE_DB_PER_S`] release
/// resting at [`METER_FLOOR_DB`] - 1, and the highest true peak since [`reset_max`]
/// (headroom). Takes the audio thread's true peak once per frame, leaving it the floor below
/// which the next stretch's peak cannot change either (module docs). Owns the reader's side of
/// the cell: one per [`MeterShared`], GUI thread only.
///
/// [`reset_max`]: Self::reset_max
#[derive(Debug, Clone)]
pub struct TruePeakDisplay {
    bar_db: f32,
    max_db: f32,
    /// Generation of the last marker written.
    generation: u32,
    /// The oldest generation whose peak may still arrive.
    in_flight_from: u32,
    /// Floor of marker `g` at `g % FLOOR_HISTORY`, linear (as sent) and dB.
    floors: [f32; FLOOR_HISTORY],
    floors_db: [f32; FLOOR_HISTORY],
    /// Peaks under generations before this one are older than the last [`Self::reset_max`].
    max_from_gen: u32,
}

impl Default for TruePeakDisplay {
    fn default() -> Self {
        Self::new()
    }
}

/// `a` is `b` or later, for generations modulo 2^31 that are less than 2^30 apart.
fn gen_at_or_after(a: u32, b: u32) -> bool {
    a.wrapping_sub(b) & GEN_MASK < 1 << 30
}

impl TruePeakDisplay {
    pub fn new() -> Self {
        Self {
            bar_db: METER_FLOOR_DB - 1.0,
            max_db: f32::NEG_INFINITY,
            generation: 0,
            in_flight_from: 0,
            // Generation 0 is the cell's initial marker, floor 0.
            floors: [0.0; FLOOR_HISTORY],
            floors_db: [f32::NEG_INFINITY; FLOOR_HISTORY],
            max_from_gen: 0,
        }
    }

    /// The bar, dBTP (at rest [`METER_FLOOR_DB`] - 1).
    pub fn bar_db(&self) -> f32 {
        self.bar_db
    }

    /// Highest true peak since the last [`reset_max`](Self::reset_max), dBTP (-inf: none).
    pub fn max_db(&self) -> f32 {
        self.max_db
    }

    /// Forgets the max; it restarts with the audio metered in blocks that begin after the next
    /// frame's take (a block in flight belongs to before the reset).
    pub fn reset_max(&mut self) {
        self.max_db = f32::NEG_INFINITY;
        self.max_from_gen = self.generation.wrapping_add(1) & GEN_MASK;
    }

    /// The floor of marker `generation`, dB and linear, if still remembered.
    fn floor_of(&self, generation: u32) -> Option<(f32, f32)> {
        let age = self.generation.wrapping_sub(generation) & GEN_MASK;
        ((age as usize) < FLOOR_HISTORY).then(|| {
            let i = generation as usize % FLOOR_HISTORY;
            (self.floors_db[i], self.floors[i])
        })
    }

    /// Highest floor (dB) of the generations from `from` to the last marker, or +inf when that
    /// reaches further back than the history.
    fn highest_floor_db_since(&self, from: u32) -> f32 {
        let span = self.generation.wrapping_sub(from) & GEN_MASK;
        if span as usize >= FLOOR_HISTORY {
            return f32::INFINITY;
        }
        (0..=span)
            .map(|k| self.floors_db[(from.wrapping_add(k) & GEN_MASK) as usize % FLOOR_HISTORY])
            .fold(f32::NEG_INFINITY, f32::max)
    }

    /// One GUI frame, `dt_s` after the previous one: takes the true peak and updates the bar and
    /// the max. Lock-free (two swaps and a load); never blocks the audio thread.
    pub fn update(&mut self, shared: &MeterShared, dt_s: f32) {
        let fall = RELEASE_DB_PER_S * dt_s.max(0.0);
        // Below this, a peak cannot raise the bar next frame (it falls to at least
        // bar - fall - margin, or the bar is held above it) nor the max.
        let margin = (1.5 * fall).max(MIN_MARGIN_DB);
        let floor_db = (self.bar_db - fall - margin)
            .max(METER_FLOOR_DB - 1.0)
            .min(self.max_db);
        // A hair below the dB value, so that a peak at or below it is below it in dB too.
        let floor = if floor_db > -1000.0 {
            10f32.powf(floor_db / 20.0) * (1.0 - 1e-5)
        } else {
            0.0
        };
        self.generation = self.generation.wrapping_add(1) & GEN_MASK;
        self.floors[self.generation as usize % FLOOR_HISTORY] = floor;
        self.floors_db[self.generation as usize % FLOOR_HISTORY] = floor_db;
        let marker = TpCell::Read {
            floor,
            generation: self.generation,
        }
        .pack();
        let first = TpCell::unpack(shared.true_peak.swap(marker, Ordering::SeqCst));
        let in_block = shared.audio_blocks.load(Ordering::SeqCst) % 2 == 1;
        // No block running: one that raced the swap has published by now (replacing the
        // marker); take that too, so nothing is left under an old floor.
        let second = if in_block {
            None
        } else {
            Some(TpCell::unpack(
                shared.true_peak.swap(marker, Ordering::SeqCst),
            ))
        };
        let mut oldest = self.in_flight_from;
        let mut first_data = true;
        let mut peak_db = f32::NEG_INFINITY;
        let mut max_db = f32::NEG_INFINITY;
        for cell in [Some(first), second].into_iter().flatten() {
            let TpCell::Peak { peak, generation } = cell else {
                continue;
            };
            if first_data {
                oldest = generation;
                first_data = false;
            }
            // At or below its floor, a value only says "nothing above the floor" (which can
            // change neither display); above it, it is exact.
            if self.floor_of(generation).is_some_and(|(_, f)| peak <= f) {
                continue;
            }
            let db = to_db(peak);
            peak_db = peak_db.max(db);
            if gen_at_or_after(generation, self.max_from_gen) {
                max_db = max_db.max(db);
            }
        }
        // Generations whose peak may still come: a running block's (no older than the first
        // peak taken, or the oldest still in flight), or, when no block runs, the one a block
        // that starts now finds: the marker, or a racing block's peak it goes on from.
        self.in_flight_from = match (in_block, second) {
            (true, _) => oldest,
            (false, Some(TpCell::Peak { generation, .. })) => generation,
            (false, _) => self.generation,
        };
        // The bar never falls below the floor of a generation whose peak arrived this frame or
        // may still arrive (the peaks are exact only above it); it would rather fall slower.
        let hold_db = self.highest_floor_db_since(oldest).min(self.bar_db);
        self.bar_db = (self.bar_db - fall)
            .max(hold_db)
            .max(peak_db)
            .max(METER_FLOOR_DB - 1.0);
        self.max_db = self.max_db.max(max_db);
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

    /// A stereo programme with loud bursts, quiet stretches and a moving level.
    fn programme(frames: usize, seed: u64) -> [Vec<f32>; 2] {
        let mut state = seed | 1;
        let mut l = Vec::with_capacity(frames);
        let mut r = Vec::with_capacity(frames);
        for i in 0..frames {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            let t = i as f32 / 48_000.0;
            let level = match (i / 3_000) % 7 {
                0 => 0.9,
                3 => 0.002,
                5 => 0.3,
                _ => 0.05 + 0.05 * (t * 3.0).sin(),
            };
            let s = (std::f32::consts::TAU * 9_000.0 * t).sin();
            l.push(level * (0.7 * s + 0.6 * n));
            r.push(level * (0.5 * s - 0.8 * n));
        }
        [l, r]
    }

    /// Feeds a reference true-peak meter exactly what `AudioMeters` feeds its own (interleaved
    /// chunks of at most `METER_CHUNK_FRAMES`), so both compute bit-identical window values.
    fn feed_reference(tp: &mut TruePeak, x: &[Vec<f32>; 2], start: usize, end: usize) {
        let mut offset = start;
        while offset < end {
            let n = METER_CHUNK_FRAMES.min(end - offset);
            let inter: Vec<f32> = (offset..offset + n)
                .flat_map(|i| [x[0][i], x[1][i]])
                .collect();
            tp.process(&inter);
            offset += n;
        }
    }

    /// The nominal display: exact peaks per frame, bar with instant attack and fixed release.
    struct Nominal {
        bar_db: f32,
        max_db: f32,
    }

    impl Nominal {
        fn new() -> Self {
            Self {
                bar_db: METER_FLOOR_DB - 1.0,
                max_db: f32::NEG_INFINITY,
            }
        }
        fn frame(&mut self, peak: f32, dt_s: f32) {
            let fall = RELEASE_DB_PER_S * dt_s;
            self.bar_db = (self.bar_db - fall)
                .max(to_db(peak))
                .max(METER_FLOOR_DB - 1.0);
            self.max_db = self.max_db.max(to_db(peak));
        }
    }

    /// Between blocks (no race), with a steady frame rate the display is exactly the nominal
    /// bar and max computed from exact per-frame true peaks, for any block size and frame rate;
    /// with an irregular frame rate the max stays exact and the bar never drops below nominal.
    #[test]
    fn true_peak_display_is_exact_where_it_shows_anything() {
        let x = programme(96_000, 99);
        let steady = [1.0f32 / 60.0];
        let irregular = [1.0f32 / 60.0, 0.2, 0.004, 1.0 / 30.0, 0.5, 0.0, 1.0 / 144.0];
        for block in [64usize, 500, 4096] {
            for (dts, frames_per_gui) in [
                (&steady[..], 800usize),
                (&steady[..], 333),
                (&irregular[..], 800),
            ] {
                let shared = MeterShared::default();
                let mut m = AudioMeters::new(2, 48_000);
                let mut display = TruePeakDisplay::new();
                let mut reference = TruePeak::new(2, 48_000);
                let mut nominal = Nominal::new();
                let mut frame = 0;
                let mut shown_below = 0;
                for start in (0..x[0].len()).step_by(block) {
                    let end = (start + block).min(x[0].len());
                    m.process(
                        &[&x[0][start..end], &x[1][start..end]],
                        end - start,
                        &shared,
                    );
                    feed_reference(&mut reference, &x, start, end);
                    // Every GUI frame whose time has come by the end of this block.
                    while (frame + 1) * frames_per_gui <= end {
                        let dt = dts[frame % dts.len()];
                        display.update(&shared, dt);
                        nominal.frame(reference.take_max_peak(), dt);
                        assert_eq!(
                            display.max_db(),
                            nominal.max_db,
                            "block {block} frame {frame}"
                        );
                        if dts.len() == 1 {
                            assert_eq!(
                                display.bar_db(),
                                nominal.bar_db,
                                "block {block} frame {frame}"
                            );
                        } else {
                            assert!(
                                display.bar_db() >= nominal.bar_db,
                                "block {block} frame {frame}"
                            );
                            shown_below += usize::from(display.bar_db() > nominal.bar_db);
                        }
                        frame += 1;
                    }
                }
                assert!(frame > 50);
                assert_eq!(shown_below > 0, dts.len() > 1, "block {block}");
            }
        }
    }

    /// Takes racing blocks (the GUI takes the value while a block is being metered, once or
    /// several times): the block's peak shows one frame late, never lost; the max is exact.
    #[test]
    fn a_take_racing_a_block_loses_no_peak() {
        let x = programme(96_000, 7);
        let dt = 1.0f32 / 60.0;
        for block in [64usize, 512, 4096] {
            for takes_during in [1usize, 2, 5] {
                let shared = MeterShared::default();
                let mut m = AudioMeters::new(2, 48_000);
                let mut display = TruePeakDisplay::new();
                let mut reference = TruePeak::new(2, 48_000);
                // Peaks published so far and not yet taken, in the nominal display's view: a
                // racing block's peak belongs to the first take after it.
                let mut nominal = Nominal::new();
                let mut pending = 0f32;
                let mut frames = 0;
                for (i, start) in (0..x[0].len()).step_by(block).enumerate() {
                    let end = (start + block).min(x[0].len());
                    let blk = [&x[0][start..end], &x[1][start..end]];
                    let race = i % 3 == 1;
                    let mut during_takes = 0;
                    if race {
                        m.process_with(&blk, end - start, &shared, || {
                            for _ in 0..takes_during {
                                display.update(&shared, dt);
                                during_takes += 1;
                            }
                        });
                    } else {
                        m.process(&blk, end - start, &shared);
                    }
                    for _ in 0..during_takes {
                        nominal.frame(std::mem::take(&mut pending), dt);
                        frames += 1;
                    }
                    if during_takes > 0 {
                        // A take during a block cannot see it yet; the max is exact.
                        assert_eq!(display.max_db(), nominal.max_db, "block {block} race {i}");
                        assert!(
                            display.bar_db() >= nominal.bar_db,
                            "block {block} race {i}: {} < {}",
                            display.bar_db(),
                            nominal.bar_db
                        );
                    }
                    feed_reference(&mut reference, &x, start, end);
                    pending = pending.max(reference.take_max_peak());
                    if i % 3 != 2 {
                        display.update(&shared, dt);
                        nominal.frame(std::mem::take(&mut pending), dt);
                        frames += 1;
                        assert_eq!(display.max_db(), nominal.max_db, "block {block} frame {i}");
                        assert!(
                            display.bar_db() >= nominal.bar_db,
                            "block {block} frame {i}: {} < {}",
                            display.bar_db(),
                            nominal.bar_db
                        );
                        if takes_during == 1 {
                            // One take per race at a steady rate: the floors' margin covers it,
                            // the bar is exactly the nominal one.
                            assert_eq!(display.bar_db(), nominal.bar_db, "block {block} frame {i}");
                        }
                    }
                }
                assert!(frames > 20);
                let expected = to_db(reference.max_peak());
                assert_eq!(display.max_db(), expected);
            }
        }
    }

    /// The click reset: the max restarts with the blocks after the next take; the peaks under
    /// the old floor are not counted, the ones after exactly.
    #[test]
    fn max_reset_restarts_exactly() {
        let x = programme(48_000, 3);
        let shared = MeterShared::default();
        let mut m = AudioMeters::new(2, 48_000);
        let mut display = TruePeakDisplay::new();
        let mut reference = TruePeak::new(2, 48_000);
        let block = 512;
        let mut after_reset = f32::NEG_INFINITY;
        let mut reset_at = None;
        for (i, start) in (0..x[0].len()).step_by(block).enumerate() {
            let end = (start + block).min(x[0].len());
            m.process(
                &[&x[0][start..end], &x[1][start..end]],
                end - start,
                &shared,
            );
            feed_reference(&mut reference, &x, start, end);
            let p = to_db(reference.take_max_peak());
            if reset_at.is_some_and(|r| i > r) {
                after_reset = after_reset.max(p);
            }
            display.update(&shared, 1.0 / 60.0);
            if reset_at.is_some_and(|r| i > r) {
                assert_eq!(display.max_db(), after_reset, "block {i}");
            }
            if i == 20 {
                // Clicked after this frame's take: the next take still delivers blocks metered
                // under the old floor (block 21), which the reset excludes.
                display.reset_max();
                reset_at = Some(i + 1);
                assert_eq!(display.max_db(), f32::NEG_INFINITY);
            }
        }
        assert!(after_reset.is_finite());
    }

    /// The audio thread and the GUI on two threads, the GUI taking as fast as it can: the max
    /// the display ends with is the programme's true peak, and the bar never rests above it.
    #[test]
    fn concurrent_takes_lose_no_peak() {
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;
        let x = Arc::new(programme(192_000, 11));
        let shared = Arc::new(MeterShared::default());
        let done = Arc::new(AtomicBool::new(false));
        let audio = {
            let (x, shared, done) = (x.clone(), shared.clone(), done.clone());
            std::thread::spawn(move || {
                let mut m = AudioMeters::new(2, 48_000);
                let mut reference = TruePeak::new(2, 48_000);
                let sizes = [64usize, 1, 511, 4096, 33, 2048];
                let mut start = 0;
                let mut i = 0;
                while start < x[0].len() {
                    let end = (start + sizes[i % sizes.len()]).min(x[0].len());
                    m.process(
                        &[&x[0][start..end], &x[1][start..end]],
                        end - start,
                        &shared,
                    );
                    feed_reference(&mut reference, &x, start, end);
                    if i % 7 == 0 {
                        std::thread::yield_now();
                    }
                    start = end;
                    i += 1;
                }
                done.store(true, Ordering::SeqCst);
                reference.max_peak()
            })
        };
        let mut display = TruePeakDisplay::new();
        let mut frames = 0u64;
        while !done.load(Ordering::SeqCst) {
            display.update(&shared, 1.0 / 60.0);
            frames += 1;
        }
        let expected = to_db(audio.join().unwrap());
        display.update(&shared, 1.0 / 60.0);
        assert!(frames > 0);
        assert_eq!(display.max_db(), expected, "after {frames} frames");
        assert!(display.bar_db() <= expected);
    }
}
