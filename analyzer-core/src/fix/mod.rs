//! `stemcheck fix`: writes a corrected copy of a delivery from what the check found.
//!
//! The check's typed causes decide the plan ([`plan()`]): per stem, a list of [`Operation`]s
//! taken only from certain findings, or the [`Refusal`]s that stop the fix. The operations are
//! plain functions on samples ([`ops`]); reading the originals and writing the copies
//! ([`riff`]) happen here, at the edge, one file at a time.
//!
//! What the copy keeps: each file's container (RIFF/WAVE and BWF, RF64/BW64, AIFF, AIFF-C)
//! and format (bit depth, integer or float, byte order; the rate becomes the mix's when it was
//! another), its other chunks (`bext`, `iXML`, `LIST`...), with the BWF and iXML time
//! references set to the mix's ([`container`]). Shifts, inversions and swaps are done on the
//! stored sample codes and are exact at every depth; resampling goes through `f32` and is
//! written back at the original depth. FLAC is re-encoded as FLAC ([`flac`]); only a FLAC
//! wider than 24 bits is written as RIFF/WAVE at its depth, and the log says so
//! ([`Change::FormatChanged`]). Every stem is
//! brought to the mix's start and length with silence; audio is never cut (a trim that would
//! remove anything above [`ops::TRIM_SILENCE_DBFS`] stops the fix). Files that need no change
//! are copied byte for byte.

pub mod container;
mod edges;
pub mod flac;
pub mod ops;
pub mod plan;
pub mod riff;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use ops::{Audio, Edge, TRIM_SILENCE_DBFS};
pub use plan::{
    FilePlan, FixOptions, LeftAlone, Operation, Plan, Refusal, ResidualMode, ResidualPlan, plan,
};

use crate::analyze::Checked;
use crate::report::{Container, FileReport, FindingCode, Role, SampleFormat, ToolInfo};
use crate::wav::{WavFile, WavInfo};
use container::{Codec, Original};
use riff::Encoding;

/// Version of the change log's JSON layout.
pub const CHANGE_LOG_VERSION: u32 = 1;

/// Frames a resampled stem (another rate, a drifting clock) may run past the mix's end and be
/// trimmed whatever they hold: the resampler's rounding of the length and its filter's edge,
/// not audio the stem was delivered with.
pub const RESAMPLE_EDGE_FRAMES: usize = 8;

/// The exact pan law behind the report's displayed one (-3.0 is -3.0103 dB): the residual
/// stem is computed at the law the mix was made with, to the last bit where it can be.
fn exact_pan_law_db(display_db: Option<f64>) -> f64 {
    use crate::reconcile::pan_law::{CONSTANT_POWER_DB, PAN_LAWS_DB};
    display_db.map_or(CONSTANT_POWER_DB, |d| {
        PAN_LAWS_DB
            .iter()
            .copied()
            .find(|law| (crate::reconcile::pan_law::display_db(*law) - d).abs() < 1e-9)
            .unwrap_or(d)
    })
}

/// Why a fix did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixError {
    /// Findings the fix will not act on (uncertain, not correctable, or needing an option).
    #[error("{}", refusal_text(.0))]
    Refused(Vec<Refusal>),
    /// A shift or a length correction would remove audio, not silence.
    #[error(
        "{file}: correcting it would cut {frames} frames of audio (peak {peak_dbfs:.1} dBFS) at its {}; fix never cuts audio",
        if *at_start { "start" } else { "end" }
    )]
    WouldCutAudio {
        /// The file.
        file: String,
        /// Frames that would go.
        frames: u64,
        /// At its start (else its end).
        at_start: bool,
        /// Their sample peak, dBFS.
        peak_dbfs: f64,
    },
    /// The FLAC encoder refused the corrected stream.
    #[error("{file}: the corrected FLAC stream could not be encoded: {reason}")]
    FlacEncode {
        /// The file.
        file: String,
        /// What `flacenc` said.
        reason: String,
    },
    /// The corrected audio does not fit a RIFF/WAVE file.
    #[error("{file}: the corrected audio does not fit a RIFF/WAVE file (4 GiB)")]
    TooLarge {
        /// The file.
        file: String,
    },
    /// A stem's channel layout cannot be summed into the mix's for the residual stem.
    #[error(
        "{file}: {channels} channels cannot be summed into the mix's {mix_channels} for a residual stem"
    )]
    ResidualLayout {
        /// The stem.
        file: String,
        /// Its channels.
        channels: usize,
        /// The mix's.
        mix_channels: usize,
    },
    /// Reading or writing failed.
    #[error(transparent)]
    Core(#[from] crate::Error),
}

