//! `stemcheck fix DELIVERY --out FOLDER`: writes a corrected copy of a delivery (see
//! `analyzer_core::fix`), with its change log beside the files, and prints the log.
//!
//! The copy is written into a temporary folder next to `--out` and moved into place only when
//! every file is written: a fix that stops half-way leaves nothing behind, and an existing
//! `--out` is replaced only with `--force`. The delivery itself is only read.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use analyzer_core::Profile;
use analyzer_core::analyze::{self, Options};
use analyzer_core::fix::{self, FixError, FixOptions, ResidualMode};
use anyhow::{Context, Result, anyhow, bail};
use clap::ValueEnum;

/// Name of the change log's JSON in the output folder.
pub const CHANGE_LOG_JSON: &str = "stemcheck-fix.json";
/// Name of the readable change log in the output folder.
pub const CHANGE_LOG_TEXT: &str = "stemcheck-fix.txt";

/// `fix --help`: what it does and what the exit statuses mean.
pub const AFTER_HELP: &str = "\
Acts only on findings that are certain: shifts, inverted polarity, swapped or inverted
channels, clock drift, another sample rate, lengths. Gains only with --match-gains. Content
no stem carries (an effect return, a part) only with --residual-stem, which writes it as one
more stem; bus processing (compression, EQ on the mix) only with --residual-stem=bus-processing.

Exit status:
  0  the corrected set and its change log (stemcheck-fix.json, stemcheck-fix.txt) are written
  1  refused: a finding is uncertain or not correctable (the reason and what it needs are
     printed); nothing is written
  2  could not run: bad arguments, an existing --out without --force, unreadable input";

/// What `--residual-stem` may stand in for.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResidualArg {
    /// Content no stem carries: an effect return, a part left out.
    Content,
    /// Also bus processing on the mix (compression, EQ): asked for explicitly.
    BusProcessing,
}

/// `stemcheck fix`.
#[derive(clap::Args, Debug)]
pub struct FixArgs {
    /// The delivery: a folder, or its files (WAV, AIFF, FLAC).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Folder to write the corrected set into.
    #[arg(long)]
    out: PathBuf,
    /// Replace --out when it exists.
    #[arg(long)]
    force: bool,
    /// Apply the measured gain corrections of gain findings.
    #[arg(long)]
    match_gains: bool,
    /// Write what the stems miss (mix minus their corrected sum) as one more stem.
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "content")]
    residual_stem: Option<ResidualArg>,
    /// The mix (else plugin metadata, else a name with mix/master).
    #[arg(long)]
    mix: Option<PathBuf>,
    /// Delivery profile the check judges by (see `stemcheck profiles`).
    #[arg(long, default_value = "mastering", value_parser = crate::parse_profile)]
    profile: &'static Profile,
}

/// Whether `a` is `b` or lies inside it.
fn within(a: &Path, b: &Path) -> bool {
    a.starts_with(b)
}

/// Refuses an `--out` that is, holds or lies in the delivery: the originals are never touched.
fn check_out(args: &FixArgs) -> Result<PathBuf> {
    let parent = match args.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let parent = parent
        .canonicalize()
        .with_context(|| format!("--out's folder {} does not exist", parent.display()))?;
    let out = parent.join(
        args.out
            .file_name()
            .ok_or_else(|| anyhow!("--out {} names no folder", args.out.display()))?,
    );
    for p in &args.paths {
        let p = p
            .canonicalize()
            .with_context(|| format!("cannot read {}", p.display()))?;
        if within(&out, &p) || within(&p, &out) {
            bail!(
                "--out {} overlaps the delivery {}: write the corrected set elsewhere (the \
                 originals are never touched)",
                out.display(),
                p.display()
            );
        }
    }
    if out.exists() && !args.force {
        bail!(
            "--out {} exists: give --force to replace it, or another folder",
            out.display()
        );
    }
    Ok(out)
}

/// Runs `stemcheck fix`.
pub fn run(args: &FixArgs) -> Result<ExitCode> {
    let out = check_out(args)?;
    let opts = Options {
        profile: args.profile,
        mix: args.mix.clone(),
        ..Options::default()
    };
    let checked = analyze::check_paths_with_causes(&args.paths, &opts).map_err(|e| anyhow!(e))?;
    let parent = out.parent().unwrap_or(Path::new("."));
    let work = tempfile::Builder::new()
        .prefix(".stemcheck-fix-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    let fix_opts = FixOptions {
        match_gains: args.match_gains,
        residual: match args.residual_stem {
            None => ResidualMode::Off,
            Some(ResidualArg::Content) => ResidualMode::Content,
            Some(ResidualArg::BusProcessing) => ResidualMode::BusProcessing,
        },
    };
    let log = match fix::fix_delivery(&checked, work.path(), fix_opts) {
        Ok(log) => log,
        Err(e) if e.is_refusal() => {
            let _ = writeln!(std::io::stderr(), "stemcheck: {}", refusal(&e));
            let _ = writeln!(
                std::io::stderr(),
                "nothing written; `stemcheck check` shows every finding"
            );
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(anyhow!(e)),
    };
    let text = log.to_text();
    let write = |name: &str, body: &str| {
        std::fs::write(work.path().join(name), body)
            .with_context(|| format!("cannot write the change log {name}"))
    };
    write(CHANGE_LOG_JSON, &log.to_json())?;
    write(CHANGE_LOG_TEXT, &text)?;
    if out.exists() {
        std::fs::remove_dir_all(&out)
            .with_context(|| format!("cannot replace {}", out.display()))?;
    }
    let work = work.keep();
    std::fs::rename(&work, &out)
        .with_context(|| format!("cannot move the corrected set to {}", out.display()))?;
    crate::output::print(&format!(
        "{text}\nWritten to {} (change log: {CHANGE_LOG_TEXT}, {CHANGE_LOG_JSON}).\nVerify with: stemcheck check {}\n",
        out.display(),
        out.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// A refusal's text: the reasons, each with what it needs.
fn refusal(e: &FixError) -> String {
    match e {
        FixError::Refused(_) => e.to_string(),
        other => format!("fix refused: {other}"),
    }
}
