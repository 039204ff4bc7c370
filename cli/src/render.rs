//! The human-readable report: a per-file table (the mix first), the reconciliation, the
//! findings (one block per cause, naming its files) with their fixes, and a last line that a
//! person can paste into a message.
//!
//! Everything is laid out for a given width (the terminal's, see `output::stdout_width`):
//! columns that do not fit are left out and named, names that do not fit are shortened in the
//! middle with an ellipsis (the start and the part name at the end stay readable), prose is
//! wrapped. No number is printed with a sign on zero ("-0.0" reads as a fault that is not
//! there).

use std::fmt::Write;

use analyzer_core::report::{
    FileReport, Finding, Polarity, Report, Role, SampleFormat, Severity, Verdict, format_timecode,
};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The narrowest layout: below this the table's essential columns no longer fit beside a
/// readable name.
pub const MIN_WIDTH: usize = 40;

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
    /// Five characters wide, whatever the severity.
    fn severity(&self, s: Severity) -> String {
        match s {
            Severity::Error => self.paint("1;31", "ERROR"),
            Severity::Warning => self.paint("1;33", "WARN "),
            Severity::Info => self.paint("36", "info "),
        }
    }
    fn verdict(&self, v: Verdict) -> String {
        self.paint(
            match v {
                Verdict::Pass => "1;32",
                Verdict::Warn => "1;33",
                Verdict::Fail => "1;31",
            },
            verdict_word(v),
        )
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Warn => "WARN",
        Verdict::Fail => "FAIL",
    }
}

