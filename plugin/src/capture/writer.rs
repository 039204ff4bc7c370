//! The writer thread: drains the capture rings into WAV files and sidecars.
//!
//! It never blocks the audio thread: it only reads from the rings. I/O errors (capture folder
//! missing or read-only, disk full, the 4 GiB WAV limit) abort the capture: the sidecar says
//! `aborted` with the reason when it can still be written, the editor shows the error, and the
//! rings keep being drained so the audio thread never waits on a failed disk.
//!
//! A capture that starts unqualified (unarmed real-time playback, see
//! [`super::engine`]) is held in memory, never written: only its
//! [`CaptureEvent::Qualify`] creates the bounce folder and files and writes what was held; its
//! `End` without one discards it. Holding it in memory rather than writing a pending file and
//! deleting it means playback never costs the disk anything (no folder for a rendezvous to find,
//! no file left behind by a crash), for at most [`super::PENDING_LIMIT_SECONDS`] of audio per
//! instance (3 MB for stereo at 48 kHz), allocated once per activation.
//!
//! Besides the rings, the writer polls the session's arm marker ([`session_arm`]) and applies
//! the retention rule ([`retention`]) after each completed capture and every
//! [`RETENTION_SCAN_INTERVAL`].

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use analyzer_core::capture::{
    self, CAPTURE_SCHEMA_VERSION, CaptureRole, CaptureSidecar, CaptureState, Discontinuity,
    DiscontinuityAction,
};

use super::engine::WriterEnds;
use super::rendezvous::{self, BounceKey, Claim};
use super::retention::{self, Retention};
use super::session_arm;
use super::wav::FloatWavWriter;
use super::{PENDING_LIMIT_SECONDS, WRITER_IDLE_FINALIZE_MS};
use crate::shared::{CaptureEvent, CaptureStatus, CompletedMix, DoneCapture, EndReason};

/// How often the WAV header is brought up to date (what survives a host crash).
pub const SYNC_INTERVAL: Duration = Duration::from_millis(250);
/// How often the sidecar of a recording capture is rewritten (well under
/// [`capture::STALE_AFTER_MS`], so a live capture never looks stale).
pub const SIDECAR_INTERVAL: Duration = Duration::from_millis(1_000);
/// Sleep when the rings are empty.
const POLL: Duration = Duration::from_millis(2);
/// Frames moved per read from the ring.
const CHUNK_FRAMES: usize = 8_192;
/// How often the capture root's bounces are counted for the editor (and the retention rule
/// applied) without a capture completing.
pub const RETENTION_SCAN_INTERVAL: Duration = Duration::from_secs(10);

/// Everything the writer needs besides the rings.
pub struct WriterConfig {
    /// Where bounce folders go; `None` when no folder could be determined (then every capture
    /// fails with a clear error).
    pub capture_root: Option<PathBuf>,
    pub instance_id: String,
    /// Plugin API the host loaded (`clap`, `vst3`, `standalone`, `test`).
    pub host: String,
    pub plugin_version: String,
    /// The label to name a capture by, read when it starts.
    pub label: Box<dyn Fn() -> String + Send>,
    pub status: Arc<CaptureStatus>,
    /// Told when a mix capture completes.
    pub on_mix_complete: Option<Sender<CompletedMix>>,
    /// True while this instance arms real-time capture for the whole session (the mix
    /// instance's arm); read on the writer thread only.
    pub arms_session: Box<dyn Fn() -> bool + Send>,
    /// The retention rule as the parameters set it now.
    pub retention: Box<dyn Fn() -> Retention + Send>,
}

impl WriterConfig {
    /// A configuration with no session arm and the default retention (tests, benches).
    pub fn new(
        capture_root: Option<PathBuf>,
        instance_id: String,
        host: String,
        label: Box<dyn Fn() -> String + Send>,
        status: Arc<CaptureStatus>,
    ) -> Self {
        Self {
            capture_root,
            instance_id,
            host,
            plugin_version: env!("CARGO_PKG_VERSION").to_string(),
            label,
            status,
            on_mix_complete: None,
            arms_session: Box::new(|| false),
            retention: Box::new(|| Retention {
                keep_bounces: retention::DEFAULT_KEEP_BOUNCES as usize,
                max_bytes: (f64::from(retention::DEFAULT_MAX_GB) * 1e9) as u64,
            }),
        }
    }
}

