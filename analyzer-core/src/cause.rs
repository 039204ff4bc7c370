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

#[cfg(test)]
pub(crate) mod fixtures;
mod master_chain;

pub use master_chain::{MASTER_CEILING_SPREAD_DB, name_master_processing_on_stems};

pub use detail::{
    AddedContent, AddedKind, BusEq, BusProcessing, COHERENT_BAND, CaptureProblem, ChannelFault,
    ChannelFaultKind, ClipRuns, ClippedExport, ClockDrift, ContainedStem, CutOffAudio, DcMismatch,
    Dropout, Ducking, DynamicsKind, Evidence, FoldedToMono, IncompleteCapture, LevelRide,
    LossyCodec, MasterChain, MasterRide, MixCandidates, MixChoice, NamingProblem, NonFinite,
    OctaveGain, RiddenStem, SetGain, StartOffset, StemGain, StemGains, StereoWidth, SumImpact,
    TimecodeMismatch, coherent_bands, group_start_offsets,
};

pub(crate) use render::{round1, round2};

use crate::report::{ExcludedFile, Finding, FindingCode, Severity};

/// A bus EQ whose octave curve (coherent bands) spans less than this many dB is flat: a
/// level, not a filter anyone set; it is context (info), never the cause that breaks a sum.
pub const FLAT_EQ_SPAN_DB: f64 = 1.0;
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
    /// Files whose header sizes were never finalised (0 / 0xFFFFFFFF placeholders, as a writer
    /// into a pipe leaves them): read to the end of the file, named once for the set.
    UnfinalisedSizes {
        /// The files.
        files: Vec<String>,
    },
    /// A plugin capture did not complete cleanly.
    IncompleteCapture(IncompleteCapture),
    /// Files in a delivery folder that are not read (documents, archives, images): context,
    /// listed so nothing is dropped without a word. System debris is not listed.
    Skipped {
        /// The files, as the report names them.
        files: Vec<String>,
    },
    /// Audio files in a format StemCheck does not read (MP3, AAC, Ogg, ...): the delivery is
    /// missing whatever they hold until they are sent again in a format that is read.
    UnreadAudioFormat {
        /// Each file with its format's name ("MP3").
        by_file: Vec<(String, String)>,
    },
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
    /// No readable stem to reconcile (a stem at another rate is resampled, so only missing or
    /// unreadable stems leave none).
    NoStemAtMixRate,
    /// Stems that could not enter the stem sum (unreadable, not audio, failed to read): what
    /// the sum misses may be theirs. (A stem at another sample rate enters it resampled.)
    ReconciliationIncomplete {
        /// Every stem left out, with why.
        excluded: Vec<ExcludedFile>,
    },
    /// Several files could be the mix: which one is and why; the others are references.
    MixCandidates(MixCandidates),
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
        profile: String,
        /// The rates the profile accepts, Hz (usually one).
        allowed_sample_rates: Vec<u32>,
    },
    /// The files do not share one bit depth / sample format.
    BitDepthMismatch {
        /// The files not in the majority's format.
        files: Vec<String>,
        /// The majority's format as people say it ("24-bit", "32-bit float").
        majority_format: String,
    },
    /// Integer files below the profile's bit depth: one cause however many files.
    LowBitDepth {
        /// The files, in input order.
        files: Vec<String>,
        /// The highest bits per sample among them (all at or below it).
        bits_per_sample: u16,
        /// The profile's name.
        profile: String,
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
        /// Every file shorter than the longest ends in silence (its last 10 ms): the
        /// difference is a trimmed silent tail, no audio is cut.
        silent_tails: bool,
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
    /// File names with problems: one cause for every file whose name breaks the rules.
    Naming {
        /// Each file with what is wrong with its name, in the order checked.
        by_file: Vec<(String, Vec<NamingProblem>)>,
    },
    /// Files named alike enough to be confused.
    NamedAlike {
        /// The files, as a group.
        files: Vec<String>,
    },
    /// Files that hold only silence (the silent stems are one cause, the mix another).
    Silent {
        /// Each file with its sample peak, dBFS (`None` = digital silence, every sample zero).
        by_file: Vec<(String, Option<f64>)>,
        /// The file is the mix (else stems).
        is_mix: bool,
    },
    /// Two files with the same (or practically the same) audio.
    Duplicate {
        /// The two files.
        files: Vec<String>,
        /// Sample for sample the same (else only practically: same level and peak).
        identical: bool,
    },
    /// NaN or infinite samples in float files (read as silence by every other check).
    NonFiniteSamples {
        /// Each file with where its non-finite samples are.
        by_file: Vec<(String, NonFinite)>,
    },
    /// Clipped audio: flat-topped runs of equal samples at the file's peak level.
    Clipping {
        /// Each file with its runs.
        by_file: Vec<(String, ClipRuns)>,
        /// The files are stems (else the mix).
        is_stem: bool,
    },
    /// Float samples above full scale that are not clipped: they clip in any fixed-point
    /// conversion.
    FloatOver {
        /// Each file with its sample peak, dBFS (above 0).
        by_file: Vec<(String, f64)>,
        /// The files are stems (else the mix).
        is_stem: bool,
    },
    /// True peak above the profile's ceiling.
    TruePeakOver {
        /// Each file with its true peak, dBTP (BS.1770-4).
        by_file: Vec<(String, f64)>,
        /// The files are stems (else the mix).
        is_stem: bool,
        /// The profile's name.
        profile: String,
        /// The profile's true-peak ceiling, dBTP.
        ceiling_dbtp: f64,
    },
    /// Stems peaking above the profile's headroom target: one cause, one gain for the set.
    LowHeadroom {
        /// Each stem above the target with its sample peak, dBFS.
        by_file: Vec<(String, f64)>,
        /// The profile's name.
        profile: String,
        /// The highest sample peak the profile wants a stem at, dBFS.
        target_dbfs: f64,
    },
    /// Stems with a channel count the profile does not accept (`channels`).
    ChannelsProfile {
        /// Each such stem with its channel count.
        by_file: Vec<(String, u16)>,
        /// The profile's name.
        profile: String,
        /// The channel counts the profile accepts.
        allowed_channels: Vec<u16>,
    },
    /// Fewer stems than the profile's `stem_count_range` asks for.
    TooFewStems {
        /// Stems delivered.
        stem_count: usize,
        /// The fewest the profile accepts.
        min_stems: usize,
        /// The profile's name.
        profile: String,
    },
    /// The mix's integrated loudness lies outside the profile's target and tolerance.
    LoudnessOffTarget {
        /// The mix.
        file: String,
        /// Its integrated loudness (BS.1770), LUFS.
        integrated_lufs: f64,
        /// The profile's target, LUFS.
        target_lufs: f64,
        /// The profile's tolerance either way, LU.
        tolerance_lu: f64,
        /// The profile's name.
        profile: String,
    },
    /// The delivery starts (or ends) with more silence than the profile allows.
    EdgeSilence {
        /// The file that sounds first (head) or last (tail): the one that decides it.
        file: String,
        /// The silence at the end (else at the start).
        at_end: bool,
        /// The delivery's silence there, ms.
        silence_ms: f64,
        /// The most the profile allows, ms.
        max_ms: f64,
        /// The profile's name.
        profile: String,
    },
    /// The profile requires an FX stem and no stem is named as one.
    MissingFxStem {
        /// The stems delivered.
        files: Vec<String>,
        /// The profile's name.
        profile: String,
    },
    /// DC offsets above the profile's limit.
    DcOffset {
        /// Each file with its offset (mean sample value), dBFS.
        by_file: Vec<(String, f64)>,
        /// The files are stems (else the mix).
        is_stem: bool,
        /// Stems only: the mix with its offset (dBFS) when the stems' offsets add up to it
        /// (the mix carries theirs, so it is part of this finding, not one of its own).
        mix: Option<(String, f64)>,
    },
    /// Stereo stems whose two channels carry the same signal.
    DualMono {
        /// The stems.
        files: Vec<String>,
    },
    /// Stereo stems delivered as two mono files each, read as one stem per pair.
    SplitStereo {
        /// Each pair's name (`"<left> + <right>"`), which the report lists as its two files.
        pairs: Vec<String>,
    },

    // ---- reconciliation ----
    /// Stems that start later or earlier than the mix, by the same amount.
    StartOffset(StartOffset),
    /// Files whose BWF/iXML time stamps would spot them elsewhere than their audio belongs
    /// (see [`TimecodeMismatch`]).
    TimecodeMismatch(TimecodeMismatch),
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
    /// A stem that also carries another stem's audio (see [`ContainedStem`]).
    ContainedStem(ContainedStem),
    /// A stem that falls silent for a moment where the mix has its part (see [`Dropout`]).
    Dropout(Dropout),
    /// A stem whose export cut the peaks the mix kept (see [`ClippedExport`]).
    ClippedExport(ClippedExport),
    /// DC offsets the stems and the mix do not share (see [`DcMismatch`]).
    DcMismatch(DcMismatch),
    /// A stem ducked in the mix by another stem, without the ducking in its export (see
    /// [`Ducking`]).
    Ducking(Ducking),
    /// A stereo stem exported as a mono file (see [`FoldedToMono`]).
    FoldedToMono(FoldedToMono),
    /// Master fader automation the stem export did not print (see [`MasterRide`]).
    MasterRide(MasterRide),
    /// The whole set enters the mix at another level than delivered.
    SetGain(SetGain),
    /// One stem enters the mix at another level than delivered.
    StemGain(StemGain),
    /// Several stems that each enter the mix at a gain of their own (one cause).
    StemGains(StemGains),
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
        /// The stem ends before the mix while the mix still holds its part there (the sum
        /// does not reach the mix over the missing stretch): its export range stopped short.
        audible_in_mix: bool,
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
        /// The stems as delivered sum to the mix exactly (zero residual; `null_depth_db` is
        /// then the report's floor, not a measurement).
        bit_exact: bool,
    },

    // ---- diagnosis ----
    /// Compression, limiting or clipping on the mix bus that the stems did not get.
    MissingBusProcessing(BusProcessing),
    /// A linear filter on the mix bus that the stems did not get.
    BusEq(BusEq),
    /// Content in the mix that no stem carries: an effect return or a part.
    AddedContent(AddedContent),
    /// The stems went one by one through the mix bus's processing (see [`MasterChain`]).
    MasterProcessingOnStems(MasterChain),
    /// One stem's level moves in the mix while the others hold theirs: automation the stem
    /// export did not print (see [`LevelRide`]).
    LevelRide(LevelRide),
    /// The mix or the stems went through a lossy codec: the residual is coding noise (see
    /// [`LossyCodec`]).
    LossyCodec(LossyCodec),
    /// The stems do not null and no model explains the residual.
    UnexplainedResidual {
        /// The residual with one global gain, dB re mix.
        residual_db: f64,
        /// How much deeper a time-varying (dynamics) gain nulls than the global gain, dB.
        null_gain_with_dynamics_db: f64,
        /// How much deeper a linear filter (EQ) nulls than the global gain, dB.
        null_gain_with_eq_db: f64,
        /// Stems that could not enter the sum: the residual may be theirs.
        may_be_excluded: Vec<String>,
        /// What it does to the sum as delivered.
        sum: SumImpact,
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
            Self::LevelRide(r) => r.residual_db,
            Self::LossyCodec(l) => Some(l.residual_db),
            Self::MasterRide(r) => Some(r.residual_db),
            _ => None,
        }
    }

    /// What the cause does to the sum as delivered, for the causes that can stop the stems
    /// summing back to the mix (offsets, gains, bus processing, added content, the
    /// unexplained residual).
    pub fn sum_impact_mut(&mut self) -> Option<&mut SumImpact> {
        match self {
            Self::StartOffset(StartOffset { sum, .. })
            | Self::SetGain(SetGain { sum, .. })
            | Self::StemGain(StemGain { sum, .. })
            | Self::StemGains(StemGains { sum, .. })
            | Self::MissingBusProcessing(BusProcessing { sum, .. })
            | Self::BusEq(BusEq { sum, .. })
            | Self::AddedContent(AddedContent { sum, .. })
            | Self::LevelRide(LevelRide { sum, .. })
            | Self::ContainedStem(ContainedStem { sum, .. })
            | Self::Dropout(Dropout { sum, .. })
            | Self::ClippedExport(ClippedExport { sum, .. })
            | Self::DcMismatch(DcMismatch { sum, .. })
            | Self::Ducking(Ducking { sum, .. })
            | Self::FoldedToMono(FoldedToMono { sum, .. })
            | Self::MasterRide(MasterRide { sum, .. })
            | Self::UnexplainedResidual { sum, .. } => Some(sum),
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
            Self::StemGains(g) => g.side_effect_of = Some(by),
            _ => {}
        }
    }

    /// Notes on a missing-content cause (an added part or effect return, an unexplained
    /// residual) that stems left out of the sum (`excluded`, report names) may hold what the
    /// sum misses; the finding then says so. Other causes are left as they are.
    pub fn note_excluded(&mut self, excluded: &[String]) {
        match self {
            Self::AddedContent(a) => a.may_be_excluded = excluded.to_vec(),
            Self::UnexplainedResidual {
                may_be_excluded, ..
            } => *may_be_excluded = excluded.to_vec(),
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
            | Self::PolarityInverted { file, .. }
            | Self::ChannelFault(ChannelFault { file, .. })
            | Self::StemGain(StemGain { file, .. })
            | Self::Dropout(Dropout { file, .. })
            | Self::ClippedExport(ClippedExport { file, .. })
            | Self::FoldedToMono(FoldedToMono { file, .. })
            | Self::CutOff { file, .. } => one(file),
            Self::ClockDrift(d) => {
                one(&mut d.file);
                d.stems.iter_mut().for_each(one);
            }
            Self::ContainedStem(c) => {
                one(&mut c.file);
                one(&mut c.contains);
            }
            Self::DcMismatch(d) => {
                d.by_file.iter_mut().for_each(|(f, _)| one(f));
                d.mix.iter_mut().for_each(one);
                d.offset_by_channel.iter_mut().for_each(|(f, _)| one(f));
            }
            Self::Ducking(d) => {
                one(&mut d.file);
                d.key.iter_mut().for_each(one);
                one(&mut d.closest_other);
            }
            Self::MixCandidates(m) => {
                one(&mut m.mix);
                m.references.iter_mut().for_each(one);
                m.stems.iter_mut().for_each(one);
                m.null_by_file_db.iter_mut().for_each(|(f, _)| one(f));
            }
            Self::ReconciliationIncomplete { excluded } => {
                excluded.iter_mut().for_each(|e| one(&mut e.path));
            }
            Self::AddedContent(a) => a.may_be_excluded.iter_mut().for_each(one),
            Self::UnexplainedResidual {
                may_be_excluded, ..
            } => may_be_excluded.iter_mut().for_each(one),
            Self::SampleRateProfile { files, .. }
            | Self::BitDepthMismatch { files, .. }
            | Self::WiderThanMix { files, .. }
            | Self::MixedChannelLayouts { files, .. }
            | Self::NamedAlike { files }
            | Self::Duplicate { files, .. }
            | Self::LowBitDepth { files, .. }
            | Self::DualMono { files }
            | Self::SplitStereo { pairs: files }
            | Self::UnfinalisedSizes { files }
            | Self::TimecodeMismatch(TimecodeMismatch { files, .. })
            | Self::Skipped { files }
            | Self::MissingFxStem { files, .. }
            | Self::StartOffset(StartOffset { files, .. }) => files.iter_mut().for_each(one),
            Self::UnreadAudioFormat { by_file } => by_file.iter_mut().for_each(|(f, _)| one(f)),
            Self::Naming { by_file } => by_file.iter_mut().for_each(|(f, _)| one(f)),
            Self::ChannelsProfile { by_file, .. } => by_file.iter_mut().for_each(|(f, _)| one(f)),
            Self::LoudnessOffTarget { file, .. } | Self::EdgeSilence { file, .. } => one(file),
            Self::Silent { by_file, .. } => by_file.iter_mut().for_each(|(f, _)| one(f)),
            Self::NonFiniteSamples { by_file } => by_file.iter_mut().for_each(|(f, _)| one(f)),
            Self::Clipping { by_file, .. } => by_file.iter_mut().for_each(|(f, _)| one(f)),
            Self::FloatOver { by_file, .. }
            | Self::TruePeakOver { by_file, .. }
            | Self::LowHeadroom { by_file, .. } => by_file.iter_mut().for_each(|(f, _)| one(f)),
            Self::DcOffset { by_file, mix, .. } => {
                by_file.iter_mut().for_each(|(f, _)| one(f));
                mix.iter_mut().for_each(|(f, _)| one(f));
            }
            Self::StemGains(g) => g.stems.iter_mut().for_each(|s| one(&mut s.file)),
            Self::MasterProcessingOnStems(m) => {
                m.stems.iter_mut().for_each(one);
                one(&mut m.mix);
            }
            Self::LevelRide(r) => r.stems.iter_mut().for_each(|s| one(&mut s.file)),
            Self::LossyCodec(l) => one(&mut l.mix),
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
            | Self::TooFewStems { .. }
            | Self::SetGain(_)
            | Self::SumMatchesMix { .. }
            | Self::MissingBusProcessing(_)
            | Self::MasterRide(_)
            | Self::BusEq(_) => {}
        }
    }
}

