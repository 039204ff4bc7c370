//! The audio-thread half of the capture: decides when a capture runs and where each block sits
//! on the timeline, and hands samples to the writer through lock-free rings.
//!
//! Real-time rules: [`CaptureEngine::process`] never allocates, locks, logs or does I/O. In
//! real-time mode a full ring drops the block (counted, reported as silence plus a
//! discontinuity in the sidecar). In offline mode, and when audio arrives much faster than
//! real time (a host rendering while claiming "real-time", e.g. Ardour), the audio thread waits
//! for the writer by yielding: the host is not playing to an audio device then, so waiting
//! costs render speed, never a dropout, and no frame may be lost.
//!
//! Arming: a capture runs while manually armed, or (with auto capture on) while the host
//! renders offline or plays. Hosts call `process()` on silence while stopped; those blocks are
//! not captured. What runs is not necessarily kept: a capture is *qualified* from its start when
//! it is offline, manually armed, or real-time playback while the session is armed
//! ([`super::session_arm`]); otherwise it is playback that may prove to be a render a host does
//! not flag offline. It qualifies (a [`CaptureEvent::Qualify`]) as soon as it runs faster than
//! real time, or when it ends far enough ahead of the wall clock
//! ([`super::FREEWHEEL_MIN_LEAD_S`]); it ends unkept after [`super::PENDING_LIMIT_SECONDS`] of
//! audio, and the rest of that pass is not watched (nothing is pushed until the transport
//! stops or an arm arrives). Blocks are keyed by the host's timeline position: a short forward jump is
//! padded with silence, a backward jump (loop) or long jump ends the capture and starts a new
//! bounce, and a playing transport whose position stops advancing ends it.
//!
//! Offline mode says nothing about the transport: hosts also call `process()` with the
//! transport stopped before, during (a stall) and after an offline render, at a parked position.
//! Such a stopped block is copied into a preallocated hold buffer instead of being captured;
//! only when the next block continues its position (a host that renders without the playing
//! flag) is it captured, followed by that block. A stopped block that a render block does not
//! continue is discarded, so the silence around a render never splits or pads it.

use std::time::Instant;

use analyzer_core::capture::{CaptureRole, DiscontinuityAction, ProcessMode};
use rtrb::{Consumer, Producer, RingBuffer};

use super::{
    BOUNCE_IDLE_END_MS, EVENT_RING_CAPACITY, FREEWHEEL_MIN_AUDIO_S, FREEWHEEL_MIN_LEAD_S,
    FREEWHEEL_RATIO, MAX_PAD_SECONDS, PENDING_LIMIT_SECONDS, StreamFormat, ring_capacity_samples,
};
use crate::interleave::interleave_split;
use crate::shared::{CaptureEvent, CaptureStatus, EndReason};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// What the host said about this block, in plain values (no nice-plug types, so tests and the
/// plugin share one path).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BlockInfo {
    pub playing: bool,
    /// Timeline position of the block's first sample, if the host gives one.
    pub position_samples: Option<i64>,
    pub role: Option<CaptureRole>,
    pub auto_arm: bool,
    pub manual_arm: bool,
    /// This instance's "Arm playback capture" (it arms the session through the writer's
    /// marker; read here too so this instance is armed from its first block).
    pub arm_playback: bool,
}

/// The ends of the rings the writer thread owns.
#[derive(Debug)]
pub struct WriterEnds {
    pub samples: Consumer<f32>,
    pub events: Consumer<CaptureEvent>,
    pub format: StreamFormat,
}

#[derive(Debug)]
struct Rings {
    samples: Producer<f32>,
    events: Producer<CaptureEvent>,
}