impl FixError {
    /// Whether the fix declined (a finding or a file it will not act on), as opposed to an
    /// I/O failure: the CLI's exit status 1 against 2.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, FixError::Core(_))
    }
}

fn refusal_text(refusals: &[Refusal]) -> String {
    let mut s = String::from("fix refused:");
    for r in refusals {
        let files = if r.files.is_empty() {
            String::new()
        } else {
            format!(" [{}]", r.files.join(", "))
        };
        s.push_str(&format!(
            "\n  - {}{files}: {}\n    needs: {}",
            r.code.as_str(),
            r.reason,
            r.needs
        ));
    }
    s
}

/// One change, with its numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Copied byte for byte.
    Copied,
    /// Resampled to the mix's rate.
    Resampled {
        /// From, Hz.
        from_hz: u32,
        /// To, Hz.
        to_hz: u32,
    },
    /// Clock drift removed.
    DriftCorrected {
        /// The rate error removed, ppm.
        ppm: f64,
    },
    /// Left and right exchanged.
    ChannelsSwapped,
    /// One channel's polarity inverted.
    ChannelInverted {
        /// 0 = left, 1 = right.
        channel: usize,
    },
    /// Polarity inverted.
    PolarityInverted,
    /// A DC offset taken off.
    DcRemoved {
        /// The offset per channel (mean sample value, full scale 1.0).
        offset_by_channel: Vec<f64>,
    },
    /// A gain applied.
    GainApplied {
        /// dB.
        gain_db: f64,
    },
    /// Moved to the mix's start.
    Shifted {
        /// The offset corrected, samples (positive: its content came later than the mix's).
        offset_samples: i64,
        /// Silence added at the start, frames.
        padded_start_frames: u64,
        /// Silence removed from the start, frames.
        trimmed_start_frames: u64,
    },
    /// Brought to the mix's length.
    LengthFitted {
        /// The length now, frames.
        frames: u64,
        /// Silence added at the end, frames.
        padded_end_frames: u64,
        /// Silence removed from the end, frames.
        trimmed_end_frames: u64,
    },
    /// Written in another container than the original's.
    FormatChanged {
        /// The original's container.
        from: String,
        /// The container written.
        to: String,
        /// Why.
        reason: String,
    },
    /// BWF time reference set to the mix's.
    TimeReferenceSet {
        /// Samples since midnight.
        samples: u64,
        /// What it was (`None`: no time reference).
        was_samples: Option<u64>,
    },
}

