//! Dropouts: a stem that falls silent for a moment where the mix has its part (audio lost in
//! the stem's export: a real-time bounce that glitched, a buffer underrun).
//!
//! The streaming pass's 10 ms statistics show it as a few short bursts of residual far above
//! the null the rest of the song reaches, holding most of the residual. Read alone, such a
//! burst is content the stems lack, i.e. a part no stem carries (`missing_element`), which
//! sends the engineer looking for a track that was never missing. In each burst the stem that
//! dropped out holds a run of digital silence while it sounds around it; that run names the
//! stem and the gap, to the sample.

use std::ops::Range;

use super::stream::BlockStats;
use crate::Result;
use crate::cause::{Cause, Dropout, SumImpact};
use crate::source::FrameSource;
use crate::units::power_to_db;

/// A burst block's residual is at least this far (dB) above the song's typical block...
const BURST_RISE_DB: f64 = 20.0;
/// ...and at most this far (dB) under the mix in that block.
const BURST_LEVEL_DB: f64 = -25.0;
/// Blocks of quiet between burst blocks that still make one event.
const MERGE_BLOCKS: usize = 2;
/// The longest event read as a dropout (seconds); longer is a mute or a cut, which the gain
/// and length checks judge.
const MAX_EVENT_S: f64 = 1.0;
/// Burst blocks may be at most this share of the audible blocks.
const MAX_BURST_SHARE: f64 = 0.02;
/// The bursts must hold at least this share of the residual energy.
const MIN_RESIDUAL_SHARE: f64 = 0.5;
/// A sample under this magnitude (about -100 dBFS) is silence.
const SILENT: f32 = 1e-5;
/// The shortest silent run read as a gap (seconds).
const MIN_GAP_S: f64 = 0.003;
/// The stem's level just before and just after a gap is measured over this long (seconds)...
const EDGE_S: f64 = 0.002;
/// ...and is within this many dB of its level around the gap.
const EDGE_DROP_DB: f64 = 20.0;
/// Stem frames read on each side of an event (seconds).
const MARGIN_S: f64 = 0.2;

/// What the dropout search needs.
pub(super) struct DropoutSearch<'a> {
    pub blocks: &'a BlockStats,
    /// Per stem: its offset (stem frame = mix frame + offset) and whether it is active.
    pub offsets: &'a [i64],
    pub active: &'a [bool],
    pub names: &'a [String],
    pub sample_rate: u32,
    /// Mean square under which audio is silence.
    pub floor_mean_square: f64,
    /// What a cause that breaks the sum does to it.
    pub impact: SumImpact,
}

