//! Helpers every end-to-end test of the `stemcheck` binary uses.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs the shipped `stemcheck` binary with `args`.
pub fn stemcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stemcheck"))
        .args(args)
        .output()
        .expect("stemcheck runs")
}

/// `path` as an argument (the tests' paths are UTF-8).
pub fn p(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// The JSON a run wrote to standard output; the failure shows both streams.
pub fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
