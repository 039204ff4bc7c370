//! The check's progress tells the truth: one total fixed before any work, a fraction that
//! never passes 1 and reaches it only at the end, and named stages that come in order.

// Test code may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Mutex;

use analyzer_core::analyze::{self, Options, Progress, Stage};
use analyzer_core::synth::{self, WavFormat};

const SR: u32 = 48_000;

/// The demo song's stems (and, with `mix`, its mix) as float WAVs in `dir`.
fn delivery(dir: &Path, seconds: f32, mix: bool) {
    let stems = synth::demo_song(SR, seconds);
    if mix {
        let m = synth::mix_down(&stems, 2);
        synth::write_wav(&dir.join("Song_Mix.wav"), 2, SR, WavFormat::Float32, &m).unwrap();
    }
    for s in &stems {
        let p = dir.join(format!("Song_{}.wav", s.name));
        synth::write_wav(&p, s.channels, SR, WavFormat::Float32, &s.samples).unwrap();
    }
}

/// Runs a check of `dir` and returns every progress event in the order received.
fn events(dir: &Path, threads: usize) -> Vec<Progress> {
    let seen = Mutex::new(Vec::new());
    let cb = |p: Progress| seen.lock().unwrap().push(p);
    let opts = Options {
        threads,
        progress: Some(&cb),
        ..Options::default()
    };
    analyze::check_paths(&[dir.to_owned()], &opts).unwrap();
    seen.into_inner().unwrap()
}

/// Checks the fraction's accounting and returns the fraction done when each stage began.
fn check_accounting(ev: &[Progress]) -> Vec<(Stage, f64)> {
    let totals: Vec<u64> = ev
        .iter()
        .filter_map(|p| match p {
            Progress::Total(t) => Some(*t),
            _ => None,
        })
        .collect();
    assert_eq!(totals.len(), 1, "one total: {ev:?}");
    let total = totals[0];
    assert!(total > 0);
    let total_at = ev
        .iter()
        .position(|p| matches!(p, Progress::Total(_)))
        .unwrap();
    let mut done = 0u64;
    let mut began = Vec::new();
    for (k, p) in ev.iter().enumerate() {
        match *p {
            Progress::Advance(n) => {
                assert!(k > total_at, "work before the total: {ev:?}");
                assert!(n > 0);
                done += n;
                assert!(done <= total, "fraction past 1: {done} of {total}");
                if done == total {
                    // 1 only at the end: after it nothing but stages ending.
                    assert!(
                        ev[k + 1..].iter().all(|p| matches!(p, Progress::End(_))),
                        "the fraction reached 1 before the end: {:?}",
                        &ev[k..]
                    );
                }
            }
            Progress::Begin(s) => began.push((s, done as f64 / total as f64)),
            _ => {}
        }
    }
    assert_eq!(done, total, "the fraction ends at 1");
    began
}

/// Begins in stage order, each once; every stage ends once after it began; the listed
/// stage pairs (a, b) are sequential: a ends before b begins.
fn check_stages(ev: &[Progress], expected: &[Stage], sequential: &[(Stage, Stage)]) {
    let pos = |want: Progress| {
        let at: Vec<usize> = (0..ev.len()).filter(|&k| ev[k] == want).collect();
        assert_eq!(at.len(), 1, "{want:?} once: {ev:?}");
        at[0]
    };
    let begins: Vec<Stage> = ev
        .iter()
        .filter_map(|p| match p {
            Progress::Begin(s) => Some(*s),
            _ => None,
        })
        .collect();
    assert_eq!(begins, expected, "{ev:?}");
    for &s in expected {
        assert!(pos(Progress::Begin(s)) < pos(Progress::End(s)), "{s:?}");
    }
    for &(a, b) in sequential {
        assert!(
            pos(Progress::End(a)) < pos(Progress::Begin(b)),
            "{a:?} ends before {b:?} begins: {ev:?}"
        );
    }
    assert_eq!(ev.first(), Some(&Progress::Begin(Stage::Reading)));
    assert_eq!(ev.last(), Some(&Progress::End(Stage::Diagnosing)));
}

