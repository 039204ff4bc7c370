//! Unit tests of the WAV reader: every format, broken headers, hostile sizes, windows.

use super::*;
use crate::report::{Container, SampleFormat};
use std::io::Write;

fn write_hound(
    dir: &Path,
    name: &str,
    spec: hound::WavSpec,
    samples: &[f64],
) -> std::path::PathBuf {
    let p = dir.join(name);
    let mut w = hound::WavWriter::create(&p, spec).unwrap();
    for &s in samples {
        match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Float, _) => w.write_sample(s as f32).unwrap(),
            (hound::SampleFormat::Int, 8) => w.write_sample((s * 128.0) as i8).unwrap(),
            (hound::SampleFormat::Int, 16) => w.write_sample((s * 32768.0) as i16).unwrap(),
            (hound::SampleFormat::Int, 24) => w.write_sample((s * 8_388_608.0) as i32).unwrap(),
            (hound::SampleFormat::Int, _) => w.write_sample((s * 2_147_483_648.0) as i32).unwrap(),
        }
    }
    w.finalize().unwrap();
    p
}

fn ramp(n: usize) -> Vec<f64> {
    (0..n).map(|i| (i as f64 / n as f64) * 1.5 - 0.75).collect()
}

fn read_all(r: &mut WavReader, block: usize) -> Vec<f32> {
    let ch = r.info().channels as usize;
    let mut out = Vec::new();
    let mut buf = vec![0f32; block * ch];
    loop {
        let n = r.read_frames(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n * ch]);
    }
    out
}

#[test]
fn reads_every_hound_format() {
    let dir = tempfile::tempdir().unwrap();
    let src = ramp(3000);
    for (bits, fmt, tol) in [
        (8, hound::SampleFormat::Int, 1.0 / 64.0),
        (16, hound::SampleFormat::Int, 1e-4),
        (24, hound::SampleFormat::Int, 1e-6),
        (32, hound::SampleFormat::Int, 1e-6),
        (32, hound::SampleFormat::Float, 1e-7),
    ] {
        for channels in [1u16, 2, 3, 6] {
            let spec = hound::WavSpec {
                channels,
                sample_rate: 48000,
                bits_per_sample: bits,
                sample_format: fmt,
            };
            let p = write_hound(dir.path(), &format!("t{bits}{channels}.wav"), spec, &src);
            let mut r = WavReader::open(&p).unwrap();
            let info = r.info().clone();
            assert_eq!(info.channels, channels);
            assert_eq!(info.bits_per_sample, bits);
            assert_eq!(info.frames, 3000 / u64::from(channels));
            assert_eq!(info.declared_frames, info.frames);
            assert!(!info.truncated);
            let got = read_all(&mut r, 7);
            assert_eq!(got.len(), (3000 / channels as usize) * channels as usize);
            for (g, s) in got.iter().zip(&src) {
                assert!((f64::from(*g) - s).abs() <= tol, "{bits} {g} {s}");
            }
        }
    }
}

#[test]
fn extremes_scale_to_full_scale() {
    let dir = tempfile::tempdir().unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 44100,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let p = dir.path().join("x.wav");
    let mut w = hound::WavWriter::create(&p, spec).unwrap();
    w.write_sample(-8_388_608i32).unwrap();
    w.write_sample(8_388_607i32).unwrap();
    w.finalize().unwrap();
    let mut r = WavReader::open(&p).unwrap();
    assert_eq!(read_all(&mut r, 16), vec![-1.0, 8_388_607.0 / 8_388_608.0]);
}

/// Builds a WAV byte image by hand: `fmt` is the fmt body, `extra` chunks go before data.
fn craft(fmt: &[u8], extra: &[(&[u8; 4], Vec<u8>)], data_size: u32, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&0u32.to_le_bytes());
    v.extend_from_slice(b"WAVE");
    v.extend_from_slice(b"fmt ");
    v.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    v.extend_from_slice(fmt);
    for (id, body) in extra {
        v.extend_from_slice(*id);
        v.extend_from_slice(&(body.len() as u32).to_le_bytes());
        v.extend_from_slice(body);
        if body.len() % 2 == 1 {
            v.push(0);
        }
    }
    v.extend_from_slice(b"data");
    v.extend_from_slice(&data_size.to_le_bytes());
    v.extend_from_slice(data);
    let riff = (v.len() - 8) as u32;
    v[4..8].copy_from_slice(&riff.to_le_bytes());
    v
}

