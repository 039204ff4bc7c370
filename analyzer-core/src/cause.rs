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

/// What is wrong with a file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamingProblem {
    /// The name contains spaces (scripts and some tools split on them).
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
    CutShort {
        /// Frames the WAV lacks against the sidecar's count.
        short_by_frames: u64,
    },
    /// The writer gave up.
    Aborted {
        /// The writer's error, when its sidecar recorded one.
        error: Option<String>,
    },
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
    /// The capture's WAV.
    pub file: String,
    /// The capture's label (track name) from its sidecar.
    pub label: String,
    /// What went wrong.
    pub problem: CaptureProblem,
    /// The state its sidecar records.
    pub state: CaptureState,
    /// Frames the writer dropped (its queue overflowed in a real-time bounce).
    pub dropped_frames: u64,
    /// Frames its sidecar says were written.
    pub length_frames: u64,
    /// The bounce (one export pass of the session) the capture belongs to.
    pub bounce_id: String,
}

/// Stems shifted against the mix by the same amount.
#[derive(Debug, Clone, PartialEq)]
pub struct StartOffset {
    /// The shifted stems.
    pub files: Vec<String>,
    /// Positive = the stems' content comes later than in the mix.
    pub offset_samples: i64,
    /// The mix's sample rate, Hz (for the milliseconds the report adds).
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
    /// The profile's gain tolerance, dB: every stem's gain lies this close to the median.
    pub tolerance_db: f64,
    /// The centre pan law mono stems were judged at, dB (`None` without mono stems).
    pub pan_law_db: Option<f64>,
    /// The whole-mix cause this gain may be a side effect of.
    pub side_effect_of: Option<FindingCode>,
}

/// One stem enters the mix at another level than delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct StemGain {
    /// The stem.
    pub file: String,
    /// Gain the stem needs, dB.
    pub gain_db: f64,
    /// The profile's gain tolerance, dB: gains within it are not reported.
    pub tolerance_db: f64,
    /// Normalised correlation (0..1) of the stem with its part of the mix.
    pub correlation: f64,
    /// The centre pan law a mono stem was judged at (`None` for other stems).
    pub pan_law_db: Option<f64>,
    /// The whole-mix cause this gain may be a side effect of.
    pub side_effect_of: Option<FindingCode>,
}

/// What a dynamics process on the mix bus looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynamicsKind {
    /// Flat-topped runs in the mix that the stems do not have.
    Clipping,
    /// Peaks held at a ceiling and crest factor gone.
    Limiting,
    /// The mix/stem-sum gain falls as the level rises.
    Compression,
}

/// How sure the diagnosis is of a bus process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// The model fits and nothing else in the residual masks it.
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
///
/// Gains are mix over stem sum on 10 ms frames; the `null_gain_*` numbers say how much deeper
/// each model nulls than one global gain, so that the report shows why this model won.
#[derive(Debug, Clone, PartialEq)]
pub struct BusProcessing {
    /// Clipping, limiting or compression.
    pub kind: DynamicsKind,
    /// How sure the diagnosis is.
    pub evidence: Evidence,
    /// Residual energy the process accounts for, dB re mix.
    pub explained_db: f64,
    /// Median gain reduction of the loudest quarter of the frames against the quiet ones, dB.
    pub gain_reduction_typical_db: f64,
    /// Largest gain reduction (99th percentile over all frames), dB.
    pub gain_reduction_max_db: f64,
    /// Mix/stem-sum gain of the quietest quarter of the frames (make-up gain, or the gain
    /// below threshold), dB.
    pub quiet_passage_gain_db: f64,
    /// dB of gain change per dB of stem-sum level (negative = compression).
    pub gain_slope_db_per_db: f64,
    /// Crest factor (peak to RMS) of the stem sum minus that of the mix, dB.
    pub crest_factor_drop_db: f64,
    /// Share (0..1) of loud frames whose mix peak sits within 0.5 dB of the mix's highest
    /// peak: a limiter pins them there.
    pub peak_pinned_share: f64,
    /// The mix's highest sample peak, dBFS (a limiter's ceiling).
    pub mix_ceiling_dbfs: f64,
    /// 10 ms frames of the mix holding flat-topped (clipped) samples.
    pub clipped_frames: usize,
    /// Cross-validated residual with one global gain, dB re mix.
    pub residual_db: f64,
    /// Cross-validated residual with a time-varying (10 ms) gain, dB re mix.
    pub residual_with_dynamics_db: f64,
    /// How much deeper the time-varying gain nulls than the global gain, dB.
    pub null_gain_db: f64,
    /// How much deeper a linear filter (EQ) nulls than the global gain, dB: the rival model.
    pub null_gain_with_eq_db: f64,
    /// How much deeper a gain that depends on the stem sum's level (a compressor's static
    /// curve) nulls than the global gain, dB.
    pub null_gain_with_level_gain_db: f64,
    /// Share (0..1) of what any per-frame gain could explain that the cross-validated
    /// time-varying gain explains (added content masks dynamics in the null gain, not here).
    pub explained_share: f64,
    /// Correlation of window gain (dB) with the window's level (dB), the mix's or the
    /// stems', whichever the gain falls with more clearly. Window gains are regression gains,
    /// unbiased by content no stem carries.
    pub level_ride_correlation: f64,
    /// Correlation of the window gains measured on even and on odd 10 ms frames: the
    /// movement is reproducible, not noise from added content.
    pub level_ride_reproducibility: f64,
    /// dB of window-gain change per dB of that level.
    pub level_ride_slope_db_per_db: f64,
}