impl Change {
    /// One line for the readable log.
    pub fn text(&self) -> String {
        let frames = |n: u64| format!("{n} {}", if n == 1 { "frame" } else { "frames" });
        match self {
            Change::Copied => "copied unchanged, byte for byte".into(),
            Change::Resampled { from_hz, to_hz } => {
                format!("resampled from {from_hz} Hz to {to_hz} Hz (rubato, band-limited)")
            }
            Change::DriftCorrected { ppm } => {
                format!("clock drift of {ppm:+.1} ppm removed (rubato, windowed sinc)")
            }
            Change::ChannelsSwapped => "left and right channels swapped back".into(),
            Change::ChannelInverted { channel } => format!(
                "{} channel polarity inverted back",
                if *channel == 0 { "left" } else { "right" }
            ),
            Change::PolarityInverted => "polarity inverted back".into(),
            Change::GainApplied { gain_db } => format!("gain {gain_db:+.2} dB applied"),
            Change::DcRemoved { offset_by_channel } => format!(
                "DC offset removed ({})",
                offset_by_channel
                    .iter()
                    .map(|m| format!("{:.1} dBFS", crate::units::amp_to_db(m.abs())))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Change::Shifted {
                offset_samples,
                padded_start_frames,
                trimmed_start_frames,
            } => {
                if *padded_start_frames > 0 {
                    format!(
                        "started {} early: {} of silence added at the start",
                        frames(offset_samples.unsigned_abs()),
                        frames(*padded_start_frames)
                    )
                } else {
                    format!(
                        "started {} late: {} of leading silence removed",
                        frames(offset_samples.unsigned_abs()),
                        frames(*trimmed_start_frames)
                    )
                }
            }
            Change::LengthFitted {
                frames: n,
                padded_end_frames,
                trimmed_end_frames,
            } => {
                if *padded_end_frames > 0 {
                    format!(
                        "brought to the mix's length of {}: {} of silence added at the end",
                        frames(*n),
                        frames(*padded_end_frames)
                    )
                } else {
                    format!(
                        "brought to the mix's length of {}: {} of trailing silence removed",
                        frames(*n),
                        frames(*trimmed_end_frames)
                    )
                }
            }
            Change::FormatChanged { from, to, reason } => {
                format!("written as {to}, not {from}: {reason}")
            }
            Change::TimeReferenceSet {
                samples,
                was_samples,
            } => match was_samples {
                Some(w) => format!("BWF time reference set to the mix's {samples} (was {w})"),
                None => format!("BWF time reference set to the mix's {samples} (had none)"),
            },
        }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileChange {
    /// The file, as the report names it.
    pub file: String,
    /// The file written, in the output folder.
    pub written_as: String,
    /// Its role.
    pub role: Role,
    /// Finding codes the changes answer.
    pub because: Vec<FindingCode>,
    /// Every change, in the order made.
    pub changes: Vec<Change>,
    /// The format written ("24-bit integer, 48000 Hz, 2 channels").
    pub format: String,
    /// RIFF chunks carried over from the original besides `fmt ` and `data`.
    pub chunks_kept: Vec<String>,
    /// What was not kept, and why (empty when everything was).
    pub notes: Vec<String>,
}

/// The residual stem written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResidualChange {
    /// Its file name.
    pub written_as: String,
    /// What it stands in for.
    pub stands_in_for: Vec<FindingCode>,
    /// Its level relative to the mix, dB (`None`: silent).
    pub level_db: Option<f64>,
    /// The format written.
    pub format: String,
}

/// Everything the fix did: written beside the files as JSON and as text, and printed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeLog {
    /// [`CHANGE_LOG_VERSION`].
    pub schema_version: u32,
    /// The tool.
    pub tool: ToolInfo,
    /// The mix every stem was brought to.
    pub mix: String,
    /// Its rate, Hz.
    pub sample_rate: u32,
    /// Its length, frames.
    pub frames: u64,
    /// Its BWF time reference, when it has one.
    pub time_reference_samples: Option<u64>,
    /// One entry per file written, in the report's order.
    pub files: Vec<FileChange>,
    /// The residual stem, when one was written.
    pub residual: Option<ResidualChange>,
    /// Findings seen and left as they are, with why.
    pub left_alone: Vec<LeftAlone>,
}

impl ChangeLog {
    /// JSON, pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("change log serialises")
    }

    /// The readable change log.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "StemCheck fix: every stem brought to {} ({} Hz, {} frames)\n",
            self.mix, self.sample_rate, self.frames
        );
        for f in &self.files {
            let because = if f.because.is_empty() {
                String::new()
            } else {
                let codes: Vec<&str> = f.because.iter().map(|c| c.as_str()).collect();
                format!(" (for {})", codes.join(", "))
            };
            s.push_str(&format!("\n{} -> {}{because}\n", f.file, f.written_as));
            for c in &f.changes {
                s.push_str(&format!("  - {}\n", c.text()));
            }
            s.push_str(&format!("  format: {}", f.format));
            if !f.chunks_kept.is_empty() {
                s.push_str(&format!("; chunks kept: {}", f.chunks_kept.join(", ")));
            }
            s.push('\n');
            for n in &f.notes {
                s.push_str(&format!("  note: {n}\n"));
            }
        }
        if let Some(r) = &self.residual {
            let codes: Vec<&str> = r.stands_in_for.iter().map(|c| c.as_str()).collect();
            let level = r
                .level_db
                .map_or_else(|| "silent".to_owned(), |l| format!("{l:.1} dB re mix"));
            s.push_str(&format!(
                "\nresidual stem {} written ({level}, {}), standing in for {}\n",
                r.written_as,
                r.format,
                codes.join(", ")
            ));
        }
        if !self.left_alone.is_empty() {
            s.push_str("\nLeft as delivered:\n");
            for l in &self.left_alone {
                let files = if l.files.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", l.files.join(", "))
                };
                s.push_str(&format!("  - {}{files}: {}\n", l.code.as_str(), l.why));
            }
        }
        s
    }
}

