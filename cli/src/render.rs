//! The human-readable report: a per-file table and the findings with their fixes.

use std::fmt::Write;

use analyzer_core::report::{
    FileReport, Polarity, Report, Role, SampleFormat, Severity, Verdict, format_timecode,
};

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn severity(&self, s: Severity) -> String {
        match s {
            Severity::Error => self.paint("1;31", "ERROR"),
            Severity::Warning => self.paint("1;33", "WARN "),
            Severity::Info => self.paint("36", "info "),
        }
    }
    fn verdict(&self, v: Verdict) -> String {
        match v {
            Verdict::Pass => self.paint("1;32", "PASS"),
            Verdict::Warn => self.paint("1;33", "WARN"),
            Verdict::Fail => self.paint("1;31", "FAIL"),
        }
    }
}

fn db(v: Option<f64>) -> String {
    v.map_or("-inf".to_owned(), |x| format!("{x:.1}"))
}

fn format_of(f: &FileReport) -> String {
    match (
        f.sample_rate,
        f.bits_per_sample,
        f.sample_format,
        f.channels,
    ) {
        (Some(sr), Some(bits), Some(fmt), Some(ch)) => format!(
            "{}k/{}{} {}",
            sr as f64 / 1000.0,
            bits,
            if fmt == SampleFormat::Float { "f" } else { "" },
            match ch {
                1 => "mono".to_owned(),
                2 => "st".to_owned(),
                n => format!("{n}ch"),
            }
        ),
        _ => "unreadable".to_owned(),
    }
}

/// A file's BWF/iXML time reference as timecode, "-" when it has none.
fn stamp(f: &FileReport) -> String {
    match (f.time_reference_samples, f.sample_rate) {
        (Some(t), Some(sr)) => format_timecode(t, sr),
        _ => "-".to_owned(),
    }
}

/// Truncates a name to `width` characters, keeping the end (where the part name usually is).
fn fit(name: &str, width: usize) -> String {
    let n = name.chars().count();
    if n <= width {
        name.to_owned()
    } else {
        format!("…{}", name.chars().skip(n - width + 1).collect::<String>())
    }
}

/// Renders the whole report as text; `colour` adds ANSI colours (stdout is a terminal).
pub fn human(report: &Report, colour: bool) -> String {
    let st = Style { on: colour };
    let mut out = String::new();
    let name_w = report
        .files
        .iter()
        .map(|f| f.path.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 36);
    // Time stamps get a column only when a file carries one: unstamped deliveries (most music)
    // keep the table they always had.
    let stamped = report
        .files
        .iter()
        .any(|f| f.time_reference_samples.is_some());
    let _ = write!(
        out,
        "{:<name_w$}  {:<4}  {:<14} {:>8} {:>7} {:>7} {:>7} {:>7} {:>6} {:>4}",
        "FILE", "ROLE", "FORMAT", "LENGTH", "PEAK", "TP", "LUFS", "OFFSET", "GAIN", "POL"
    );
    if stamped {
        let _ = write!(out, " {:>12}", "STAMP");
    }
    out.push('\n');
    for f in &report.files {
        let _ = write!(
            out,
            "{:<name_w$}  {:<4}  {:<14} {:>8} {:>7} {:>7} {:>7} {:>7} {:>6} {:>4}",
            fit(&f.path, name_w),
            match f.role {
                Some(Role::Mix) => "mix",
                Some(Role::Reference) => "ref",
                _ => "stem",
            },
            format_of(f),
            f.duration_s.map_or("-".to_owned(), |d| format!("{d:.2}s")),
            if f.error.is_some() {
                "-".to_owned()
            } else {
                db(f.sample_peak_dbfs)
            },
            if f.error.is_some() {
                "-".to_owned()
            } else {
                db(f.true_peak_dbtp)
            },
            if f.error.is_some() {
                "-".to_owned()
            } else {
                db(f.integrated_lufs)
            },
            f.offset_samples.map_or("-".to_owned(), |o| o.to_string()),
            f.gain_db.map_or("-".to_owned(), |g| format!("{g:+.1}")),
            match f.polarity {
                Some(Polarity::Inverted) => "inv",
                Some(Polarity::Normal) => "ok",
                None => "-",
            },
        );
        if stamped {
            let _ = write!(out, " {:>12}", stamp(f));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "(PEAK dBFS, TP dBTP, LUFS integrated; OFFSET in samples against the mix, + = late; GAIN to apply to match the mix{})",
        if stamped {
            "; STAMP the BWF time reference as HH:MM:SS.mmm"
        } else {
            ""
        }
    );
    out.push('\n');
    match &report.reconciliation {
        Some(r) => {
            let _ = writeln!(
                out,
                "Reconciliation against {}: stem-sum lag {} samples, null as delivered {} (corrected as the findings say: {}), residual {} LUFS{}",
                r.mix.as_deref().unwrap_or("the mix"),
                r.lag_samples,
                crate::render::null_db(r.null_depth_db),
                crate::render::null_db(r.corrected_null_depth_db),
                db(r.residual_lufs),
                r.pan_law_db.map_or(String::new(), |l| format!(
                    "; mono stems judged at a {l:.1} dB pan law"
                ))
            );
        }
        None => {
            let _ = writeln!(out, "Reconciliation: not run (no usable mix).");
        }
    }
    out.push('\n');
    if report.findings.is_empty() {
        let _ = writeln!(out, "No findings.");
    }
    for f in &report.findings {
        let _ = writeln!(
            out,
            "{} {:<22} {}",
            st.severity(f.severity),
            f.code.as_str(),
            f.message
        );
        if !f.fix.is_empty() && f.severity != Severity::Info
            || f.code == analyzer_core::FindingCode::NoMix
        {
            let _ = writeln!(out, "      {:<22} fix: {}", "", f.fix);
        }
    }
    out.push('\n');
    let errors = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    let _ = writeln!(
        out,
        "Verdict: {}  health {}/100  ({} error(s), {} warning(s); profile {})",
        st.verdict(report.verdict),
        report.health_score,
        errors,
        warnings,
        report.profile
    );
    out
}

/// A null depth as the reports print it: "-74.6 dB", "bit-exact" at the analyzer's floor (a
/// zero residual), "-" when not computed.
pub fn null_db(x: Option<f64>) -> String {
    match x {
        Some(v) if v <= analyzer_core::reconcile::NULL_FLOOR_DB => "bit-exact".to_owned(),
        Some(v) => format!("{v:.1} dB"),
        None => "-".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, stamp: Option<u64>) -> FileReport {
        FileReport {
            path: path.to_owned(),
            role: Some(Role::Stem),
            sample_rate: Some(48_000),
            time_reference_samples: stamp,
            ..Default::default()
        }
    }

    #[test]
    fn stamp_column_only_when_a_file_is_stamped() {
        let plain = Report::new("p", vec![file("A.wav", None)], None, Vec::new());
        let text = human(&plain, false);
        assert!(!text.contains("STAMP"), "{text}");
        let header = text.lines().next().unwrap_or_default();
        assert!(header.ends_with("POL"), "{header:?}");

        let stamped = Report::new(
            "p",
            vec![
                file("A.wav", Some(3600 * 48_000 + 48_000 + 24_000)),
                file("B.wav", None),
            ],
            None,
            Vec::new(),
        );
        let text = human(&stamped, false);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].ends_with("STAMP"), "{text}");
        assert!(lines[1].ends_with("01:00:01.500"), "{text}");
        assert!(lines[2].ends_with(" -"), "{text}");
        assert!(text.contains("STAMP the BWF time reference"), "{text}");
    }
}
