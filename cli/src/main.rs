//! `stemcheck`: check a stem delivery against its mix. See `shared/spec/report-contract.md`
//! for the command line, the JSON and the exit statuses (0 pass, 1 findings at --fail-on, 2
//! could not run).

mod batch;
mod demo;
mod fix;
mod html;
mod output;
mod render;
mod residual;

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use analyzer_core::analyze::{self, Options, Progress};
use analyzer_core::capture;
use analyzer_core::{Profile, Report, Severity};
use anyhow::{Result, anyhow, bail};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use output::Sink;

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
    #[command(after_help = CHECK_AFTER_HELP)]
    Check(CheckArgs),
    /// Check every delivery folder under ROOT, each as its own set, in parallel.
    #[command(after_help = batch::AFTER_HELP)]
    Batch(batch::BatchArgs),
    /// Synthesize a short multi-stem song with one delivery fault, check it and print the report.
    Demo {
        /// Keep the rendered stems in this folder instead of a temporary one.
        #[arg(long)]
        keep: Option<PathBuf>,
        /// Also write the JSON report here ('-' for standard output).
        #[arg(long)]
        json: Option<String>,
    },
    /// Write a corrected copy of a delivery: stems shifted, flipped, swapped, resampled and
    /// brought to the mix's length where the check is certain; a change log beside the files.
    #[command(after_help = fix::AFTER_HELP)]
    Fix(fix::FixArgs),
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
    /// Write a self-contained HTML report (charts as inline SVG) to FILE, or '-' for standard
    /// output.
    #[arg(long, value_name = "FILE.html|-")]
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
    /// Write the residual (mix minus the stem sum) as 32-bit float WAV: FILE as delivered, and
    /// FILE with `.corrected` before its extension after the corrections the findings name.
    /// Write it outside the delivery folder (a WAV there is read as a stem next time).
    #[arg(long, value_name = "FILE.wav")]
    residual: Option<PathBuf>,
    /// Embed the loudest stretch (at most 10 s, 1 MiB) of the residual as delivered in the
    /// HTML report, as an `<audio>` element (16-bit mono, raised to be heard).
    #[arg(long, requires = "report")]
    embed_residual: bool,
    /// Check folders that each look like a delivery of their own (each with its own mix) as
    /// one set anyway (else `check` refuses them and points to `stemcheck batch`).
    #[arg(long)]
    as_one_set: bool,
}

/// `check --help`: what the exit statuses mean and where the finding codes are listed.
const CHECK_AFTER_HELP: &str = "\
Exit status:
  0  no finding reaches --fail-on (default: error)
  1  a finding reaches --fail-on
  2  the check could not run: bad arguments, an output that cannot be written, no readable
     input (a single unreadable file is an `unreadable_file` finding, not exit 2)

Findings: every finding has a code (`start_offset`, `missing_fx_return`, ...); the codes and
what they mean are listed in the report contract, section \"Finding codes\"
(shared/spec/report-contract.md, linked from the README), which also defines the JSON.

Several folders given here are one delivery. Folders that each hold their own mix are
refused (two songs would be merged): check them one by one or with `stemcheck batch ROOT`.
Output paths: '-' is standard output; files are checked for writability before the analysis.
NO_COLOR (non-empty) turns colour off.";

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
            // Standard error may itself be closed: nothing more to say then.
            let _ = writeln!(
                std::io::stderr(),
                "stemcheck: error: {}",
                output::describe(&e)
            );
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Batch(args) => batch::run(&args),
        Command::Fix(args) => fix::run(&args),
        Command::Demo { keep, json } => demo::run(keep, json),
        Command::Bounces { root } => bounces(root),
        Command::Profiles => list_profiles(),
    }
}

