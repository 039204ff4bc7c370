//! The mix instance's reconciliation: when its capture of a bounce completes, wait (on a
//! background thread, never the audio or GUI thread) for the other captures of the same bounce
//! folder to finish, then run analyzer-core on the folder — the same check as
//! `stemcheck check <bounce folder>` — and publish the report for the editor.
//!
//! Captures from other processes are seen through their sidecars only. A newer bounce replaces
//! the one being waited for, so a second bounce never mixes with the first (each bounce has
//! its own folder).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use analyzer_core::capture::{self, CaptureState};
use analyzer_core::report::Report;

use crate::shared::{CompletedMix, ReconcileState, Shared};

/// The analysis run on a finished bounce folder; fails with analyzer-core's error (the panel
/// shows its message). The flag is set when the plugin is destroyed mid-analysis: the analysis
/// should stop soon after (analyzer-core's check stops at its next read and fails with
/// [`analyzer_core::Error::Cancelled`]), since the host waits for it.
pub type AnalyzeFn = fn(&Path, &Arc<AtomicBool>) -> Result<Report, analyzer_core::Error>;

/// How long the other captures get to finish after the mix did. Stems of an offline render in
/// another process can trail the mix by a few seconds; a crashed one must not hang the panel.
pub const WAIT_FOR_STEMS: Duration = Duration::from_secs(60);
/// The panel always waits at least this long after the mix completed, so stem captures that
/// were still being claimed in other processes are seen before the bounce counts as finished.
pub const SETTLE: Duration = Duration::from_millis(500);
const POLL: Duration = Duration::from_millis(100);

/// analyzer-core's folder check with default options (mastering profile), two worker threads
/// so the host keeps its cores, stopped when `cancel` is set.
///
/// # Errors
/// What [`analyzer_core::analyze::check_paths`] fails with (folder missing or unreadable, ...);
/// [`analyzer_core::Error::Cancelled`] once `cancel` is set.
pub fn analyze_folder(
    folder: &Path,
    cancel: &Arc<AtomicBool>,
) -> Result<Report, analyzer_core::Error> {
    let opts = analyzer_core::analyze::Options {
        threads: 2,
        cancel: Some(cancel.clone()),
        ..Default::default()
    };
    analyzer_core::analyze::check_paths(&[folder.to_path_buf()], &opts)
}

/// Handle to the reconciliation thread. Dropping it cancels a running analysis, closes the
/// channel and joins the thread, so no thread outlives the plugin (a host may unload the
/// plugin's library right after destroying the instance) and the host's wait is short.
#[derive(Debug)]
pub struct Reconciler {
    tx: Option<Sender<CompletedMix>>,
    thread: Option<JoinHandle<()>>,
    /// Set on drop: stops a running analysis (see [`AnalyzeFn`]).
    cancel: Arc<AtomicBool>,
}

impl Drop for Reconciler {
    fn drop(&mut self) {
        // A running analysis stops at its next read (a 3-minute, 13-stem bounce takes ~15 s
        // of CPU to check: Ardour's session close waited that long before).
        self.cancel.store(true, Ordering::Relaxed);
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Reconciler {
    /// Starts the thread.
    ///
    /// # Errors
    /// When the OS cannot create a thread.
    pub fn spawn(shared: Arc<Shared>, analyze: AnalyzeFn) -> std::io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let thread_cancel = cancel.clone();
        let thread = std::thread::Builder::new()
            .name("stemcheck-reconcile".into())
            .spawn(move || run(rx, &shared, analyze, &thread_cancel))?;
        Ok(Self {
            tx: Some(tx),
            thread: Some(thread),
            cancel,
        })
    }

    /// Where the capture writer reports completed mix captures.
    pub fn sender(&self) -> Option<Sender<CompletedMix>> {
        self.tx.clone()
    }
}

fn run(rx: Receiver<CompletedMix>, shared: &Shared, analyze: AnalyzeFn, cancel: &Arc<AtomicBool>) {
    let mut next = None;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        next = reconcile_one(&rx, shared, analyze, cancel, job);
    }
}

