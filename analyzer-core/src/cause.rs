//! Causes: what the analysis found, as typed values.
//!
//! Every stage of the check (reading, delivery checks, reconciliation, diagnosis) produces
//! [`Cause`] values: one variant per kind of fault, carrying the numbers it was judged on and
//! the files it concerns. Nothing else is decided about a cause's wording: severity, message,
//! fix and the `measured` numbers of the report's [`Finding`] are rendered from it in one
//! place ([`Cause::to_finding`], module `render`). Later stages work on causes, never on
//! rendered findings: grouping stems that share a fault ([`group_start_offsets`]), renaming
//! files ([`Cause::rename_files`]) and folding the per-stem side effects of a whole-mix cause
//! into it ([`Cause::attribute_to`]) are plain operations on these values.

mod render;

pub(crate) use render::{round1, round2};

use crate::capture::CaptureState;
use crate::report::{Finding, FindingCode, Severity};

/// A gain error this large is an error, not a warning.
pub const GAIN_ERROR_DB: f64 = 3.0;
/// Residuals (relative to the mix) quieter than this are never diagnosed as errors: renders by
/// different tools, dither and quantisation leave residuals around -50..-70 dB.
pub const QUIET_RESIDUAL_DB: f64 = -40.0;
/// A cause that accounts for a residual louder than this (relative to the mix) is an error.
pub const ERROR_RESIDUAL_DB: f64 = -30.0;
/// Octave bands of a bus EQ curve at or above this coherence are described (below it the
/// band's gain is not a filter's).
pub const COHERENT_BAND: f64 = 0.8;