fn pcm_fmt(tag: u16, ch: u16, rate: u32, bits: u16) -> Vec<u8> {
    let align = ch * bits.div_ceil(8);
    let mut f = Vec::new();
    f.extend_from_slice(&tag.to_le_bytes());
    f.extend_from_slice(&ch.to_le_bytes());
    f.extend_from_slice(&rate.to_le_bytes());
    f.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
    f.extend_from_slice(&align.to_le_bytes());
    f.extend_from_slice(&bits.to_le_bytes());
    f
}

fn extensible_fmt(sub: u16, ch: u16, rate: u32, bits: u16, valid: u16) -> Vec<u8> {
    let mut f = pcm_fmt(0xFFFE, ch, rate, bits);
    f.extend_from_slice(&22u16.to_le_bytes());
    f.extend_from_slice(&valid.to_le_bytes());
    f.extend_from_slice(&3u32.to_le_bytes());
    f.extend_from_slice(&sub.to_le_bytes());
    f.extend_from_slice(&[
        0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
    ]);
    f
}

fn put(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
    p
}

fn i16_bytes(v: &[i16]) -> Vec<u8> {
    v.iter().flat_map(|s| s.to_le_bytes()).collect()
}

#[test]
fn extensible_float_and_f64() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = [0.5f32, -0.25, 1.0, -1.0]
        .iter()
        .flat_map(|s| s.to_le_bytes())
        .collect();
    let b = craft(&extensible_fmt(3, 2, 96000, 32, 32), &[], 16, &data);
    let p = put(dir.path(), "ext.wav", &b);
    let mut r = WavReader::open(&p).unwrap();
    assert_eq!(r.info().sample_format, SampleFormat::Float);
    assert_eq!(r.info().frames, 2);
    assert_eq!(read_all(&mut r, 1), vec![0.5, -0.25, 1.0, -1.0]);

    let data: Vec<u8> = [0.5f64, -0.125]
        .iter()
        .flat_map(|s| s.to_le_bytes())
        .collect();
    let b = craft(&pcm_fmt(3, 1, 48000, 64), &[], 16, &data);
    let p = put(dir.path(), "f64.wav", &b);
    let mut r = WavReader::open(&p).unwrap();
    assert_eq!(read_all(&mut r, 8), vec![0.5, -0.125]);
}

#[test]
fn extensible_24_in_32_container_scales_by_container() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = [i32::MIN, 1 << 30]
        .iter()
        .flat_map(|s| s.to_le_bytes())
        .collect();
    let b = craft(&extensible_fmt(1, 1, 48000, 32, 24), &[], 8, &data);
    let p = put(dir.path(), "e24.wav", &b);
    let mut r = WavReader::open(&p).unwrap();
    assert_eq!(read_all(&mut r, 8), vec![-1.0, 0.5]);
}

#[test]
fn truncated_data_chunk_reads_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let data = i16_bytes(&[1, 2, 3, 4, 5]);
    // Declares 100 stereo frames, holds 2.5.
    let b = craft(&pcm_fmt(1, 2, 44100, 16), &[], 400, &data);
    let p = put(dir.path(), "trunc.wav", &b);
    let mut r = WavReader::open(&p).unwrap();
    let i = r.info().clone();
    assert_eq!((i.frames, i.declared_frames, i.truncated), (2, 100, true));
    let got = read_all(&mut r, 64);
    assert_eq!(got.len(), 4);
    assert_eq!(got[3], 4.0 / 32768.0);
}

#[test]
fn crashed_recorder_sizes_are_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let data = i16_bytes(&[10, 20, 30, 40, 50, 60]);
    for (name, size) in [("zero.wav", 0u32), ("ff.wav", u32::MAX)] {
        let mut b = craft(&pcm_fmt(1, 1, 48000, 16), &[], size, &data);
        b[4..8].copy_from_slice(&size.to_le_bytes());
        let p = put(dir.path(), name, &b);
        let mut r = WavReader::open(&p).unwrap();
        assert_eq!(r.info().frames, 6, "{name}");
        assert_eq!(r.info().declared_frames, 6, "{name}");
        // Written through a pipe, the audio is complete: not truncated, only unfinalised.
        assert!(!r.info().truncated, "{name}");
        assert!(r.info().sizes_unfinalised, "{name}");
        assert_eq!(read_all(&mut r, 4).len(), 6);
    }
}

