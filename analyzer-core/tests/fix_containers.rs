//! The fix's byte-level corrections on every container and depth it writes: a stem that was
//! delivered late, inverted and with its channels swapped comes back, after `Pcm::shift`,
//! `invert` and `swap_channels` and `container::write`, as the clean file byte for byte: the
//! same container, the same codes, every other chunk kept. The files are built here, by hand,
//! independently of the writer; the check's own reader must read the result.

// Test code may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use analyzer_core::fix::container::{self, Pcm};
use analyzer_core::wav::WavFile;

const SR: u32 = 48_000;
const FRAMES: usize = 2_000;
/// Leading silence of the clean stem, frames: the late stem's extra start is trimmed from it.
const LEAD_SILENCE: usize = 50;
const LATE_BY: usize = 37;

#[derive(Clone, Copy, Debug)]
enum Cont {
    Wav,
    Rf64,
    Aiff,
    /// AIFF-C with this compression type.
    Aifc(&'static [u8; 4]),
}

#[derive(Clone, Copy, Debug)]
struct Fmt {
    container: Cont,
    bits: usize,
    float: bool,
}

impl Fmt {
    fn bytes(self) -> usize {
        self.bits / 8
    }
    fn big_endian(self) -> bool {
        match self.container {
            Cont::Wav | Cont::Rf64 => false,
            Cont::Aiff => true,
            Cont::Aifc(c) => c != b"sowt",
        }
    }
}

/// A sample as the test holds it: an integer code or a float value.
#[derive(Clone, Copy, Debug, PartialEq)]
enum S {
    I(i64),
    F(f64),
}

impl S {
    fn neg(self) -> S {
        match self {
            S::I(v) => S::I(-v),
            S::F(x) => S::F(-x),
        }
    }
}

fn encode(f: Fmt, samples: &[S]) -> Vec<u8> {
    let mut out = Vec::new();
    for &s in samples {
        let mut b: Vec<u8> = match s {
            S::F(x) if f.bits == 64 => x.to_le_bytes().to_vec(),
            S::F(x) => (x as f32).to_le_bytes().to_vec(),
            S::I(v) => {
                // 8-bit WAV is unsigned (offset 128); AIFF's 8-bit is signed.
                let v = if f.bits == 8 && matches!(f.container, Cont::Wav | Cont::Rf64) {
                    v + 128
                } else {
                    v
                };
                v.to_le_bytes()[..f.bytes()].to_vec()
            }
        };
        if f.big_endian() {
            b.reverse();
        }
        out.extend_from_slice(&b);
    }
    out
}

/// Stereo test signal: silence, then pseudo-random codes over the whole range but the most
/// negative integer (which has no inverse).
fn clean(f: Fmt) -> Vec<S> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut out = Vec::with_capacity(FRAMES * 2);
    for k in 0..FRAMES * 2 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let silent = k < LEAD_SILENCE * 2;
        out.push(if f.float {
            S::F(if silent {
                0.0
            } else {
                (seed >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
            })
        } else {
            let max = (1i64 << (f.bits - 1)) - 1;
            S::I(if silent {
                0
            } else {
                (seed % (2 * max as u64 + 1)) as i64 - max
            })
        });
    }
    out
}

