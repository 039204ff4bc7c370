//! The whole check of one delivery: find the files and the mix, meter every file (streamed, in
//! parallel), run the delivery checks, reconcile the stems against the mix, and build the
//! [`Report`]. The CLI and the plugin's reconciliation panel both call [`check_paths`], so they
//! always agree.
//!
//! I/O stays at this edge: the check opens every file once ([`WavFile`]: the handle and the
//! parsed header) and hands it to metering, to the reconciliation and to the threads of its
//! streaming pass, which each take their own reader over it. `inputs` decides which files are
//! read, `files` what the report says about each, `reconciliation` runs the stem-sum
//! reconciliation and its diagnosis over the opened files.

mod candidates;
mod dc;
mod files;
mod inputs;
mod names;
mod progress;
mod reconciliation;
mod split_stereo;
mod timecode;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::cause::{self, Cause, MixChoice};
use crate::checks::delivery_checks;
use crate::error::{Error, Result};
use crate::meter::meter_reader;
use crate::profile::Profile;
use crate::reconcile::ReconcileResult;
use crate::report::{ExcludedFile, FileReport, FindingCode, Reconciliation, Report, Role};
use crate::wav::{WavFile, WavInfo};
use files::{Metered, capture_causes, file_reports};
use reconciliation::{level_timeline, reconcile_plan};
use split_stereo::SplitPair;

pub use inputs::{
    Input, Skipped, collect_delivery, collect_inputs, is_bounce_folder, name_says_mix, sidecar_role,
};
pub use names::{lossless_name, lossless_path};
pub use progress::Stage;
use progress::Tracker;
pub use reconciliation::{
    Residuals, reconcile_and_diagnose, reconcile_and_diagnose_files, reconcile_and_diagnose_with,
};

/// Frames read per block while metering (defined with the metering path it belongs to).
pub use crate::meter::METER_BLOCK_FRAMES;
/// Most stems reconciled against a mix in one check. The leave-one-out search grows faster
/// than linearly in stems (measured: 40 stems 0.7 s / 62 MB, 80 stems 7 s / 350 MB), so a
/// folder of hundreds of multitracks would run for an hour and take gigabytes; such a set is
/// reported as multitracks and checked file by file instead.
pub const MAX_RECONCILE_STEMS: usize = 64;

/// What a check run reports about its progress, for a progress bar (see the `progress`
/// module: the total is all the work, the frames done never pass it and reach it only at the
/// end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The total amount of work, in frames read (all files, all passes); sent once, before
    /// any frame is done.
    Total(u64),
    /// This many more frames are done.
    Advance(u64),
    /// A stage begins (each at most once, in the order of [`Stage`]; metering and aligning
    /// run side by side).
    Begin(Stage),
    /// A stage has ended.
    End(Stage),
}

/// How to run a check.
pub struct Options<'a> {
    /// The thresholds the findings are judged by.
    pub profile: &'a Profile,
    /// The mix, when the user named it (`--mix`).
    pub mix: Option<PathBuf>,
    /// Worker threads for metering (at least 1).
    pub threads: usize,
    /// Called from worker threads as work completes.
    pub progress: Option<&'a (dyn Fn(Progress) + Sync)>,
    /// Set from another thread to stop the check: every file read fails from then on and
    /// [`check_paths`] returns [`Error::Cancelled`] within a block's work (the plugin sets it
    /// when it is destroyed during an analysis, so the host does not wait for the analysis).
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Self {
            profile: &crate::profile::MASTERING,
            mix: None,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            progress: None,
            cancel: None,
        }
    }
}

impl std::fmt::Debug for Options<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("profile", &self.profile.name)
            .field("mix", &self.mix)
            .field("threads", &self.threads)
            .field("cancel", &self.cancel)
            .finish()
    }
}