/// A capture in progress, as the audio thread tracks it.
#[derive(Debug, Clone, Copy)]
struct Open {
    /// Timeline position the next block should have.
    next_position_samples: i64,
    /// Position reported for the previous block (to detect a stalled transport).
    last_reported: Option<i64>,
    /// The host said "playing" for the previous block.
    last_playing: bool,
    /// Frames dropped and not yet reported to the writer as a gap.
    pending_drop_frames: u64,
    pending_drop_position: i64,
    /// Wall clock and frames since the capture started, to detect faster-than-real-time.
    started: Instant,
    frames_seen: u64,
    /// When the last block of this capture arrived (a pass's wall time ends there, not at the
    /// idle timeout that ends it).
    last_block: Instant,
    /// The writer was told this capture is kept (see module docs).
    qualified: bool,
}

/// The audio-thread side of the capture. Built in `activate()`; all buffers preallocated.
#[derive(Debug)]
pub struct CaptureEngine {
    rings: Option<Rings>,
    format: StreamFormat,
    process_mode: ProcessMode,
    status: Arc<CaptureStatus>,
    open: Option<Open>,
    /// Frames pushed into the sample ring since activation (event `at_frame` clock).
    frames_pushed: u64,
    /// Position at which a real-time capture ended because the transport stalled; no new
    /// capture starts until the position moves on.
    stalled_at: Option<i64>,
    last_call: Option<Instant>,
    role: CaptureRole,
    /// A stopped offline block not captured yet (see module docs), planar in `hold`.
    held: Option<Held>,
    /// One preallocated buffer per channel, each the largest block the host announced.
    hold: Vec<Vec<f32>>,
    /// This playback pass ran out its pending window unqualified: not watched again until the
    /// transport stops or an arm arrives.
    declined: bool,
    /// [`PENDING_LIMIT_SECONDS`], adjustable for tests.
    pending_limit_s: f64,
}

/// Where a held stopped block sits on the timeline.
#[derive(Debug, Clone, Copy)]
struct Held {
    position_samples: i64,
    frames: usize,
}

impl CaptureEngine {
    /// An engine with no rings (before activation): every block passes uncaptured.
    pub fn inactive(status: Arc<CaptureStatus>) -> Self {
        Self {
            rings: None,
            format: StreamFormat {
                sample_rate: 48_000,
                channels: 2,
            },
            process_mode: ProcessMode::Realtime,
            status,
            open: None,
            frames_pushed: 0,
            stalled_at: None,
            last_call: None,
            role: CaptureRole::Stem,
            held: None,
            hold: Vec::new(),
            declined: false,
            pending_limit_s: PENDING_LIMIT_SECONDS,
        }
    }

    /// Allocates the rings for one activation and returns the writer's ends. Any capture of a
    /// previous activation is ended first (its writer sees its rings abandoned and finishes).
    pub fn activate(
        &mut self,
        format: StreamFormat,
        max_block_frames: usize,
        process_mode: ProcessMode,
    ) -> WriterEnds {
        let frames =
            ring_capacity_samples(format, max_block_frames) / format.channels.max(1) as usize;
        let ends = self.activate_with_capacity(format, frames, process_mode);
        self.allocate_hold(max_block_frames);
        ends
    }

    /// Sizes the hold buffer for blocks of up to `frames` (a larger stopped block is captured
    /// as before, since it cannot be held).
    fn allocate_hold(&mut self, frames: usize) {
        let channels = self.format.channels.max(1) as usize;
        self.hold = vec![vec![0.0; frames]; channels];
    }

    /// [`CaptureEngine::activate`] with an explicit sample ring size in frames (tests use a
    /// tiny ring to exercise overflow and the offline wait).
    pub fn activate_with_capacity(
        &mut self,
        format: StreamFormat,
        ring_frames: usize,
        process_mode: ProcessMode,
    ) -> WriterEnds {
        self.deactivate();
        let (sp, sc) = RingBuffer::new(ring_frames.max(1) * format.channels.max(1) as usize);
        let (ep, ec) = RingBuffer::new(EVENT_RING_CAPACITY);
        self.rings = Some(Rings {
            samples: sp,
            events: ep,
        });
        self.format = format;
        self.process_mode = process_mode;
        self.frames_pushed = 0;
        self.open = None;
        self.stalled_at = None;
        self.last_call = None;
        self.held = None;
        self.declined = false;
        self.allocate_hold(ring_frames.clamp(1, 16_384));
        self.status
            .sample_rate
            .store(format.sample_rate, Ordering::Relaxed);
        WriterEnds {
            samples: sc,
            events: ec,
            format,
        }
    }

