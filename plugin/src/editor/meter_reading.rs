//! The GUI's side of the live meters: taking readings from [`MeterShared`] once per frame, and
//! the true-peak display, the reader's half of the hand-over [`TruePeakCell`] describes (the
//! audio thread's half is [`crate::meters::AudioMeters`]).
//!
//! GUI thread only (and tests): everything here is lock-free and never blocks the audio thread.

use std::sync::atomic::Ordering;

use analyzer_core::meter::gating::gated_loudness_range_lu;
use analyzer_core::meter::{gated_loudness_lufs, lufs_to_energy};

use crate::shared::{LoudnessBlock, MeterShared, TruePeakCell};

/// Bottom of the editor's meter scale, dBFS; the bars rest 1 dB below it.
pub const METER_FLOOR_DB: f32 = -60.0;
/// How fast the editor's peak bars fall, dB per second.
pub const RELEASE_DB_PER_S: f32 = 20.0;

/// Where a level sits on the editor's meter scale: 0 at [`METER_FLOOR_DB`], 1 at 0 dB.
///
/// Two linear segments: the top [`SCALE_KNEE_DB`] dB (where peaks, ceilings and limiting
/// happen) get [`SCALE_KNEE_FRACTION`] of the height, the 40 dB below the rest; a linear dB
/// scale gave the top 6 dB a tenth of the bar. Values outside the scale are clamped.
pub fn meter_scale_fraction(db: f32) -> f32 {
    if db.is_nan() {
        return 0.0;
    }
    let db = db.clamp(METER_FLOOR_DB, 0.0);
    let below = 1.0 - SCALE_KNEE_FRACTION;
    if db >= SCALE_KNEE_DB {
        below + SCALE_KNEE_FRACTION * (db - SCALE_KNEE_DB) / -SCALE_KNEE_DB
    } else {
        below * (db - METER_FLOOR_DB) / (SCALE_KNEE_DB - METER_FLOOR_DB)
    }
}

/// The level below which the meter scale is compressed, dBFS.
pub const SCALE_KNEE_DB: f32 = -20.0;
/// Share of the meter's height above [`SCALE_KNEE_DB`].
pub const SCALE_KNEE_FRACTION: f32 = 0.75;

/// The programme statistics the editor shows, kept on the GUI thread from the audio thread's
/// 100 ms [`LoudnessBlock`]s: integrated loudness (BS.1770-4, exact gating over the block
/// list), loudness range (EBU Tech 3342), maximum momentary and short-term loudness, and the
/// short-term history. Everything since the last reset.
#[derive(Debug, Clone, Default)]
pub struct LoudnessStats {
    /// Energies of the gating blocks (momentary windows every 100 ms).
    gating_energies: Vec<f64>,
    /// Energies of the short-term values for the loudness range.
    lra_energies: Vec<f64>,
    max_momentary_lufs: Option<f32>,
    max_short_term_lufs: Option<f32>,
    /// Short-term loudness of every step since reset (the history graph), LUFS.
    history: Vec<f32>,
    /// Cached results, recomputed when blocks arrived since.
    integrated: Option<Option<f64>>,
    lra: Option<Option<f64>>,
}

impl LoudnessStats {
    /// Takes one block from the audio thread.
    pub fn add(&mut self, block: LoudnessBlock) {
        match block {
            LoudnessBlock::Reset => self.reset(),
            LoudnessBlock::Step {
                momentary_lufs,
                short_term_lufs,
                gating_block,
                lra_value,
            } => {
                if gating_block {
                    self.gating_energies
                        .push(lufs_to_energy(f64::from(momentary_lufs)));
                    self.max_momentary_lufs = Some(
                        self.max_momentary_lufs
                            .map_or(momentary_lufs, |m| m.max(momentary_lufs)),
                    );
                    self.integrated = None;
                }
                if lra_value {
                    self.lra_energies
                        .push(lufs_to_energy(f64::from(short_term_lufs)));
                    self.max_short_term_lufs = Some(
                        self.max_short_term_lufs
                            .map_or(short_term_lufs, |m| m.max(short_term_lufs)),
                    );
                    self.lra = None;
                }
                self.history.push(short_term_lufs);
            }
        }
    }

