//! Any bytes as a `.wav`: the reader opens and reads them or returns an error naming the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = stemcheck_fuzz::scratch("wav");
    let path = dir.join("input.wav");
    std::fs::write(&path, data).expect("scratch write");
    stemcheck_fuzz::exercise_wav(&path);
});
