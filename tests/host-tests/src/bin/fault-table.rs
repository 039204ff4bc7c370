//! Prints the fault table of issue 7 as markdown: every fault scenario of the plugin and its
//! capture ([`host_tests::faults`]), the host killed mid-bounce (the built `.clap` in a child
//! process), and the malformed-input tests of the analyzer, with how many faults were tried,
//! samples lost and panics. Exits 1 when any row misses its target (0 lost, 0 panics, no
//! problem) or could not run.
//!
//! Run it after building the bundle and the CLI (as `tests/run-host-tests.sh` does):
//! `cargo run --release -p host-tests --bin fault-table`. `--no-analyzer` skips the analyzer
//! row (which runs `cargo test` on analyzer-core's malformed_inputs test).

use std::path::Path;
use std::process::Command;

use host_tests::faults::{self, Outcome, Tally};

struct Row {
    scenario: String,
    tried: String,
    lost: String,
    panics: String,
    note: String,
    ok: bool,
}

impl Row {
    fn of(o: &Outcome) -> Self {
        let mut note = o.tally.note.clone();
        if !o.tally.problems.is_empty() {
            note = format!("**PROBLEMS**: {}", o.tally.problems.join("; "));
        }
        Self {
            scenario: o.scenario.to_string(),
            tried: o.tally.tried.to_string(),
            lost: o.tally.samples_lost.to_string(),
            panics: o.panics.to_string(),
            note,
            ok: o.is_clean(),
        }
    }
}

/// Runs analyzer-core's malformed-input test binary and counts the malformed files it tried
/// (its `case <name>` lines), the tests passed and failed, and the panics it printed.
fn analyzer_row() -> Row {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "test",
            "--release",
            "--locked",
            "-p",
            "analyzer-core",
            "--test",
            "malformed_inputs",
            "--",
            "--nocapture",
            "--test-threads=1",
        ])
        .current_dir(host_tests::paths::workspace_root())
        .output();
    let fail = |note: String| Row {
        scenario: "malformed input files (analyzer)".into(),
        tried: "-".into(),
        lost: "-".into(),
        panics: "-".into(),
        note,
        ok: false,
    };
    let out = match out {
        Ok(o) => o,
        Err(e) => return fail(format!("could not run cargo: {e}")),
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let cases = text.lines().filter(|l| l.starts_with("case ")).count();
    let panics = text.matches("panicked at").count();
    let summary = text
        .lines()
        .find(|l| l.starts_with("test result:"))
        .unwrap_or("no test result")
        .trim()
        .to_string();
    // The other tests of the file: one file over 4 GiB, dangling and looping links, an
    // unreadable file, a folder of 500 files, a missing path.
    let extra = 1 + 2 + 1 + 500 + 1;
    Row {
        scenario: "malformed input files (analyzer)".into(),
        tried: format!("{}", cases + extra),
        lost: "n/a".into(),
        panics: panics.to_string(),
        note: format!(
            "{cases} malformed WAV cases + {extra} in the 4 GiB / links / permissions / 500-file / missing-path tests; `{summary}`"
        ),
        ok: out.status.success() && panics == 0 && cases > 0,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut rows: Vec<Row> = faults::SCENARIOS
        .iter()
        .map(|(name, body)| {
            eprintln!("== {name}");
            Row::of(&faults::run(name, *body))
        })
        .collect();
    eprintln!("== host killed mid-bounce");
    let exe = std::env::current_exe()
        .map(|p| p.with_file_name("clap-instance"))
        .unwrap_or_default();
    let killed = if exe.exists() {
        faults::run("host killed mid-bounce (kill -9)", kill_body)
    } else {
        Outcome {
            scenario: "host killed mid-bounce (kill -9)",
            tally: Tally {
                problems: vec![format!(
                    "{} not built: cargo build --release -p host-tests",
                    exe.display()
                )],
                ..Tally::default()
            },
            panics: 0,
        }
    };
    rows.push(Row::of(&killed));
    if !args.iter().any(|a| a == "--no-analyzer") {
        eprintln!("== malformed inputs (analyzer-core)");
        rows.push(analyzer_row());
    }

    println!("| scenario | tried | samples lost | panics | what happened |");
    println!("|---|---:|---:|---:|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            r.scenario,
            r.tried,
            r.lost,
            r.panics,
            r.note.replace('|', "\\|")
        );
    }
    if rows.iter().any(|r| !r.ok) {
        std::process::exit(1);
    }
}

fn kill_body(work: &Path) -> Tally {
    let exe = std::env::current_exe()
        .map(|p| p.with_file_name("clap-instance"))
        .unwrap_or_default();
    faults::host_killed(work, &exe)
}