fn chunk(id: &[u8; 4], size: u32, big: bool, body: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend_from_slice(&if big {
        size.to_be_bytes()
    } else {
        size.to_le_bytes()
    });
    c.extend_from_slice(body);
    if body.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// 80-bit extended of 48000 Hz.
const EXT_48K: [u8; 10] = [0x40, 0x0E, 0xBB, 0x80, 0, 0, 0, 0, 0, 0];

/// A whole file: header, format chunk, `extra` chunks (id, body), audio.
fn file(f: Fmt, extra: &[(&[u8; 4], Vec<u8>)], samples: &[S]) -> Vec<u8> {
    let channels = 2u16;
    let frames = (samples.len() / 2) as u32;
    let data = encode(f, samples);
    let big = f.big_endian() || matches!(f.container, Cont::Aifc(_));
    let mut body = Vec::new();
    match f.container {
        Cont::Wav | Cont::Rf64 => {
            let mut fmt = Vec::new();
            fmt.extend_from_slice(&(if f.float { 3u16 } else { 1 }).to_le_bytes());
            fmt.extend_from_slice(&channels.to_le_bytes());
            fmt.extend_from_slice(&SR.to_le_bytes());
            let block = channels * f.bytes() as u16;
            fmt.extend_from_slice(&(SR * u32::from(block)).to_le_bytes());
            fmt.extend_from_slice(&block.to_le_bytes());
            fmt.extend_from_slice(&(f.bits as u16).to_le_bytes());
            if matches!(f.container, Cont::Rf64) {
                let mut ds64 = vec![0u8; 28];
                let riff = 4
                    + 36
                    + 24
                    + 8
                    + data.len() as u64
                    + extra
                        .iter()
                        .map(|(_, b)| 8 + b.len() as u64 + (b.len() as u64 & 1))
                        .sum::<u64>();
                ds64[0..8].copy_from_slice(&riff.to_le_bytes());
                ds64[8..16].copy_from_slice(&(data.len() as u64).to_le_bytes());
                ds64[16..24].copy_from_slice(&u64::from(frames).to_le_bytes());
                body.extend(chunk(b"ds64", 28, false, &ds64));
            }
            body.extend(chunk(b"fmt ", fmt.len() as u32, false, &fmt));
            for (id, b) in extra {
                body.extend(chunk(id, b.len() as u32, false, b));
            }
            let size = if matches!(f.container, Cont::Rf64) {
                u32::MAX
            } else {
                data.len() as u32
            };
            body.extend(chunk(b"data", size, false, &data));
        }
        Cont::Aiff | Cont::Aifc(_) => {
            let mut comm = Vec::new();
            comm.extend_from_slice(&channels.to_be_bytes());
            comm.extend_from_slice(&frames.to_be_bytes());
            comm.extend_from_slice(&(f.bits as u16).to_be_bytes());
            comm.extend_from_slice(&EXT_48K);
            if let Cont::Aifc(c) = f.container {
                comm.extend_from_slice(c);
                comm.extend_from_slice(&[0, 0]); // empty pascal string, padded
            }
            body.extend(chunk(b"COMM", comm.len() as u32, true, &comm));
            for (id, b) in extra {
                body.extend(chunk(id, b.len() as u32, true, b));
            }
            let mut ssnd = vec![0u8; 8];
            ssnd.extend_from_slice(&data);
            body.extend(chunk(b"SSND", ssnd.len() as u32, true, &ssnd));
        }
    }
    let (magic, form): (&[u8; 4], &[u8; 4]) = match f.container {
        Cont::Wav => (b"RIFF", b"WAVE"),
        Cont::Rf64 => (b"RF64", b"WAVE"),
        Cont::Aiff => (b"FORM", b"AIFF"),
        Cont::Aifc(_) => (b"FORM", b"AIFC"),
    };
    let mut out = magic.to_vec();
    let size = if matches!(f.container, Cont::Rf64) {
        u32::MAX
    } else {
        (4 + body.len()) as u32
    };
    out.extend_from_slice(&if big {
        size.to_be_bytes()
    } else {
        size.to_le_bytes()
    });
    out.extend_from_slice(form);
    out.extend(body);
    out
}

fn bext(time_reference: u64) -> Vec<u8> {
    let mut b = vec![0u8; 602];
    b[..11].copy_from_slice(b"description");
    b[338..346].copy_from_slice(&time_reference.to_le_bytes());
    b[346] = 1;
    b
}

fn ixml(hi: u64, lo: u64, rate: u32) -> Vec<u8> {
    format!(
        "<BWFXML><PROJECT>Song</PROJECT><SPEED><TIMESTAMP_SAMPLE_RATE>{rate}</TIMESTAMP_SAMPLE_RATE>\
         <TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>{hi}</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>\
         <TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO>{lo}</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO>\
         </SPEED></BWFXML>"
    )
    .into_bytes()
}

/// The clean stem late by [`LATE_BY`] frames, inverted, its channels swapped.
fn faulted(clean: &[S]) -> Vec<S> {
    let silence = match clean[0] {
        S::I(_) => S::I(0),
        S::F(_) => S::F(0.0),
    };
    let mut bad = vec![silence; LATE_BY * 2];
    for fr in clean.chunks_exact(2) {
        bad.push(fr[1].neg());
        bad.push(fr[0].neg());
    }
    // Ten frames of trailing silence past the mix's end, which the fix trims.
    bad.extend(std::iter::repeat_n(silence, 20));
    bad
}

/// Writes the faulted file, corrects it on its bytes and returns what the fix writes.
fn correct(dir: &Path, f: Fmt, extra: &[(&[u8; 4], Vec<u8>)], stamp: Option<u64>) -> Vec<u8> {
    let clean = clean(f);
    let src = dir.join("bad.bin");
    std::fs::write(&src, file(f, extra, &faulted(&clean))).unwrap();
    let orig = container::read_original(&src)
        .unwrap()
        .unwrap_or_else(|| panic!("{f:?} not read"));
    let mut pcm = Pcm::read(&src, &orig, (FRAMES + LATE_BY + 10) as u64).unwrap();
    assert_eq!(pcm.frames(), FRAMES + LATE_BY + 10);
    pcm.shift(LATE_BY as i64, "x").unwrap();
    assert_eq!(pcm.invert(None), 0);
    pcm.swap_channels();
    assert_eq!(pcm.fit_length(FRAMES, "x").unwrap().trimmed_frames, 10);
    let chunks = match stamp {
        Some(t) => orig.stamped_chunks(t, SR).unwrap(),
        None => orig.chunks.clone(),
    };
    let out = dir.join("fixed.bin");
    container::write(
        &out,
        &orig,
        &chunks,
        orig.sample_rate,
        pcm.bytes.len() as u64,
        |w| w.write_all(&pcm.bytes),
    )
    .unwrap();
    std::fs::read(&out).unwrap()
}

/// The check's reader opens `bytes` and reads `samples` back.
fn reader_agrees(dir: &Path, f: Fmt, bytes: &[u8]) {
    let p = dir.join(match f.container {
        Cont::Wav | Cont::Rf64 => "read.wav",
        _ => "read.aif",
    });
    std::fs::write(&p, bytes).unwrap();
    let wav = WavFile::open(&p).unwrap_or_else(|e| panic!("{f:?}: {e}"));
    let info = wav.info();
    assert_eq!(
        (info.frames, info.channels, info.sample_rate),
        (FRAMES as u64, 2, SR),
        "{f:?}"
    );
}

fn all_formats() -> Vec<Fmt> {
    let mut v = Vec::new();
    for container in [Cont::Wav, Cont::Rf64] {
        for bits in [8, 16, 24, 32] {
            v.push(Fmt {
                container,
                bits,
                float: false,
            });
        }
        for bits in [32, 64] {
            v.push(Fmt {
                container,
                bits,
                float: true,
            });
        }
    }
    for bits in [8, 16, 24, 32] {
        v.push(Fmt {
            container: Cont::Aiff,
            bits,
            float: false,
        });
    }
    // `sowt` is 16-bit only for the check's reader (symphonia), so only that is delivered.
    for (c, bits, float) in [
        (b"NONE", 24, false),
        (b"sowt", 16, false),
        (b"fl32", 32, true),
        (b"fl64", 64, true),
    ] {
        v.push(Fmt {
            container: Cont::Aifc(c),
            bits,
            float,
        });
    }
    v
}

#[test]
fn a_late_inverted_swapped_stem_comes_back_byte_for_byte_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    for f in all_formats() {
        let extra: Vec<(&[u8; 4], Vec<u8>)> = vec![(b"LIST", b"INFOISFT\x05\0\0\0test\0".to_vec())];
        let got = correct(dir.path(), f, &extra, None);
        let want = file(f, &extra, &clean(f));
        assert!(
            got == want,
            "{f:?}: the corrected file is not the clean one"
        );
        reader_agrees(dir.path(), f, &got);
    }
}