#[test]
fn a_reconciled_check_names_its_stages_in_order_and_never_passes_one() {
    let dir = tempfile::tempdir().unwrap();
    delivery(dir.path(), 6.0, true);
    for threads in [1, 2, 4] {
        let ev = events(dir.path(), threads);
        let began = check_accounting(&ev);
        check_stages(
            &ev,
            &[
                Stage::Reading,
                Stage::Metering,
                Stage::Aligning,
                Stage::Reconciling,
                Stage::Diagnosing,
            ],
            &[
                (Stage::Reading, Stage::Metering),
                (Stage::Aligning, Stage::Reconciling),
                (Stage::Metering, Stage::Diagnosing),
                (Stage::Reconciling, Stage::Diagnosing),
            ],
        );
        // The reconciliation's pass is counted in the total: it does not begin at 100 %, and
        // the diagnosis does not begin there either (the old count did, and sat there).
        for (s, fraction) in began {
            assert!(fraction < 1.0, "{s:?} began at {fraction}");
            if s == Stage::Reconciling {
                assert!(fraction < 0.75, "reconciling began at {fraction}");
            }
        }
    }
}

#[test]
fn a_check_without_a_mix_has_no_reconciliation_stages() {
    let dir = tempfile::tempdir().unwrap();
    delivery(dir.path(), 2.0, false);
    let ev = events(dir.path(), 2);
    check_accounting(&ev);
    check_stages(
        &ev,
        &[Stage::Reading, Stage::Metering, Stage::Diagnosing],
        &[
            (Stage::Reading, Stage::Metering),
            (Stage::Metering, Stage::Diagnosing),
        ],
    );
}

/// A check cancelled from another thread (`Options::cancel`, what the plugin sets when the
/// host destroys it mid-analysis) stops at its threads' next reads and returns `Cancelled`:
/// after the flag is set only the blocks already in flight and the closing shares report
/// progress, where the whole check reports hundreds of blocks. The flag left unset changes
/// nothing.
#[test]
fn a_cancelled_check_stops_at_its_next_reads_and_returns_cancelled() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

    let dir = tempfile::tempdir().unwrap();
    delivery(dir.path(), 20.0, true);
    let paths = [dir.path().to_owned()];

    let cancel = Arc::new(AtomicBool::new(false));
    let uncancelled = analyze::check_paths(
        &paths,
        &Options {
            threads: 2,
            cancel: Some(cancel.clone()),
            ..Options::default()
        },
    )
    .unwrap();
    let plain = analyze::check_paths(
        &paths,
        &Options {
            threads: 2,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(
        serde_json::to_string(&uncancelled).unwrap(),
        serde_json::to_string(&plain).unwrap(),
        "an unset cancel flag must not change the report"
    );
    let all_blocks = events(dir.path(), 2)
        .iter()
        .filter(|p| matches!(p, Progress::Advance(_)))
        .count();

    let total = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let before = AtomicUsize::new(0);
    let after = AtomicUsize::new(0);
    let cb = |p: Progress| match p {
        Progress::Total(t) => total.store(t, Ordering::SeqCst),
        Progress::Advance(n) => {
            if cancel.load(Ordering::SeqCst) {
                after.fetch_add(1, Ordering::SeqCst);
                return;
            }
            before.fetch_add(1, Ordering::SeqCst);
            let d = done.fetch_add(n, Ordering::SeqCst) + n;
            // Cancelled a tenth of the way in: metering and the alignment are both running.
            if d * 10 >= total.load(Ordering::SeqCst) {
                cancel.store(true, Ordering::SeqCst);
            }
        }
        _ => {}
    };
    let result = analyze::check_paths(
        &paths,
        &Options {
            threads: 2,
            progress: Some(&cb),
            cancel: Some(cancel.clone()),
            ..Options::default()
        },
    );
    assert!(
        matches!(result, Err(analyzer_core::Error::Cancelled)),
        "{result:?}"
    );
    let (before, after) = (before.into_inner(), after.into_inner());
    assert!(
        all_blocks >= 100 && before >= 5,
        "{all_blocks} blocks in a whole check, {before} before the cancel"
    );
    // In flight: one block per metering thread and the streaming pass; then the shares
    // given when the reconciliation returns and when the check ends.
    assert!(
        after <= 6,
        "{after} progress reports after the cancel ({before} before, {all_blocks} in a whole check)"
    );
}