/// Width of `text` in terminal columns: CJK ideographs and most emoji take two, combining
/// marks none (Unicode's East Asian Width, as terminals draw them). The colour codes are added
/// after the layout.
fn cols(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// Columns of one character (control characters count as none, as `unicode-width` has them).
fn char_cols(c: char) -> usize {
    UnicodeWidthChar::width(c).unwrap_or(0)
}

/// `text` padded with spaces to `width` columns (`format!`'s `{:<w$}` counts characters).
fn pad_end(text: &str, width: usize) -> String {
    let mut s = text.to_owned();
    s.extend(std::iter::repeat_n(' ', width.saturating_sub(cols(text))));
    s
}

/// `text` right-aligned in `width` columns.
fn pad_start(text: &str, width: usize) -> String {
    let mut s: String = std::iter::repeat_n(' ', width.saturating_sub(cols(text))).collect();
    s.push_str(text);
    s
}

/// The longest start of `chars` that fits `width` columns, as a count of characters.
fn fitting_prefix(chars: &[char], width: usize) -> usize {
    let mut used = 0;
    for (i, &c) in chars.iter().enumerate() {
        used += char_cols(c);
        if used > width {
            return i;
        }
    }
    chars.len()
}

/// Whether a formatted number is zero ("-0.0", "+0", "0.00").
fn is_zero_text(text: &str) -> bool {
    let digits = text.trim_start_matches(['-', '+']);
    !digits.is_empty() && digits.chars().all(|c| c == '0' || c == '.')
}

/// `x` with `decimals` decimals; a value that rounds to zero is written without a sign.
fn fixed(x: f64, decimals: usize) -> String {
    let text = format!("{x:.decimals$}");
    if is_zero_text(&text) {
        format!("{:.decimals$}", 0.0)
    } else {
        text
    }
}

/// `x` with an explicit sign ("+1.5", "-0.7"), except on zero ("0.0").
pub fn signed(x: f64, decimals: usize) -> String {
    let text = fixed(x, decimals);
    if is_zero_text(&text) || text.starts_with('-') {
        text
    } else {
        format!("+{text}")
    }
}

fn db(v: Option<f64>) -> String {
    v.map_or("-inf".to_owned(), |x| fixed(x, 1))
}

/// Removes the sign from every zero in `text` that stands as a number of its own ("-0.0 dB",
/// "+0 samples"), leaving anything inside the names in `keep` (file names may hold "-0").
/// The analyzer's messages are prose around numbers; the terminal shows them without the
/// signed zeros their formatting can leave.
fn unsign_zeros(text: &str, keep: &[&str]) -> String {
    let mut protected = vec![false; text.len()];
    for name in keep.iter().filter(|n| !n.is_empty()) {
        for (at, _) in text.match_indices(name) {
            protected[at..at + name.len()].fill(true);
        }
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (i, c) in text.char_indices() {
        if !(c == '-' || c == '+' || c == '\u{2212}') || protected[i] {
            continue;
        }
        let before = text[..i].chars().next_back();
        if before.is_some_and(|b| b.is_alphanumeric() || b == '.' || b == '_') {
            continue;
        }
        let start = i + c.len_utf8();
        let number: &str = {
            let end = text[start..]
                .find(|ch: char| !(ch.is_ascii_digit() || ch == '.'))
                .map_or(text.len(), |e| start + e);
            text[start..end].trim_end_matches('.')
        };
        let after = bytes.get(start + number.len()).copied();
        if number.starts_with('0')
            && is_zero_text(number)
            && !after.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            out.push_str(&text[last..i]);
            last = start;
        }
    }
    out.push_str(&text[last..]);
    out
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

/// Shortens `name` to `width` columns with an ellipsis in the middle, keeping its start and
/// a little more of its end (where the part name and the extension are): nothing is cut
/// without a mark.
pub fn fit(name: &str, width: usize) -> String {
    let n = cols(name);
    if n <= width {
        return name.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let keep = width - 1;
    let head = keep / 2;
    let tail = keep - head;
    let chars: Vec<char> = name.chars().collect();
    let start: String = chars[..fitting_prefix(&chars, head)].iter().collect();
    let mut rev = chars.clone();
    rev.reverse();
    let end_n = fitting_prefix(&rev, tail);
    let end: String = chars[chars.len() - end_n..].iter().collect();
    // A wide character that did not fit leaves a column: the ellipsis keeps the width exact.
    pad_end(&format!("{start}…{end}"), width)
}

/// Lays `tokens` out in lines of at most `width` columns, joined by `joiner`, the first line
/// after `first` and the others after `rest`. A token longer than a line is split over lines
/// (prose is wrapped, never cut).
fn wrap_tokens(
    tokens: &[String],
    joiner: &str,
    width: usize,
    first: &str,
    rest: &str,
) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_owned();
    let mut empty = true;
    for token in tokens {
        let sep = if empty { "" } else { joiner };
        if cols(&line) + cols(sep) + cols(token) <= width {
            line.push_str(sep);
            line.push_str(token);
            empty = false;
            continue;
        }
        if !empty {
            lines.push(std::mem::replace(&mut line, rest.to_owned()));
        }
        let mut left: Vec<char> = token.chars().collect();
        loop {
            let room = width.saturating_sub(cols(&line)).max(1);
            let take = fitting_prefix(&left, room).max(1);
            if take == left.len() {
                line.extend(left);
                break;
            }
            line.extend(&left[..take]);
            lines.push(std::mem::replace(&mut line, rest.to_owned()));
            left.drain(..take);
        }
        empty = false;
    }
    lines.push(line);
    lines.iter().map(|l| l.trim_end().to_owned()).collect()
}

/// Word-wraps `text` (see [`wrap_tokens`]).
fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
    wrap_tokens(&words, " ", width, first, rest)
}

fn push_lines(out: &mut String, lines: &[String]) {
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
}

/// One column of the file table besides FILE.
struct Column {
    title: &'static str,
    /// What the legend says about it ("" for none).
    legend: &'static str,
    right: bool,
    cells: Vec<String>,
}

impl Column {
    fn width(&self) -> usize {
        self.cells
            .iter()
            .map(|c| cols(c))
            .chain([cols(self.title)])
            .max()
            .unwrap_or(0)
    }
}

/// Titles of the columns in the order they are left out when the table is too wide: the
/// reconciliation's columns (ROLE, OFFSET, GAIN, POL) always stay.
const DROP_ORDER: [&str; 6] = ["FORMAT", "STAMP", "LENGTH", "TP", "LUFS", "PEAK"];

/// Names keep at least this many columns before a column is left out for them.
const MIN_NAME_WIDTH: usize = 16;

/// The files in table order: the mix first, then references, then the stems as reported.
fn table_order(report: &Report) -> Vec<&FileReport> {
    let rank = |f: &FileReport| match f.role {
        Some(Role::Mix) => 0,
        Some(Role::Reference) => 1,
        _ => 2,
    };
    let mut files: Vec<&FileReport> = report.files.iter().collect();
    files.sort_by_key(|f| rank(f));
    files
}

/// The file table, its legend and the columns left out, in `width` columns.
fn table(report: &Report, width: usize, out: &mut String) {
    let files = table_order(report);
    let unread = |f: &FileReport, v: Option<f64>| {
        if f.error.is_some() {
            "-".to_owned()
        } else {
            db(v)
        }
    };
    let column = |title, legend, right, cell: &dyn Fn(&FileReport) -> String| Column {
        title,
        legend,
        right,
        cells: files.iter().map(|f| cell(f)).collect(),
    };
    let mut columns = vec![
        column("ROLE", "", false, &|f| {
            match f.role {
                Some(Role::Mix) => "mix",
                Some(Role::Reference) => "ref",
                _ => "stem",
            }
            .to_owned()
        }),
        column("FORMAT", "", false, &format_of),
        column("LENGTH", "", true, &|f| {
            f.duration_s
                .map_or("-".to_owned(), |d| format!("{}s", fixed(d, 2)))
        }),
        column("PEAK", "PEAK dBFS", true, &|f| {
            unread(f, f.sample_peak_dbfs)
        }),
        column("TP", "TP dBTP", true, &|f| unread(f, f.true_peak_dbtp)),
        column("LUFS", "LUFS integrated", true, &|f| {
            unread(f, f.integrated_lufs)
        }),
        column(
            "OFFSET",
            "OFFSET in samples against the mix, + = late",
            true,
            &|f| f.offset_samples.map_or("-".to_owned(), |o| o.to_string()),
        ),
        column("GAIN", "GAIN dB to apply to match the mix", true, &|f| {
            f.gain_db.map_or("-".to_owned(), |g| signed(g, 1))
        }),
        column("POL", "", true, &|f| {
            match f.polarity {
                Some(Polarity::Inverted) => "inv",
                Some(Polarity::Normal) => "ok",
                None => "-",
            }
            .to_owned()
        }),
    ];
    // Time stamps get a column only when a file carries one: unstamped deliveries (most music)
    // keep the table they always had.
    if files.iter().any(|f| f.time_reference_samples.is_some()) {
        columns.push(column(
            "STAMP",
            "STAMP the BWF time reference as HH:MM:SS.mmm",
            true,
            &stamp,
        ));
    }
    let name_natural = files
        .iter()
        .map(|f| cols(&f.path))
        .chain([cols("FILE")])
        .max()
        .unwrap_or(4);
    // FILE, two spaces, then each column after one space.
    let others = |columns: &[Column]| 2 + columns.iter().map(|c| c.width() + 1).sum::<usize>() - 1;
    let mut left_out = Vec::new();
    for title in DROP_ORDER {
        if name_natural.min(MIN_NAME_WIDTH) + others(&columns) <= width {
            break;
        }
        if let Some(i) = columns.iter().position(|c| c.title == title) {
            left_out.push(columns.remove(i).title);
        }
    }
    let name_w = width
        .saturating_sub(others(&columns))
        .min(name_natural)
        .max(4);
    let row = |name: &str, cells: Vec<&str>| {
        let mut line = pad_end(&fit(name, name_w), name_w);
        line.push(' ');
        for (c, cell) in columns.iter().zip(cells) {
            let w = c.width();
            line.push(' ');
            line.push_str(&if c.right {
                pad_start(cell, w)
            } else {
                pad_end(cell, w)
            });
        }
        line.trim_end().to_owned()
    };
    let header = row("FILE", columns.iter().map(|c| c.title).collect());
    let _ = writeln!(out, "{header}");
    for (i, f) in files.iter().enumerate() {
        let cells = columns.iter().map(|c| c.cells[i].as_str()).collect();
        let _ = writeln!(out, "{}", row(&f.path, cells));
    }
    let legend: Vec<&str> = columns
        .iter()
        .map(|c| c.legend)
        .filter(|l| !l.is_empty())
        .collect();
    let mut note = format!("({})", legend.join("; "));
    if !left_out.is_empty() {
        let _ = write!(
            note,
            " Not shown at {width} columns: {} (see --json).",
            left_out.join(", ")
        );
    }
    push_lines(out, &wrap(&note, width, "", ""));
}

/// The residual's integrated loudness; none is quieter than BS.1770's absolute gate (every
/// block under -70 LUFS), which a residual that nulls deep is.
fn residual_loudness(lufs: Option<f64>) -> String {
    match lufs {
        Some(x) => format!("{} LUFS", fixed(x, 1)),
        None => "under the -70 LUFS gate".to_owned(),
    }
}

/// The reconciliation's headline, wrapped.
fn reconciliation(report: &Report, width: usize, out: &mut String) {
    let text = match &report.reconciliation {
        Some(r) => format!(
            "Reconciliation against {}: stem-sum lag {} samples, null as delivered {} (corrected as the findings say: {}), residual {}{}",
            r.mix.as_deref().unwrap_or("the mix"),
            r.lag_samples,
            null_db(r.null_depth_db),
            null_db(r.corrected_null_depth_db),
            residual_loudness(r.residual_lufs),
            r.pan_law_db.map_or(String::new(), |l| format!(
                "; mono stems judged at a {} dB pan law",
                fixed(l, 1)
            ))
        ),
        None => "Reconciliation: not run (no usable mix).".to_owned(),
    };
    push_lines(out, &wrap(&text, width, "", ""));
}

/// Indent of a finding's message and fix under its heading.
const INDENT: &str = "      ";

/// One finding: a heading with its severity, code and files, then its message and fix.
fn finding(report: &Report, f: &Finding, st: &Style, width: usize, out: &mut String) {
    let keep: Vec<&str> = report.files.iter().map(|f| f.path.as_str()).collect();
    // The heading is laid out with the plain severity tag (five columns) and painted after.
    let head = format!("{} {}", "ERROR", f.code.as_str());
    let inline = format!("{head}  {}", f.files.join(", "));
    let files_inline = !f.files.is_empty() && cols(&inline) <= width;
    let mut heading = if files_inline {
        inline
    } else if f.files.len() > 1 {
        format!("{head}  ({} files)", f.files.len())
    } else {
        head
    };
    heading.replace_range(..5, &st.severity(f.severity));
    let _ = writeln!(out, "{heading}");
    if !files_inline && !f.files.is_empty() {
        let room = width - cols(INDENT) - cols("files: ") - 1;
        let n = f.files.len();
        let items: Vec<String> = f
            .files
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let name = fit(name, room);
                if i + 1 < n { format!("{name},") } else { name }
            })
            .collect();
        let first = format!("{INDENT}files: ");
        push_lines(
            out,
            &wrap_tokens(
                &items,
                " ",
                width,
                &first,
                &first.replace("files: ", "       "),
            ),
        );
    }
    push_lines(
        out,
        &wrap(&unsign_zeros(&f.message, &keep), width, INDENT, INDENT),
    );
    if !f.fix.is_empty() && f.severity != Severity::Info
        || f.code == analyzer_core::FindingCode::NoMix
    {
        let first = format!("{INDENT}fix: ");
        push_lines(
            out,
            &wrap(&unsign_zeros(&f.fix, &keep), width, &first, INDENT),
        );
    }
}

