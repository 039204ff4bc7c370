//! Every type that crosses threads, in one place.
//!
//! Threads: the host's audio thread (`process()`), the capture writer thread, the
//! reconciliation thread and the GUI thread. The audio thread only touches atomics and
//! lock-free rings here; the `Mutex`es are shared between the non-real-time threads only.
//!
//! - Audio thread -> GUI: [`MeterShared`] (with the true-peak hand-over [`TruePeakCell`]) and
//!   the spectrum ring in [`Shared::spectrum`].
//! - Audio thread -> capture writer: [`CaptureEvent`]s (an end carries its [`EndReason`])
//!   beside the sample ring; both report in [`CaptureStatus`].
//! - Capture writer -> reconciliation thread: [`CompletedMix`]; reconciliation -> GUI:
//!   [`ReconcileState`].
//!
//! This module is a leaf: it imports nothing from the rest of the plugin.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use analyzer_core::capture::{CaptureRole, DiscontinuityAction, ProcessMode};
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
    /// The true peak (4x oversampled, BS.1770-4 Annex 2) handed to the GUI: a packed
    /// [`TruePeakCell`], written by the audio thread, taken by the GUI with a swap that leaves
    /// the floor for the next stretch (protocol there).
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
    /// Highest sample peak since the GUI last read it, per side, linear: channel 0 (left or
    /// mono) and the highest of the others (right). Taken with a swap like
    /// [`Self::sample_peak_linear`].
    pub side_peaks_linear: [AtomicF32; 2],
    /// Rising edges of the `meter_reset` parameter seen by the audio thread (the GUI resets
    /// its maxima, integrated loudness and over latch when this changes).
    pub reset_requests: AtomicU32,
    /// Loudness blocks the audio thread could not hand to the GUI because the ring was full
    /// (the editor stayed closed for longer than the ring holds); the integrated loudness then
    /// misses them, and the editor says so.
    pub loudness_blocks_dropped: AtomicU64,
    /// Channels being metered (1: mono, the editor shows one side).
    pub channels: AtomicU32,
}

impl Default for MeterShared {
    fn default() -> Self {
        Self {
            sample_peak_linear: AtomicF32::new(0.0),
            true_peak: AtomicU64::new(TruePeakCell::INITIAL),
            audio_blocks: AtomicU32::new(0),
            momentary_lufs: AtomicF32::new(f32::NEG_INFINITY),
            short_term_lufs: AtomicF32::new(f32::NEG_INFINITY),
            clip_latched: AtomicBool::new(false),
            non_finite_samples: AtomicU64::new(0),
            side_peaks_linear: [AtomicF32::new(0.0), AtomicF32::new(0.0)],
            reset_requests: AtomicU32::new(0),
            loudness_blocks_dropped: AtomicU64::new(0),
            channels: AtomicU32::new(2),
        }
    }
}

/// What the true-peak cell ([`MeterShared::true_peak`]) holds: the hand-over of the true peak
/// from the audio thread to the GUI.
///
/// The true-peak meter skips the 4x interpolation of every window that cannot beat the peak it
/// already holds since the last take (analyzer-core, exact). A GUI that took "the peak since the
/// last frame" at 60 Hz restarted that hold at 0 every 800 frames, and most windows were then
/// interpolated (the meters cost 1.6x with the editor open). But the editor does not need every
/// frame's peak: only one that can change what it shows, the decaying true-peak bar and the
/// highest true peak since its reset (the headroom readout). So the reader says, with each take,
/// below which level the next stretch's peak cannot matter - the floor - and the audio thread
/// restarts its hold at that floor (`TruePeak::take_max_peak_above`) instead of 0:
///
/// - The cell holds either the audio thread's `Peak { peak, generation }` (the true peak since
///   it last restarted under marker `generation`: exact when above that marker's floor, else
///   "at most the floor") or the reader's `Read { floor, generation }` marker, swapped in when
///   it takes the value. At the start of each block the audio thread
///   ([`crate::meters::AudioMeters`]) restarts at the floor of a marker it finds; at the end it
///   publishes with a compare-exchange. If the reader took the value during the block, the
///   exchange fails and the block's peak replaces the marker, still under the old generation,
///   and later blocks go on accumulating under the old floor until the next take: a peak is at
///   worst shown one frame late.
/// - The GUI's reader (`TruePeakDisplay` in the editor) picks the floor `margin` below where its
///   bar will fall to by the next frame (and never above the max since reset), so a value at or
///   below the floor cannot raise either display. A peak that arrives under an older floor (a
///   block that raced a take, or a frame that came later than the margin allows) is still exact
///   above that floor, because the bar is held from falling below the floor of any generation
///   whose peak may still arrive: the bar then falls slower for that frame, it never drops a
///   peak. Whether a block may still be running under an old floor, it learns from
///   [`MeterShared::audio_blocks`] (odd during a block; sequentially consistent with the cell,
///   so either the block saw the new marker or the GUI sees it running).
/// - The simple reader (`take_reading`, for tests) swaps in floor 0 on every take: the exact peak
///   since the last read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TruePeakCell {
    /// Written by the audio thread: the true peak since it restarted under marker `generation`;
    /// exact when above that marker's floor, else at most that floor. Linear (not dB).
    Peak { peak: f32, generation: u32 },
    /// Written by the reader when it took the value: restart at `floor` (linear).
    Read { floor: f32, generation: u32 },
}

