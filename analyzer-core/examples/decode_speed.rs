//! Read speed of the decoded formats against WAV, on the same audio: why the WAV path stays
//! hand-written (see `wav/decode.rs`).
//!
//! Writes SECONDS (default 60) of stereo 24-bit 48 kHz noise-and-tones as WAV (hound), AIFF
//! (by hand) and FLAC (flacenc) into a temporary folder, then reads each file front to back
//! through `WavReader` in 8192-frame blocks, best of 5, and prints the times and ratios.
//!
//!     cargo run --release -p analyzer-core --example decode_speed [SECONDS]

use std::path::Path;
use std::time::{Duration, Instant};

use analyzer_core::synth::{WavFormat, write_wav};
use analyzer_core::wav::WavReader;

const RATE: u32 = 48_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(60);
    let frames = seconds * RATE as usize;
    let mut seed = 1u32;
    let samples: Vec<f32> = (0..frames * 2)
        .map(|i| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            0.3 * ((i / 2) as f32 * 0.031).sin() + 0.1 * noise
        })
        .collect();
    let ints: Vec<i32> = samples
        .iter()
        .map(|&x| (f64::from(x) * 8_388_608.0).round() as i32)
        .collect();
    let dir = tempfile::tempdir()?;
    let wav = dir.path().join("a.wav");
    write_wav(&wav, 2, RATE, WavFormat::Int24, &samples)?;
    let aiff = dir.path().join("a.aiff");
    write_aiff(&aiff, &ints, frames)?;
    let flac = dir.path().join("a.flac");
    write_flac(&flac, &ints)?;

    let wav_t = best_of(&wav, frames)?;
    println!("{seconds} s stereo 24-bit 48 kHz, best of 5 reads through WavReader:");
    for (name, path) in [("WAV", &wav), ("AIFF", &aiff), ("FLAC", &flac)] {
        let t = best_of(path, frames)?;
        let bytes = std::fs::metadata(path)?.len();
        println!(
            "{name:5} {:8.1} ms  {:7.0}x real time  {:6.1} MB  {:5.2}x WAV's time",
            t.as_secs_f64() * 1e3,
            seconds as f64 / t.as_secs_f64(),
            bytes as f64 / 1e6,
            t.as_secs_f64() / wav_t.as_secs_f64()
        );
    }
    Ok(())
}

fn best_of(path: &Path, frames: usize) -> Result<Duration, Box<dyn std::error::Error>> {
    let mut best = Duration::MAX;
    let mut block = vec![0.0f32; 8192 * 2];
    for _ in 0..5 {
        let start = Instant::now();
        let mut r = WavReader::open(path)?;
        let mut total = 0;
        let mut sum = 0.0f32;
        loop {
            let n = r.read_frames(&mut block)?;
            if n == 0 {
                break;
            }
            sum += block[0];
            total += n;
        }
        best = best.min(start.elapsed());
        assert_eq!(total, frames, "{}", path.display());
        std::hint::black_box(sum);
    }
    Ok(best)
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

fn write_aiff(path: &Path, ints: &[i32], frames: usize) -> std::io::Result<()> {
    let mut comm = Vec::new();
    comm.extend_from_slice(&2u16.to_be_bytes());
    comm.extend_from_slice(&(frames as u32).to_be_bytes());
    comm.extend_from_slice(&24u16.to_be_bytes());
    // 48000 as an 80-bit extended float: 2^15 * 1.46484375.
    let e = 31 - RATE.leading_zeros();
    comm.extend_from_slice(&((16383 + e) as u16).to_be_bytes());
    comm.extend_from_slice(&(u64::from(RATE) << (63 - e)).to_be_bytes());
    let mut ssnd = vec![0u8; 8];
    for v in ints {
        ssnd.extend_from_slice(&v.to_be_bytes()[1..]);
    }
    let mut body = b"AIFF".to_vec();
    body.extend(chunk(b"COMM", &comm));
    body.extend(chunk(b"SSND", &ssnd));
    std::fs::write(path, chunk(b"FORM", &body))
}

fn write_flac(path: &Path, ints: &[i32]) -> Result<(), Box<dyn std::error::Error>> {
    use flacenc::component::BitRepr;
    use flacenc::error::Verify;
    let config = flacenc::config::Encoder::default()
        .into_verified()
        .map_err(|e| format!("{e:?}"))?;
    let source = flacenc::source::MemSource::from_samples(ints, 2, 24, RATE as usize);
    let stream = flacenc::encode_with_fixed_block_size(&config, source, config.block_size)
        .map_err(|e| format!("{e:?}"))?;
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream.write(&mut sink).map_err(|e| format!("{e:?}"))?;
    let mut bytes = sink.as_slice().to_vec();
    // flacenc writes the short last block's length as the minimum block size; libFLAC (and
    // symphonia's reader) want min = max for a fixed-size stream (see tests/decoded_formats.rs).
    let max = [bytes[10], bytes[11]];
    bytes[8..10].copy_from_slice(&max);
    std::fs::write(path, bytes)?;
    Ok(())
}
