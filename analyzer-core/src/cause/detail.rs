//! The numbers behind the larger causes: one struct per cause whose variant of [`Cause`]
//! carries more than a few fields, and the small enums that qualify them. Kept apart from the
//! enum itself so `cause.rs` reads as the list of what the analysis can find.
//!
//! [`Cause`]: super::Cause

use crate::capture::CaptureState;
use crate::report::FindingCode;

/// Octave bands of a bus EQ curve at or above this coherence are described (below it the
/// band's gain is not a filter's).
pub const COHERENT_BAND: f64 = 0.8;

/// What is wrong with a file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamingProblem {
    /// The name contains spaces (scripts and some tools split on them).
    Spaces,
    /// The characters outside `[A-Za-z0-9._-]`, in order.
    Characters(String),
    /// The stem's name does not say what it holds.
    SaysNothing,
    /// The name does not match the profile's `file_name_pattern` (the pattern).
    Pattern(String),
}

impl std::fmt::Display for NamingProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Spaces => f.write_str("contains spaces"),
            Self::Characters(bad) => {
                write!(f, "contains characters outside [A-Za-z0-9._-]: {bad:?}")
            }
            Self::SaysNothing => f.write_str("does not say what the stem holds"),
            Self::Pattern(p) => write!(f, "does not match the profile's pattern {p}"),
        }
    }
}

/// Where a file's NaN or infinite samples are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NonFinite {
    /// Non-finite samples (all channels).
    pub count: u64,
    /// Time of the first one, s from the start of the file.
    pub first_s: f64,
}

/// A file's clipped (flat-topped) runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClipRuns {
    /// Runs of consecutive equal samples at the file's peak level.
    pub runs: u64,
    /// The longest such run, samples.
    pub longest_run_samples: u64,
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

/// What a cause does to the stems' sum as delivered (see the report contract: a cause that
/// stops the stems summing back to the mix is an error).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SumImpact {
    /// The stems as delivered miss the profile's null, and this cause is (part of) why.
    pub breaks_sum: bool,
    /// The null of the stems as delivered, dB re mix (stated in the message when set).
    pub null_depth_db: Option<f64>,
    /// The null after every per-stem correction the findings name, dB re mix.
    pub corrected_null_depth_db: Option<f64>,
    /// The profile expects this departure (bus processing under `stem-mastering`): info.
    pub expected_by_profile: bool,
}

impl SumImpact {
    /// The stems as delivered (`null_depth_db`) miss the profile: this cause breaks the sum.
    pub fn breaking(null_depth_db: Option<f64>, corrected_null_depth_db: Option<f64>) -> Self {
        Self {
            breaks_sum: true,
            null_depth_db,
            corrected_null_depth_db,
            expected_by_profile: false,
        }
    }
}

/// Files whose BWF/iXML time stamps disagree with where their audio belongs: spotted to
/// timecode (as a post house conforms a delivery), they land `misplacement_samples` off.
///
/// A warning, not an error: the audio itself is intact and sums as delivered, and many music
/// deliveries are never spotted to timecode (DAWs stamp whatever the session start was). Where
/// they are (film, TV, Atmos), the misplacement is silent and exact, so the finding names it.
#[derive(Debug, Clone, PartialEq)]
pub struct TimecodeMismatch {
    /// The files, all with the same disagreement.
    pub files: Vec<String>,
    /// What they are compared with: the mix, or `None` for the stamp most stems share (when
    /// the mix carries no stamp).
    pub reference: Option<String>,
    /// The reference's stamp (samples since midnight) at `sample_rate`.
    pub reference_stamp_samples: u64,
    /// The files' stamp minus the reference's, at `sample_rate`.
    pub stamped_apart_samples: i64,
    /// The files' measured offset against the mix (positive = their content comes later in
    /// the file than in the mix), at `sample_rate`; `None` where they were not reconciled.
    pub audio_offset_samples: Option<i64>,
    /// The rate the samples count at (the mix's), Hz.
    pub sample_rate: u32,
}