/// Folds every consequence of a reported cause into that cause, where the reconciliation's
/// causes join the delivery causes: lengths and cut-off audio a start offset explains
/// ([`fold_lengths_into_offsets`]) and the mix's flat tops when the mix went through bus
/// processing the stems did not ([`fold_mix_clipping_into_bus_processing`]).
pub fn fold_consequences(causes: &mut Vec<Cause>) {
    fold_lengths_into_offsets(causes);
    fold_lengths_into_cut_offs(causes);
    fold_mix_clipping_into_bus_processing(causes);
    fold_weak_added_content_into_drift(causes);
}

/// Whether `stem`, as a reconciliation cause names a stem, is or holds the file `file`: a
/// stereo stem delivered as two mono files is named `"<left> + <right>"` (see
/// `analyze::split_stereo`), while the delivery checks name each file.
fn stem_names_file(stem: &str, file: &str) -> bool {
    stem == file || split_pair(stem).is_some_and(|(l, r)| l == file || r == file)
}

/// The two files of a stereo stem delivered as two mono files, when `stem` is such a pair's
/// name (`"<left> + <right>"`, each a file name with an extension) rather than one file's.
pub(crate) fn split_pair(stem: &str) -> Option<(&str, &str)> {
    stem.split_once(" + ")
        .filter(|(l, r)| l.contains('.') && r.contains('.'))
}

