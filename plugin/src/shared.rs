//! Every type that crosses threads, in one place.
//!
//! Threads: the host's audio thread (`process()`), the capture writer thread, the
//! reconciliation thread and the GUI thread. The audio thread only touches atomics and
//! lock-free rings here; the `Mutex`es are shared between the non-real-time threads only.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use crate::meters::TRUE_PEAK_CELL_INITIAL;

use analyzer_core::report::Report;
use atomic_float::AtomicF32;
use parking_lot::Mutex;

/// Live meter values, written by the audio thread, read (and the held peaks cleared) by the GUI.
///
/// Peaks are "held since last read": the audio thread raises them with `fetch_max`-style
/// updates and the GUI takes them with a swap, so no peak is missed whatever the frame rate
/// (the x42 meters' `read()` contract).
#[derive(Debug)]
pub struct MeterShared {
    /// Highest sample peak since the GUI last read it, linear (not dB).
    pub sample_peak_linear: AtomicF32,
    /// The true peak (4x oversampled, BS.1770-4 Annex 2) handed to the GUI: a linear value and
    /// a generation packed in one word, written by the audio thread, taken by the GUI with a swap
    /// that leaves the floor for the next stretch (protocol in [`crate::meters`]).
    pub true_peak: AtomicU64,
    /// Blocks the audio thread has started plus blocks it has finished: odd while it meters one
    /// (lets the GUI tell whether a block may still publish under an older floor).
    pub audio_blocks: AtomicU32,
    /// Momentary loudness (400 ms), LUFS; `-inf` for silence.
    pub momentary_lufs: AtomicF32,
    /// Short-term loudness (3 s), LUFS; `-inf` for silence.
    pub short_term_lufs: AtomicF32,
    /// Set when a sample reached full scale (|x| >= 1.0) or was not finite; cleared by a click.
    pub clip_latched: AtomicBool,
    /// Samples that were NaN or infinite (the capture keeps them; the meters skip them).
    pub non_finite_samples: AtomicU64,
}

impl Default for MeterShared {
    fn default() -> Self {
        Self {
            sample_peak_linear: AtomicF32::new(0.0),
            true_peak: AtomicU64::new(TRUE_PEAK_CELL_INITIAL),
            audio_blocks: AtomicU32::new(0),
            momentary_lufs: AtomicF32::new(f32::NEG_INFINITY),
            short_term_lufs: AtomicF32::new(f32::NEG_INFINITY),
            clip_latched: AtomicBool::new(false),
            non_finite_samples: AtomicU64::new(0),
        }
    }
}

/// Raises `cell` to `value` if larger (lock-free, no allocation).
pub fn raise_f32(cell: &AtomicF32, value: f32) {
    let mut current = cell.load(Ordering::Relaxed);
    while value > current {
        match cell.compare_exchange_weak(current, value, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => break,
            Err(actual) => current = actual,
        }
    }
}

/// What the capture path is doing, for the editor.
#[derive(Debug, Default)]
pub struct CaptureStatus {
    /// The audio thread is feeding a capture (set by the audio thread).
    pub armed: AtomicBool,
    /// Frames the audio thread could not hand to the writer in real-time mode, this capture.
    pub dropped_frames: AtomicU64,
    /// Times the audio thread waited for the writer (offline / faster-than-real-time only).
    pub writer_waits: AtomicU64,
    /// A capture file is open and being appended to (set by the writer).
    pub recording: AtomicBool,
    /// Frames in the current (or last) capture file (set by the writer).
    pub frames_written: AtomicU64,
    /// Sample rate of the current capture, to show frames as seconds.
    pub sample_rate: AtomicU32,
    /// Details only the writer and GUI read.
    pub info: Mutex<CaptureInfo>,
}

/// Non-real-time capture details.
#[derive(Debug, Default, Clone)]
pub struct CaptureInfo {
    pub bounce_id: Option<String>,
    pub wav_path: Option<PathBuf>,
    /// The last error (capture folder unwritable, disk full, ...), shown until the next capture.
    pub last_error: Option<String>,
    pub capture_root: Option<PathBuf>,
}

/// Where the mix instance's reconciliation stands.
#[derive(Debug, Clone, Default)]
pub enum ReconcileState {
    #[default]
    Idle,
    /// Waiting for the other captures of the bounce to complete.
    Waiting {
        bounce_id: String,
        captures: usize,
    },
    /// The analyzer is running on the bounce folder.
    Analyzing {
        bounce_id: String,
    },
    Done {
        bounce_id: String,
        folder: PathBuf,
        report: Box<Report>,
    },
    Failed {
        bounce_id: String,
        reason: String,
    },
}

/// Everything shared by the plugin's threads; one `Arc` of it per instance.
#[derive(Debug, Default)]
pub struct Shared {
    pub meters: MeterShared,
    pub capture: Arc<CaptureStatus>,
    pub reconcile: Mutex<ReconcileState>,
    /// The GUI end of the spectrum ring and its sample rate, replaced on every activation.
    pub spectrum: Mutex<Option<(rtrb::Consumer<f32>, f32)>>,
}

/// Convenience alias.
pub type SharedRef = Arc<Shared>;