/// One thing the analysis found, with the numbers behind it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Cause {
    // ---- reading ----
    /// A file could not be read.
    Unreadable { file: String, reason: String },
    /// A file holds fewer frames than its header promises; the rest was checked.
    Truncated {
        file: String,
        declared_frames: u64,
        frames: u64,
    },
    /// A plugin capture did not complete cleanly.
    IncompleteCapture(IncompleteCapture),
    /// No mix was found: the stems were checked without reconciliation.
    NoMix,
    /// The mix cannot be read.
    MixUnreadable { mix: String },
    /// More stems than one check reconciles.
    TooManyStems {
        mix: String,
        stems: usize,
        max_stems: usize,
    },
    /// No readable stem shares the mix's sample rate.
    NoStemAtMixRate,
    /// Stems left out of the reconciliation because they are not at the mix's rate.
    LeftOutOfReconciliation {
        files: Vec<String>,
        mix_sample_rate: u32,
    },
    /// The reconciliation failed.
    ReconciliationFailed { reason: String },

    // ---- delivery checks ----
    /// The files do not share one sample rate (`files` are the odd ones out).
    SampleRateMismatch {
        files: Vec<String>,
        majority_sample_rate: u32,
        /// Every rate with the files at it, lowest rate first.
        files_by_rate: Vec<(u32, Vec<String>)>,
    },
    /// Files not at the rate the profile requires.
    SampleRateProfile {
        files: Vec<String>,
        profile: &'static str,
        required_sample_rate: u32,
    },
    /// The files do not share one bit depth / sample format.
    BitDepthMismatch {
        files: Vec<String>,
        /// The majority's format as people say it ("24-bit", "32-bit float").
        majority_format: String,
    },
    /// An integer file below the profile's bit depth.
    LowBitDepth {
        file: String,
        bits_per_sample: u16,
        profile: &'static str,
        expected_bits: u16,
    },
    /// The files do not share one length.
    UnequalLengths {
        files: Vec<String>,
        majority_frames: u64,
        /// Rate the majority's length is told in seconds at (the first file's).
        sample_rate: u32,
        frames_by_file: Vec<(String, u64)>,
    },
    /// Stems with more channels than the mix.
    WiderThanMix {
        files: Vec<String>,
        mix_channels: u16,
    },
    /// The stems do not share one channel layout.
    MixedChannelLayouts {
        files: Vec<String>,
        majority_channels: u16,
        /// Some stem has more than two channels (mono among stereo stems is common).
        surround: bool,
    },
    /// The delivery looks like raw multitracks rather than submix stems.
    Multitracks {
        stem_count: usize,
        single_instrument_names: usize,
        expected_max_stems: usize,
    },
    /// A file name with problems.
    Naming {
        file: String,
        problems: Vec<NamingProblem>,
    },
    /// Files named alike enough to be confused.
    NamedAlike { files: Vec<String> },
    /// A file that holds only silence.
    Silent {
        file: String,
        is_mix: bool,
        sample_peak_dbfs: Option<f64>,
    },
    /// Two files with the same (or practically the same) audio.
    Duplicate { files: Vec<String>, identical: bool },
    /// NaN or infinite samples.
    NonFiniteSamples { file: String, count: u64 },
    /// Runs of full-scale samples.
    Clipping {
        file: String,
        is_stem: bool,
        clipped_runs: u64,
        longest_run_samples: u64,
    },
    /// True peak above the profile's ceiling.
    TruePeakOver {
        file: String,
        is_stem: bool,
        profile: &'static str,
        true_peak_dbtp: f64,
        ceiling_dbtp: f64,
    },
    /// A stem peaking above the profile's headroom target.
    LowHeadroom {
        file: String,
        profile: &'static str,
        sample_peak_dbfs: f64,
        target_dbfs: f64,
    },
    /// A DC offset above the profile's limit.
    DcOffset { file: String, dc_offset_dbfs: f64 },

    // ---- reconciliation ----
    /// Stems that start later or earlier than the mix, by the same amount.
    StartOffset(StartOffset),
    /// A stem that enters the mix with inverted polarity.
    PolarityInverted {
        file: String,
        gain_db: f64,
        correlation: f64,
        null_depth_db: Option<f64>,
    },
    /// The whole set enters the mix at another level than delivered.
    SetGain(SetGain),
    /// One stem enters the mix at another level than delivered.
    StemGain(StemGain),
    /// A stem that, once aligned, misses audio at its start or end.
    CutOff {
        file: String,
        offset_samples: i64,
        missing_frames: i64,
        /// The start is missing (else the end).
        at_start: bool,
        sample_rate: u32,
    },
    /// The stems sum back to the mix.
    SumMatchesMix {
        null_depth_db: Option<f64>,
        fitted_null_depth_db: f64,
        null_pass_db: f64,
        lag_samples: i64,
        judged_span_frames: [u64; 2],
        pan_law_db: Option<f64>,
    },

    // ---- diagnosis ----
    /// Compression, limiting or clipping on the mix bus that the stems did not get.
    MissingBusProcessing(BusProcessing),
    /// A linear filter on the mix bus that the stems did not get.
    BusEq(BusEq),
    /// Content in the mix that no stem carries: an effect return or a part.
    AddedContent(AddedContent),
    /// A residual no model explains.
    UnexplainedResidual {
        residual_db: f64,
        null_gain_with_dynamics_db: f64,
        null_gain_with_eq_db: f64,
    },
}

/// What is wrong with a file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamingProblem {
    Spaces,
    /// The characters outside `[A-Za-z0-9._-]`, in order.
    Characters(String),
    /// The stem's name does not say what it holds.
    SaysNothing,
}

impl std::fmt::Display for NamingProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Spaces => f.write_str("contains spaces"),
            Self::Characters(bad) => {
                write!(f, "contains characters outside [A-Za-z0-9._-]: {bad:?}")
            }
            Self::SaysNothing => f.write_str("does not say what the stem holds"),
        }
    }
}

/// How a plugin capture failed to complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureProblem {
    /// Complete per its sidecar, but the WAV holds fewer frames.
    CutShort { short_by_frames: u64 },
    /// The writer gave up.
    Aborted { error: Option<String> },
    /// Still recording per its sidecar, and long unchanged: the host quit or crashed.
    StoppedRecording,
    /// Still being written.
    StillRecording,
    /// Frames dropped in a real-time bounce.
    DroppedFrames,
}

