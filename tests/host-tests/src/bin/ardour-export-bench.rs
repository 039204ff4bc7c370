//! Issue 20 target 1: a real DAW's export. Ardour 7 headless (`ardour7-lua`, dummy backend),
//! a session of 12 stereo tracks on 12 stem buses, a Reverb FX bus and the master (the host
//! tests' layout, `tests/ardour/*.lua`), 3 minutes at 48 kHz, exported offline with Ardour's own
//! export three ways, in turn, in one run: no plugin, the pass-through plugin on the 12 stem
//! buses and the master, and StemCheck there (capturing all 13). Target: StemCheck's export
//! <= 1.2x the no-plugin export, no frame lost (every capture complete, none dropped).
//!
//! What is timed: `SC_EXPORT_SECONDS`, Ardour's `run_export()` alone as `export.lua` measures it
//! (the wait an engineer sees after pressing Export), and the whole `ardour7-lua` run (loading
//! the session and plugins, closing it: StemCheck's writers finish their files at close). CPU:
//! the process's and each thread's user+system time from `/proc/<pid>/task/*/stat`, sampled
//! every 50 ms while Ardour runs (the last sample before exit is kept, so up to 50 ms of a
//! thread's end can be missed). Threads are grouped by name: StemCheck's capture writers
//! (`stemcheck-capture-writer`), and the rest, whose growth over the no-plugin run is the audio
//! threads' share of the plugin's cost (Ardour processes the graph on its own threads).
//!
//! ```text
//! cargo xtask bundle stemcheck-plugin --release
//! cargo xtask bundle stemcheck-passthrough --release
//! cargo run --release -p host-tests --bin ardour-export-bench -- [--runs N] [--seconds S]
//! ```
//! (`cargo xtask bench --only ardour` does all three.) Needs Ardour (`apt-get install ardour`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use host_tests::ardour::{self, ExportOptions, Session, StemSpec};
use host_tests::captures::wait_finished;
use host_tests::paths;
use host_tests::signals::{Planar, bench_song_tracks};

const RATE: u32 = 48_000;
const STEMS: usize = 12;
/// Tracks with an aux send to the Reverb bus (as in the host tests: a couple of parts).
const SENDS: [usize; 2] = [2, 3];
/// Issue 20 target 1.
const TARGET_RATIO: f64 = 1.2;
/// The name prefix Linux keeps (15 bytes) of StemCheck's writer threads.
const WRITER_THREAD: &str = "stemcheck-captu";
/// The same of the mix instance's reconciliation (the check it runs on the finished bounce,
/// with the analyzer's worker threads it starts, which inherit the name).
const RECONCILE_THREAD: &str = "stemcheck-recon";

struct Args {
    runs: usize,
    seconds: f64,
    /// Where to move the last StemCheck bounce folder (to time `stemcheck check` on it).
    keep: Option<PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut out = Args {
        runs: 3,
        seconds: 180.0,
        keep: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => out.runs = it.next().context("--runs needs a number")?.parse()?,
            "--seconds" => out.seconds = it.next().context("--seconds needs a number")?.parse()?,
            "--keep" => out.keep = Some(it.next().context("--keep needs a folder")?.into()),
            "-h" | "--help" => {
                println!(
                    "ardour-export-bench [--runs N (3)] [--seconds S (180)] [--keep DIR (the last StemCheck bounce)]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}"),
        }
    }
    out.runs = out.runs.max(1);
    Ok(out)
}

fn stem_name(i: usize) -> String {
    format!("Stem{:02}", i + 1)
}

/// CPU time of one Ardour run, from `/proc`, sampled while it runs.
#[derive(Default)]
struct CpuSampler {
    pid: u32,
    ticks_per_second: f64,
    process_ticks: u64,
    /// tid -> (thread name, user+system ticks), last seen.
    threads: BTreeMap<u32, (String, u64)>,
}

