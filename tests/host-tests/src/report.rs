//! Runs the `stemcheck` CLI on a folder, the way a user checks a bounce, and reads its JSON report
//! (the contract in `report-contract.md`: `verdict`, `findings[].code`, `reconciliation`).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::paths;

/// What the tests read from a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub verdict: String,
    /// Finding codes in report order.
    pub codes: Vec<String>,
    /// `reconciliation.null_depth_db`, when there was a mix to reconcile against.
    pub null_depth_db: Option<f64>,
    /// Role of each file by path, as the analyzer decided.
    pub roles: Vec<(String, String)>,
    pub json: Value,
}

impl Checked {
    /// Whether a finding with `code` is present.
    pub fn has(&self, code: &str) -> bool {
        self.codes.iter().any(|c| c == code)
    }
}

/// `stemcheck check <folder> --json - --fail-on never`.
///
/// # Errors
/// When the CLI is not built, cannot run, exits 2, or prints no valid report.
pub fn check(folder: &Path) -> Result<Checked> {
    let bin = paths::stemcheck_cli()?;
    let out = Command::new(&bin)
        .arg("check")
        .arg(folder)
        .args(["--json", "-", "--fail-on", "never"])
        .output()
        .map_err(|e| Error::io(&bin, e))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(Error::Command {
            program: format!("{} check {}", bin.display(), folder.display()),
            status: out.status.to_string(),
            stderr_tail: stderr
                .chars()
                .rev()
                .take(2000)
                .collect::<String>()
                .chars()
                .rev()
                .collect(),
        });
    }
    parse(&String::from_utf8_lossy(&out.stdout), folder)
}

/// Reads the report JSON printed for `folder`.
///
/// # Errors
/// When the text is not a report of the contract's shape.
pub fn parse(text: &str, folder: &Path) -> Result<Checked> {
    let bad = |problem: String| Error::Report {
        path: folder.to_owned(),
        problem,
    };
    let json: Value =
        serde_json::from_str(text.trim()).map_err(|e| bad(format!("not JSON: {e}")))?;
    let verdict = json
        .get("verdict")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no verdict".into()))?
        .to_owned();
    let codes = json
        .get("findings")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no findings array".into()))?
        .iter()
        .filter_map(|f| f.get("code").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let null_depth_db = json
        .get("reconciliation")
        .and_then(|r| r.get("null_depth_db"))
        .and_then(Value::as_f64);
    let roles = json
        .get("files")
        .and_then(Value::as_array)
        .map(|files| {
            files
                .iter()
                .map(|f| {
                    let s = |k: &str| {
                        f.get(k)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned()
                    };
                    (s("path"), s("role"))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Checked {
        verdict,
        codes,
        null_depth_db,
        roles,
        json,
    })
}

/// A short summary of a report for assertion messages.
pub fn summary(c: &Checked) -> String {
    let findings: Vec<String> = c
        .json
        .get("findings")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|f| {
                    format!(
                        "{} ({}): {}",
                        f.get("code").and_then(Value::as_str).unwrap_or("?"),
                        f.get("severity").and_then(Value::as_str).unwrap_or("?"),
                        f.get("message").and_then(Value::as_str).unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    format!(
        "verdict {} null {:?}\n  {}",
        c.verdict,
        c.null_depth_db,
        findings.join("\n  ")
    )
}
