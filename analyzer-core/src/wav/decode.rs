//! AIFF, AIFF-C and FLAC through `symphonia`, behind the same [`WavFile`](super::WavFile) /
//! [`WavReader`](super::WavReader) API as WAV, so metering, reconciliation and their threads
//! read every format alike.
//!
//! Why WAV keeps its hand-written path: a check reads every file at least twice, and a WAV
//! block is one positional read plus one conversion loop. A decoder goes through a demuxer,
//! per-packet buffers and planar-to-interleaved copies; FLAC also has to be decompressed.
//! `BENCHMARKS.md` has the measured ratio. AIFF and FLAC are rarer in deliveries and their
//! decoding is exactly what a well-kept crate does better than we would.
//!
//! Each reader opens the file again and owns its own demuxer and decoder (lazily, on its first
//! read), so readers on different threads stay independent. Memory is one decoded packet per
//! reader (FLAC blocks are at most 65535 frames), never proportional to the file; nothing is
//! sized by a header field here (the packet buffer grows to what the decoder produced).
//!
//! Seeking is exact: the demuxer seeks to a packet at or before the frame asked for and the
//! reader decodes forward, dropping frames before it. Short forward jumps (under
//! [`FORWARD_DECODE_FRAMES`]) are decoded through instead of seeking.
//!
//! Length: AIFF's `COMM` chunk and FLAC's STREAMINFO declare the frame count. A FLAC stream
//! may leave it unknown (0, written by streaming encoders); [`open`] then counts the frames
//! once by walking the packets (the demuxer reads frame headers only, nothing is decoded), so
//! [`WavInfo::frames`] is always the true length. A declared length the file's size cannot
//! hold is refused when the file is opened; audio that still ends before the declared count
//! (a truncated copy) is an [`Error::Decode`] naming the file when a reader reaches that
//! point, as is every mid-file decode error (a FLAC frame whose CRC fails): a decoded file is
//! never silently shortened or patched. (WAV, whose data is its samples, is read to where a
//! truncated file ends instead; a decoder cannot tell a cut stream from a corrupt one.)
//!
//! NaN and infinite float samples (AIFF-C `fl32`/`fl64`) are read as 0.0 and counted, as on
//! the WAV path.

use std::fs::File;
use std::path::Path;

use symphonia::core::codecs::CodecParameters;
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::units::Timestamp;
use symphonia::default::codecs::{FlacDecoder, PcmDecoder};
use symphonia::default::formats::{AiffReader, FlacReader};

use super::NonFiniteRead;
use super::info::{MAX_CHANNELS, WavInfo};
use crate::error::{Error, Result};
use crate::report::{Container, SampleFormat};

/// A forward jump shorter than this is decoded through rather than sought: a FLAC seek is a
/// binary search over the file, decoding one second is cheaper.
const FORWARD_DECODE_FRAMES: u64 = 1 << 16;

/// Most samples (all channels) one decoded packet may hold. FLAC blocks are at most 65535
/// frames; symphonia's PCM packets are far smaller. A packet beyond this is refused rather
/// than buffered.
const MAX_PACKET_SAMPLES: usize = 1 << 22;

/// Most frames a FLAC file can hold per byte: a block of 65535 frames of constant subframes
/// still takes about 10 bytes (frame header, one constant per channel, CRC).
const MAX_FLAC_FRAMES_PER_BYTE: u64 = 8192;

/// Which decoder a file needs; sniffed from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `FORM....AIFF` or `FORM....AIFC`.
    Aiff,
    /// `fLaC`.
    Flac,
}

impl Kind {
    /// The decoder a file starting with `head` needs, `None` for anything else (WAV).
    pub(crate) fn sniff(head: &[u8]) -> Option<Self> {
        if head.len() >= 12 && &head[..4] == b"FORM" && matches!(&head[8..12], b"AIFF" | b"AIFC") {
            Some(Kind::Aiff)
        } else if head.starts_with(b"fLaC") {
            Some(Kind::Flac)
        } else {
            None
        }
    }
}

/// An opened AIFF/AIFF-C/FLAC file: what its readers share.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) kind: Kind,
    pub(crate) info: WavInfo,
}