/// The encoding a file is written in, when its samples can be rewritten at their depth.
fn encoding_of(info: &WavInfo) -> Option<Encoding> {
    match (info.sample_format, info.bits_per_sample) {
        (SampleFormat::Float, 32) => Some(Encoding::Float32),
        (SampleFormat::Int, b @ (8 | 16 | 24)) => Some(Encoding::Int(b)),
        (SampleFormat::Int, b) if b < 24 => Some(Encoding::Int(b.div_ceil(8) * 8)),
        _ => None,
    }
}

fn format_text(e: Encoding, rate: u32, channels: usize) -> String {
    let kind = match e {
        Encoding::Float32 => "32-bit float".to_owned(),
        Encoding::Int(b) => format!("{b}-bit integer"),
    };
    format!("{kind}, {rate} Hz, {channels} channels")
}

fn info_format(info: &WavInfo) -> String {
    let kind = match info.sample_format {
        SampleFormat::Float => format!("{}-bit float", info.bits_per_sample),
        SampleFormat::Int => format!("{}-bit integer", info.bits_per_sample),
    };
    format!(
        "{kind}, {} Hz, {} channels",
        info.sample_rate, info.channels
    )
}

/// Reads a whole file as [`Audio`].
fn read_audio(file: &WavFile) -> Result<Audio, FixError> {
    let info = file.info();
    let ch = usize::from(info.channels);
    let mut samples = vec![0.0f32; info.frames as usize * ch];
    let mut reader = file.reader();
    let mut done = 0;
    while done < samples.len() {
        let got = reader.read_frames(&mut samples[done..])?;
        if got == 0 {
            break;
        }
        done += got * ch;
    }
    samples.truncate(done);
    Ok(Audio {
        channels: ch,
        sample_rate: info.sample_rate,
        samples,
    })
}

/// The output name of a file: its own name (`keep`), or as `.wav` when it is written as WAV.
fn out_name(path: &Path, keep: bool) -> String {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    if keep {
        name
    } else {
        Path::new(&name)
            .with_extension("wav")
            .to_string_lossy()
            .into_owned()
    }
}

/// Running sum of the corrected stems at the mix's layout, for the residual stem.
struct StemSum {
    channels: usize,
    pan_gain: f64,
    sum: Vec<f64>,
}

impl StemSum {
    fn add(&mut self, a: &Audio, file: &str) -> Result<(), FixError> {
        let mc = self.channels;
        let gain = match a.channels {
            c if c == mc => 1.0,
            1 => self.pan_gain,
            c => {
                return Err(FixError::ResidualLayout {
                    file: file.to_owned(),
                    channels: c,
                    mix_channels: mc,
                });
            }
        };
        for (k, frame) in a.samples.chunks_exact(a.channels).enumerate() {
            let Some(out) = self.sum.get_mut(k * mc..(k + 1) * mc) else {
                break;
            };
            for (c, o) in out.iter_mut().enumerate() {
                *o += gain * f64::from(frame[c.min(a.channels - 1)]);
            }
        }
        Ok(())
    }
}

