//! AIFF, AIFF-C and FLAC read through the decoder behind `WavFile`/`WavReader`, on files the
//! tests write themselves (AIFF by hand, FLAC with the pure-Rust `flacenc`): samples, header
//! facts, exact seeking, independent readers, unknown lengths, truncation, and a mixed
//! delivery through the whole check. Also what a delivery folder holds besides audio.

// Test code may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use analyzer_core::analyze::{Options, check_paths};
use analyzer_core::report::{Container, SampleFormat};
use analyzer_core::synth::{self, WavFormat};
use analyzer_core::wav::{WavFile, WavReader};
use analyzer_core::{Error, FindingCode, Severity};

const RATE: u32 = 48_000;

/// The AIFF sample encodings the tests write.
#[derive(Clone, Copy, PartialEq)]
enum Aiff {
    /// Plain AIFF, big-endian integers.
    Plain,
    /// AIFF-C `NONE` (big-endian integers).
    CNone,
    /// AIFF-C `sowt` (little-endian integers).
    CSowt,
    /// AIFF-C `fl32` (big-endian IEEE float).
    CFl32,
}

/// `rate` as an 80-bit IEEE extended float (big-endian), as AIFF's COMM chunk holds it.
fn extended(rate: u32) -> [u8; 10] {
    let e = 31 - rate.leading_zeros();
    let exp = (16383 + e) as u16;
    let mant = u64::from(rate) << (63 - e);
    let mut out = [0u8; 10];
    out[..2].copy_from_slice(&exp.to_be_bytes());
    out[2..].copy_from_slice(&mant.to_be_bytes());
    out
}

fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend_from_slice(&(body.len() as u32).to_be_bytes());
    c.extend_from_slice(body);
    if body.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// The integer a float sample is stored as at `bits`.
fn quantise(x: f32, bits: u32) -> i32 {
    let full = (1i64 << (bits - 1)) as f64;
    (f64::from(x) * full).round().clamp(-full, full - 1.0) as i32
}

/// What the analyzer reads back from `x` stored at `bits`.
fn dequantise(x: f32, bits: u32) -> f32 {
    quantise(x, bits) as f32 / (1i64 << (bits - 1)) as f32
}

/// Writes an AIFF or AIFF-C file of interleaved `samples`.
fn write_aiff(path: &Path, kind: Aiff, channels: u16, bits: u16, samples: &[f32]) {
    let frames = (samples.len() / usize::from(channels)) as u32;
    let bits = if kind == Aiff::CFl32 { 32 } else { bits };
    let mut comm = Vec::new();
    comm.extend_from_slice(&channels.to_be_bytes());
    comm.extend_from_slice(&frames.to_be_bytes());
    comm.extend_from_slice(&bits.to_be_bytes());
    comm.extend_from_slice(&extended(RATE));
    let (form, tag): (&[u8; 4], &[u8; 4]) = match kind {
        Aiff::Plain => (b"AIFF", b"NONE"),
        Aiff::CNone => (b"AIFC", b"NONE"),
        Aiff::CSowt => (b"AIFC", b"sowt"),
        Aiff::CFl32 => (b"AIFC", b"fl32"),
    };
    if kind != Aiff::Plain {
        comm.extend_from_slice(tag);
        // An empty Pascal string, padded to an even length.
        comm.extend_from_slice(&[0, 0]);
    }
    let mut ssnd = vec![0u8; 8];
    for &x in samples {
        match kind {
            Aiff::CFl32 => ssnd.extend_from_slice(&x.to_be_bytes()),
            _ => {
                let v = quantise(x, u32::from(bits));
                let be = v.to_be_bytes();
                let bytes = &be[4 - usize::from(bits / 8)..];
                if kind == Aiff::CSowt {
                    ssnd.extend(bytes.iter().rev());
                } else {
                    ssnd.extend_from_slice(bytes);
                }
            }
        }
    }
    let mut body = form.to_vec();
    if kind != Aiff::Plain {
        body.extend(chunk(b"FVER", &0xA280_5140u32.to_be_bytes()));
    }
    body.extend(chunk(b"COMM", &comm));
    body.extend(chunk(b"SSND", &ssnd));
    std::fs::write(path, chunk(b"FORM", &body)).unwrap();
}