impl TimecodeMismatch {
    /// How far from its place the files' audio lands when spotted to their stamps: positive
    /// = later. Content at mix position `t` sits at file position `t + offset`, spotted at
    /// `stamp + t + offset`; the mix puts it at `reference stamp + t`.
    pub fn misplacement_samples(&self) -> i64 {
        self.stamped_apart_samples
            .saturating_add(self.audio_offset_samples.unwrap_or(0))
    }

    /// The stamp that would spot the files where their audio belongs (at `sample_rate`);
    /// `None` when that lies before midnight (the audio would need trimming instead).
    pub fn right_stamp_samples(&self) -> Option<u64> {
        let right = i128::from(self.reference_stamp_samples)
            - i128::from(self.audio_offset_samples.unwrap_or(0));
        u64::try_from(right).ok()
    }
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
    /// How much longer (positive) or shorter these stems are than the delivery's common
    /// length, frames, when that difference is this shift's doing (folded into this cause by
    /// [`fold_lengths_into_offsets`](super::fold_lengths_into_offsets) rather than reported as
    /// a `length_mismatch` of its own).
    pub length_difference_samples: Option<i64>,
    /// Audio these stems miss once aligned because of this shift (a stem exported late at
    /// the mix's length loses its last N samples), folded into this cause by
    /// [`fold_lengths_into_offsets`](super::fold_lengths_into_offsets) rather than reported
    /// as a `length_mismatch` of its own.
    pub cut_off: Option<CutOffAudio>,
    /// What it does to the sum as delivered.
    pub sum: SumImpact,
}

/// Audio a stem misses at one end once aligned with the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CutOffAudio {
    /// Frames of the mix it does not cover.
    pub missing_frames: i64,
    /// The start is missing (else the end).
    pub at_start: bool,
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
    /// What it does to the sum as delivered.
    pub sum: SumImpact,
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
    /// How much the gain varies window by window, dB (see
    /// [`crate::reconcile::StemFit::window_gain_spread_db`]): a moved fader needs the same
    /// gain everywhere, a gain pulled by content no stem carries does not.
    pub window_gain_spread_db: Option<f64>,
    /// Set by the diagnosis when the gain swings with content no stem carries (its window
    /// spread is too large for a fader offset): the fit leans on this stem to stand in for
    /// that content, and the finding says so instead of asking for a re-export.
    pub follows_added_content: bool,
    /// The centre pan law a mono stem was judged at (`None` for other stems).
    pub pan_law_db: Option<f64>,
    /// The whole-mix cause this gain may be a side effect of.
    pub side_effect_of: Option<FindingCode>,
    /// What it does to the sum as delivered.
    pub sum: SumImpact,
}

/// Several stems that each enter the mix at a gain of their own: one cause (a normalising
/// export, or stems from another mix's faders), every stem's gain in it.
#[derive(Debug, Clone, PartialEq)]
pub struct StemGains {
    /// Each stem off by more than the tolerance, with its gain.
    pub stems: Vec<StemGain>,
    /// Active stems of the set.
    pub active_stems: usize,
    /// The profile's gain tolerance, dB.
    pub tolerance_db: f64,
    /// The stems' common sample peak when they were each normalised to it, dBFS.
    pub normalised_peak_dbfs: Option<f64>,
    /// The whole-mix cause these gains may be a side effect of.
    pub side_effect_of: Option<FindingCode>,
    /// What they do to the sum as delivered.
    pub sum: SumImpact,
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
    /// Each sample of the stem sum maps to the mix through one fixed curve that squashes the
    /// peaks: a soft clipper or saturator.
    Saturation,
    /// The mix's side (left minus right) went through a gain or curve of its own: a stereo
    /// width control or imager (see [`StereoWidth`]).
    StereoWidth,
}

