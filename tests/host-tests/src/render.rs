//! Drives an activated CLAP processor through a bounce the way DAWs do: a transport that only
//! carries a timeline in seconds and beats (CLAP has no sample position, so the plugin has to
//! derive it), block sizes that change from call to call, silent blocks with the transport
//! stopped around the bounce, and optionally paced to a multiple of real time.

use std::time::{Duration, Instant};

use clack_host::events::event_types::{TransportEvent, TransportFlags};
use clack_host::prelude::*;
use clack_host::utils::{BeatTime, SecondsTime};

use crate::clap_host::{Host, mark_audio_thread};
use crate::error::{Error, Result};
use crate::signals::Planar;

/// How the host cuts the bounce into `process()` calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockSizes {
    /// Every call the same size (a real-time audio callback).
    Fixed(u32),
    /// Sizes from 1 to `max` that change every call, drawn from a seeded sequence mixing odd
    /// sizes (1, 7, 441...) with large ones; like REAPER cutting blocks at automation and item
    /// edges during a render.
    Varying { seed: u64, max: u32 },
}

impl BlockSizes {
    /// The largest block this plan produces (the `max_frames_count` to activate with).
    pub fn max(&self) -> u32 {
        match *self {
            Self::Fixed(n) => n,
            Self::Varying { max, .. } => max,
        }
    }

    /// The sizes of successive calls covering `frames` frames.
    pub fn split(&self, frames: usize) -> Vec<u32> {
        let mut out = Vec::new();
        let mut left = frames;
        let mut state = match *self {
            Self::Varying { seed, .. } => seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            Self::Fixed(_) => 1,
        };
        const ODD: [u32; 10] = [1, 2, 7, 64, 100, 441, 512, 1000, 1024, 4096];
        while left > 0 {
            let size = match *self {
                Self::Fixed(n) => n,
                Self::Varying { max, .. } => {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let pick = (state >> 33) as u32;
                    if pick.is_multiple_of(3) {
                        ODD[(pick / 3) as usize % ODD.len()].min(max)
                    } else {
                        1 + pick % max
                    }
                }
            };
            let size = (size as usize).min(left).max(1);
            out.push(size as u32);
            left -= size;
        }
        out
    }
}

/// One bounce as the host plays it.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderPlan {
    pub sample_rate: u32,
    /// Timeline position of the first frame, in samples (0 = project start).
    pub start_samples: i64,
    pub blocks: BlockSizes,
    /// `Some(x)`: pace the calls so audio runs at x times real time; `None`: as fast as possible.
    pub speed: Option<f64>,
    /// Silent calls with the transport stopped before the bounce starts (hosts process while
    /// stopped too).
    pub stopped_blocks_before: usize,
    /// Silent calls with the transport stopped (playhead back at the start) after the bounce.
    pub stopped_blocks_after: usize,
    pub tempo_bpm: f64,
    /// Where the host writes the rendered track as a 32-bit float WAV while it renders, as a
    /// DAW's stem export does (`None`: the output is only kept in memory).
    pub export: Option<std::path::PathBuf>,
}

impl RenderPlan {
    /// An offline render as REAPER runs one: from the project start, the transport playing from
    /// the first call to the last, block sizes varying every call.
    pub fn bounce(sample_rate: u32, seed: u64) -> Self {
        Self {
            sample_rate,
            start_samples: 0,
            blocks: BlockSizes::Varying { seed, max: 8192 },
            speed: None,
            stopped_blocks_before: 0,
            stopped_blocks_after: 0,
            tempo_bpm: 120.0,
            export: None,
        }
    }

    /// This plan with the host exporting the rendered track to `path` (see [`Self::export`]).
    pub fn exporting_to(self, path: std::path::PathBuf) -> Self {
        Self {
            export: Some(path),
            ..self
        }
    }

    /// Playback in real-time mode at `speed` times real time with fixed callbacks, and the
    /// silent stopped-transport calls a real-time host makes before and after (Ardour does).
    pub fn realtime(sample_rate: u32, speed: f64) -> Self {
        Self {
            blocks: BlockSizes::Fixed(512),
            speed: Some(speed),
            stopped_blocks_before: 4,
            stopped_blocks_after: 8,
            ..Self::bounce(sample_rate, 0)
        }
    }
}

/// What the plugin put out and how the call went.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The plugin's output during the bounce (transport playing), planar.
    pub output: Planar,
    /// Number of `process()` calls while playing.
    pub calls: usize,
    pub wall_time: Duration,
}

