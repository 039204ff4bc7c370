//! Stem-sum reconciliation: do the stems sum back to the mix, and if not, which stem is
//! shifted, inverted or at the wrong gain?
//!
//! Algorithm (memory bounded by the number of files, never their length):
//!
//! 1. **Activity probes.** Short probes (25 ms every 250 ms, a tenth of a read) find where each
//!    stem carries audio; a sparse stem (fewer than 8 probes above the silence level: a few
//!    hits the probes may miss) is scanned in full. A stem that stays under
//!    the profile's silence level is silent: `active = false`, no offset.
//! 2. **Windows.** A few non-overlapping analysis windows (1.5 s) are chosen so that every
//!    sounding stem is loud in up to three of them, preferring windows many stems share.
//! 3. **Coarse lag** per stem by GCC-PHAT of its mono downmix against the mix's, over
//!    +/-[`ReconcileOptions::max_offset_s`] (2.5 s by default), with the cross spectra of its
//!    windows summed. A stem whose peak does not stand out from the correlation floor does not
//!    correlate with the mix: `active = false`.
//!    From here on the windows are in mix time, every stem read at its offset; a shifted stem
//!    also gets windows where its content lands in the mix.
//! 4. **Leave-one-out searches.** Stems whose coarse peak is weak (a quiet pad under louder
//!    parts sharing its notes, a drum loop that repeats every bar) are searched again over the
//!    full range, one at a time and loudest first, against the mix minus the stems already
//!    found. **Periodic material** (a loop, keys repeating every beat, a reverb return whose
//!    combs echo every 30-45 ms) correlates almost as well one period away, and a stem searched
//!    early against a target that still holds unplaced stems can lock onto such a peak and
//!    drag the stems searched after it. So the weak stems are searched once more from the
//!    set's common lag, best first (per round every stem proposes a lag and only the proposal
//!    with the deepest joint null is taken), and every stem then settles on the candidate lag
//!    (coarse peak, either search's lag, 0, the common lag) with the deepest *joint* null:
//!    every active stem fitted on the windows, over the span where every shifted stem has
//!    audio. Candidates within 1 % of what the stem explains tie, and the smaller shift wins.
//!    Then every stem's lag is refined over +/-50 ms against the mix minus every *other*
//!    fitted stem (least-squares gains on the windows): the target stays fixed and the stem
//!    slides, and the lag of the best normalised correlation is the best least-squares fit.
//!    Only the most convincing correction is proposed per round, and it stands only if the
//!    windows' least-squares residual falls; rounds repeat until nothing moves. This removes
//!    the bias that correlated parts (bass and keys on the same notes) put on the coarse peak.
//!    **An offset stands only on window-by-window evidence** (`evidence`): every shifted stem
//!    is put back at no offset, and the offset is kept only when no offset leaves clearly more
//!    residual (6 dB) in most windows (2/3) where the stem sounds, each window fitted on its
//!    own. A residual with another cause (bus EQ phase, a reverb return, bus compression, a
//!    missing part) lets a correct stem shave a dB or two off by sliding a few samples; a
//!    real shift leaves its misalignment in every window, tens of dB above the shifted fit.
//!    A stem that explains under 5 % (normalised correlation) of its leave-one-out target is
//!    not in the mix: `active = false`.
//!    **Channel faults** (`channels`, step 4c): each active stereo stem of a stereo mix that
//!    does not explain its part is tried swapped, left inverted and right inverted on the
//!    windows; a reading that leaves 6 dB less joint residual is adopted. **Clock drift**
//!    (`drift`, step 4d): a stem's lag refined in 8 windows spread over the song that lies on
//!    a straight line of at least 5 ppm is a drift. A stem with either is read corrected
//!    (`FixedChannels`, `DriftCorrected`) and every stem is placed again (steps 3 to 4).
//! 5. **Streaming pass** over the whole mix, every stem read shifted by its offset: Gram
//!    statistics over the judged span (where every shifted active stem has audio), exact
//!    residual energies, 10 ms residual statistics, and an optional [`BlockVisitor`] for the
//!    diagnosis. The full-length least-squares gains and null depths come out of it.
//!
//! Gains follow the model documented in `gram.rs`: one fader gain per stem; a mono stem in a
//! stereo mix gets one gain per channel (any pan fits) and reports their constant-power sum,
//! so a mono stem panned with the common -3 dB pan law reads 0 dB. The plain (unfitted) sum
//! behind `null_depth_db` uses unity gains; a mono stem enters it at constant power at the pan
//! position the fit found (a mono file carries no pan, so its pan is not a fault), with no
//! gain or polarity correction. `residual_lufs` (ITU-R BS.1770-4 integrated loudness of the
//! plain-sum residual) and the 10 ms block statistics use the pan from the windows' fit.
//!
//! The code follows the steps: `plan` derives the sizes, `locate` does steps 1 to 3,
//! `window_io` reads the analysis windows for every later step, `search` (with `arbiter` and
//! `evidence`) does steps 3b to 4, `stream` and `result` do step 5 and build the
//! [`ReconcileResult`]; `findings` turns it into findings.