    /// Ends any capture and drops the rings (the writer finishes on its own). Not real-time.
    pub fn deactivate(&mut self) {
        if self.open.is_some() {
            self.end(EndReason::Deactivated);
        }
        self.rings = None;
        self.held = None;
        self.status.armed.store(false, Ordering::Relaxed);
    }

    /// Sets how much unarmed playback is watched before it is declined (tests shorten
    /// [`PENDING_LIMIT_SECONDS`] to run at real-time pace in a fraction of a second). The
    /// writer's held buffer is sized for [`PENDING_LIMIT_SECONDS`]: keep below it.
    pub fn set_pending_limit_seconds(&mut self, seconds: f64) {
        self.pending_limit_s = seconds.min(PENDING_LIMIT_SECONDS);
    }

    /// True while a capture is open.
    pub fn is_capturing(&self) -> bool {
        self.open.is_some()
    }

    fn is_offline_like(&self) -> bool {
        if self.process_mode == ProcessMode::Offline {
            return true;
        }
        let Some(open) = &self.open else {
            return false;
        };
        let audio_s = open.frames_seen as f64 / self.format.sample_rate.max(1) as f64;
        let wall_s = open.started.elapsed().as_secs_f64();
        audio_s > FREEWHEEL_MIN_AUDIO_S && audio_s > wall_s * FREEWHEEL_RATIO
    }

    /// Feeds one block. `channels` are the plugin's input channels (planar), each at least
    /// `frames` long. Never allocates, locks or blocks (except the offline wait, see module
    /// docs).
    pub fn process<S: AsRef<[f32]>>(&mut self, channels: &[S], frames: usize, info: BlockInfo) {
        let now = Instant::now();
        let idle = self
            .last_call
            .is_some_and(|t| now.duration_since(t).as_millis() as u64 > BOUNCE_IDLE_END_MS);
        self.last_call = Some(now);
        if self.rings.is_none() || frames == 0 {
            return;
        }
        if let Some(role) = info.role {
            self.role = role;
        }
        // A pause in real-time processing ends the bounce. An offline render may stall longer
        // than that (heavy plugins, slow disks) and then continue where it was: it goes on as
        // the same capture when the position continues, and the jump rules apply otherwise.
        if idle && self.open.is_some() && !self.is_offline_like() {
            self.end(EndReason::Idle);
        }

        let offline = self.process_mode == ProcessMode::Offline;
        let session_armed = info.arm_playback || self.status.session_armed.load(Ordering::Relaxed);
        let watched =
            info.manual_arm || ((info.auto_arm || session_armed) && (offline || info.playing));
        let armed_now = info.manual_arm || (session_armed && info.playing);
        if !watched {
            if self.open.is_some() {
                self.end(EndReason::Stopped);
            }
            self.stalled_at = None;
            self.held = None;
            self.declined = false;
            self.status.armed.store(false, Ordering::Relaxed);
            return;
        }
        if self.declined && !armed_now {
            return;
        }
        self.declined = false;
        if offline
            && !info.playing
            && !info.manual_arm
            && let Some(position) = info.position_samples
        {
            self.stopped_offline_block(channels, frames, position, info);
            return;
        }
        self.held = None;
        self.capture_block(channels, frames, info);
    }

