//! Which of several files that could be the mix is the mix: the one the stems sum to.
//!
//! Names decide the candidates (mix, mixdown, master, 2mix: [`super::name_says_mix`]); a
//! folder often holds a mix and its mastered version (`Song_Mix.wav`, `Song_Master.wav`). The
//! stems sum to the mix, not to the master (limited, louder, EQ'd), so the content decides:
//! the plain stem sum (unity gains, no offsets: the delivery as it is) is compared with every
//! candidate over a few seconds of the loudest material, and the candidate it nulls deepest
//! against is the mix. The others are references: metered and checked as files, never part of
//! the sum nor of the stems' set checks (a master legitimately differs in length and level).
//!
//! A candidate whose audio is part of the sum (a stem named `Drums_Mix.wav`) is given back to
//! the stems: adding it to the sum deepens the null against the mix.
//!
//! The mix named with `--mix` or by the plugin's metadata stays the mix; the content then only
//! decides which other candidates are references and which are stems.
//!
//! Cost: a handful of 1 s windows per file (the probes that find the loud windows read 50 ms
//! each of the mix), bounded memory, long before the full passes start.

use super::{Input, Opened};
use crate::cause::{Cause, MixCandidates, MixChoice};
use crate::report::Role;
use crate::resample::ResampledSource;
use crate::source::{FrameSource, WavSource};
use crate::units::power_to_db;

/// Probes of the mix that find its loud stretches.
const PROBES: usize = 32;
/// Frames of one probe, as a share of a second.
const PROBE_S: f64 = 0.05;
/// Windows compared (the loudest probes' surroundings), each this long.
const WINDOWS: usize = 4;
const WINDOW_S: f64 = 1.0;
/// The sum must null at least this deep against the mix for the content to decide, dB.
const DECISIVE_NULL_DB: f64 = -6.0;
/// ... and this much deeper than against any other candidate, dB.
const DECISIVE_MARGIN_DB: f64 = 3.0;
/// Adding a candidate to the sum must deepen the null by this much for it to be a stem, dB.
const PART_OF_SUM_DB: f64 = 3.0;

/// How the check reads the files: the inputs and their opened files.
pub(super) struct Files<'a> {
    pub inputs: &'a [Input],
    pub opened: &'a [Opened],
}

impl Files<'_> {
    /// Input `i` as a source at `rate` (resampled when it is at another rate).
    fn source(&self, i: usize, rate: u32) -> Option<Box<dyn FrameSource>> {
        let file = self.opened[i].file(&self.inputs[i].path).ok()?;
        let src = WavSource::from_file(&file);
        if src.sample_rate() == rate {
            Some(Box::new(src))
        } else {
            ResampledSource::new(Box::new(src), rate)
                .ok()
                .map(|r| Box::new(r) as Box<dyn FrameSource>)
        }
    }
}

/// The windows and the stem sum over them, at the layout of one candidate.
struct Sum {
    rate: u32,
    channels: usize,
    /// Window starts, frames.
    starts: Vec<i64>,
    frames: usize,
    /// The plain sum of the stems, one buffer per window (interleaved).
    sum: Vec<Vec<f32>>,
}

impl Sum {
    /// Windows around the loudest probes of `mix`.
    fn new(mix: &mut dyn FrameSource) -> Option<Self> {
        let (rate, channels, total) = (mix.sample_rate(), mix.channels(), mix.frames());
        let frames = (WINDOW_S * f64::from(rate)) as usize;
        let probe = ((PROBE_S * f64::from(rate)) as usize).max(1);
        if total < frames as u64 || channels == 0 {
            return None;
        }
        let mut buf = vec![0.0f32; probe * channels];
        let mut loud: Vec<(f64, i64)> = Vec::with_capacity(PROBES);
        for k in 0..PROBES {
            let centre = (total as f64 * (k as f64 + 0.5) / PROBES as f64) as i64;
            mix.read_window(centre, &mut buf).ok()?;
            let energy: f64 = buf.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
            loud.push((energy, centre));
        }
        loud.sort_by(|a, b| b.0.total_cmp(&a.0));
        let last_start = total as i64 - frames as i64;
        let mut starts: Vec<i64> = loud
            .iter()
            .take(WINDOWS)
            .filter(|(e, _)| *e > 0.0)
            .map(|&(_, c)| (c - frames as i64 / 2).clamp(0, last_start))
            .collect();
        starts.sort_unstable();
        starts.dedup();
        (!starts.is_empty()).then(|| Self {
            rate,
            channels,
            sum: vec![vec![0.0; frames * channels]; starts.len()],
            starts,
            frames,
        })
    }

    /// Adds a stem to `sum` (a mono stem enters a wider layout at constant power, like a
    /// centred fader; other layouts are left out of the test). False when it was not added.
    fn add(&self, sum: &mut [Vec<f32>], src: &mut dyn FrameSource) -> bool {
        let sc = src.channels();
        let gain = match sc {
            c if c == self.channels => 1.0,
            1 => 1.0 / (self.channels as f32).sqrt(),
            _ => return false,
        };
        let mut buf = vec![0.0f32; self.frames * sc];
        for (w, &start) in self.starts.iter().enumerate() {
            if src.read_window(start, &mut buf).is_err() {
                return false;
            }
            for (f, frame) in sum[w].chunks_exact_mut(self.channels).enumerate() {
                for (c, out) in frame.iter_mut().enumerate() {
                    *out += gain * buf[f * sc + c.min(sc - 1)];
                }
            }
        }
        true
    }