/// A plugin capture that did not complete cleanly.
#[derive(Debug, Clone, PartialEq)]
pub struct IncompleteCapture {
    pub file: String,
    /// The capture's label (track name) from its sidecar.
    pub label: String,
    pub problem: CaptureProblem,
    pub state: CaptureState,
    pub dropped_frames: u64,
    pub length_frames: u64,
    pub bounce_id: String,
}

/// Stems shifted against the mix by the same amount.
#[derive(Debug, Clone, PartialEq)]
pub struct StartOffset {
    pub files: Vec<String>,
    /// Positive = the stems' content comes later than in the mix.
    pub offset_samples: i64,
    pub sample_rate: u32,
    /// Lowest normalised correlation of these stems with their part of the mix.
    pub correlation: f64,
    /// Active stems of the set (all of them shifted alike reads "All stems").
    pub active_stems: usize,
    /// The whole-mix cause this shift may be a side effect of.
    pub side_effect_of: Option<FindingCode>,
}

impl StartOffset {
    /// Takes `other`'s files when it is the same shift; gives `other` back when it is not.
    pub fn merge(&mut self, other: StartOffset) -> Option<StartOffset> {
        if other.offset_samples != self.offset_samples {
            return Some(other);
        }
        self.files.extend(other.files);
        self.correlation = self.correlation.min(other.correlation);
        None
    }
}

/// Groups per-stem start offsets: stems shifted by the same amount are one cause (files in
/// the order given), smallest offset first.
pub fn group_start_offsets(per_stem: Vec<StartOffset>) -> Vec<StartOffset> {
    let mut groups: Vec<StartOffset> = Vec::new();
    for s in per_stem {
        let mut pending = Some(s);
        for g in &mut groups {
            if let Some(s) = pending.take() {
                pending = g.merge(s);
            }
        }
        groups.extend(pending);
    }
    groups.sort_by_key(|g| g.offset_samples);
    groups
}

/// The whole set enters the mix at another level than delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct SetGain {
    /// Median gain the stems need, dB.
    pub gain_db: f64,
    pub tolerance_db: f64,
    pub pan_law_db: Option<f64>,
    pub side_effect_of: Option<FindingCode>,
}

/// One stem enters the mix at another level than delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct StemGain {
    pub file: String,
    /// Gain the stem needs, dB.
    pub gain_db: f64,
    pub tolerance_db: f64,
    pub correlation: f64,
    /// The centre pan law a mono stem was judged at (`None` for other stems).
    pub pan_law_db: Option<f64>,
    pub side_effect_of: Option<FindingCode>,
}

/// What a dynamics process on the mix bus looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynamicsKind {
    Clipping,
    Limiting,
    Compression,
}

/// How sure the diagnosis is of a bus process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    Strong,
    /// Content no stem carries fills the residual, but the stems' gain falls reproducibly as
    /// the mix gets louder (dynamics only).
    Rides,
    /// Other content masks it, but the model explains most of what its kind could.
    Masked,
    /// Dynamics: the gain varies, but not clearly with level. EQ: the curve is nearly flat.
    Unclear,
}

/// Dynamics on the mix bus that the stems did not get.
#[derive(Debug, Clone, PartialEq)]
pub struct BusProcessing {
    pub kind: DynamicsKind,
    pub evidence: Evidence,
    /// Residual energy the process accounts for, dB re mix.
    pub explained_db: f64,
    pub gain_reduction_typical_db: f64,
    pub gain_reduction_max_db: f64,
    pub quiet_passage_gain_db: f64,
    pub gain_slope_db_per_db: f64,
    pub crest_factor_drop_db: f64,
    pub peak_pinned_share: f64,
    pub mix_ceiling_dbfs: f64,
    pub clipped_frames: usize,
    pub residual_db: f64,
    pub residual_with_dynamics_db: f64,
    pub null_gain_db: f64,
    pub null_gain_with_eq_db: f64,
    pub null_gain_with_level_gain_db: f64,
    pub explained_share: f64,
    pub level_ride_correlation: f64,
    pub level_ride_reproducibility: f64,
    pub level_ride_slope_db_per_db: f64,
}