/// The name used in errors for the file's container.
fn format_name(container: Container) -> &'static str {
    match container {
        Container::Aifc => "AIFF-C",
        Container::Flac => "FLAC",
        _ => "AIFF",
    }
}

fn decode_err(path: &Path, container: Container, problem: impl Into<String>) -> Error {
    Error::Decode {
        path: path.to_owned(),
        format: format_name(container),
        problem: problem.into(),
    }
}

/// Turns a symphonia error into ours: I/O stays [`Error::Io`], the rest names the file.
fn from_sym(path: &Path, container: Container, e: SymError) -> Error {
    match e {
        SymError::IoError(source) if source.kind() != std::io::ErrorKind::UnexpectedEof => {
            Error::Io {
                path: path.to_owned(),
                source,
            }
        }
        SymError::IoError(_) => decode_err(
            path,
            container,
            "the file ends before its header and chunks say it does (truncated file?)",
        ),
        other => decode_err(path, container, other.to_string()),
    }
}

/// Refuses an AIFF whose `COMM` chunk claims more than [`MAX_CHANNELS`] channels before
/// symphonia parses it: symphonia-format-riff 0.6.1 multiplies the channel count by the sample
/// bytes in a `u16` and panics on overflow (48130 channels of 24 bits; found by the
/// decoded_reader fuzzer). Reads at most the first 64 KiB; a `COMM` not found there is left to
/// symphonia.
fn check_aiff_channels(path: &Path) -> Result<()> {
    use std::io::Read;
    let mut head = Vec::new();
    File::open(path)
        .and_then(|f| f.take(1 << 16).read_to_end(&mut head))
        .map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
    let mut at = 12usize;
    while at + 8 <= head.len() {
        let size = u32::from_be_bytes([head[at + 4], head[at + 5], head[at + 6], head[at + 7]]);
        if &head[at..at + 4] == b"COMM" {
            if at + 10 <= head.len() {
                let channels = u16::from_be_bytes([head[at + 8], head[at + 9]]);
                if channels > MAX_CHANNELS {
                    return Err(Error::Unsupported {
                        path: path.to_owned(),
                        encoding: crate::error::UnsupportedEncoding::TooManyChannels {
                            channels,
                            max: MAX_CHANNELS,
                        },
                    });
                }
            }
            return Ok(());
        }
        let padded = usize::try_from(size)
            .unwrap_or(usize::MAX)
            .saturating_add(size as usize & 1);
        at = at.saturating_add(8).saturating_add(padded);
    }
    Ok(())
}

/// One demuxer + decoder over the file.
struct Stream {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
}

/// Opens the demuxer and decoder; returns them with the track's codec parameters and its
/// declared frame count.
fn open_stream(
    path: &Path,
    kind: Kind,
    container: Container,
) -> Result<(Stream, AudioCodecParameters, Option<u64>)> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let mss = MediaSourceStream::new(Box::new(file), MediaSourceStreamOptions::default());
    let sym = |e| from_sym(path, container, e);
    if kind == Kind::Aiff {
        check_aiff_channels(path)?;
    }
    let format: Box<dyn FormatReader> = match kind {
        Kind::Aiff => Box::new(AiffReader::try_new(mss, FormatOptions::default()).map_err(sym)?),
        Kind::Flac => Box::new(FlacReader::try_new(mss, FormatOptions::default()).map_err(sym)?),
    };
    let Some(track) = format.tracks().first() else {
        return Err(decode_err(path, container, "no audio track"));
    };
    let Some(CodecParameters::Audio(params)) = track.codec_params.clone() else {
        return Err(decode_err(path, container, "no audio codec parameters"));
    };
    let (track_id, declared) = (track.id, track.num_frames);
    // Before the decoder exists: it sizes its packet buffer by the channel count (an AIFF
    // claiming 48641 channels had it allocate 300 MB; found by the decoded_reader fuzzer).
    let channels = params.channels.as_ref().map_or(0, |c| c.count());
    if channels > usize::from(MAX_CHANNELS) {
        return Err(Error::Unsupported {
            path: path.to_owned(),
            encoding: crate::error::UnsupportedEncoding::TooManyChannels {
                channels: u16::try_from(channels).unwrap_or(u16::MAX),
                max: MAX_CHANNELS,
            },
        });
    }
    let opts = AudioDecoderOptions::default();
    let decoder: Box<dyn AudioDecoder> = match kind {
        Kind::Aiff => Box::new(PcmDecoder::try_new(&params, &opts).map_err(sym)?),
        Kind::Flac => Box::new(FlacDecoder::try_new(&params, &opts).map_err(sym)?),
    };
    Ok((
        Stream {
            format,
            decoder,
            track_id,
        },
        params,
        declared,
    ))
}

