//! `stemcheck batch ROOT`: a day's intake in one command. Every delivery folder under ROOT is
//! checked as its own set (never merged with another), several at a time, with a summary table,
//! one JSON report per delivery as JSON Lines, and an exit status that summarises them all.
//!
//! A delivery folder is ROOT itself or any folder below it that directly holds audio files
//! (the extensions in [`AUDIO_EXTENSIONS`], AppleDouble `._*` files not counted) or is a plugin
//! bounce folder. Hidden folders (`.name`), `__MACOSX` and symbolic links to folders are not
//! entered. A folder holding audio and subfolders with audio is a delivery, and so is each
//! subfolder: a check never reads a folder recursively.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use analyzer_core::analyze::{self, Options, lossless_path, name_says_mix};
use analyzer_core::report::Verdict;
use analyzer_core::{Profile, Report, Severity};
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::{self, Sink};
use crate::{FailOn, exit_code, render};

/// File extensions (case-insensitive) that make a folder a delivery.
pub const AUDIO_EXTENSIONS: [&str; 9] = [
    "wav", "wave", "bwf", "rf64", "bw64", "aif", "aiff", "aifc", "flac",
];

/// `batch --help`: what a delivery folder is, what is written where, the exit status.
pub const AFTER_HELP: &str = "\
A delivery folder is ROOT itself or any folder below it that directly holds audio files
(.wav .wave .bwf .rf64 .bw64 .aif .aiff .aifc .flac; AppleDouble ._* files do not count) or is a
plugin bounce folder. Each is checked as its own set, exactly as `stemcheck check FOLDER` would
(not recursively: a subfolder with audio is a delivery of its own). Hidden folders, __MACOSX and
symbolic links to folders are not entered. Several deliveries are checked at once, sharing the
--threads budget (default: the number of cores).

Output: a summary table on standard output (one row per delivery: folder, verdict, health,
errors, warnings, null depth as delivered). --jsonl PATH|- writes one line per delivery: the
full JSON report of `check --json` (see the report contract) with one more field, \"delivery\",
the folder it came from; a delivery that could not be checked at all is
{\"delivery\": ..., \"error\": \"...\"}. Names that are not valid UTF-8 are escaped as \\xNN.

Exit status: the worst over the deliveries, with the codes of `check`: 0 no finding reaches
--fail-on; 1 a delivery has a finding that does; 2 a delivery could not be checked (no
readable file, a folder that cannot be listed), no delivery under ROOT, or an output that
cannot be written. The other deliveries are still checked and reported.";

#[derive(clap::Args, Debug)]
pub struct BatchArgs {
    /// The folder holding the deliveries (see below).
    root: PathBuf,
    /// Write one JSON report per delivery, one per line (JSON Lines), to PATH or '-' for
    /// standard output (then the table is not printed).
    #[arg(long, value_name = "PATH|-")]
    jsonl: Option<PathBuf>,
    /// Delivery profile every delivery is judged by.
    #[arg(long, default_value = "mastering", value_parser = crate::parse_profile)]
    profile: &'static Profile,
    /// Delivery spec as a TOML file (keys: see the README), instead of --profile.
    #[arg(long, value_name = "PATH", conflicts_with = "profile")]
    profile_file: Option<PathBuf>,
    /// A delivery fails (exit status 1) when a finding reaches this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Worker threads over all deliveries (default: the number of cores).
    #[arg(long)]
    threads: Option<usize>,
}

/// What became of one delivery.
enum Outcome {
    /// Checked; the exit status `check` would have given it (2 when no file was readable).
    Checked { report: Box<Report>, status: u8 },
    /// Could not be checked at all.
    Failed(String),
}

impl Outcome {
    fn status(&self) -> u8 {
        match self {
            Outcome::Checked { status, .. } => *status,
            Outcome::Failed(_) => 2,
        }
    }
}

/// Runs `stemcheck batch`.
///
/// # Errors
/// When ROOT cannot be listed, holds no delivery, or an output cannot be written.
pub fn run(args: &BatchArgs) -> Result<ExitCode> {
    let jsonl = args.jsonl.as_deref().map(|p| Sink::parse(p.as_os_str()));
    if let Some(s) = &jsonl {
        s.preflight("the JSON Lines")?;
    }
    let loaded = args
        .profile_file
        .as_deref()
        .map(Profile::from_file)
        .transpose()?;
    let profile: &Profile = loaded.as_ref().unwrap_or(args.profile);
    let found = deliveries(&args.root)?;
    if found.is_empty() {
        bail!(
            "no delivery folder under {}: no folder there directly holds audio files ({})",
            args.root.display(),
            AUDIO_EXTENSIONS.join(", ")
        );
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let outcomes = check_all(&found, args, profile, threads);
    let mut lines = String::new();
    for ((dir, _), outcome) in found.iter().zip(&outcomes) {
        lines.push_str(&jsonl_line(dir, outcome)?);
        lines.push('\n');
    }
    if let Some(sink) = &jsonl {
        sink.write("the JSON Lines", &lines)?;
    }
    if jsonl != Some(Sink::Stdout) {
        output::print(&summary(&args.root, &found, &outcomes))?;
    }
    let worst = outcomes.iter().map(Outcome::status).max().unwrap_or(0);
    Ok(ExitCode::from(worst))
}

/// Checks every delivery, `threads` worker threads in all: as many deliveries at once as
/// there are threads (each check then meters on one), fewer deliveries than threads share the
/// rest. Results in the order of `found`.
fn check_all(
    found: &[(PathBuf, Option<String>)],
    args: &BatchArgs,
    profile: &Profile,
    threads: usize,
) -> Vec<Outcome> {
    let workers = threads.min(found.len()).max(1);
    let per_check = (threads / workers).max(1);
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Outcome>>> = found.iter().map(|_| Mutex::new(None)).collect();
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(found.len() as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) =
        ProgressStyle::with_template("checking deliveries [{bar:30}] {pos}/{len} {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((dir, listing_error)) = found.get(i) else {
                        break;
                    };
                    let outcome = match listing_error {
                        Some(e) => Outcome::Failed(e.clone()),
                        None => check_one(dir, args, profile, per_check),
                    };
                    if let Ok(mut slot) = results[i].lock() {
                        *slot = Some(outcome);
                    }
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish_and_clear();
    results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| Outcome::Failed("the check stopped unexpectedly".to_owned()))
        })
        .collect()
}

