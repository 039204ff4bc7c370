//! Malformed and unusual files inside an otherwise good delivery, through the whole check
//! ([`check_paths`], what the CLI and the plugin run): every case ends in the right finding
//! naming the file and the reason, nothing panics, and the rest of the report stays complete
//! (the good stems keep their numbers and the stems are still reconciled against the mix).

// Test code may unwrap: a panic is the failure report (clippy.toml allows it in #[test]
// functions; this covers the helpers of this test crate too).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use analyzer_core::analyze::{Options, check_paths};
use analyzer_core::report::SampleFormat;
use analyzer_core::{FindingCode, Report, Severity};
use common::*;

const RATE: u32 = 48_000;
const FRAMES: usize = 24_000;
const GOOD: [&str; 3] = ["Song_Drums.wav", "Song_Bass.wav", "Song_Mix.wav"];

/// Two stereo float stems and their exact sum as the mix.
fn delivery(dir: &Path) {
    let drums = tone(1, 2, FRAMES, RATE);
    let bass = tone(2, 2, FRAMES, RATE);
    let mix: Vec<f32> = drums.iter().zip(&bass).map(|(a, b)| a + b).collect();
    for (name, s) in GOOD.iter().zip([&drums, &bass, &mix]) {
        std::fs::write(dir.join(name), float_stereo(RATE, s)).unwrap();
    }
}

fn check(dir: &Path) -> Report {
    let opts = Options {
        threads: 2,
        ..Options::default()
    };
    check_paths(&[dir.to_path_buf()], &opts).expect("a delivery with good files always runs")
}

/// The good files are reported with their numbers, and reconciliation ran.
fn assert_rest_complete(report: &Report, case: &str) {
    for name in GOOD {
        let f = report
            .files
            .iter()
            .find(|f| f.path == name)
            .unwrap_or_else(|| panic!("{case}: {name} missing from the report"));
        assert!(f.error.is_none(), "{case}: {name}: {:?}", f.error);
        assert_eq!(f.frames, Some(FRAMES as u64), "{case}: {name}");
        assert!(
            f.integrated_lufs.is_some_and(f64::is_finite),
            "{case}: {name}"
        );
        assert!(
            f.true_peak_dbtp.is_some_and(f64::is_finite),
            "{case}: {name}"
        );
    }
    let rec = report
        .reconciliation
        .as_ref()
        .unwrap_or_else(|| panic!("{case}: no reconciliation"));
    assert_eq!(rec.mix.as_deref(), Some("Song_Mix.wav"), "{case}");
    assert!(report.to_json().contains("\"schema_version\": 1"), "{case}");
}

/// What the check must say about the odd file.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// An error-level `unreadable_file` naming the file, with this text in its reason.
    Unreadable(&'static str),
    /// Readable up to `frames`; a warning-level `unreadable_file` says it is truncated.
    Truncated { frames: u64 },
    /// Readable with `frames` frames of this format; `code`, when set, is a finding naming it.
    Readable {
        frames: u64,
        bits: u16,
        format: SampleFormat,
        channels: u16,
        code: Option<FindingCode>,
    },
}

fn readable(frames: u64, bits: u16, format: SampleFormat, channels: u16) -> Want {
    Want::Readable {
        frames,
        bits,
        format,
        channels,
        code: None,
    }
}

