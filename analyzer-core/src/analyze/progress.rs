//! Progress of one check, told truthfully: the stages by name as they begin and end, and a
//! fraction whose total is fixed before any audio is read and counts all the work that will be
//! done.
//!
//! The work is counted in frames read: every opened file's frames once for metering, the mix's
//! and the planned stems' frames once more for the reconciliation's streaming pass (which
//! reports mix frames; they are scaled to the frames the pass reads), and a small share for
//! the set-level diagnosis at the end. Each share is capped at its size, so a file that holds
//! more frames than its header promised, or a reconciliation run a second time, never pushes
//! the fraction past 1; and the last share is only given when the check is done, so the
//! fraction reaches 1 only at the end. Metering and the reconciliation run side by side (the
//! reconciliation starts from the headers on a core of its own), so their stages overlap:
//! `Metering` and `Aligning` begin together, and the check says which are running.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use super::Progress;

/// A named stage of a check, in the order they begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Opening every file and reading its header.
    Reading,
    /// Metering every file (levels, true peak, loudness, clipping): one read of each.
    Metering,
    /// Locating the stems in the mix (activity, coarse lags, the searches on windows), beside
    /// the metering, before the streaming pass.
    Aligning,
    /// The streaming pass over mix and stems: the null, the fits, the residual's diagnosis.
    Reconciling,
    /// The set-level checks and the findings.
    Diagnosing,
}

impl Stage {
    /// The stage's name as a progress display shows it.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Reading => "reading",
            Stage::Metering => "metering",
            Stage::Aligning => "aligning",
            Stage::Reconciling => "reconciling",
            Stage::Diagnosing => "diagnosing",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// One share of the work: frames done, capped at its size.
struct Share {
    done: AtomicU64,
    size: AtomicU64,
}

impl Share {
    const fn new() -> Self {
        Self {
            done: AtomicU64::new(0),
            size: AtomicU64::new(0),
        }
    }

    /// Moves the share to `target` frames done (never back, never past its size); returns
    /// the frames newly done.
    fn raise_to(&self, target: u64) -> u64 {
        let target = target.min(self.size.load(Ordering::Relaxed));
        let before = self.done.fetch_max(target, Ordering::Relaxed);
        target.saturating_sub(before)
    }

    /// `n` more frames done (capped); returns the frames newly done.
    fn add(&self, n: u64) -> u64 {
        let size = self.size.load(Ordering::Relaxed);
        let mut added = 0;
        let _ = self
            .done
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| {
                let next = d.saturating_add(n).min(size);
                added = next - d;
                Some(next)
            });
        added
    }
}

/// Turns the check's events into [`Progress`] for the caller's callback.
pub(super) struct Tracker<'a> {
    callback: Option<&'a (dyn Fn(Progress) + Sync)>,
    begun: AtomicU8,
    ended: AtomicU8,
    meter: Share,
    reconcile: Share,
    diagnose: Share,
    /// Frames of the mix, the unit the streaming pass reports in.
    mix_frames: AtomicU64,
}

/// Part of the reconciliation's share given by its streaming pass (per mille); the rest when
/// it returns (a second plain-sum pass and the residual's diagnosis follow the first pass).
const STREAM_SHARE_PER_MILLE: u64 = 900;

impl<'a> Tracker<'a> {
    pub(super) fn new(callback: Option<&'a (dyn Fn(Progress) + Sync)>) -> Self {
        Self {
            callback,
            begun: AtomicU8::new(0),
            ended: AtomicU8::new(0),
            meter: Share::new(),
            reconcile: Share::new(),
            diagnose: Share::new(),
            mix_frames: AtomicU64::new(0),
        }
    }

    fn send(&self, p: Progress) {
        if let Some(cb) = self.callback {
            cb(p);
        }
    }

    /// Fixes the work: `meter_frames` (every opened file), `reconcile_frames` (the mix and
    /// the stems the reconciliation will stream; 0 when none runs), `mix_frames`.
    pub(super) fn set_total(&self, meter_frames: u64, reconcile_frames: u64, mix_frames: u64) {
        let diagnose = ((meter_frames + reconcile_frames) / 100).max(1);
        self.meter.size.store(meter_frames, Ordering::Relaxed);
        self.reconcile
            .size
            .store(reconcile_frames, Ordering::Relaxed);
        self.diagnose.size.store(diagnose, Ordering::Relaxed);
        self.mix_frames.store(mix_frames.max(1), Ordering::Relaxed);
        self.send(Progress::Total(meter_frames + reconcile_frames + diagnose));
    }

    /// Stage `s` begins (said once, however often called).
    pub(super) fn begin(&self, s: Stage) {
        if self.begun.fetch_or(s.bit(), Ordering::Relaxed) & s.bit() == 0 {
            self.send(Progress::Begin(s));
        }
    }

    /// Stage `s` ends (said once, and only when it began).
    pub(super) fn end(&self, s: Stage) {
        if self.begun.load(Ordering::Relaxed) & s.bit() != 0
            && self.ended.fetch_or(s.bit(), Ordering::Relaxed) & s.bit() == 0
        {
            self.send(Progress::End(s));
        }
    }

    fn advance(&self, n: u64) {
        if n > 0 {
            self.send(Progress::Advance(n));
        }
    }

    /// `frames` more frames metered.
    pub(super) fn metered(&self, frames: u64) {
        self.advance(self.meter.add(frames));
    }

    /// The streaming pass has streamed `mix_frames_done` frames of the mix (its callback's
    /// cumulative count): the alignment is over.
    pub(super) fn streamed(&self, mix_frames_done: u64) {
        self.end(Stage::Aligning);
        self.begin(Stage::Reconciling);
        let size = self.reconcile.size.load(Ordering::Relaxed);
        let mix = self.mix_frames.load(Ordering::Relaxed);
        let scaled = u128::from(mix_frames_done.min(mix)) * u128::from(size) / u128::from(mix);
        let target = scaled * u128::from(STREAM_SHARE_PER_MILLE) / 1000;
        self.advance(self.reconcile.raise_to(target as u64));
    }

    /// The reconciliation returned (with a result or an error).
    pub(super) fn reconciled(&self) {
        self.advance(self.reconcile.raise_to(u64::MAX));
        self.end(Stage::Aligning);
        self.end(Stage::Reconciling);
    }

    /// The check is done: every share is given (work skipped counts as done) and the last
    /// stage ends.
    pub(super) fn finish(&self) {
        let n = self.meter.raise_to(u64::MAX)
            + self.reconcile.raise_to(u64::MAX)
            + self.diagnose.raise_to(u64::MAX);
        self.advance(n);
        for s in [
            Stage::Reading,
            Stage::Metering,
            Stage::Aligning,
            Stage::Reconciling,
            Stage::Diagnosing,
        ] {
            self.end(s);
        }
    }
}