    /// An offline block with the transport stopped: captured when it continues a render that
    /// runs without the playing flag, else held until the next block tells (module docs).
    fn stopped_offline_block<S: AsRef<[f32]>>(
        &mut self,
        channels: &[S],
        frames: usize,
        position: i64,
        info: BlockInfo,
    ) {
        let continues_unflagged_render = self.open.is_some_and(|o| {
            !o.last_playing
                && o.next_position_samples == position
                && o.last_reported != Some(position)
        });
        let continues_held = self
            .held
            .is_some_and(|h| h.position_samples + h.frames as i64 == position);
        let too_big_to_hold = frames > self.hold.first().map_or(0, Vec::len);
        if continues_held && let Some(h) = self.held.take() {
            // `take` leaves an empty Vec (no allocation); the buffers are put back below.
            let hold = std::mem::take(&mut self.hold);
            let held_info = BlockInfo {
                position_samples: Some(h.position_samples),
                ..info
            };
            self.capture_block(&hold, h.frames, held_info);
            self.hold = hold;
            self.capture_block(channels, frames, info);
        } else if continues_unflagged_render || too_big_to_hold {
            self.held = None;
            self.capture_block(channels, frames, info);
        } else {
            for (dst, src) in self.hold.iter_mut().zip(channels) {
                let src = src.as_ref();
                let n = frames.min(src.len());
                dst[..n].copy_from_slice(&src[..n]);
                dst[n..frames].fill(0.0);
            }
            self.held = Some(Held {
                position_samples: position,
                frames,
            });
        }
    }

    /// Captures one armed block at its timeline position (the jump and stall rules).
    fn capture_block<S: AsRef<[f32]>>(&mut self, channels: &[S], frames: usize, info: BlockInfo) {
        let offline = self.process_mode == ProcessMode::Offline;
        let transport_moves = info.playing || offline;
        let reported = if transport_moves {
            info.position_samples
        } else {
            None
        };
        // Manual captures and offline renders keep going when the position does not move
        // (some hosts do not advance the transport while rendering); real-time playback that
        // stops advancing has stopped.
        let tolerate_stall = info.manual_arm || offline;

        let position = match (self.open, reported) {
            (Some(open), None) => open.next_position_samples,
            (Some(open), Some(p)) if p == open.next_position_samples => p,
            (Some(open), Some(p)) if open.last_reported == Some(p) => {
                if tolerate_stall {
                    open.next_position_samples
                } else {
                    self.end(EndReason::PositionStalled);
                    self.stalled_at = Some(p);
                    self.status.armed.store(false, Ordering::Relaxed);
                    return;
                }
            }
            (Some(open), Some(p)) => {
                let expected = open.next_position_samples;
                let max_pad = (MAX_PAD_SECONDS * self.format.sample_rate as f64) as i64;
                if p > expected && p - expected <= max_pad {
                    self.gap(
                        expected,
                        p,
                        (p - expected) as u64,
                        DiscontinuityAction::PaddedWithSilence,
                    );
                    p
                } else {
                    self.end(EndReason::Jump {
                        expected_position_samples: expected,
                        position_samples: p,
                    });
                    p
                }
            }
            (None, Some(p)) if self.stalled_at == Some(p) && !tolerate_stall => {
                return;
            }
            (None, p) => p.unwrap_or(0),
        };
        self.stalled_at = None;
        let session_armed = info.arm_playback || self.status.session_armed.load(Ordering::Relaxed);
        let armed_now = offline || info.manual_arm || (info.playing && session_armed);
        if self.open.is_none() && !self.start(position, armed_now) {
            return;
        }
        self.push_block(channels, frames, position, reported);
        if let Some(open) = self.open.as_mut() {
            open.last_playing = info.playing;
        }
        self.qualify_or_decline(armed_now);
        let kept = self.open.is_some_and(|o| o.qualified);
        self.status.armed.store(kept, Ordering::Relaxed);
    }