/// What a stereo width on the mix bus measures: the side's gain against the mid's.
#[derive(Debug, Clone, PartialEq)]
pub struct StereoWidth {
    /// The side's gain against the mid's, dB (energy-weighted over the bands): positive = the
    /// mix is wider than the stems' sum.
    pub side_minus_mid_db: f64,
    /// The same per octave band, `(centre Hz, dB)`.
    pub side_minus_mid_db_by_octave: Vec<(f64, f64)>,
    /// How much deeper the mid and side curves null than one gain (cross-validated), dB.
    pub null_gain_db: f64,
    /// How much deeper a curve of its own for the side nulls than one EQ for both channels
    /// (cross-validated), dB.
    pub null_gain_over_linked_eq_db: f64,
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
    /// How much deeper a gain per amplitude of each sample (a clipper's or saturator's curve)
    /// nulls than the global gain, dB (`None` when not measured).
    pub null_gain_with_waveshaper_db: Option<f64>,
    /// Share (0..1) of what any per-frame gain could explain that the cross-validated
    /// time-varying gain explains (added content masks dynamics in the null gain, not here).
    pub explained_share: f64,
    /// What it does to the sum as delivered.
    pub sum: SumImpact,
    /// Correlation of window gain (dB) with the window's level (dB), the mix's or the
    /// stems', whichever the gain falls with more clearly. Window gains are regression gains,
    /// unbiased by content no stem carries.
    pub level_ride_correlation: f64,
    /// Correlation of the window gains measured on even and on odd 10 ms frames: the
    /// movement is reproducible, not noise from added content.
    pub level_ride_reproducibility: f64,
    /// dB of window-gain change per dB of that level.
    pub level_ride_slope_db_per_db: f64,
    /// For [`DynamicsKind::StereoWidth`], what the width measures.
    pub width: Option<StereoWidth>,
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
    /// What it does to the sum as delivered.
    pub sum: SumImpact,
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
    /// Stems that could not enter the sum: the added content may be theirs.
    pub may_be_excluded: Vec<String>,
    /// Frequency under which 10 % of its energy lies, Hz.
    pub spectrum_low_hz: f64,
    /// Frequency under which 90 % of its energy lies, Hz.
    pub spectrum_high_hz: f64,
    /// Its spectral centroid, Hz.
    pub spectrum_centroid_hz: f64,
    /// (band centre Hz, level dB re the loudest band).
    pub octave_bands: Vec<(f64, f64)>,
    /// Its third-octave spectrum beside the mix's (`None` without a whole spectral segment).
    pub signature: Option<crate::report::SpectralSignature>,
    /// What it does to the sum as delivered.
    pub sum: SumImpact,
}

impl AddedContent {
    /// RT60 of the tail (energy decay of 60 dB), s.
    pub fn tail_rt60_s(&self) -> f64 {
        self.tau_s * (1e6f64).ln()
    }
}

/// How the mix was chosen among several candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MixChoice {
    /// The stems' plain sum nulls clearly deepest against it.
    Content,
    /// Its name (the content did not decide: the stems null against no candidate clearly
    /// better than against the others).
    Name,
    /// The user named it (`--mix`).
    Option,
    /// The plugin's metadata says it is the mix.
    Metadata,
}

/// Several files could be the mix: which one is, why, and what the others are.
#[derive(Debug, Clone, PartialEq)]
pub struct MixCandidates {
    /// The mix.
    pub mix: String,
    /// The other candidates that are references (checked as files, not part of the sum).
    pub references: Vec<String>,
    /// Candidates by name whose audio is part of the sum: stems after all.
    pub stems: Vec<String>,
    /// How the mix was chosen.
    pub chosen_by: MixChoice,
    /// The plain stem sum's null against every candidate over a few loud seconds, dB (`None`
    /// when it could not be measured).
    pub null_by_file_db: Vec<(String, Option<f64>)>,
}

/// The stems went one by one through the mix bus's processing (REAPER's "stems via master", a
/// limiter left on the master while exporting stems): each stem was limited on its own, so the
/// loud stems' peaks sit at the mix's ceiling and their sum no longer matches the mix, which
/// was limited as a whole. Named instead of the `missing_bus_processing` / unexplained residual
/// the diagnosis saw, which would send the engineer to the wrong bus.
#[derive(Debug, Clone, PartialEq)]
pub struct MasterChain {
    /// The stems whose sample peaks sit at the mix's ceiling.
    pub stems: Vec<String>,
    /// The mix.
    pub mix: String,
    /// The common ceiling: the mix's sample peak, dBFS.
    pub ceiling_dbfs: f64,
    /// The residual the replaced cause accounted for, dB re mix (when it said).
    pub residual_db: Option<f64>,
    /// The cause the diagnosis named for the residual before this one explained it.
    pub replaced: crate::report::FindingCode,
    /// What it does to the sum as delivered.
    pub sum: SumImpact,
}