/// `stemcheck profiles`: every shipped profile with its source and its numbers.
fn list_profiles() -> Result<ExitCode> {
    let mut text = String::new();
    for p in analyzer_core::profile::all() {
        let _ = writeln!(text, "{:<15} {}", p.name, p.description);
        let _ = writeln!(text, "{:<15} source: {}", "", p.source);
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
        let _ = writeln!(text, "{:<15} {}", "", terms.join(", "));
    }
    output::print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on stderr that only appears once a run has taken more than a second, and
/// only when stderr is a terminal (never in CI logs or beside `--json -`). It names the stages
/// running ("metering + aligning") beside the fraction of all the work.
struct DelayedBar {
    bar: ProgressBar,
    start: Instant,
    shown: AtomicBool,
    running: std::sync::Mutex<Vec<analyzer_core::analyze::Stage>>,
}

impl DelayedBar {
    fn new() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg:<24} [{bar:30}] {percent:>3}% {elapsed}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        Self {
            bar,
            start: Instant::now(),
            shown: AtomicBool::new(false),
            running: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn update(&self, p: Progress) {
        match p {
            Progress::Total(n) => self.bar.set_length(n),
            Progress::Advance(n) => self.bar.inc(n),
            Progress::Begin(stage) | Progress::End(stage) => {
                if let Ok(mut running) = self.running.lock() {
                    running.retain(|&s| s != stage);
                    if matches!(p, Progress::Begin(_)) {
                        running.push(stage);
                        running.sort();
                    }
                    let names: Vec<&str> = running.iter().map(|s| s.label()).collect();
                    self.bar.set_message(names.join(" + "));
                }
            }
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
        output::print(&format!("No bounces under {}.\n", root.display()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let now = capture::now_unix_ms();
    let mut text = format!("Bounces under {} (newest first):\n", root.display());
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
        let _ = writeln!(
            text,
            "  {:<40} {:<10} {:>2} capture(s), {}, {} ago",
            b.bounce_id,
            state,
            b.captures.len(),
            mix,
            human_age(age_s)
        );
        for e in &b.unreadable {
            let _ = writeln!(text, "      unreadable sidecar: {e}");
        }
    }
    output::print(&text)?;
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
    let json = args.json.as_deref().map(|s| Sink::parse(OsStr::new(s)));
    let html = args.report.as_deref().map(|p| Sink::parse(p.as_os_str()));
    preflight_outputs(json.as_ref(), html.as_ref())?;
    if let Some(path) = &args.residual {
        residual::check_arg(path)?;
    }
    if !args.as_one_set {
        batch::refuse_separate_deliveries(&args.paths)?;
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
        cancel: None,
    };
    let (report, residuals) =
        analyze::check_paths_keeping(&args.paths, &opts).map_err(|e| anyhow!(e))?;
    bar.finish();
    let human = json != Some(Sink::Stdout) && html != Some(Sink::Stdout);
    emit_to(&report, json.as_ref(), human)?;
    // An excerpt that cannot be embedded leaves the report without it, and exit status 2.
    let mut excerpt_error = None;
    if let Some(sink) = &html {
        let mut page = html::render(&report, profile);
        if args.embed_residual {
            match residual::excerpt_section(residuals.as_ref(), &report) {
                Ok(section) => page = residual::embed(&page, &section),
                Err(e) => excerpt_error = Some(e),
            }
        }
        sink.write("the HTML report", &page)?;
        if let Some(path) = sink.path()
            && human
        {
            eprintln!("HTML report written to {}", path.display());
        }
    }
    if report.files.iter().all(|f| f.error.is_some()) {
        bail!("no readable input: every file failed to read (see the findings above)");
    }
    // After the reports: a residual that cannot be written is exit 2, the reports stand.
    if let Some(path) = &args.residual {
        let [delivered, corrected] = residual::write_both(residuals.as_ref(), path)?;
        if human {
            eprintln!(
                "Residual written to {} (as delivered) and {} (corrected)",
                delivered.display(),
                corrected.display()
            );
        }
    }
    if let Some(e) = excerpt_error {
        return Err(e);
    }
    Ok(exit_status(&report, args.fail_on))
}

/// Prints the human report (unless JSON goes to stdout) and writes the JSON where asked
/// (`-`: standard output).
///
/// # Errors
/// When the JSON file or standard output cannot be written.
pub(crate) fn emit(report: &Report, json: Option<&str>) -> Result<()> {
    let json = json.map(|s| Sink::parse(OsStr::new(s)));
    let human = json != Some(Sink::Stdout);
    emit_to(report, json.as_ref(), human)
}

/// Writes the JSON to `json` when given, and the human report to standard output when `human`.
fn emit_to(report: &Report, json: Option<&Sink>, human: bool) -> Result<()> {
    if let Some(sink) = json {
        sink.write("the JSON report", &(report.to_json() + "\n"))?;
    }
    if human {
        output::print(&render::human(
            report,
            output::stdout_colour(),
            output::stdout_width(),
        ))?;
    }
    Ok(())
}

/// Checks the report outputs before any analysis: at most one on standard output, every file
/// writable (exit 2 naming the path, instead of failing after a long run).
fn preflight_outputs(json: Option<&Sink>, html: Option<&Sink>) -> Result<()> {
    output::one_stdout(&[("--json", json), ("--report", html)])?;
    if let Some(s) = json {
        s.preflight("the JSON report")?;
    }
    if let Some(s) = html {
        s.preflight("the HTML report")?;
    }
    Ok(())
}

fn exit_status(report: &Report, fail_on: FailOn) -> ExitCode {
    ExitCode::from(exit_code(report, fail_on))
}

/// The check's exit status as a number (0 or 1; 2 is for runs that could not happen), so a
/// batch can take the worst of its deliveries'.
fn exit_code(report: &Report, fail_on: FailOn) -> u8 {
    let level = match fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Never => None,
    };
    u8::from(level.is_some_and(|l| report.fails_at(l)))
}