/// Checks one delivery folder as `stemcheck check DIR` would.
fn check_one(dir: &Path, args: &BatchArgs, profile: &Profile, threads: usize) -> Outcome {
    let opts = Options {
        profile,
        mix: None,
        threads,
        progress: None,
        cancel: None,
    };
    match analyze::check_paths(&[dir.to_owned()], &opts) {
        Ok(report) => {
            let status = if report.files.iter().all(|f| f.error.is_some()) {
                2
            } else {
                exit_code(&report, args.fail_on)
            };
            Outcome::Checked {
                report: Box::new(report),
                status,
            }
        }
        Err(e) => Outcome::Failed(output::describe(&anyhow::Error::new(e))),
    }
}

/// One JSON Lines line: the report with `"delivery"` first, or the delivery and its error.
fn jsonl_line(dir: &Path, outcome: &Outcome) -> Result<String> {
    let delivery = serde_json::to_string(&lossless_path(dir))?;
    Ok(match outcome {
        Outcome::Checked { report, .. } => {
            let json = serde_json::to_string(report).context("cannot serialise a report")?;
            let rest = json.strip_prefix('{').unwrap_or(&json);
            format!("{{\"delivery\":{delivery},{rest}")
        }
        Outcome::Failed(e) => {
            format!(
                "{{\"delivery\":{delivery},\"error\":{}}}",
                serde_json::to_string(e)?
            )
        }
    })
}

