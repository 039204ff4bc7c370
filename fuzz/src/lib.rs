//! What the fuzz targets share: a scratch folder per process, and how a fuzz input becomes
//! files on disk. The analyzer reads paths (a delivery is files), so every target writes its
//! input to a file first.
//!
//! The same functions are the oracle: they run the code under test and assert what must hold
//! for any input (no panic, errors name the file, readers return what they promised).

use std::path::{Path, PathBuf};

use analyzer_core::analyze::{Options, check_paths};
use analyzer_core::capture;
use analyzer_core::report::Container;
use analyzer_core::wav::{WavFile, WavReader};

/// A folder private to this fuzzing process, emptied on every call.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stemcheck-fuzz-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// Opens `path` as a WAV and reads every frame, in odd-sized blocks and through windows.
pub fn exercise_wav(path: &Path) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    match WavReader::open(path) {
        Ok(mut r) => {
            let info = r.info().clone();
            if info.container == Container::Flac {
                // Content, not the name, decides the reader: a FLAC named `.wav` is decoded,
                // and a FLAC holds more frames than bytes (a block of silence codes in a few
                // bytes) and may fail mid-stream; its oracle is the decoded reader's.
                drop(r);
                return exercise_decoded(path);
            }
            assert!(info.frames <= len, "more frames than bytes: {info:?}");
            assert!(info.channels > 0 && info.sample_rate > 0, "{info:?}");
            let ch = usize::from(info.channels);
            let mut buf = vec![0f32; 61 * ch];
            let mut total = 0u64;
            loop {
                let n = r.read_frames(&mut buf).expect("reading a file that opened");
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
            assert_eq!(total, info.frames, "read a different number of frames");
            let mut w = vec![0f32; 7 * ch];
            r.read_window(-3, &mut w).expect("window");
            r.read_window(info.frames as i64 - 2, &mut w).expect("window");
        }
        Err(e) => assert!(e.to_string().contains(&name), "error does not name the file: {e}"),
    }
}

/// Opens `path` through the reader (AIFF/FLAC go to the decoder) and reads it twice: once
/// front to back, once from the middle. A decoded stream may fail mid-file (corrupt or cut
/// short): that error must name the file, and the frames read before it must be those the
/// second reader reads from the middle.
pub fn exercise_decoded(path: &Path) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let names_file = |e: &analyzer_core::Error| {
        assert!(e.to_string().contains(&name), "error does not name the file: {e}");
    };
    let file = match WavFile::open(path) {
        Ok(f) => f,
        Err(e) => return names_file(&e),
    };
    let info = file.info().clone();
    assert!(info.channels > 0 && info.sample_rate > 0, "{info:?}");
    let ch = usize::from(info.channels);
    let mut first = file.reader();
    let mut buf = vec![0f32; 61 * ch];
    // Keep at most this many samples of the first pass to compare with.
    const KEEP: usize = 1 << 20;
    let mut kept: Vec<f32> = Vec::new();
    let mut total = 0u64;
    let mut failed = false;
    loop {
        match first.read_frames(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                assert!(buf[..n * ch].iter().all(|x| x.is_finite()), "non-finite sample read");
                if kept.len() < KEEP {
                    kept.extend_from_slice(&buf[..n * ch]);
                }
                total += n as u64;
            }
            Err(e) => {
                names_file(&e);
                failed = true;
                break;
            }
        }
    }
    assert!(total <= info.frames, "read more frames than the header says");
    if !failed {
        assert_eq!(total, info.frames, "read a different number of frames");
    }
    let kept_frames = (kept.len() / ch) as u64;
    let mid = kept_frames / 2;
    let mut second = file.reader();
    second.seek(mid);
    let mut w = vec![0f32; 7 * ch];
    match second.read_frames(&mut w) {
        Ok(n) => {
            let avail = (kept_frames - mid).min(n as u64) as usize;
            let at = mid as usize * ch;
            assert_eq!(&w[..avail * ch], &kept[at..at + avail * ch], "seek to {mid} differs");
        }
        Err(e) => names_file(&e),
    }
    if let Err(e) = second.read_window(-3, &mut w) {
        names_file(&e);
    }
}

/// Reads `path` as a capture sidecar and as a bounce manifest; errors must name the file, and
/// an accepted sidecar can never point outside its folder.
pub fn exercise_sidecar(path: &Path) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    match capture::read_sidecar(path) {
        Ok(s) => {
            assert!(!s.wav_file.contains('/') && !s.wav_file.contains('\\'), "{s:?}");
            assert!(!s.wav_file.starts_with('.'), "{s:?}");
            let now = capture::now_unix_ms();
            let _ = (s.is_incomplete(now), s.is_in_progress(now));
        }
        Err(e) => assert!(e.to_string().contains(&name), "error does not name the file: {e}"),
    }
    if let Err(e) = capture::read_manifest(path) {
        assert!(e.to_string().contains(&name), "error does not name the file: {e}");
    }
}

/// File names the folder recipe can produce: plain WAVs, a mix, sidecars, a manifest.
fn part_name(kind: u8, index: usize, last_wav: Option<&str>) -> String {
    match kind % 4 {
        0 => format!("Stem_{index}.wav"),
        1 => "Song_Mix.wav".to_string(),
        2 => match last_wav {
            Some(wav) => format!(
                "{}{}",
                wav.trim_end_matches(".wav"),
                capture::SIDECAR_SUFFIX
            ),
            None => format!("Cap_{index}{}", capture::SIDECAR_SUFFIX),
        },
        _ => capture::BOUNCE_MANIFEST.to_string(),
    }
}

/// Turns a fuzz input into a folder: up to 8 parts, each `[kind][length: u16 LE][bytes]`.
/// Returns the number of files written.
pub fn write_folder(data: &[u8], dir: &Path) -> usize {
    let mut at = 0;
    let mut written = 0;
    let mut last_wav: Option<String> = None;
    for index in 0..8 {
        if at + 3 > data.len() {
            break;
        }
        let kind = data[at];
        let len = usize::from(u16::from_le_bytes([data[at + 1], data[at + 2]]));
        at += 3;
        let body = &data[at..(at + len).min(data.len())];
        at += body.len();
        let name = part_name(kind, index, last_wav.as_deref());
        if name.ends_with(".wav") {
            last_wav = Some(name.clone());
        }
        std::fs::write(dir.join(&name), body).expect("scratch write");
        written += 1;
    }
    written
}

/// The whole check on a folder built from `data`, as `stemcheck check <folder> --json` runs it.
pub fn exercise_check(data: &[u8], dir: &Path) {
    if write_folder(data, dir) == 0 {
        return;
    }
    let opts = Options {
        threads: 1,
        ..Options::default()
    };
    if let Ok(report) = check_paths(&[dir.to_path_buf()], &opts) {
        let json = report.to_json();
        assert!(json.contains("\"schema_version\""));
        for f in &report.files {
            assert!(f.error.is_some() || f.frames.is_some(), "{f:?}");
        }
    }
}