/// Every malformed or unusual case, by file name.
fn cases() -> Vec<(&'static str, Vec<u8>, Want)> {
    let short = tone(9, 2, 1_000, RATE);
    let good_fmt = fmt_body(3, 2, RATE, 32);
    let good = float_stereo(RATE, &short);
    let mut out: Vec<(&'static str, Vec<u8>, Want)> = Vec::new();

    // Headers.
    let mut b = good.clone();
    b[0..4].copy_from_slice(b"JUNK");
    out.push(("bad_riff_magic.wav", b, Want::Unreadable("no RIFF header")));
    let mut b = good.clone();
    b[8..12].copy_from_slice(b"AVI ");
    out.push(("bad_wave_type.wav", b, Want::Unreadable("not WAVE")));
    out.push(("empty.wav", Vec::new(), Want::Unreadable("too short")));
    out.push((
        "riff_only.wav",
        b"RIFF".to_vec(),
        Want::Unreadable("too short"),
    ));
    let mut b = good.clone();
    b[0..4].copy_from_slice(b"RIFX");
    out.push(("big_endian.wav", b, Want::Unreadable("big-endian")));
    out.push((
        "data_before_fmt.wav",
        riff(&[
            Chunk::new(b"data", f32_bytes(&short)),
            Chunk::new(b"fmt ", good_fmt.clone()),
        ]),
        Want::Unreadable("before the fmt chunk"),
    ));
    out.push((
        "no_data_chunk.wav",
        riff(&[Chunk::new(b"fmt ", good_fmt.clone())]),
        Want::Unreadable("no data chunk"),
    ));
    out.push((
        "zero_rate.wav",
        wav(fmt_body(3, 2, 0, 32), f32_bytes(&short)),
        Want::Unreadable("sample rate of 0"),
    ));
    out.push((
        "zero_channels.wav",
        wav(fmt_body(1, 0, RATE, 16), vec![0; 64]),
        Want::Unreadable("0 channels"),
    ));
    let mut f = fmt_body(1, 2, RATE, 16);
    f[12..14].copy_from_slice(&3u16.to_le_bytes());
    out.push((
        "bad_block_align.wav",
        wav(f, vec![0; 60]),
        Want::Unreadable("block align"),
    ));
    out.push((
        "binary_chunk_id.wav",
        riff(&[
            Chunk::new(b"fmt ", good_fmt.clone()),
            Chunk::new(b"\x00\x01\x02\x03", vec![1, 2, 3, 4]),
            Chunk::new(b"data", f32_bytes(&short)),
        ]),
        Want::Unreadable("corrupt chunk header"),
    ));

    // Chunk sizes past the end of the file.
    out.push((
        "list_size_past_end.wav",
        riff(&[
            Chunk::new(b"fmt ", good_fmt.clone()),
            Chunk::lying(b"LIST", 0x7FFF_FFF0, b"INFOISFT".to_vec()),
            Chunk::new(b"data", f32_bytes(&short)),
        ]),
        Want::Unreadable("no data chunk before the end"),
    ));
    out.push((
        "fmt_size_past_end.wav",
        riff(&[Chunk::lying(b"fmt ", 16, good_fmt[..10].to_vec())]),
        Want::Unreadable("inside the fmt chunk"),
    ));
    out.push((
        "fmt_size_gigabytes.wav",
        riff(&[
            Chunk::lying(b"fmt ", 0xFFFF_FFF0, good_fmt.clone()),
            Chunk::new(b"data", f32_bytes(&short)),
        ]),
        Want::Unreadable("implausible"),
    ));

    // Truncated data and sizes far beyond the file.
    let mut b = riff(&[
        Chunk::new(b"fmt ", good_fmt.clone()),
        Chunk::lying(b"data", (RATE * 8) * 60, f32_bytes(&short)),
    ]);
    out.push((
        "data_size_one_minute.wav",
        b.clone(),
        Want::Truncated { frames: 1_000 },
    ));
    b.truncate(b.len() - 3);
    out.push(("cut_mid_frame.wav", b, Want::Truncated { frames: 999 }));
    out.push((
        "data_size_gigabytes.wav",
        riff(&[
            Chunk::new(b"fmt ", good_fmt.clone()),
            Chunk::lying(b"data", 0xC000_0000, f32_bytes(&short)),
        ]),
        Want::Truncated { frames: 1_000 },
    ));
    let mut b = riff(&[
        Chunk::new(b"fmt ", good_fmt.clone()),
        Chunk::lying(b"data", u32::MAX, f32_bytes(&short)),
    ]);
    b[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    // Sizes never patched (a pipe, a crashed recorder): the audio to the end of the file is
    // read, and the set's note on unfinalised headers names it (not a truncation).
    out.push((
        "crashed_recorder.wav",
        b,
        Want::Readable {
            frames: 1_000,
            bits: 32,
            format: SampleFormat::Float,
            channels: 2,
            code: Some(FindingCode::UnfinalisedHeader),
        },
    ));

    // Zero frames.
    out.push((
        "zero_frames.wav",
        wav(good_fmt.clone(), Vec::new()),
        Want::Unreadable("no audio"),
    ));

    // Odd chunk padding, with and without the pad byte.
    let padded = riff(&[
        Chunk::new(b"fmt ", good_fmt.clone()),
        Chunk::new(b"junk", vec![1, 2, 3]),
        Chunk::new(b"data", f32_bytes(&short)),
    ]);
    out.push((
        "odd_chunk_padded.wav",
        padded,
        readable(1_000, 32, SampleFormat::Float, 2),
    ));
    let unpadded = riff(&[
        Chunk::new(b"fmt ", good_fmt.clone()),
        Chunk {
            pad: false,
            ..Chunk::new(b"junk", vec![1, 2, 3])
        },
        Chunk::new(b"data", f32_bytes(&short)),
    ]);
    out.push((
        "odd_chunk_unpadded.wav",
        unpadded,
        readable(1_000, 32, SampleFormat::Float, 2),
    ));
    let odd_data = riff(&[
        Chunk::new(b"fmt ", fmt_body(1, 1, RATE, 8)),
        Chunk::new(b"data", vec![128; 999]),
        Chunk::new(b"LIST", b"INFO".to_vec()),
    ]);
    out.push((
        "odd_data_chunk_8bit.wav",
        odd_data,
        Want::Readable {
            frames: 999,
            bits: 8,
            format: SampleFormat::Int,
            channels: 1,
            code: Some(FindingCode::SilentStem),
        },
    ));

    // Unusual but valid encodings.
    let eight: Vec<u8> = short.iter().map(|s| (s * 127.0 + 128.0) as u8).collect();
    out.push((
        "eight_bit.wav",
        wav(fmt_body(1, 2, RATE, 8), eight),
        Want::Readable {
            frames: 1_000,
            bits: 8,
            format: SampleFormat::Int,
            channels: 2,
            code: Some(FindingCode::LowBitDepth),
        },
    ));
    let f64s: Vec<u8> = short
        .iter()
        .flat_map(|s| f64::from(*s).to_le_bytes())
        .collect();
    out.push((
        "float64.wav",
        wav(fmt_body(3, 2, RATE, 64), f64s),
        readable(1_000, 64, SampleFormat::Float, 2),
    ));
    for (name, mask) in [
        ("ext_mask_zero.wav", 0u32),
        ("ext_mask_all_bits.wav", u32::MAX),
        ("ext_mask_one_speaker.wav", 0x4),
    ] {
        out.push((
            name,
            wav(extensible_body(3, 2, RATE, 32, 32, mask), f32_bytes(&short)),
            readable(1_000, 32, SampleFormat::Float, 2),
        ));
    }
    let mut ext_valid_20 = Vec::new();
    for s in &short {
        ext_valid_20.extend_from_slice(&(((s * 524_287.0) as i32) << 12).to_le_bytes());
    }
    out.push((
        "ext_20_bits_in_32.wav",
        wav(extensible_body(1, 2, RATE, 32, 20, 0x3), ext_valid_20),
        readable(1_000, 32, SampleFormat::Int, 2),
    ));
    out.push((
        "ext_adpcm.wav",
        wav(extensible_body(2, 2, RATE, 4, 4, 0x3), vec![0; 64]),
        Want::Unreadable("ADPCM"),
    ));
    out.push((
        "ext_short_fmt.wav",
        wav(
            extensible_body(1, 2, RATE, 16, 16, 0x3)[..24].to_vec(),
            vec![0; 64],
        ),
        Want::Unreadable("needs 40"),
    ));
    out.push((
        "mp3_in_riff.wav",
        wav(fmt_body(0x55, 2, RATE, 16), vec![0xFF; 64]),
        Want::Unreadable("MPEG layer 3"),
    ));
    let six = tone(4, 6, 1_000, RATE);
    let six24: Vec<u8> = six
        .iter()
        .flat_map(|s| ((s * 8_388_607.0) as i32).to_le_bytes()[..3].to_vec())
        .collect();
    out.push((
        "surround_5_1.wav",
        wav(extensible_body(1, 6, RATE, 24, 24, 0x3F), six24),
        Want::Readable {
            frames: 1_000,
            bits: 24,
            format: SampleFormat::Int,
            channels: 6,
            code: Some(FindingCode::ChannelLayout),
        },
    ));
    out.push((
        "too_many_channels.wav",
        wav(fmt_body(1, 65_535, RATE, 8), vec![128; 65_535 * 2]),
        Want::Unreadable("channels"),
    ));

    // Not WAV at all, named .wav.
    let mut mp3 = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
    mp3.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0]);
    out.push(("really_mp3.wav", mp3, Want::Unreadable("no RIFF header")));
    out.push((
        "really_flac.wav",
        // A FLAC named .wav goes to the FLAC decoder (the reader goes by content); this one
        // ends inside its STREAMINFO.
        b"fLaC\x00\x00\x00\x22\x10\x00\x10\x00".to_vec(),
        Want::Unreadable("cannot decode FLAC file"),
    ));
    out.push((
        "really_text.wav",
        b"Here are the stems you asked for!\n".to_vec(),
        Want::Unreadable("no RIFF header"),
    ));

    // 64-bit containers without their ds64 chunk.
    for magic in [b"RF64", b"BW64"] {
        let mut b = good.clone();
        b[0..4].copy_from_slice(magic);
        let name = if magic == b"RF64" {
            "rf64.wav"
        } else {
            "bw64.wav"
        };
        out.push((name, b, Want::Unreadable("ds64")));
    }

    // NaN, infinity and denormals in a float file: read as they are, reported.
    let mut odd = short.clone();
    odd[10] = f32::NAN;
    odd[11] = f32::INFINITY;
    odd[12] = f32::NEG_INFINITY;
    odd[13] = 1e-42;
    out.push((
        "non_finite.wav",
        float_stereo(RATE, &odd),
        Want::Readable {
            frames: 1_000,
            bits: 32,
            format: SampleFormat::Float,
            channels: 2,
            code: Some(FindingCode::NonFiniteSamples),
        },
    ));
    out
}