/// The summary table: one row per delivery and a closing count.
fn summary(root: &Path, found: &[(PathBuf, Option<String>)], outcomes: &[Outcome]) -> String {
    let names: Vec<String> = found
        .iter()
        .map(|(dir, _)| match dir.strip_prefix(root) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
            Ok(rel) => lossless_path(rel),
            Err(_) => lossless_path(dir),
        })
        .collect();
    let w = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(6)
        .clamp(6, 48);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<w$}  {:<8} {:>6} {:>6} {:>8}  {:>10}",
        "FOLDER", "VERDICT", "HEALTH", "ERRORS", "WARNINGS", "NULL"
    );
    let mut counts = [0usize; 4];
    for (name, outcome) in names.iter().zip(outcomes) {
        match outcome {
            Outcome::Checked { report, status } => {
                let count =
                    |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
                let verdict = if *status == 2 {
                    counts[3] += 1;
                    "NO INPUT"
                } else {
                    match report.verdict {
                        Verdict::Pass => {
                            counts[0] += 1;
                            "pass"
                        }
                        Verdict::Warn => {
                            counts[1] += 1;
                            "warn"
                        }
                        Verdict::Fail => {
                            counts[2] += 1;
                            "fail"
                        }
                    }
                };
                let null = report
                    .reconciliation
                    .as_ref()
                    .map_or_else(|| "no mix".to_owned(), |r| render::null_db(r.null_depth_db));
                let _ = writeln!(
                    out,
                    "{name:<w$}  {verdict:<8} {:>6} {:>6} {:>8}  {null:>10}",
                    report.health_score,
                    count(Severity::Error),
                    count(Severity::Warning),
                );
            }
            Outcome::Failed(e) => {
                counts[3] += 1;
                let _ = writeln!(out, "{name:<w$}  {:<8} could not be checked: {e}", "ERROR");
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{} deliveries: {} pass, {} warn, {} fail, {} not checked (NULL: stems summed as delivered against the mix)",
        outcomes.len(),
        counts[0],
        counts[1],
        counts[2],
        counts[3]
    );
    out
}

/// Is this a name of an audio file a delivery is made of (not AppleDouble debris)?
fn is_audio_name(name: &OsStr) -> bool {
    let path = Path::new(name);
    !name.as_encoded_bytes().starts_with(b"._")
        && path
            .extension()
            .and_then(OsStr::to_str)
            .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| e.eq_ignore_ascii_case(a)))
}

/// The delivery folders under `root`, sorted, each with the error that kept it from being
/// listed (a subfolder that cannot be read is reported, not skipped).
///
/// # Errors
/// When `root` itself is not a folder that can be listed.
pub fn deliveries(root: &Path) -> Result<Vec<(PathBuf, Option<String>)>> {
    if !root.is_dir() {
        bail!("{} is not a folder", root.display());
    }
    std::fs::read_dir(root).with_context(|| format!("cannot list {}", root.display()))?;
    let mut found = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                found.push((dir, Some(format!("cannot list the folder: {e}"))));
                continue;
            }
        };
        let mut holds_audio = analyze::is_bounce_folder(&dir);
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                let hidden = name.as_encoded_bytes().starts_with(b".") || name == "__MACOSX";
                if !hidden {
                    stack.push(entry.path());
                }
            } else if is_audio_name(&name) {
                holds_audio = true;
            }
        }
        if holds_audio {
            found.push((dir, None));
        }
    }
    found.sort();
    Ok(found)
}

/// Refuses `check` over folders that each look like a delivery of their own (a bounce folder,
/// or a folder directly holding a file whose name says mix): merged, two songs become one set
/// and every stem a `duplicate_stem` or an offset against the other song's mix.
///
/// # Errors
/// When two or more of `paths` are such folders; the message names them and points to
/// `stemcheck batch` and `--as-one-set`.
pub fn refuse_separate_deliveries(paths: &[PathBuf]) -> Result<()> {
    let own_mix: Vec<&PathBuf> = paths
        .iter()
        .filter(|p| p.is_dir() && has_own_mix(p))
        .collect();
    if own_mix.len() < 2 {
        return Ok(());
    }
    let list: Vec<String> = own_mix.iter().map(|p| p.display().to_string()).collect();
    bail!(
        "{} each hold a mix of their own: they look like separate deliveries, which `check` \
         would merge into one set. Check each folder on its own, or all of them with \
         `stemcheck batch <their parent folder>` (one report per delivery); to check them as \
         one set anyway, add --as-one-set",
        list.join(", ")
    )
}

/// Does folder `dir` hold its own mix (a plugin bounce, or an audio file named as a mix)?
fn has_own_mix(dir: &Path) -> bool {
    analyze::is_bounce_folder(dir)
        || std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name();
                is_audio_name(&name) && name_says_mix(&name.to_string_lossy())
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_names() {
        for n in ["a.wav", "B.WAV", "c.aif", "d.flac", "e.rf64"] {
            assert!(is_audio_name(OsStr::new(n)), "{n}");
        }
        for n in ["._a.wav", "notes.pdf", "a.mp3", "wav"] {
            assert!(!is_audio_name(OsStr::new(n)), "{n}");
        }
    }
}
