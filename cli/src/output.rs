//! Where reports go and how failures to put them there are told: `-` is standard output, file
//! paths are checked for writability before any analysis runs, a full or closed standard output
//! is an error (exit 2) rather than a panic, colour follows `NO_COLOR`, and an error's causes
//! are printed once each.

use std::ffi::OsStr;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// One place a report is written to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// Standard output (the argument `-`).
    Stdout,
    /// A file.
    File(PathBuf),
}

impl Sink {
    /// `-` is standard output; anything else a file path.
    pub fn parse(arg: &OsStr) -> Self {
        if arg == "-" {
            Sink::Stdout
        } else {
            Sink::File(PathBuf::from(arg))
        }
    }

    /// Checks, before any analysis, that this sink can be written, so a long run does not end
    /// in "cannot write". A file that did not exist is created and removed again; an existing
    /// one is opened without being truncated.
    ///
    /// # Errors
    /// The path is a folder, its folder does not exist, or it cannot be opened for writing;
    /// the message names the path and says what `what` is.
    pub fn preflight(&self, what: &str) -> Result<()> {
        let Sink::File(path) = self else {
            return Ok(());
        };
        if path.is_dir() {
            bail!("cannot write {what} to {}: it is a folder", path.display());
        }
        let existed = path.exists();
        OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .with_context(|| format!("cannot write {what} to {}", path.display()))?;
        if !existed {
            // Only a file this check created itself; a failure leaves an empty file behind,
            // which the run then overwrites.
            let _ = std::fs::remove_file(path);
        }
        Ok(())
    }

    /// Writes `text` here.
    ///
    /// # Errors
    /// When the file or standard output cannot be written (a full disk, a closed pipe).
    pub fn write(&self, what: &str, text: &str) -> Result<()> {
        match self {
            Sink::Stdout => print(text),
            Sink::File(path) => std::fs::write(path, text)
                .with_context(|| format!("cannot write {what} to {}", path.display())),
        }
    }

    /// The file, when this is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Sink::Stdout => None,
            Sink::File(p) => Some(p),
        }
    }
}

/// Checks that at most one of `sinks` is standard output (two reports cannot share it).
///
/// # Errors
/// When two of the named options are `-`.
pub fn one_stdout(sinks: &[(&str, Option<&Sink>)]) -> Result<()> {
    let on_stdout: Vec<&str> = sinks
        .iter()
        .filter(|(_, s)| *s == Some(&Sink::Stdout))
        .map(|(flag, _)| *flag)
        .collect();
    if on_stdout.len() > 1 {
        bail!(
            "{} all ask for standard output ('-'); give all but one a file",
            on_stdout.join(" and ")
        );
    }
    Ok(())
}

/// Writes `text` to standard output and flushes it.
///
/// # Errors
/// When standard output cannot be written (`> /dev/full`, a closed pipe): the error says so
/// instead of the panic `print!` would raise.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to standard output")
}

/// Whether to colour text for a stream: only on a terminal, and never when `NO_COLOR` is set
/// to a non-empty value (<https://no-color.org>).
pub fn colour(is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// Colour for standard output, as [`colour`] decides from the environment.
pub fn stdout_colour() -> bool {
    use std::io::IsTerminal;
    colour(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// Columns the human report is laid out in when standard output is not a terminal and
/// `COLUMNS` does not say (a log, a pipe, a file): wide enough for the table of a usual
/// delivery, narrow enough for a code review or an email.
pub const DEFAULT_WIDTH: usize = 100;

/// The width to lay the human report out in: `COLUMNS` when it holds a positive number (the
/// user's say, also through a pipe), else the terminal's when `terminal` is known, else
/// [`DEFAULT_WIDTH`].
pub fn width(columns: Option<&str>, terminal: Option<usize>) -> usize {
    columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
        .or(terminal.filter(|&c| c > 0))
        .unwrap_or(DEFAULT_WIDTH)
}

/// [`width`] for standard output, from the environment and the terminal it is on.
pub fn stdout_width() -> usize {
    let terminal = terminal_size::terminal_size_of(std::io::stdout())
        .map(|(terminal_size::Width(w), _)| usize::from(w));
    width(std::env::var("COLUMNS").ok().as_deref(), terminal)
}

/// An error and its causes, each said once: analyzer-core errors already include their source
/// in their own message ("x: cannot read file: No such file or directory"), so a cause whose
/// text the message so far already holds is not repeated.
pub fn describe(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_is_stdout() {
        assert_eq!(Sink::parse(OsStr::new("-")), Sink::Stdout);
        assert_eq!(
            Sink::parse(OsStr::new("./-")),
            Sink::File(PathBuf::from("./-"))
        );
    }

    #[test]
    fn no_color_turns_colour_off_only_when_non_empty() {
        assert!(colour(true, None));
        assert!(colour(true, Some(OsStr::new(""))));
        assert!(!colour(true, Some(OsStr::new("1"))));
        assert!(!colour(false, None));
    }

    #[test]
    fn columns_then_terminal_then_default() {
        assert_eq!(width(Some("60"), Some(120)), 60);
        assert_eq!(width(None, Some(120)), 120);
        assert_eq!(width(Some("wide"), Some(120)), 120);
        assert_eq!(width(Some("0"), None), DEFAULT_WIDTH);
        assert_eq!(width(None, None), DEFAULT_WIDTH);
    }

    #[test]
    fn each_cause_is_said_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "mix file not found");
        let core = analyzer_core::Error::Io {
            path: PathBuf::from("nope.wav"),
            source: io,
        };
        let e = anyhow::Error::new(core).context("cannot check");
        assert_eq!(
            describe(&e),
            "cannot check: nope.wav: cannot read file: mix file not found"
        );
    }

    #[test]
    fn two_reports_cannot_share_stdout() {
        let out = Sink::Stdout;
        let file = Sink::File(PathBuf::from("r.html"));
        assert!(one_stdout(&[("--json", Some(&out)), ("--report", Some(&file))]).is_ok());
        assert!(one_stdout(&[("--json", Some(&out)), ("--report", Some(&out))]).is_err());
    }
}