/// A stem whose export range stopped short (a [`Cause::CutOff`] the mix still holds audio
/// for) is shorter than the other files for that reason: its `length_mismatch` is that cause's
/// finding, not a second one (which called a cut tail silent when its own last samples were).
pub fn fold_lengths_into_cut_offs(causes: &mut Vec<Cause>) {
    let cut: Vec<String> = causes
        .iter()
        .filter_map(|c| match c {
            Cause::CutOff {
                file,
                audible_in_mix: true,
                ..
            } => Some(file.clone()),
            _ => None,
        })
        .collect();
    if cut.is_empty() {
        return;
    }
    for c in causes.iter_mut() {
        if let Cause::UnequalLengths { files, .. } = c {
            files.retain(|f| !cut.iter().any(|c| stem_names_file(c, f)));
        }
    }
    causes.retain(|c| !matches!(c, Cause::UnequalLengths { files, .. } if files.is_empty()));
}

/// A drifting stem is read on the mix's clock for the diagnosis, but through a line fitted to
/// whole-window lags: measured on the corpus (100 ppm, three songs) the corrected sum nulls to
/// only -25 to -31 dB, the rest high-frequency smear of the correction. That residual has
/// onsets of its own (the drifting stem's), so the added-content model can read it as a part
/// no stem carries. With a [`Cause::ClockDrift`] reported, added content whose evidence is
/// weak is that smear and is not reported beside it; strong evidence of a part stays.
pub fn fold_weak_added_content_into_drift(causes: &mut Vec<Cause>) {
    if causes.iter().any(|c| matches!(c, Cause::ClockDrift(_))) {
        causes.retain(|c| !matches!(c, Cause::AddedContent(a) if !a.strong));
    }
}