/// Files of one check beyond which they are not all held open from the header pass to the end
/// of the check: macOS allows a process 256 open files by default, and a folder of hundreds of
/// multitracks must not run into that. Above it, each file is opened for its header and again
/// for metering (and reconciliation), as the check did before files were held open. A set this
/// large is hardly ever reconciled ([`MAX_RECONCILE_STEMS`]).
pub const MAX_FILES_HELD_OPEN: usize = 128;

/// One input after the header pass.
enum Opened {
    /// Open, header parsed: metering, the reconciliation and its threads all read through it.
    Held(WavFile),
    /// Header parsed, handle closed to stay within [`MAX_FILES_HELD_OPEN`]: opened again to
    /// be read.
    Closed(WavInfo),
    /// Could not be opened or its header not read; the error is the file's metering result.
    Failed,
}

impl Opened {
    /// The header, when the file opened.
    fn info(&self) -> Option<&WavInfo> {
        match self {
            Opened::Held(file) => Some(file.info()),
            Opened::Closed(info) => Some(info),
            Opened::Failed => None,
        }
    }

    /// The opened file (another handle on the same one when held; `path` is opened again
    /// otherwise).
    fn file(&self, path: &Path) -> Result<WavFile> {
        match self {
            Opened::Held(file) => Ok(file.clone()),
            Opened::Closed(_) | Opened::Failed => WavFile::open(path),
        }
    }
}

/// The mix's input index and the input indices of the stems to reconcile against it.
type Plan = (usize, Vec<usize>);

/// A reconciliation run beside the metering, and the plan it ran.
type Speculative = (Plan, Result<ReconcileResult>);

/// How much deeper (dB) the stems must null with split pairs read as mono stems of their own
/// than read as pairs for the pairs to be refuted (see [`Check::reconcile`]).
const PAIRS_REFUTED_DB: f64 = 6.0;

/// One check run: the inputs, their files as opened by the header pass, the caller's options.
struct Check<'a, 'o> {
    inputs: &'a [Input],
    opened: Vec<Opened>,
    opts: &'a Options<'o>,
    tracker: Tracker<'o>,
    /// What the residuals as audio need, kept from the reconciliation.
    residuals: Mutex<Option<Residuals>>,
    /// Stereo stems delivered as two mono files (input indices).
    pairs: Vec<SplitPair>,
    /// Set when reading the pairs' files as mono stems of their own explained the mix clearly
    /// better than reading them as pairs (see [`Check::reconcile`]).
    pairs_refuted: AtomicBool,
}

/// Checks the files and folders in `paths` (see [`collect_inputs`]) and returns the report.
///
/// # Errors
/// Only when there is nothing to check at all (see [`collect_inputs`]). Unreadable files are
/// `unreadable_file` findings in the report.
pub fn check_paths(paths: &[PathBuf], opts: &Options<'_>) -> Result<Report> {
    check_paths_with_causes(paths, opts).map(|c| c.report)
}

/// [`check_paths`], also keeping what it takes to render the residual as audio (`None` when
/// no reconciliation ran).
///
/// # Errors
/// As [`check_paths`].
pub fn check_paths_keeping(
    paths: &[PathBuf],
    opts: &Options<'_>,
) -> Result<(Report, Option<Residuals>)> {
    check_paths_with_causes(paths, opts).map(|c| (c.report, c.residuals))
}

/// A check with what it was built from: the report, the typed causes its findings were
/// rendered from (file names as the report shows them), and the inputs with the roles the
/// check decided (in the report's file order). What `stemcheck fix` plans its changes from:
/// it acts on the causes' numbers, never on rendered text.
#[derive(Debug)]
pub struct Checked {
    /// The report, exactly as [`check_paths`] returns it.
    pub report: Report,
    /// Every cause behind the report's findings.
    pub causes: Vec<Cause>,
    /// The inputs, one per entry of `report.files`, with their decided roles.
    pub inputs: Vec<Input>,
    /// What it takes to render the residual as audio (`None` when no reconciliation ran).
    pub residuals: Option<Residuals>,
}