/// Runs the fix: plans from `checked`, writes the corrected files into `out_dir` (which must
/// exist and should be empty), and returns the change log (not yet written).
///
/// # Errors
/// [`FixError::Refused`] with every reason when the plan refuses; the other [`FixError`]s
/// when a file cannot be corrected safely or cannot be read or written. Files already written
/// to `out_dir` stay there: the caller writes into a folder of its own and discards it.
pub fn fix_delivery(
    checked: &Checked,
    out_dir: &Path,
    opts: FixOptions,
) -> Result<ChangeLog, FixError> {
    let report = &checked.report;
    let plan = plan::plan(&checked.causes, &report.files, opts).map_err(FixError::Refused)?;
    let mix_i = report
        .files
        .iter()
        .position(|f| f.path == plan.mix)
        .unwrap_or(0);
    let mix_file = WavFile::open(&checked.inputs[mix_i].path)?;
    let mix_channels = usize::from(mix_file.info().channels);
    let mix_frames = plan.mix_frames as usize;
    let mut sum = plan.residual.as_ref().map(|_| StemSum {
        channels: mix_channels,
        pan_gain: 10f64.powf(
            exact_pan_law_db(report.reconciliation.as_ref().and_then(|r| r.pan_law_db)) / 20.0,
        ),
        sum: vec![0.0; mix_frames * mix_channels],
    });
    let mut files = Vec::new();
    for ((fp, fr), input) in plan.files.iter().zip(&report.files).zip(&checked.inputs) {
        files.push(fix_file(&plan, fp, fr, &input.path, out_dir, sum.as_mut())?);
    }
    let residual = match (&plan.residual, sum) {
        (Some(rp), Some(sum)) => Some(write_residual(
            rp,
            &mix_file,
            &checked.inputs[mix_i].path,
            &sum,
            out_dir,
        )?),
        _ => None,
    };
    Ok(ChangeLog {
        schema_version: CHANGE_LOG_VERSION,
        tool: ToolInfo::default(),
        mix: plan.mix.clone(),
        sample_rate: plan.mix_sample_rate,
        frames: plan.mix_frames,
        time_reference_samples: plan.mix_time_reference_samples,
        files,
        residual,
        left_alone: plan.left_alone.clone(),
    })
}

/// Whether an operation moves, negates or exchanges whole samples and nothing else: done on
/// the stored codes, it is exact at every depth.
fn is_sample_exact(op: &Operation) -> bool {
    matches!(
        op,
        Operation::Shift { .. }
            | Operation::InvertPolarity
            | Operation::InvertChannel { .. }
            | Operation::SwapChannels
    )
}