/// Opens `path` (already sniffed as `kind`) and fills its [`WavInfo`].
///
/// # Errors
/// [`Error::Io`] when it cannot be read, [`Error::Decode`] when the decoder refuses its header
/// or the header declares no audio, [`Error::Unsupported`] for too many channels.
pub(crate) fn open(path: &Path, kind: Kind, head: &[u8]) -> Result<Decoded> {
    let container = match kind {
        Kind::Flac => Container::Flac,
        Kind::Aiff if head.get(8..12) == Some(b"AIFC") => Container::Aifc,
        Kind::Aiff => Container::Aiff,
    };
    let (mut stream, params, declared) = open_stream(path, kind, container)?;
    let bad = |problem: &str| decode_err(path, container, problem);
    let sample_rate = params
        .sample_rate
        .filter(|&r| r > 0)
        .ok_or_else(|| bad("no sample rate"))?;
    let channels = params
        .channels
        .as_ref()
        .map(|c| c.count())
        .filter(|&c| c > 0)
        .ok_or_else(|| bad("no channels"))?;
    let channels = u16::try_from(channels)
        .ok()
        .filter(|&c| c <= MAX_CHANNELS)
        .ok_or_else(|| Error::Unsupported {
            path: path.to_owned(),
            encoding: crate::error::UnsupportedEncoding::TooManyChannels {
                channels: u16::try_from(channels).unwrap_or(u16::MAX),
                max: MAX_CHANNELS,
            },
        })?;
    use symphonia::core::audio::sample::SampleFormat as Sym;
    let sample_format = match params.sample_format {
        Some(Sym::F32 | Sym::F64) => SampleFormat::Float,
        _ => SampleFormat::Int,
    };
    // Float PCM (AIFF-C `fl32`/`fl64`) comes without a bit count or sample format: its codec
    // says both.
    use symphonia::core::codecs::audio::well_known as codec;
    let format_bits = match params.codec {
        codec::CODEC_ID_PCM_F64BE | codec::CODEC_ID_PCM_F64LE => Some(64),
        codec::CODEC_ID_PCM_F32BE | codec::CODEC_ID_PCM_F32LE => Some(32),
        _ => None,
    };
    let sample_format = if format_bits.is_some() {
        SampleFormat::Float
    } else {
        sample_format
    };
    let bits_per_sample = params
        .bits_per_coded_sample
        .or(params.bits_per_sample)
        .or(format_bits)
        .and_then(|b| u16::try_from(b).ok())
        .filter(|&b| b > 0)
        .ok_or_else(|| bad("no bits per sample"))?;
    let frames = match declared {
        Some(n) => n,
        None => count_frames(path, container, &mut stream)?,
    };
    if frames == 0 {
        return Err(bad("holds no audio (0 frames)"));
    }
    // A length the file cannot hold is refused here rather than read until the stream runs
    // out (and never sizes anything downstream): AIFF stores every sample, so its data needs
    // frames x frame bytes (symphonia already takes the length from the sound data; this
    // keeps the bound ours); a FLAC frame of 65535 constant samples still takes ~10 bytes.
    let file_bytes = std::fs::metadata(path)
        .map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?
        .len();
    let most_frames = match kind {
        Kind::Aiff => file_bytes / (u64::from(bits_per_sample.div_ceil(8)) * u64::from(channels)),
        Kind::Flac => file_bytes.saturating_mul(MAX_FLAC_FRAMES_PER_BYTE),
    };
    if frames > most_frames {
        return Err(decode_err(
            path,
            container,
            format!(
                "its header declares {frames} frames, more than its {file_bytes} bytes can hold \
                 (truncated file?)"
            ),
        ));
    }
    Ok(Decoded {
        kind,
        info: WavInfo {
            sample_rate,
            channels,
            bits_per_sample,
            sample_format,
            frames,
            declared_frames: declared.unwrap_or(frames),
            truncated: false,
            sizes_unfinalised: false,
            container,
            time_reference_samples: None,
        },
    })
}