/// Stems whose level in the mix moves over time while the other stems hold theirs: fader or
/// volume automation that the stem export did not print (a pre-fader export, automation
/// bypassed). A time-varying gain on one stem also lowers the residual a whole-mix dynamics
/// model leaves, so the diagnosis alone reads it as bus compression; the stems' gains fitted
/// window by window tell the two apart (a bus compressor moves every stem's gain a little, a
/// fader ride moves one stem's a lot and no other's).
#[derive(Debug, Clone, PartialEq)]
pub struct LevelRide {
    /// The ridden stems.
    pub stems: Vec<RiddenStem>,
    /// The largest range of the other active stems' window gains, dB: how steady they are.
    pub steady_range_db: f64,
    /// The residual the replaced cause accounted for, dB re mix (when it said).
    pub residual_db: Option<f64>,
    /// The cause the diagnosis had named for the residual before this one explained it.
    pub replaced: Option<crate::report::FindingCode>,
    /// What it does to the sum as delivered.
    pub sum: SumImpact,
}

/// One stem whose level rides in the mix.
#[derive(Debug, Clone, PartialEq)]
pub struct RiddenStem {
    /// The stem.
    pub file: String,
    /// Its gain fitted over the whole song, dB (a level between the ride's extremes).
    pub gain_db: f64,
    /// Range (largest minus smallest) of its gain fitted window by window, dB: the ride's
    /// depth, as far as the analysis windows saw it.
    pub window_gain_range_db: f64,
}

/// The mix or the stems went through a lossy codec (MP3, AAC, Ogg Vorbis, Opus) before they were
/// delivered: the residual is the codec's coding noise, not content the stems lack. What tells
/// it apart (see `diagnose::explain::codec`): noise in every band, at a share of the mix that
/// rises towards the highs (the codec spends its bits where the ear is most sensitive) and
/// holds from passage to passage (the noise follows the music), following the music instantly
/// (no tail). Which side was coded the residual cannot say: MP3, AAC and Vorbis take energy
/// out of the highs and Opus puts some in, so the highs' balance points either way
/// (`highs_mix_minus_sum_db` is reported, not judged).
#[derive(Debug, Clone, PartialEq)]
pub struct LossyCodec {
    /// The mix, as the report names it.
    pub mix: String,
    /// The mix's power at 8-16 kHz against the plain stem sum's there, dB.
    pub highs_mix_minus_sum_db: f64,
    /// The coding noise (the fitted residual), dB re mix.
    pub residual_db: f64,
    /// The noise's share of the mix per third-octave band, (band centre Hz, dB), for the bands
    /// where the mix has energy.
    pub noise_to_mix_db: Vec<(f64, f64)>,
    /// Mean of `noise_to_mix_db` over 100-500 Hz, dB.
    pub low_db: f64,
    /// Mean over 8-16 kHz (the bands up to 0.45 x the rate), dB.
    pub high_db: f64,
    /// Standard deviation of the noise's share of the mix from passage to passage (about
    /// 0.7 s each, the passages within 30 dB of the loudest), dB.
    pub spread_db: f64,
    /// The cause the residual would otherwise have been reported as.
    pub replaced: Option<crate::report::FindingCode>,
}

/// What is wrong with a stereo stem's channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelFaultKind {
    /// Left and right swapped.
    Swapped,
    /// The left channel polarity-inverted.
    LeftInverted,
    /// The right channel polarity-inverted.
    RightInverted,
}

/// A stereo stem whose channels enter the mix swapped or with one channel inverted: fitted
/// per channel on the analysis windows.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelFault {
    /// The stem.
    pub file: String,
    /// What is wrong.
    pub kind: ChannelFaultKind,
    /// The windows' joint least-squares residual with the stem as delivered, dB re mix.
    pub residual_as_is_db: f64,
    /// The same with the stem read corrected, dB re mix.
    pub residual_fixed_db: f64,
}