mod arbiter;
mod block_pass;
pub mod channels;
mod clipped;
pub mod drift;
mod dropout;
mod ducking;
mod evidence;
mod findings;
mod folded;
pub mod gram;
mod locate;
pub mod pan_law;
mod plan;
pub mod residual;
mod result;
mod search;
pub mod stream;
pub mod synth;
mod types;
mod window_io;

use std::path::Path;

use realfft::RealFftPlanner;

use crate::source::{FrameSource, WavSource};
use crate::wav::WavFile;
use crate::{Profile, Result};
use channels::{ChannelTest, ChannelVerdict, FixedChannels, channel_fault};
use gram::Model;
use locate::Located;
use plan::Plan;
pub(crate) use plan::dbg_align;
use result::Finish;
use search::Search;
use window_io::WindowIo;

pub use findings::delivered_fails;
pub use residual::{ResidualKind, ResidualPlan, StemPlacement, render_residual};
pub use result::NULL_FLOOR_DB;
pub use stream::{BlockStats, BlockVisitor};
pub use types::{ReconcileOptions, ReconcileResult, StemFit};

/// Reconciles stem files against a mix file (a convenience for tests, benches and tools; the
/// check reconciles files it has already opened, see
/// [`crate::analyze::reconcile_and_diagnose_files`]).
///
/// A stem that cannot be opened or has another sample rate than the mix gets `None` (the
/// delivery checks report why); `progress` receives the mix frames streamed so far.
///
/// # Errors
/// When the mix cannot be read, or a file fails while it is being read.
pub fn reconcile(
    mix: &Path,
    stems: &[&Path],
    profile: &Profile,
    progress: &dyn Fn(u64),
) -> Result<ReconcileResult> {
    let mix_src = WavSource::from_file(&WavFile::open(mix)?);
    let mut opened: Vec<Box<dyn FrameSource>> = Vec::new();
    let mut index = Vec::new();
    for (i, p) in stems.iter().enumerate() {
        if let Ok(file) = WavFile::open(p) {
            opened.push(Box::new(WavSource::from_file(&file)));
            index.push(i);
        }
    }
    let r = reconcile_sources(
        Box::new(mix_src),
        opened,
        profile,
        &ReconcileOptions::default(),
        None,
        progress,
    )?;
    let mut fits = vec![None; stems.len()];
    let mut placements = vec![None; stems.len()];
    for (j, fit) in r.stems.iter().enumerate() {
        fits[index[j]] = fit.clone();
        placements[index[j]] = r.residual_plan.stems.get(j).cloned().flatten();
    }
    let residual_plan = ResidualPlan {
        stems: placements,
        ..r.residual_plan.clone()
    };
    Ok(ReconcileResult {
        stems: fits,
        residual_plan,
        ..r
    })
}