/// Checks the report for one odd file.
fn assert_case(report: &Report, name: &str, want: Want) {
    let file = report
        .files
        .iter()
        .find(|f| f.path == name)
        .unwrap_or_else(|| panic!("{name} missing from the report"));
    let unreadable: Vec<_> = report
        .findings_with(FindingCode::UnreadableFile)
        .filter(|f| f.files == [name])
        .collect();
    match want {
        Want::Unreadable(reason) => {
            assert_eq!(unreadable.len(), 1, "{name}: {:#?}", report.findings);
            let f = unreadable[0];
            assert_eq!(f.severity, Severity::Error, "{name}");
            assert!(f.message.contains(name), "{name}: {}", f.message);
            let measured = f.measured["reason"].as_str().unwrap_or_default();
            assert!(
                measured.contains(reason) && f.message.contains(reason),
                "{name}: reason {measured:?} / message {:?} lacks {reason:?}",
                f.message
            );
            assert!(!f.fix.is_empty(), "{name}");
            let error = file.error.as_deref().unwrap_or_default();
            assert!(error.contains(name), "{name}: file error {error:?}");
            assert!(file.frames.is_none(), "{name}");
        }
        Want::Truncated { frames } => {
            assert_eq!(unreadable.len(), 1, "{name}: {:#?}", report.findings);
            let f = unreadable[0];
            assert_eq!(f.severity, Severity::Warning, "{name}");
            assert!(f.message.contains("truncated"), "{name}: {}", f.message);
            assert_eq!(f.measured["frames"], frames, "{name}");
            assert_eq!(file.frames, Some(frames), "{name}");
            assert!(file.error.is_none(), "{name}");
        }
        Want::Readable {
            frames,
            bits,
            format,
            channels,
            code,
        } => {
            assert!(unreadable.is_empty(), "{name}: {unreadable:#?}");
            assert!(file.error.is_none(), "{name}: {:?}", file.error);
            assert_eq!(file.frames, Some(frames), "{name}");
            assert_eq!(file.bits_per_sample, Some(bits), "{name}");
            assert_eq!(file.sample_format, Some(format), "{name}");
            assert_eq!(file.channels, Some(channels), "{name}");
            for v in [
                file.sample_peak_dbfs,
                file.true_peak_dbtp,
                file.integrated_lufs,
            ]
            .into_iter()
            .flatten()
            {
                assert!(v.is_finite(), "{name}: meters must stay finite");
            }
            if let Some(code) = code {
                assert!(
                    report
                        .findings_with(code)
                        .any(|f| f.files.iter().any(|n| n == name)),
                    "{name}: no {code:?} finding naming it: {:#?}",
                    report.findings
                );
            }
        }
    }
}

