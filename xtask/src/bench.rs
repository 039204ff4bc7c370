//! `cargo xtask bench`: the side-by-side comparison of issue 6, in one command.
//!
//! 1. Generates a delivery of 12 stereo stems + their mix, 24-bit 48 kHz, 3 minutes
//!    (`--long`: also a 30-minute one, the 3-minute song played 10 times, to show that memory
//!    does not grow with length). Inputs are cached under `--dir` (default
//!    `<target>/bench-inputs`) and regenerated only when missing.
//! 2. Runs `stemcheck check` (release build) on it, `cat` of the same files from the page cache
//!    (the floor of issue 20: no check can read the bytes faster; the two in turn, same run), and
//!    an ffmpeg pipeline that does less (`--no-ffmpeg` leaves it out): `amix` of the stems, the
//!    mix subtracted, `ebur128=peak=true` on the residual and on every file. Prints wall time,
//!    CPU time and peak RSS of each (from `wait4`, per process) and the ratios stemcheck/cat
//!    and ffmpeg/stemcheck.
//! 3. Metering throughput on the mix file, one thread each: analyzer-core's `FileMeter` (all
//!    file meters) and `Loudness` + `TruePeak`, the `ebur128` crate (I + LRA + true peak, the
//!    quantities ffmpeg's filter measures), all on decoded samples in memory; then from the file
//!    (decode included): `meter_file` against `ffmpeg -af ebur128=peak=true` and ffmpeg's
//!    decode alone.
//!
//! Output is Markdown tables, ready for BENCHMARKS.md.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use analyzer_core::meter::{FileMeter, Loudness, TruePeak, meter_file};
use analyzer_core::reconcile::synth::Song;
use analyzer_core::wav::WavReader;
use anyhow::{Context, Result, bail};

const SAMPLE_RATE: u32 = 48_000;
const STEMS: usize = 12;
const SONG_SECONDS: f64 = 180.0;
const SEED: u64 = 7;
/// Frames per `process` call in the in-memory metering runs (as the CLI meters).
const METER_BLOCK_FRAMES: usize = analyzer_core::meter::METER_BLOCK_FRAMES;
/// Bump when the generated audio changes, so cached inputs are rebuilt.
const INPUT_VERSION: &str = "v2";

/// Which halves of the benchmark run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    All,
    /// `stemcheck check` against ffmpeg and the metering throughput.
    Check,
    /// The plugin's per-instance cost and the 13-instance bounce (`bench_plugin.rs`).
    Plugin,
    /// Ardour 7's own export with and without the plugins (`bench_plugin::ardour_export`).
    Ardour,
}

struct Args {
    long: bool,
    /// Leave out the ffmpeg pipeline (about 12 s a run on the 3-minute set).
    no_ffmpeg: bool,
    /// Deliveries in the batch measurement (0: none).
    batch: usize,
    /// Minutes of the film-scale delivery (`--film` is 60; None: not run).
    film_minutes: Option<u32>,
    runs: usize,
    dir: Option<PathBuf>,
    part: Part,
    /// Also the Ardour export (issue 20 target 1; minutes of Ardour runs).
    ardour: bool,
}