/// Reconciles any [`FrameSource`]s (files or memory). See the module docs for the algorithm:
/// each step below is one module (`locate`, `search`, `result`).
///
/// # Errors
/// When a source fails while it is being read.
pub fn reconcile_sources(
    mut mix: Box<dyn FrameSource>,
    mut stems: Vec<Box<dyn FrameSource>>,
    profile: &Profile,
    options: &ReconcileOptions,
    visitor: Option<&mut dyn BlockVisitor>,
    progress: &dyn Fn(u64),
) -> Result<ReconcileResult> {
    let plan = Plan::new(mix.as_ref(), &stems, profile, options)?;
    // 1, 2. Activity and windows.
    let located = Located::scan(&plan, &mut stems, options.windows_per_stem)?;
    // 3. Coarse lags.
    let mut planner = RealFftPlanner::<f32>::new();
    let coarse = located.coarse_lags(&plan, &mut planner, mix.as_mut(), &mut stems)?;
    // 3b to 4. Searches on the windows.
    let model = Model::new(plan.mix_channels, &plan.stem_channels);
    let placer = Placer {
        plan: &plan,
        located: &located,
        options,
        model: &model,
    };
    let first = placer.run(planner, mix.as_mut(), &mut stems, coarse, &[])?;
    // 4c, 4d. Channel faults and clock drifts: the stems read corrected are placed again.
    let (verdicts, mut drifts) = (first.channels, first.drifts);
    if verdicts.is_empty() {
        let sounding: Vec<bool> = located.activity.iter().map(Option::is_some).collect();
        drifts = drift::suppose_shared_clock(drifts, &first.placement.offsets, &sounding, &plan);
    }
    let (placement, windows) = if verdicts.is_empty() && drifts.is_empty() {
        (first.placement, first.windows)
    } else {
        for v in &verdicts {
            let inner = stems.remove(v.stem);
            stems.insert(v.stem, Box::new(FixedChannels::new(inner, v.fix)));
        }
        // The drifting stems as delivered, kept to be read again on a refined clock.
        let mut delivered: Vec<(usize, Box<dyn FrameSource>)> = Vec::new();
        for d in &drifts {
            let inner = stems.remove(d.stem);
            delivered.push((d.stem, inner.reopen()?));
            let fixed = drift::DriftCorrected::new(inner, d.start_samples, d.ppm);
            stems.insert(d.stem, Box::new(fixed));
        }
        let mut planner = first.planner;
        let coarse = located.coarse_lags(&plan, &mut planner, mix.as_mut(), &mut stems)?;
        let again = placer.run(planner, mix.as_mut(), &mut stems, coarse, &drifts)?;
        if drifts.is_empty() {
            (again.placement, again.windows)
        } else {
            // 4e. The drifts measured again on the corrected stems (see `drift::refine`), and
            // the stems placed once more on the refined clocks.
            // A drift the corrected stems no longer show was another stem's pulling its
            // leave-one-out target along (a drifting bass draws the keys' lag a few ppm):
            // that stem is read as delivered again.
            drifts = again
                .drifts
                .into_iter()
                .filter(drift::Drift::holds)
                .collect();
            for (i, inner) in &delivered {
                stems[*i] = match drifts.iter().find(|d| d.stem == *i) {
                    Some(d) => Box::new(drift::DriftCorrected::new(
                        inner.reopen()?,
                        d.start_samples,
                        d.ppm,
                    )),
                    None => inner.reopen()?,
                };
            }
            if drifts.is_empty() {
                // Every stem as delivered: the first placement stands.
                (first.placement, first.windows)
            } else {
                let mut planner = again.planner;
                let coarse = located.coarse_lags(&plan, &mut planner, mix.as_mut(), &mut stems)?;
                // Measured once more on the refined clocks: the figures reported are the
                // closest.
                let third = placer.run(planner, mix.as_mut(), &mut stems, coarse, &drifts)?;
                drifts = third.drifts;
                // The streaming pass reads the stems on the clocks reported, the closest: the
                // second line's rate is off by a few hundredths of a ppm, a few hundredths of a
                // sample by the song's end, which leaves -30 dB at 10 kHz of every stem it
                // corrects (a mix on another clock: all of them). A stem the third placement
                // moved keeps the clock it was placed on (its offset is in that line).
                for d in &drifts {
                    if third.placement.offsets[d.stem] != 0 {
                        continue;
                    }
                    if let Some((_, inner)) = delivered.iter().find(|(i, _)| *i == d.stem) {
                        stems[d.stem] = Box::new(drift::DriftCorrected::new(
                            inner.reopen()?,
                            d.start_samples,
                            d.ppm,
                        ));
                    }
                }
                (third.placement, third.windows)
            }
        }
    };
    // One clock for every stem and another for the mix: one cause, the mix's.
    let shared = drift::shared_clock(&drifts, &placement.active);
    // 5. Streaming pass and the result.
    let finish = Finish {
        plan: &plan,
        model: &model,
        profile,
        placement,
        windows,
        threads: options.threads,
    };
    let mut result = finish.run(mix.as_mut(), &mut stems, visitor, progress)?;
    if !(verdicts.is_empty() && drifts.is_empty()) {
        let sr = plan.sample_rate;
        let faults = verdicts
            .iter()
            .map(|v| channel_fault(v, stems[v.stem].name()))
            .chain(match &shared {
                Some(d) => vec![
                    d.mix_cause(
                        mix.name(),
                        drifts
                            .iter()
                            .map(|d| stems[d.stem].name().to_owned())
                            .collect(),
                        sr,
                    ),
                ],
                None => drifts
                    .iter()
                    .map(|d| d.cause(stems[d.stem].name(), sr))
                    .collect(),
            })
            .collect::<Vec<_>>();
        result.causes.splice(0..0, faults);
        // The streaming pass read the corrected stems, so its null is not the delivered sum's:
        // the stems as delivered do not sum to the mix (the fault is an error that breaks the
        // sum). The headline then carries the windows' residual with the stems as delivered
        // (least-squares gains, the worst of the faults found).
        result
            .causes
            .retain(|c| !matches!(c, crate::cause::Cause::SumMatchesMix { .. }));
        let as_delivered = verdicts
            .iter()
            .map(|v| v.residual_as_is_db)
            .chain(drifts.iter().map(|d| d.residual_as_is_db))
            .fold(f64::NEG_INFINITY, f64::max);
        result.reconciliation.null_depth_db = Some(as_delivered);
        // The corrected residual reads these stems as the pass did.
        for v in &verdicts {
            if let Some(Some(p)) = result.residual_plan.stems.get_mut(v.stem) {
                p.channel_fix = Some(v.fix);
            }
        }
        for d in &drifts {
            if let Some(Some(p)) = result.residual_plan.stems.get_mut(d.stem) {
                p.drift = Some((d.start_samples, d.ppm));
            }
        }
        result.findings = crate::cause::findings(&result.causes);
    }
    Ok(result)
}