/// Corrects and writes one file (see [`fix_delivery`]).
fn fix_file(
    plan: &Plan,
    fp: &FilePlan,
    fr: &FileReport,
    path: &Path,
    out_dir: &Path,
    sum: Option<&mut StemSum>,
) -> Result<FileChange, FixError> {
    let file = WavFile::open(path)?;
    let info = file.info().clone();
    let original = container::read_original(path)?;
    // Every container keeps its name; only a file written as WAV instead (below) is renamed.
    let written_as = out_name(path, true);
    let mut out_path: PathBuf = out_dir.join(&written_as);
    let mut change = FileChange {
        file: fp.file.clone(),
        written_as: written_as.clone(),
        role: fp.role,
        because: fp.because.clone(),
        changes: Vec::new(),
        format: info_format(&info),
        chunks_kept: Vec::new(),
        notes: Vec::new(),
    };
    if fp.role != Role::Stem {
        std::fs::copy(path, &out_path).map_err(|e| io(&out_path, e))?;
        change.changes.push(Change::Copied);
        return Ok(change);
    }
    let needs_samples = !fp.operations.is_empty()
        || info.frames != plan.mix_frames
        || fr.non_finite_samples.unwrap_or(0) > 0;
    let time_ref = plan
        .mix_time_reference_samples
        .filter(|&t| info.time_reference_samples != Some(t));
    let rate = plan.mix_sample_rate;
    if !needs_samples {
        if let Some(sum) = sum {
            sum.add(&read_audio(&file)?, &fp.file)?;
        }
        let stamped = match (&original, time_ref) {
            (Some(orig), Some(t)) => orig.stamped_chunks(t, rate).map(|c| (orig, c, t)),
            _ => None,
        };
        if let Some((orig, chunks, t)) = stamped {
            let (offset, len) = orig.data;
            let frame = (orig.codec.bytes * orig.channels) as u64;
            let len = len.min(info.frames * frame);
            container::write(&out_path, orig, &chunks, orig.sample_rate, len, |w| {
                riff::copy_range(path, offset, len, w)
            })?;
            change.chunks_kept = orig.kept_ids();
            change.changes.push(Change::TimeReferenceSet {
                samples: t,
                was_samples: info.time_reference_samples,
            });
        } else {
            std::fs::copy(path, &out_path).map_err(|e| io(&out_path, e))?;
            change.changes.push(Change::Copied);
            if time_ref.is_some() {
                change.notes.push(format!(
                    "time reference not set: {:?} has no bext or iXML chunk to hold it, and the \
                     file needs no other change",
                    info.container
                ));
            }
        }
        return Ok(change);
    }
    let flac_blocks = match &original {
        None if info.container == Container::Flac
            && info.sample_format == SampleFormat::Int
            && info.bits_per_sample <= flac::MAX_BITS =>
        {
            flac::read_blocks(path)?
        }
        _ => None,
    };
    if let Some(blocks) = flac_blocks {
        let audio = corrected_audio(plan, fp, fr, &file, &mut change)?;
        if let Some(sum) = sum {
            sum.add(&audio, &fp.file)?;
        }
        let bits = info.bits_per_sample.div_ceil(8) * 8;
        let bytes = flac::encode(
            &audio.samples,
            audio.channels,
            bits,
            audio.sample_rate,
            &blocks,
            &fp.file,
        )?;
        std::fs::write(&out_path, bytes).map_err(|e| io(&out_path, e))?;
        if time_ref.is_some() {
            change.notes.push(
                "time reference not set: FLAC has no bext chunk (its Vorbis comments are kept \
                 as they were)"
                    .into(),
            );
        }
        change.chunks_kept = blocks.iter().map(|b| flac_block_name(b.kind)).collect();
        change.format = format!(
            "{bits}-bit integer FLAC, {} Hz, {} channels",
            audio.sample_rate, audio.channels
        );
        return Ok(change);
    }
    let exact = original.is_some() && fp.operations.iter().all(is_sample_exact);
    let (target, data) = match &original {
        Some(orig) if exact => {
            let mut pcm = container::Pcm::read(path, orig, info.frames)?;
            let zeroed = pcm.zero_non_finite();
            apply_exact(&mut pcm, fp, &mut change, &fp.file)?;
            let edge = pcm.fit_length(plan.mix_frames as usize, &fp.file)?;
            push_length(&mut change, plan, edge);
            if zeroed > 0 {
                change
                    .notes
                    .push("non-finite samples (NaN, infinity) written as silence".into());
            }
            if let Some(sum) = sum {
                let audio = Audio {
                    channels: pcm.channels,
                    sample_rate: orig.sample_rate,
                    samples: pcm.to_f32(),
                };
                sum.add(&audio, &fp.file)?;
            }
            (orig.clone(), pcm.bytes)
        }
        _ => {
            let target = match &original {
                Some(orig) => orig.clone(),
                None => {
                    let bytes = usize::from(info.bits_per_sample.div_ceil(8));
                    let float = info.sample_format == SampleFormat::Float;
                    let codec = Codec::wav(if float { bytes.max(4) } else { bytes }, float);
                    let target = Original::wav(codec, usize::from(info.channels), info.sample_rate);
                    change.written_as = out_name(path, false);
                    out_path = out_dir.join(&change.written_as);
                    change.changes.push(Change::FormatChanged {
                        from: format!("{:?}", info.container),
                        to: "Wav".into(),
                        reason: format!(
                            "StemCheck does not write {:?} at {} bits: the corrected samples \
                             are written as RIFF/WAVE at the same depth ({}), without the \
                             original's metadata",
                            info.container,
                            info.bits_per_sample,
                            codec.text()
                        ),
                    });
                    target
                }
            };
            let audio = corrected_audio(plan, fp, fr, &file, &mut change)?;
            if target.codec.bytes > 3 && !target.codec.float || target.codec.bytes == 8 {
                change.notes.push(format!(
                    "computed in 32-bit float and written back at {}: the depth is kept, the \
                     bits below float precision are the resampler's",
                    target.codec.text()
                ));
            }
            if let Some(sum) = sum {
                sum.add(&audio, &fp.file)?;
            }
            let bytes = target.codec.encode(&audio.samples);
            let target = Original {
                sample_rate: audio.sample_rate,
                ..target
            };
            (target, bytes)
        }
    };
    let chunks = match plan.mix_time_reference_samples {
        Some(t) => match target.stamped_chunks(t, rate) {
            Some(c) => {
                if time_ref.is_some() {
                    change.changes.push(Change::TimeReferenceSet {
                        samples: t,
                        was_samples: info.time_reference_samples,
                    });
                }
                c
            }
            None => {
                change.notes.push(
                    "time reference not set: AIFF has no bext chunk and this file no iXML".into(),
                );
                target.chunks.clone()
            }
        },
        None => target.chunks.clone(),
    };
    change.chunks_kept = target.kept_ids();
    container::write(
        &out_path,
        &target,
        &chunks,
        target.sample_rate,
        data.len() as u64,
        |w| w.write_all(&data),
    )?;
    change.format = format!(
        "{}, {} Hz, {} channels",
        target.codec.text(),
        target.sample_rate,
        target.channels
    );
    Ok(change)
}

