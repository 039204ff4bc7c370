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

mod detail;
mod render;

pub use detail::{
    AddedContent, AddedKind, BusEq, BusProcessing, COHERENT_BAND, CaptureProblem, ChannelFault,
    ChannelFaultKind, ClockDrift, DynamicsKind, Evidence, IncompleteCapture, NamingProblem,
    OctaveGain, SetGain, StartOffset, StemGain, coherent_bands, group_start_offsets,
};

pub(crate) use render::{round1, round2};

use crate::report::{Finding, FindingCode, Severity};

/// A gain error this large is an error, not a warning.
pub const GAIN_ERROR_DB: f64 = 3.0;
/// Residuals (relative to the mix) quieter than this are never diagnosed as errors: renders by
/// different tools, dither and quantisation leave residuals around -50..-70 dB.
pub const QUIET_RESIDUAL_DB: f64 = -40.0;
/// A cause that accounts for a residual louder than this (relative to the mix) is an error.
pub const ERROR_RESIDUAL_DB: f64 = -30.0;

/// One thing the analysis found, with the numbers behind it.
///
/// File fields hold the names the report shows (see [`Cause::rename_files`]); frame counts
/// are per channel, levels are dB relative to full scale (`_dbfs`, `_dbtp`) or to the mix
/// (`_db`, "dB re mix") as their names say.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Cause {
    // ---- reading ----
    /// A file could not be read.
    Unreadable {
        /// The file.
        file: String,
        /// Why it could not be read (the reader's error, as text).
        reason: String,
    },
    /// A file holds fewer frames than its header promises; the rest was checked.
    Truncated {
        /// The file.
        file: String,
        /// Frames its header (data chunk size) promises.
        declared_frames: u64,
        /// Frames actually in the file.
        frames: u64,
    },
    /// A plugin capture did not complete cleanly.
    IncompleteCapture(IncompleteCapture),
    /// No mix was found: the stems were checked without reconciliation.
    NoMix,
    /// The mix cannot be read.
    MixUnreadable {
        /// The mix file.
        mix: String,
    },
    /// More stems than one check reconciles.
    TooManyStems {
        /// The mix they would have been reconciled against.
        mix: String,
        /// Stems delivered.
        stems: usize,
        /// Most stems one reconciliation takes (its cost grows with every stem).
        max_stems: usize,
    },
    /// No readable stem shares the mix's sample rate.
    NoStemAtMixRate,
    /// Stems left out of the reconciliation because they are not at the mix's rate.
    LeftOutOfReconciliation {
        /// The stems left out.
        files: Vec<String>,
        /// The mix's sample rate, Hz.
        mix_sample_rate: u32,
    },
    /// The reconciliation failed.
    ReconciliationFailed {
        /// Why (the error, as text).
        reason: String,
    },

    // ---- delivery checks ----
    /// The files do not share one sample rate (`files` are the odd ones out).
    SampleRateMismatch {
        /// The files not at the majority's rate.
        files: Vec<String>,
        /// The rate most files are at, Hz.
        majority_sample_rate: u32,
        /// Every rate with the files at it, lowest rate first.
        files_by_rate: Vec<(u32, Vec<String>)>,
    },
    /// Files not at the rate the profile requires.
    SampleRateProfile {
        /// The files at another rate.
        files: Vec<String>,
        /// The profile's name.
        profile: &'static str,
        /// The rate the profile requires, Hz.
        required_sample_rate: u32,
    },
    /// The files do not share one bit depth / sample format.
    BitDepthMismatch {
        /// The files not in the majority's format.
        files: Vec<String>,
        /// The majority's format as people say it ("24-bit", "32-bit float").
        majority_format: String,
    },
    /// An integer file below the profile's bit depth.
    LowBitDepth {
        /// The file.
        file: String,
        /// Its bits per sample.
        bits_per_sample: u16,
        /// The profile's name.
        profile: &'static str,
        /// The bits per sample the profile wants at least.
        expected_bits: u16,
    },
    /// The files do not share one length.
    UnequalLengths {
        /// The files not at the majority's length.
        files: Vec<String>,
        /// The length most files share, frames.
        majority_frames: u64,
        /// Rate the majority's length is told in seconds at (the first file's).
        sample_rate: u32,
        /// Every file with its length in frames, in input order.
        frames_by_file: Vec<(String, u64)>,
    },
    /// Stems with more channels than the mix.
    WiderThanMix {
        /// The wider stems.
        files: Vec<String>,
        /// The mix's channel count.
        mix_channels: u16,
    },
    /// The stems do not share one channel layout.
    MixedChannelLayouts {
        /// The stems not at the majority's channel count.
        files: Vec<String>,
        /// The channel count most stems have.
        majority_channels: u16,
        /// Some stem has more than two channels (mono among stereo stems is common).
        surround: bool,
    },
    /// The delivery looks like raw multitracks rather than submix stems.
    Multitracks {
        /// Stems delivered.
        stem_count: usize,
        /// Stems named after a single instrument or microphone ("kick", "snare top").
        single_instrument_names: usize,
        /// Most stems a submix delivery usually has (the profile's).
        expected_max_stems: usize,
    },
    /// A file name with problems.
    Naming {
        /// The file.
        file: String,
        /// What is wrong with its name, in the order checked.
        problems: Vec<NamingProblem>,
    },
    /// Files named alike enough to be confused.
    NamedAlike {
        /// The files, as a group.
        files: Vec<String>,
    },
    /// A file that holds only silence.
    Silent {
        /// The file.
        file: String,
        /// The file is the mix (else a stem).
        is_mix: bool,
        /// Its sample peak, dBFS (`None` = digital silence, every sample zero).
        sample_peak_dbfs: Option<f64>,
    },
    /// Two files with the same (or practically the same) audio.
    Duplicate {
        /// The two files.
        files: Vec<String>,
        /// Sample for sample the same (else only practically: same level and peak).
        identical: bool,
    },
    /// NaN or infinite samples.
    NonFiniteSamples {
        /// The file.
        file: String,
        /// Non-finite samples found (all channels).
        count: u64,
    },
    /// Runs of full-scale samples.
    Clipping {
        /// The file.
        file: String,
        /// The file is a stem (else the mix).
        is_stem: bool,
        /// Runs of consecutive full-scale samples.
        clipped_runs: u64,
        /// The longest such run, samples.
        longest_run_samples: u64,
    },
    /// True peak above the profile's ceiling.
    TruePeakOver {
        /// The file.
        file: String,
        /// The file is a stem (else the mix).
        is_stem: bool,
        /// The profile's name.
        profile: &'static str,
        /// The file's true peak, dBTP (BS.1770-4).
        true_peak_dbtp: f64,
        /// The profile's true-peak ceiling, dBTP.
        ceiling_dbtp: f64,
    },
    /// A stem peaking above the profile's headroom target.
    LowHeadroom {
        /// The stem.
        file: String,
        /// The profile's name.
        profile: &'static str,
        /// The stem's sample peak, dBFS.
        sample_peak_dbfs: f64,
        /// The highest sample peak the profile wants a stem at, dBFS.
        target_dbfs: f64,
    },
    /// A DC offset above the profile's limit.
    DcOffset {
        /// The file.
        file: String,
        /// The offset (mean sample value), dBFS.
        dc_offset_dbfs: f64,
    },

    // ---- reconciliation ----
    /// Stems that start later or earlier than the mix, by the same amount.
    StartOffset(StartOffset),
    /// A stem that enters the mix with inverted polarity.
    PolarityInverted {
        /// The stem.
        file: String,
        /// Gain the (flipped) stem needs to match its part of the mix, dB.
        gain_db: f64,
        /// Normalised correlation (0..1) of the flipped stem with its part of the mix.
        correlation: f64,
        /// The set's null depth as delivered, dB re mix (`None` when not measured).
        null_depth_db: Option<f64>,
    },
    /// A stereo stem with its channels swapped or one channel inverted.
    ChannelFault(ChannelFault),
    /// A stem on a clock slightly off the mix's.
    ClockDrift(ClockDrift),
    /// The whole set enters the mix at another level than delivered.
    SetGain(SetGain),
    /// One stem enters the mix at another level than delivered.
    StemGain(StemGain),
    /// A stem that, once aligned, misses audio at its start or end.
    CutOff {
        /// The stem.
        file: String,
        /// Its start offset against the mix, samples (positive = later than in the mix).
        offset_samples: i64,
        /// Frames of the mix it does not cover.
        missing_frames: i64,
        /// The start is missing (else the end).
        at_start: bool,
        /// The mix's sample rate, Hz (for the milliseconds the report adds).
        sample_rate: u32,
    },
    /// The stems sum back to the mix.
    SumMatchesMix {
        /// Residual of the sum as delivered (one common lag only), dB re mix: the report's
        /// headline `null_depth_db`. `None` when not measured.
        null_depth_db: Option<f64>,
        /// Residual after the fitted per-stem offsets, gains and polarities, dB re mix.
        fitted_null_depth_db: f64,
        /// The profile's pass threshold for a null, dB re mix.
        null_pass_db: f64,
        /// Lag of the stem sum against the mix, samples.
        lag_samples: i64,
        /// The span of mix frames the null was judged on, `[start, end)`.
        judged_span_frames: [u64; 2],
        /// The centre pan law mono stems were judged at, dB (`None` without mono stems).
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
        /// The residual with one global gain, dB re mix.
        residual_db: f64,
        /// How much deeper a time-varying (dynamics) gain nulls than the global gain, dB.
        null_gain_with_dynamics_db: f64,
        /// How much deeper a linear filter (EQ) nulls than the global gain, dB.
        null_gain_with_eq_db: f64,
    },
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
            | Self::ChannelFault(ChannelFault { file, .. })
            | Self::ClockDrift(ClockDrift { file, .. })
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
