//! Lossless bounce capture: `process()` -> lock-free rings -> writer thread -> WAV + sidecar.
//!
//! The audio thread ([`engine::CaptureEngine`]) only copies samples into a preallocated
//! [`rtrb`] ring and pushes small `Copy` events ([`crate::shared::CaptureEvent`]: start, gap,
//! end) into a second ring; it never allocates, locks or touches files. The writer thread
//! ([`writer`]) turns them into a 32-bit float WAV per instance and bounce (bit-exact copy of
//! the input) and a JSON sidecar ([`analyzer_core::capture::CaptureSidecar`]). Bounce folders are found or created through the
//! file system ([`rendezvous`]) so instances in different processes agree on them.
//!
//! What is kept: offline renders, and renders detected as faster than real time, are captured
//! automatically; real-time playback only while armed ([`session_arm`]: one arm in the mix
//! instance reaches every instance through the capture root). Unarmed playback is watched in
//! case it is a render a host does not flag offline: the writer holds its first
//! [`PENDING_LIMIT_SECONDS`] in memory and writes nothing unless it proves faster than real time,
//! so playback that never became a bounce never touches the disk. [`retention`] keeps the last N
//! bounces within a size cap.

pub mod engine;
pub mod rendezvous;
pub mod retention;
pub mod session_arm;
pub mod wav;
pub mod writer;

/// Seconds of audio the sample ring holds. The writer normally drains it within milliseconds;
/// the slack covers disk stalls in real-time mode before frames are dropped.
pub const RING_SECONDS: f64 = 4.0;
/// Events (start/gap/end) the event ring holds; one per timeline break, not per block.
pub const EVENT_RING_CAPACITY: usize = 4096;
/// A forward jump up to this long is filled with silence (keeps the file keyed to the
/// timeline); a longer one ends the capture and starts a new bounce.
pub const MAX_PAD_SECONDS: f64 = 0.5;
/// A pause in `process()` calls longer than this ends the bounce: the next block starts a new
/// one. Hosts stop calling `process()` after an offline render without any other signal.
pub const BOUNCE_IDLE_END_MS: u64 = 1_000;
/// The writer marks a capture complete after this long without new audio (it reopens it if
/// contiguous audio follows after all, so a host stall costs nothing).
pub const WRITER_IDLE_FINALIZE_MS: u64 = 750;
/// Audio arriving this much faster than the wall clock means the host renders offline even
/// if it says "real-time" (Ardour's export and `bounce_range`), so waiting for the writer is
/// allowed as in offline mode.
pub const FREEWHEEL_RATIO: f64 = 1.5;
/// ... once at least this much audio went through, so a host that processes a little ahead
/// while playing in real time (REAPER's anticipative FX) is not mistaken for a render.
pub const FREEWHEEL_MIN_AUDIO_S: f64 = 2.0;

/// Unarmed real-time playback is held (in the writer's memory, never on disk) at most this
/// long while it may still prove to be a render; past it, the pass is not a bounce and is
/// dropped. A render faster than [`FREEWHEEL_RATIO`] proves itself after
/// [`FREEWHEEL_MIN_AUDIO_S`] of audio, well inside this window.
pub const PENDING_LIMIT_SECONDS: f64 = 8.0;
/// A pass shorter than [`FREEWHEEL_MIN_AUDIO_S`] still counts as a render when it ends this far
/// ahead of the wall clock (and [`FREEWHEEL_RATIO`] faster): a 1 s clip bounced at 8x, not a
/// host's anticipative processing, which runs a few hundred ms ahead at most.
pub const FREEWHEEL_MIN_LEAD_S: f64 = 0.75;

/// Fixed facts about one activation, known to both ends of the rings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamFormat {
    pub sample_rate: u32,
    pub channels: u16,
}

/// Sample ring capacity in samples for a format and the host's largest block.
pub fn ring_capacity_samples(format: StreamFormat, max_block_frames: usize) -> usize {
    let frames = ((format.sample_rate as f64 * RING_SECONDS) as usize)
        .max(max_block_frames.saturating_mul(4))
        .max(32_768);
    frames * format.channels.max(1) as usize
}
