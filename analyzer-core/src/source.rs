//! Reading samples: the [`FrameSource`] trait every analysis reads audio through, and its two
//! implementations, [`WavSource`] (a file, streamed) and [`MemorySource`] (a buffer, for tests,
//! benches and captures already in RAM).
//!
//! A source can be read at any position, also before its start and after its end (zeros
//! there), so that a stem shifted against the mix needs no special cases; memory is bounded by
//! the window asked for, never by the file's length.

use std::sync::Arc;

use crate::wav::{WavFile, WavReader};
use crate::{Error, Result};

/// Interleaved audio that can be read at any position, including before its start and after
/// its end (zeros there).
///
/// Implemented by [`WavSource`] and [`MemorySource`]; the analysis never needs more than a
/// window of a file in memory.
pub trait FrameSource: Send {
    /// Name used in findings (the file path for files).
    fn name(&self) -> &str;
    /// Interleaved channels per frame.
    fn channels(&self) -> usize;
    /// Frames per second.
    fn sample_rate(&self) -> u32;
    /// Length in frames.
    fn frames(&self) -> u64;
    /// Fills `out` (interleaved, `out.len() / channels()` frames) with the frames starting at
    /// `start_frame`; positions outside the source read as zeros. `start_frame` may be negative.
    ///
    /// # Errors
    /// When the underlying file cannot be read.
    fn read_window(&mut self, start_frame: i64, out: &mut [f32]) -> Result<()>;
    /// An independent reader over the same audio (its own position), for a second thread.
    ///
    /// # Errors
    /// When a source cannot give a second reader (neither [`WavSource`], which shares its
    /// opened file, nor [`MemorySource`] ever fails).
    fn reopen(&self) -> Result<Box<dyn FrameSource>>;
}

/// Interleaved audio held in memory (tests, benches, plugin captures already in RAM).
///
/// The samples are shared (`Arc`), so [`FrameSource::reopen`] is free.
#[derive(Clone)]
pub struct MemorySource {
    name: String,
    channels: usize,
    sample_rate: u32,
    samples: Arc<[f32]>,
}

impl MemorySource {
    /// Interleaved `channels`-channel audio at `sample_rate`, named `name` in findings.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `channels` is zero, the sample count is not a multiple of
    /// it, or `sample_rate` is zero.
    pub fn new(
        name: impl Into<String>,
        channels: usize,
        sample_rate: u32,
        interleaved: impl Into<Arc<[f32]>>,
    ) -> Result<Self> {
        let samples = interleaved.into();
        let name = name.into();
        if channels == 0 || samples.len() % channels != 0 {
            return Err(Error::InvalidInput(format!(
                "{name}: {} samples do not make whole frames of {channels} channels",
                samples.len()
            )));
        }
        if sample_rate == 0 {
            return Err(Error::InvalidInput(format!("{name}: sample rate 0")));
        }
        Ok(Self {
            name,
            channels,
            sample_rate,
            samples,
        })
    }

    /// The interleaved samples.
    pub fn samples(&self) -> &[f32] {
        &self.samples
    }
}

impl std::fmt::Debug for MemorySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySource")
            .field("name", &self.name)
            .field("channels", &self.channels)
            .field("sample_rate", &self.sample_rate)
            .field("frames", &self.frames())
            .finish()
    }
}

impl FrameSource for MemorySource {
    fn name(&self) -> &str {
        &self.name
    }
    fn channels(&self) -> usize {
        self.channels
    }
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }
    fn frames(&self) -> u64 {
        (self.samples.len() / self.channels) as u64
    }
    fn read_window(&mut self, start_frame: i64, out: &mut [f32]) -> Result<()> {
        copy_window(&self.samples, self.channels, start_frame, out);
        Ok(())
    }
    fn reopen(&self) -> Result<Box<dyn FrameSource>> {
        Ok(Box::new(self.clone()))
    }
}

/// Copies the frames of `src` (interleaved) starting at `start` into `out`, zeros outside.
fn copy_window(src: &[f32], channels: usize, start: i64, out: &mut [f32]) {
    let frames = (src.len() / channels) as i64;
    let n = (out.len() / channels) as i64;
    let lo = start.max(0);
    let hi = (start + n).min(frames);
    if hi <= lo {
        out.fill(0.0);
        return;
    }
    let head = ((lo - start) as usize) * channels;
    let len = ((hi - lo) as usize) * channels;
    out[..head].fill(0.0);
    out[head..head + len]
        .copy_from_slice(&src[lo as usize * channels..lo as usize * channels + len]);
    out[head + len..].fill(0.0);
}

/// A WAV file as a [`FrameSource`], read through [`WavReader`] (streamed, bounded memory).
///
/// [`FrameSource::reopen`] gives another reader over the same [`WavFile`]: the file is opened
/// and its header parsed once, however many threads read it.
pub struct WavSource {
    name: String,
    reader: WavReader,
}

impl std::fmt::Debug for WavSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavSource")
            .field("path", &self.reader.path())
            .finish()
    }
}