/// A stem the reconciliation found folded to mono ([`Cause::FoldedToMono`]) is one cause: it
/// leaves the delivery check's [`Cause::MixedChannelLayouts`], which says only that it is mono.
pub fn fold_layout_into_folded_stems(causes: &mut Vec<Cause>) {
    let folded: Vec<String> = causes
        .iter()
        .filter_map(|c| match c {
            Cause::FoldedToMono(f) => Some(f.file.clone()),
            _ => None,
        })
        .collect();
    if folded.is_empty() {
        return;
    }
    for c in causes.iter_mut() {
        if let Cause::MixedChannelLayouts { files, .. } = c {
            files.retain(|f| !folded.contains(f));
        }
    }
    causes.retain(|c| !matches!(c, Cause::MixedChannelLayouts { files, .. } if files.is_empty()));
}

/// A stem whose clipping the reconciliation found in the sum ([`Cause::ClippedExport`]) is one
/// cause: its flat-topped runs ([`Cause::Clipping`]) move into that finding, which says what the
/// clipping does to the sum; other stems' clipping stays as it is.
pub fn fold_clipping_into_clipped_exports(causes: &mut Vec<Cause>) {
    let clipped: Vec<String> = causes
        .iter()
        .filter_map(|c| match c {
            Cause::ClippedExport(d) => Some(d.file.clone()),
            _ => None,
        })
        .collect();
    if clipped.is_empty() {
        return;
    }
    let mut runs: Vec<(String, ClipRuns)> = Vec::new();
    for c in causes.iter_mut() {
        if let Cause::Clipping {
            by_file,
            is_stem: true,
        } = c
        {
            let (moved, kept) = std::mem::take(by_file)
                .into_iter()
                .partition(|(f, _)| clipped.iter().any(|c| stem_names_file(c, f)));
            *by_file = kept;
            runs.extend(moved);
        }
    }
    causes.retain(|c| !matches!(c, Cause::Clipping { by_file, .. } if by_file.is_empty()));
    for c in causes.iter_mut() {
        if let Cause::ClippedExport(d) = c {
            d.runs = runs
                .iter()
                .find(|(f, _)| stem_names_file(&d.file, f))
                .map(|(_, r)| *r);
        }
    }
}

/// Files whose DC offset the reconciliation found stopping the sum ([`Cause::DcMismatch`])
/// are one cause each way: the delivery check's [`Cause::DcOffset`] for them (over the
/// profile's limit) is part of that finding, not a second one.
pub fn fold_dc_offsets_into_mismatch(causes: &mut Vec<Cause>) {
    let named: Vec<String> = causes
        .iter()
        .filter_map(|c| match c {
            Cause::DcMismatch(d) => Some(d.by_file.iter().map(|(f, _)| f.clone())),
            _ => None,
        })
        .flatten()
        .collect();
    if named.is_empty() {
        return;
    }
    for c in causes.iter_mut() {
        if let Cause::DcOffset { by_file, mix, .. } = c {
            by_file.retain(|(f, _)| !named.contains(f));
            if mix.as_ref().is_some_and(|(f, _)| named.contains(f)) {
                *mix = None;
            }
        }
    }
    causes.retain(|c| !matches!(c, Cause::DcOffset { by_file, .. } if by_file.is_empty()));
}

