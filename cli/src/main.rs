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
    /// Check WAV files and folders (a delivery folder or a plugin bounce folder).
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
    /// WAV files and folders of WAVs.
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
    /// Delivery profile: thresholds for headroom, true peak, bit depth, sample rate (see `stemcheck profiles`).
    #[arg(long, default_value = "mastering", value_parser = parse_profile)]
    profile: &'static Profile,
    /// Delivery spec as a TOML file (keys: see the README), instead of --profile.
    #[arg(long, value_name = "PATH", conflicts_with = "profile")]
    profile_file: Option<PathBuf>,
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
        let names: Vec<&str> = analyzer_core::profile::all()
            .iter()
            .map(|p| p.name.as_str())
            .collect();
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
        Command::Profiles => list_profiles(),
    }
}

/// `stemcheck profiles`: every shipped profile with its source and its numbers.
fn list_profiles() -> Result<ExitCode> {
    for p in analyzer_core::profile::all() {
        println!("{:<15} {}", p.name, p.description);
        println!("{:<15} source: {}", "", p.source);
        let rates = if p.sample_rates_hz.is_empty() {
            "any".to_owned()
        } else {
            let hz: Vec<String> = p
                .sample_rates_hz
                .iter()
                .map(|r| format!("{r} Hz"))
                .collect();
            hz.join(" or ")
        };
        let mut terms = vec![
            format!("stem peak <= {} dBFS", p.stem_peak_max_dbfs),
            format!("true peak <= {} dBTP", p.true_peak_max_dbtp),
            format!("int >= {}-bit", p.min_int_bits),
            format!("rate {rates}"),
            format!("stems {}-{}", p.stem_count_range.0, p.stem_count_range.1),
            format!("gain tolerance {} dB", p.gain_tolerance_db),
            format!("null <= {} dB", p.null_pass_db),
        ];
        if let Some(l) = p.mix_loudness {
            terms.push(format!(
                "mix {} LUFS +-{} LU",
                l.target_lufs, l.tolerance_lu
            ));
        }
        if let Some(ms) = p.max_tail_silence_ms {
            terms.push(format!("end silence <= {ms} ms"));
        }
        if let Some(ms) = p.max_head_silence_ms {
            terms.push(format!("start silence <= {ms} ms"));
        }
        if !p.channels.is_empty() {
            let ch: Vec<String> = p.channels.iter().map(ToString::to_string).collect();
            terms.push(format!("{} ch stems", ch.join(" or ")));
        }
        if let Some(pattern) = &p.file_name_pattern {
            terms.push(format!("names {pattern}"));
        }
        if p.fx_stem_required {
            terms.push("FX stem required".to_owned());
        }
        if p.bus_processing_expected {
            terms.push("bus processing on the mix expected".to_owned());
        }
        println!("{:<15} {}", "", terms.join(", "));
    }
    Ok(ExitCode::SUCCESS)
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
    let loaded;
    let profile: &Profile = match &args.profile_file {
        Some(path) => {
            loaded = Profile::from_file(path)?;
            &loaded
        }
        None => args.profile,
    };
    let bar = DelayedBar::new();
    let progress = |p: Progress| bar.update(p);
    let opts = Options {
        profile,
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
        std::fs::write(path, html::render(&report, profile))
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
