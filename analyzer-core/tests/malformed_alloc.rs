//! No allocation sized by what a file claims: a delivery full of files whose headers promise
//! gigabytes (data sizes, chunk sizes, 65535 channels, a sparse 5 GiB file) is checked with a
//! counting allocator installed, and neither the largest single allocation nor the peak of live
//! heap may approach what the headers claim. Its own test binary, so no other test's
//! allocations are counted.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use analyzer_core::FindingCode;
use analyzer_core::analyze::{Options, check_paths};
use common::*;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The counters are global: the tests of this binary take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

const RATE: u32 = 48_000;
const MIB: usize = 1 << 20;

/// Drums, Bass and their sum as Mix: float stereo files whose headers claim `rate_hz`.
fn two_stems_and_mix(dir: &std::path::Path, frames: usize, rate_hz: u32) {
    let drums = tone(1, 2, frames, RATE);
    let bass = tone(2, 2, frames, RATE);
    let mix: Vec<f32> = drums.iter().zip(&bass).map(|(a, b)| a + b).collect();
    for (name, s) in [
        ("Drums.wav", &drums),
        ("Bass.wav", &bass),
        ("Mix.wav", &mix),
    ] {
        std::fs::write(dir.join(name), float_stereo(rate_hz, s)).expect("write a test file");
    }
}

#[test]
fn header_claims_never_size_an_allocation() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    two_stems_and_mix(dir.path(), 24_000, RATE);
    let short = f32_bytes(&tone(3, 2, 1_000, RATE));
    let fmt = fmt_body(3, 2, RATE, 32);
    let hostile: Vec<(&str, Vec<u8>)> = vec![
        (
            "data_3_gib.wav",
            riff(&[
                Chunk::new(b"fmt ", fmt.clone()),
                Chunk::lying(b"data", 0xC000_0000, short.clone()),
            ]),
        ),
        (
            "fmt_4_gib.wav",
            riff(&[
                Chunk::lying(b"fmt ", 0xFFFF_FFF0, fmt.clone()),
                Chunk::new(b"data", short.clone()),
            ]),
        ),
        (
            "list_2_gib.wav",
            riff(&[
                Chunk::new(b"fmt ", fmt.clone()),
                Chunk::lying(b"LIST", 0x7FFF_FFF0, b"INFO".to_vec()),
                Chunk::new(b"data", short.clone()),
            ]),
        ),
        (
            "channels_65535.wav",
            wav(fmt_body(1, 65_535, RATE, 8), vec![128; 65_535 * 4]),
        ),
        (
            "channels_64.wav",
            wav(fmt_body(1, 64, RATE, 8), vec![128; 64 * 1_000]),
        ),
        (
            "rate_4_ghz.wav",
            wav(fmt_body(3, 2, u32::MAX, 32), short.clone()),
        ),
        // The decoder sizes its packet buffer by the channel count: 300 MB for this file
        // unless the count is refused first (found by the decoded_reader fuzzer).
        ("channels_48641.aifc", aifc_fl32(48_641, &[0u8; 800])),
    ];
    for (name, bytes) in &hostile {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let sparse = dir.path().join("sparse_5_gib.wav");
    std::fs::write(&sparse, float_stereo(RATE, &tone(4, 2, 1_000, RATE))).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&sparse)
        .unwrap()
        .set_len(5 << 30)
        .unwrap();

    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    LARGEST.store(0, Ordering::Relaxed);
    let opts = Options {
        threads: 2,
        ..Options::default()
    };
    let report = check_paths(&[dir.path().to_path_buf()], &opts).unwrap();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let largest = LARGEST.load(Ordering::Relaxed);
    eprintln!(
        "peak live heap {:.1} MiB, largest allocation {:.1} MiB",
        peak as f64 / MIB as f64,
        largest as f64 / MIB as f64
    );
    assert_eq!(report.files.len(), 11);
    let named: usize = report
        .findings_with(FindingCode::UnreadableFile)
        .map(|f| f.files.len())
        .sum();
    assert_eq!(named, 6, "{:#?}", report.findings);
    // A 4 GHz header is readable (and wrong): the rate finding names it.
    assert!(
        report
            .findings_with(FindingCode::SampleRateMismatch)
            .any(|f| f.files.iter().any(|n| n == "rate_4_ghz.wav")),
        "{:#?}",
        report.findings
    );
    assert!(report.reconciliation.is_some());
    // The headers claim 2-5 GiB each. What the check needs is set by the channel count, which
    // is capped (wav::MAX_CHANNELS): reconciliation holds a ~5.5 s window per channel, and the
    // 64-channel stem makes that 64.5 MiB in one buffer, 226 MiB at peak (measured); without
    // the 64-channel file both stay under 40 MiB.
    assert!(largest < 96 * MIB, "largest allocation {largest} bytes");
    assert!(peak < 384 * MIB, "peak live heap {peak} bytes");
}

/// An AIFF-C header claiming 48641 channels is refused before symphonia's decoder is built:
/// the decoder sizes its buffers by the channel count (225 MB live for this 900-byte file
/// before the fix; found by the decoded_reader fuzzer at 300 MB RSS).
#[test]
fn an_absurd_aiff_channel_count_is_refused_not_allocated_for() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("channels_48641.aifc");
    std::fs::write(&path, aifc_fl32(48_641, &[0u8; 800])).unwrap();
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let err = analyzer_core::wav::WavFile::open(&path).unwrap_err();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    assert!(err.to_string().contains("48641 channels"), "{err}");
    assert!(peak < 8 * MIB, "peak live heap {peak} bytes");
}

/// An AIFF-C `fl32` file of `channels` channels (as its header says) holding `data`.
fn aifc_fl32(channels: u16, data: &[u8]) -> Vec<u8> {
    let chunk = |id: &[u8; 4], body: &[u8]| {
        let mut c = id.to_vec();
        c.extend_from_slice(&(body.len() as u32).to_be_bytes());
        c.extend_from_slice(body);
        c
    };
    let mut comm = channels.to_be_bytes().to_vec();
    comm.extend_from_slice(&200u32.to_be_bytes());
    comm.extend_from_slice(&32u16.to_be_bytes());
    // 48000 Hz as an 80-bit extended float.
    comm.extend_from_slice(&[0x40, 0x0E, 0xBB, 0x80, 0, 0, 0, 0, 0, 0]);
    comm.extend_from_slice(b"fl32\0\0");
    let mut ssnd = vec![0u8; 8];
    ssnd.extend_from_slice(data);
    let mut body = b"AIFC".to_vec();
    body.extend(chunk(b"FVER", &0xA280_5140u32.to_be_bytes()));
    body.extend(chunk(b"COMM", &comm));
    body.extend(chunk(b"SSND", &ssnd));
    chunk(b"FORM", &body)
}

/// A delivery whose mix and stems all claim a rate no file holds (the check_folder fuzzer's
/// 1.88 GHz header): the spectrum and stream buffers are sized by the mix's rate, so the sum is
/// refused with a finding that names the rate, never allocated for.
#[test]
fn an_absurd_mix_rate_is_refused_not_allocated_for() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    two_stems_and_mix(dir.path(), 4_000, 0x7000_BB80);
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    LARGEST.store(0, Ordering::Relaxed);
    let report = check_paths(&[dir.path().to_path_buf()], &Options::default()).unwrap();
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(largest < 96 * MIB, "largest allocation {largest} bytes");
    let text = format!("{:#?}", report.findings);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.message.contains("1879096192 Hz")),
        "{text}"
    );
}