/// The mix's flat-topped runs are the mix bus's doing when the diagnosis found bus processing
/// the stems did not get (a limiter's or clipper's ceiling holds samples there): that
/// [`Cause::MissingBusProcessing`] already counts them (`clipped_frames`) and names the fix,
/// so the mix's own [`Cause::Clipping`] is not reported beside it. Stems' clipping stays.
pub fn fold_mix_clipping_into_bus_processing(causes: &mut Vec<Cause>) {
    if causes
        .iter()
        .any(|c| matches!(c, Cause::MissingBusProcessing(_)))
    {
        causes.retain(|c| !matches!(c, Cause::Clipping { is_stem: false, .. }));
    }
}

/// Lengths within this many frames of a start offset's shift are that shift's doing (an
/// export that starts late by N samples usually also ends N samples short or long, give or
/// take a sample of resampling or block rounding).
pub const LENGTH_OFFSET_SLACK_SAMPLES: u64 = 2;

/// Folds length differences that a reported start offset explains into that offset: a stem
/// shifted by N samples that is also N samples longer or shorter than the others is one
/// `start_offset` (which then mentions the length), not also a `length_mismatch`.
///
/// Run where the reconciliation's causes join the delivery causes: an [`Cause::UnequalLengths`]
/// loses every file whose length differs from the common length by the shift of a
/// [`Cause::StartOffset`] naming it (within [`LENGTH_OFFSET_SLACK_SAMPLES`]), and disappears
/// when no file is left. A [`Cause::CutOff`] of a stem at the same shift, missing no more than
/// the shift (within the slack), is that shift's doing too (a stem exported late at the mix's
/// length loses its last N samples): it becomes the offset's `cut_off`. When every stem is
/// shifted alike, the file whose length differs by the shift is the mix (stems exported from
/// the session's start, the mix from the song's): the stems' length against it is folded too.
pub fn fold_lengths_into_offsets(causes: &mut Vec<Cause>) {
    let shifts: Vec<(usize, Vec<String>, u64)> = causes
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c {
            Cause::StartOffset(s) => Some((i, s.files.clone(), s.offset_samples.unsigned_abs())),
            _ => None,
        })
        .collect();
    // Every stem shifted alike (exported from the session start, the mix from the song's):
    // the one file of another length is the mix, by that shift.
    let all_stems = causes.iter().enumerate().find_map(|(i, c)| match c {
        Cause::StartOffset(s) if s.active_stems > 1 && s.files.len() == s.active_stems => {
            Some((i, s.offset_samples.unsigned_abs()))
        }
        _ => None,
    });
    if shifts.is_empty() {
        return;
    }
    // (start offset's index, length difference) for every folded file.
    let mut folded: Vec<(usize, i64)> = Vec::new();
    for c in causes.iter_mut() {
        let Cause::UnequalLengths {
            files,
            majority_frames,
            frames_by_file,
            ..
        } = c
        else {
            continue;
        };
        let common = *majority_frames;
        files.retain(|f| {
            let Some(&(_, frames)) = frames_by_file.iter().find(|(n, _)| n == f) else {
                return true;
            };
            let diff = frames as i64 - common as i64;
            let by_shift =
                |shift: u64| diff.unsigned_abs().abs_diff(shift) <= LENGTH_OFFSET_SLACK_SAMPLES;
            let named = |names: &[String]| names.iter().any(|n| stem_names_file(n, f));
            let by = shifts
                .iter()
                .find(|(_, names, shift)| named(names) && by_shift(*shift));
            match (by, all_stems) {
                (Some((i, _, _)), _) => {
                    folded.push((*i, diff));
                    false
                }
                // The mix: the stems are as much longer (or shorter) than it as it is shorter.
                (None, Some((i, shift)))
                    if by_shift(shift) && !shifts.iter().any(|(_, names, _)| named(names)) =>
                {
                    folded.push((i, -diff));
                    false
                }
                (None, _) => true,
            }
        });
    }
    for (i, diff) in folded {
        if let Cause::StartOffset(s) = &mut causes[i] {
            s.length_difference_samples = Some(diff);
        }
    }
    causes.retain(|c| !matches!(c, Cause::UnequalLengths { files, .. } if files.is_empty()));
    fold_cut_offs_into_offsets(causes);
}

/// See [`fold_lengths_into_offsets`]: cut-off audio that a reported shift explains.
fn fold_cut_offs_into_offsets(causes: &mut Vec<Cause>) {
    let mut folded: Vec<(usize, CutOffAudio)> = Vec::new();
    let mut gone = vec![false; causes.len()];
    for (j, c) in causes.iter().enumerate() {
        let Cause::CutOff {
            file,
            offset_samples,
            missing_frames,
            at_start,
            ..
        } = c
        else {
            continue;
        };
        let by = causes.iter().position(|s| {
            matches!(s, Cause::StartOffset(s) if s.offset_samples == *offset_samples
                && s.files.contains(file)
                && missing_frames.unsigned_abs()
                    <= s.offset_samples.unsigned_abs() + LENGTH_OFFSET_SLACK_SAMPLES)
        });
        if let Some(i) = by {
            let cut = CutOffAudio {
                missing_frames: *missing_frames,
                at_start: *at_start,
            };
            folded.push((i, cut));
            gone[j] = true;
        }
    }
    for (i, cut) in folded {
        if let Cause::StartOffset(s) = &mut causes[i] {
            // Several stems at one shift: the most any of them misses.
            s.cut_off = Some(match s.cut_off {
                Some(c) if c.missing_frames >= cut.missing_frames => c,
                _ => cut,
            });
        }
    }
    let mut j = 0;
    causes.retain(|_| {
        j += 1;
        !gone[j - 1]
    });
}

/// Stems with gain errors of their own are one cause from this many on (a set exported with
/// normalisation, or from another mix's faders).
pub const GROUP_GAINS_FROM: usize = 3;