/// Writes a FLAC file of interleaved `samples` at `bits` (16 or 24) with `flacenc`.
fn write_flac(path: &Path, channels: usize, bits: u32, samples: &[f32]) {
    use flacenc::component::BitRepr;
    use flacenc::error::Verify;
    let ints: Vec<i32> = samples.iter().map(|&x| quantise(x, bits)).collect();
    let config = flacenc::config::Encoder::default().into_verified().unwrap();
    let source =
        flacenc::source::MemSource::from_samples(&ints, channels, bits as usize, RATE as usize);
    let stream = flacenc::encode_with_fixed_block_size(&config, source, config.block_size).unwrap();
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream.write(&mut sink).unwrap();
    let mut bytes = sink.as_slice().to_vec();
    // flacenc 0.5.1 writes the last (short) block's length as STREAMINFO's minimum block size
    // although every other block is 4096; the FLAC spec excludes the last block and libFLAC
    // writes min = max for a fixed-size stream. symphonia then takes the fixed-size frames
    // for a variable-size stream and rejects them, so set min = max as libFLAC would.
    assert_eq!(&bytes[..4], b"fLaC");
    let max = [bytes[10], bytes[11]];
    bytes[8..10].copy_from_slice(&max);
    std::fs::write(path, bytes).unwrap();
}

/// A deterministic, non-trivial test signal: two tones and a little noise, under full scale.
fn signal(channels: usize, frames: usize) -> Vec<f32> {
    let mut seed = 0x1234_5678u32;
    (0..frames * channels)
        .map(|i| {
            let (f, c) = ((i / channels) as f32, (i % channels) as f32);
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            0.4 * (f * 0.013 * (c + 1.0)).sin() + 0.2 * (f * 0.0007).sin() + 0.05 * noise
        })
        .collect()
}

/// Every frame of `reader` from its position on.
fn read_all(reader: &mut WavReader) -> Vec<f32> {
    let ch = usize::from(reader.info().channels);
    let mut out = Vec::new();
    let mut block = vec![0.0f32; 1000 * ch];
    loop {
        let n = reader.read_frames(&mut block).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&block[..n * ch]);
    }
}

#[test]
fn aiff_and_aifc_read_back_their_samples_and_header() {
    let dir = tempfile::tempdir().unwrap();
    let samples = signal(2, 10_000);
    for (kind, bits, container, format) in [
        (Aiff::Plain, 24, Container::Aiff, SampleFormat::Int),
        (Aiff::Plain, 16, Container::Aiff, SampleFormat::Int),
        (Aiff::CNone, 24, Container::Aifc, SampleFormat::Int),
        (Aiff::CSowt, 16, Container::Aifc, SampleFormat::Int),
        (Aiff::CFl32, 32, Container::Aifc, SampleFormat::Float),
    ] {
        let path = dir.path().join("a.aif");
        write_aiff(&path, kind, 2, bits, &samples);
        let file = WavFile::open(&path).unwrap();
        let info = file.info().clone();
        assert_eq!(info.container, container);
        assert_eq!(info.sample_format, format);
        assert_eq!(info.bits_per_sample, bits);
        assert_eq!(
            (info.sample_rate, info.channels, info.frames),
            (RATE, 2, 10_000)
        );
        let got = read_all(&mut file.reader());
        let want: Vec<f32> = if format == SampleFormat::Float {
            samples.clone()
        } else {
            samples
                .iter()
                .map(|&x| dequantise(x, bits.into()))
                .collect()
        };
        assert_eq!(got, want, "{container:?} {bits}-bit");
    }
}

#[test]
fn aifc_float_reads_nan_and_inf_as_silence_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan.aifc");
    let mut samples = signal(1, 2_000);
    samples[500] = f32::NAN;
    samples[1500] = f32::INFINITY;
    write_aiff(&path, Aiff::CFl32, 1, 32, &samples);
    let mut reader = WavReader::open(&path).unwrap();
    let got = read_all(&mut reader);
    assert_eq!((got[500], got[1500]), (0.0, 0.0));
    assert_eq!(got[501], samples[501]);
    let nf = reader.non_finite();
    assert_eq!((nf.count, nf.first_frame), (2, Some(500)));
}