impl DropoutSearch<'_> {
    /// The dropouts found, one cause per stem (none when the residual is not a few short
    /// bursts, or no stem is silent in them).
    ///
    /// # Errors
    /// When a stem cannot be read.
    pub fn run(&self, stems: &mut [Box<dyn FrameSource>]) -> Result<Vec<Cause>> {
        let Some(events) = self.events() else {
            return Ok(Vec::new());
        };
        let b = self.blocks.block_frames.max(1) as u64;
        let e_mix: f64 = self.blocks.mix.iter().map(|&x| f64::from(x)).sum();
        let mut gaps: Vec<Vec<(u64, u64)>> = vec![Vec::new(); stems.len()];
        let mut residual = vec![0.0f64; stems.len()];
        for ev in &events {
            let span = ev.start as u64 * b..ev.end as u64 * b;
            if let Some((i, gap)) = self.silent_stem(stems, &span)? {
                gaps[i].push(gap);
                residual[i] += self.blocks.residual[ev.clone()]
                    .iter()
                    .map(|&x| f64::from(x))
                    .sum::<f64>();
            }
        }
        let sr = f64::from(self.sample_rate.max(1));
        Ok((0..stems.len())
            .filter(|&i| !gaps[i].is_empty())
            .map(|i| {
                Cause::Dropout(Dropout {
                    file: self.names[i].clone(),
                    gaps: gaps[i]
                        .iter()
                        .map(|&(at, len)| (at as f64 / sr, len as f64 / sr))
                        .collect(),
                    residual_db: power_to_db(residual[i].max(1e-300) / e_mix.max(1e-300)),
                    sum: self.impact,
                })
            })
            .collect())
    }

    /// The bursts of residual (block ranges), when they are what the residual is.
    fn events(&self) -> Option<Vec<Range<usize>>> {
        let (mix, res) = (&self.blocks.mix, &self.blocks.residual);
        let b = self.blocks.block_frames.max(1) as f64;
        let audible = |k: usize| f64::from(mix[k]) > self.floor_mean_square * b;
        let ratio_db = |k: usize| power_to_db(f64::from(res[k]).max(1e-30) / f64::from(mix[k]));
        let mut ratios: Vec<f64> = (0..mix.len())
            .filter(|&k| audible(k))
            .map(ratio_db)
            .collect();
        if ratios.len() < 100 {
            return None;
        }
        ratios.sort_by(f64::total_cmp);
        let typical_db = ratios[ratios.len() / 2];
        let burst = |k: usize| {
            audible(k) && {
                let r = ratio_db(k);
                r >= typical_db + BURST_RISE_DB && r >= BURST_LEVEL_DB
            }
        };
        let bursts: Vec<usize> = (0..mix.len()).filter(|&k| burst(k)).collect();
        if bursts.is_empty() || bursts.len() as f64 > MAX_BURST_SHARE * ratios.len() as f64 {
            return None;
        }
        let mut events: Vec<Range<usize>> = Vec::new();
        for &k in &bursts {
            match events.last_mut() {
                Some(e) if k <= e.end + MERGE_BLOCKS => e.end = k + 1,
                _ => events.push(k..k + 1),
            }
        }
        let max_blocks = (MAX_EVENT_S * f64::from(self.sample_rate) / b).ceil() as usize;
        if events.iter().any(|e| e.len() > max_blocks) {
            return None;
        }
        let total: f64 = res.iter().map(|&x| f64::from(x)).sum();
        let held: f64 = events
            .iter()
            .flat_map(|e| res[e.clone()].iter())
            .map(|&x| f64::from(x))
            .sum();
        super::plan::dbg_align(|| {
            let ev: Vec<String> = events
                .iter()
                .map(|e| {
                    let r: Vec<String> = e.clone().map(|k| format!("{:.0}", ratio_db(k))).collect();
                    format!(
                        "{:.2}s [{}]",
                        e.start as f64 * b / f64::from(self.sample_rate),
                        r.join(" ")
                    )
                })
                .collect();
            format!(
                "dropout? typical {typical_db:.1} held {:.2}: {}",
                held / total,
                ev.join("; ")
            )
        });
        (held >= MIN_RESIDUAL_SHARE * total).then_some(events)
    }

    /// The active stem whose run of silence and the mix frames `span` (read with [`MARGIN_S`]
    /// around it) overlap by at least half of the shorter of the two, while it sounds around
    /// that run, the best covering first, and the run (mix frame, frames).
    fn silent_stem(
        &self,
        stems: &mut [Box<dyn FrameSource>],
        span: &Range<u64>,
    ) -> Result<Option<(usize, (u64, u64))>> {
        let margin = (MARGIN_S * f64::from(self.sample_rate)) as u64;
        let min_gap = ((MIN_GAP_S * f64::from(self.sample_rate)) as u64).max(1);
        let start = span.start.saturating_sub(margin);
        let len = (span.end + margin - start) as usize;
        let mut best: Option<(usize, (u64, u64), u64)> = None;
        let mut buf = Vec::new();
        for (i, s) in stems.iter_mut().enumerate() {
            if !self.active[i] {
                continue;
            }
            let ch = s.channels().max(1);
            buf.resize(len * ch, 0.0f32);
            s.read_window(start as i64 + self.offsets[i], &mut buf)?;
            // The longest run of silent frames that overlaps the burst.
            let (mut run, mut longest) = (0u64, (0u64, 0u64));
            for (t, frame) in buf.chunks_exact(ch).enumerate() {
                if frame.iter().all(|x| x.abs() < SILENT) {
                    run += 1;
                    let at = start + t as u64 + 1 - run;
                    let overlaps = at < span.end && at + run > span.start;
                    if run > longest.1 && overlaps {
                        longest = (at, run);
                    }
                } else {
                    run = 0;
                }
            }
            if longest.1 < min_gap {
                continue;
            }
            // Around the run the stem sounds.
            let (lo, hi) = (
                (longest.0 - start) as usize,
                (longest.0 - start + longest.1) as usize,
            );
            let energy = |frames: &[f32]| frames.iter().map(|&x| f64::from(x * x)).sum::<f64>();
            let around = energy(&buf[..lo * ch]) + energy(&buf[hi * ch..]);
            let around_frames = (len - (hi - lo)).max(1) as f64;
            let around_ms = around / around_frames;
            if around_ms <= self.floor_mean_square {
                continue;
            }
            // A gap cuts the stem off and lets it back in: it sounds right before and right
            // after the run at about its level around. A rest in the music ends a decaying
            // note (its last milliseconds tens of dB under the stem's level).
            let edge = ((EDGE_S * f64::from(self.sample_rate)) as usize).max(1);
            if lo < edge || hi + edge > len {
                continue;
            }
            let edge_ms = |frames: &[f32]| energy(frames) / edge as f64;
            let (before, after) = (
                edge_ms(&buf[(lo - edge) * ch..lo * ch]),
                edge_ms(&buf[hi * ch..(hi + edge) * ch]),
            );
            let abrupt = around_ms * crate::units::db_to_power(-EDGE_DROP_DB);
            if before < abrupt || after < abrupt {
                continue;
            }
            // The run that covers the burst best is the gap (a stem merely resting there
            // leaves no burst: the mix rests with it).
            let overlap = (longest.0 + longest.1).min(span.end) - longest.0.max(span.start);
            let shorter = (span.end - span.start).min(longest.1);
            if 2 * overlap >= shorter && best.is_none_or(|(_, _, o)| overlap > o) {
                best = Some((i, longest, overlap));
            }
        }
        Ok(best.map(|(i, gap, _)| (i, gap)))
    }
}