/// Columns a file name takes in the last line once it has to be shortened.
const SUMMARY_FILE_WIDTH: usize = 24;

/// The parts of the last line, and how much of each it shows.
struct Summary<'a> {
    report: &'a Report,
    /// Errors and warnings, as (code, what to name: one file, a count of files, nothing).
    causes: Vec<(&'static str, String)>,
    /// Causes shown with their files.
    with_files: usize,
    /// Causes shown at all (the rest as "+N more").
    shown: usize,
    corrected: bool,
    profile: bool,
    mix: bool,
    null_words: bool,
    tool: bool,
    /// Whether the count of causes stands in for the causes when none is shown.
    count: bool,
    /// Columns a cause's file name may take (shortened in the middle beyond).
    file_w: usize,
}

impl<'a> Summary<'a> {
    fn new(report: &'a Report) -> Self {
        let causes: Vec<(&'static str, String)> = report
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning)
            .map(|f| {
                let files = match f.files.as_slice() {
                    [] => String::new(),
                    [one] => one.clone(),
                    many => format!("{} files", many.len()),
                };
                (f.code.as_str(), files)
            })
            .collect();
        Self {
            report,
            with_files: causes.len(),
            shown: causes.len(),
            causes,
            corrected: true,
            profile: true,
            mix: true,
            null_words: true,
            tool: true,
            count: true,
            file_w: usize::MAX,
        }
    }