    /// Qualifies an open capture that is armed now or runs faster than real time; ends one that
    /// ran out its pending window (module docs).
    fn qualify_or_decline(&mut self, armed_now: bool) {
        let Some(open) = self.open else { return };
        if open.qualified {
            return;
        }
        if armed_now || self.is_offline_like() {
            self.qualify();
        } else if open.frames_seen as f64
            > self.pending_limit_s * f64::from(self.format.sample_rate.max(1))
        {
            self.end(EndReason::NotABounce);
            self.declined = true;
        }
    }

    /// Tells the writer to keep the open capture. If the event ring is full (real-time, the
    /// writer stalled) the next block tries again.
    fn qualify(&mut self) {
        let event = CaptureEvent::Qualify {
            at_frame: self.frames_pushed,
        };
        if self.push_event(event)
            && let Some(open) = self.open.as_mut()
        {
            open.qualified = true;
        }
    }

    /// An unqualified pass that ends this far ahead of the wall clock was a render after all
    /// (too short for [`CaptureEngine::is_offline_like`] to tell while it ran).
    fn ended_as_render(&self) -> bool {
        let Some(open) = &self.open else {
            return false;
        };
        let audio_s = open.frames_seen as f64 / f64::from(self.format.sample_rate.max(1));
        let wall_s = open.last_block.duration_since(open.started).as_secs_f64();
        audio_s > wall_s * FREEWHEEL_RATIO && audio_s - wall_s >= FREEWHEEL_MIN_LEAD_S
    }

    fn start(&mut self, position: i64, qualified: bool) -> bool {
        let event = CaptureEvent::Start {
            at_frame: self.frames_pushed,
            position_samples: position,
            role: self.role,
            process_mode: self.process_mode,
            qualified,
        };
        if !self.push_event(event) {
            return false;
        }
        self.status.dropped_frames.store(0, Ordering::Relaxed);
        self.open = Some(Open {
            next_position_samples: position,
            last_reported: None,
            last_playing: false,
            pending_drop_frames: 0,
            pending_drop_position: position,
            started: Instant::now(),
            frames_seen: 0,
            last_block: Instant::now(),
            qualified,
        });
        true
    }

    fn end(&mut self, reason: EndReason) {
        self.flush_pending_drop();
        if reason != EndReason::NotABounce
            && self.open.is_some_and(|o| !o.qualified)
            && self.ended_as_render()
        {
            self.qualify();
        }
        let event = CaptureEvent::End {
            at_frame: self.frames_pushed,
            reason,
        };
        // If even the end cannot be queued, the writer's idle finalize closes the capture.
        let _ = self.push_event(event);
        self.open = None;
    }

    fn gap(
        &mut self,
        expected: i64,
        position: i64,
        length_frames: u64,
        action: DiscontinuityAction,
    ) {
        let event = CaptureEvent::Gap {
            at_frame: self.frames_pushed,
            expected_position_samples: expected,
            position_samples: position,
            length_frames,
            action,
        };
        let _ = self.push_event(event);
    }

    /// Pushes an event; in offline-like mode waits for room, else gives up when full.
    fn push_event(&mut self, event: CaptureEvent) -> bool {
        let offline_like = self.is_offline_like();
        let Some(rings) = self.rings.as_mut() else {
            return false;
        };
        loop {
            match rings.events.push(event) {
                Ok(()) => return true,
                Err(_) if offline_like && !rings.events.is_abandoned() => {
                    self.status.writer_waits.fetch_add(1, Ordering::Relaxed);
                    std::thread::yield_now();
                }
                Err(_) => return false,
            }
        }
    }

    fn flush_pending_drop(&mut self) {
        let Some(open) = self.open else { return };
        if open.pending_drop_frames == 0 {
            return;
        }
        let event = CaptureEvent::Gap {
            at_frame: self.frames_pushed,
            expected_position_samples: open.pending_drop_position,
            position_samples: open.pending_drop_position,
            length_frames: open.pending_drop_frames,
            action: DiscontinuityAction::DroppedFrames,
        };
        if self.push_event(event)
            && let Some(open) = self.open.as_mut()
        {
            open.pending_drop_frames = 0;
        }
    }