#[test]
fn each_malformed_file_gets_its_finding_and_the_rest_stays_complete() {
    let cases = cases();
    assert!(cases.len() >= 39, "{} cases", cases.len());
    // Every case runs; the failures are listed together at the end.
    let mut failed = Vec::new();
    for (name, bytes, want) in &cases {
        let dir = tempfile::tempdir().unwrap();
        delivery(dir.path());
        std::fs::write(dir.path().join(name), bytes).unwrap();
        eprintln!("case {name}");
        let outcome = std::panic::catch_unwind(|| {
            let report = check(dir.path());
            assert_eq!(report.files.len(), 4, "{name}");
            assert_case(&report, name, *want);
            assert_rest_complete(&report, name);
        });
        if outcome.is_err() {
            failed.push(*name);
        }
    }
    assert!(failed.is_empty(), "failed cases: {failed:?}");
}

#[test]
fn all_malformed_files_together_in_one_delivery() {
    let dir = tempfile::tempdir().unwrap();
    delivery(dir.path());
    let cases = cases();
    for (name, bytes, _) in &cases {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let report = check(dir.path());
    assert_eq!(report.files.len(), cases.len() + 3);
    for (name, _, want) in &cases {
        assert_case(&report, name, *want);
    }
    assert_rest_complete(&report, "all together");
}

/// A plain RIFF file whose data runs past 4 GiB (a recorder that wrapped the size field):
/// reported, never silently cut at the wrapped size. Sparse, so no 5 GiB are written.
#[test]
fn data_past_4_gib_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    delivery(dir.path());
    let path = dir.path().join("over_4gib.wav");
    std::fs::write(&path, float_stereo(RATE, &tone(3, 2, 1_000, RATE))).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(5 << 30)
        .unwrap();
    let report = check(dir.path());
    assert_case(&report, "over_4gib.wav", Want::Unreadable("4 GiB"));
    assert_rest_complete(&report, "over 4 GiB");
}