#[test]
fn genuinely_empty_data_followed_by_chunk_is_not_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = craft(&pcm_fmt(1, 1, 48000, 16), &[], 0, &[]);
    b.extend_from_slice(b"LIST");
    b.extend_from_slice(&4u32.to_le_bytes());
    b.extend_from_slice(b"INFO");
    let riff = (b.len() - 8) as u32;
    b[4..8].copy_from_slice(&riff.to_le_bytes());
    let p = put(dir.path(), "empty.wav", &b);
    let r = WavReader::open(&p).unwrap();
    assert_eq!((r.info().frames, r.info().truncated), (0, false));
}

#[test]
fn odd_chunks_padded_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let data = i16_bytes(&[7, 8]);
    let b = craft(
        &pcm_fmt(1, 1, 48000, 16),
        &[(b"junk", vec![1, 2, 3])],
        4,
        &data,
    );
    let p = put(dir.path(), "pad.wav", &b);
    assert_eq!(WavReader::open(&p).unwrap().info().frames, 2);
    // Same without the pad byte.
    let mut nopad = b.clone();
    let fmt_end = 12 + 8 + 16;
    nopad.remove(fmt_end + 8 + 3);
    let p = put(dir.path(), "nopad.wav", &nopad);
    let mut r = WavReader::open(&p).unwrap();
    assert_eq!(read_all(&mut r, 4), vec![7.0 / 32768.0, 8.0 / 32768.0]);
}

#[test]
fn rejects_non_wav_rf64_and_compressed() {
    let dir = tempfile::tempdir().unwrap();
    let p = put(
        dir.path(),
        "text.wav",
        b"this is not a wav file at all, just text",
    );
    let e = WavReader::open(&p).unwrap_err();
    assert!(matches!(e, Error::Format { .. }), "{e}");
    assert!(e.to_string().contains("text.wav"));

    let p = put(dir.path(), "short.wav", b"RIFF");
    assert!(matches!(
        WavReader::open(&p).unwrap_err(),
        Error::Format { .. }
    ));

    // RF64 without its ds64 chunk: the sizes cannot be known.
    let mut b = craft(&pcm_fmt(1, 1, 48000, 16), &[], 0, &[]);
    b[0..4].copy_from_slice(b"RF64");
    let p = put(dir.path(), "rf.wav", &b);
    let e = WavReader::open(&p).unwrap_err();
    assert!(
        matches!(e, Error::Format { .. })
            && e.to_string().contains("ds64")
            && e.to_string().contains("rf.wav"),
        "{e}"
    );

    let b = craft(&pcm_fmt(2, 1, 48000, 4), &[], 0, &[]);
    let p = put(dir.path(), "adpcm.wav", &b);
    let e = WavReader::open(&p).unwrap_err();
    assert!(
        matches!(e, Error::Unsupported { .. }) && e.to_string().contains("ADPCM"),
        "{e}"
    );

    let mut f = pcm_fmt(1, 0, 48000, 16);
    f[12] = 2;
    let p = put(dir.path(), "zero_ch.wav", &craft(&f, &[], 0, &[]));
    assert!(matches!(
        WavReader::open(&p).unwrap_err(),
        Error::Format { .. }
    ));

    let e = WavReader::open(&dir.path().join("missing.wav")).unwrap_err();
    assert!(matches!(e, Error::Io { .. }));
}

#[test]
fn hostile_sizes_do_not_allocate_or_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = craft(&pcm_fmt(1, 1, 48000, 16), &[], 4, &i16_bytes(&[1, 2]));
    // fmt chunk claims 4 GiB.
    b[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    let p = put(dir.path(), "bigfmt.wav", &b);
    assert!(WavReader::open(&p).is_err());
    // Every prefix of a valid file either opens or errors cleanly.
    let full = craft(&extensible_fmt(1, 2, 48000, 24, 24), &[], 12, &[0; 12]);
    for n in 0..full.len() {
        let p = put(dir.path(), "prefix.wav", &full[..n]);
        if let Ok(mut r) = WavReader::open(&p) {
            let _ = read_all(&mut r, 3);
        }
    }
}

#[test]
fn wrapped_4gib_size_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let b = craft(&pcm_fmt(1, 2, 48000, 16), &[], 1000, &[0; 1000]);
    let p = put(dir.path(), "huge.wav", &b);
    // Sparse: no 5 GiB are written.
    let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    f.set_len(5 << 30).unwrap();
    drop(f);
    let e = WavReader::open(&p).unwrap_err();
    assert!(
        matches!(e, Error::Unsupported { .. }) && e.to_string().contains("4 GiB"),
        "{e}"
    );
}