impl std::fmt::Debug for WriterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterConfig")
            .field("capture_root", &self.capture_root)
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}

/// One capture being written.
struct Active {
    claim: Option<Claim>,
    /// An exclusive lock on the WAV, held until this capture's final sidecar is written and
    /// released by the OS if the host dies: readers tell a killed host's capture from a live
    /// one at once ([`capture::writer_gone`]).
    _lock: Option<std::fs::File>,
    wav: Option<FloatWavWriter>,
    sidecar: CaptureSidecar,
    idle_finalized: bool,
    last_sync: Instant,
    last_sidecar: Instant,
}

/// Takes the writer's lock on a new capture WAV (Unix only, see [`capture::writer_gone`]).
/// `None` when the file system has no locks: readers then go by the sidecar's age.
fn lock_wav(path: &std::path::Path) -> Option<std::fs::File> {
    if !cfg!(unix) {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    file.try_lock().ok()?;
    Some(file)
}

/// An unqualified capture held in memory (module docs).
struct Pending {
    position_samples: i64,
    role: CaptureRole,
    process_mode: analyzer_core::capture::ProcessMode,
    /// Gap events and the held sample index (interleaved) they apply before.
    gaps: Vec<(usize, CaptureEvent)>,
}

/// The writer's state; [`Writer::run`] is the thread body, [`Writer::step`] one iteration.
pub struct Writer {
    ends: WriterEnds,
    config: WriterConfig,
    active: Option<Active>,
    pending: Option<Pending>,
    /// The held samples of `pending`, interleaved; its capacity (the pending window) is
    /// reserved at the first pending capture and reused.
    held: Vec<f32>,
    consumed_frames: u64,
    last_activity: Instant,
    /// Whether this writer's instance wrote the session's arm marker, and when last.
    arm_written: Option<Instant>,
    last_arm_poll: Option<Instant>,
    last_retention_scan: Option<Instant>,
}

impl Writer {
    pub fn new(ends: WriterEnds, config: WriterConfig) -> Self {
        Self {
            ends,
            config,
            active: None,
            pending: None,
            held: Vec::new(),
            consumed_frames: 0,
            last_activity: Instant::now(),
            arm_written: None,
            last_arm_poll: None,
            last_retention_scan: None,
        }
    }

    /// Samples the pending window holds at most (a little over the engine's limit: the engine
    /// ends the pass after the block that crosses it).
    fn held_capacity(&self) -> usize {
        let format = self.ends.format;
        let frames = (PENDING_LIMIT_SECONDS + 1.0) * f64::from(format.sample_rate.max(1));
        frames as usize * self.channels()
    }

    /// Starts the thread.
    ///
    /// # Errors
    /// When the OS cannot create a thread.
    pub fn spawn(self) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("stemcheck-capture-writer".into())
            .spawn(move || self.run())
    }

    /// Runs until the audio side is gone and everything it sent is written.
    pub fn run(mut self) {
        while self.step() {}
    }

    /// Does one round of work; sleeps briefly when there is none. Returns `false` once the
    /// engine dropped its ends and all data is written.
    pub fn step(&mut self) -> bool {
        let mut progressed = self.handle_due_events();
        progressed |= self.move_samples();
        self.periodic();
        self.housekeeping();
        if progressed {
            self.last_activity = Instant::now();
            return true;
        }
        let abandoned = self.ends.events.is_abandoned() && self.ends.samples.is_abandoned();
        if abandoned && self.ends.events.is_empty() && self.ends.samples.is_empty() {
            self.finish_active(None);
            self.discard_pending();
            self.release_session_arm();
            return false;
        }
        if self.last_activity.elapsed() > Duration::from_millis(WRITER_IDLE_FINALIZE_MS) {
            self.idle_finalize();
        }
        std::thread::sleep(POLL);
        true
    }

    fn channels(&self) -> usize {
        self.ends.format.channels.max(1) as usize
    }

    fn handle_due_events(&mut self) -> bool {
        let mut any = false;
        while let Ok(event) = self.ends.events.peek() {
            if event.at_frame() > self.consumed_frames {
                break;
            }
            let event = *event;
            let _ = self.ends.events.pop();
            self.handle(event);
            any = true;
        }
        any
    }

    /// Moves up to [`CHUNK_FRAMES`] from the ring straight into the WAV writer (the ring's
    /// two slices, no intermediate copy), or into the held buffer of a pending capture.
    fn move_samples(&mut self) -> bool {
        let channels = self.channels();
        let mut limit_frames = self.ends.samples.slots() / channels;
        if let Ok(next) = self.ends.events.peek() {
            limit_frames = limit_frames.min((next.at_frame() - self.consumed_frames) as usize);
        }
        let frames = limit_frames.min(CHUNK_FRAMES);
        if frames == 0 {
            return false;
        }
        let n = frames * channels;
        if self.pending.is_some() && self.held.capacity() == 0 {
            self.held.reserve_exact(self.held_capacity());
        }
        let held_room = self.held.capacity() - self.held.len();
        let Ok(chunk) = self.ends.samples.read_chunk(n) else {
            return false;
        };
        let (a, b) = chunk.as_slices();
        let mut error = None;
        if self.pending.is_some() {
            // Past the window the engine ends the pass; anything beyond is not kept anyway.
            if n <= held_room {
                self.held.extend_from_slice(a);
                self.held.extend_from_slice(b);
            }
        } else if let Some(active) = self.active.as_mut() {
            if active.idle_finalized {
                // Contiguous audio after an idle finalize: the bounce went on after a host stall.
                active.idle_finalized = false;
                active.sidecar.state = CaptureState::Recording;
                self.config.status.recording.store(true, Ordering::Relaxed);
            }
            if let Some(wav) = active.wav.as_mut() {
                match wav.write_samples(a).and_then(|()| wav.write_samples(b)) {
                    Ok(()) => self
                        .config
                        .status
                        .frames_written
                        .store(wav.frames(), Ordering::Relaxed),
                    Err(e) => error = Some(e.to_string()),
                }
            }
        }
        chunk.commit_all();
        self.consumed_frames += frames as u64;
        if let Some(e) = error {
            self.abort(e);
        }
        true
    }

    /// Drops a pending capture unwritten: playback that never became a bounce.
    fn discard_pending(&mut self) {
        if self.pending.take().is_some() {
            self.held.clear();
            self.config.status.pending.store(false, Ordering::Relaxed);
            self.config
                .status
                .passes_not_kept
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The pending capture proved to be a bounce: open its files and write what was held.
    fn qualify_pending(&mut self) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        self.config.status.pending.store(false, Ordering::Relaxed);
        self.start(pending.position_samples, pending.role, pending.process_mode);
        let held = std::mem::take(&mut self.held);
        let mut written = 0;
        for (at, gap) in pending.gaps {
            self.write_held(&held[written..at]);
            written = at;
            self.handle(gap);
        }
        self.write_held(&held[written..]);
        self.held = held;
        self.held.clear();
    }

    fn write_held(&mut self, samples: &[f32]) {
        let Some(wav) = self.active.as_mut().and_then(|a| a.wav.as_mut()) else {
            return;
        };
        match wav.write_samples(samples) {
            Ok(()) => self
                .config
                .status
                .frames_written
                .store(wav.frames(), Ordering::Relaxed),
            Err(e) => self.abort(e.to_string()),
        }
    }

    fn handle(&mut self, event: CaptureEvent) {
        match event {
            CaptureEvent::Start {
                position_samples,
                role,
                process_mode,
                qualified,
                ..
            } => {
                self.finish_active(None);
                self.discard_pending();
                if qualified {
                    self.start(position_samples, role, process_mode);
                } else {
                    self.pending = Some(Pending {
                        position_samples,
                        role,
                        process_mode,
                        gaps: Vec::new(),
                    });
                    self.config.status.pending.store(true, Ordering::Relaxed);
                }
            }
            CaptureEvent::Qualify { .. } => self.qualify_pending(),
            CaptureEvent::Gap { .. } if self.pending.is_some() => {
                let at = self.held.len();
                if let Some(p) = self.pending.as_mut() {
                    p.gaps.push((at, event));
                }
            }
            CaptureEvent::End { .. } if self.pending.is_some() => self.discard_pending(),
            CaptureEvent::Gap {
                expected_position_samples,
                position_samples,
                length_frames,
                action,
                ..
            } => {
                let Some(active) = self.active.as_mut() else {
                    return;
                };
                let file_frame = active.wav.as_ref().map_or(0, |w| w.frames());
                active.sidecar.discontinuities.push(Discontinuity {
                    file_frame,
                    expected_position_samples,
                    position_samples,
                    length_frames,
                    action,
                });
                if action == DiscontinuityAction::DroppedFrames {
                    active.sidecar.dropped_frames += length_frames;
                }
                if let Some(wav) = active.wav.as_mut()
                    && let Err(e) = wav.write_silence(length_frames)
                {
                    self.abort(e.to_string());
                }
            }
            CaptureEvent::End { reason, .. } => {
                let jump = match reason {
                    EndReason::Jump {
                        expected_position_samples,
                        position_samples,
                    } => Some((expected_position_samples, position_samples)),
                    _ => None,
                };
                self.finish_active(jump);
            }
        }
    }

    fn start(
        &mut self,
        position_samples: i64,
        role: CaptureRole,
        process_mode: analyzer_core::capture::ProcessMode,
    ) {
        let now = capture::now_unix_ms();
        let format = self.ends.format;
        let label = (self.config.label)();
        let mut sidecar = CaptureSidecar {
            schema_version: CAPTURE_SCHEMA_VERSION,
            role,
            label: label.clone(),
            wav_file: String::new(),
            host: self.config.host.clone(),
            plugin_version: self.config.plugin_version.clone(),
            instance_id: self.config.instance_id.clone(),
            bounce_id: String::new(),
            sample_rate: format.sample_rate,
            channels: format.channels,
            timeline_start_samples: position_samples,
            length_frames: 0,
            dropped_frames: 0,
            discontinuities: Vec::new(),
            process_mode,
            state: CaptureState::Recording,
            error: None,
            started_unix_ms: now,
            updated_unix_ms: now,
            writer_gone: false,
        };
        let key = BounceKey {
            timeline_start_samples: position_samples,
            sample_rate: format.sample_rate,
        };
        let claim = match &self.config.capture_root {
            Some(root) => rendezvous::claim(root, key, &self.config.instance_id, &label, now)
                .map_err(|e| format!("cannot create a capture in {}: {e}", root.display())),
            None => Err("no capture folder: set STEMCHECK_CAPTURE_DIR".to_string()),
        };
        let mut active = Active {
            claim: None,
            _lock: None,
            wav: None,
            sidecar: sidecar.clone(),
            idle_finalized: false,
            last_sync: Instant::now(),
            last_sidecar: Instant::now(),
        };
        match claim {
            Ok(claim) => {
                sidecar.wav_file = capture::wav_file_name(&claim.stem);
                sidecar.bounce_id = claim.bounce_id.clone();
                active.sidecar = sidecar;
                match FloatWavWriter::create(&claim.wav_path, format.channels, format.sample_rate) {
                    Ok(wav) => {
                        active.wav = Some(wav);
                        active._lock = lock_wav(&claim.wav_path);
                    }
                    Err(e) => {
                        active.sidecar.state = CaptureState::Aborted;
                        active.sidecar.error =
                            Some(format!("cannot create {}: {e}", claim.wav_path.display()));
                    }
                }
                {
                    let mut info = self.config.status.info.lock();
                    info.bounce_id = Some(claim.bounce_id.clone());
                    info.wav_path = Some(claim.wav_path.clone());
                    info.last_error = active.sidecar.error.clone();
                    info.capture_root = self.config.capture_root.clone();
                }
                active.claim = Some(claim);
            }
            Err(reason) => {
                active.sidecar.state = CaptureState::Aborted;
                active.sidecar.error = Some(reason.clone());
                let mut info = self.config.status.info.lock();
                info.last_error = Some(reason);
                info.bounce_id = None;
                info.wav_path = None;
                info.capture_root = self.config.capture_root.clone();
            }
        }
        self.config
            .status
            .recording
            .store(active.wav.is_some(), Ordering::Relaxed);
        self.config
            .status
            .frames_written
            .store(0, Ordering::Relaxed);
        self.active = Some(active);
        self.write_sidecar();
    }

    /// Stops writing the current capture after an error; later samples are drained unwritten.
    fn abort(&mut self, reason: String) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        if let Some(mut wav) = active.wav.take() {
            // Keep what was written readable, if the disk still lets us; the sidecar counts
            // only the frames the file's header describes.
            let _ = wav.sync();
            active.sidecar.length_frames = wav.abandon();
        }
        active.sidecar.state = CaptureState::Aborted;
        active.sidecar.error = Some(reason.clone());
        self.config.status.recording.store(false, Ordering::Relaxed);
        self.config.status.info.lock().last_error = Some(reason);
        self.write_sidecar();
    }

    fn write_sidecar(&mut self) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        let Some(claim) = &active.claim else {
            return;
        };
        if let Some(wav) = &active.wav {
            active.sidecar.length_frames = wav.frames();
        }
        active.sidecar.updated_unix_ms = capture::now_unix_ms();
        active.last_sidecar = Instant::now();
        let result = serde_json::to_vec_pretty(&active.sidecar)
            .map_err(std::io::Error::other)
            .and_then(|json| {
                rendezvous::write_atomically(&claim.sidecar_path, &json).or_else(|e| {
                    // A full disk has no room for the temporary copy; overwriting the sidecar
                    // in place reuses its own blocks, so the failure still gets recorded.
                    if claim.sidecar_path.is_file() {
                        std::fs::write(&claim.sidecar_path, &json)
                    } else {
                        Err(e)
                    }
                })
            });
        if let Err(e) = result {
            let reason = format!("cannot write {}: {e}", claim.sidecar_path.display());
            // Keep the first error (e.g. "disk full" from the WAV): it is the cause.
            self.config
                .status
                .info
                .lock()
                .last_error
                .get_or_insert(reason);
        }
    }

    fn periodic(&mut self) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        if active.idle_finalized {
            return;
        }
        if active.last_sync.elapsed() >= SYNC_INTERVAL {
            active.last_sync = Instant::now();
            if let Some(wav) = active.wav.as_mut()
                && let Err(e) = wav.sync()
            {
                self.abort(e.to_string());
                return;
            }
        }
        let due = self
            .active
            .as_ref()
            .is_some_and(|a| a.last_sidecar.elapsed() >= SIDECAR_INTERVAL);
        if due {
            self.write_sidecar();
        }
    }

    /// The session arm marker, the retention rule and the editor's clean-up request (none of
    /// it on the audio thread).
    fn housekeeping(&mut self) {
        let now = Instant::now();
        let arm_due = self
            .last_arm_poll
            .is_none_or(|t| now.duration_since(t) >= session_arm::POLL_INTERVAL);
        let cleanup = self
            .config
            .status
            .cleanup_requested
            .swap(false, Ordering::Relaxed);
        let scan_due = self
            .last_retention_scan
            .is_none_or(|t| now.duration_since(t) >= RETENTION_SCAN_INTERVAL);
        if !(arm_due || cleanup || scan_due) {
            return;
        }
        let Some(root) = self.config.capture_root.clone() else {
            return;
        };
        if arm_due {
            self.last_arm_poll = Some(now);
            if (self.config.arms_session)() {
                let due = self
                    .arm_written
                    .is_none_or(|t| now.duration_since(t) >= session_arm::MARKER_REFRESH)
                    || !session_arm::is_armed(&root, std::time::SystemTime::now());
                if due && session_arm::arm(&root, &self.config.instance_id).is_ok() {
                    self.arm_written = Some(now);
                }
            } else {
                self.release_session_arm();
            }
            let armed = session_arm::is_armed(&root, std::time::SystemTime::now());
            self.config
                .status
                .session_armed
                .store(armed, Ordering::Relaxed);
        }
        if cleanup {
            self.apply_retention(Some(Retention::NEWEST_ONLY));
        } else if scan_due {
            self.apply_retention(None);
        }
    }

    /// Removes this instance's arm marker, if it wrote one.
    fn release_session_arm(&mut self) {
        if self.arm_written.take().is_some()
            && let Some(root) = &self.config.capture_root
        {
            let _ = session_arm::disarm(root, &self.config.instance_id);
        }
    }

    /// Applies `rule` (else the parameters' rule) and publishes the count and size. Nothing is
    /// removed while this writer has a capture open.
    fn apply_retention(&mut self, rule: Option<Retention>) {
        self.last_retention_scan = Some(Instant::now());
        let Some(root) = &self.config.capture_root else {
            return;
        };
        let rule = rule.unwrap_or_else(|| (self.config.retention)());
        let result = if self.active.as_ref().is_some_and(|a| !a.idle_finalized) {
            retention::count(root)
        } else {
            retention::apply(root, rule, std::time::SystemTime::now())
        };
        if let Ok(mut kept) = result {
            let mut info = self.config.status.info.lock();
            kept.removed += info.retained.map_or(0, |r| r.removed);
            info.retained = Some(kept);
        }
    }

    /// Marks the capture complete after a pause without audio, keeping it open in case
    /// contiguous audio follows.
    fn idle_finalize(&mut self) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        if active.idle_finalized {
            return;
        }
        active.idle_finalized = true;
        self.complete_current(None);
    }

    /// Syncs the WAV and writes the final sidecar; tells the reconciler about a mix.
    fn complete_current(&mut self, jump: Option<(i64, i64)>) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        if let Some((expected, position)) = jump {
            let file_frame = active.wav.as_ref().map_or(0, |w| w.frames());
            active.sidecar.discontinuities.push(Discontinuity {
                file_frame,
                expected_position_samples: expected,
                position_samples: position,
                length_frames: 0,
                action: DiscontinuityAction::EndedCapture,
            });
        }
        if let Some(wav) = active.wav.as_mut()
            && let Err(e) = wav.finish()
        {
            self.abort(e.to_string());
            return;
        }
        if active.sidecar.state == CaptureState::Recording {
            active.sidecar.state = CaptureState::Complete;
        }
        self.config.status.recording.store(false, Ordering::Relaxed);
        self.write_sidecar();
        if let Some(active) = self.active.as_ref()
            && active.sidecar.state == CaptureState::Complete
            && let Some(claim) = &active.claim
        {
            self.config.status.info.lock().last_done = Some(DoneCapture {
                bounce_id: claim.bounce_id.clone(),
                folder: claim.folder.clone(),
                frames: active.sidecar.length_frames,
                sample_rate: active.sidecar.sample_rate,
                finished_unix_ms: active.sidecar.updated_unix_ms,
            });
        }
        let Some(active) = self.active.as_ref() else {
            return;
        };
        if active.sidecar.role == CaptureRole::Mix
            && active.sidecar.state == CaptureState::Complete
            && let (Some(tx), Some(claim)) = (&self.config.on_mix_complete, &active.claim)
        {
            let _ = tx.send(CompletedMix {
                bounce_id: claim.bounce_id.clone(),
                folder: claim.folder.clone(),
            });
        }
    }

    fn finish_active(&mut self, jump: Option<(i64, i64)>) {
        let Some(active) = self.active.as_ref() else {
            return;
        };
        if !active.idle_finalized || jump.is_some() {
            if let Some(active) = self.active.as_mut() {
                active.idle_finalized = false;
            }
            self.complete_current(jump);
        }
        self.active = None;
        // The retention rule runs at the next housekeeping (not here: the host's deactivate
        // waits for the writer to finish).
        self.last_retention_scan = None;
    }
}