/// The transport a host reports at timeline sample `pos`.
pub fn transport_at(pos: i64, sample_rate: u32, tempo_bpm: f64, playing: bool) -> TransportEvent {
    // Exact rounding of pos / rate into CLAP's 31-bit fixed point, like a host keeping a sample
    // counter and converting it for every block.
    let factor = i128::from(SecondsTime::FACTOR);
    let rate = i128::from(sample_rate);
    let secs_bits = (i128::from(pos) * factor * 2 + rate).div_euclid(2 * rate);
    let seconds = pos as f64 / f64::from(sample_rate);
    let beats = seconds * tempo_bpm / 60.0;
    let bar = (beats / 4.0).floor();
    let mut flags = TransportFlags::HAS_TEMPO
        | TransportFlags::HAS_BEATS_TIMELINE
        | TransportFlags::HAS_SECONDS_TIMELINE
        | TransportFlags::HAS_TIME_SIGNATURE;
    if playing {
        flags |= TransportFlags::IS_PLAYING;
    }
    TransportEvent {
        header: EventHeader::new_core(0, clack_host::events::EventFlags::empty()),
        flags,
        song_pos_beats: BeatTime::from_float(beats),
        song_pos_seconds: SecondsTime::from_bits(secs_bits as i64),
        tempo: tempo_bpm,
        tempo_inc: 0.0,
        loop_start_beats: BeatTime::from_int(0),
        loop_end_beats: BeatTime::from_int(0),
        loop_start_seconds: SecondsTime::from_int(0),
        loop_end_seconds: SecondsTime::from_int(0),
        bar_start: BeatTime::from_float(bar * 4.0),
        bar_number: bar as i32,
        time_signature_numerator: 4,
        time_signature_denominator: 4,
    }
}

