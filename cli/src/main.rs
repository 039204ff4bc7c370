//! `stemcheck`: check a stem delivery against its mix. See `shared/spec/report-contract.md`
//! for the command line, the JSON and the exit statuses (0 pass, 1 findings at --fail-on, 2
//! could not run).

mod demo;
mod html;
mod render;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use analyzer_core::analyze::{self, Options, Progress};
use analyzer_core::capture;
use analyzer_core::{Profile, Report, Severity};
use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Parser, Debug)]
#[command(
    name = "stemcheck",
    version,
    about = "Check that a stem delivery is usable and sums back to the mix"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check audio files and folders (WAV, AIFF, FLAC; a delivery folder or a plugin bounce folder).
    Check(CheckArgs),
    /// Synthesize a short multi-stem song with one delivery fault, check it and print the report.
    Demo {
        /// Keep the rendered stems in this folder instead of a temporary one.
        #[arg(long)]
        keep: Option<PathBuf>,
        /// Also write the JSON report here ('-' for standard output).
        #[arg(long)]
        json: Option<String>,
    },
    /// List the delivery profiles and their thresholds.
    Profiles,
    /// List the plugin's bounce folders, newest first (STEMCHECK_CAPTURE_DIR or the default).
    Bounces {
        /// Capture root to list instead of STEMCHECK_CAPTURE_DIR / the platform default.
        #[arg(long)]
        root: Option<PathBuf>,
    },
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// Audio files (WAV, AIFF, FLAC) and folders of them.
    #[arg(required_unless_present = "latest")]
    paths: Vec<PathBuf>,
    /// Check the newest complete bounce captured by the plugin (see `stemcheck bounces`).
    #[arg(long, conflicts_with = "paths")]
    latest: bool,
    /// The mix to reconcile the stems against (else plugin metadata, else a name with mix/master).
    #[arg(long)]
    mix: Option<PathBuf>,
    /// Write the JSON report to FILE, or '-' for standard output (then nothing else is printed there).
    #[arg(long, value_name = "FILE|-")]
    json: Option<String>,
    /// Write a self-contained HTML report (charts as inline SVG) to FILE.
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
    /// Delivery profile: thresholds for headroom, true peak, bit depth, sample rate.
    #[arg(long, default_value = "mastering", value_parser = parse_profile)]
    profile: &'static Profile,
    /// Exit with status 1 when a finding reaches this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Worker threads for metering (default: the number of cores).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum FailOn {
    Error,
    Warning,
    Never,
}

