//! What every rendering shares: the rounding the report shows, milliseconds, name lists, and
//! a finding with a cause's code, severity and files.

use crate::cause::Cause;
use crate::report::Finding;

pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub(super) fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Samples as milliseconds, to 0.01 ms.
pub(super) fn ms(samples: i64, sr: u32) -> f64 {
    (samples as f64 * 1000.0 / f64::from(sr) * 100.0).round() / 100.0
}

/// "a", "a and b", "a, b and c", "a, b and 3 more".
pub(super) fn list(names: &[String]) -> String {
    match names.len() {
        0 => String::new(),
        1 => names[0].clone(),
        n if n <= 4 => format!("{} and {}", names[..n - 1].join(", "), names[n - 1]),
        n => format!("{}, {} and {} more", names[0], names[1], n - 2),
    }
}

/// A finding with the cause's code, severity and files and the given words.
pub(super) fn base(c: &Cause, message: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding::new(c.code(), c.severity(), c.files(), message, fix)
}

/// The sentence a missing-content finding adds when stems could not enter the sum: the part
/// may be theirs rather than missing from the delivery (empty when none was left out).
pub(super) fn may_be_excluded_note(excluded: &[String]) -> String {
    if excluded.is_empty() {
        String::new()
    } else {
        format!(
            " It may be the part of {}, which could not enter the sum.",
            list(excluded)
        )
    }
}
