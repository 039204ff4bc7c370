//! The mix instance's reconciliation panel data: after a bounce, the mix instance waits for the
//! stem captures (written by other instances, here on other threads) and runs analyzer-core on
//! the bounce folder, the same check as `stemcheck check <folder>`.

mod common;

use std::time::{Duration, Instant};

use analyzer_core::capture::{CaptureRole, ProcessMode};
use analyzer_core::report::Verdict;
use common::*;
use stemcheck_plugin::reconcile::analyze_folder;
use stemcheck_plugin::shared::ReconcileState;

#[test]
fn mix_instance_reports_the_bounce_after_its_stems_complete() {
    let root = tempfile::tempdir().unwrap();
    let frames = 4 * RATE as usize;
    let stems: Vec<Vec<Vec<f32>>> = (0..3).map(|i| signal(50 + i, 2, frames)).collect();
    let mix: Vec<Vec<f32>> = (0..2)
        .map(|c| {
            (0..frames)
                .map(|f| stems.iter().map(|s| s[c][f]).sum())
                .collect()
        })
        .collect();

    let mut mix_engine = engine_with(
        root.path(),
        "Mix",
        2,
        ProcessMode::Offline,
        4096,
        analyze_folder,
    );
    let mut mix_info = stem_block(false, None);
    mix_info.role = Some(CaptureRole::Mix);
    // The mix finishes first; the stems (another "process") trail it.
    feed(&mut mix_engine, &mix, &[4096], 0, mix_info);
    let shared = mix_engine.shared().clone();
    let stem_threads: Vec<_> = stems
        .into_iter()
        .zip(["Drums", "Bass", "Keys"])
        .map(|(input, label)| {
            let root = root.path().to_path_buf();
            std::thread::spawn(move || {
                let mut e = engine(&root, label, 2, ProcessMode::Offline, 4096);
                feed(&mut e, &input, &[1000, 4096], 0, stem_block(false, None));
                e.deactivate();
            })
        })
        .collect();
    // The mix's bounce ends when the host stops calling process(): the writer's idle
    // finalize hands it to the reconciler, which must wait for the stems.
    for t in stem_threads {
        t.join().unwrap();
    }
    let start = Instant::now();
    let report = loop {
        let state = shared.reconcile.lock().clone();
        match state {
            ReconcileState::Done { report, .. } => break report,
            ReconcileState::Failed { reason, .. } => panic!("analysis failed: {reason}"),
            _ if start.elapsed() > Duration::from_secs(120) => panic!("no result: {state:?}"),
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    assert_eq!(report.files.len(), 4, "{report:#?}");
    assert_ne!(report.verdict, Verdict::Fail, "{:#?}", report.findings);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.code.as_str() == "sum_matches_mix"),
        "{:#?}",
        report.findings
    );
    mix_engine.deactivate();
}