/// One octave band of a bus EQ curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OctaveGain {
    /// Band centre, Hz.
    pub hz: f64,
    /// Mix/stem-sum gain in the band, dB.
    pub gain_db: f64,
    /// Coherence (0..1) of mix and stem sum in the band: how far the band's gain is a
    /// filter's rather than other content's (see [`COHERENT_BAND`]).
    pub coherence: f64,
}

/// The bands of a curve coherent enough to describe (see [`COHERENT_BAND`]).
pub fn coherent_bands(curve: &[OctaveGain]) -> impl Iterator<Item = &OctaveGain> {
    curve.iter().filter(|c| c.coherence >= COHERENT_BAND)
}

/// A linear filter on the mix bus that the stems did not get.
///
/// Residuals are cross-validated and measured in the spectral domain; the `null_gain_*`
/// numbers say how much deeper each model nulls than one global gain.
#[derive(Debug, Clone, PartialEq)]
pub struct BusEq {
    /// `Strong`, `Masked` or `Unclear` (a nearly flat curve).
    pub evidence: Evidence,
    /// Residual energy the filter accounts for, dB re mix.
    pub explained_db: f64,
    /// The filter's gain per octave band, lowest band first.
    pub curve: Vec<OctaveGain>,
    /// Range of the coherent bands' gains, dB.
    pub curve_span_db: f64,
    /// Residual with one global gain, dB re mix.
    pub residual_db: f64,
    /// Residual with a third-octave linear filter, dB re mix.
    pub residual_with_eq_db: f64,
    /// How much deeper the filter nulls than the global gain, dB.
    pub null_gain_db: f64,
    /// How much deeper a time-varying (dynamics) gain nulls than the global gain, dB: the
    /// rival model.
    pub null_gain_with_dynamics_db: f64,
    /// Share (0..1) of the coherent misfit (what any per-band filter could explain) that the
    /// cross-validated filter explains (a reverb masks an EQ in the null gain, not here).
    pub explained_share: f64,
}

/// What kind of content the mix holds that no stem carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddedKind {
    /// An effect return; `trails` = its envelope trails the stems (a reverb's tail).
    FxReturn {
        /// Its envelope trails the stems' (a reverb's or delay's tail).
        trails: bool,
        /// Its channels are decorrelated (reverb, chorus, widener).
        decorrelated: bool,
    },
    /// A part of its own.
    Element,
}

/// Content in the mix that no stem carries.
///
/// Envelope and onset numbers are measured on 10 ms frames of the fitted residual against
/// the stem sum; they are what tells an effect return (follows the stems) from a part of its
/// own (onsets and spectrum of its own).
#[derive(Debug, Clone, PartialEq)]
pub struct AddedContent {
    /// An effect return or a part.
    pub kind: AddedKind,
    /// The evidence is strong (else the finding says it could also be a wide part that
    /// plays throughout).
    pub strong: bool,
    /// A whole-mix process was found too: this is a secondary cause (a warning at most).
    pub secondary: bool,
    /// Level of the added content, dB re mix.
    pub residual_db: f64,
    /// Correlation of its left and right channels (`None` for mono).
    pub interchannel_correlation: Option<f64>,
    /// The same for the plain stem sum, for reference.
    pub sum_interchannel_correlation: Option<f64>,
    /// Energy decay time constant of its envelope, s.
    pub tau_s: f64,
    /// Correlation (log envelopes) with the stem sum's envelope integrated at `tau_s`.
    pub trail_correlation: f64,
    /// Correlation (log envelopes) with the stem sum's instantaneous envelope.
    pub instant_correlation: f64,
    /// Its onsets per second.
    pub onsets_per_s: f64,
    /// Share (0..1) of its onsets with no onset of the stem sum next to them.
    pub own_onset_share: f64,
    /// Correlation with the sum's envelope integrated *backwards* at `tau_s` (a reverb
    /// trails the sum, so this stays below `trail_correlation`).
    pub backwards_correlation: f64,
    /// How closely its band energies follow the stem sum's from segment to segment: an
    /// effect return plays the stems' notes, a missing part its own.
    pub spectral_follow: f64,
    /// Frequency under which 10 % of its energy lies, Hz.
    pub spectrum_low_hz: f64,
    /// Frequency under which 90 % of its energy lies, Hz.
    pub spectrum_high_hz: f64,
    /// Its spectral centroid, Hz.
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