    /// The residual of `sum` against `mix` relative to the mix, dB (`None` when the layouts
    /// differ or the mix is silent there).
    fn null_db(&self, sum: &[Vec<f32>], mix: &mut dyn FrameSource) -> Option<f64> {
        if mix.channels() != self.channels {
            return None;
        }
        let mut buf = vec![0.0f32; self.frames * self.channels];
        let (mut residual, mut power) = (0.0f64, 0.0f64);
        for (w, &start) in self.starts.iter().enumerate() {
            mix.read_window(start, &mut buf).ok()?;
            for (m, s) in buf.iter().zip(&sum[w]) {
                residual += f64::from(m - s).powi(2);
                power += f64::from(*m).powi(2);
            }
        }
        (power > 0.0).then(|| power_to_db(residual / power))
    }
}

/// Decides among the candidates (the mix and the references of `inputs`): which is the mix
/// (unless `given` says the user or the plugin named it), which are references, which are
/// stems after all. Changes the roles in `inputs`; the `mix_candidates` cause when there was
/// more than one candidate.
pub(super) fn decide(
    inputs: &mut [Input],
    opened: &[Opened],
    given: Option<MixChoice>,
) -> Option<Cause> {
    let candidates: Vec<usize> = (0..inputs.len())
        .filter(|&i| matches!(inputs[i].role, Role::Mix | Role::Reference))
        .collect();
    if candidates.len() < 2 {
        return None;
    }
    let named = candidates
        .iter()
        .copied()
        .find(|&i| inputs[i].role == Role::Mix)?;
    let files = Files { inputs, opened };
    let measured = measure(&files, named, &candidates);
    let nulls = |i: usize| measured.as_ref().and_then(|m| m.nulls[&i]);
    let mut mix = named;
    let mut chosen_by = given.unwrap_or(MixChoice::Name);
    if given.is_none() {
        let mut ranked: Vec<(f64, usize)> = candidates
            .iter()
            .filter_map(|&i| nulls(i).map(|n| (n, i)))
            .collect();
        ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
        let runner_up = ranked.get(1).map_or(f64::INFINITY, |r| r.0);
        if let Some(&(best, i)) = ranked.first()
            && best <= DECISIVE_NULL_DB
            && runner_up - best >= DECISIVE_MARGIN_DB
        {
            mix = i;
            chosen_by = MixChoice::Content;
        }
    }
    let part_of_sum: Vec<usize> = match &measured {
        Some(m) => candidates
            .iter()
            .copied()
            .filter(|&i| i != mix && m.deepens(&files, mix, i))
            .collect(),
        None => Vec::new(),
    };
    for &i in &candidates {
        inputs[i].role = if i == mix {
            Role::Mix
        } else if part_of_sum.contains(&i) {
            Role::Stem
        } else {
            Role::Reference
        };
    }
    let name = |i: usize| inputs[i].name.clone();
    Some(Cause::MixCandidates(MixCandidates {
        mix: name(mix),
        references: candidates
            .iter()
            .copied()
            .filter(|&i| inputs[i].role == Role::Reference)
            .map(name)
            .collect(),
        stems: part_of_sum.iter().copied().map(name).collect(),
        chosen_by,
        null_by_file_db: candidates.iter().map(|&i| (name(i), nulls(i))).collect(),
    }))
}

/// The plain stem sum's null against every candidate, and the sum itself.
struct Measured {
    sum: Sum,
    nulls: std::collections::HashMap<usize, Option<f64>>,
}

/// Reads the windows (around the loud parts of the `named` mix) of every stem and candidate;
/// `None` when nothing can be compared (an unreadable or very short mix, no readable stem).
fn measure(files: &Files<'_>, named: usize, candidates: &[usize]) -> Option<Measured> {
    let mut mix = files.source(named, files.opened[named].info()?.sample_rate)?;
    let mut sum = Sum::new(mix.as_mut())?;
    let mut total = std::mem::take(&mut sum.sum);
    let mut stems = 0;
    for i in (0..files.inputs.len()).filter(|&i| files.inputs[i].role == Role::Stem) {
        if let Some(mut s) = files.source(i, sum.rate)
            && sum.add(&mut total, s.as_mut())
        {
            stems += 1;
        }
    }
    sum.sum = total;
    if stems == 0 {
        // Nothing to sum: every candidate would null at 0 dB.
        return None;
    }
    let nulls = candidates
        .iter()
        .map(|&i| {
            let null = files
                .source(i, sum.rate)
                .and_then(|mut c| sum.null_db(&sum.sum, c.as_mut()));
            (i, null)
        })
        .collect();
    Some(Measured { sum, nulls })
}

impl Measured {
    /// Does adding candidate `part` to the sum deepen its null against `mix` clearly?
    fn deepens(&self, files: &Files<'_>, mix: usize, part: usize) -> bool {
        let Some(before) = self.nulls[&mix] else {
            return false;
        };
        let (Some(mut m), Some(mut p)) = (
            files.source(mix, self.sum.rate),
            files.source(part, self.sum.rate),
        ) else {
            return false;
        };
        let mut with = self.sum.sum.clone();
        if !self.sum.add(&mut with, p.as_mut()) {
            return false;
        }
        self.sum
            .null_db(&with, m.as_mut())
            .is_some_and(|after| after < before - PART_OF_SUM_DB && after <= DECISIVE_NULL_DB)
    }
}