impl WavSource {
    /// Opens `path` (a convenience for tests and tools; the check opens each file once as a
    /// [`WavFile`] and uses [`from_file`](Self::from_file)).
    ///
    /// # Errors
    /// As [`WavFile::open`]: the error names the file.
    pub fn open(path: &std::path::Path) -> Result<Self> {
        Ok(Self::from_file(&WavFile::open(path)?))
    }

    /// A new reader over an opened file (which stays shared, see [`WavFile`]).
    pub fn from_file(file: &WavFile) -> Self {
        Self::new(file.reader())
    }

    /// Wraps an open reader; findings name it by its path.
    pub fn new(reader: WavReader) -> Self {
        Self {
            name: crate::analyze::lossless_path(reader.path()),
            reader,
        }
    }
}

impl FrameSource for WavSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn channels(&self) -> usize {
        usize::from(self.reader.info().channels)
    }
    fn sample_rate(&self) -> u32 {
        self.reader.info().sample_rate
    }
    fn frames(&self) -> u64 {
        self.reader.info().frames
    }
    fn read_window(&mut self, start_frame: i64, out: &mut [f32]) -> Result<()> {
        self.reader.read_window(start_frame, out)
    }
    /// Another reader over the same opened file: no reopening, no header parsing.
    fn reopen(&self) -> Result<Box<dyn FrameSource>> {
        Ok(Box::new(Self::new(self.reader.file().reader())))
    }
}

/// A stereo stem delivered as two mono files (a multi-mono export: `Bass.L.wav`,
/// `Bass.R.wav`), read as one interleaved stereo source: left, right. The longer file sets the
/// length; the shorter reads as zeros past its end, as any source does.
pub struct SplitStereoSource {
    name: String,
    left: Box<dyn FrameSource>,
    right: Box<dyn FrameSource>,
    /// One channel's window, reused between reads.
    scratch: Vec<f32>,
}

impl std::fmt::Debug for SplitStereoSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SplitStereoSource")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SplitStereoSource {
    /// The two mono sources `left` and `right` as one stereo source named `name` in findings.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when either is not mono or their sample rates differ.
    pub fn new(
        name: String,
        left: Box<dyn FrameSource>,
        right: Box<dyn FrameSource>,
    ) -> Result<Self> {
        if left.channels() != 1 || right.channels() != 1 {
            return Err(Error::InvalidInput(format!(
                "{name}: a split stereo pair needs two mono files"
            )));
        }
        if left.sample_rate() != right.sample_rate() {
            return Err(Error::InvalidInput(format!(
                "{name}: the two files of a split stereo pair differ in sample rate"
            )));
        }
        Ok(Self {
            name,
            left,
            right,
            scratch: Vec::new(),
        })
    }
}

impl FrameSource for SplitStereoSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn channels(&self) -> usize {
        2
    }
    fn sample_rate(&self) -> u32 {
        self.left.sample_rate()
    }
    fn frames(&self) -> u64 {
        self.left.frames().max(self.right.frames())
    }
    fn read_window(&mut self, start_frame: i64, out: &mut [f32]) -> Result<()> {
        let n = out.len() / 2;
        self.scratch.resize(n, 0.0);
        self.left.read_window(start_frame, &mut self.scratch)?;
        for (o, &s) in out.chunks_exact_mut(2).zip(&self.scratch) {
            o[0] = s;
        }
        self.right.read_window(start_frame, &mut self.scratch)?;
        for (o, &s) in out.chunks_exact_mut(2).zip(&self.scratch) {
            o[1] = s;
        }
        Ok(())
    }
    fn reopen(&self) -> Result<Box<dyn FrameSource>> {
        Ok(Box::new(Self::new(
            self.name.clone(),
            self.left.reopen()?,
            self.right.reopen()?,
        )?))
    }
}

/// Sum of the channels of an interleaved buffer (a mono downmix without scaling: scaling does
/// not move a correlation peak).
pub fn downmix(interleaved: &[f32], channels: usize, out: &mut [f32]) {
    if channels == 1 {
        out.copy_from_slice(&interleaved[..out.len()]);
        return;
    }
    for (o, frame) in out.iter_mut().zip(interleaved.chunks_exact(channels)) {
        *o = frame.iter().sum();
    }
}

/// Reads a window and downmixes it to mono into `out` (`out.len()` frames).
///
/// # Errors
/// When the source cannot be read.
pub fn read_mono(
    src: &mut dyn FrameSource,
    start_frame: i64,
    scratch: &mut Vec<f32>,
    out: &mut [f32],
) -> Result<()> {
    let ch = src.channels();
    scratch.resize(out.len() * ch, 0.0);
    src.read_window(start_frame, scratch)?;
    downmix(scratch, ch, out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_source_reads_zeros_outside() {
        let mut m = MemorySource::new("m", 2, 48_000, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let mut out = [9.0f32; 8];
        m.read_window(-1, &mut out).unwrap();
        assert_eq!(out, [0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 0.0]);
        m.read_window(5, &mut out).unwrap();
        assert_eq!(out, [0.0; 8]);
        assert!(MemorySource::new("x", 2, 48_000, vec![1.0; 3]).is_err());
    }
}