/// A file's samples through the `f32` path: read, every operation applied, brought to the
/// mix's length (resampling, gains, and FLAC).
fn corrected_audio(
    plan: &Plan,
    fp: &FilePlan,
    fr: &FileReport,
    file: &WavFile,
    change: &mut FileChange,
) -> Result<Audio, FixError> {
    let mut audio = read_audio(file)?;
    apply(&mut audio, fp, change, &fp.file)?;
    let resampled = fp.operations.iter().any(|op| {
        matches!(
            op,
            Operation::Resample { .. } | Operation::CorrectDrift { .. }
        )
    });
    let over = audio.frames().saturating_sub(plan.mix_frames as usize);
    if resampled && over > 0 && over <= RESAMPLE_EDGE_FRAMES {
        audio
            .samples
            .truncate(plan.mix_frames as usize * audio.channels);
        change.notes.push(format!(
            "{over} frame(s) of the resampler's edge past the mix's end removed"
        ));
    }
    let edge = audio.fit_length(plan.mix_frames as usize, &fp.file)?;
    push_length(change, plan, edge);
    if fr.non_finite_samples.unwrap_or(0) > 0 {
        change
            .notes
            .push("non-finite samples (NaN, infinity) written as silence".into());
    }
    Ok(audio)
}

/// A FLAC metadata block's name, for the log.
fn flac_block_name(kind: u8) -> String {
    match kind {
        2 => "APPLICATION".into(),
        4 => "VORBIS_COMMENT".into(),
        5 => "CUESHEET".into(),
        6 => "PICTURE".into(),
        k => format!("block {k}"),
    }
}

fn push_length(change: &mut FileChange, plan: &Plan, edge: Edge) {
    if edge != Edge::default() {
        change.changes.push(Change::LengthFitted {
            frames: plan.mix_frames,
            padded_end_frames: edge.padded_frames,
            trimmed_end_frames: edge.trimmed_frames,
        });
    }
}

/// Applies a file's sample-exact operations to its stored codes, logging each.
fn apply_exact(
    pcm: &mut container::Pcm,
    fp: &FilePlan,
    change: &mut FileChange,
    file: &str,
) -> Result<(), FixError> {
    let mut at_most_negative = 0;
    for op in &fp.operations {
        match *op {
            Operation::SwapChannels => {
                pcm.swap_channels();
                change.changes.push(Change::ChannelsSwapped);
            }
            Operation::InvertChannel { channel } => {
                at_most_negative += pcm.invert(Some(channel));
                change.changes.push(Change::ChannelInverted { channel });
            }
            Operation::InvertPolarity => {
                at_most_negative += pcm.invert(None);
                change.changes.push(Change::PolarityInverted);
            }
            Operation::Shift { offset_samples } => {
                let e = pcm.shift(offset_samples, file)?;
                change.changes.push(Change::Shifted {
                    offset_samples,
                    padded_start_frames: e.padded_frames,
                    trimmed_start_frames: e.trimmed_frames,
                });
            }
            // Not sample-exact: never planned onto this path (see `is_sample_exact`).
            Operation::Resample { .. }
            | Operation::CorrectDrift { .. }
            | Operation::Gain { .. }
            | Operation::RemoveDc { .. } => {}
        }
    }
    if at_most_negative > 0 {
        change.notes.push(format!(
            "{at_most_negative} sample(s) at the most negative integer code have no inverse and \
             were written as the largest positive code, one step short"
        ));
    }
    Ok(())
}

