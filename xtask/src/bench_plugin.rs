//! The plugin half of `cargo xtask bench`: runs the criterion benches of one instance's
//! audio-thread cost (`plugin/benches/process.rs`) and of the 13-instance offline CLAP bounce
//! (`tests/host-tests/benches/bounce.rs`, after bundling both plugins), then reads criterion's
//! estimates and prints the numbers against issue 6's targets: at most 25 ns per stereo frame
//! per instance, and a capturing bounce at most 1.3x the pass-through bounce.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Frames every iteration of the process bench feeds (`FRAMES_PER_ITER` there).
const PROCESS_FRAMES_PER_ITER: f64 = 4096.0;
const PROCESS_GROUP: &str = "plugin_process_48k_stereo";
const BOUNCE_GROUP: &str = "bounce_13_instances_30s_48k_stereo";
/// Issue 6's per-instance budget.
const TARGET_NS_PER_FRAME: f64 = 25.0;
/// Issue 6's bounce budget (capturing / pass-through wall time).
const TARGET_BOUNCE_RATIO: f64 = 1.3;

fn run_cargo(cargo: &mut Command, what: &str) -> Result<()> {
    eprintln!("running {what}...");
    let status = cargo
        .status()
        .with_context(|| format!("cannot run {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Criterion's median estimate of one benchmark, in nanoseconds.
fn median_ns(criterion_dir: &Path, id: &str) -> Result<f64> {
    let path = criterion_dir.join(id).join("new").join("estimates.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{}: no criterion estimate", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    json["median"]["point_estimate"]
        .as_f64()
        .with_context(|| format!("{}: no median.point_estimate", path.display()))
}

/// Runs both benches and prints the tables. `cargo` builds commands in the workspace root;
/// `target` is the target folder (criterion writes its estimates under `target/criterion`).
pub fn run(cargo: impl Fn() -> Command, root: &Path, target: &Path) -> Result<()> {
    let criterion_dir: PathBuf = target.join("criterion");

    run_cargo(
        cargo()
            .args([
                "bench",
                "--locked",
                "-p",
                "stemcheck-plugin",
                "--bench",
                "process",
            ])
            // The cost is the audio thread's CPU time: on a shared machine the wall clock also
            // counts waits for a core and yields to the capture writer (plugin/benches/process.rs).
            .env("STEMCHECK_BENCH_CLOCK", "thread-cpu")
            .current_dir(root),
        "cargo bench -p stemcheck-plugin --bench process",
    )?;
    println!(
        "\n### Plugin DSP per instance (audio-thread CPU ns per stereo frame at 48 kHz, criterion median)\n"
    );
    println!("| case | block 64 | block 512 | block 4096 | <= {TARGET_NS_PER_FRAME} ns |");
    println!("|---|---|---|---|---|");
    for case in ["meters", "meters_gui_60hz", "editor_closed", "editor_open"] {
        let mut cells = Vec::new();
        let mut worst: f64 = 0.0;
        for block in [64, 512, 4096] {
            let ns = median_ns(&criterion_dir, &format!("{PROCESS_GROUP}/{case}/{block}"))?
                / PROCESS_FRAMES_PER_ITER;
            worst = worst.max(ns);
            cells.push(format!("{ns:.1} ns"));
        }
        let met = if worst <= TARGET_NS_PER_FRAME {
            "met"
        } else {
            "**missed**"
        };
        println!("| {case} | {} | {met} |", cells.join(" | "));
    }

    bundle_both(&cargo, root)?;
    run_cargo(
        cargo()
            .args(["bench", "--locked", "-p", "host-tests", "--bench", "bounce"])
            .current_dir(root),
        "cargo bench -p host-tests --bench bounce",
    )?;
    println!(
        "\n### Offline bounce, 12 stems + mix in the CLAP harness (30 s each, criterion median)\n"
    );
    println!(
        "| host output | pass-through | StemCheck, capturing | ratio | <= {TARGET_BOUNCE_RATIO}x |"
    );
    println!("|---|---|---|---|---|");
    for (label, suffix) in [
        ("kept in memory (harness only)", ""),
        ("exported to WAV (a DAW's stem export)", "_export"),
    ] {
        let pass = median_ns(
            &criterion_dir,
            &format!("{BOUNCE_GROUP}/passthrough{suffix}"),
        )?;
        let ours = median_ns(&criterion_dir, &format!("{BOUNCE_GROUP}/stemcheck{suffix}"))?;
        let ratio = ours / pass;
        let met = if ratio <= TARGET_BOUNCE_RATIO {
            "met"
        } else {
            "**missed**"
        };
        println!(
            "| {label} | {:.0} ms | {:.0} ms | {ratio:.2}x | {met} |",
            pass / 1e6,
            ours / 1e6
        );
    }
    Ok(())
}

/// Bundles StemCheck and the pass-through plugin (release), the pair every host bench compares.
fn bundle_both(cargo: &impl Fn() -> Command, root: &Path) -> Result<()> {
    for bundle in ["stemcheck-plugin", "stemcheck-passthrough"] {
        run_cargo(
            cargo()
                .args(["xtask", "bundle", bundle, "--release"])
                .current_dir(root),
            &format!("cargo xtask bundle {bundle} --release"),
        )?;
    }
    Ok(())
}

/// Issue 20 target 1: bundles both plugins, then runs the host-tests crate's
/// `ardour-export-bench` (Ardour 7's own export with no plugin, the pass-through plugin and
/// StemCheck on 13 buses, in turn); it prints its own table.
pub fn ardour_export(cargo: impl Fn() -> Command, root: &Path, runs: usize) -> Result<()> {
    bundle_both(&cargo, root)?;
    run_cargo(
        cargo()
            .args([
                "run",
                "--release",
                "--locked",
                "-q",
                "-p",
                "host-tests",
                "--bin",
                "ardour-export-bench",
                "--",
                "--runs",
                &runs.to_string(),
            ])
            .current_dir(root),
        "the Ardour export bench (host-tests --bin ardour-export-bench)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_median() {
        let dir = std::env::temp_dir().join(format!("xtask-criterion-{}", std::process::id()));
        let est = dir.join("g/f/64/new");
        std::fs::create_dir_all(&est).unwrap();
        std::fs::write(
            est.join("estimates.json"),
            r#"{"mean":{"point_estimate":2.0},"median":{"point_estimate":40960.0}}"#,
        )
        .unwrap();
        assert_eq!(median_ns(&dir, "g/f/64").unwrap(), 40960.0);
        let missing = median_ns(&dir, "g/f/512").unwrap_err().to_string();
        assert!(missing.contains("no criterion estimate"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