#[test]
fn flac_reads_back_exactly_and_seeks_to_the_exact_frame() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.flac");
    let frames = 50_000;
    let samples = signal(2, frames);
    write_flac(&path, 2, 24, &samples);
    let file = WavFile::open(&path).unwrap();
    let info = file.info().clone();
    assert_eq!(info.container, Container::Flac);
    assert_eq!(
        (info.bits_per_sample, info.sample_format),
        (24, SampleFormat::Int)
    );
    assert_eq!(
        (info.sample_rate, info.channels, info.frames),
        (RATE, 2, frames as u64)
    );
    let all = read_all(&mut file.reader());
    let want: Vec<f32> = samples.iter().map(|&x| dequantise(x, 24)).collect();
    assert_eq!(all, want);

    // Reading from frame k is reading from 0 and skipping k: within a block, across block
    // boundaries (flacenc writes 4096-frame blocks), far ahead, and backwards.
    let mut reader = file.reader();
    for k in [
        40_000u64, 1, 4095, 4096, 4097, 12_345, 49_999, 0, 30_000, 29_000,
    ] {
        reader.seek(k);
        let mut out = vec![0.0f32; 2 * 700];
        let n = reader.read_frames(&mut out).unwrap();
        let k = k as usize;
        assert_eq!(n, 700.min(frames - k), "frames at {k}");
        assert_eq!(
            &out[..n * 2],
            &all[k * 2..(k + n) * 2],
            "samples at frame {k}"
        );
    }
    // Windows past either end read zeros outside the file, as for WAV.
    let mut out = vec![1.0f32; 2 * 100];
    reader.read_window(-50, &mut out).unwrap();
    assert!(out[..100].iter().all(|&x| x == 0.0));
    assert_eq!(&out[100..], &all[..100]);
}

#[test]
fn flac_readers_are_independent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.flac");
    let samples = signal(1, 20_000);
    write_flac(&path, 1, 16, &samples);
    let file = WavFile::open(&path).unwrap();
    let (mut a, mut b) = (file.reader(), file.reader());
    b.seek(15_000);
    let mut out_a = vec![0.0f32; 1000];
    let mut out_b = vec![0.0f32; 1000];
    for step in 0..5 {
        a.read_frames(&mut out_a).unwrap();
        b.read_frames(&mut out_b).unwrap();
        let want_a = dequantise(samples[step * 1000], 16);
        let want_b = dequantise(samples[15_000 + step * 1000], 16);
        assert_eq!((out_a[0], out_b[0]), (want_a, want_b), "step {step}");
    }
    // Threads: each reader on its own.
    let handles: Vec<_> = (0..2)
        .map(|t| {
            let file = file.clone();
            std::thread::spawn(move || {
                let mut r = file.reader();
                r.seek(t * 7_000);
                read_all(&mut r).len()
            })
        })
        .collect();
    let lens: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(lens, vec![20_000, 13_000]);
}

/// A FLAC whose STREAMINFO leaves the length unknown (0, as streaming encoders write it) is
/// counted when opened: its length is true and it reads to the end.
#[test]
fn flac_of_unknown_length_is_counted_and_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stream.flac");
    let samples = signal(2, 9_001);
    write_flac(&path, 2, 16, &samples);
    let mut bytes = std::fs::read(&path).unwrap();
    // fLaC, block header (4), STREAMINFO: the 36-bit total sample count starts in the low
    // nibble of byte 21 (file offset) and runs through byte 25.
    assert_eq!(&bytes[..4], b"fLaC");
    assert_ne!(&bytes[21..26], &[0, 0, 0, 0, 0]);
    bytes[21] &= 0xF0;
    bytes[22..26].fill(0);
    std::fs::write(&path, &bytes).unwrap();
    let file = WavFile::open(&path).unwrap();
    assert_eq!(file.info().frames, 9_001);
    assert_eq!(read_all(&mut file.reader()).len(), 9_001 * 2);
}