/// utime + stime of a `/proc/.../stat` line, in clock ticks.
fn stat_ticks(stat: &str) -> Option<u64> {
    // "pid (comm) state ppid ...": comm may hold spaces, so split after its closing parenthesis;
    // utime and stime are fields 14 and 15 of the line, 12th and 13th after the state's field.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

impl CpuSampler {
    fn new(ticks_per_second: f64) -> Self {
        Self {
            ticks_per_second,
            ..Self::default()
        }
    }

    fn sample(&mut self, pid: u32) {
        if pid != self.pid {
            // A new attempt after a crash (ardour::export retries): only the last one counts.
            *self = Self::new(self.ticks_per_second);
            self.pid = pid;
        }
        let proc_dir = PathBuf::from(format!("/proc/{pid}"));
        if let Some(t) = std::fs::read_to_string(proc_dir.join("stat"))
            .ok()
            .and_then(|s| stat_ticks(&s))
        {
            self.process_ticks = t;
        }
        let Ok(tasks) = std::fs::read_dir(proc_dir.join("task")) else {
            return;
        };
        for task in tasks.flatten() {
            let Some(tid) = task.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            let ticks = std::fs::read_to_string(task.path().join("stat"))
                .ok()
                .and_then(|s| stat_ticks(&s));
            let name = std::fs::read_to_string(task.path().join("comm"))
                .map(|s| s.trim().to_owned())
                .unwrap_or_default();
            if let Some(ticks) = ticks {
                self.threads.insert(tid, (name, ticks));
            }
        }
    }

    fn seconds(&self, ticks: u64) -> f64 {
        ticks as f64 / self.ticks_per_second
    }

    fn process_cpu_s(&self) -> f64 {
        self.seconds(self.process_ticks)
    }

    /// CPU seconds of the threads whose name starts with `prefix`.
    fn named_cpu_s(&self, prefix: &str) -> f64 {
        self.seconds(
            self.threads
                .values()
                .filter(|(n, _)| n.starts_with(prefix))
                .map(|(_, t)| t)
                .sum(),
        )
    }

    /// CPU seconds per thread name, busiest first.
    fn by_name(&self) -> Vec<(String, usize, f64)> {
        let mut m: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
        for (name, t) in self.threads.values() {
            let e = m.entry(name).or_default();
            e.0 += 1;
            e.1 += t;
        }
        let mut v: Vec<(String, usize, f64)> = m
            .into_iter()
            .map(|(n, (count, t))| (n.to_owned(), count, self.seconds(t)))
            .collect();
        v.sort_by(|a, b| b.2.total_cmp(&a.2));
        v
    }
}

fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Config {
    NoPlugin,
    Passthrough,
    StemCheck,
}

impl Config {
    fn label(self) -> &'static str {
        match self {
            Self::NoPlugin => "no plugin",
            Self::Passthrough => "pass-through plugin x13",
            Self::StemCheck => "StemCheck x13, capturing",
        }
    }
}

struct Measured {
    export_s: f64,
    run_wall_s: f64,
    process_cpu_s: f64,
    writer_cpu_s: f64,
    reconcile_cpu_s: f64,
    threads: Vec<(String, usize, f64)>,
}