/// The frame count of a stream whose header leaves it unknown: the packets' durations summed
/// (frame headers only, no decoding).
fn count_frames(path: &Path, container: Container, stream: &mut Stream) -> Result<u64> {
    let mut frames = 0u64;
    while let Some(packet) = next_packet(path, container, stream)? {
        frames = frames.saturating_add(packet.dur.get());
    }
    Ok(frames)
}

/// The next packet of the track, `None` at the end of the stream (a stream cut short ends too:
/// the reader compares where it ended with the declared length).
fn next_packet(
    path: &Path,
    container: Container,
    stream: &mut Stream,
) -> Result<Option<symphonia::core::packet::Packet>> {
    loop {
        match stream.format.next_packet() {
            Ok(Some(p)) if p.track_id == stream.track_id => return Ok(Some(p)),
            Ok(Some(_)) => {}
            Ok(None) => return Ok(None),
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Ok(None);
            }
            Err(e) => return Err(from_sym(path, container, e)),
        }
    }
}

/// A reader's decoding state: its own stream and the last decoded packet.
pub(crate) struct DecodedReader {
    stream: Option<Stream>,
    /// Frame of the next packet the stream delivers, when known (after a linear read).
    next_packet_frame: Option<u64>,
    /// The last decoded packet, interleaved.
    buf: Vec<f32>,
    /// Frame of `buf`'s first frame and how many frames it holds.
    buf_start: u64,
    buf_frames: usize,
}

impl DecodedReader {
    pub(crate) fn new() -> Self {
        Self {
            stream: None,
            next_packet_frame: None,
            buf: Vec::new(),
            buf_start: 0,
            buf_frames: 0,
        }
    }

    /// Reads up to `out.len() / channels` frames from `pos` into `out`, as
    /// [`WavReader::read_frames`](super::WavReader::read_frames) does; returns the frames read.
    pub(crate) fn read(
        &mut self,
        path: &Path,
        opened: &Decoded,
        pos: u64,
        out: &mut [f32],
        non_finite: &mut NonFiniteRead,
    ) -> Result<usize> {
        let info = &opened.info;
        let ch = usize::from(info.channels);
        let want = ((out.len() / ch) as u64).min(info.frames.saturating_sub(pos)) as usize;
        let mut done = 0usize;
        while done < want {
            let at = pos + done as u64;
            if at < self.buf_start || at >= self.buf_start + self.buf_frames as u64 {
                self.fill(path, opened, at)?;
            }
            let skip = (at - self.buf_start) as usize;
            let n = (self.buf_frames - skip).min(want - done);
            let dst = &mut out[done * ch..(done + n) * ch];
            dst.copy_from_slice(&self.buf[skip * ch..(skip + n) * ch]);
            if let Some((count, first)) = super::silence_non_finite(dst) {
                non_finite.count += count;
                non_finite
                    .first_frame
                    .get_or_insert(at + (first / ch) as u64);
            }
            done += n;
        }
        Ok(done)
    }