fn parse_profile(name: &str) -> Result<&'static Profile, String> {
    Profile::by_name(name).ok_or_else(|| {
        let names: Vec<&str> = analyzer_core::profile::ALL.iter().map(|p| p.name).collect();
        format!("unknown profile '{name}' (known: {})", names.join(", "))
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("stemcheck: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Demo { keep, json } => demo::run(keep, json),
        Command::Bounces { root } => bounces(root),
        Command::Profiles => {
            for p in analyzer_core::profile::ALL {
                println!("{:<10} {}", p.name, p.description);
                println!(
                    "           stem peak <= {} dBFS, true peak <= {} dBTP, int >= {}-bit, rate {}, gain tolerance {} dB, null <= {} dB",
                    p.stem_peak_max_dbfs,
                    p.true_peak_max_dbtp,
                    p.min_int_bits,
                    p.required_sample_rate
                        .map_or("any".to_owned(), |r| format!("{r} Hz")),
                    p.gain_tolerance_db,
                    p.null_pass_db
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A progress bar on stderr that only appears once a run has taken more than a second.
struct DelayedBar {
    bar: ProgressBar,
    start: Instant,
    shown: AtomicBool,
}

impl DelayedBar {
    fn new() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{spinner} checking [{bar:30}] {percent:>3}% {elapsed}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        Self {
            bar,
            start: Instant::now(),
            shown: AtomicBool::new(false),
        }
    }

    fn update(&self, p: Progress) {
        match p {
            Progress::Total(n) => self.bar.set_length(n),
            Progress::Advance(n) => self.bar.inc(n),
        }
        if !self.shown.load(Ordering::Relaxed)
            && self.start.elapsed() > Duration::from_secs(1)
            && std::io::stderr().is_terminal()
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn capture_root(root: Option<PathBuf>) -> Result<PathBuf> {
    root.or_else(capture::default_capture_root)
        .ok_or_else(|| anyhow!("no capture folder: set STEMCHECK_CAPTURE_DIR"))
}

fn bounces(root: Option<PathBuf>) -> Result<ExitCode> {
    let root = capture_root(root)?;
    let list = capture::list_bounces(&root);
    if list.is_empty() {
        println!("No bounces under {}.", root.display());
        return Ok(ExitCode::SUCCESS);
    }
    let now = capture::now_unix_ms();
    println!("Bounces under {} (newest first):", root.display());
    for b in &list {
        let state = if b.is_complete(now) {
            "complete"
        } else if b.is_finished(now) {
            "incomplete"
        } else {
            "recording"
        };
        let mix = b
            .mix()
            .map_or("no mix".to_owned(), |m| format!("mix: {}", m.sidecar.label));
        let age_s = now.saturating_sub(b.created_unix_ms) / 1000;
        println!(
            "  {:<40} {:<10} {:>2} capture(s), {}, {} ago",
            b.bounce_id,
            state,
            b.captures.len(),
            mix,
            human_age(age_s)
        );
        for e in &b.unreadable {
            println!("      unreadable sidecar: {e}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn human_age(s: u64) -> String {
    match s {
        0..120 => format!("{s} s"),
        120..7200 => format!("{} min", s / 60),
        7200..172_800 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

fn check(mut args: CheckArgs) -> Result<ExitCode> {
    if args.latest {
        let root = capture_root(None)?;
        let bounce = capture::latest_complete_bounce(&root)
            .ok_or_else(|| anyhow!("no complete bounce under {}", root.display()))?;
        eprintln!(
            "Checking bounce {} ({})",
            bounce.bounce_id,
            bounce.path.display()
        );
        args.paths = vec![bounce.path];
    }
    let bar = DelayedBar::new();
    let progress = |p: Progress| bar.update(p);
    let opts = Options {
        profile: args.profile,
        mix: args.mix.clone(),
        threads: args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        progress: Some(&progress),
    };
    let report = analyze::check_paths(&args.paths, &opts).map_err(|e| anyhow!(e))?;
    bar.finish();
    emit(&report, args.json.as_deref())?;
    if let Some(path) = &args.report {
        std::fs::write(path, html::render(&report))
            .with_context(|| format!("cannot write HTML report to {}", path.display()))?;
        if args.json.as_deref() != Some("-") {
            eprintln!("HTML report written to {}", path.display());
        }
    }
    if report.files.iter().all(|f| f.error.is_some()) {
        bail!("no readable input: every file failed to read (see the findings above)");
    }
    Ok(exit_status(&report, args.fail_on))
}

/// Prints the human report (unless JSON goes to stdout) and writes the JSON where asked.
pub(crate) fn emit(report: &Report, json: Option<&str>) -> Result<()> {
    match json {
        Some("-") => println!("{}", report.to_json()),
        Some(path) => {
            std::fs::write(path, report.to_json() + "\n")
                .with_context(|| format!("cannot write JSON report to {path}"))?;
            print!("{}", render::human(report, std::io::stdout().is_terminal()));
        }
        None => print!("{}", render::human(report, std::io::stdout().is_terminal())),
    }
    Ok(())
}

fn exit_status(report: &Report, fail_on: FailOn) -> ExitCode {
    let level = match fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Never => None,
    };
    if level.is_some_and(|l| report.fails_at(l)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