/// Waits for the bounce, analyses it, publishes the result. Returns a newer job if one
/// arrived while waiting (it replaces this one).
fn reconcile_one(
    rx: &Receiver<CompletedMix>,
    shared: &Shared,
    analyze: AnalyzeFn,
    cancel: &Arc<AtomicBool>,
    job: CompletedMix,
) -> Option<CompletedMix> {
    let started = Instant::now();
    loop {
        let now = capture::now_unix_ms();
        let bounce = capture::read_bounce(&job.folder);
        let (finished, count) = match &bounce {
            Ok(b) => (
                b.is_finished(now)
                    && b.captures
                        .iter()
                        .all(|c| c.sidecar.state != CaptureState::Recording),
                b.captures.len(),
            ),
            Err(_) => (false, 0),
        };
        *shared.reconcile.lock() = ReconcileState::Waiting {
            bounce_id: job.bounce_id.clone(),
            captures: count,
        };
        if (finished && started.elapsed() >= SETTLE) || started.elapsed() >= WAIT_FOR_STEMS {
            break;
        }
        match rx.recv_timeout(POLL) {
            Ok(newer) if newer.bounce_id != job.bounce_id => return Some(newer),
            // The same bounce again (capture reopened after a host stall): keep waiting.
            Ok(_) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    }
    let state = analyzed(shared, job.bounce_id, job.folder, analyze, cancel);
    publish(shared, state);
    None
}

/// Runs the analysis on `folder` and returns the state to publish (`Analyzing` is published
/// while it runs).
fn analyzed(
    shared: &Shared,
    bounce_id: String,
    folder: PathBuf,
    analyze: AnalyzeFn,
    cancel: &Arc<AtomicBool>,
) -> ReconcileState {
    *shared.reconcile.lock() = ReconcileState::Analyzing {
        bounce_id: bounce_id.clone(),
    };
    match analyze(&folder, cancel) {
        Ok(report) => ReconcileState::Done {
            bounce_id,
            folder,
            report: Box::new(report),
        },
        Err(e) => ReconcileState::Failed {
            bounce_id,
            reason: e.to_string(),
        },
    }
}

/// Publishes a finished check for the panel, noting how far the transport had played (the
/// panel marks the verdict "previous bounce" once it plays on).
fn publish(shared: &Shared, state: ReconcileState) {
    let played = shared.played_blocks.load(Ordering::Relaxed);
    shared
        .played_blocks_at_verdict
        .store(played, Ordering::Relaxed);
    *shared.reconcile.lock() = state;
}

/// Checks `folder` on a background thread and shows the result as if a bounce into it had just
/// finished. The standalone build does this at start for `STEMCHECK_SHOW_FOLDER` (the editor
/// screenshot shows the demo song's check this way); the thread is detached, which only a
/// standalone process may do (a host can unload the plugin library under a running thread).
///
/// # Errors
/// When the OS cannot create a thread.
pub fn show_folder(
    shared: Arc<Shared>,
    folder: PathBuf,
    analyze: AnalyzeFn,
) -> std::io::Result<()> {
    let bounce_id = folder.file_name().map_or_else(
        || folder.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    std::thread::Builder::new()
        .name("stemcheck-show-folder".into())
        .spawn(move || {
            // Never cancelled: the standalone's process ends with it.
            let state = analyzed(&shared, bounce_id, folder, analyze, &Arc::default());
            publish(&shared, state);
        })?;
    Ok(())
}

/// Name of the change log's JSON in a repaired set (as `stemcheck fix` writes it).
pub const CHANGE_LOG_JSON: &str = "stemcheck-fix.json";
/// Name of the readable change log in a repaired set.
pub const CHANGE_LOG_TEXT: &str = "stemcheck-fix.txt";

/// Why "Write repaired set" wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    /// The bounce could not be checked.
    #[error("checking {folder}: {source}")]
    Check {
        folder: PathBuf,
        source: analyzer_core::Error,
    },
    /// The fix refused (an uncertain or uncorrectable finding) or failed; a refusal's text
    /// names every reason and what it would need.
    #[error(transparent)]
    Fix(#[from] analyzer_core::fix::FixError),
    /// The repaired set or its change log could not be written.
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The bounce folder has no parent or no name to put the repaired set beside it.
    #[error("{folder} has no parent folder to write the repaired set into")]
    NoParent { folder: PathBuf },
}

impl RepairError {
    /// Whether the fix declined to act (as `stemcheck fix`'s exit status 1), rather than
    /// failing.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Fix(e) if e.is_refusal())
    }
}

/// A repaired set that was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    /// The folder it went to.
    pub folder: PathBuf,
    /// The readable change log (also written there as [`CHANGE_LOG_TEXT`]).
    pub log_text: String,
}

/// Where the repaired set of `bounce` goes: `<bounce>-repaired` beside it, or the first free
/// `<bounce>-repaired-N` (N = 2, 3, ...): an earlier repaired set is never overwritten.
pub fn repaired_folder(bounce: &Path) -> Option<PathBuf> {
    let parent = bounce.parent()?;
    let name = bounce.file_name()?.to_string_lossy().into_owned();
    let first = parent.join(format!("{name}-repaired"));
    if !first.exists() {
        return Some(first);
    }
    (2..)
        .map(|n| parent.join(format!("{name}-repaired-{n}")))
        .find(|p| !p.exists())
}

/// "Write repaired set": analyzer-core's fix (the one `stemcheck fix` runs, default options:
/// no gain matching, no residual stem unless `opts` asks) of the bounce `folder` into
/// [`repaired_folder`], with the change log beside the files. The set is written into a
/// hidden folder first and renamed into place once complete, so a refusal or failure leaves
/// nothing behind. Slow (reads and writes every file): call it off the GUI and audio threads.
///
/// # Errors
/// [`RepairError`]: a refusal (see [`RepairError::is_refusal`]), a failed check, or I/O.
pub fn write_repaired(
    folder: &Path,
    opts: analyzer_core::fix::FixOptions,
) -> Result<Repaired, RepairError> {
    let out = repaired_folder(folder).ok_or_else(|| RepairError::NoParent {
        folder: folder.to_path_buf(),
    })?;
    let check_opts = analyzer_core::analyze::Options {
        threads: 2,
        ..Default::default()
    };
    let checked =
        analyzer_core::analyze::check_paths_with_causes(&[folder.to_path_buf()], &check_opts)
            .map_err(|source| RepairError::Check {
                folder: folder.to_path_buf(),
                source,
            })?;
    let work = out.with_file_name(format!(
        ".{}.partial-{}",
        out.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RepairError::Io { path, source }
    };
    std::fs::create_dir_all(&work).map_err(io(&work))?;
    let result = (|| {
        let log = analyzer_core::fix::fix_delivery(&checked, &work, opts)?;
        let text = log.to_text();
        let json_path = work.join(CHANGE_LOG_JSON);
        std::fs::write(&json_path, log.to_json()).map_err(io(&json_path))?;
        let text_path = work.join(CHANGE_LOG_TEXT);
        std::fs::write(&text_path, &text).map_err(io(&text_path))?;
        std::fs::rename(&work, &out).map_err(io(&out))?;
        Ok(Repaired {
            folder: out.clone(),
            log_text: text,
        })
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&work);
    }
    result
}