impl TruePeakCell {
    /// Set in the low word of the packed cell when the reader wrote it.
    const READ_FLAG: u32 = 1 << 31;
    /// Generations count modulo 2^31: the low word's bits below the read flag.
    pub const GENERATION_MASK: u32 = Self::READ_FLAG - 1;
    /// The cell before anything happened: a `Read` marker with floor 0, generation 0.
    pub const INITIAL: u64 = Self::READ_FLAG as u64;

    /// The cell as one word for [`MeterShared::true_peak`]: the value's bits high, the
    /// generation (and the read flag) low.
    pub fn pack(self) -> u64 {
        let (value, low) = match self {
            Self::Peak { peak, generation } => (peak, generation & Self::GENERATION_MASK),
            Self::Read { floor, generation } => (
                floor,
                (generation & Self::GENERATION_MASK) | Self::READ_FLAG,
            ),
        };
        (u64::from(value.to_bits()) << 32) | u64::from(low)
    }

    /// The cell a word of [`MeterShared::true_peak`] holds.
    pub fn unpack(word: u64) -> Self {
        let value = f32::from_bits((word >> 32) as u32);
        let low = word as u32;
        if low & Self::READ_FLAG != 0 {
            Self::Read {
                floor: value,
                generation: low & Self::GENERATION_MASK,
            }
        } else {
            Self::Peak {
                peak: value,
                generation: low,
            }
        }
    }
}

/// One 100 ms step of the loudness meter, handed from the audio thread to the GUI, which
/// keeps the programme statistics (integrated loudness, loudness range, maxima) itself: the
/// audio thread pays one ring push per 100 ms for them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LoudnessBlock {
    /// The meter completed a 100 ms sub-block.
    Step {
        /// Momentary loudness (the 400 ms gating block ending here), LUFS; -inf for silence.
        momentary_lufs: f32,
        /// Short-term loudness (3 s ending here), LUFS.
        short_term_lufs: f32,
        /// The momentary window was full: this is a BS.1770-4 gating block.
        gating_block: bool,
        /// The short-term window was full: this value enters the loudness range (EBU Tech
        /// 3342, a value every 100 ms).
        lra_value: bool,
    },
    /// The `meter_reset` parameter rose here: statistics restart after this point.
    Reset,
}

/// Capacity of the loudness-block ring: one hour of 100 ms steps (288 KB per instance), so
/// the integrated loudness covers an hour with the editor closed.
pub const LOUDNESS_RING_BLOCKS: usize = 36_000;

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
    /// Some instance of the session armed real-time capture (the capture root's marker, polled
    /// by the writer thread; the audio thread only loads it).
    pub session_armed: AtomicBool,
    /// The writer holds unarmed real-time playback in memory until it proves to be a render
    /// (set by the writer).
    pub pending: AtomicBool,
    /// Playback passes watched and not kept since activation (never became a bounce).
    pub passes_not_kept: AtomicU64,
    /// The editor asks the writer thread to remove every finished bounce but the newest.
    pub cleanup_requested: AtomicBool,
}

/// Why a capture ended, as the audio thread saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Transport stopped, or capture disarmed.
    Stopped,
    /// Playing, but the timeline position stopped advancing.
    PositionStalled,
    /// The timeline jumped backwards (loop, seek) or far forward.
    Jump {
        expected_position_samples: i64,
        position_samples: i64,
    },
    /// No `process()` call for [`crate::capture::BOUNCE_IDLE_END_MS`].
    Idle,
    /// The plugin was deactivated or dropped.
    Deactivated,
    /// Unarmed real-time playback ran [`crate::capture::PENDING_LIMIT_SECONDS`] without
    /// proving to be a render: it is not kept.
    NotABounce,
}