/// [`check_paths`], keeping the causes, the inputs and the residuals (see [`Checked`]).
///
/// # Errors
/// As [`check_paths`].
pub fn check_paths_with_causes(paths: &[PathBuf], opts: &Options<'_>) -> Result<Checked> {
    let (inputs, skipped) = collect_delivery(paths, opts.mix.as_deref())?;
    let checked = check_inputs_keeping(&inputs, skipped_causes(&skipped), opts);
    // A cancelled check's reads failed part-way: its report would show readable files as
    // unreadable, so it is never returned.
    if opts
        .cancel
        .as_ref()
        .is_some_and(|c| c.load(Ordering::Relaxed))
    {
        return Err(Error::Cancelled);
    }
    Ok(checked)
}

/// What a folder held that is not read, as causes: one `skipped_file` info for the files that
/// are not audio, one `unreadable_file` warning naming the audio in formats not read.
fn skipped_causes(skipped: &Skipped) -> Vec<Cause> {
    let name = |p: &PathBuf| {
        p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let mut causes = Vec::new();
    if !skipped.unread_audio.is_empty() {
        causes.push(Cause::UnreadAudioFormat {
            by_file: skipped
                .unread_audio
                .iter()
                .map(|(p, format)| (name(p), (*format).to_owned()))
                .collect(),
        });
    }
    if !skipped.other.is_empty() {
        causes.push(Cause::Skipped {
            files: skipped.other.iter().map(name).collect(),
        });
    }
    causes
}

/// Checks an already collected list of files.
///
/// Every file is opened once, here; its header tells the work to do and lets the
/// reconciliation start at once beside the metering.
pub fn check_inputs(inputs: &[Input], opts: &Options<'_>) -> Report {
    check_inputs_keeping(inputs, Vec::new(), opts).report
}

/// [`check_inputs`] with causes found before reading (what the folders held that is not
/// read) added to the report, keeping the causes, the decided inputs and what the residuals
/// as audio need.
fn check_inputs_keeping(inputs: &[Input], noted: Vec<Cause>, opts: &Options<'_>) -> Checked {
    let tracker = Tracker::new(opts.progress);
    tracker.begin(Stage::Reading);
    let (opened, open_errors) = open_inputs(inputs);
    tracker.end(Stage::Reading);
    // Among several files that could be the mix, the one the stems sum to is the mix.
    let mut inputs = inputs.to_vec();
    let given = if opts.mix.is_some() {
        Some(MixChoice::Option)
    } else if inputs::mix_is_authoritative(&inputs, false) {
        Some(MixChoice::Metadata)
    } else {
        None
    };
    let candidates = candidates::decide(&mut inputs, &opened, given);
    let inputs = &inputs[..];
    let pairs = split_stereo::find_pairs(
        inputs,
        |i| opened[i].info().map(|h| h.channels),
        |i| opened[i].info().map(|h| h.sample_rate),
    );
    let mut check = Check {
        inputs,
        opened,
        opts,
        tracker,
        residuals: Mutex::new(None),
        pairs,
        pairs_refuted: AtomicBool::new(false),
    };
    let mix_index = inputs.iter().position(|i| i.role == Role::Mix);

    let (results, speculative) = check.meter_all(open_errors, mix_index);
    if check.pairs_refuted.load(Ordering::Relaxed) {
        check.pairs.clear();
    }
    check.tracker.begin(Stage::Diagnosing);
    let (mut files, mut facts, mut causes) = file_reports(inputs, &results);
    split_stereo::mark_facts(&mut facts, &check.pairs, inputs);
    if !check.pairs.is_empty() {
        causes.push(Cause::SplitStereo {
            pairs: check.pairs.iter().map(|p| p.name.clone()).collect(),
        });
    }
    causes.extend(candidates);
    causes.extend(noted);
    // References (other candidates for the mix) are checked as files of their own, never in
    // the stems' set checks (a master legitimately differs in length, level and format).
    let (references, set): (Vec<_>, Vec<_>) = facts
        .into_iter()
        .partition(|f| f.role == Some(Role::Reference));
    causes.extend(delivery_checks(&set, opts.profile));
    for mut reference in references {
        reference.role = Some(Role::Mix);
        causes.extend(delivery_checks(&[reference], opts.profile));
    }
    causes.extend(capture_causes(inputs, |i| {
        results[i].as_ref().ok().map(|m| m.info.frames)
    }));
    let reconciled = check.reconcile_mix(mix_index, &results, speculative, &mut files, &mut causes);
    cause::fold_clipping_into_clipped_exports(&mut causes);
    cause::fold_dc_offsets_into_mismatch(&mut causes);
    cause::fold_layout_into_folded_stems(&mut causes);
    let active_stems = reconciled.as_ref().map_or(0, |(_, active)| *active);
    let reconciliation = reconciled.map(|(r, _)| r);
    causes.extend(timecode::timecode_causes(&files));
    cause::mark_normalised(&mut causes, |name| {
        files
            .iter()
            .find(|f| f.path == name)
            .and_then(|f| f.sample_peak_dbfs)
    });
    let level = |f: &FileReport| f.sample_peak_dbfs.map(|p| (f.path.clone(), p));
    let stem_peaks: Vec<(String, f64)> = files
        .iter()
        .filter(|f| f.role == Some(Role::Stem))
        .filter_map(level)
        .collect();
    let mix_peak = files
        .iter()
        .find(|f| f.role == Some(Role::Mix))
        .and_then(level);
    let missed_null_db = reconciliation
        .as_ref()
        .and_then(|r| r.null_depth_db)
        .filter(|&n| n > opts.profile.null_pass_db);
    cause::name_master_processing_on_stems(
        &mut causes,
        &stem_peaks,
        mix_peak.as_ref().map(|(f, p)| (f.as_str(), *p)),
        missed_null_db,
    );
    // The master chain may have taken more gains upon itself: one finding for them all.
    let causes = cause::group_side_effect_gains(causes, active_stems);
    let mut findings = cause::findings(&causes);
    split_stereo::expand_findings(&mut findings, &check.pairs, inputs);
    let report = Report::new(&opts.profile.name, files, reconciliation, findings);
    check.tracker.finish();
    let residuals = check
        .residuals
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    Checked {
        report,
        causes,
        inputs: inputs.to_vec(),
        residuals,
    }
}

/// Opens every input once and parses its header: the opened files, and each file's open
/// error (its metering result) where it failed.
fn open_inputs(inputs: &[Input]) -> (Vec<Opened>, Vec<Option<Error>>) {
    let hold = inputs.len() <= MAX_FILES_HELD_OPEN;
    inputs
        .iter()
        .map(|input| match WavFile::open(&input.path) {
            Ok(file) if hold => (Opened::Held(file), None),
            Ok(file) => (Opened::Closed(file.info().clone()), None),
            Err(e) => (Opened::Failed, Some(e)),
        })
        .unzip()
}

impl Check<'_, '_> {
    /// The split pairs among `stems` (input indices), as indices into `stems`.
    fn pairs_in(&self, stems: &[usize]) -> Vec<SplitPair> {
        let at = |i: usize| stems.iter().position(|&s| s == i);
        self.pairs
            .iter()
            .filter_map(|p| {
                Some(SplitPair {
                    left: at(p.left)?,
                    right: at(p.right)?,
                    name: p.name.clone(),
                })
            })
            .collect()
    }

    /// Input `i`'s opened file, its reads cancelled with the check (see [`Options::cancel`]).
    fn file(&self, i: usize) -> Result<WavFile> {
        Ok(self.opened[i]
            .file(&self.inputs[i].path)?
            .cancelled_by(self.opts.cancel.clone()))
    }

    /// Meters input `i` through its opened file (the one metering path, [`meter_reader`]).
    fn meter_one(&self, i: usize) -> Result<Metered> {
        let file = self.file(i)?;
        let (info, metrics) = meter_reader(file.reader(), &|n| self.tracker.metered(n))?;
        Ok(Metered { info, metrics })
    }

    /// Reconciles and diagnoses the stems of `plan` against its mix, over the opened files.
    ///
    /// Split stereo pairs are read as pairs. Names alone can mislead (two mono guitars
    /// `Gtr L.wav` and `Gtr R.wav`, each panned part-way), so when the paired reading misses
    /// the profile's null, the files are read once more as mono stems of their own (each with
    /// its own pan); a reading that nulls [`PAIRS_REFUTED_DB`] deeper refutes the pairs.
    fn reconcile(&self, (mi, plan_stems): &Plan) -> Result<ReconcileResult> {
        let mix = self.file(*mi)?;
        let stems: Vec<Option<WavFile>> = plan_stems.iter().map(|&i| self.file(i).ok()).collect();
        self.tracker.begin(Stage::Aligning);
        // The streaming pass reports the mix frames streamed so far; its first report is the
        // end of the alignment.
        let cb = |done: u64| self.tracker.streamed(done);
        let pairs = if self.pairs_refuted.load(Ordering::Relaxed) {
            Vec::new()
        } else {
            self.pairs_in(plan_stems)
        };
        let r = reconcile_and_diagnose_files(&mix, &stems, &pairs, self.opts.profile, &cb)
            .map(|(r, _)| r);
        let r = match r {
            Ok(paired)
                if !pairs.is_empty()
                    && crate::reconcile::delivered_fails(
                        paired.reconciliation.null_depth_db,
                        self.opts.profile,
                    ) =>
            {
                let corrected = |r: &ReconcileResult| {
                    r.reconciliation
                        .corrected_null_depth_db
                        .unwrap_or(f64::INFINITY)
                };
                match reconcile_and_diagnose_files(&mix, &stems, &[], self.opts.profile, &|_| {}) {
                    Ok((alone, _))
                        if corrected(&alone) <= corrected(&paired) - PAIRS_REFUTED_DB =>
                    {
                        self.pairs_refuted.store(true, Ordering::Relaxed);
                        Ok(alone)
                    }
                    _ => Ok(paired),
                }
            }
            r => r,
        };
        self.tracker.reconciled();
        r
    }

    /// The reconciliation `delivered` of `plan`, or, when the files' DC offsets are why the
    /// stems miss the profile's null, the reconciliation of the same files with every
    /// offset taken off and a finding naming them (see [`dc`]). Only a delivery that fails
    /// with a residual offset worth it is reconciled twice.
    fn without_dc_mismatch(
        &self,
        (mi, stems): &Plan,
        delivered: ReconcileResult,
        results: &[Result<Metered>],
    ) -> ReconcileResult {
        if !crate::reconcile::delivered_fails(
            delivered.reconciliation.null_depth_db,
            self.opts.profile,
        ) {
            return delivered;
        }
        let file_dc = |i: usize| {
            results[i].as_ref().ok().map(|m| dc::FileDc {
                frames: m.info.frames,
                means: &m.metrics.dc_offset,
                gains: None,
            })
        };
        let Some(mix_dc) = file_dc(*mi) else {
            return delivered;
        };
        let stem_dc: Vec<(&str, dc::FileDc<'_>)> = stems
            .iter()
            .filter_map(|&i| file_dc(i).map(|d| (self.inputs[i].name.as_str(), d)))
            .collect();
        let only_dc: Vec<dc::FileDc<'_>> = stem_dc.iter().map(|s| s.1).collect();
        let residual = dc::residual_dc(mix_dc, &only_dc);
        if !dc::worth_trying(&residual) {
            return delivered;
        }
        let dc_free_file = |i: usize| -> Result<WavFile> {
            let f = self.file(i)?;
            Ok(match file_dc(i) {
                Some(d) => f.without_dc(d.means),
                None => f,
            })
        };
        let Ok(mix) = dc_free_file(*mi) else {
            return delivered;
        };
        let stem_files: Vec<Option<WavFile>> =
            stems.iter().map(|&i| dc_free_file(i).ok()).collect();
        let pairs = self.pairs_in(stems);
        let Ok((dc_free, _)) =
            reconcile_and_diagnose_files(&mix, &stem_files, &pairs, self.opts.profile, &|_| {})
        else {
            return delivered;
        };
        let deeper = match (
            delivered.aligned_null_depth_db,
            dc_free.aligned_null_depth_db,
        ) {
            (Some(with_dc), Some(without)) => with_dc - without >= dc::DC_EXPLAINS_DB,
            _ => false,
        };
        crate::reconcile::dbg_align(|| {
            format!(
                "dc: residual {residual:?}, aligned null {:?} -> {:?}",
                delivered.aligned_null_depth_db, dc_free.aligned_null_depth_db
            )
        });
        if !deeper {
            return delivered;
        }
        // Which files, and how much each must lose, through the gains the DC-free fit
        // measured (a mono stem enters a stereo mix at its pan law, not at unity).
        let fitted: Vec<(&str, dc::FileDc<'_>)> = stems
            .iter()
            .zip(&dc_free.stems)
            .filter_map(|(&i, fit)| {
                file_dc(i).map(|d| {
                    let gains = fit
                        .as_ref()
                        .filter(|f| f.active && f.channel_gains.len() == mix_dc.means.len())
                        .map(|f| f.channel_gains.as_slice());
                    (self.inputs[i].name.as_str(), dc::FileDc { gains, ..d })
                })
            })
            .collect();
        let only_fitted: Vec<dc::FileDc<'_>> = fitted.iter().map(|s| s.1).collect();
        let residual_fitted = dc::residual_dc(mix_dc, &only_fitted);
        let files = dc::named_files(&residual_fitted, (&self.inputs[*mi].name, mix_dc), &fitted);
        if files.is_empty() {
            return delivered;
        }
        dc::adopt(&delivered, dc_free, &residual_fitted, files)
    }

    /// Meters every file on a small pool of threads (results in input order; a file that did
    /// not open has its open error as result).
    ///
    /// The reconciliation does not need the meters, only which files are readable at the
    /// mix's rate: it starts at once from the headers on a core of its own, beside the
    /// metering, and [`reconcile_mix`](Self::reconcile_mix) redoes it in the rare case that
    /// metering finds a file the headers did not warn about. Sets above
    /// [`MAX_RECONCILE_STEMS`] are never reconciled, so never start one.
    fn meter_all(
        &self,
        open_errors: Vec<Option<Error>>,
        mix_index: Option<usize>,
    ) -> (Vec<Result<Metered>>, Option<Speculative>) {
        let n_inputs = self.inputs.len();
        let planned = reconcile_plan(n_inputs, mix_index, |i| {
            let in_sum = Some(i) == mix_index || self.inputs[i].role == Role::Stem;
            self.opened[i]
                .info()
                .filter(|_| in_sum)
                .map(|h| h.sample_rate)
        })
        .filter(|(_, stems)| !stems.is_empty() && stems.len() <= MAX_RECONCILE_STEMS);
        // The work, fixed before any audio is read: every opened file metered, and the
        // planned files streamed once more by the reconciliation.
        let frames = |i: usize| self.opened[i].info().map_or(0, |h| h.frames);
        let meter_frames: u64 = (0..n_inputs).map(frames).sum();
        let (reconcile_frames, mix_frames) = planned.as_ref().map_or((0, 0), |(mi, stems)| {
            (
                frames(*mi) + stems.iter().map(|&i| frames(i)).sum::<u64>(),
                frames(*mi),
            )
        });
        self.tracker
            .set_total(meter_frames, reconcile_frames, mix_frames);
        self.tracker.begin(Stage::Metering);
        let meters_running = AtomicUsize::new(0);
        let results: Vec<Mutex<Option<Result<Metered>>>> = open_errors
            .into_iter()
            .map(|e| Mutex::new(e.map(Err)))
            .collect();
        let next = AtomicUsize::new(0);
        let threads = self.opts.threads.clamp(1, n_inputs.max(1));
        let meter_threads = if planned.is_some() {
            threads.saturating_sub(1).max(1)
        } else {
            threads
        };
        let speculative = std::thread::scope(|s| {
            let rec = planned
                .as_ref()
                .map(|plan| s.spawn(|| (plan.clone(), self.reconcile(plan))));
            meters_running.store(meter_threads, Ordering::Relaxed);
            for _ in 0..meter_threads {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n_inputs {
                            break;
                        }
                        if matches!(self.opened[i], Opened::Failed) {
                            continue;
                        }
                        let r = self.meter_one(i);
                        *results[i].lock().expect("no panics while holding") = Some(r);
                    }
                    // The last metering thread to finish ends the stage.
                    if meters_running.fetch_sub(1, Ordering::Relaxed) == 1 {
                        self.tracker.end(Stage::Metering);
                    }
                });
            }
            rec.map(|h| h.join().expect("reconciliation does not panic"))
        });
        let results = results
            .into_iter()
            .map(|m| {
                m.into_inner()
                    .expect("not poisoned")
                    .expect("every file metered")
            })
            .collect();
        (results, speculative)
    }

    /// Reconciles the readable stems at the mix's rate against the mix (reusing the
    /// speculative run when its plan holds), or says why not; fills the stems' fits into
    /// `files` and adds the causes.
    fn reconcile_mix(
        &self,
        mix_index: Option<usize>,
        results: &[Result<Metered>],
        mut speculative: Option<Speculative>,
        files: &mut [FileReport],
        causes: &mut Vec<Cause>,
    ) -> Option<(Reconciliation, usize)> {
        let inputs = self.inputs;
        let readable = |i: usize| results[i].as_ref().ok();
        let Some(mi) = mix_index else {
            causes.push(Cause::NoMix);
            return None;
        };
        if readable(mi).is_none() {
            causes.push(Cause::MixUnreadable {
                mix: inputs[mi].name.clone(),
            });
            return None;
        }
        // Every readable stem enters the sum; one at another rate is read resampled to the
        // mix's (its rate is still a `sample_rate_mismatch` of the delivery checks).
        let stems: Vec<usize> = (0..inputs.len())
            .filter(|&i| i != mi && inputs[i].role == Role::Stem && readable(i).is_some())
            .collect();
        if stems.len() > MAX_RECONCILE_STEMS {
            causes.push(Cause::TooManyStems {
                mix: inputs[mi].name.clone(),
                stems: stems.len(),
                max_stems: MAX_RECONCILE_STEMS,
            });
            return None;
        }
        if stems.is_empty() {
            causes.push(Cause::NoStemAtMixRate);
            return None;
        }
        let plan = (mi, stems);
        let result = match speculative.take() {
            Some((p, r)) if p == plan => r,
            _ => self.reconcile(&plan),
        }
        .map(|r| self.without_dc_mismatch(&plan, r, results));
        match result {
            Ok(result) => {
                let active = result.stems.iter().flatten().filter(|f| f.active).count();
                let rec = self.take_result(&plan, result, results, files, causes);
                Some((rec, active))
            }
            Err(e) => {
                causes.push(Cause::ReconciliationFailed {
                    reason: e.to_string(),
                });
                None
            }
        }
    }

    /// What the report takes from a reconciliation: each stem's fit into its file entry, the
    /// level timeline, and the causes renamed from paths to the report's names.
    fn take_result(
        &self,
        (mi, stems): &Plan,
        result: ReconcileResult,
        results: &[Result<Metered>],
        files: &mut [FileReport],
        causes: &mut Vec<Cause>,
    ) -> Reconciliation {
        let (inputs, mi) = (self.inputs, *mi);
        let name_of_path = |p: &str| {
            inputs
                .iter()
                .find(|i| names::lossless_path(&i.path) == p || i.name == p)
                .map_or_else(|| p.to_owned(), |i| i.name.clone())
        };
        for (k, fit) in result.stems.iter().enumerate() {
            if let Some(fit) = fit {
                let file = &mut files[stems[k]];
                // Captures are keyed by timeline position: a capture that began later on the
                // timeline holds its audio earlier in its file, which is not an offset of the
                // stem itself.
                let timeline_shift = match (&inputs[stems[k]].capture, &inputs[mi].capture) {
                    (Some(s), Some(m)) => s.timeline_start_samples - m.timeline_start_samples,
                    _ => 0,
                };
                file.offset_samples = Some(fit.offset_samples + timeline_shift);
                file.gain_db = Some(fit.gain_db);
                file.polarity = Some(fit.polarity);
            }
        }
        if let Ok(mut kept) = self.residuals.lock() {
            *kept = Some(Residuals {
                mix: inputs[mi].path.clone(),
                stems: stems.iter().map(|&i| inputs[i].path.clone()).collect(),
                pairs: self.pairs_in(stems),
                plan: result.residual_plan.clone(),
            });
        }
        let mut rec = result.reconciliation;
        rec.excluded_files = self.excluded_stems(mi, results, stems, &result.stems);
        rec.timeline = Some(level_timeline(
            &result.blocks,
            result.sample_rate,
            result.mix_channels,
        ));
        rec.mix = Some(inputs[mi].name.clone());
        // Reconciliation speaks of paths; the report speaks of names.
        let excluded: Vec<String> = rec.excluded_files.iter().map(|e| e.path.clone()).collect();
        causes.extend(result.causes.into_iter().map(|mut c| {
            c.rename_files(name_of_path);
            if !excluded.is_empty() {
                // What the sum misses may be an excluded stem's, and the other stems' fits
                // lean towards filling its place: neither blames the stems that are there.
                c.note_excluded(&excluded);
                c.attribute_to(FindingCode::ReconciliationIncomplete);
            }
            c
        }));
        // A consequence of a reported cause (a length a start offset explains, the mix's flat
        // tops under bus processing) is that cause's, not a finding of its own.
        cause::fold_consequences(causes);
        if !rec.excluded_files.is_empty() {
            causes.push(Cause::ReconciliationIncomplete {
                excluded: rec.excluded_files.clone(),
            });
        }
        rec
    }

    /// The stems that could not enter the sum, with why: every stem whose file could not be
    /// read, and every stem of the plan that got no fit although it holds frames (its source
    /// could not be built). Other candidates for the mix (references) are not stems.
    fn excluded_stems(
        &self,
        mi: usize,
        results: &[Result<Metered>],
        planned: &[usize],
        fits: &[Option<crate::reconcile::StemFit>],
    ) -> Vec<ExcludedFile> {
        let mut out = Vec::new();
        for (i, input) in self.inputs.iter().enumerate() {
            if i == mi || input.role != Role::Stem {
                continue;
            }
            let reason = match &results[i] {
                Err(e) => format!("unreadable: {}", e.problem()),
                Ok(m) => match planned.iter().position(|&p| p == i) {
                    Some(k) if fits.get(k).is_some_and(Option::is_none) && m.info.frames > 0 => {
                        "its audio could not be read for the reconciliation".to_owned()
                    }
                    _ => continue,
                },
            };
            out.push(ExcludedFile {
                path: input.name.clone(),
                reason,
            });
        }
        out
    }
}