    /// Decodes until the buffered packet holds frame `at` (`at` is below the file's frames).
    fn fill(&mut self, path: &Path, opened: &Decoded, at: u64) -> Result<()> {
        let container = opened.info.container;
        let linear = matches!(self.next_packet_frame,
            Some(next) if next <= at && at - next < FORWARD_DECODE_FRAMES);
        if !linear {
            self.position(path, opened, at)?;
        }
        let mut restarted = false;
        loop {
            let stream = self.stream.as_mut().ok_or_else(|| {
                decode_err(path, container, "decoder lost after an earlier error")
            })?;
            let Some(packet) = next_packet(path, container, stream)? else {
                self.stream = None;
                self.next_packet_frame = None;
                return Err(decode_err(
                    path,
                    container,
                    format!(
                        "the audio ends before frame {at} of the {} its header declares \
                         (truncated file?)",
                        opened.info.frames
                    ),
                ));
            };
            let start = u64::try_from(packet.pts.get()).unwrap_or(0);
            let ch = usize::from(opened.info.channels);
            let copied = match stream.decoder.decode(&packet) {
                Ok(decoded) => {
                    let frames = decoded.frames();
                    let got_ch = decoded.spec().channels().count();
                    if got_ch != ch {
                        Err(format!(
                            "a packet at frame {start} has {got_ch} channels, the header {ch}"
                        ))
                    } else if frames * ch > MAX_PACKET_SAMPLES {
                        Err(format!(
                            "a packet of {frames} frames at frame {start} is implausible"
                        ))
                    } else {
                        if self.buf.len() < frames * ch {
                            self.buf.resize(frames * ch, 0.0);
                        }
                        decoded.copy_to_slice_interleaved::<f32, _>(&mut self.buf[..frames * ch]);
                        Ok(frames)
                    }
                }
                Err(e) => Err(match from_sym(path, container, e) {
                    Error::Decode { problem, .. } => problem,
                    other => other.to_string(),
                }),
            };
            let frames = match copied {
                Ok(frames) => frames,
                Err(problem) => {
                    self.stream = None;
                    self.next_packet_frame = None;
                    self.buf_frames = 0;
                    return Err(decode_err(
                        path,
                        container,
                        format!("{problem} (in the packet at frame {start})"),
                    ));
                }
            };
            self.buf_start = start;
            self.buf_frames = frames;
            self.next_packet_frame = Some(start + frames as u64);
            if at < start {
                // The seek landed after the frame asked for (or the stream skipped frames):
                // start over from the beginning once, decoding through.
                if restarted || start == 0 {
                    self.stream = None;
                    return Err(decode_err(
                        path,
                        container,
                        format!("frame {at} cannot be reached (the stream jumps to {start})"),
                    ));
                }
                self.restart(path, opened)?;
                restarted = true;
                continue;
            }
            if at < start + frames as u64 {
                return Ok(());
            }
        }
    }

    /// Puts the stream at a packet at or before `at`: a seek, or a restart from the first
    /// frame when the format cannot seek there.
    fn position(&mut self, path: &Path, opened: &Decoded, at: u64) -> Result<()> {
        if self.stream.is_none() || at == 0 {
            return self.restart(path, opened);
        }
        let Some(stream) = self.stream.as_mut() else {
            return self.restart(path, opened);
        };
        let to = SeekTo::Timestamp {
            ts: Timestamp::new(i64::try_from(at).unwrap_or(i64::MAX)),
            track_id: stream.track_id,
        };
        match stream.format.seek(SeekMode::Accurate, to) {
            Ok(seeked) => {
                stream.decoder.reset();
                self.next_packet_frame = u64::try_from(seeked.actual_ts.get()).ok();
                self.buf_frames = 0;
                Ok(())
            }
            Err(_) => self.restart(path, opened),
        }
    }

    /// A fresh stream at frame 0.
    fn restart(&mut self, path: &Path, opened: &Decoded) -> Result<()> {
        self.stream = None;
        self.buf_frames = 0;
        let (stream, ..) = open_stream(path, opened.kind, opened.info.container)?;
        self.stream = Some(stream);
        self.next_packet_frame = Some(0);
        Ok(())
    }
}

#[cfg(test)]
mod aiff_channel_tests {
    use super::*;

    #[test]
    fn an_aiff_claiming_48130_channels_is_refused_before_symphonia_parses_it() {
        // The head of the fuzzer's crash input: FORM/AIFF, COMM with 0xbc02 channels of 24 bits.
        let mut bytes = b"FORM\0\0\x04\xdeAIFFCOMM\0\0\0\x12\xbc\x02\0\0\0\xc8\0\x18\x40\x0e\xbb\x80\0\0\0\0\0\0SSND\0\0\x04\xb8".to_vec();
        bytes.resize(1246, 0);
        let path = std::env::temp_dir().join(format!("sc-aiff-ch-{}.aiff", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let got = check_aiff_channels(&path);
        std::fs::remove_file(&path).unwrap();
        assert!(
            matches!(
                got,
                Err(Error::Unsupported {
                    encoding: crate::error::UnsupportedEncoding::TooManyChannels {
                        channels: 48130,
                        ..
                    },
                    ..
                })
            ),
            "{got:?}"
        );
    }
}
