//! Any bytes as an AIFF/AIFF-C or FLAC file (the seeds are both; the reader goes by content):
//! it opens and reads or returns an error naming the file, never panics, never allocates by a
//! size the file claims, and reading from a frame gives what reading up to it gave.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = stemcheck_fuzz::scratch("decoded");
    let path = dir.join("input.aif");
    std::fs::write(&path, data).expect("scratch write");
    stemcheck_fuzz::exercise_decoded(&path);
});