/// Steps 3b to 4c over the windows: what stays fixed while a channel fault makes the stems be
/// placed again.
struct Placer<'a> {
    plan: &'a Plan,
    located: &'a Located,
    options: &'a ReconcileOptions,
    model: &'a Model,
}

/// What [`Placer::run`] gives.
struct Placed {
    placement: search::Placement,
    /// The analysis windows (mix time), for the diagnosis.
    windows: Vec<u64>,
    /// Channel faults found (step 4c).
    channels: Vec<ChannelVerdict>,
    /// Clock drifts found (step 4d).
    drifts: Vec<drift::Drift>,
    planner: RealFftPlanner<f32>,
}

impl Placer<'_> {
    /// Steps 3b to 4 on a fresh [`WindowIo`], then the channel test of the placed stems (step
    /// 4c) and the drift measurement (4d); with drifts in `refine` (stems already read on their
    /// corrected clocks), those drifts measured again instead (4e).
    ///
    /// # Errors
    /// When a file cannot be read.
    fn run(
        &self,
        planner: RealFftPlanner<f32>,
        mix: &mut dyn FrameSource,
        stems: &mut [Box<dyn FrameSource>],
        coarse: Vec<Option<crate::align::LagEstimate>>,
        refine: &[drift::Drift],
    ) -> Result<Placed> {
        let (plan, located, options, model) = (self.plan, self.located, self.options, self.model);
        let mut io = WindowIo::new(model, mix, stems, plan.window_frames as usize);
        let mut search = Search {
            plan,
            located,
            options,
            planner,
        };
        let placement = search.place(&mut io, coarse)?;
        let (k, active) = (placement.offsets.len(), &placement.active);
        let common = locate::common_lag(
            &(0..k)
                .filter(|&i| active[i])
                .map(|i| placement.offsets[i])
                .collect::<Vec<_>>(),
        );
        let sounding: Vec<bool> = located.activity.iter().map(Option::is_some).collect();
        let test = ChannelTest {
            active,
            sounding: &sounding,
            offsets: &placement.offsets,
            common,
            confidence: &placement.confidence,
        };
        let channels = channels::test_channels(&mut io, &test)?;
        let windows = io.windows().to_vec();
        let mut planner = search.planner;
        let test = drift::DriftTest {
            plan,
            located,
            active,
            offsets: &placement.offsets,
            confidence: &placement.confidence,
        };
        let drifts = if !refine.is_empty() {
            drift::refine(&mut io, &mut planner, &test, refine)?
        } else if channels.is_empty() {
            drift::measure(&mut io, &mut planner, &test)?
        } else {
            Vec::new()
        };
        Ok(Placed {
            placement,
            windows,
            channels,
            drifts,
            planner,
        })
    }
}