    /// Pushes a block in pieces no larger than half the ring, so a host that sends more frames
    /// than it announced can never make the offline wait spin forever.
    fn push_block<S: AsRef<[f32]>>(
        &mut self,
        channels: &[S],
        frames: usize,
        position: i64,
        reported: Option<i64>,
    ) {
        let channel_count = (self.format.channels as usize).max(1);
        let Some(capacity) = self.rings.as_ref().map(|r| r.samples.buffer().capacity()) else {
            return;
        };
        let piece = (capacity / channel_count / 2).max(1);
        let mut offset = 0;
        while offset < frames {
            let n = piece.min(frames - offset);
            self.push_piece(channels, offset, n, position + offset as i64);
            offset += n;
        }
        if let Some(open) = self.open.as_mut() {
            open.next_position_samples = position + frames as i64;
            open.last_reported = reported;
            open.frames_seen += frames as u64;
            open.last_block = Instant::now();
        }
    }

    fn push_piece<S: AsRef<[f32]>>(
        &mut self,
        channels: &[S],
        offset: usize,
        frames: usize,
        position: i64,
    ) {
        let offline_like = self.is_offline_like();
        let channel_count = (self.format.channels as usize).max(1);
        let needed = frames * channel_count;
        if let Some(rings) = self.rings.as_mut() {
            while rings.samples.slots() < needed && offline_like && !rings.samples.is_abandoned() {
                self.status.writer_waits.fetch_add(1, Ordering::Relaxed);
                std::thread::yield_now();
            }
        }
        let has_room = self
            .rings
            .as_ref()
            .is_some_and(|r| r.samples.slots() >= needed);
        // Frames dropped earlier are reported (as silence) before the samples that follow.
        if has_room {
            self.flush_pending_drop();
        }
        let can_push = has_room && self.open.is_some_and(|o| o.pending_drop_frames == 0);
        let mut pushed = false;
        if can_push
            && let Some(rings) = self.rings.as_mut()
            && let Ok(mut chunk) = rings.samples.write_chunk_uninit(needed)
        {
            // The ring's free space is at most two slices (before and after its end): the
            // samples are interleaved straight into them (no zero fill first: that memset
            // cost more than the interleave).
            let (first, second) = chunk.as_mut_slices();
            interleave_split(channels, offset, channel_count, first, second);
            // SAFETY: `interleave_split` writes every slot of both slices (see its contract),
            // so all `needed` slots are initialised.
            unsafe { chunk.commit_all() };
            pushed = true;
        }
        if pushed {
            self.frames_pushed += frames as u64;
        } else if let Some(open) = self.open.as_mut() {
            if open.pending_drop_frames == 0 {
                open.pending_drop_position = position;
            }
            open.pending_drop_frames += frames as u64;
            self.status
                .dropped_frames
                .fetch_add(frames as u64, Ordering::Relaxed);
        }
    }
}