/// A stem that carries another stem's audio besides its own (a send or an output routed to
/// two stem buses, a stem printed with another part soloed in): summed, that part plays twice.
/// Found from the full-length fit: the mix carries the other stem's audio once, so the gain fit
/// turns the other stem down by what this one already carries of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainedStem {
    /// The stem that carries the other's audio.
    pub file: String,
    /// The stem whose audio it carries.
    pub contains: String,
    /// The level at which it carries it, dB (0 = the same audio at full level).
    pub gain_db: f64,
    /// The gain the fit gives `contains` in the mix, dB (what a gain finding would have said
    /// of it; `None` when the fit takes it out altogether).
    pub fitted_gain_db: Option<f64>,
    /// The doubled part's level in the delivered sum, dB re mix.
    pub residual_db: f64,
    /// What it does to the sum as delivered.
    pub sum: SumImpact,
}

/// The mix's level against the stems' sum holds for most of the song and moves in one or two
/// long stretches: master fader automation (a fade-out, a fade-in, a section ridden) the stem
/// export did not print (see `diagnose::master_ride`). A compressor moves it all through the
/// song.
#[derive(Debug, Clone, PartialEq)]
pub struct MasterRide {
    /// Each stretch: start and end (seconds into the mix) and the farthest the mix's gain
    /// against the stems' sum goes there (dB, against the rest of the song).
    pub stretches: Vec<(f64, f64, f64)>,
    /// The residual it accounts for, dB re mix.
    pub residual_db: f64,
    /// What it does to the sum as delivered.
    pub sum: SumImpact,
}

/// A stem that falls silent for a moment where the mix has its part: audio lost in the stem's
/// export (a real-time bounce that glitched, a buffer underrun). Found from the streaming
/// pass's 10 ms residual: a few short bursts far above the null the rest of the song reaches,
/// holding most of the residual, and in each the stem silent while it sounds around it.
#[derive(Debug, Clone, PartialEq)]
pub struct Dropout {
    /// The stem.
    pub file: String,
    /// Each gap in the stem's export: start (seconds into the mix) and length (seconds).
    pub gaps: Vec<(f64, f64)>,
    /// The residual the gaps leave, dB re the whole mix.
    pub residual_db: f64,
    /// What it does to the sum as delivered.
    pub sum: SumImpact,
}

/// A stem ducked in the mix by another stem's level (sidechain compression keyed from it) that
/// its export did not print: the key was muted when the stem was soloed for export, or the
/// export left the sidechain out. Found from the stem's gain in the mix fitted every 20 ms: it
/// dips in many short stretches, each when the key stem plays.
#[derive(Debug, Clone, PartialEq)]
pub struct Ducking {
    /// The ducked stem.
    pub file: String,
    /// The stem whose level the ducking follows (the sidechain key); `None` when it follows the
    /// stem's own level at least as closely as any other's: a compressor on the stem's own bus
    /// (an insert the export bypassed, or a stem exported pre-insert).
    pub key: Option<String>,
    /// The other stem whose level the gain follows most closely (the key, when there is one).
    pub closest_other: String,
    /// Correlation (-1..0) of the stem's gain in the mix (dB, per 20 ms block) with
    /// `closest_other`'s level (dB): how closely the ducking follows it.
    pub key_correlation: f64,
    /// The same with the ducked stem's own level (a compressor keyed by itself).
    pub own_correlation: f64,
    /// Median gain reduction over the blocks where the stem is ducked by more than 1 dB, dB.
    pub gain_reduction_typical_db: f64,
    /// Largest gain reduction (99th percentile of the blocks where the stem plays), dB.
    pub gain_reduction_max_db: f64,
    /// Dips (stretches ducked by more than 1 dB) per second of the stem's playing.
    pub dips_per_s: f64,
    /// Share (0..1) of the residual that the stem's gain per block explains.
    pub explained_share: f64,
    /// The residual the ducking leaves, dB re mix.
    pub residual_db: f64,
    /// What it does to the sum as delivered.
    pub sum: SumImpact,
}

