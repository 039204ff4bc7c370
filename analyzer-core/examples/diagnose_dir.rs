//! Development aid: reconciles and diagnoses one delivery folder (the file whose name contains
//! "_Mix" is the mix) and prints the findings and the model scores.
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("folder"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("readable folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    files.sort();
    let mix = files
        .iter()
        .find(|p| p.to_string_lossy().contains("_Mix"))
        .expect("a mix")
        .clone();
    let stems: Vec<&std::path::Path> = files
        .iter()
        .filter(|p| **p != mix)
        .map(|p| p.as_path())
        .collect();
    let t = std::time::Instant::now();
    let (r, d) = analyzer_core::analyze::reconcile_and_diagnose_with(
        &mix,
        &stems,
        &analyzer_core::profile::MASTERING,
        &|_| {},
    )
    .expect("reconcile");
    println!(
        "{:?} null {:?} fitted {:?} in {:?}",
        dir.file_name().expect("a folder given by name"),
        r.reconciliation.null_depth_db,
        r.reconciliation.fitted_null_depth_db,
        t.elapsed()
    );
    println!("  scores {:?}\n  resid {:?}", d.scores, d.residual);
    for f in &r.findings {
        println!(
            "  {:?} {:?} {}  {}",
            f.severity,
            f.code,
            f.message,
            serde_json::to_string(&f.measured).expect("measured is plain JSON")
        );
    }
}