impl Drop for CaptureEngine {
    fn drop(&mut self) {
        self.deactivate();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interleave::tests::{planar, reference};

    const RATE: u32 = 48_000;

    fn stereo_engine(mode: ProcessMode) -> (CaptureEngine, WriterEnds) {
        let status = Arc::new(CaptureStatus::default());
        let mut engine = CaptureEngine::inactive(status);
        let format = StreamFormat {
            sample_rate: RATE,
            channels: 2,
        };
        let ends = engine.activate(format, 512, mode);
        (engine, ends)
    }

    fn playing(position: i64) -> BlockInfo {
        BlockInfo {
            playing: true,
            position_samples: Some(position),
            role: Some(CaptureRole::Stem),
            auto_arm: true,
            manual_arm: false,
            arm_playback: false,
        }
    }

    /// Plays `frames` from `start` in 512-frame blocks, `pace` times real time (`None`: as fast
    /// as the test runs), draining the sample ring as a writer would.
    fn play(
        engine: &mut CaptureEngine,
        ends: &mut WriterEnds,
        start: i64,
        frames: usize,
        pace: Option<f64>,
    ) -> usize {
        let block = vec![vec![0.25f32; 512]; 2];
        let began = Instant::now();
        let mut drained = 0;
        let mut done = 0;
        while done < frames {
            engine.process(&block, 512, playing(start + done as i64));
            done += 512;
            let n = ends.samples.slots();
            if let Ok(chunk) = ends.samples.read_chunk(n) {
                chunk.commit_all();
                drained += n;
            }
            if let Some(speed) = pace {
                let due = std::time::Duration::from_secs_f64(done as f64 / RATE as f64 / speed);
                std::thread::sleep(due.saturating_sub(began.elapsed()));
            }
        }
        drained / 2
    }

    fn events(ends: &mut WriterEnds) -> Vec<CaptureEvent> {
        std::iter::from_fn(|| ends.events.pop().ok()).collect()
    }

    fn stop(engine: &mut CaptureEngine) {
        let block = vec![vec![0.0f32; 512]; 2];
        let info = BlockInfo {
            playing: false,
            ..playing(0)
        };
        engine.process(&block, 512, info);
    }

    #[test]
    fn playback_at_real_time_pace_is_declined_after_the_pending_window() {
        let (mut engine, mut ends) = stereo_engine(ProcessMode::Realtime);
        engine.set_pending_limit_seconds(0.25);
        let pushed = play(&mut engine, &mut ends, 0, 24_000, Some(1.0));
        let ev = events(&mut ends);
        assert!(
            matches!(
                ev[0],
                CaptureEvent::Start {
                    qualified: false,
                    ..
                }
            ),
            "{ev:?}"
        );
        assert!(
            matches!(
                ev[1],
                CaptureEvent::End {
                    reason: EndReason::NotABounce,
                    ..
                }
            ),
            "{ev:?}"
        );
        assert_eq!(ev.len(), 2, "{ev:?}");
        // The rest of the pass is not even handed to the writer.
        assert!(pushed <= 12_800, "{pushed} frames pushed");
        assert!(!engine.status.armed.load(Ordering::Relaxed));
        // A new pass after a stop is watched again.
        stop(&mut engine);
        play(&mut engine, &mut ends, 0, 1_024, None);
        assert!(matches!(
            events(&mut ends)[..],
            [CaptureEvent::Start {
                qualified: false,
                ..
            }]
        ));
    }

    #[test]
    fn playback_faster_than_real_time_qualifies_once_it_shows() {
        let (mut engine, mut ends) = stereo_engine(ProcessMode::Realtime);
        play(&mut engine, &mut ends, 0, 3 * RATE as usize, None);
        let ev = events(&mut ends);
        let CaptureEvent::Qualify { at_frame } = ev[1] else {
            panic!("{ev:?}");
        };
        let at_s = at_frame as f64 / f64::from(RATE);
        assert!((FREEWHEEL_MIN_AUDIO_S..2.1).contains(&at_s), "{at_s} s");
        assert!(engine.status.armed.load(Ordering::Relaxed));
    }

    #[test]
    fn a_short_pass_that_ends_far_ahead_of_the_clock_is_a_render() {
        let (mut engine, mut ends) = stereo_engine(ProcessMode::Realtime);
        play(&mut engine, &mut ends, 0, RATE as usize, None);
        stop(&mut engine);
        let ev = events(&mut ends);
        assert!(
            matches!(
                ev[..],
                [
                    CaptureEvent::Start {
                        qualified: false,
                        ..
                    },
                    CaptureEvent::Qualify { .. },
                    CaptureEvent::End {
                        reason: EndReason::Stopped,
                        ..
                    }
                ]
            ),
            "{ev:?}"
        );
    }

    #[test]
    fn offline_renders_and_armed_playback_are_kept_from_the_first_frame() {
        let (mut engine, mut ends) = stereo_engine(ProcessMode::Offline);
        play(&mut engine, &mut ends, 0, 2_048, None);
        assert!(matches!(
            events(&mut ends)[..],
            [CaptureEvent::Start {
                qualified: true,
                ..
            }]
        ));
        let (mut engine, mut ends) = stereo_engine(ProcessMode::Realtime);
        engine.status.session_armed.store(true, Ordering::Relaxed);
        play(&mut engine, &mut ends, 0, 2_048, Some(1.0));
        assert!(matches!(
            events(&mut ends)[..],
            [CaptureEvent::Start {
                qualified: true,
                ..
            }]
        ));
        assert!(engine.status.armed.load(Ordering::Relaxed));
    }

    #[test]
    fn an_arm_during_watched_playback_keeps_it_from_its_start() {
        let (mut engine, mut ends) = stereo_engine(ProcessMode::Realtime);
        play(&mut engine, &mut ends, 0, 4_096, Some(1.0));
        engine.status.session_armed.store(true, Ordering::Relaxed);
        play(&mut engine, &mut ends, 4_096, 1_024, Some(1.0));
        let ev = events(&mut ends);
        assert!(
            matches!(
                ev[..],
                [
                    CaptureEvent::Start {
                        qualified: false,
                        position_samples: 0,
                        ..
                    },
                    CaptureEvent::Qualify { .. }
                ]
            ),
            "{ev:?}"
        );
    }

    #[test]
    fn without_auto_capture_unarmed_playback_is_not_watched() {
        let (mut engine, mut ends) = stereo_engine(ProcessMode::Realtime);
        let block = vec![vec![0.25f32; 512]; 2];
        let info = BlockInfo {
            auto_arm: false,
            ..playing(0)
        };
        engine.process(&block, 512, info);
        assert!(events(&mut ends).is_empty());
        assert_eq!(ends.samples.slots(), 0);
    }

    /// Through the engine and a small ring that wraps many times: what the writer reads is the
    /// input, bit for bit, for 1, 2 and 3 channels.
    #[test]
    fn captured_samples_are_bit_exact_across_ring_wrap_around() {
        for ch in 1..=3usize {
            let status = Arc::new(CaptureStatus::default());
            let mut engine = CaptureEngine::inactive(status);
            let format = StreamFormat {
                sample_rate: 48_000,
                channels: ch as u16,
            };
            let mut ends = engine.activate_with_capacity(format, 300, ProcessMode::Realtime);
            let frames = 20_000;
            let input = planar(40 + ch as u32, ch, frames);
            let mut got = Vec::new();
            let mut offset = 0;
            for n in [1usize, 7, 64, 150, 149, 200, 33].iter().cycle() {
                if offset >= frames {
                    break;
                }
                let n = (*n).min(frames - offset);
                let block: Vec<&[f32]> = input.iter().map(|c| &c[offset..offset + n]).collect();
                let info = BlockInfo {
                    playing: true,
                    position_samples: Some(offset as i64),
                    role: Some(CaptureRole::Stem),
                    auto_arm: true,
                    manual_arm: false,
                    arm_playback: false,
                };
                engine.process(&block, n, info);
                let chunk = ends.samples.read_chunk(ends.samples.slots()).unwrap();
                let (a, b) = chunk.as_slices();
                got.extend(a.iter().chain(b).map(|x| x.to_bits()));
                chunk.commit_all();
                offset += n;
            }
            assert_eq!(got, reference(&input, 0, frames, ch), "{ch} channels");
            assert_eq!(engine.status.dropped_frames.load(Ordering::Relaxed), 0);
        }
    }
}