/// A copy cut short: the reader that reaches the cut fails with an error naming the file,
/// never a silently shorter file.
#[test]
fn truncated_flac_and_aiff_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let samples = signal(2, 30_000);
    let flac = dir.path().join("cut.flac");
    write_flac(&flac, 2, 24, &samples);
    let aiff = dir.path().join("cut.aiff");
    write_aiff(&aiff, Aiff::Plain, 2, 24, &samples);
    for path in [&flac, &aiff] {
        let bytes = std::fs::read(path).unwrap();
        std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
        // symphonia's AIFF reader walks every chunk when it opens (an error then); FLAC
        // opens and the reader that reaches the cut fails.
        let err = match WavReader::open(path) {
            Err(e) => e,
            Ok(mut reader) => {
                let mut block = vec![0.0f32; 2 * 4096];
                loop {
                    match reader.read_frames(&mut block) {
                        Ok(0) => panic!("{}: read to the end without an error", path.display()),
                        Ok(_) => {}
                        Err(e) => break e,
                    }
                }
            }
        };
        assert!(matches!(err, Error::Decode { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains(&*path.display().to_string()), "{text}");
        assert!(text.contains("truncated"), "{text}");
    }
}

#[test]
fn garbage_after_a_flac_or_aiff_magic_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        (
            "bad.flac",
            b"fLaC\x00\x00\x00\x01garbage-garbage-garbage".to_vec(),
        ),
        (
            "bad.aif",
            b"FORM\x00\x00\x00\x20AIFFCOMM\xff\xff\xff\xffxx".to_vec(),
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = WavFile::open(&path).unwrap_err();
        assert_eq!(err.path(), Some(path.as_path()), "{err}");
    }
}

fn opts() -> Options<'static> {
    Options {
        threads: 2,
        ..Options::default()
    }
}

/// Half the stems as AIFF (one AIFF-C), half as WAV, the mix as FLAC (upper-case
/// extensions among them): all read, every file says its container, the sum nulls deep.
#[test]
fn mixed_delivery_of_aiff_wav_and_flac_checks_clean_with_a_deep_null() {
    let dir = tempfile::tempdir().unwrap();
    let stems = synth::demo_song(RATE, 6.0);
    let mix = synth::mix_down(&stems, 2);
    // The mix at 24 bits is what the stems sum to within quantisation: sum the stems as
    // stored.
    write_flac(&dir.path().join("Song_Mix.FLAC"), 2, 24, &mix);
    for (i, s) in stems.iter().enumerate() {
        let base = format!("Song_{}", s.name);
        match i % 3 {
            0 => write_aiff(
                &dir.path().join(format!("{base}.AIF")),
                Aiff::Plain,
                s.channels,
                24,
                &s.samples,
            ),
            1 => write_aiff(
                &dir.path().join(format!("{base}.aifc")),
                Aiff::CNone,
                s.channels,
                24,
                &s.samples,
            ),
            _ => synth::write_wav(
                &dir.path().join(format!("{base}.wav")),
                s.channels,
                RATE,
                WavFormat::Int24,
                &s.samples,
            )
            .unwrap(),
        }
    }
    let report = check_paths(&[dir.path().to_path_buf()], &opts()).unwrap();
    assert_eq!(report.files.len(), stems.len() + 1);
    let containers: Vec<Container> = report.files.iter().filter_map(|f| f.container).collect();
    for c in [
        Container::Aiff,
        Container::Aifc,
        Container::Wav,
        Container::Flac,
    ] {
        assert!(containers.contains(&c), "{containers:?}");
    }
    let bad: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .map(|f| (f.code, f.message.clone()))
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    let null = report
        .reconciliation
        .as_ref()
        .unwrap()
        .null_depth_db
        .unwrap();
    assert!(null < -100.0, "null depth {null} dB");
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.code == FindingCode::SumMatchesMix)
    );
}

fn write_demo_wavs(dir: &Path) -> usize {
    let stems = synth::demo_song(RATE, 3.0);
    let mix = synth::mix_down(&stems, 2);
    synth::write_wav(&dir.join("Song_Mix.wav"), 2, RATE, WavFormat::Int24, &mix).unwrap();
    for s in &stems {
        let path = dir.join(format!("Song_{}.wav", s.name));
        synth::write_wav(&path, s.channels, RATE, WavFormat::Int24, &s.samples).unwrap();
    }
    stems.len() + 1
}