#[test]
fn seek_and_window() {
    let dir = tempfile::tempdir().unwrap();
    let v: Vec<i16> = (0..20).collect();
    let b = craft(&pcm_fmt(1, 2, 48000, 16), &[], 40, &i16_bytes(&v));
    let p = put(dir.path(), "w.wav", &b);
    let mut r = WavReader::open(&p).unwrap();
    let s = |x: i16| f32::from(x) / 32768.0;
    r.seek(8);
    let mut buf = [0f32; 8];
    assert_eq!(r.read_frames(&mut buf).unwrap(), 2);
    assert_eq!(&buf[..4], &[s(16), s(17), s(18), s(19)]);
    r.seek(1000);
    assert_eq!(r.read_frames(&mut buf).unwrap(), 0);

    let mut w = [9f32; 8];
    r.read_window(-2, &mut w).unwrap();
    assert_eq!(w, [0.0, 0.0, 0.0, 0.0, s(0), s(1), s(2), s(3)]);
    r.read_window(8, &mut w).unwrap();
    assert_eq!(w, [s(16), s(17), s(18), s(19), 0.0, 0.0, 0.0, 0.0]);
    r.read_window(50, &mut w).unwrap();
    assert_eq!(w, [0.0; 8]);
    r.read_window(-100, &mut w).unwrap();
    assert_eq!(w, [0.0; 8]);
    r.read_window(i64::MIN, &mut w).unwrap();
    r.read_window(i64::MAX, &mut w).unwrap();
    // Consecutive windows (the piecewise reads of the alignment search, where the seek
    // is skipped) read what one window over the same span reads.
    let mut whole = [0f32; 14];
    r.read_window(-3, &mut whole).unwrap();
    let mut pieces = [0f32; 14];
    for (p, chunk) in pieces.chunks_mut(4).enumerate() {
        r.read_window(-3 + 2 * p as i64, chunk).unwrap();
    }
    assert_eq!(pieces, whole);
    // Wider than the file on both sides: zeros before and after, over earlier contents.
    let mut wide = [9f32; 24];
    r.read_window(-1, &mut wide).unwrap();
    let mut want = [0f32; 24];
    for (i, x) in (0..20).enumerate() {
        want[2 + i] = s(x);
    }
    assert_eq!(wide, want);
}

#[test]
fn readers_of_one_opened_file_are_independent() {
    let dir = tempfile::tempdir().unwrap();
    let v: Vec<i16> = (0..4000).map(|i| (i % 3000) as i16).collect();
    let b = craft(&pcm_fmt(1, 2, 48000, 16), &[], 8000, &i16_bytes(&v));
    let p = put(dir.path(), "shared.wav", &b);
    let file = WavFile::open(&p).unwrap();
    let whole = read_all(&mut file.reader(), 333);
    assert_eq!(whole.len(), 4000);
    // Interleaved reads of two readers do not move each other's position.
    let (mut a, mut c) = (file.reader(), file.reader());
    a.seek(100);
    let mut x = [0f32; 20];
    let mut y = [0f32; 20];
    a.read_frames(&mut x).unwrap();
    c.read_frames(&mut y).unwrap();
    assert_eq!(&x[..], &whole[200..220]);
    assert_eq!(&y[..], &whole[..20]);
    assert_eq!((a.position(), c.position()), (110, 10));
    // Readers on several threads read the same audio.
    std::thread::scope(|s| {
        for block in [7, 61, 500] {
            let (file, whole) = (&file, &whole);
            s.spawn(move || assert_eq!(&read_all(&mut file.reader(), block), whole));
        }
    });
}