/// A stereo stem exported as a mono file while the mix has it in stereo: the residual is that
/// stem's side (the difference between its channels), which the mono file cannot carry.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldedToMono {
    /// The mono stem.
    pub file: String,
    /// Share (0..1) of the residual that is side (the difference between its channels).
    pub side_share: f64,
    /// Correlation of the residual's side level with the stem's level, 20 ms blocks (dB).
    pub envelope_correlation: f64,
    /// The lost side against the stem's level in the sum, dB.
    pub side_minus_stem_db: f64,
    /// The residual, dB re mix.
    pub residual_db: f64,
    /// What it does to the sum as delivered.
    pub sum: SumImpact,
}

/// A stem clipped in its export: its bus ran over 0 dBFS and the fixed-point file cut its peaks,
/// which the mix (float, or its master lower) kept. The residual is then those peaks: found
/// from the streaming pass's residual at the stem's full-scale samples.
#[derive(Debug, Clone, PartialEq)]
pub struct ClippedExport {
    /// The stem.
    pub file: String,
    /// Its flat-topped runs as the delivery check counted them (`None` when the check found
    /// none: single clipped samples).
    pub runs: Option<ClipRuns>,
    /// Samples at full scale in the judged span (one per mix channel the stem feeds).
    pub full_scale_samples: u64,
    /// The share of the aligned plain sum's residual at those samples (0..1).
    pub residual_share: f64,
    /// The residual the cut peaks leave, dB re the whole mix.
    pub residual_db: f64,
    /// The stem's peak as the mix carries it, dBFS of the stem's own scale (above 0).
    pub peak_in_mix_dbfs: f64,
    /// The gain the fit gives the stem only because its peaks are cut, dB (the fit leans
    /// on the stem to make up for them).
    pub gain_bias_db: f64,
    /// What it does to the sum as delivered.
    pub sum: SumImpact,
}

/// DC offsets the stems and the mix do not share: the sum misses the mix by a constant on
/// every sample, which no gain, offset or bus process explains (a DC filter or high-pass on
/// the mix bus that the stem exports bypassed, or an offset added on a stem's own path).
///
/// Found by reconciling again with every file's DC taken off (`WavFile::without_dc`): the
/// offsets are named when that deepens the null decisively. The reconciliation reported is
/// the DC-free one (its gains and diagnosis are the music's), with the null as delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct DcMismatch {
    /// The files whose offsets the rest of the set does not carry, each with its offset
    /// (largest channel), dBFS; the mix is among them when it carries one of its own.
    pub by_file: Vec<(String, f64)>,
    /// The mix's name, when it is one of `by_file`.
    pub mix: Option<String>,
    /// Each of `by_file`'s offset per channel (mean sample value, full scale 1.0): what a
    /// correction takes off.
    pub offset_by_channel: Vec<(String, Vec<f64>)>,
    /// The offset of the mix minus the stems' sum (largest channel), dBFS.
    pub residual_dc_dbfs: f64,
    /// What it does to the sum.
    pub sum: SumImpact,
}

/// A stem whose clock runs off the mix's: its offset grows linearly over the song. Or, when
/// every stem runs off the mix's clock alike, the mix on a clock of its own (`stems` names
/// them, `file` is the mix).
#[derive(Debug, Clone, PartialEq)]
pub struct ClockDrift {
    /// The stem; the mix when [`ClockDrift::stems`] is not empty.
    pub file: String,
    /// Every stem, when they all keep one clock and the mix another (empty for one stem's
    /// drift).
    pub stems: Vec<String>,
    /// Rate error, parts per million (positive: the stem's content comes later and later).
    pub ppm: f64,
    /// The stem's offset against the mix at the mix's first frame, samples.
    pub offset_start_samples: f64,
    /// Its offset at the mix's last frame, samples.
    pub offset_end_samples: f64,
    /// The mix's sample rate, Hz.
    pub sample_rate: u32,
    /// Windows spread over the song the trend was fitted on.
    pub windows: usize,
}