/// macOS and Windows debris is ignored without a word; documents are listed in one info;
/// audio in a format that is not read is named with a conversion hint (a warning).
#[test]
fn folder_debris_is_ignored_documents_listed_and_lossy_audio_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let n = write_demo_wavs(d);
    // AppleDouble files carry a WAV name but are not audio: reading one failed the delivery.
    std::fs::write(d.join("._Song_Mix.wav"), b"\x00\x05\x16\x07junk").unwrap();
    std::fs::write(d.join(".DS_Store"), b"Bud1junk").unwrap();
    std::fs::write(d.join("Thumbs.db"), b"junk").unwrap();
    std::fs::write(d.join("desktop.ini"), b"[.ShellClassInfo]").unwrap();
    std::fs::create_dir(d.join("__MACOSX")).unwrap();
    std::fs::write(d.join("__MACOSX").join("._Song_Bass.wav"), b"junk").unwrap();
    std::fs::write(d.join("Track notes.pdf"), b"%PDF-1.4").unwrap();
    std::fs::write(d.join("readme.txt"), b"hi").unwrap();
    std::fs::write(d.join("Song_Perc.mp3"), b"ID3junk").unwrap();
    std::fs::write(d.join("Song_Pad.M4A"), b"junk").unwrap();
    let report = check_paths(&[d.to_path_buf()], &opts()).unwrap();
    assert_eq!(report.files.len(), n, "{:?}", report.files);
    let all_files: Vec<&String> = report.findings.iter().flat_map(|f| &f.files).collect();
    for debris in [
        "._Song_Mix.wav",
        ".DS_Store",
        "Thumbs.db",
        "desktop.ini",
        "__MACOSX",
    ] {
        assert!(
            !all_files.iter().any(|f| f.contains(debris)),
            "{debris} in {all_files:?}"
        );
    }
    let skipped: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::SkippedFile)
        .collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].severity, Severity::Info);
    assert_eq!(skipped[0].files, vec!["Track notes.pdf", "readme.txt"]);
    let lossy: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.files.iter().any(|n| n.ends_with(".mp3")))
        .collect();
    assert_eq!(lossy.len(), 1);
    assert_eq!(lossy[0].code, FindingCode::UnreadableFile);
    assert_eq!(lossy[0].severity, Severity::Warning);
    assert_eq!(lossy[0].files, vec!["Song_Pad.M4A", "Song_Perc.mp3"]);
    assert!(
        lossy[0].fix.contains("Convert to WAV, AIFF or FLAC"),
        "{}",
        lossy[0].fix
    );
    // The set itself is read as it would be without the debris.
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.severity == Severity::Error),
        "{:?}",
        report.findings
    );
}

#[test]
fn a_folder_of_only_unread_audio_is_no_input_naming_the_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Song_Mix.mp3"), b"ID3junk").unwrap();
    std::fs::write(dir.path().join("._Song_Mix.wav"), b"junk").unwrap();
    let err = check_paths(&[dir.path().to_path_buf()], &opts()).unwrap_err();
    assert!(matches!(err, Error::NoInput { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("no audio files found"), "{text}");
    assert!(text.contains("Song_Mix.mp3"), "{text}");
    assert!(text.contains("convert to WAV, AIFF or FLAC"), "{text}");
}

/// A plugin sidecar beside its WAV is metadata, read with the WAV, not a skipped file.
#[test]
fn sidecar_json_beside_a_wav_is_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write_demo_wavs(dir.path());
    std::fs::write(dir.path().join("Song_Mix.json"), br#"{"role": "mix"}"#).unwrap();
    std::fs::write(dir.path().join("session.json"), b"{}").unwrap();
    let report = check_paths(&[dir.path().to_path_buf()], &opts()).unwrap();
    let skipped: Vec<PathBuf> = report
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::SkippedFile)
        .flat_map(|f| f.files.iter().map(PathBuf::from))
        .collect();
    assert_eq!(skipped, vec![PathBuf::from("session.json")]);
}