/// Links that lead nowhere or in circles are files the OS cannot open: named, not fatal.
#[cfg(unix)]
#[test]
fn dangling_and_looping_links() {
    let dir = tempfile::tempdir().unwrap();
    delivery(dir.path());
    std::os::unix::fs::symlink(dir.path().join("gone.bin"), dir.path().join("dangling.wav"))
        .unwrap();
    std::os::unix::fs::symlink(dir.path().join("loop_b.wav"), dir.path().join("loop_a.wav"))
        .unwrap();
    std::os::unix::fs::symlink(dir.path().join("loop_a.wav"), dir.path().join("loop_b.wav"))
        .unwrap();
    let report = check(dir.path());
    assert_case(&report, "dangling.wav", Want::Unreadable("No such file"));
    assert_case(&report, "loop_a.wav", Want::Unreadable("symbolic links"));
    assert_rest_complete(&report, "links");
}

/// A file without read permission. Root ignores file modes (CI runs as root), so as root the
/// test drops the capabilities that let root read anyway (CAP_DAC_OVERRIDE,
/// CAP_DAC_READ_SEARCH) from this thread's effective set: Linux capabilities are per thread,
/// and the check's worker threads inherit them from the thread that spawns them.
#[cfg(target_os = "linux")]
#[test]
fn unreadable_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    delivery(dir.path());
    let locked = dir.path().join("locked.wav");
    std::fs::write(&locked, float_stereo(RATE, &tone(5, 2, 1_000, RATE))).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let dropped = if std::fs::File::open(&locked).is_ok() {
        let dropped = caps::drop_dac_override();
        eprintln!("running as root: dropped CAP_DAC_OVERRIDE for this thread: {dropped:?}");
        dropped.expect("as root, the DAC capabilities can be dropped for one thread");
        true
    } else {
        false
    };
    assert!(
        std::fs::File::open(&locked).is_err(),
        "the file must now be unreadable for this thread"
    );
    let report = check(dir.path());
    if dropped {
        caps::restore().unwrap();
    }
    assert_case(&report, "locked.wav", Want::Unreadable("Permission denied"));
    assert_rest_complete(&report, "permissions");
}