/// An RF64/BW64 file: preamble with all-ones RIFF size, `ds64` declaring `data_bytes`, `fmt `,
/// `data` with an all-ones size, the data, then `tail` (raw chunk bytes).
fn rf64(magic: &[u8; 4], fmt: &[u8], data_bytes: u64, data: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(magic);
    v.extend_from_slice(&u32::MAX.to_le_bytes());
    v.extend_from_slice(b"WAVE");
    v.extend_from_slice(b"ds64");
    v.extend_from_slice(&28u32.to_le_bytes());
    let riff_bytes =
        (4 + 36 + 8 + fmt.len() as u64 + 8 + tail.len() as u64).wrapping_add(data_bytes);
    v.extend_from_slice(&riff_bytes.to_le_bytes());
    v.extend_from_slice(&data_bytes.to_le_bytes());
    v.extend_from_slice(&0u64.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v.extend_from_slice(b"fmt ");
    v.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    v.extend_from_slice(fmt);
    v.extend_from_slice(b"data");
    v.extend_from_slice(&u32::MAX.to_le_bytes());
    v.extend_from_slice(data);
    v.extend_from_slice(tail);
    v
}

/// A `bext` chunk (header included) whose TimeReference is `samples`.
fn bext_chunk(samples: u64) -> Vec<u8> {
    let mut body = vec![0u8; 602];
    body[338..346].copy_from_slice(&samples.to_le_bytes());
    let mut v = b"bext".to_vec();
    v.extend_from_slice(&(body.len() as u32).to_le_bytes());
    v.extend_from_slice(&body);
    v
}

/// An `iXML` chunk (header included) holding `xml`.
fn ixml_chunk(xml: &str) -> Vec<u8> {
    let mut v = b"iXML".to_vec();
    v.extend_from_slice(&(xml.len() as u32).to_le_bytes());
    v.extend_from_slice(xml.as_bytes());
    if xml.len() % 2 == 1 {
        v.push(0);
    }
    v
}

#[test]
fn rf64_and_bw64_read_their_ds64_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let data = i16_bytes(&[1, 2, 3, 4, 5, 6]);
    // The ds64 says 4 frames: the 2 after them are not audio (a reader of the 32-bit size or
    // of the file's end would return 6).
    for (magic, container) in [(b"RF64", Container::Rf64), (b"BW64", Container::Bw64)] {
        let b = rf64(magic, &pcm_fmt(1, 1, 48000, 16), 8, &data, &[]);
        let p = put(dir.path(), "long.wav", &b);
        let mut r = WavReader::open(&p).unwrap();
        let i = r.info().clone();
        assert_eq!((i.frames, i.declared_frames), (4, 4));
        assert_eq!(i.container, container);
        assert!(!i.truncated && !i.sizes_unfinalised);
        assert_eq!(read_all(&mut r, 3).len(), 4);
    }
    // A data size beyond the file is a truncation, as in plain RIFF.
    let b = rf64(b"RF64", &pcm_fmt(1, 1, 48000, 16), 100, &data, &[]);
    let p = put(dir.path(), "cut.wav", &b);
    let i = WavReader::open(&p).unwrap().info().clone();
    assert_eq!((i.frames, i.declared_frames, i.truncated), (6, 50, true));
    // A ds64 too short for its three sizes.
    let mut b = rf64(b"BW64", &pcm_fmt(1, 1, 48000, 16), 8, &data, &[]);
    b[16..20].copy_from_slice(&8u32.to_le_bytes());
    let p = put(dir.path(), "short_ds64.wav", &b);
    let e = WavReader::open(&p).unwrap_err();
    assert!(
        matches!(e, Error::Format { .. })
            && e.to_string().contains("BW64")
            && e.to_string().contains("short_ds64.wav"),
        "{e}"
    );
}

/// A sparse RF64 file of 5 GiB of audio with a `bext` after it: the 64-bit size is used
/// (nothing is read to find the end), and the stamp beyond 4 GiB is found.
#[test]
fn rf64_over_4_gib_uses_64_bit_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let data_bytes = 5u64 << 30;
    let b = rf64(b"RF64", &pcm_fmt(1, 2, 48000, 16), data_bytes, &[], &[]);
    let p = dir.path().join("film.wav");
    let mut f = std::fs::File::create(&p).unwrap();
    f.write_all(&b).unwrap();
    f.set_len(b.len() as u64 + data_bytes).unwrap();
    use std::io::Seek;
    f.seek(std::io::SeekFrom::End(0)).unwrap();
    f.write_all(&bext_chunk(172_800_000)).unwrap();
    drop(f);
    let mut r = WavReader::open(&p).unwrap();
    let i = r.info().clone();
    assert_eq!(i.frames, data_bytes / 4);
    assert!(!i.truncated && !i.sizes_unfinalised);
    assert_eq!(i.time_reference_samples, Some(172_800_000));
    // The last frames read (zeros of the sparse file), the bext after them is not audio.
    r.seek(i.frames - 2);
    assert_eq!(read_all(&mut r, 8), vec![0.0; 4]);
}