/// One octave band of a bus EQ curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OctaveGain {
    pub hz: f64,
    pub gain_db: f64,
    pub coherence: f64,
}

/// The bands of a curve coherent enough to describe (see [`COHERENT_BAND`]).
pub fn coherent_bands(curve: &[OctaveGain]) -> impl Iterator<Item = &OctaveGain> {
    curve.iter().filter(|c| c.coherence >= COHERENT_BAND)
}

/// A linear filter on the mix bus that the stems did not get.
#[derive(Debug, Clone, PartialEq)]
pub struct BusEq {
    /// `Strong`, `Masked` or `Unclear` (a nearly flat curve).
    pub evidence: Evidence,
    /// Residual energy the filter accounts for, dB re mix.
    pub explained_db: f64,
    pub curve: Vec<OctaveGain>,
    /// Range of the coherent bands' gains, dB.
    pub curve_span_db: f64,
    pub residual_db: f64,
    pub residual_with_eq_db: f64,
    pub null_gain_db: f64,
    pub null_gain_with_dynamics_db: f64,
    pub explained_share: f64,
}

/// What kind of content the mix holds that no stem carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddedKind {
    /// An effect return; `trails` = its envelope trails the stems (a reverb's tail).
    FxReturn { trails: bool, decorrelated: bool },
    /// A part of its own.
    Element,
}

/// Content in the mix that no stem carries.
#[derive(Debug, Clone, PartialEq)]
pub struct AddedContent {
    pub kind: AddedKind,
    pub strong: bool,
    /// A whole-mix process was found too: this is a secondary cause (a warning at most).
    pub secondary: bool,
    /// Level of the added content, dB re mix.
    pub residual_db: f64,
    pub interchannel_correlation: Option<f64>,
    pub sum_interchannel_correlation: Option<f64>,
    /// Energy decay time constant of its envelope, s.
    pub tau_s: f64,
    pub trail_correlation: f64,
    pub instant_correlation: f64,
    pub onsets_per_s: f64,
    pub own_onset_share: f64,
    pub backwards_correlation: f64,
    pub spectral_follow: f64,
    pub spectrum_low_hz: f64,
    pub spectrum_high_hz: f64,
    pub spectrum_centroid_hz: f64,
    /// (band centre Hz, level dB re the loudest band).
    pub octave_bands: Vec<(f64, f64)>,
}

impl AddedContent {
    /// RT60 of the tail (energy decay of 60 dB), s.
    pub fn tail_rt60_s(&self) -> f64 {
        self.tau_s * (1e6f64).ln()
    }
}

impl Cause {
    /// The finding code this cause is reported under.
    pub fn code(&self) -> FindingCode {
        render::code(self)
    }

    /// How bad it is.
    pub fn severity(&self) -> Severity {
        render::severity(self)
    }

    /// The files it concerns (empty for the set as a whole).
    pub fn files(&self) -> Vec<String> {
        render::files(self)
    }

    /// The report's finding for this cause.
    pub fn to_finding(&self) -> Finding {
        render::finding(self)
    }

    /// Residual energy a diagnosis cause accounts for (dB re mix); causes are reported
    /// strongest first. `None` for causes that are not the diagnosis's.
    pub fn residual_share_db(&self) -> Option<f64> {
        match self {
            Self::MissingBusProcessing(b) => Some(b.explained_db),
            Self::BusEq(e) => Some(e.explained_db),
            Self::AddedContent(a) => Some(a.residual_db),
            Self::UnexplainedResidual { residual_db, .. } => Some(*residual_db),
            _ => None,
        }
    }

