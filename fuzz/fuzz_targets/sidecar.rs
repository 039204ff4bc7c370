//! Any bytes as a capture sidecar / bounce manifest, and as a bounce folder holding them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = stemcheck_fuzz::scratch("sidecar");
    let path = dir.join("Drums.stemcheck.json");
    std::fs::write(&path, data).expect("scratch write");
    stemcheck_fuzz::exercise_sidecar(&path);
    std::fs::write(dir.join(analyzer_core::capture::BOUNCE_MANIFEST), data).expect("scratch write");
    if let Ok(b) = analyzer_core::capture::read_bounce(&dir) {
        assert_eq!(b.captures.len() + b.unreadable.len(), 1);
    }
});