/// Applies a file's operations in order, logging each.
fn apply(
    audio: &mut Audio,
    fp: &FilePlan,
    change: &mut FileChange,
    file: &str,
) -> Result<(), FixError> {
    let shifted = |offset_samples: i64, e: Edge| Change::Shifted {
        offset_samples,
        padded_start_frames: e.padded_frames,
        trimmed_start_frames: e.trimmed_frames,
    };
    for op in &fp.operations {
        match *op {
            Operation::Resample { from_hz, to_hz } => {
                audio.resample(to_hz, file)?;
                change.changes.push(Change::Resampled { from_hz, to_hz });
            }
            Operation::CorrectDrift {
                ppm,
                offset_start_samples,
            } => {
                audio.correct_drift(ppm, file)?;
                change.changes.push(Change::DriftCorrected { ppm });
                let offset = offset_start_samples.round() as i64;
                if offset != 0 {
                    let e = audio.shift(offset, file)?;
                    change.changes.push(shifted(offset, e));
                }
            }
            Operation::SwapChannels => {
                audio.swap_channels();
                change.changes.push(Change::ChannelsSwapped);
            }
            Operation::InvertChannel { channel } => {
                audio.invert_channel(channel);
                change.changes.push(Change::ChannelInverted { channel });
            }
            Operation::InvertPolarity => {
                audio.invert();
                change.changes.push(Change::PolarityInverted);
            }
            Operation::RemoveDc {
                ref offset_by_channel,
            } => {
                audio.remove_dc(offset_by_channel);
                change.changes.push(Change::DcRemoved {
                    offset_by_channel: offset_by_channel.clone(),
                });
            }
            Operation::Gain { gain_db } => {
                audio.gain(gain_db);
                change.changes.push(Change::GainApplied { gain_db });
            }
            Operation::Shift { offset_samples } => {
                let e = audio.shift(offset_samples, file)?;
                change.changes.push(shifted(offset_samples, e));
            }
        }
    }
    Ok(())
}

/// Writes mix minus the corrected stems' sum as one more stem, in the mix's format.
fn write_residual(
    rp: &ResidualPlan,
    mix_file: &WavFile,
    mix_path: &Path,
    sum: &StemSum,
    out_dir: &Path,
) -> Result<ResidualChange, FixError> {
    let mix = read_audio(mix_file)?;
    let info = mix_file.info();
    let encoding = encoding_of(info).unwrap_or(Encoding::Float32);
    let (mut e, mut m) = (0.0f64, 0.0f64);
    let residual: Vec<f32> = mix
        .samples
        .iter()
        .zip(&sum.sum)
        .map(|(&x, &s)| {
            let r = f64::from(x) - s;
            e += r * r;
            m += f64::from(x) * f64::from(x);
            r as f32
        })
        .collect();
    let name = residual_name(mix_path, rp.fx_return);
    let out_path = out_dir.join(&name);
    let mut others = Vec::new();
    if let Some(t) = info.time_reference_samples {
        riff::set_time_reference(&mut others, t);
    }
    let bytes = encoding.encode(&residual);
    riff::write_wav(
        &out_path,
        &encoding.fmt_body(info.channels, info.sample_rate),
        &others,
        bytes.len() as u64,
        |w| w.write_all(&bytes),
    )?;
    Ok(ResidualChange {
        written_as: name,
        stands_in_for: rp.stands_in_for.clone(),
        level_db: (e > 0.0 && m > 0.0).then(|| 10.0 * (e / m).log10()),
        format: format_text(encoding, info.sample_rate, usize::from(info.channels)),
    })
}

/// `Song_Mix.wav` -> `Song_Residual.wav` (`Song_Residual_FX.wav` for an effect return): the
/// mix's name with its `Mix`/`Master` word replaced, or `_Residual` added.
fn residual_name(mix_path: &Path, fx: bool) -> String {
    let stem = mix_path
        .file_stem()
        .map_or_else(|| "Song".into(), |s| s.to_string_lossy().into_owned());
    let word = if fx { "Residual_FX" } else { "Residual" };
    for mix_word in ["Mix", "MIX", "mix", "Master", "MASTER", "master"] {
        if let Some(at) = stem.rfind(mix_word) {
            let mut s = stem.clone();
            s.replace_range(at..at + mix_word.len(), word);
            return format!("{s}.wav");
        }
    }
    format!("{stem}_{word}.wav")
}

fn io(path: &Path, source: std::io::Error) -> FixError {
    FixError::Core(crate::Error::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_residual_is_named_after_the_mix() {
        assert_eq!(
            residual_name(Path::new("/x/Song_Mix.wav"), false),
            "Song_Residual.wav"
        );
        assert_eq!(
            residual_name(Path::new("Track 1 master.wav"), true),
            "Track 1 Residual_FX.wav"
        );
        assert_eq!(
            residual_name(Path::new("Song.wav"), false),
            "Song_Residual.wav"
        );
    }
}
