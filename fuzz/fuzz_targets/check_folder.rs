//! The whole `check` path on a folder built from the input (WAVs, a mix, sidecars, a manifest;
//! see `stemcheck_fuzz::write_folder`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = stemcheck_fuzz::scratch("check");
    stemcheck_fuzz::exercise_check(data, &dir);
});