/// A header that declares more frames than the file's bytes can hold is refused when the file
/// is opened: nothing downstream is sized by a length the file cannot have. (symphonia takes an
/// AIFF's length from its sound data, so only FLAC's STREAMINFO can claim one.)
#[test]
fn flac_declaring_more_frames_than_its_bytes_hold_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("liar.flac");
    write_flac(&path, 2, 16, &signal(2, 5_000));
    let mut bytes = std::fs::read(&path).unwrap();
    // The 36-bit total sample count (see the unknown-length test) set to 2^35.
    bytes[21] = (bytes[21] & 0xF0) | 0x08;
    bytes[22..26].fill(0);
    std::fs::write(&path, &bytes).unwrap();
    let err = WavFile::open(&path).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("liar.flac") && text.contains("can hold"),
        "{text}"
    );
}

/// A FLAC damaged in the middle (a byte flipped inside a frame): reading it is an error naming
/// the file, never audio with a hole or a glitch in it.
#[test]
fn flac_damaged_mid_file_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.flac");
    write_flac(&path, 2, 24, &signal(2, 40_000));
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5A;
    bytes[mid + 1] ^= 0xA5;
    std::fs::write(&path, &bytes).unwrap();
    let mut reader = WavReader::open(&path).unwrap();
    let mut block = vec![0.0f32; 2 * 4096];
    let err = loop {
        match reader.read_frames(&mut block) {
            Ok(0) => panic!("read a damaged FLAC to the end without an error"),
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    assert!(err.to_string().contains("damaged.flac"), "{err}");
}

/// `stemcheck fix` on FLAC: an inverted FLAC stem is written back as FLAC (same name), its
/// Vorbis comments kept, and reads back as the clean stem's samples exactly.
#[test]
fn an_inverted_flac_stem_is_fixed_as_flac_with_its_comments() {
    use analyzer_core::fix::{self, FixOptions, flac};
    let dir = tempfile::tempdir().unwrap();
    let stems = synth::demo_song(RATE, 6.0);
    let mix = synth::mix_down(&stems, 2);
    synth::write_wav(
        &dir.path().join("Song_Mix.wav"),
        2,
        RATE,
        WavFormat::Int24,
        &mix,
    )
    .unwrap();
    let comment = flac::Block {
        kind: 4,
        body: b"\x04\0\0\0test\x01\0\0\0\x0b\0\0\0TITLE=Lead!".to_vec(),
    };
    let mut lead = None;
    for s in &stems {
        if s.name == "Lead" {
            let inverted: Vec<f32> = s.samples.iter().map(|x| -dequantise(*x, 24)).collect();
            let bytes = flac::encode(
                &inverted,
                usize::from(s.channels),
                24,
                RATE,
                std::slice::from_ref(&comment),
                "x",
            )
            .unwrap();
            std::fs::write(dir.path().join("Song_Lead.flac"), bytes).unwrap();
            lead = Some(s);
        } else {
            let path = dir.path().join(format!("Song_{}.wav", s.name));
            synth::write_wav(&path, s.channels, RATE, WavFormat::Int24, &s.samples).unwrap();
        }
    }
    let lead = lead.unwrap();
    let checked =
        analyzer_core::analyze::check_paths_with_causes(&[dir.path().to_path_buf()], &opts())
            .unwrap();
    assert!(
        checked
            .report
            .findings
            .iter()
            .any(|f| f.code == FindingCode::PolarityInverted),
        "{:?}",
        checked.report.findings
    );
    let out = tempfile::tempdir().unwrap();
    let log = fix::fix_delivery(&checked, out.path(), FixOptions::default()).unwrap();
    let entry = log
        .files
        .iter()
        .find(|f| f.file == "Song_Lead.flac")
        .unwrap();
    assert_eq!(entry.written_as, "Song_Lead.flac");
    assert_eq!(entry.chunks_kept, ["VORBIS_COMMENT"]);
    assert!(
        entry.format.starts_with("24-bit integer FLAC"),
        "{}",
        entry.format
    );
    let fixed = out.path().join("Song_Lead.flac");
    assert_eq!(flac::read_blocks(&fixed).unwrap().unwrap(), [comment]);
    let got = read_all(&mut WavFile::open(&fixed).unwrap().reader());
    let want: Vec<f32> = lead.samples.iter().map(|x| dequantise(*x, 24)).collect();
    assert!(got == want, "the fixed FLAC's samples are the clean stem's");
}
