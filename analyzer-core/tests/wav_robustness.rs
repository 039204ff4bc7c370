//! Hostile input: whatever bytes a `.wav` holds, opening and reading it either works or
//! returns an error naming the file — never a panic, never an allocation sized by the file's
//! claims.

// Test code may unwrap: a panic is the failure report (clippy.toml allows it in #[test]
// functions; this covers the helpers of this test crate too).
#![allow(clippy::unwrap_used)]

use analyzer_core::wav::WavReader;
use proptest::prelude::*;

/// A valid 24-bit stereo WAVE_FORMAT_EXTENSIBLE file with a LIST chunk before the data.
fn valid_file() -> Vec<u8> {
    let mut v = Vec::new();
    let data: Vec<u8> = (0..600u32)
        .flat_map(|i| (i * 9973).to_le_bytes()[..3].to_vec())
        .collect();
    v.extend_from_slice(b"RIFF\0\0\0\0WAVE");
    v.extend_from_slice(b"fmt ");
    v.extend_from_slice(&40u32.to_le_bytes());
    v.extend_from_slice(&0xFFFEu16.to_le_bytes());
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&48_000u32.to_le_bytes());
    v.extend_from_slice(&(48_000u32 * 6).to_le_bytes());
    v.extend_from_slice(&6u16.to_le_bytes());
    v.extend_from_slice(&24u16.to_le_bytes());
    v.extend_from_slice(&22u16.to_le_bytes());
    v.extend_from_slice(&24u16.to_le_bytes());
    v.extend_from_slice(&3u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&[0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71]);
    v.extend_from_slice(b"LIST");
    v.extend_from_slice(&5u32.to_le_bytes());
    v.extend_from_slice(b"INFOx\0");
    v.extend_from_slice(b"data");
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(&data);
    let riff = (v.len() - 8) as u32;
    v[4..8].copy_from_slice(&riff.to_le_bytes());
    v
}

fn exercise(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("hostile.wav");
    std::fs::write(&p, bytes).unwrap();
    match WavReader::open(&p) {
        Ok(mut r) => {
            let info = r.info().clone();
            assert!(info.frames <= bytes.len() as u64);
            let ch = usize::from(info.channels);
            let mut buf = vec![0f32; 97 * ch];
            let mut total = 0u64;
            loop {
                let n = r.read_frames(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
            assert_eq!(total, info.frames);
            let mut w = vec![0f32; 10 * ch];
            r.read_window(-3, &mut w).unwrap();
            r.read_window(info.frames as i64 - 4, &mut w).unwrap();
        }
        Err(e) => assert!(e.to_string().contains("hostile.wav"), "{e}"),
    }
}

#[test]
fn valid_file_reads() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ok.wav");
    std::fs::write(&p, valid_file()).unwrap();
    let r = WavReader::open(&p).unwrap();
    assert_eq!(
        (r.info().frames, r.info().channels, r.info().truncated),
        (300, 2, false)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn mutated_headers_never_panic(edits in prop::collection::vec((0usize..80, any::<u8>()), 1..6),
                                   cut in 0usize..2000) {
        let mut b = valid_file();
        for (at, v) in edits {
            b[at] = v;
        }
        b.truncate(cut.max(1));
        exercise(&b);
    }

    #[test]
    fn random_bytes_never_panic(mut b in prop::collection::vec(any::<u8>(), 0..200), riff in any::<bool>()) {
        if riff && b.len() >= 12 {
            b[0..4].copy_from_slice(b"RIFF");
            b[8..12].copy_from_slice(b"WAVE");
        }
        exercise(&b);
    }
}