fn parse_args(args: &[String]) -> Result<Args> {
    let mut out = Args {
        long: false,
        no_ffmpeg: false,
        batch: 0,
        film_minutes: None,
        runs: 3,
        dir: None,
        part: Part::All,
        ardour: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--long" => out.long = true,
            "--no-ffmpeg" => out.no_ffmpeg = true,
            "--ardour" => out.ardour = true,
            "--film" => out.film_minutes = Some(out.film_minutes.unwrap_or(60)),
            "--film-minutes" => {
                out.film_minutes = Some(
                    it.next()
                        .context("--film-minutes needs a number")?
                        .parse()
                        .context("--film-minutes needs a number")?,
                );
            }
            "--batch" => {
                out.batch = it
                    .next()
                    .context("--batch needs a number of deliveries")?
                    .parse()
                    .context("--batch needs a number of deliveries")?;
            }
            "--runs" => {
                out.runs = it
                    .next()
                    .context("--runs needs a number")?
                    .parse()
                    .context("--runs needs a number")?;
            }
            "--dir" => out.dir = Some(PathBuf::from(it.next().context("--dir needs a path")?)),
            "--only" => {
                out.part = match it.next().map(String::as_str) {
                    Some("check") => Part::Check,
                    Some("plugin") => Part::Plugin,
                    Some("ardour") => Part::Ardour,
                    _ => bail!("--only takes check, plugin or ardour"),
                };
            }
            "-h" | "--help" => {
                println!(
                    "cargo xtask bench [--long] [--no-ffmpeg] [--batch N] [--film] [--film-minutes N] [--runs N] [--dir DIR] [--ardour] [--only check|plugin|ardour]\n  --long  also the 30-minute set (memory must not grow with length)\n  --no-ffmpeg  leave out the ffmpeg pipeline (stemcheck against `cat` only)\n  --film  also the film-scale delivery: 8 stems of 5.1 + a 5.1 mix, RF64 24-bit 48 kHz, 1 hour\n          (~28 GB, generated streaming; skipped when the disk lacks room)\n  --film-minutes N  the same at N minutes\n  --batch N  also `stemcheck batch` over N copies of the 3-minute delivery (hard links),\n          deliveries per minute against N x one `stemcheck check`\n  --runs  repetitions per measurement (default 3; median and best are printed)\n  --dir   where the generated inputs are cached (default <target>/bench-inputs)\n  --only  check: stemcheck check vs ffmpeg and metering; plugin: per-instance cost and the\n          13-instance CLAP bounce (criterion; bundles both plugins first); ardour: the export below\n  --ardour  also Ardour 7's export of 12 stereo tracks + master x 3 min with no plugin, the\n          pass-through plugin and StemCheck on all 13 (needs ardour7-lua; ~10 min)"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument '{other}' (see cargo xtask bench --help)"),
        }
    }
    out.runs = out.runs.max(1);
    Ok(out)
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

pub fn run(args: &[String]) -> Result<()> {
    if args.first().map(String::as_str) == Some("--measure-child") {
        return measure_child(&args[1..]);
    }
    let args = parse_args(args)?;
    if args.part == Part::Plugin {
        print_machine();
        return crate::bench_plugin::run(cargo, &workspace_root(), &target_dir());
    }
    if args.part == Part::Ardour {
        print_machine();
        return crate::bench_plugin::ardour_export(cargo, &workspace_root(), args.runs);
    }
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| target_dir().join("bench-inputs"));
    let stemcheck = build_stemcheck()?;
    if !args.no_ffmpeg {
        check_ffmpeg()?;
    }

    print_machine();
    let mut sets = vec![(3u32, generate(&dir.join("3min"), 1)?)];
    if args.long {
        sets.push((30, generate(&dir.join("30min"), 10)?));
    }

    println!(
        "\n### stemcheck check vs `cat` of the same files and the ffmpeg pipeline (12 stereo stems + mix, 24-bit 48 kHz)\n"
    );
    println!(
        "| set | tool | wall median (best) | CPU user+sys | peak RSS | wall ratio stemcheck/cat | wall ratio ffmpeg/stemcheck |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (minutes, set) in &sets {
        // The page-cache floor: one `cat` first so every file is cached, then `cat` and
        // stemcheck in turn, so both see the same machine load.
        run_cat(set)?;
        let (ours, floor) = measure_pair(
            args.runs,
            || run_stemcheck(&stemcheck, set),
            || run_cat(set),
        )?;
        let floor_ratio = ours.median_wall().as_secs_f64() / floor.median_wall().as_secs_f64();
        println!(
            "| {minutes} min | stemcheck check | {} | {:.2} s | {} MB | **{floor_ratio:.1}x** | |",
            ours.wall_text(),
            ours.median_cpu().as_secs_f64(),
            ours.max_rss_mb()
        );
        println!(
            "| {minutes} min | cat (page cache, same files) | {} | {:.2} s | {} MB | 1x | |",
            floor.wall_text(),
            floor.median_cpu().as_secs_f64(),
            floor.max_rss_mb()
        );
        if args.no_ffmpeg {
            continue;
        }
        let ff = measure(args.runs, || run_ffmpeg_pipeline(set))?;
        let ratio = ff.median_wall().as_secs_f64() / ours.median_wall().as_secs_f64();
        println!(
            "| {minutes} min | ffmpeg amix (stems - mix) + ebur128=peak=true x14 | {} | {:.2} s | {} MB | | **{ratio:.2}x** |",
            ff.wall_text(),
            ff.median_cpu().as_secs_f64(),
            ff.max_rss_mb()
        );
    }
    for (minutes, set) in &sets {
        print_report_summary(*minutes, set, !args.no_ffmpeg)?;
    }
    if args.batch > 0 {
        let root = dir.join(format!("batch{}", args.batch));
        batch(&stemcheck, &sets[0].1, &root, args.batch, args.runs)?;
    }
    if let Some(minutes) = args.film_minutes {
        film(
            &stemcheck,
            &dir.join(format!("film{minutes}")),
            minutes,
            args.runs,
        )?;
    }

    println!("\n### Metering throughput, one thread, on the 3-minute mix (stereo, 48 kHz)\n");
    metering(&sets[0].1, args.runs, !args.no_ffmpeg)?;
    if args.part == Part::All {
        crate::bench_plugin::run(cargo, &workspace_root(), &target_dir())?;
        if args.ardour {
            crate::bench_plugin::ardour_export(cargo, &workspace_root(), args.runs)?;
        }
    }
    Ok(())
}

/// The files of one generated set.
struct Set {
    dir: PathBuf,
    stems: Vec<PathBuf>,
    mix: PathBuf,
    frames: u64,
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn build_stemcheck() -> Result<PathBuf> {
    eprintln!("building stemcheck (release)...");
    let status = cargo()
        .args([
            "build",
            "--release",
            "-p",
            "stemcheck-cli",
            "--bin",
            "stemcheck",
        ])
        .current_dir(workspace_root())
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        bail!("cargo build of stemcheck failed");
    }
    let bin = target_dir().join("release").join("stemcheck");
    if !bin.is_file() {
        bail!("{} was not built", bin.display());
    }
    Ok(bin)
}

fn check_ffmpeg() -> Result<()> {
    let ok = Command::new("ffmpeg")
        .args(["-hide_banner", "-version"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        bail!("ffmpeg is not installed (Debian: apt-get install ffmpeg)");
    }
    Ok(())
}

fn command_output(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn print_machine() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let ffmpeg = command_output("ffmpeg", &["-hide_banner", "-version"]);
    println!("## cargo xtask bench\n");
    println!(
        "- date: {}",
        command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
    );
    println!("- machine: {cpu}, {cores} cores available (lscpu model name)");
    println!("- ffmpeg: {}", ffmpeg.lines().next().unwrap_or("?"));
    println!("- command: `cargo xtask bench{}`", {
        let a: Vec<String> = std::env::args().skip(2).collect();
        if a.is_empty() {
            String::new()
        } else {
            format!(" {}", a.join(" "))
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// Writes 24-bit PCM WAV (WAVE_FORMAT_PCM) from interleaved stereo f32, `repeat` times over.
fn write_wav24(path: &Path, samples: &[f32], repeat: usize) -> Result<()> {
    let channels = 2u16;
    let data_bytes = (samples.len() * 3 * repeat) as u64;
    if data_bytes + 36 > u64::from(u32::MAX) {
        bail!("{}: too long for a RIFF WAV", path.display());
    }
    let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let block_align = channels * 3;
    w.write_all(b"RIFF")?;
    w.write_all(&(36 + data_bytes as u32).to_le_bytes())?;
    w.write_all(b"WAVEfmt ")?;
    w.write_all(&16u32.to_le_bytes())?;
    w.write_all(&1u16.to_le_bytes())?;
    w.write_all(&channels.to_le_bytes())?;
    w.write_all(&SAMPLE_RATE.to_le_bytes())?;
    w.write_all(&(SAMPLE_RATE * u32::from(block_align)).to_le_bytes())?;
    w.write_all(&block_align.to_le_bytes())?;
    w.write_all(&24u16.to_le_bytes())?;
    w.write_all(b"data")?;
    w.write_all(&(data_bytes as u32).to_le_bytes())?;
    let bytes: Vec<u8> = samples
        .iter()
        .flat_map(|&x| {
            let v = (f64::from(x) * 8_388_608.0)
                .round()
                .clamp(-8_388_608.0, 8_388_607.0) as i32;
            let b = v.to_le_bytes();
            [b[0], b[1], b[2]]
        })
        .collect();
    for _ in 0..repeat {
        w.write_all(&bytes)?;
    }
    w.flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Generates (or finds cached) the 12 stems + mix, the 3-minute song repeated `repeat` times.
fn generate(dir: &Path, repeat: usize) -> Result<Set> {
    let marker = dir.join(".complete");
    let stamp = format!("{INPUT_VERSION} stems={STEMS} seconds={SONG_SECONDS} repeat={repeat}");
    let song = Song::new(SAMPLE_RATE, SONG_SECONDS, STEMS, SEED);
    let names: Vec<String> = song
        .stems
        .iter()
        .enumerate()
        .map(|(i, s)| format!("Bench_{:02}_{}.wav", i + 1, s.name))
        .collect();
    let set = Set {
        dir: dir.to_owned(),
        stems: names.iter().map(|n| dir.join(n)).collect(),
        mix: dir.join("Bench_Mix.wav"),
        frames: (SONG_SECONDS * f64::from(SAMPLE_RATE)) as u64 * repeat as u64,
    };
    if std::fs::read_to_string(&marker).is_ok_and(|s| s == stamp) {
        return Ok(set);
    }
    eprintln!(
        "generating {STEMS} stems + mix, {} min, into {} ...",
        SONG_SECONDS as usize * repeat / 60,
        dir.display()
    );
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mix = song.mix();
    for (stem, path) in song.stems.iter().zip(&set.stems) {
        // Every stem is delivered as a stereo file; a mono part is panned as it was mixed.
        let stereo: Vec<f32> = if stem.channels == 2 {
            stem.samples.clone()
        } else {
            stem.samples
                .iter()
                .flat_map(|&x| [x * stem.pan[0], x * stem.pan[1]])
                .collect()
        };
        write_wav24(path, &stereo, repeat)?;
    }
    write_wav24(&set.mix, &mix, repeat)?;
    std::fs::write(&marker, stamp)?;
    Ok(set)
}

// ---------------------------------------------------------------------------------------------
// Measuring processes

/// One run of a child process.
#[derive(Clone, Copy)]
struct Sample {
    wall: Duration,
    cpu: Duration,
    max_rss_kb: u64,
}

struct Runs(Vec<Sample>);

impl Runs {
    fn median_of(mut v: Vec<Duration>) -> Duration {
        v.sort();
        v[v.len() / 2]
    }
    fn median_wall(&self) -> Duration {
        Self::median_of(self.0.iter().map(|s| s.wall).collect())
    }
    fn best_wall(&self) -> Duration {
        self.0.iter().map(|s| s.wall).min().unwrap_or_default()
    }
    fn median_cpu(&self) -> Duration {
        Self::median_of(self.0.iter().map(|s| s.cpu).collect())
    }
    fn max_rss_mb(&self) -> String {
        let kb = self.0.iter().map(|s| s.max_rss_kb).max().unwrap_or(0);
        format!("{:.0}", kb as f64 / 1024.0)
    }
    fn wall_text(&self) -> String {
        format!(
            "{:.2} s ({:.2} s)",
            self.median_wall().as_secs_f64(),
            self.best_wall().as_secs_f64()
        )
    }
}

fn measure(runs: usize, mut f: impl FnMut() -> Result<Sample>) -> Result<Runs> {
    (0..runs).map(|_| f()).collect::<Result<Vec<_>>>().map(Runs)
}

/// `a` and `b` in turn, `runs` times each (A B A B ...): a ratio of the two then compares runs
/// made under the same load, which on a shared machine drifts more between batches than within
/// one pair.
fn measure_pair(
    runs: usize,
    mut a: impl FnMut() -> Result<Sample>,
    mut b: impl FnMut() -> Result<Sample>,
) -> Result<(Runs, Runs)> {
    let (mut ra, mut rb) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        ra.push(a()?);
        rb.push(b()?);
    }
    Ok((Runs(ra), Runs(rb)))
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

/// Where the measuring child writes its result (see [`measured`]).
const RUSAGE_OUT_ENV: &str = "STEMCHECK_BENCH_RUSAGE_OUT";

/// `program` (its arguments are added to the returned command) started under a fresh copy of
/// this binary, `xtask bench --measure-child program ...`, which runs it and reports its peak
/// RSS and CPU time from `wait4`.
///
/// Why not `wait4` here: Linux keeps a process's peak RSS across `exec`, and a child spawned by
/// this process (which holds the generated song) starts out as a view of this process's memory,
/// so its reported peak would be ours. The fresh measuring child is small when it spawns the
/// tool, so the tool's peak is the tool's own.
fn measured(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("xtask"));
    let mut cmd = Command::new(exe);
    cmd.args(["bench", "--measure-child"]).arg(program);
    cmd
}

/// Runs a [`measured`] command to completion.
fn run_measured(cmd: &mut Command, what: &str) -> Result<Sample> {
    let out = target_dir().join(format!("bench-rusage-{}.txt", std::process::id()));
    let start = Instant::now();
    let status = cmd
        .env(RUSAGE_OUT_ENV, &out)
        .status()
        .with_context(|| format!("cannot start {what}"))?;
    let wall = start.elapsed();
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    let text = std::fs::read_to_string(&out).context("the measuring child wrote no result")?;
    let v: Vec<u64> = text
        .split_whitespace()
        .map(str::parse)
        .collect::<std::result::Result<_, _>>()
        .context("malformed measurement")?;
    let [cpu_us, max_rss_kb] = v[..] else {
        bail!("malformed measurement '{text}'");
    };
    Ok(Sample {
        wall,
        cpu: Duration::from_micros(cpu_us),
        max_rss_kb,
    })
}

/// The measuring child: runs `args` (program and arguments), waits for it with `wait4` and
/// writes "CPU microseconds, peak RSS KiB" to the file named by [`RUSAGE_OUT_ENV`]. Exits with
/// the program's status.
fn measure_child(args: &[String]) -> Result<()> {
    let (program, rest) = args
        .split_first()
        .context("--measure-child needs a program")?;
    let out = std::env::var_os(RUSAGE_OUT_ENV).context("no result file given")?;
    let child = Command::new(program)
        .args(rest)
        .env_remove(RUSAGE_OUT_ENV)
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own child that nothing else waits for (the `Child` handle is
        // dropped without waiting); `status` and `usage` are valid for writes.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err).context("waiting for the measured program");
        }
    }
    drop(child);
    let cpu = timeval(usage.ru_utime) + timeval(usage.ru_stime);
    std::fs::write(&out, format!("{} {}\n", cpu.as_micros(), usage.ru_maxrss))?;
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!("{program} failed (wait status {status})");
    }
    Ok(())
}

/// Beside the delivery, not in it: a report inside the folder would be the next run's
/// `skipped_file` finding.
fn report_path(set: &Set) -> PathBuf {
    let name = set
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    set.dir
        .with_file_name(format!("{name}.stemcheck-report.json"))
}

fn run_stemcheck(bin: &Path, set: &Set) -> Result<Sample> {
    let mut cmd = measured(bin);
    cmd.arg("check")
        .arg(&set.dir)
        .arg("--mix")
        .arg(&set.mix)
        .arg("--json")
        .arg(report_path(set))
        .args(["--fail-on", "never"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    run_measured(&mut cmd, "stemcheck check")
}

/// The floor of issue 20: `cat` reads every file of the set (stems and mix) once, from the
/// page cache when it is warm, and writes to /dev/null. What stemcheck cannot go below, since it
/// must read the same bytes.
fn run_cat(set: &Set) -> Result<Sample> {
    let mut cmd = measured("cat");
    cmd.args(set.stems.iter().chain([&set.mix]))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    run_measured(&mut cmd, "cat")
}

/// The ffmpeg pipeline of issue 6: every file split into `ebur128=peak=true` and one `amix`
/// (no normalisation) that sums the stems and the mix turned upside down (`volume=-1`); the
/// residual through `ebur128=peak=true`. `framelog=verbose` keeps the 10-per-second meter lines
/// out of the log, so ffmpeg is not slowed down by printing them.
fn ffmpeg_pipeline_graph(stems: usize) -> String {
    let n = stems + 1;
    let mut g = String::new();
    for i in 0..n {
        g += &format!("[{i}:a]asplit[a{i}][b{i}];[b{i}]{FFMPEG_EBUR128},anullsink;");
    }
    g += &format!("[a{stems}]volume=-1[neg];");
    for i in 0..stems {
        g += &format!("[a{i}]");
    }
    g += &format!("[neg]amix=inputs={n}:normalize=0,{FFMPEG_EBUR128}[res]");
    g
}

/// ffmpeg's BS.1770 meter with true peak, per-frame log lines hidden at the default log level.
const FFMPEG_EBUR128: &str = "ebur128=peak=true:framelog=verbose";

fn run_ffmpeg_pipeline(set: &Set) -> Result<Sample> {
    let mut cmd = measured("ffmpeg");
    cmd.args(["-hide_banner", "-nostdin", "-nostats", "-y"]);
    for p in set.stems.iter().chain([&set.mix]) {
        cmd.arg("-i").arg(p);
    }
    let log = File::create(set.dir.join("ffmpeg-pipeline.log"))?;
    cmd.arg("-filter_complex")
        .arg(ffmpeg_pipeline_graph(set.stems.len()))
        .args(["-map", "[res]", "-f", "null", "-"])
        .stdout(Stdio::null())
        .stderr(log);
    run_measured(&mut cmd, "ffmpeg pipeline")
}

/// ffmpeg's `ebur128` summaries, one per filter instance in the order of the instances
/// (`Parsed_ebur128_N`; a later summary of the same instance replaces an earlier one, since ffmpeg
/// prints one for the probe graph it builds before the real one): (integrated LUFS, true peak).
fn ffmpeg_summaries(log: &str) -> Vec<(f64, Option<f64>)> {
    let mut by_instance: std::collections::BTreeMap<u32, (f64, Option<f64>)> =
        std::collections::BTreeMap::new();
    let mut lines = log.lines();
    while let Some(l) = lines.next() {
        if !l.contains("Summary:") {
            continue;
        }
        let instance = l
            .split("Parsed_ebur128_")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0);
        let mut i_lufs = None;
        let mut peak = None;
        for l in lines.by_ref() {
            let t = l.trim();
            if let Some(v) = t.strip_prefix("I:") {
                i_lufs = v.split_whitespace().next().and_then(|x| x.parse().ok());
            } else if let Some(v) = t.strip_prefix("Peak:") {
                peak = v.split_whitespace().next().and_then(|x| x.parse().ok());
                break;
            }
        }
        if let Some(i) = i_lufs {
            by_instance.insert(instance, (i, peak));
        }
    }
    by_instance.into_values().collect()
}

fn print_report_summary(minutes: u32, set: &Set, ran_ffmpeg: bool) -> Result<()> {
    let text = std::fs::read_to_string(report_path(set))?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    let null = v["reconciliation"]["null_depth_db"].as_f64();
    let n_findings = v["findings"].as_array().map_or(0, Vec::len);
    let ffmpeg = if ran_ffmpeg {
        let log = std::fs::read_to_string(set.dir.join("ffmpeg-pipeline.log")).unwrap_or_default();
        let summaries = ffmpeg_summaries(&log);
        format!(
            "ffmpeg printed {} ebur128 summaries{}",
            summaries.len(),
            summaries.last().map_or(String::new(), |(i, p)| format!(
                ", residual {i:.1} LUFS integrated, true peak {} dBFS",
                p.map_or("?".into(), |p| format!("{p:.1}"))
            ))
        )
    } else {
        "ffmpeg not run (--no-ffmpeg)".to_owned()
    };
    println!(
        "\n{minutes} min set ({} frames per file): stemcheck null depth {} dB, {n_findings} findings; {ffmpeg}",
        set.frames,
        null.map_or("n/a".into(), |x| format!("{x:.1}")),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Many deliveries (issue 20, target 5)

/// `stemcheck batch` over `n` delivery folders under `root`, each the 3-minute set's 13 files as
/// hard links (no disk space; `batch` keeps no cache by path or content, so each is checked in
/// full), against `n` times the median of `runs` single `stemcheck check` runs of one of them.
fn batch(bin: &Path, set: &Set, root: &Path, n: usize, runs: usize) -> Result<()> {
    let deliveries: Vec<PathBuf> = (1..=n)
        .map(|i| root.join(format!("delivery_{i:03}")))
        .collect();
    for d in &deliveries {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
        for f in set.stems.iter().chain([&set.mix]) {
            let link = d.join(f.file_name().expect("generated files have names"));
            if !link.exists() {
                std::fs::hard_link(f, &link).with_context(|| {
                    format!("cannot hard-link {} to {}", f.display(), link.display())
                })?;
            }
        }
    }
    let report = root.join("batch-report.jsonl");
    let single = measure(runs, || {
        let mut cmd = measured(bin);
        cmd.arg("check")
            .arg(&deliveries[0])
            .arg("--json")
            .arg(&report)
            .args(["--fail-on", "never"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        run_measured(&mut cmd, "stemcheck check (one delivery)")
    })?;
    let mut cmd = measured(bin);
    cmd.arg("batch")
        .arg(root)
        .arg("--jsonl")
        .arg(&report)
        .args(["--fail-on", "never"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let all = run_measured(&mut cmd, "stemcheck batch")?;
    let lines = std::fs::read_to_string(&report)?.lines().count();
    if lines != n {
        bail!("stemcheck batch reported {lines} deliveries, {n} expected");
    }
    let single_s = single.median_wall().as_secs_f64();
    let all_s = all.wall.as_secs_f64();
    println!(
        "\n### Many deliveries: `stemcheck batch` over {n} x (12 stereo stems + mix, 3 min)\n"
    );
    println!("| run | wall | CPU user+sys | peak RSS | deliveries per minute |");
    println!("|---|---|---|---|---|");
    println!(
        "| one `stemcheck check` (median of {runs}) | {single_s:.2} s | {:.2} s | {} MB | {:.1} |",
        single.median_cpu().as_secs_f64(),
        single.max_rss_mb(),
        60.0 / single_s
    );
    println!(
        "| `stemcheck batch`, {n} deliveries | {all_s:.1} s | {:.1} s | {:.0} MB | **{:.1}** |",
        all.cpu.as_secs_f64(),
        all.max_rss_kb as f64 / 1024.0,
        n as f64 * 60.0 / all_s
    );
    println!(
        "\nbatch / ({n} x one check) wall: **{:.2}x**; CPU per delivery {:.2} s in the batch, {:.2} s alone",
        all_s / (n as f64 * single_s),
        all.cpu.as_secs_f64() / n as f64,
        single.median_cpu().as_secs_f64()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Film scale (issue 20, target 4)

/// Stems of the film delivery, each 5.1.
const FILM_STEMS: usize = 8;
const FILM_CHANNELS: usize = 6;
/// Stem `k` plays the song from `k` times this far in, so no two stems (and no two channels)
/// carry the same audio: the check would rightly call them duplicates.
const FILM_STEM_SHIFT_FRAMES: usize = 7 * 48_000;
/// Frames generated and written per step: the generator holds one such block per file, never
/// the whole length.
const FILM_BLOCK_FRAMES: usize = 48_000;

/// Bytes of one film file of `frames` frames (RF64 header included).
fn film_file_bytes(frames: u64) -> u64 {
    RF64_HEADER_BYTES + frames * (FILM_CHANNELS as u64) * 3
}

/// RIFF/ds64/fmt/data headers of [`write_rf64_header`].
const RF64_HEADER_BYTES: u64 = 12 + (8 + 28) + (8 + 16) + 8;

/// An RF64 header for 24-bit PCM, [`FILM_CHANNELS`] channels, `frames` frames: the 32-bit sizes
/// are `0xFFFFFFFF` and the real ones are in `ds64`, as an RF64 writer of a film mix does.
fn write_rf64_header(w: &mut impl Write, frames: u64) -> Result<()> {
    let block_align = (FILM_CHANNELS * 3) as u16;
    let data_bytes = frames * u64::from(block_align);
    w.write_all(b"RF64")?;
    w.write_all(&u32::MAX.to_le_bytes())?;
    w.write_all(b"WAVEds64")?;
    w.write_all(&28u32.to_le_bytes())?;
    w.write_all(&(RF64_HEADER_BYTES - 8 + data_bytes).to_le_bytes())?;
    w.write_all(&data_bytes.to_le_bytes())?;
    w.write_all(&frames.to_le_bytes())?;
    w.write_all(&0u32.to_le_bytes())?;
    w.write_all(b"fmt ")?;
    w.write_all(&16u32.to_le_bytes())?;
    w.write_all(&1u16.to_le_bytes())?;
    w.write_all(&(FILM_CHANNELS as u16).to_le_bytes())?;
    w.write_all(&SAMPLE_RATE.to_le_bytes())?;
    w.write_all(&(SAMPLE_RATE * u32::from(block_align)).to_le_bytes())?;
    w.write_all(&block_align.to_le_bytes())?;
    w.write_all(&24u16.to_le_bytes())?;
    w.write_all(b"data")?;
    w.write_all(&u32::MAX.to_le_bytes())?;
    Ok(())
}

/// Free bytes on the file system holding `dir` (from `df`, so no `statvfs` binding here).
fn free_bytes(dir: &Path) -> Option<u64> {
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)?
        .trim()
        .parse()
        .ok()
}

/// Generates (or finds cached) the film delivery: 8 stems of 5.1 and their 5.1 mix, `minutes`
/// long, streaming. Each stem channel is one part of the 3-minute song (left channel of a
/// stereo part, the panned left of a mono one; stem `k`, channel `c`: part `k + 8c` of 12,
/// [`FILM_STEM_SHIFT_FRAMES`] later per stem) at -18 dB (so eight sum without clipping), the
/// song looped; the mix channel is the sum of the stems' quantised samples, so the delivery
/// nulls exactly.
fn generate_film(dir: &Path, minutes: u32) -> Result<Option<Set>> {
    let frames = u64::from(minutes) * 60 * u64::from(SAMPLE_RATE);
    let names: Vec<String> = (1..=FILM_STEMS)
        .map(|i| format!("Film_Stem_{i:02}.wav"))
        .collect();
    let set = Set {
        dir: dir.to_owned(),
        stems: names.iter().map(|n| dir.join(n)).collect(),
        mix: dir.join("Film_Mix.wav"),
        frames,
    };
    let marker = dir.join(".complete");
    let stamp =
        format!("{INPUT_VERSION} film stems={FILM_STEMS}x{FILM_CHANNELS} minutes={minutes}");
    if std::fs::read_to_string(&marker).is_ok_and(|s| s == stamp) {
        return Ok(Some(set));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let need = film_file_bytes(frames) * (FILM_STEMS as u64 + 1);
    let free = free_bytes(dir).unwrap_or(0);
    // Keep 5 GB for everyone else on the disk.
    if free < need + 5_000_000_000 {
        println!(
            "\n### Film scale: skipped\n\n{minutes} min of 8 x 5.1 stems + a 5.1 mix needs {:.1} GB in {}; {:.1} GB are free (5 GB kept in reserve). Free space, or pass --film-minutes N with a smaller N.",
            need as f64 / 1e9,
            dir.display(),
            free as f64 / 1e9
        );
        return Ok(None);
    }
    eprintln!(
        "generating the film delivery, {minutes} min, {:.1} GB, into {} ...",
        need as f64 / 1e9,
        dir.display()
    );
    let song = Song::new(SAMPLE_RATE, SONG_SECONDS, STEMS, SEED);
    let song_frames = (SONG_SECONDS * f64::from(SAMPLE_RATE)) as usize;
    // One mono signal per part: the left channel as it was mixed.
    let parts: Vec<Vec<f32>> = song
        .stems
        .iter()
        .map(|s| {
            if s.channels == 2 {
                s.samples.iter().step_by(2).copied().collect()
            } else {
                s.samples.iter().map(|&x| x * s.pan[0]).collect()
            }
        })
        .collect();
    let mut writers = set
        .stems
        .iter()
        .chain([&set.mix])
        .map(|p| -> Result<BufWriter<File>> {
            let f = File::create(p).with_context(|| format!("cannot create {}", p.display()))?;
            let mut w = BufWriter::with_capacity(1 << 20, f);
            write_rf64_header(&mut w, frames)?;
            Ok(w)
        })
        .collect::<Result<Vec<_>>>()?;
    let quantise = |x: f64| (x * 8_388_608.0).round().clamp(-8_388_608.0, 8_388_607.0) as i32;
    let mut bytes: Vec<Vec<u8>> = (0..=FILM_STEMS)
        .map(|_| Vec::with_capacity(FILM_BLOCK_FRAMES * FILM_CHANNELS * 3))
        .collect();
    let mut done = 0u64;
    while done < frames {
        let n = (frames - done).min(FILM_BLOCK_FRAMES as u64) as usize;
        bytes.iter_mut().for_each(Vec::clear);
        for f in 0..n {
            for c in 0..FILM_CHANNELS {
                let mut sum = 0i32;
                for (k, b) in bytes[..FILM_STEMS].iter_mut().enumerate() {
                    let part = &parts[(k + c * FILM_STEMS) % parts.len()];
                    let at = ((done + f as u64 + (k * FILM_STEM_SHIFT_FRAMES) as u64)
                        % song_frames as u64) as usize;
                    let v = quantise(f64::from(part[at]) * 0.125);
                    sum += v;
                    b.extend_from_slice(&v.to_le_bytes()[..3]);
                }
                let sum = sum.clamp(-8_388_608, 8_388_607);
                bytes[FILM_STEMS].extend_from_slice(&sum.to_le_bytes()[..3]);
            }
        }
        for (w, b) in writers.iter_mut().zip(&bytes) {
            w.write_all(b)?;
        }
        done += n as u64;
    }
    for w in &mut writers {
        w.flush().context("cannot write the film delivery")?;
    }
    std::fs::write(&marker, stamp)?;
    Ok(Some(set))
}

/// Writes dirty pages and drops the page cache (`/proc/sys/vm/drop_caches`, root only), so the
/// next read comes from the disk. False when it could not.
fn drop_page_cache() -> bool {
    let synced = Command::new("sync").status().is_ok_and(|s| s.success());
    synced && std::fs::write("/proc/sys/vm/drop_caches", b"3").is_ok()
}

/// The film delivery: `stemcheck check` against `cat` of the same files, in turn, wall time,
/// CPU and peak RSS. At an hour (28 GB) the files do not fit the page cache, so both read from
/// the disk and `cat` is the disk's floor.
fn film(bin: &Path, dir: &Path, minutes: u32, runs: usize) -> Result<()> {
    let Some(set) = generate_film(dir, minutes)? else {
        return Ok(());
    };
    // The floor is the disk: every run starts from a cold page cache where the bench may drop
    // it (root). Otherwise the run after another reads what that one left in memory (most of
    // the 28 GB with 24 GB of RAM: `cat` 7 s instead of 21 s from the disk).
    let cold = std::cell::Cell::new(true);
    let (ours, floor) = measure_pair(
        runs,
        || {
            cold.set(cold.get() & drop_page_cache());
            run_stemcheck(bin, &set)
        },
        || {
            cold.set(cold.get() & drop_page_cache());
            run_cat(&set)
        },
    )?;
    let bytes = film_file_bytes(set.frames) * (FILM_STEMS as u64 + 1);
    println!(
        "\n### Film scale: 8 stems of 5.1 + a 5.1 mix, RF64 24-bit 48 kHz, {minutes} min ({:.1} GB)\n",
        bytes as f64 / 1e9
    );
    println!(
        "{}\n",
        if cold.get() {
            "Every run started from a cold page cache (sync; /proc/sys/vm/drop_caches)."
        } else {
            "The page cache could not be dropped (not root): later runs read what earlier ones \
             left in memory, so `cat` is faster than the disk."
        }
    );
    println!("| tool | wall median (best) | CPU user+sys | peak RSS | wall ratio stemcheck/cat |");
    println!("|---|---|---|---|---|");
    println!(
        "| stemcheck check | {} | {:.2} s | {} MB | **{:.2}x** |",
        ours.wall_text(),
        ours.median_cpu().as_secs_f64(),
        ours.max_rss_mb(),
        ours.median_wall().as_secs_f64() / floor.median_wall().as_secs_f64()
    );
    println!(
        "| cat (same files) | {} | {:.2} s | {} MB | 1x |",
        floor.wall_text(),
        floor.median_cpu().as_secs_f64(),
        floor.max_rss_mb()
    );
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(report_path(&set))?)?;
    println!(
        "\nstemcheck null depth {} dB, {} findings",
        v["reconciliation"]["null_depth_db"]
            .as_f64()
            .map_or("n/a".into(), |x| format!("{x:.1}")),
        v["findings"].as_array().map_or(0, Vec::len)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Metering throughput

fn decode(path: &Path) -> Result<(usize, Vec<f32>)> {
    let mut r = WavReader::open(path).map_err(anyhow::Error::new)?;
    let ch = usize::from(r.info().channels);
    let mut all = Vec::with_capacity(r.info().frames as usize * ch);
    let mut buf = vec![0.0f32; METER_BLOCK_FRAMES * ch];
    loop {
        let n = r.read_frames(&mut buf).map_err(anyhow::Error::new)?;
        if n == 0 {
            break;
        }
        all.extend_from_slice(&buf[..n * ch]);
    }
    Ok((ch, all))
}

/// Best and median wall time of `runs` calls of `f`; the value of the last call.
fn time_in_process<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = std::hint::black_box(f());
        times.push(t.elapsed());
        last = Some(v);
    }
    times.sort();
    (times[0], times[times.len() / 2], last.expect("runs >= 1"))
}

fn metering(set: &Set, runs: usize, with_ffmpeg: bool) -> Result<()> {
    let (ch, x) = decode(&set.mix)?;
    let frames = x.len() / ch;
    let samples = x.len() as f64;
    let audio_s = frames as f64 / f64::from(SAMPLE_RATE);
    let row = |name: &str, best: Duration, median: Duration, what: String| {
        println!(
            "| {name} | {:.1} M | {:.0}x | {:.3} s ({:.3} s) | {what} |",
            samples / median.as_secs_f64() / 1e6,
            audio_s / median.as_secs_f64(),
            median.as_secs_f64(),
            best.as_secs_f64()
        );
    };
    println!(
        "| meter | samples/s (median) | x real time | wall median (best) | result |\n|---|---|---|---|---|"
    );
    let (best, med, m) = time_in_process(runs, || {
        let mut m = FileMeter::new(ch, SAMPLE_RATE);
        for b in x.chunks(METER_BLOCK_FRAMES * ch) {
            m.process(b);
        }
        m.finish()
    });
    row(
        "analyzer-core FileMeter (all file meters), in memory",
        best,
        med,
        format!(
            "I {:.2} LUFS, LRA {:.2} LU, TP {:.2} dBTP",
            m.integrated_lufs.unwrap_or(f64::NAN),
            m.loudness_range_lu.unwrap_or(f64::NAN),
            m.true_peak_dbtp.unwrap_or(f64::NAN)
        ),
    );
    let (best, med, (i, lra, tp)) = time_in_process(runs, || {
        let mut l = Loudness::new(ch, SAMPLE_RATE);
        let mut t = TruePeak::new(ch, SAMPLE_RATE);
        for b in x.chunks(METER_BLOCK_FRAMES * ch) {
            l.process(b);
            t.process(b);
        }
        (
            l.integrated_lufs(),
            l.loudness_range_lu(),
            t.max_peak_dbtp(),
        )
    });
    row(
        "analyzer-core Loudness + TruePeak, in memory",
        best,
        med,
        format!(
            "I {i:.2} LUFS, LRA {:.2} LU, TP {tp:.2} dBTP",
            lra.unwrap_or(f64::NAN)
        ),
    );
    let (best, med, (i, lra, tp)) = time_in_process(runs, || {
        use ebur128::{EbuR128, Mode};
        let mut e = EbuR128::new(
            ch as u32,
            SAMPLE_RATE,
            Mode::I | Mode::LRA | Mode::TRUE_PEAK,
        )
        .expect("valid ebur128 setup");
        for b in x.chunks(METER_BLOCK_FRAMES * ch) {
            e.add_frames_f32(b).expect("whole frames");
        }
        let tp = (0..ch as u32)
            .map(|c| e.true_peak(c).unwrap_or(0.0))
            .fold(0.0f64, f64::max);
        (
            e.loudness_global().unwrap_or(f64::NAN),
            e.loudness_range().unwrap_or(f64::NAN),
            analyzer_core::units::amp_to_db(tp),
        )
    });
    row(
        "ebur128 crate 0.1 (I + LRA + TRUE_PEAK), in memory",
        best,
        med,
        format!("I {i:.2} LUFS, LRA {lra:.2} LU, TP {tp:.2} dBTP"),
    );
    let (best, med, r) = time_in_process(runs, || meter_file(&set.mix, &|_| {}));
    let (_, m) = r.map_err(anyhow::Error::new)?;
    row(
        "analyzer-core meter_file (decode + FileMeter)",
        best,
        med,
        format!(
            "I {:.2} LUFS, TP {:.2} dBTP",
            m.integrated_lufs.unwrap_or(f64::NAN),
            m.true_peak_dbtp.unwrap_or(f64::NAN)
        ),
    );
    if !with_ffmpeg {
        return Ok(());
    }
    let log = set.dir.join("ffmpeg-ebur128.log");
    let ff = measure(runs, || {
        let mut cmd = measured("ffmpeg");
        cmd.args(["-hide_banner", "-nostdin", "-nostats", "-i"])
            .arg(&set.mix)
            .args(["-af", FFMPEG_EBUR128, "-f", "null", "-"])
            .stdout(Stdio::null())
            .stderr(File::create(&log)?);
        run_measured(&mut cmd, "ffmpeg ebur128")
    })?;
    let s = ffmpeg_summaries(&std::fs::read_to_string(&log).unwrap_or_default());
    row(
        "ffmpeg -af ebur128=peak=true (decode + filter, process)",
        ff.best_wall(),
        ff.median_wall(),
        s.first().map_or("no summary".into(), |(i, p)| {
            format!(
                "I {i:.1} LUFS, TP {} dBTP",
                p.map_or("?".into(), |p| format!("{p:.1}"))
            )
        }),
    );
    let dec = measure(runs, || {
        let mut cmd = measured("ffmpeg");
        cmd.args(["-hide_banner", "-nostdin", "-nostats", "-i"])
            .arg(&set.mix)
            .args(["-f", "null", "-"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        run_measured(&mut cmd, "ffmpeg decode")
    })?;
    row(
        "ffmpeg decode only (the share of the row above that is not metering)",
        dec.best_wall(),
        dec.median_wall(),
        String::new(),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Args {
        parse_args(&a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).expect("valid")
    }

    #[test]
    fn film_batch_and_ffmpeg_switches_parse() {
        let a = args(&[]);
        assert_eq!((a.film_minutes, a.batch, a.no_ffmpeg), (None, 0, false));
        assert_eq!(args(&["--film"]).film_minutes, Some(60));
        assert_eq!(args(&["--film-minutes", "5"]).film_minutes, Some(5));
        let a = args(&["--batch", "50", "--no-ffmpeg"]);
        assert_eq!((a.batch, a.no_ffmpeg), (50, true));
        assert!(parse_args(&["--batch".to_owned()]).is_err());
        assert!(args(&["--ardour"]).ardour);
        assert_eq!(args(&["--only", "ardour"]).part, Part::Ardour);
    }

    /// The film files are RF64 with their sizes only in `ds64`: analyzer-core's reader must
    /// see 5.1, 24-bit, every frame and the samples as written.
    #[test]
    fn film_rf64_header_reads_back() {
        let path = std::env::temp_dir().join(format!("xtask-film-{}.wav", std::process::id()));
        let frames = 1000u64;
        let mut bytes = Vec::new();
        write_rf64_header(&mut bytes, frames).expect("in memory");
        assert_eq!(bytes.len() as u64, RF64_HEADER_BYTES);
        for f in 0..frames * FILM_CHANNELS as u64 {
            let v = (f as i32 - 3000) * 1000;
            bytes.extend_from_slice(&v.to_le_bytes()[..3]);
        }
        assert_eq!(bytes.len() as u64, film_file_bytes(frames));
        std::fs::write(&path, &bytes).expect("temp file");
        let mut r = WavReader::open(&path).expect("RF64 opens");
        let info = r.info().clone();
        assert_eq!(
            (info.channels, info.bits_per_sample, info.frames),
            (FILM_CHANNELS as u16, 24, frames)
        );
        let mut out = vec![0.0f32; frames as usize * FILM_CHANNELS];
        assert_eq!(r.read_frames(&mut out).expect("reads"), frames as usize);
        assert_eq!(out[7], (7 - 3000) as f32 * 1000.0 / 8_388_608.0);
        std::fs::remove_file(&path).ok();
    }
}
