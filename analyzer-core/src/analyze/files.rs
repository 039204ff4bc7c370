//! What the report says about each file: its format and meters, the delivery facts the checks
//! compare, and the causes a file brings on its own (unreadable, truncated, an incomplete
//! plugin capture).

use super::inputs::Input;
use crate::capture::{self, CaptureState};
use crate::cause::{CaptureProblem, Cause, IncompleteCapture};
use crate::checks::FileFacts;
use crate::error::Result;
use crate::meter::Metrics;
use crate::report::FileReport;
use crate::wav::WavInfo;

/// What metering one file produced.
pub(super) struct Metered {
    pub info: WavInfo,
    pub metrics: Metrics,
}

/// The report entry of every file, the facts of the readable ones for the delivery checks, and
/// the causes the files bring on their own (unreadable or truncated), in input order.
pub(super) fn file_reports(
    inputs: &[Input],
    results: &[Result<Metered>],
) -> (Vec<FileReport>, Vec<FileFacts>, Vec<Cause>) {
    let mut causes: Vec<Cause> = Vec::new();
    let mut files = Vec::with_capacity(inputs.len());
    let mut facts = Vec::new();
    for (input, result) in inputs.iter().zip(results) {
        let mut file = FileReport {
            path: input.name.clone(),
            role: Some(input.role),
            ..Default::default()
        };
        match result {
            Ok(m) => {
                fill_file_report(&mut file, m);
                facts.push(file_facts(input, m));
                if m.info.truncated {
                    causes.push(Cause::Truncated {
                        file: input.name.clone(),
                        declared_frames: m.info.declared_frames,
                        frames: m.info.frames,
                    });
                }
            }
            Err(e) => {
                file.error = Some(e.to_string());
                causes.push(Cause::Unreadable {
                    file: input.name.clone(),
                    reason: e.problem(),
                });
            }
        }
        files.push(file);
    }
    // Headers never finalised are one note for the set, not a finding per file: a whole
    // delivery written through a pipe is one fact.
    let unfinalised: Vec<String> = inputs
        .iter()
        .zip(results)
        .filter(|(_, r)| r.as_ref().is_ok_and(|m| m.info.sizes_unfinalised))
        .map(|(i, _)| i.name.clone())
        .collect();
    if !unfinalised.is_empty() {
        causes.push(Cause::UnfinalisedSizes { files: unfinalised });
    }
    (files, facts, causes)
}

/// Plugin captures that did not complete cleanly. `readable_frames(i)` is how many frames
/// input `i`'s WAV holds (`None` when it could not be read).
pub(super) fn capture_causes(
    inputs: &[Input],
    readable_frames: impl Fn(usize) -> Option<u64>,
) -> Vec<Cause> {
    let now = capture::now_unix_ms();
    let mut out = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let Some(c) = &input.capture else { continue };
        // The writer does not wait for the disk when a capture completes (the host would wait
        // with it), so a power cut soon after a bounce can leave a WAV shorter than its
        // sidecar says: that capture is not complete, whatever the sidecar claims.
        let short_by = readable_frames(i)
            .filter(|_| c.state == CaptureState::Complete)
            .map_or(0, |frames| c.length_frames.saturating_sub(frames));
        let problem = match c.state {
            CaptureState::Complete if short_by > 0 => CaptureProblem::CutShort {
                short_by_frames: short_by,
            },
            CaptureState::Aborted => CaptureProblem::Aborted {
                error: c.error.clone(),
            },
            CaptureState::Recording if c.is_incomplete(now) => CaptureProblem::StoppedRecording,
            CaptureState::Recording => CaptureProblem::StillRecording,
            CaptureState::Complete if c.dropped_frames > 0 => CaptureProblem::DroppedFrames,
            CaptureState::Complete => continue,
        };
        out.push(Cause::IncompleteCapture(IncompleteCapture {
            file: input.name.clone(),
            label: c.label.clone(),
            problem,
            state: c.state,
            dropped_frames: c.dropped_frames,
            length_frames: c.length_frames,
            bounce_id: c.bounce_id.clone(),
        }));
    }
    out
}

