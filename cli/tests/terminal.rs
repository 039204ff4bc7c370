//! The human report on a terminal of a given width: `COLUMNS` sets the width when standard
//! output is not a terminal (as here), lines never pass it, the mix comes first, no zero is
//! signed, and the last line is a one-line summary that names the verdict, the stems, the
//! null as delivered and the causes.

// Test code may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use analyzer_core::synth::{self, WavFormat};

const SR: u32 = 48_000;

/// The shifted stem's name: long enough to be shortened at 60 and 80 columns.
const LONG: &str = "Session_2026-12-06_Artist_Song_Title_Stem_02_Finger-Bass.wav";

/// The demo song as a float delivery whose bass (under a long name) starts 480 samples late.
fn shifted_delivery(dir: &Path) {
    let stems = synth::demo_song(SR, 6.0);
    let mix = synth::mix_down(&stems, 2);
    synth::write_wav(&dir.join("Song_Mix.wav"), 2, SR, WavFormat::Float32, &mix).unwrap();
    for s in &stems {
        let (name, samples) = if s.name == "Bass" {
            let n = 480 * s.channels as usize;
            let mut late = vec![0.0f32; n];
            late.extend_from_slice(&s.samples[..s.samples.len() - n]);
            (LONG.to_owned(), late)
        } else {
            (format!("Song_{}.wav", s.name), s.samples.clone())
        };
        synth::write_wav(
            &dir.join(name),
            s.channels,
            SR,
            WavFormat::Float32,
            &samples,
        )
        .unwrap();
    }
}

fn check_at(dir: &Path, columns: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_stemcheck"))
        .args(["check", dir.to_str().unwrap()])
        .env("COLUMNS", columns)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Whether `token` is a zero with a sign ("-0.0", "+0", "-0.00").
fn signed_zero(token: &str) -> bool {
    let t = token.trim_matches(|c: char| ",;:()".contains(c));
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    t.len() > digits.len()
        && digits.starts_with('0')
        && digits.chars().all(|c| c == '0' || c == '.')
}

#[test]
fn report_fits_the_width_mix_first_no_signed_zero_summary_last() {
    let dir = tempfile::tempdir().unwrap();
    shifted_delivery(dir.path());
    for width in [60usize, 80, 200] {
        let text = check_at(dir.path(), &width.to_string());
        assert!(!text.contains('\x1b'), "no colour off a terminal:\n{text}");
        for line in text.lines() {
            let w = line.chars().count();
            assert!(
                w <= width,
                "{width} columns: {w}-wide line {line:?}\n{text}"
            );
            assert!(
                !line.split_whitespace().any(signed_zero),
                "{width} columns: signed zero in {line:?}"
            );
        }
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("FILE"), "{text}");
        assert!(lines[1].starts_with("Song_Mix.wav "), "mix first:\n{text}");
        assert_eq!(lines[1].split_whitespace().nth(1), Some("mix"), "{text}");
        // Every stem has its row; a name that does not fit is shortened in the middle.
        let rows = &lines[2..7];
        assert!(
            rows.iter()
                .all(|r| r.split_whitespace().nth(1) == Some("stem")),
            "{text}"
        );
        if width < 80 {
            assert!(
                rows.iter()
                    .any(|r| r.starts_with("Session_") && r.contains('…')),
                "{text}"
            );
        }
        // The finding names its file, whole when a line holds it.
        let heading = lines
            .iter()
            .position(|l| l.starts_with("ERROR start_offset"))
            .expect("start_offset finding");
        let block = lines[heading..heading + 3].join("\n");
        assert!(block.contains("Session_2026-12-06"), "{block}");
        if width >= 80 {
            assert!(block.contains(LONG), "{block}");
        }
        let last = *lines.last().unwrap();
        assert!(last.contains("FAIL"), "{width}: {last}");
        assert!(last.contains("5 stems"), "{width}: {last}");
        assert!(last.contains("null -"), "{width}: {last}");
        assert!(last.contains("start_offset"), "{width}: {last}");
        if width == 200 {
            assert!(last.starts_with("StemCheck FAIL (health "), "{last}");
            assert!(last.contains("5 stems + mix, null -"), "{last}");
            assert!(last.contains(" dB as delivered ("), "{last}");
            // The file is named (shortened in the middle to keep the line within 200).
            assert!(last.contains("start_offset (Session_202"), "{last}");
        }
    }
}