/// Events from the audio thread to the writer. `at_frame` counts frames pushed into the sample
/// ring since activation: an event applies before the frame with that index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CaptureEvent {
    Start {
        at_frame: u64,
        position_samples: i64,
        role: CaptureRole,
        process_mode: ProcessMode,
        /// Known to be a bounce (offline, armed): written from its first frame. Otherwise the
        /// writer holds it in memory until a [`CaptureEvent::Qualify`] and discards it at
        /// `End`.
        qualified: bool,
    },
    /// The capture open since `Start` proved to be a render (faster than real time) or was
    /// armed: the writer puts what it held on disk and writes the rest.
    Qualify {
        at_frame: u64,
    },
    /// Silence to insert before `at_frame`: a short forward jump or frames dropped.
    Gap {
        at_frame: u64,
        expected_position_samples: i64,
        position_samples: i64,
        length_frames: u64,
        action: DiscontinuityAction,
    },
    End {
        at_frame: u64,
        reason: EndReason,
    },
}

impl CaptureEvent {
    pub fn at_frame(&self) -> u64 {
        match *self {
            Self::Start { at_frame, .. }
            | Self::Qualify { at_frame }
            | Self::Gap { at_frame, .. }
            | Self::End { at_frame, .. } => at_frame,
        }
    }
}

/// Non-real-time capture details.
#[derive(Debug, Default, Clone)]
pub struct CaptureInfo {
    pub bounce_id: Option<String>,
    pub wav_path: Option<PathBuf>,
    /// The last error (capture folder unwritable, disk full, ...), shown until the next capture.
    pub last_error: Option<String>,
    pub capture_root: Option<PathBuf>,
    /// The last capture that completed: where the bounce went and when.
    pub last_done: Option<DoneCapture>,
    /// Finished bounces in the capture root and their size (the writer's last scan).
    pub retained: Option<RetainedBounces>,
}

/// A completed capture, for the editor's "done" state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoneCapture {
    pub bounce_id: String,
    pub folder: PathBuf,
    pub frames: u64,
    pub sample_rate: u32,
    pub finished_unix_ms: u64,
}

/// What the capture root holds, as the retention pass counted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetainedBounces {
    pub bounces: usize,
    pub bytes: u64,
    /// Bounces removed by retention or clean-up since activation.
    pub removed: usize,
}

/// A mix capture that completed: the reconciliation thread takes it from here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedMix {
    pub bounce_id: String,
    pub folder: PathBuf,
}

/// Where the mix instance's reconciliation stands.
#[derive(Debug, Clone, Default)]
pub enum ReconcileState {
    #[default]
    Idle,
    /// Waiting for the other captures of the bounce to complete.
    Waiting { bounce_id: String, captures: usize },
    /// The analyzer is running on the bounce folder.
    Analyzing { bounce_id: String },
    Done {
        bounce_id: String,
        folder: PathBuf,
        report: Box<Report>,
    },
    /// The check could not run; `reason` is the error's message (analyzer-core's error is not
    /// `Clone`, and the editor clones the state every frame).
    Failed { bounce_id: String, reason: String },
}

/// Everything shared by the plugin's threads; one `Arc` of it per instance.
#[derive(Debug, Default)]
pub struct Shared {
    pub meters: MeterShared,
    pub capture: Arc<CaptureStatus>,
    pub reconcile: Mutex<ReconcileState>,
    /// The GUI end of the spectrum ring and its sample rate, replaced on every activation.
    pub spectrum: Mutex<Option<(rtrb::Consumer<f32>, f32)>>,
    /// The GUI end of the loudness-block ring, replaced on every activation.
    pub loudness_blocks: Mutex<Option<rtrb::Consumer<LoudnessBlock>>>,
    /// Blocks processed with the host's transport playing (one relaxed add per such block).
    pub played_blocks: AtomicU64,
    /// [`Self::played_blocks`] when the reconciler published its last verdict: once the count
    /// moves on, the transport ran again and the panel shows the verdict as the previous
    /// bounce's, whether or not the editor was open meanwhile.
    pub played_blocks_at_verdict: AtomicU64,
}

/// Convenience alias.
pub type SharedRef = Arc<Shared>;