#[test]
fn bext_and_ixml_time_references() {
    let dir = tempfile::tempdir().unwrap();
    let fmt = pcm_fmt(1, 1, 48000, 16);
    let data = i16_bytes(&[1, 2]);
    let stamp = (1u64 << 32) + 7;
    // bext before data.
    let mut body = vec![0u8; 602];
    body[338..346].copy_from_slice(&stamp.to_le_bytes());
    let b = craft(&fmt, &[(b"bext", body)], 4, &data);
    let p = put(dir.path(), "before.wav", &b);
    assert_eq!(
        WavReader::open(&p).unwrap().info().time_reference_samples,
        Some(stamp)
    );
    // bext after data (plain RIFF), behind another chunk.
    let mut b = craft(&fmt, &[], 4, &data);
    b.extend_from_slice(&ixml_chunk("<BWFXML/>"));
    b.extend_from_slice(&bext_chunk(48_000));
    let p = put(dir.path(), "after.wav", &b);
    assert_eq!(
        WavReader::open(&p).unwrap().info().time_reference_samples,
        Some(48_000)
    );
    // iXML only, both halves; then LOW alone.
    let xml = "<BWFXML><BEXT><BWF_TIME_REFERENCE_LOW> 7 </BWF_TIME_REFERENCE_LOW>\
               <BWF_TIME_REFERENCE_HIGH>1</BWF_TIME_REFERENCE_HIGH></BEXT></BWFXML>";
    let mut b = craft(&fmt, &[], 4, &data);
    b.extend_from_slice(&ixml_chunk(xml));
    let p = put(dir.path(), "ixml.wav", &b);
    assert_eq!(
        WavReader::open(&p).unwrap().info().time_reference_samples,
        Some(stamp)
    );
    let xml = "<BWF_TIME_REFERENCE_LOW>96000</BWF_TIME_REFERENCE_LOW>";
    let b = craft(&fmt, &[(b"iXML", xml.as_bytes().to_vec())], 4, &data);
    let p = put(dir.path(), "ixml_low.wav", &b);
    assert_eq!(
        WavReader::open(&p).unwrap().info().time_reference_samples,
        Some(96_000)
    );
    // bext wins over iXML.
    let mut b = craft(&fmt, &[(b"iXML", xml.as_bytes().to_vec())], 4, &data);
    b.extend_from_slice(&bext_chunk(5));
    let p = put(dir.path(), "both.wav", &b);
    assert_eq!(
        WavReader::open(&p).unwrap().info().time_reference_samples,
        Some(5)
    );
    // No stamp: a bext too short, iXML without the tag, garbage after data, nothing at all.
    for (name, tail) in [
        ("short_bext.wav", {
            let mut v = b"bext".to_vec();
            v.extend_from_slice(&10u32.to_le_bytes());
            v.extend_from_slice(&[0; 10]);
            v
        }),
        (
            "no_tag.wav",
            ixml_chunk("<BWF_TIME_REFERENCE_LOW>x</BWF_TIME_REFERENCE_LOW>"),
        ),
        ("garbage.wav", vec![0xff; 20]),
        ("plain.wav", Vec::new()),
    ] {
        let mut b = craft(&fmt, &[], 4, &data);
        b.extend_from_slice(&tail);
        let p = put(dir.path(), name, &b);
        let r = WavReader::open(&p).unwrap();
        assert_eq!(r.info().time_reference_samples, None, "{name}");
        assert_eq!(r.info().frames, 2, "{name}");
    }
}

#[test]
fn hostile_ds64_sizes_are_truncations_not_overflows() {
    let dir = tempfile::tempdir().unwrap();
    let data = i16_bytes(&[1, 2, 3, 4]);
    for size in [u64::MAX - 1, u64::MAX - 8, 1 << 62] {
        let mut b = rf64(
            b"RF64",
            &pcm_fmt(1, 1, 48000, 16),
            size,
            &data,
            &bext_chunk(9),
        );
        // The RIFF size too.
        b[20..28].copy_from_slice(&size.to_le_bytes());
        let p = put(dir.path(), "huge.wav", &b);
        let i = WavReader::open(&p).unwrap().info().clone();
        assert!(i.truncated && !i.sizes_unfinalised, "{size}");
        assert_eq!(i.frames, (data.len() + 8 + 602) as u64 / 2, "{size}");
    }
    // Data size 0 with a huge RIFF size: the audio after the header is read.
    let mut b = rf64(b"RF64", &pcm_fmt(1, 1, 48000, 16), 0, &data, &[]);
    b[20..28].copy_from_slice(&(u64::MAX - 2).to_le_bytes());
    let p = put(dir.path(), "zero.wav", &b);
    let i = WavReader::open(&p).unwrap().info().clone();
    assert_eq!((i.frames, i.sizes_unfinalised), (4, true));
}