/// Plays `input` through `processor` following `plan`, on the calling thread (the caller puts
/// each instance on its own thread, as DAWs do). Returns the processor, stopped, for
/// deactivation on the main thread.
///
/// # Errors
/// When the plugin fails to start processing or a `process()` call returns an error.
pub fn render(
    processor: StoppedPluginAudioProcessor<Host>,
    input: &Planar,
    plan: &RenderPlan,
) -> Result<(StoppedPluginAudioProcessor<Host>, Rendered)> {
    mark_audio_thread();
    let fail = |step: &'static str, reason: String| Error::ClapPlugin {
        path: "processor".into(),
        step,
        reason,
    };
    let channels = input.len();
    let frames = input.first().map_or(0, Vec::len);
    let max = plan.blocks.max() as usize;
    let mut processor = processor
        .start_processing()
        .map_err(|e| fail("start_processing", format!("{e:?}")))?;

    let mut in_bufs = vec![vec![0.0f32; max]; channels];
    let mut out_bufs = vec![vec![0.0f32; max]; channels];
    let mut in_ports = AudioPorts::with_capacity(channels, 1);
    let mut out_ports = AudioPorts::with_capacity(channels, 1);
    let events = EventBuffer::new();
    let mut out_events = EventBuffer::new();
    let mut output: Planar = vec![Vec::with_capacity(frames); channels];
    let mut steady: u64 = 0;

    let mut call = |processor: &mut StartedPluginAudioProcessor<Host>,
                    in_bufs: &mut [Vec<f32>],
                    out_bufs: &mut [Vec<f32>],
                    n: usize,
                    transport: &TransportEvent,
                    steady: &mut u64|
     -> Result<()> {
        let inputs = in_ports.with_input_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only(
                in_bufs
                    .iter_mut()
                    .map(|b| InputChannel::variable(&mut b[..n])),
            ),
        }]);
        let mut outputs = out_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only(
                out_bufs.iter_mut().map(|b| &mut b[..n]),
            ),
        }]);
        out_events.clear();
        processor
            .process(
                &inputs,
                &mut outputs,
                &InputEvents::from_buffer(&events),
                &mut OutputEvents::from_buffer(&mut out_events),
                Some(*steady),
                Some(transport),
            )
            .map_err(|e| fail("process", e.to_string()))?;
        *steady += n as u64;
        Ok(())
    };

    let idle = BlockSizes::Fixed(512.min(max as u32)).max() as usize;
    for b in &mut in_bufs {
        b.fill(0.0);
    }
    let stopped = transport_at(plan.start_samples, plan.sample_rate, plan.tempo_bpm, false);
    for _ in 0..plan.stopped_blocks_before {
        call(
            &mut processor,
            &mut in_bufs,
            &mut out_bufs,
            idle,
            &stopped,
            &mut steady,
        )?;
    }

    let started = Instant::now();
    let mut export = Export::create(plan.export.as_deref(), channels, plan.sample_rate, max)?;
    let mut done = 0usize;
    let sizes = plan.blocks.split(frames);
    for &n in &sizes {
        let n = n as usize;
        for (b, src) in in_bufs.iter_mut().zip(input) {
            b[..n].copy_from_slice(&src[done..done + n]);
        }
        let t = transport_at(
            plan.start_samples + done as i64,
            plan.sample_rate,
            plan.tempo_bpm,
            true,
        );
        call(
            &mut processor,
            &mut in_bufs,
            &mut out_bufs,
            n,
            &t,
            &mut steady,
        )?;
        for (o, b) in output.iter_mut().zip(&out_bufs) {
            o.extend_from_slice(&b[..n]);
        }
        if let Some(e) = export.as_mut() {
            e.write(&out_bufs, n)?;
        }
        done += n;
        if let Some(speed) = plan.speed {
            let due = Duration::from_secs_f64(done as f64 / f64::from(plan.sample_rate) / speed);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
    if let Some(e) = export {
        e.finish()?;
    }
    let wall_time = started.elapsed();

    for b in &mut in_bufs {
        b.fill(0.0);
    }
    for _ in 0..plan.stopped_blocks_after {
        call(
            &mut processor,
            &mut in_bufs,
            &mut out_bufs,
            idle,
            &stopped,
            &mut steady,
        )?;
    }
    Ok((
        processor.stop_processing(),
        Rendered {
            output,
            calls: sizes.len(),
            wall_time,
        },
    ))
}

/// The host's own export of a rendered track: interleaves each block and appends it to a float
/// WAV on the render thread, like a DAW writing its stem files during an offline render.
struct Export {
    path: std::path::PathBuf,
    wav: stemcheck_plugin::capture::wav::FloatWavWriter,
    interleaved: Vec<f32>,
}

impl Export {
    fn create(
        path: Option<&std::path::Path>,
        channels: usize,
        sample_rate: u32,
        max_frames: usize,
    ) -> Result<Option<Self>> {
        let Some(path) = path else { return Ok(None) };
        let channel_count = u16::try_from(channels).unwrap_or(u16::MAX);
        let wav = stemcheck_plugin::capture::wav::FloatWavWriter::create(
            path,
            channel_count,
            sample_rate,
        )
        .map_err(|e| Error::io(path, e))?;
        Ok(Some(Self {
            path: path.to_owned(),
            wav,
            interleaved: vec![0.0; max_frames * channels],
        }))
    }

    fn write(&mut self, planar: &[Vec<f32>], frames: usize) -> Result<()> {
        let channels = planar.len();
        let out = &mut self.interleaved[..frames * channels];
        for (c, ch) in planar.iter().enumerate() {
            for (o, &x) in out[c..].iter_mut().step_by(channels).zip(&ch[..frames]) {
                *o = x;
            }
        }
        self.wav
            .write_samples(out)
            .map_err(|e| Error::io(&self.path, std::io::Error::other(e)))
    }

    fn finish(mut self) -> Result<()> {
        self.wav.finish().map_err(|e| Error::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_export_writes_every_block_interleaved_bit_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.wav");
        let planar: Vec<Vec<f32>> = (0..2)
            .map(|c| (0..1000).map(|i| (i * 2 + c) as f32 * 1e-3 - 0.5).collect())
            .collect();
        let mut e = Export::create(Some(&path), 2, 48_000, 512)
            .unwrap()
            .unwrap();
        let mut done = 0;
        for n in (BlockSizes::Varying { seed: 9, max: 512 }).split(1000) {
            let n = n as usize;
            let block: Vec<Vec<f32>> = planar
                .iter()
                .map(|ch| ch[done..done + n].to_vec())
                .collect();
            let mut padded = block.clone();
            for ch in &mut padded {
                ch.resize(512, f32::NAN);
            }
            e.write(&padded, n).unwrap();
            done += n;
        }
        e.finish().unwrap();
        assert!(Export::create(None, 2, 48_000, 512).unwrap().is_none());
        let back = crate::captures::read_wav(&path).unwrap();
        assert_eq!(back, planar);
    }

    #[test]
    fn varying_blocks_cover_exactly_and_vary() {
        let b = BlockSizes::Varying { seed: 3, max: 8192 };
        let sizes = b.split(100_000);
        assert_eq!(sizes.iter().map(|&s| s as usize).sum::<usize>(), 100_000);
        assert!(sizes.iter().all(|&s| (1..=8192).contains(&s)));
        assert!(sizes.windows(2).filter(|w| w[0] != w[1]).count() > sizes.len() / 2);
        assert!(sizes.contains(&1), "odd tiny blocks are part of the mix");
    }

    #[test]
    fn transport_seconds_round_trip_to_the_sample() {
        for pos in [0i64, 1, 47_999, 48_000, 1_234_567, -1776] {
            let t = transport_at(pos, 48_000, 120.0, true);
            let back = (t.song_pos_seconds.to_float() * 48_000.0).round() as i64;
            assert_eq!(back, pos);
            let beats = t.song_pos_beats.to_float();
            assert!((beats - pos as f64 / 24_000.0).abs() < 1e-6);
        }
    }
}