    fn line(&self) -> String {
        let r = self.report;
        let mut line = String::new();
        if self.tool {
            line.push_str("StemCheck ");
        }
        let verdict = verdict_word(r.verdict);
        if self.profile {
            let _ = write!(
                line,
                "{verdict} (health {}/100, {}): ",
                r.health_score, r.profile
            );
        } else {
            let _ = write!(line, "{verdict} {}/100: ", r.health_score);
        }
        let count = |role| r.files.iter().filter(|f| f.role == Some(role)).count();
        let stems = count(Role::Stem);
        let _ = write!(line, "{stems} stem{}", if stems == 1 { "" } else { "s" });
        if self.mix {
            if count(Role::Mix) > 0 {
                line.push_str(" + mix");
            }
            match count(Role::Reference) {
                0 => {}
                1 => line.push_str(" + 1 reference"),
                n => {
                    let _ = write!(line, " + {n} references");
                }
            }
        }
        match &r.reconciliation {
            Some(rec) => {
                let _ = write!(line, ", null {}", null_db(rec.null_depth_db));
                if self.null_words {
                    line.push_str(" as delivered");
                }
                if self.corrected {
                    let _ = write!(
                        line,
                        " ({} corrected)",
                        null_db(rec.corrected_null_depth_db)
                    );
                }
            }
            None => line.push_str(", not reconciled"),
        }
        if self.causes.is_empty() {
            line.push_str("; no errors or warnings");
            return line;
        }
        if self.shown == 0 {
            if !self.count {
                return line;
            }
            let n = self.causes.len();
            let _ = write!(line, "; {n} problem{}", if n == 1 { "" } else { "s" });
            return line;
        }
        let named: Vec<String> = self.causes[..self.shown]
            .iter()
            .enumerate()
            .map(|(i, (code, files))| {
                if i < self.with_files && !files.is_empty() {
                    format!("{code} ({})", fit(files, self.file_w))
                } else {
                    (*code).to_owned()
                }
            })
            .collect();
        let _ = write!(line, "; {}", named.join(", "));
        if self.shown < self.causes.len() {
            let _ = write!(line, " +{} more", self.causes.len() - self.shown);
        }
        line
    }