    /// Marks a per-stem fit cause (gain or start offset) as a side effect of the whole-mix
    /// cause `by`: it is then reported at a lower severity and says so. Other causes are left
    /// as they are.
    pub fn attribute_to(&mut self, by: FindingCode) {
        match self {
            Self::StartOffset(s) => s.side_effect_of = Some(by),
            Self::SetGain(g) => g.side_effect_of = Some(by),
            Self::StemGain(g) => g.side_effect_of = Some(by),
            _ => {}
        }
    }

    /// Renames every file the cause names (e.g. paths to the names the report shows).
    pub fn rename_files(&mut self, rename: impl Fn(&str) -> String) {
        let one = |f: &mut String| *f = rename(f);
        match self {
            Self::Unreadable { file, .. }
            | Self::Truncated { file, .. }
            | Self::IncompleteCapture(IncompleteCapture { file, .. })
            | Self::MixUnreadable { mix: file }
            | Self::TooManyStems { mix: file, .. }
            | Self::LowBitDepth { file, .. }
            | Self::Naming { file, .. }
            | Self::Silent { file, .. }
            | Self::NonFiniteSamples { file, .. }
            | Self::Clipping { file, .. }
            | Self::TruePeakOver { file, .. }
            | Self::LowHeadroom { file, .. }
            | Self::DcOffset { file, .. }
            | Self::PolarityInverted { file, .. }
            | Self::StemGain(StemGain { file, .. })
            | Self::CutOff { file, .. } => one(file),
            Self::LeftOutOfReconciliation { files, .. }
            | Self::SampleRateProfile { files, .. }
            | Self::BitDepthMismatch { files, .. }
            | Self::WiderThanMix { files, .. }
            | Self::MixedChannelLayouts { files, .. }
            | Self::NamedAlike { files }
            | Self::Duplicate { files, .. }
            | Self::StartOffset(StartOffset { files, .. }) => files.iter_mut().for_each(one),
            Self::SampleRateMismatch {
                files,
                files_by_rate,
                ..
            } => {
                files.iter_mut().for_each(one);
                for (_, group) in files_by_rate {
                    group.iter_mut().for_each(one);
                }
            }
            Self::UnequalLengths {
                files,
                frames_by_file,
                ..
            } => {
                files.iter_mut().for_each(one);
                frames_by_file.iter_mut().for_each(|(f, _)| one(f));
            }
            Self::NoMix
            | Self::NoStemAtMixRate
            | Self::ReconciliationFailed { .. }
            | Self::Multitracks { .. }
            | Self::SetGain(_)
            | Self::SumMatchesMix { .. }
            | Self::MissingBusProcessing(_)
            | Self::BusEq(_)
            | Self::AddedContent(_)
            | Self::UnexplainedResidual { .. } => {}
        }
    }
}

/// Renders causes into findings, in order.
pub fn findings(causes: &[Cause]) -> Vec<Finding> {
    causes.iter().map(Cause::to_finding).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(file: &str, offset_samples: i64, correlation: f64) -> StartOffset {
        StartOffset {
            files: vec![file.into()],
            offset_samples,
            sample_rate: 48_000,
            correlation,
            active_stems: 3,
            side_effect_of: None,
        }
    }

    #[test]
    fn stems_shifted_alike_are_one_cause() {
        let groups = group_start_offsets(vec![
            shift("a", 480, 0.9),
            shift("b", -37, 0.99),
            shift("c", 480, 0.8),
        ]);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].offset_samples, -37);
        assert_eq!(groups[1].files, vec!["a", "c"]);
        assert_eq!(groups[1].correlation, 0.8);
    }

    #[test]
    fn a_side_effect_is_reported_lower_and_says_of_what() {
        let mut c = Cause::StartOffset(shift("a", 3, 0.9));
        assert_eq!(c.severity(), Severity::Error);
        c.attribute_to(FindingCode::BusEq);
        assert_eq!(c.severity(), Severity::Warning);
        assert!(c.to_finding().message.contains("bus_eq reported here"));
        c.rename_files(|f| format!("{f}.wav"));
        assert_eq!(c.files(), vec!["a.wav"]);
    }
}
