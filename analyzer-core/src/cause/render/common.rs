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

/// "1 sample", "2 samples": a count with its noun in the right number (nouns that take an
/// "s"; every count the report words goes through here).
pub(crate) fn plural(n: impl Into<i128>, noun: &str) -> String {
    let n = n.into();
    if n == 1 || n == -1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// "is" or "are" for `n` things.
pub(super) fn is_are(n: usize) -> &'static str {
    if n == 1 { "is" } else { "are" }
}

/// The fewest decimals (1 to 3) at which `value` and `limit` print apart, so that a level
/// above a limit never reads as equal to it ("-0.96 dBTP, above the ceiling of -1.00").
pub(super) fn decimals_apart(value: f64, limit: f64) -> usize {
    (1..=3)
        .find(|&d| format!("{value:.d$}") != format!("{limit:.d$}"))
        .unwrap_or(3)
}

/// `x` rounded up at `decimals` decimals: an "at least" amount that never prints as less than
/// what is needed (0.041 dB over reads "at least 0.05", never "0.0").
pub(super) fn ceil_to(x: f64, decimals: usize) -> f64 {
    let scale = 10f64.powi(decimals as i32);
    // A hair below the next step stays on this one (0.3 is not raised to 0.31 by f64 noise).
    ((x * scale) - 1e-9).ceil() / scale
}

/// A level above a limit and the amount it is over, worded at the decimals that show the
/// excess: (`value`, `limit`, `excess`, as text, and the excess as a number at those decimals).
pub(super) fn over_limit(value: f64, limit: f64) -> (String, String, String, f64) {
    let over = value - limit;
    let d = decimals_apart(value, limit).max(if over < 0.1 { 2 } else { 1 });
    let excess = ceil_to(over, d);
    (
        format!("{value:.d$}"),
        format!("{limit:.d$}"),
        format!("{excess:.d$}"),
        excess,
    )
}

/// A per-file map for `measured` (`{"file": value}`), in the order given.
pub(super) fn by_file_map<T: Clone + Into<serde_json::Value>>(
    by_file: &[(String, T)],
) -> serde_json::Value {
    serde_json::Value::Object(
        by_file
            .iter()
            .map(|(f, v)| (f.clone(), v.clone().into()))
            .collect(),
    )
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