    /// The most the line can say in `width` columns: long file names are shortened first,
    /// then the causes' files go, then the causes after the first, then the details of the
    /// head; the verdict, the stem count and the null as delivered stay.
    fn fitted(mut self, width: usize) -> String {
        type Step = fn(&mut Summary<'_>) -> bool;
        let steps: [Step; 11] = [
            |s| {
                let can = s.file_w > SUMMARY_FILE_WIDTH;
                s.file_w = SUMMARY_FILE_WIDTH;
                can
            },
            |s| {
                let can = s.with_files > 1;
                if can {
                    s.with_files -= 1;
                }
                can
            },
            |s| {
                let can = s.shown > 1;
                if can {
                    s.shown -= 1;
                }
                can
            },
            |s| std::mem::replace(&mut s.corrected, false),
            |s| std::mem::replace(&mut s.profile, false),
            |s| std::mem::replace(&mut s.mix, false),
            |s| std::mem::replace(&mut s.with_files, 0) > 0,
            |s| std::mem::replace(&mut s.null_words, false),
            |s| std::mem::replace(&mut s.tool, false),
            |s| std::mem::replace(&mut s.shown, 0) > 0,
            |s| std::mem::replace(&mut s.count, false),
        ];
        for step in steps {
            while cols(&self.line()) > width {
                if !step(&mut self) {
                    break;
                }
            }
        }
        fit(&self.line(), width)
    }
}

/// Renders the whole report as text in `width` columns (at least [`MIN_WIDTH`]); `colour`
/// adds ANSI colours (stdout is a terminal).
pub fn human(report: &Report, colour: bool, width: usize) -> String {
    let width = width.max(MIN_WIDTH);
    let st = Style { on: colour };
    let mut out = String::new();
    table(report, width, &mut out);
    out.push('\n');
    reconciliation(report, width, &mut out);
    out.push('\n');
    if report.findings.is_empty() {
        let _ = writeln!(out, "No findings.");
    }
    for f in &report.findings {
        finding(report, f, &st, width, &mut out);
    }
    out.push('\n');
    let count = |s| report.findings.iter().filter(|f| f.severity == s).count();
    let verdict = format!(
        "Verdict: {}  health {}/100  ({} error(s), {} warning(s); profile {})",
        verdict_word(report.verdict),
        report.health_score,
        count(Severity::Error),
        count(Severity::Warning),
        report.profile
    );
    let mut lines = wrap(&verdict, width, "", "");
    lines[0] = lines[0].replacen(verdict_word(report.verdict), &st.verdict(report.verdict), 1);
    push_lines(&mut out, &lines);
    let _ = writeln!(out, "{}", Summary::new(report).fitted(width));
    out
}

/// A null depth as the reports print it: "-74.6 dB", "bit-exact" at the analyzer's floor (a
/// zero residual), "-" when not computed.
pub fn null_db(x: Option<f64>) -> String {
    match x {
        Some(v) if v <= analyzer_core::reconcile::NULL_FLOOR_DB => "bit-exact".to_owned(),
        Some(v) => format!("{} dB", fixed(v, 1)),
        None => "-".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use analyzer_core::FindingCode;
    use analyzer_core::report::Reconciliation;

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
        let text = human(&plain, false, 100);
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
        let text = human(&stamped, false, 100);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].ends_with("STAMP"), "{text}");
        assert!(lines[1].ends_with("01:00:01.500"), "{text}");
        assert!(lines[2].ends_with(" -"), "{text}");
        assert!(text.contains("STAMP the BWF time reference"), "{text}");
    }

    #[test]
    fn a_clean_unreconciled_set_says_so_in_its_last_line() {
        let report = Report::new("mastering", vec![file("A.wav", None)], None, Vec::new());
        let text = human(&report, false, 100);
        assert_eq!(
            text.lines().last(),
            Some(
                "StemCheck PASS (health 100/100, mastering): 1 stem, not reconciled; no errors or warnings"
            )
        );
    }

    #[test]
    fn zeros_carry_no_sign() {
        assert_eq!(signed(-0.04, 1), "0.0");
        assert_eq!(signed(0.04, 1), "0.0");
        assert_eq!(signed(-0.0, 1), "0.0");
        assert_eq!(signed(0.26, 1), "+0.3");
        assert_eq!(signed(-0.26, 1), "-0.3");
        assert_eq!(fixed(-0.001, 2), "0.00");
        assert_eq!(fixed(-3.24, 1), "-3.2");
        assert_eq!(
            unsign_zeros(
                "gain -0.0 dB, +0 samples (-0 dB), -0.5 dB, 10-0, x=+0.00.",
                &[]
            ),
            "gain 0.0 dB, 0 samples (0 dB), -0.5 dB, 10-0, x=0.00."
        );
        // A name is never rewritten, whatever it holds.
        assert_eq!(
            unsign_zeros("Take -0.wav is -0.0 dB off", &["Take -0.wav"]),
            "Take -0.wav is 0.0 dB off"
        );
        assert_eq!(unsign_zeros("-0.07 and -01", &[]), "-0.07 and -01");
    }

    #[test]
    fn long_names_lose_their_middle_not_their_end() {
        let name = "EM_01_Finger-Bass_Overdub_take3_final.wav";
        let short = fit(name, 20);
        assert_eq!(cols(&short), 20);
        assert!(short.starts_with("EM_01_Fi"), "{short}");
        assert!(short.ends_with("final.wav"), "{short}");
        assert!(short.contains('…'), "{short}");
        assert_eq!(fit("Bass.wav", 20), "Bass.wav");
    }

    #[test]
    fn wide_names_are_measured_in_columns_and_the_table_stays_aligned() {
        // Two columns per CJK ideograph and per emoji: counting characters put every cell
        // after such a name out of line.
        assert_eq!(cols("ベース.wav"), 10);
        assert_eq!(cols("🎸Gtr.wav"), 9);
        let short = fit("ドラム_オーバーヘッド_テイク3.wav", 15);
        assert_eq!(cols(&short), 15, "{short}");
        assert!(short.contains('…') && short.ends_with(".wav"), "{short}");
        let report = Report::new(
            "mastering",
            vec![
                file("Bass.wav", None),
                file("ベース.wav", None),
                file("🎸🎸Gtr.wav", None),
            ],
            None,
            Vec::new(),
        );
        let text = human(&report, false, 100);
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(".wav") && !l.contains(':'))
            .take(3)
            .collect();
        assert_eq!(rows.len(), 3, "{text}");
        // The first cell after the name starts at the same column on every row.
        let cell_col = |row: &str| {
            let name_end = row.find(".wav").unwrap() + 4;
            let gap = row[name_end..].len() - row[name_end..].trim_start().len();
            cols(&row[..name_end]) + gap
        };
        let at: Vec<usize> = rows.iter().map(|r| cell_col(r)).collect();
        assert!(at.iter().all(|&c| c == at[0]), "{at:?}\n{text}");
        assert!(rows.iter().all(|r| cols(r) == cols(rows[0])), "{text}");
        // Wrapping a wide word splits it by columns too.
        let lines = wrap(&"漢".repeat(15), 10, "", "");
        assert!(lines.iter().all(|l| cols(l) <= 10), "{lines:?}");
    }

    #[test]
    fn prose_wraps_without_losing_words() {
        let text = "one two three four five six seven eight nine ten eleven twelve";
        let lines = wrap(text, 20, "", "    ");
        assert!(lines.iter().all(|l| cols(l) <= 20), "{lines:?}");
        let joined: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
        assert_eq!(joined.join(" "), text);
        // A word longer than a line is split over lines, not cut.
        let long = "x".repeat(50);
        let lines = wrap(&long, 20, "", "  ");
        assert!(lines.iter().all(|l| cols(l) <= 20), "{lines:?}");
        assert_eq!(lines.concat().replace(' ', ""), long);
    }

    /// A failing delivery with long names, a reference, a stamp and findings over many files.
    fn busy_report() -> Report {
        let mut files: Vec<FileReport> = (0..6)
            .map(|i| FileReport {
                path: format!("Session_2026-12-06_Artist_Song_Title_Stem_{i:02}_Finger-Bass.wav"),
                role: Some(Role::Stem),
                sample_rate: Some(44_100),
                bits_per_sample: Some(24),
                sample_format: Some(SampleFormat::Int),
                channels: Some(2),
                duration_s: Some(183.25),
                sample_peak_dbfs: Some(-0.01),
                true_peak_dbtp: Some(0.4),
                integrated_lufs: Some(-18.04),
                offset_samples: Some(if i == 2 { 480 } else { 0 }),
                gain_db: Some(if i % 2 == 0 { -0.02 } else { 0.03 }),
                polarity: Some(Polarity::Normal),
                time_reference_samples: Some(44_100 * 3600),
                ..Default::default()
            })
            .collect();
        files.push(FileReport {
            path: "Song_Mix.wav".to_owned(),
            role: Some(Role::Mix),
            ..files[0].clone()
        });
        files.push(FileReport {
            path: "Song_Master_v2.wav".to_owned(),
            role: Some(Role::Reference),
            ..files[0].clone()
        });
        let names: Vec<String> = files[..6].iter().map(|f| f.path.clone()).collect();
        let findings = vec![
            Finding::new(
                FindingCode::StartOffset,
                Severity::Error,
                vec![names[2].clone()],
                format!(
                    "{} starts 480 samples (10 ms) later than the mix; gain -0.0 dB.",
                    names[2]
                ),
                "Export every stem from the same start point as the mix.",
            ),
            Finding::new(
                FindingCode::LowHeadroom,
                Severity::Warning,
                names.clone(),
                "Six stems peak above -6 dBFS.",
                "Lower the stems' level before the export.",
            ),
            Finding::new(
                FindingCode::DualMono,
                Severity::Info,
                vec![names[1].clone()],
                "A stereo stem with two identical channels.",
                "",
            ),
        ];
        let rec = Reconciliation {
            lag_samples: 0,
            null_depth_db: Some(-11.14),
            corrected_null_depth_db: Some(-126.9),
            residual_lufs: Some(-40.0),
            mix: Some("Song_Mix.wav".to_owned()),
            ..Default::default()
        };
        Report::new("mastering", files, Some(rec), findings)
    }

    #[test]
    fn every_width_fits_mix_first_and_ends_with_the_summary() {
        let report = busy_report();
        for width in (MIN_WIDTH..=200).step_by(7).chain([60, 80, 100]) {
            let text = human(&report, false, width);
            for line in text.lines() {
                assert!(
                    cols(line) <= width,
                    "{width}: {line:?} is {} wide\n{text}",
                    cols(line)
                );
                assert!(!line.contains("-0.0") && !line.contains("+0.0"), "{line}");
            }
            let rows: Vec<&str> = text.lines().skip(1).take(3).collect();
            let role = |row: &str| row.split_whitespace().nth(1).map(str::to_owned);
            assert!(rows[0].starts_with("Song_Mix.wav "), "{width}:\n{text}");
            assert_eq!(role(rows[0]).as_deref(), Some("mix"), "{width}:\n{text}");
            assert!(rows[1].starts_with("Song_Ma"), "{width}:\n{text}");
            assert_eq!(role(rows[1]).as_deref(), Some("ref"), "{width}:\n{text}");
            assert_eq!(role(rows[2]).as_deref(), Some("stem"), "{width}:\n{text}");
            let last = text.lines().last().unwrap_or_default();
            assert!(last.contains("FAIL"), "{width}: {last}");
            assert!(last.contains("6 stems"), "{width}: {last}");
            assert!(last.contains("null -11.1 dB"), "{width}: {last}");
            // Every finding lists its files (shortened, never dropped).
            assert!(text.contains("6 files") || text.matches("Finger-Bass").count() >= 12);
        }
        let wide = human(&report, false, 240);
        let last = wide.lines().last().unwrap_or_default();
        assert_eq!(
            last,
            format!(
                "StemCheck FAIL (health {}/100, mastering): 6 stems + mix + 1 reference, null -11.1 dB as delivered (-126.9 dB corrected); start_offset (Session_2026-12-06_Artist_Song_Title_Stem_02_Finger-Bass.wav), low_headroom (6 files)",
                report.health_score
            )
        );
        let narrow = human(&report, false, 60);
        assert!(
            narrow.contains("Not shown at 60 columns: FORMAT"),
            "{narrow}"
        );
        let last = narrow.lines().last().unwrap_or_default();
        assert!(last.contains("start_offset"), "{last}");
    }
}
