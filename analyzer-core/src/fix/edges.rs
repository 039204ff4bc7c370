//! Shifting and length-fitting at a file's edges, once for every way a file's audio is held:
//! `f32` samples ([`super::ops::Audio`]) and a container's stored codes
//! ([`super::container::Pcm`]). Both trim only silence and pad only silence, so the rule that
//! decides what may be cut lives here, and each storage says only how to measure, remove and
//! add frames.

use super::FixError;
use super::ops::{Edge, TRIM_SILENCE_DBFS};

/// Interleaved frames that can be measured and edited at both ends.
pub(super) trait FrameStore {
    /// Frames held.
    fn frames(&self) -> usize;
    /// Sample peak of frames `from..to`, dBFS.
    fn peak_dbfs(&self, from: usize, to: usize) -> f64;
    /// Removes the first `n` frames.
    fn drain_front(&mut self, n: usize);
    /// Inserts `n` frames of silence at the start.
    fn pad_front(&mut self, n: usize);
    /// Keeps the first `frames` frames.
    fn truncate(&mut self, frames: usize);
    /// Appends `n` frames of silence.
    fn pad_back(&mut self, n: usize);
}

/// Refuses to cut frames `from..to` of `store` unless they are silence.
fn only_silence<S: FrameStore>(
    store: &S,
    from: usize,
    to: usize,
    at_start: bool,
    file: &str,
) -> Result<(), FixError> {
    let peak_dbfs = store.peak_dbfs(from, to);
    if peak_dbfs > TRIM_SILENCE_DBFS {
        return Err(FixError::WouldCutAudio {
            file: file.to_owned(),
            frames: (to - from) as u64,
            at_start,
            peak_dbfs,
        });
    }
    Ok(())
}

/// Moves the content `offset_samples` earlier (positive: it came late, so that much is
/// trimmed from the start) or later (negative: silence padded at the start).
pub(super) fn shift<S: FrameStore>(
    store: &mut S,
    offset_samples: i64,
    file: &str,
) -> Result<Edge, FixError> {
    if offset_samples > 0 {
        let n = (offset_samples as usize).min(store.frames());
        only_silence(store, 0, n, true, file)?;
        store.drain_front(n);
        Ok(Edge {
            trimmed_frames: n as u64,
            padded_frames: 0,
        })
    } else {
        let n = offset_samples.unsigned_abs() as usize;
        store.pad_front(n);
        Ok(Edge {
            padded_frames: n as u64,
            trimmed_frames: 0,
        })
    }
}

/// Brings the audio to `frames` at its end: silence padded, or silence trimmed.
pub(super) fn fit_length<S: FrameStore>(
    store: &mut S,
    frames: usize,
    file: &str,
) -> Result<Edge, FixError> {
    let have = store.frames();
    if have > frames {
        only_silence(store, frames, have, false, file)?;
        store.truncate(frames);
        Ok(Edge {
            trimmed_frames: (have - frames) as u64,
            padded_frames: 0,
        })
    } else {
        store.pad_back(frames - have);
        Ok(Edge {
            padded_frames: (frames - have) as u64,
            trimmed_frames: 0,
        })
    }
}