/// Per-thread capability juggling through the raw `capget`/`capset` system calls.
#[cfg(target_os = "linux")]
mod caps {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default, Debug)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    const CAP_DAC_OVERRIDE: u32 = 1;
    const CAP_DAC_READ_SEARCH: u32 = 2;

    fn get() -> std::io::Result<[Data; 2]> {
        let mut h = Header {
            version: VERSION_3,
            pid: 0,
        };
        let mut d = [Data::default(); 2];
        // SAFETY: capget writes two `Data` records for version 3, which `d` holds.
        let r = unsafe { libc::syscall(libc::SYS_capget, &mut h, d.as_mut_ptr()) };
        if r == 0 {
            Ok(d)
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    fn set(d: [Data; 2]) -> std::io::Result<()> {
        let mut h = Header {
            version: VERSION_3,
            pid: 0,
        };
        // SAFETY: capset reads two `Data` records for version 3 and affects only this thread.
        let r = unsafe { libc::syscall(libc::SYS_capset, &mut h, d.as_ptr()) };
        if r == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    /// Clears the DAC bypass capabilities from this thread's effective set (they stay
    /// permitted, so [`restore`] can bring them back).
    pub fn drop_dac_override() -> std::io::Result<()> {
        let mut d = get()?;
        d[0].effective &= !((1 << CAP_DAC_OVERRIDE) | (1 << CAP_DAC_READ_SEARCH));
        set(d)
    }

    /// Makes every permitted capability effective again.
    pub fn restore() -> std::io::Result<()> {
        let mut d = get()?;
        for x in &mut d {
            x.effective = x.permitted;
        }
        set(d)
    }
}

/// A folder of 500 files, some broken: every one is in the report, each broken one named.
#[test]
fn a_folder_of_500_files() {
    let dir = tempfile::tempdir().unwrap();
    let frames = 4_800;
    let mut mix = vec![0.0f32; frames * 2];
    let mut broken = Vec::new();
    for i in 0..499u64 {
        let name = format!("Track_{i:03}.wav");
        if i % 50 == 7 {
            std::fs::write(dir.path().join(&name), b"not audio, just some text").unwrap();
            broken.push(name);
            continue;
        }
        let s: Vec<f32> = tone(i, 2, frames, RATE).iter().map(|x| x * 0.05).collect();
        for (m, x) in mix.iter_mut().zip(&s) {
            *m += x;
        }
        std::fs::write(dir.path().join(&name), float_stereo(RATE, &s)).unwrap();
    }
    std::fs::write(dir.path().join("Song_Mix.wav"), float_stereo(RATE, &mix)).unwrap();
    let report = check(dir.path());
    assert_eq!(report.files.len(), 500);
    for name in &broken {
        assert_case(&report, name, Want::Unreadable("no RIFF header"));
    }
    let readable = report
        .files
        .iter()
        .filter(|f| f.frames == Some(frames as u64))
        .count();
    assert_eq!(readable, 500 - broken.len());
    assert!(
        report
            .findings_with(FindingCode::MultitracksNotStems)
            .count()
            == 1,
        "{:#?}",
        report.findings.iter().map(|f| f.code).collect::<Vec<_>>()
    );
    // Hundreds of tracks are not reconciled (see MAX_RECONCILE_STEMS); the report says so.
    assert!(report.reconciliation.is_none());
    assert!(
        report
            .findings_with(FindingCode::NoMix)
            .any(|f| f.measured["stems"] == 500 - broken.len() - 1),
        "{:#?}",
        report.findings
    );
}

/// Paths that are not there at all, next to good ones: `check_paths` reports the missing path
/// by name instead of checking a partial set silently.
#[test]
fn a_missing_path_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    delivery(dir.path());
    let missing = dir.path().join("nowhere");
    let err = check_paths(
        &[dir.path().to_path_buf(), missing.clone()],
        &Options::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("nowhere"), "{err}");
    let _: PathBuf = missing;
}