/// Copies the format and the meters into the file's report entry.
fn fill_file_report(file: &mut FileReport, m: &Metered) {
    let (info, x) = (&m.info, &m.metrics);
    file.sample_rate = Some(info.sample_rate);
    file.bits_per_sample = Some(info.bits_per_sample);
    file.sample_format = Some(info.sample_format);
    file.channels = Some(info.channels);
    file.frames = Some(info.frames);
    file.container = Some(info.container);
    file.time_reference_samples = info.time_reference_samples;
    file.duration_s = Some(info.frames as f64 / f64::from(info.sample_rate.max(1)));
    file.sample_peak_dbfs = x.sample_peak_dbfs;
    file.true_peak_dbtp = x.true_peak_dbtp;
    file.integrated_lufs = x.integrated_lufs;
    file.loudness_range_lu = x.loudness_range_lu;
    file.max_momentary_lufs = x.max_momentary_lufs;
    file.max_short_term_lufs = x.max_short_term_lufs;
    file.dc_offset_dbfs = x.dc_offset_dbfs;
    file.clipped_runs = Some(x.clipped_runs);
    file.non_finite_samples = Some(x.non_finite_samples);
    file.spectrum = x
        .band_levels_db
        .as_ref()
        .map(|levels| crate::report::FileSpectrum {
            band_hz: x.band_hz.clone(),
            level_dbfs: levels.iter().map(|l| l.map(round_2)).collect(),
        });
    let per_s: Vec<Option<f64>> = x
        .short_term_lufs_per_s
        .iter()
        .map(|l| l.map(round_2))
        .collect();
    file.short_term_loudness = Some(crate::report::LoudnessTimeline::from_per_second(&per_s));
}

/// Two decimals: what a plot or a table needs, and a report a tenth the size.
fn round_2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The file's last 10 ms hold nothing at or above [`crate::meter::AUDIBLE_TAIL_DBFS`]: a
/// shorter file that ends so lacks only silence.
fn silent_tail(info: &WavInfo, x: &Metrics) -> bool {
    let ten_ms = u64::from(info.sample_rate).div_ceil(100);
    x.last_audible_frame
        .is_none_or(|last| info.frames.saturating_sub(last + 1) >= ten_ms)
}

/// What the delivery checks compare across files.
fn file_facts(input: &Input, m: &Metered) -> FileFacts {
    let (info, x) = (&m.info, &m.metrics);
    FileFacts {
        name: input.name.clone(),
        role: Some(input.role),
        sample_rate: info.sample_rate,
        channels: info.channels,
        bits_per_sample: info.bits_per_sample,
        sample_format: Some(info.sample_format),
        frames: info.frames,
        sample_peak_dbfs: x.sample_peak_dbfs,
        true_peak_dbtp: x.true_peak_dbtp,
        dc_offset_dbfs: x.dc_offset_dbfs,
        dc_offset_by_channel: x.dc_offset.clone(),
        clipped_runs: x.clipped_runs,
        longest_clip_run_samples: x.longest_clip_run_samples,
        non_finite_samples: x.non_finite_samples,
        first_non_finite_s: x
            .first_non_finite_frame
            .map(|f| f as f64 / f64::from(info.sample_rate.max(1))),
        channel_difference_db: x.channel_difference_db,
        silent_tail: silent_tail(info, x),
        first_audible_frame: x.first_audible_frame,
        last_audible_frame: x.last_audible_frame,
        integrated_lufs: x.integrated_lufs,
        content_hash: x.content_hash,
        envelope_db: x.envelope_db.clone(),
        // Marked once every file is read (`split_stereo::mark_facts`).
        split_stereo: None,
    }
}