#[test]
fn bwf_and_ixml_time_stamps_are_set_to_the_mix() {
    let dir = tempfile::tempdir().unwrap();
    // Past 2^32 samples, so iXML's HI word is 1 and bext's upper half is used.
    let t = (1u64 << 32) + 5_000;
    for container in [Cont::Wav, Cont::Rf64] {
        let f = Fmt {
            container,
            bits: 24,
            float: false,
        };
        let extra = vec![(b"bext", bext(1234)), (b"iXML", ixml(0, 1234, 44_100))];
        let got = correct(dir.path(), f, &extra, Some(t));
        let want_extra = vec![
            (b"bext", bext(t)),
            (b"iXML", ixml(t >> 32, t & 0xFFFF_FFFF, SR)),
        ];
        assert!(got == file(f, &want_extra, &clean(f)), "{f:?}");
        let p = dir.path().join("stamped.wav");
        std::fs::write(&p, &got).unwrap();
        assert_eq!(
            WavFile::open(&p).unwrap().info().time_reference_samples,
            Some(t)
        );
    }
}

#[test]
fn an_aiff_with_ixml_gets_the_stamp_and_one_without_says_it_has_nowhere_to_hold_it() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fmt {
        container: Cont::Aiff,
        bits: 16,
        float: false,
    };
    let src = dir.path().join("a.aif");
    std::fs::write(&src, file(f, &[], &clean(f))).unwrap();
    let orig = container::read_original(&src).unwrap().unwrap();
    assert!(
        orig.stamped_chunks(7, SR).is_none(),
        "no bext is added to AIFF"
    );
    let got = correct(dir.path(), f, &[(b"iXML", ixml(0, 1, SR))], Some(7));
    assert!(got == file(f, &[(b"iXML", ixml(0, 7, SR))], &clean(f)));
}

#[test]
fn resampled_audio_keeps_a_wide_depth() {
    // What the resampling path writes: f32 samples encoded at the original's codec.
    let c = container::Codec::wav(8, true);
    let b = c.encode(&[0.5, -0.25]);
    assert_eq!(b.len(), 16);
    assert_eq!(f64::from_le_bytes(b[8..].try_into().unwrap()), -0.25);
    let i32c = container::Codec::wav(4, false);
    assert_eq!(i32c.encode(&[0.5]), (1i32 << 30).to_le_bytes());
}