/// Groups the per-stem gain causes that are not side effects into one [`Cause::StemGains`]
/// when there are [`GROUP_GAINS_FROM`] or more, at the place of the first; it breaks the sum
/// when any of them does. `active_stems`: the set's active stems (for the wording).
pub fn group_stem_gains(causes: Vec<Cause>, active_stems: usize) -> Vec<Cause> {
    let own = |c: &Cause| matches!(c, Cause::StemGain(g) if g.side_effect_of.is_none());
    if causes.iter().filter(|c| own(c)).count() < GROUP_GAINS_FROM {
        return causes;
    }
    let first = causes.iter().position(own).unwrap_or(0);
    let (mut out, mut stems) = (Vec::with_capacity(causes.len()), Vec::new());
    for c in causes {
        match c {
            Cause::StemGain(g) if g.side_effect_of.is_none() => stems.push(g),
            c => out.push(c),
        }
    }
    let sum = stems
        .iter()
        .map(|g| g.sum)
        .find(|s| s.breaks_sum)
        .unwrap_or_default();
    let group = StemGains {
        tolerance_db: stems.first().map_or(0.0, |g| g.tolerance_db),
        stems,
        active_stems,
        normalised_peak_dbfs: None,
        side_effect_of: None,
        sum,
    };
    out.insert(first.min(out.len()), Cause::StemGains(group));
    out
}

/// Groups the per-stem gains that are side effects of one whole-mix cause (bus processing, an
/// EQ, added content...) into one [`Cause::StemGains`] carrying that cause, at the place of the
/// first: one cause bends every stem's fit, so it is one finding (three compressed-mix stems
/// that each read 5-7 dB cold were three info findings, each with a re-export "fix" for a stem
/// that is right). A gain that swings with content no stem carries keeps its own finding (it
/// says which stem the fit leans on); a lone side-effect gain stays as it is.
/// `active_stems`: the set's active stems (for the wording).
pub fn group_side_effect_gains(causes: Vec<Cause>, active_stems: usize) -> Vec<Cause> {
    let grouped = |c: &Cause| match c {
        Cause::StemGain(g) if !g.follows_added_content => g.side_effect_of,
        Cause::StemGains(g) => g.side_effect_of,
        _ => None,
    };
    let mut out: Vec<Cause> = Vec::with_capacity(causes.len());
    for c in causes {
        let Some(by) = grouped(&c) else {
            out.push(c);
            continue;
        };
        let Some(at) = out.iter().position(|o| grouped(o) == Some(by)) else {
            out.push(c);
            continue;
        };
        let mut stems = match std::mem::replace(&mut out[at], Cause::NoMix) {
            Cause::StemGain(g) => vec![g],
            Cause::StemGains(g) => g.stems,
            _ => unreachable!("only gains are grouped"),
        };
        let tolerance_db = match &c {
            Cause::StemGains(g) => g.tolerance_db,
            Cause::StemGain(g) => g.tolerance_db,
            _ => unreachable!("only gains are grouped"),
        };
        match c {
            Cause::StemGain(g) => stems.push(g),
            Cause::StemGains(g) => stems.extend(g.stems),
            _ => unreachable!("only gains are grouped"),
        }
        let sum = stems
            .iter()
            .map(|g| g.sum)
            .find(|s| s.breaks_sum)
            .unwrap_or_default();
        out[at] = Cause::StemGains(StemGains {
            active_stems: active_stems.max(stems.len()),
            tolerance_db,
            stems,
            normalised_peak_dbfs: None,
            side_effect_of: Some(by),
            sum,
        });
    }
    out
}

/// Stems whose delivered sample peaks lie within this many dB of each other sit at one level:
/// a normalising export (each stem raised or lowered to one peak), not their mix levels.
pub const NORMALISED_PEAK_SPREAD_DB: f64 = 0.1;

/// Names the cause of grouped stem gains when the stems were normalised: their sample peaks
/// (`peak_of` a file name, dBFS) all sit within [`NORMALISED_PEAK_SPREAD_DB`] of one level.
/// Only the gains that are a cause of their own ([`group_stem_gains`]) are judged.
pub fn mark_normalised(causes: &mut [Cause], peak_of: impl Fn(&str) -> Option<f64>) {
    for c in causes {
        // Gains grouped as another cause's side effects are that cause's (stems through the
        // master chain also share one peak, see `master_chain`).
        let Cause::StemGains(g) = c else { continue };
        if g.side_effect_of.is_some() {
            continue;
        }
        let peaks: Option<Vec<f64>> = g.stems.iter().map(|s| peak_of(&s.file)).collect();
        let Some(peaks) = peaks.filter(|p| !p.is_empty()) else {
            continue;
        };
        let lo = peaks.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = peaks.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if hi - lo <= NORMALISED_PEAK_SPREAD_DB {
            g.normalised_peak_dbfs = Some(hi);
        }
    }
}

/// Splits a [`Cause::StemGains`] back into one cause per stem (to judge each on its own,
/// e.g. as a side effect of a whole-mix cause), in place.
pub fn ungroup_stem_gains(causes: Vec<Cause>) -> Vec<Cause> {
    ungroup(causes)
}

/// Marks every gain cause (stem or set) for which `side_effect` holds as a side effect of the
/// cause `by` ([`Cause::attribute_to`]), judging grouped stem gains one by one and grouping
/// them again over `active_stems`.
pub fn attribute_gains_to(
    causes: Vec<Cause>,
    active_stems: usize,
    by: FindingCode,
    side_effect: impl Fn(&Cause) -> bool,
) -> Vec<Cause> {
    let mut causes = ungroup(causes);
    for c in &mut causes {
        if side_effect(c) {
            c.attribute_to(by);
        }
    }
    group_stem_gains(causes, active_stems)
}

