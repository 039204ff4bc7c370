//! File names and paths as reports write them: unchanged when they are valid UTF-8, escaped
//! losslessly when they are not.
//!
//! A name that is not valid UTF-8 (a Linux file name in Latin-1, a Windows name with an unpaired
//! surrogate) cannot go into JSON as it is. Replacing the bad bytes with U+FFFD, as
//! `to_string_lossy` does, collapses `Caf\xe9.wav` and `Caf\xe8.wav` into one name, and the
//! reconciliation then attributes one file's findings to the other. Instead, in such a name
//! every backslash is doubled and every byte that is not part of valid UTF-8 is written as
//! `\xNN` (two lowercase hex digits), so the name decodes back to its exact bytes (on Windows,
//! to its WTF-8 bytes). A name that is valid UTF-8 is written unchanged (paths are written as
//! given).

use std::ffi::OsStr;
use std::fmt::Write;
use std::path::Path;

/// `name` as a report writes it (see the module docs).
pub fn lossless_name(name: &OsStr) -> String {
    let bytes = name.as_encoded_bytes();
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(&chunk.valid().replace('\\', "\\\\"));
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// `path` as a report writes it: [`lossless_name`] of the whole path.
pub fn lossless_path(path: &Path) -> String {
    lossless_name(path.as_os_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names_are_unchanged() {
        for n in ["Song_Mix.wav", "Café \\ Bass.wav", "日本語.wav", ""] {
            assert_eq!(lossless_name(OsStr::new(n)), n);
        }
    }

    #[cfg(unix)]
    #[test]
    fn invalid_bytes_are_escaped_and_stay_distinct() {
        use std::os::unix::ffi::OsStrExt;
        let e9 = lossless_name(OsStr::from_bytes(b"Caf\xe9.wav"));
        let e8 = lossless_name(OsStr::from_bytes(b"Caf\xe8.wav"));
        assert_eq!(e9, "Caf\\xe9.wav");
        assert_eq!(e8, "Caf\\xe8.wav");
        // A backslash in an escaped name is doubled, so the escape reads back unambiguously.
        let slash = lossless_name(OsStr::from_bytes(b"a\\x\xff.wav"));
        assert_eq!(slash, "a\\\\x\\xff.wav");
    }
}