    /// Forgets everything (the reset button or the `meter_reset` parameter).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Integrated loudness since reset, LUFS; `None` until a gating block passed the gates.
    pub fn integrated_lufs(&mut self) -> Option<f64> {
        let blocks = &self.gating_energies;
        *self
            .integrated
            .get_or_insert_with(|| gated_loudness_lufs(blocks))
    }

    /// Loudness range since reset (EBU Tech 3342: short-term values every 100 ms, absolute
    /// gate, relative gate 20 LU below their mean, 95th minus 10th percentile, nearest rank as
    /// analyzer-core and libebur128 take them), LU; `None` until a value passed the gates.
    pub fn loudness_range_lu(&mut self) -> Option<f64> {
        let values = &self.lra_energies;
        *self
            .lra
            .get_or_insert_with(|| gated_loudness_range_lu(values))
    }

    /// Highest momentary loudness (of the gating blocks) since reset, LUFS.
    pub fn max_momentary_lufs(&self) -> Option<f32> {
        self.max_momentary_lufs
    }

    /// Highest short-term loudness (full 3 s windows) since reset, LUFS.
    pub fn max_short_term_lufs(&self) -> Option<f32> {
        self.max_short_term_lufs
    }

    /// Short-term loudness of each 100 ms step since reset, oldest first.
    pub fn history(&self) -> &[f32] {
        &self.history
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
    analyzer_core::units::amp_to_db_f32(linear)
}

/// Takes the peaks held since the last read (clearing them) and the current loudness: the
/// sample and true peaks are exact peaks since the previous `take_reading` (a block racing the
/// read is counted in the next one). Not to be mixed with a [`TruePeakDisplay`] on the same
/// meters.
pub fn take_reading(shared: &MeterShared) -> MeterReading {
    let taken = shared.true_peak.swap(
        TruePeakCell::Read {
            floor: 0.0,
            generation: 0,
        }
        .pack(),
        Ordering::SeqCst,
    );
    let true_peak = match TruePeakCell::unpack(taken) {
        TruePeakCell::Peak { peak, .. } => peak,
        TruePeakCell::Read { .. } => 0.0,
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
/// which the next stretch's peak cannot change either ([`TruePeakCell`]). Owns the reader's
/// side of the cell: one per [`MeterShared`], GUI thread only.
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
    a.wrapping_sub(b) & TruePeakCell::GENERATION_MASK < 1 << 30
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
        self.max_from_gen = self.generation.wrapping_add(1) & TruePeakCell::GENERATION_MASK;
    }

    /// The floor of marker `generation`, dB and linear, if still remembered.
    fn floor_of(&self, generation: u32) -> Option<(f32, f32)> {
        let age = self.generation.wrapping_sub(generation) & TruePeakCell::GENERATION_MASK;
        ((age as usize) < FLOOR_HISTORY).then(|| {
            let i = generation as usize % FLOOR_HISTORY;
            (self.floors_db[i], self.floors[i])
        })
    }

    /// Highest floor (dB) of the generations from `from` to the last marker, or +inf when that
    /// reaches further back than the history.
    fn highest_floor_db_since(&self, from: u32) -> f32 {
        let span = self.generation.wrapping_sub(from) & TruePeakCell::GENERATION_MASK;
        if span as usize >= FLOOR_HISTORY {
            return f32::INFINITY;
        }
        (0..=span)
            .map(|k| {
                self.floors_db[(from.wrapping_add(k) & TruePeakCell::GENERATION_MASK) as usize
                    % FLOOR_HISTORY]
            })
            .fold(f32::NEG_INFINITY, f32::max)
    }

    /// One GUI frame, `dt_s` after the previous one: takes the true peak and updates the bar and
    /// the max. Lock-free (two swaps and a load); never blocks the audio thread.
    pub fn update(&mut self, shared: &MeterShared, dt_s: f32) {
        self.take(shared, dt_s, true);
    }

    /// The first frame after the editor (re)opened: the peak held since the last frame (the
    /// whole time the editor was closed) counts for the max, but the bar starts at rest: a
    /// bar showing it would be a stale peak falling from where it was minutes ago.
    pub fn resume(&mut self, shared: &MeterShared) {
        self.bar_db = METER_FLOOR_DB - 1.0;
        self.take(shared, 0.0, false);
    }

    fn take(&mut self, shared: &MeterShared, dt_s: f32, to_bar: bool) {
        let fall = RELEASE_DB_PER_S * dt_s.max(0.0);
        // Below this, a peak cannot raise the bar next frame (it falls to at least
        // bar - fall - margin, or the bar is held above it) nor the max.
        let margin = (1.5 * fall).max(MIN_MARGIN_DB);
        let floor_db = (self.bar_db - fall - margin)
            .max(METER_FLOOR_DB - 1.0)
            .min(self.max_db);
        // A hair below the dB value, so that a peak at or below it is below it in dB too.
        let floor = if floor_db > -1000.0 {
            analyzer_core::units::db_to_amp_f32(floor_db) * (1.0 - 1e-5)
        } else {
            0.0
        };
        self.generation = self.generation.wrapping_add(1) & TruePeakCell::GENERATION_MASK;
        self.floors[self.generation as usize % FLOOR_HISTORY] = floor;
        self.floors_db[self.generation as usize % FLOOR_HISTORY] = floor_db;
        let marker = TruePeakCell::Read {
            floor,
            generation: self.generation,
        }
        .pack();
        let first = TruePeakCell::unpack(shared.true_peak.swap(marker, Ordering::SeqCst));
        let in_block = shared.audio_blocks.load(Ordering::SeqCst) % 2 == 1;
        // No block running: one that raced the swap has published by now (replacing the
        // marker); take that too, so nothing is left under an old floor.
        let second = if in_block {
            None
        } else {
            Some(TruePeakCell::unpack(
                shared.true_peak.swap(marker, Ordering::SeqCst),
            ))
        };
        let mut oldest = self.in_flight_from;
        let mut first_data = true;
        let mut peak_db = f32::NEG_INFINITY;
        let mut max_db = f32::NEG_INFINITY;
        for cell in [Some(first), second].into_iter().flatten() {
            let TruePeakCell::Peak { peak, generation } = cell else {
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
            (false, Some(TruePeakCell::Peak { generation, .. })) => generation,
            (false, _) => self.generation,
        };
        // The bar never falls below the floor of a generation whose peak arrived this frame or
        // may still arrive (the peaks are exact only above it); it would rather fall slower.
        let hold_db = self.highest_floor_db_since(oldest).min(self.bar_db);
        let peak_db = if to_bar { peak_db } else { f32::NEG_INFINITY };
        self.bar_db = (self.bar_db - fall)
            .max(hold_db)
            .max(peak_db)
            .max(METER_FLOOR_DB - 1.0);
        self.max_db = self.max_db.max(max_db);
    }
}

#[cfg(test)]
mod tests {
    use analyzer_core::meter::TruePeak;

    use super::*;
    use crate::meters::{AudioMeters, METER_CHUNK_FRAMES};

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

    /// The GUI's programme statistics, from the audio thread's 100 ms blocks, agree with
    /// analyzer-core's own streaming meter on the same audio (integrated loudness to 0.01 LU,
    /// its histogram's resolution; loudness range to 0.05 LU; the maxima exactly), whatever
    /// the host's block sizes.
    #[test]
    fn loudness_stats_agree_with_the_analyzer() {
        let x = programme(48_000 * 12, 5);
        let mut reference = analyzer_core::meter::Loudness::new(2, 48_000);
        let inter: Vec<f32> = (0..x[0].len()).flat_map(|i| [x[0][i], x[1][i]]).collect();
        reference.process(&inter);
        for block in [64usize, 1000, 4096] {
            let shared = MeterShared::default();
            let mut m = AudioMeters::new(2, 48_000);
            let mut feed = m.loudness_feed();
            let mut stats = LoudnessStats::default();
            for start in (0..x[0].len()).step_by(block) {
                let end = (start + block).min(x[0].len());
                m.process(
                    &[&x[0][start..end], &x[1][start..end]],
                    end - start,
                    &shared,
                );
                while let Ok(b) = feed.pop() {
                    stats.add(b);
                }
            }
            let integrated = stats.integrated_lufs().unwrap();
            assert!(
                (integrated - reference.integrated_lufs()).abs() < 0.01,
                "block {block}: {integrated} vs {}",
                reference.integrated_lufs()
            );
            let lra = stats.loudness_range_lu().unwrap();
            let expected = reference.loudness_range_lu().unwrap();
            assert!(
                lra > 0.1 && (lra - expected).abs() < 0.05,
                "{lra} vs {expected}"
            );
            let close = |a: Option<f32>, b: f64| (f64::from(a.unwrap()) - b).abs() < 1e-3;
            assert!(close(
                stats.max_momentary_lufs(),
                reference.max_momentary_lufs()
            ));
            assert!(close(
                stats.max_short_term_lufs(),
                reference.max_short_term_lufs()
            ));
            assert_eq!(stats.history().len(), x[0].len() / 4800);
        }
    }

    /// At a low sample rate a 1024-frame chunk spans several 100 ms steps; none is lost, and a
    /// reset marker restarts the statistics at its place in the stream.
    #[test]
    fn every_loudness_step_arrives_and_reset_restarts_the_statistics() {
        let rate = 8_000;
        let shared = MeterShared::default();
        let mut m = AudioMeters::new(1, rate);
        let mut feed = m.loudness_feed();
        let loud: Vec<f32> = (0..rate as usize * 5)
            .map(|i| 0.5 * (i as f32 * 0.3).sin())
            .collect();
        let quiet: Vec<f32> = loud.iter().map(|v| v * 0.1).collect();
        m.process(&[&loud[..]], loud.len(), &shared);
        m.set_reset_param(true, &shared);
        m.set_reset_param(true, &shared);
        m.process(&[&quiet[..]], quiet.len(), &shared);
        let mut stats = LoudnessStats::default();
        let mut steps = 0;
        while let Ok(b) = feed.pop() {
            steps += usize::from(matches!(b, LoudnessBlock::Step { .. }));
            stats.add(b);
        }
        assert_eq!(steps, 2 * loud.len() / 800);
        assert_eq!(shared.reset_requests.load(Ordering::Relaxed), 1);
        // Only the quiet half counts: 20 dB below the loud one.
        let mut loud_only = LoudnessStats::default();
        let mut m2 = AudioMeters::new(1, rate);
        let mut feed2 = m2.loudness_feed();
        m2.process(&[&loud[..]], loud.len(), &shared);
        while let Ok(b) = feed2.pop() {
            loud_only.add(b);
        }
        let drop_lu = loud_only.integrated_lufs().unwrap() - stats.integrated_lufs().unwrap();
        assert!((drop_lu - 20.0).abs() < 0.1, "{drop_lu}");
        assert!(
            stats.max_momentary_lufs().unwrap() < loud_only.max_momentary_lufs().unwrap() - 19.0
        );
    }

    #[test]
    fn meter_scale_gives_the_top_20_db_most_of_the_height() {
        assert_eq!(meter_scale_fraction(0.0), 1.0);
        assert_eq!(meter_scale_fraction(METER_FLOOR_DB), 0.0);
        assert_eq!(meter_scale_fraction(f32::NEG_INFINITY), 0.0);
        assert_eq!(meter_scale_fraction(3.0), 1.0);
        assert!((meter_scale_fraction(-20.0) - (1.0 - SCALE_KNEE_FRACTION)).abs() < 1e-6);
        // The top 6 dB get 22.5 % of the height (a linear -60..0 scale gave them 10 %).
        assert!(meter_scale_fraction(0.0) - meter_scale_fraction(-6.0) > 0.22);
        let mut last = -1.0;
        for i in 0..=700 {
            let f = meter_scale_fraction(-65.0 + i as f32 * 0.1);
            assert!(f >= last);
            last = f;
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