fn export_once(
    session: &Session,
    config: Config,
    vst3_dir: &Path,
    work: &Path,
    ticks_per_second: f64,
    keep: Option<&Path>,
) -> Result<Measured> {
    let plugin = match config {
        Config::NoPlugin => None,
        Config::Passthrough => Some("StemCheck Passthrough".to_string()),
        Config::StemCheck => Some(paths::BUNDLE_NAME.to_string()),
    };
    let opts = ExportOptions {
        plugin,
        stem_buses: (0..STEMS).map(stem_name).collect(),
        master_compressor: false,
        reverb_wet: 1.0,
    };
    let captures = work.join("captures");
    let export_dir = work.join("export");
    for d in [&captures, &export_dir] {
        if d.exists() {
            std::fs::remove_dir_all(d).with_context(|| d.display().to_string())?;
        }
    }
    let mut sampler = CpuSampler::new(ticks_per_second);
    let export = ardour::export_observed(
        session,
        &opts,
        vst3_dir,
        &captures,
        &export_dir,
        &mut |pid| sampler.sample(pid),
    )?;
    let export_s: f64 = export
        .run
        .tagged("SC_EXPORT_SECONDS")
        .first()
        .context("export.lua printed no SC_EXPORT_SECONDS")?
        .parse()?;
    if config == Config::StemCheck {
        let bounces = wait_finished(&captures, Duration::from_secs(60))?;
        let [bounce] = bounces.as_slice() else {
            bail!("{} bounce folders, expected one", bounces.len());
        };
        if bounce.captures.len() != STEMS + 1 {
            bail!(
                "{} captures {:?}, expected {}",
                bounce.captures.len(),
                bounce.labels(),
                STEMS + 1
            );
        }
        for c in &bounce.captures {
            if c.state != "complete"
                || c.dropped_frames != 0
                || c.length_frames < session.frames as u64
            {
                bail!(
                    "{}: state {}, dropped {}, {} of {} frames",
                    c.label,
                    c.state,
                    c.dropped_frames,
                    c.length_frames,
                    session.frames
                );
            }
        }
        if let Some(keep) = keep {
            if keep.exists() {
                std::fs::remove_dir_all(keep).with_context(|| keep.display().to_string())?;
            }
            std::fs::rename(&bounce.path, keep)
                .or_else(|_| {
                    // Another file system: copy the files.
                    std::fs::create_dir_all(keep)?;
                    for e in std::fs::read_dir(&bounce.path)?.flatten() {
                        std::fs::copy(e.path(), keep.join(e.file_name()))?;
                    }
                    Ok::<(), std::io::Error>(())
                })
                .with_context(|| format!("keeping the bounce in {}", keep.display()))?;
        }
    }
    Ok(Measured {
        export_s,
        run_wall_s: export.run.wall_time.as_secs_f64(),
        process_cpu_s: sampler.process_cpu_s(),
        writer_cpu_s: sampler.named_cpu_s(WRITER_THREAD),
        reconcile_cpu_s: sampler.named_cpu_s(RECONCILE_THREAD),
        threads: sampler.by_name(),
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let args = parse_args()?;
    if !ardour::available() {
        bail!(
            "{} not found: apt-get install ardour (tests/run-host-tests.sh does)",
            ardour::LUA_TOOL
        );
    }
    let bundled = paths::target_dir()?.join("bundled");
    let ours = paths::vst3_bundle()?;
    let pass = bundled.join("StemCheckPassthrough.vst3");
    if !pass.is_dir() {
        bail!(
            "{} missing: cargo xtask bundle stemcheck-passthrough --release",
            pass.display()
        );
    }
    if ours.parent() != Some(bundled.as_path()) {
        bail!(
            "both bundles must sit in one VST3 folder: {} and {}",
            ours.display(),
            pass.display()
        );
    }
    let work = tempfile::tempdir()?;
    for b in [&ours, &pass] {
        ardour::scan_vst3(b, &work.path().join("scan-captures"))?;
    }

    let frames = (args.seconds * f64::from(RATE)).round() as usize;
    eprintln!(
        "building the session: {STEMS} stereo tracks x {:.0} s...",
        args.seconds
    );
    let specs: Vec<StemSpec> = (0..STEMS)
        .map(|i| StemSpec {
            name: stem_name(i),
            channels: 2,
        })
        .collect();
    let sends: Vec<String> = SENDS.iter().map(|&i| stem_name(i)).collect();
    let send_refs: Vec<&str> = sends.iter().map(String::as_str).collect();
    let session = ardour::build_session(work.path(), &specs, &send_refs, frames, RATE)?;
    for (i, stem) in bench_song_tracks(RATE, args.seconds, STEMS)
        .iter()
        .enumerate()
    {
        let audio: Planar = stem.audio.iter().map(|c| c[..frames].to_vec()).collect();
        session.fill(&stem_name(i), &audio)?;
    }

    let ticks = clock_ticks_per_second();
    let configs = [Config::NoPlugin, Config::Passthrough, Config::StemCheck];
    let mut results: BTreeMap<Config, Vec<Measured>> = BTreeMap::new();
    // One warm-up export (page cache, Ardour's caches), then the three in turn, rotating the
    // order every run so none is always first after a cold start.
    export_once(
        &session,
        Config::NoPlugin,
        &bundled,
        work.path(),
        ticks,
        None,
    )?;
    for run in 0..args.runs {
        for k in 0..configs.len() {
            let config = configs[(k + run) % configs.len()];
            let m = export_once(
                &session,
                config,
                &bundled,
                work.path(),
                ticks,
                args.keep.as_deref(),
            )
            .with_context(|| format!("{} export, run {}", config.label(), run + 1))?;
            eprintln!(
                "run {} {}: export {:.2} s, ardour run {:.2} s, CPU {:.2} s (writers {:.2} s, reconciliation {:.2} s)",
                run + 1,
                config.label(),
                m.export_s,
                m.run_wall_s,
                m.process_cpu_s,
                m.writer_cpu_s,
                m.reconcile_cpu_s
            );
            results.entry(config).or_default().push(m);
        }
    }

    let med = |c: Config, f: fn(&Measured) -> f64| median(results[&c].iter().map(f).collect());
    let base = med(Config::NoPlugin, |m| m.export_s);
    let track_seconds = (STEMS + 1) as f64 * args.seconds;
    println!(
        "\n### Ardour 7 export (one warm-up, then the three in turn, order rotated): {STEMS} stereo tracks -> stem buses -> master, {:.0} s at 48 kHz, median of {} runs\n",
        args.seconds, args.runs
    );
    println!(
        "| export | run_export() wall, median (best) | whole ardour7-lua run | process CPU | capture writers CPU | reconciliation CPU | ratio to no plugin |"
    );
    println!("|---|---|---|---|---|---|---|");
    for c in configs {
        let ratio = med(c, |m| m.export_s) / base;
        let verdict = if c == Config::StemCheck {
            if ratio <= TARGET_RATIO {
                " (<= 1.2x: met)"
            } else {
                " (<= 1.2x: **missed**)"
            }
        } else {
            ""
        };
        println!(
            "| {} | {:.2} s ({:.2} s) | {:.2} s | {:.2} s | {:.2} s | {:.2} s | {ratio:.2}x{verdict} |",
            c.label(),
            med(c, |m| m.export_s),
            results[&c]
                .iter()
                .map(|m| m.export_s)
                .fold(f64::INFINITY, f64::min),
            med(c, |m| m.run_wall_s),
            med(c, |m| m.process_cpu_s),
            med(c, |m| m.writer_cpu_s),
            med(c, |m| m.reconcile_cpu_s),
        );
    }
    // Everything but StemCheck's own named threads: Ardour's threads, where the plugins'
    // process() runs.
    let host_side = |m: &Measured| m.process_cpu_s - m.writer_cpu_s - m.reconcile_cpu_s;
    let audio_extra = med(Config::StemCheck, host_side) - med(Config::Passthrough, host_side);
    let writer = med(Config::StemCheck, |m| m.writer_cpu_s);
    println!(
        "\nPer instance-second ({} instances x {:.0} s = {track_seconds:.0} track-seconds): \
         StemCheck's audio-side CPU over the pass-through plugin {:.2} ms, capture writer {:.2} ms \
         ({:.1} ns and {:.1} ns per stereo frame).",
        STEMS + 1,
        args.seconds,
        audio_extra / track_seconds * 1e3,
        writer / track_seconds * 1e3,
        audio_extra / track_seconds / f64::from(RATE) * 1e9,
        writer / track_seconds / f64::from(RATE) * 1e9,
    );
    println!("\nBusiest threads (last StemCheck run; name, threads, CPU s):");
    if let Some(last) = results[&Config::StemCheck].last() {
        for (name, count, s) in last.threads.iter().take(8) {
            println!("- {name} x{count}: {s:.2} s");
        }
    }
    println!("Busiest threads (last no-plugin run):");
    if let Some(last) = results[&Config::NoPlugin].last() {
        for (name, count, s) in last.threads.iter().take(5) {
            println!("- {name} x{count}: {s:.2} s");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_user_and_system_ticks_even_with_spaces_in_the_name() {
        let line = "1234 (audio (rt) thr) S 1 2 3 4 5 6 7 8 9 10 250 17 0 0 20 0 8 0 100";
        assert_eq!(stat_ticks(line), Some(267));
        assert_eq!(stat_ticks("1 (x) S 1"), None);
    }
}