fn ungroup(causes: Vec<Cause>) -> Vec<Cause> {
    causes
        .into_iter()
        .flat_map(|c| match c {
            Cause::StemGains(g) => g.stems.into_iter().map(Cause::StemGain).collect(),
            c => vec![c],
        })
        .collect()
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
            length_difference_samples: None,
            cut_off: None,
            sum: SumImpact::default(),
        }
    }

    fn added(strong: bool) -> Cause {
        fixtures::added_part(strong)
    }

    #[test]
    fn weak_added_content_beside_a_drift_is_the_drift_correction() {
        let drift = Cause::ClockDrift(ClockDrift {
            file: "Bass.wav".into(),
            stems: Vec::new(),
            ppm: -100.0,
            offset_start_samples: 0.0,
            offset_end_samples: -154.0,
            sample_rate: 48_000,
            windows: 7,
        });
        let mut causes = vec![added(false), drift.clone(), added(true)];
        fold_consequences(&mut causes);
        assert_eq!(causes, vec![drift, added(true)]);
        // Without a drift, weak evidence of a part is still reported.
        let mut alone = vec![added(false)];
        fold_consequences(&mut alone);
        assert_eq!(alone.len(), 1);
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
    fn a_length_difference_a_shift_explains_is_folded_into_it() {
        let lengths = |odd: Vec<&str>, frames: Vec<(&str, u64)>| Cause::UnequalLengths {
            files: odd.into_iter().map(String::from).collect(),
            majority_frames: 48_000,
            sample_rate: 48_000,
            frames_by_file: frames.into_iter().map(|(f, n)| (f.to_owned(), n)).collect(),
            silent_tails: false,
        };
        // b is 480 samples late and 481 samples short: one start_offset.
        let mut causes = vec![
            lengths(vec!["b"], vec![("a", 48_000), ("b", 47_519), ("c", 48_000)]),
            Cause::StartOffset(shift("b", 480, 0.9)),
        ];
        fold_lengths_into_offsets(&mut causes);
        assert_eq!(causes.len(), 1, "{causes:#?}");
        let f = causes[0].to_finding();
        assert_eq!(f.measured["length_difference_samples"], -481);
        assert!(
            f.message.contains("it is 481 samples shorter"),
            "{}",
            f.message
        );
        // A length difference of another size stays a length_mismatch of its own.
        let mut causes = vec![
            lengths(
                vec!["b", "c"],
                vec![("a", 48_000), ("b", 47_520), ("c", 47_000)],
            ),
            Cause::StartOffset(shift("b", 480, 0.9)),
            Cause::StartOffset(shift("c", 480, 0.9)),
        ];
        fold_lengths_into_offsets(&mut causes);
        assert_eq!(causes.len(), 3);
        assert_eq!(causes[0].files(), vec!["c"]);
        // Every stem 72000 samples late (exported from the session's start): the mix is the
        // file of another length, by that shift. One start_offset.
        let all = |shift_samples: i64| {
            Cause::StartOffset(StartOffset {
                files: vec!["a".into(), "b".into(), "c".into()],
                ..shift("a", shift_samples, 0.99)
            })
        };
        let stems_longer = || Cause::UnequalLengths {
            files: vec!["mix".into()],
            majority_frames: 120_000,
            sample_rate: 48_000,
            frames_by_file: ["a", "b", "c"]
                .iter()
                .map(|f| (f.to_string(), 120_000))
                .chain([("mix".to_owned(), 48_000)])
                .collect(),
            silent_tails: true,
        };
        let mut causes = vec![stems_longer(), all(72_000)];
        fold_lengths_into_offsets(&mut causes);
        assert_eq!(causes.len(), 1, "{causes:#?}");
        let f = causes[0].to_finding();
        assert_eq!(f.measured["length_difference_samples"], 72_000);
        assert!(
            f.message.contains("they are 72000 samples longer"),
            "{}",
            f.message
        );
        // Not when the mix's length differs by another amount.
        let mut causes = vec![stems_longer(), all(480)];
        fold_lengths_into_offsets(&mut causes);
        assert_eq!(causes.len(), 2, "{causes:#?}");
    }

    #[test]
    fn audio_a_shift_cuts_off_is_folded_into_it() {
        let cut = |file: &str, offset_samples, missing_frames| Cause::CutOff {
            file: file.into(),
            offset_samples,
            missing_frames,
            at_start: false,
            sample_rate: 48_000,
            audible_in_mix: false,
        };
        // b is 480 samples late at the mix's length: its last 480 samples are cut off. One
        // start_offset (an error) that says so, and whose fix is a re-export, not a trim.
        let mut causes = vec![Cause::StartOffset(shift("b", 480, 0.9)), cut("b", 480, 480)];
        fold_lengths_into_offsets(&mut causes);
        assert_eq!(causes.len(), 1, "{causes:#?}");
        let f = causes[0].to_finding();
        assert_eq!(f.code, FindingCode::StartOffset);
        assert_eq!(f.measured["cut_off_samples"], 480);
        assert_eq!(f.measured["cut_off_at"], "end");
        assert!(
            f.message.contains("misses 480 samples of audio at its end"),
            "{}",
            f.message
        );
        assert!(f.fix.starts_with("Re-export this stem"), "{}", f.fix);
        // Audio missing beyond what the shift explains, or on another stem, stays its own.
        let mut causes = vec![
            Cause::StartOffset(shift("b", 480, 0.9)),
            cut("b", 480, 9_000),
            cut("c", 0, 480),
        ];
        fold_lengths_into_offsets(&mut causes);
        assert_eq!(causes.len(), 3, "{causes:#?}");
    }

    /// A stem whose export stopped short while the mix plays on is one error (its cut-off),
    /// not also a length_mismatch warning that calls its tail silent; other short files stay.
    #[test]
    fn a_short_export_the_mix_still_holds_is_one_error() {
        let lengths = |files: &[&str]| Cause::UnequalLengths {
            files: files.iter().map(|f| f.to_string()).collect(),
            majority_frames: 1_536_000,
            sample_rate: 48_000,
            frames_by_file: vec![("d".into(), 720_000), ("k".into(), 1_535_000)],
            silent_tails: true,
        };
        let cut = Cause::CutOff {
            file: "d".into(),
            offset_samples: 0,
            missing_frames: 816_000,
            at_start: false,
            sample_rate: 48_000,
            audible_in_mix: true,
        };
        let mut causes = vec![lengths(&["d"]), cut.clone()];
        fold_consequences(&mut causes);
        assert_eq!(causes, vec![cut.clone()]);
        let f = cut.to_finding();
        assert_eq!(
            (f.code, f.severity),
            (FindingCode::LengthMismatch, Severity::Error)
        );
        assert!(
            f.message.contains("the mix still holds its part"),
            "{}",
            f.message
        );
        let mut causes = vec![lengths(&["d", "k"]), cut.clone()];
        fold_consequences(&mut causes);
        assert_eq!(causes.len(), 2);
        assert_eq!(causes[0].files(), vec!["k"]);
    }

    #[test]
    fn the_mix_flat_tops_under_bus_processing_are_that_cause() {
        let clip = |is_stem| Cause::Clipping {
            by_file: vec![(
                "m".into(),
                ClipRuns {
                    runs: 4,
                    longest_run_samples: 3,
                },
            )],
            is_stem,
        };
        let mut causes = vec![clip(false), clip(true)];
        fold_consequences(&mut causes);
        assert_eq!(causes.len(), 2, "no bus processing: both stay");
        causes.push(Cause::UnexplainedResidual {
            residual_db: -20.0,
            null_gain_with_dynamics_db: 0.0,
            null_gain_with_eq_db: 0.0,
            may_be_excluded: Vec::new(),
            sum: SumImpact::default(),
        });
        let mut with_bus = causes.clone();
        with_bus[2] = Cause::BusEq(BusEq {
            evidence: Evidence::Strong,
            explained_db: -20.0,
            curve: vec![],
            curve_span_db: 0.0,
            residual_db: -20.0,
            residual_with_eq_db: -30.0,
            null_gain_db: 10.0,
            null_gain_with_dynamics_db: 0.0,
            explained_share: 0.9,
            sum: SumImpact::default(),
        });
        fold_consequences(&mut with_bus);
        assert_eq!(with_bus.len(), 3, "an EQ does not flat-top the mix");
        let Cause::MissingBusProcessing(mut limiting) = fixtures::bus_compression(4.0) else {
            unreachable!("the fixture is bus processing")
        };
        limiting.kind = DynamicsKind::Limiting;
        limiting.quiet_passage_gain_db = 0.0;
        limiting.crest_factor_drop_db = 7.0;
        limiting.peak_pinned_share = 0.5;
        limiting.mix_ceiling_dbfs = -18.4;
        limiting.clipped_frames = 4;
        with_bus[2] = Cause::MissingBusProcessing(limiting);
        fold_consequences(&mut with_bus);
        // The mix's flat tops are the limiter's; the stem's clipping stays.
        assert_eq!(with_bus.len(), 2, "{with_bus:#?}");
        assert!(matches!(with_bus[0], Cause::Clipping { is_stem: true, .. }));
    }

    #[test]
    fn counts_are_worded_in_the_right_number() {
        let one = Cause::StartOffset(shift("a", 1, 0.9)).to_finding();
        assert!(one.message.contains("starts 1 sample ("), "{}", one.message);
        assert!(one.fix.contains("the first 1 sample of"), "{}", one.fix);
        let two = Cause::StartOffset(shift("a", -2, 0.9)).to_finding();
        assert!(two.message.contains("2 samples ("), "{}", two.message);
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

    fn gain(file: &str, gain_db: f64, by: Option<FindingCode>) -> Cause {
        fixtures::stem_gain(file, gain_db, by)
    }

    /// The gains one whole-mix cause bends are one finding at the first one's place, saying
    /// to leave the levels alone; a gain of another cause's, one that follows added content
    /// and a gain of its own keep their findings.
    #[test]
    fn gains_one_cause_bends_are_one_finding() {
        let bus = Some(FindingCode::MissingBusProcessing);
        let mut follows = gain("e", 3.0, Some(FindingCode::MissingElement));
        if let Cause::StemGain(g) = &mut follows {
            g.follows_added_content = true;
        }
        let causes = vec![
            Cause::NoMix,
            gain("a", -5.9, bus),
            gain("own", 4.0, None),
            gain("b", -5.4, bus),
            gain("c", 1.0, Some(FindingCode::BusEq)),
            follows.clone(),
            gain("d", -6.8, bus),
        ];
        let out = group_side_effect_gains(causes, 6);
        assert_eq!(out.len(), 5, "{out:#?}");
        let Cause::StemGains(g) = &out[1] else {
            panic!("the group takes the first gain's place: {:?}", out[1]);
        };
        let files: Vec<&str> = g.stems.iter().map(|s| s.file.as_str()).collect();
        assert_eq!(files, ["a", "b", "d"]);
        assert_eq!((g.side_effect_of, g.active_stems), (bus, 6));
        assert!(matches!(&out[2], Cause::StemGain(g) if g.file == "own"));
        assert!(matches!(&out[3], Cause::StemGain(g) if g.file == "c"));
        assert_eq!(out[4], follows);
        let f = out[1].to_finding();
        assert_eq!(f.severity, Severity::Info);
        assert_eq!(f.files, ["a", "b", "d"]);
        assert!(f.message.starts_with("3 of the 6 stems"), "{}", f.message);
        assert!(
            f.message.contains("not necessarily the stems' levels"),
            "{}",
            f.message
        );
        assert!(f.fix.starts_with("Leave these stems' levels"), "{}", f.fix);
        // A group grouped again (the master chain re-attributes) takes further gains in.
        let again = group_side_effect_gains(vec![out[1].clone(), gain("x", 2.0, bus)], 6);
        assert!(matches!(&again[..], [Cause::StemGains(g)] if g.stems.len() == 4));
    }

    /// Stems through the master chain share one peak like normalised stems; their gains, the
    /// chain's side effects, are not named a normalisation.
    #[test]
    fn side_effect_gains_are_not_named_normalised() {
        let bus = Some(FindingCode::MissingBusProcessing);
        let mut causes =
            group_side_effect_gains(vec![gain("a", -1.0, bus), gain("b", -2.0, bus)], 2);
        mark_normalised(&mut causes, |_| Some(-0.3));
        assert!(matches!(&causes[0], Cause::StemGains(g) if g.normalised_peak_dbfs.is_none()));
        let mut own = group_stem_gains(
            vec![
                gain("a", -1.0, None),
                gain("b", -2.0, None),
                gain("c", 3.0, None),
            ],
            3,
        );
        mark_normalised(&mut own, |_| Some(-0.3));
        assert!(matches!(&own[0], Cause::StemGains(g) if g.normalised_peak_dbfs == Some(-0.3)));
    }
}
