//! The report: what every reader of StemCheck's results relies on.
//!
//! Field names, finding codes and their JSON spelling follow `shared/spec/report-contract.md`
//! (schema version 1). Fields may be added; none listed in the contract may be renamed.
//! Loudness and level values that are minus infinity are written as JSON `null`, which is why
//! they are `Option<f64>` here (`None` = silence / -inf).

use serde::{Deserialize, Serialize};

/// Version of the JSON layout; bump only on a breaking change to the contract.
pub const SCHEMA_VERSION: u32 = 1;

/// Every finding code of the contract, plus our extensions (listed after the contract's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FindingCode {
    /// `unreadable_file`: not a file the analyzer can read (corrupt, truncated, unsupported).
    UnreadableFile,
    /// `sample_rate_mismatch`: the files do not share one sample rate.
    SampleRateMismatch,
    /// `bit_depth_mismatch`: the files do not share one bit depth / sample format.
    BitDepthMismatch,
    /// `low_bit_depth`: 16-bit or lower delivered where the profile wants 24-bit or float.
    LowBitDepth,
    /// `length_mismatch`: the files do not share one length (in samples).
    LengthMismatch,
    /// `start_offset`: a stem is shifted in time against the mix / the other stems.
    StartOffset,
    /// `multitracks_not_stems`: the set looks like raw multitracks (too many files, single
    /// instruments) rather than 5-12 submixes.
    MultitracksNotStems,
    /// `naming`: a file name breaks delivery naming rules (spaces, illegal characters, duplicates,
    /// unlabeled).
    Naming,
    /// `silent_stem`: a stem holds only silence.
    SilentStem,
    /// `duplicate_stem`: two stems carry the same audio.
    DuplicateStem,
    /// `clipping`: samples at or over full scale in runs that mean clipped audio.
    Clipping,
    /// `true_peak_over`: true peak above the profile's ceiling.
    TruePeakOver,
    /// `low_headroom`: sample peak above the profile's stem headroom target.
    LowHeadroom,
    /// `dc_offset`: measurable DC offset.
    DcOffset,
    /// `non_finite_samples`: NaN or infinite samples in a float file.
    NonFiniteSamples,
    /// `sum_matches_mix` (info): the stems null against the mix; `measured.null_depth_db` says how
    /// deep.
    SumMatchesMix,
    /// `polarity_inverted`: a stem enters the mix with inverted polarity.
    PolarityInverted,
    /// `channels_swapped`: a stereo stem enters the mix with left and right swapped.
    ChannelsSwapped,
    /// `channel_polarity_inverted`: one channel of a stem is polarity-inverted.
    ChannelPolarityInverted,
    /// `clock_drift`: a stem runs at a slightly different rate than the mix (its offset grows
    /// over time).
    ClockDrift,
    /// `gain_mismatch`: a stem (or the whole sum) enters the mix at another gain than delivered.
    GainMismatch,
    /// `missing_fx_return`: the mix holds effect returns (reverb, delay) that no stem carries.
    MissingFxReturn,
    /// `missing_bus_processing`: the mix went through dynamics (compression, limiting) that the
    /// stems did not.
    MissingBusProcessing,
    /// `bus_eq`: the mix went through a linear filter (EQ) that the stems did not.
    BusEq,
    /// `missing_element`: the mix holds a musical part that no stem carries.
    MissingElement,
    /// `unexplained_residual`: the stems do not null and no cause above explains it.
    UnexplainedResidual,
    /// `float_over`: float samples above full scale: not clipped in the file, but they will clip
    /// in any fixed-point conversion.
    FloatOver,
    /// `dual_mono` (info): a stereo stem whose two channels are identical.
    DualMono,
    // ---- extensions beyond the contract's list ----
    /// Stems do not share one channel layout (e.g. a mono stem in a stereo delivery).
    ChannelLayout,
    /// No mix was found, so the stems were checked without reconciliation.
    NoMix,
    /// A plugin capture did not complete (host crashed or bounce aborted) or lost frames.
    IncompleteCapture,
    /// The delivery's sample rate is not what the profile asks for.
    SampleRateProfile,
    // ---- issue 16: what enters the sum ----
    /// `reconciliation_incomplete`: some stems could not enter the sum; what the sum is missing
    /// may be theirs.
    ReconciliationIncomplete,
    /// `mix_candidates`: several files could be the mix; which one was used and why, the
    /// others are references, not stems.
    MixCandidates,
    /// `master_processing_on_stems`: the stems went one by one through mix-bus processing
    /// (each stem limited or compressed on its own).
    MasterProcessingOnStems,
    // ---- issue 17: what is read ----
    /// `timecode_mismatch`: BWF/iXML time references (start timecode) differ between files, or
    /// disagree with the measured alignment.
    TimecodeMismatch,
    /// `unfinalised_header` (info): files whose header sizes were never patched (written
    /// through a pipe or by a recorder that did not finish); read to the end of the file.
    UnfinalisedHeader,
    /// `skipped_file` (info): files in a delivery folder that are not read (documents,
    /// archives); system debris (`._*`, `.DS_Store`, `__MACOSX/`) is ignored without a word.
    SkippedFile,
    // ---- issue 17: delivery specs ----
    /// `stem_count`: fewer stems than the profile's `stem_count_range` asks for.
    StemCount,
    /// `loudness_off_target`: the mix's integrated loudness is outside the profile's target
    /// and tolerance.
    LoudnessOffTarget,
    /// `head_silence`: the delivery starts with more silence than the profile allows.
    HeadSilence,
    /// `tail_silence`: the delivery ends with more silence than the profile allows.
    TailSilence,
    /// `missing_fx_stem`: the profile requires an FX stem and no stem is named as one.
    MissingFxStem,
    /// `lossy_codec`: the mix or the stems went through a lossy codec (MP3, AAC, Ogg, Opus); the
    /// residual is its coding noise, and the sum cannot be checked deeper than that noise.
    LossyCodec,
    /// `dropout`: a stem falls silent for a moment where the mix has its part (audio lost in
    /// the stem's export: a real-time bounce that glitched).
    Dropout,
    /// `split_stereo` (info): stereo stems delivered as two mono files each (a multi-mono
    /// export: `Bass.L.wav`, `Bass.R.wav`), read as one stereo stem per pair.
    SplitStereo,
}

impl FindingCode {
    /// The code as written in JSON and in the human report.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnreadableFile => "unreadable_file",
            Self::SampleRateMismatch => "sample_rate_mismatch",
            Self::BitDepthMismatch => "bit_depth_mismatch",
            Self::LowBitDepth => "low_bit_depth",
            Self::LengthMismatch => "length_mismatch",
            Self::StartOffset => "start_offset",
            Self::MultitracksNotStems => "multitracks_not_stems",
            Self::Naming => "naming",
            Self::SilentStem => "silent_stem",
            Self::DuplicateStem => "duplicate_stem",
            Self::Clipping => "clipping",
            Self::TruePeakOver => "true_peak_over",
            Self::LowHeadroom => "low_headroom",
            Self::DcOffset => "dc_offset",
            Self::NonFiniteSamples => "non_finite_samples",
            Self::SumMatchesMix => "sum_matches_mix",
            Self::PolarityInverted => "polarity_inverted",
            Self::ChannelsSwapped => "channels_swapped",
            Self::ChannelPolarityInverted => "channel_polarity_inverted",
            Self::ClockDrift => "clock_drift",
            Self::GainMismatch => "gain_mismatch",
            Self::MissingFxReturn => "missing_fx_return",
            Self::MissingBusProcessing => "missing_bus_processing",
            Self::BusEq => "bus_eq",
            Self::MissingElement => "missing_element",
            Self::UnexplainedResidual => "unexplained_residual",
            Self::FloatOver => "float_over",
            Self::DualMono => "dual_mono",
            Self::ChannelLayout => "channel_layout",
            Self::NoMix => "no_mix",
            Self::IncompleteCapture => "incomplete_capture",
            Self::SampleRateProfile => "sample_rate_profile",
            Self::ReconciliationIncomplete => "reconciliation_incomplete",
            Self::MixCandidates => "mix_candidates",
            Self::MasterProcessingOnStems => "master_processing_on_stems",
            Self::TimecodeMismatch => "timecode_mismatch",
            Self::UnfinalisedHeader => "unfinalised_header",
            Self::SkippedFile => "skipped_file",
            Self::StemCount => "stem_count",
            Self::LoudnessOffTarget => "loudness_off_target",
            Self::HeadSilence => "head_silence",
            Self::TailSilence => "tail_silence",
            Self::MissingFxStem => "missing_fx_stem",
            Self::LossyCodec => "lossy_codec",
            Self::Dropout => "dropout",
            Self::SplitStereo => "split_stereo",
        }
    }
}

impl std::fmt::Display for FindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A time stamp (samples since midnight) as `HH:MM:SS.mmm` at `sample_rate` (milliseconds
/// truncated, as timecode counts): how the report shows BWF time references.
pub fn format_timecode(samples: u64, sample_rate: u32) -> String {
    let sr = u64::from(sample_rate.max(1));
    let secs = samples / sr;
    let ms = (samples % sr) * 1000 / sr;
    format!(
        "{:02}:{:02}:{:02}.{ms:03}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// How bad a finding is. Ordered so that `Error > Warning > Info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Context: nothing to fix (e.g. the stems sum back to the mix).
    Info,
    /// A departure from the profile that leaves the sum intact.
    Warning,
    /// Stops the stems summing back to the mix, or makes the delivery unusable.
    Error,
}

impl Severity {
    /// The severity as written in JSON (`info`, `warning`, `error`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// One thing the analyzer found, with the numbers behind it and what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// What kind of cause it is.
    pub code: FindingCode,
    /// How bad it is: an error stops the stems summing back or makes the delivery unusable.
    pub severity: Severity,
    /// Files it concerns (as given in `FileReport::path`); empty for the set as a whole.
    pub files: Vec<String>,
    /// One sentence a person understands.
    pub message: String,
    /// One actionable sentence.
    pub fix: String,
    /// The numbers behind the finding.
    pub measured: serde_json::Map<String, serde_json::Value>,
    /// Where in frequency the content the stems lack lives (`missing_element` and
    /// `missing_fx_return` only): a curve, so it is a field of its own rather than numbers in
    /// `measured`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spectral_signature: Option<SpectralSignature>,
}

/// The third-octave spectrum of what the stems lack (the residual of the aligned, corrected
/// stem sum) beside the mix's over the same span, so a reader sees where in frequency the
/// missing part lives: a reverb return's high-mid bloom, a bass line below 200 Hz.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SpectralSignature {
    /// Nominal centre frequency of each band, Hz (the bands of `files[].spectrum` and
    /// `reconciliation.spectrum` at the mix's sample rate).
    pub band_hz: Vec<f64>,
    /// What the stems lack per band, dB relative to the mix's total power over the span
    /// (the scale of `reconciliation.spectrum`); `null` = no energy.
    pub residual_db: Vec<Option<f64>>,
    /// The mix per band over the same span, on the same scale.
    pub mix_db: Vec<Option<f64>>,
    /// Start of the span the spectra cover, s into the mix.
    pub start_s: f64,
    /// End of that span, s into the mix.
    pub end_s: f64,
    /// Band under which 10 % of the missing content's energy lies, Hz.
    pub low_hz: f64,
    /// Band under which 90 % of it lies, Hz (between the two: "most of it").
    pub high_hz: f64,
}

impl Finding {
    /// A finding with no measured values yet; add them with [`Finding::with`].
    pub fn new(
        code: FindingCode,
        severity: Severity,
        files: Vec<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            code,
            severity,
            files,
            message: message.into(),
            fix: fix.into(),
            measured: serde_json::Map::new(),
            spectral_signature: None,
        }
    }

    /// Adds one measured value. Non-finite floats are stored as `null`, as the contract says.
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        let value = value.into();
        let value = match value.as_f64() {
            Some(x) if !x.is_finite() => serde_json::Value::Null,
            _ => value,
        };
        self.measured.insert(key.to_owned(), value);
        self
    }
}

/// Whether a file is a stem or the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A stem: one part of the sum.
    Stem,
    /// The mix the stems must sum back to.
    Mix,
    /// Another candidate for the mix (a mastered or alternate mix): checked as a file, never
    /// part of the sum.
    Reference,
}

/// Integer or floating-point PCM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleFormat {
    /// Integer PCM.
    Int,
    /// IEEE floating-point PCM.
    Float,
}

/// What a file actually is, whatever its name says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Container {
    /// RIFF/WAVE (BWF included).
    #[default]
    Wav,
    /// RF64 (EBU Tech 3306): WAV with 64-bit sizes in a `ds64` chunk.
    Rf64,
    /// BW64 (ITU-R BS.2088): RF64 as Dolby Atmos ADM masters use it.
    Bw64,
    /// AIFF (big-endian PCM).
    Aiff,
    /// AIFF-C.
    Aifc,
    /// FLAC.
    Flac,
}

/// How a stem enters the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    /// As delivered.
    Normal,
    /// Inverted: the stem must be flipped to add to the mix as it does in the session.
    Inverted,
}

/// Per-file results. Every numeric field is optional: an unreadable file still has an entry
/// (with `error` set) so that nothing silently disappears from the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FileReport {
    /// The file as given on the command line (or found in a folder); findings name files by it.
    pub path: String,
    /// Stem or mix (the analyzer always sets it, unreadable files included).
    pub role: Option<Role>,
    /// Sample rate, Hz.
    pub sample_rate: Option<u32>,
    /// Bits per sample of the stored format (e.g. 16, 24, 32).
    pub bits_per_sample: Option<u16>,
    /// Integer or float PCM.
    pub sample_format: Option<SampleFormat>,
    /// Channel count.
    pub channels: Option<u16>,
    /// Length in frames (samples per channel).
    pub frames: Option<u64>,
    /// Length in seconds (`frames / sample_rate`).
    pub duration_s: Option<f64>,
    /// Highest absolute sample value over all channels, dBFS.
    pub sample_peak_dbfs: Option<f64>,
    /// True peak (oversampled as ITU-R BS.1770-4 Annex 2 says), dBTP.
    pub true_peak_dbtp: Option<f64>,
    /// Integrated loudness (ITU-R BS.1770-4 / EBU R128, gated), LUFS.
    pub integrated_lufs: Option<f64>,
    /// Loudness range (EBU Tech 3342), LU.
    pub loudness_range_lu: Option<f64>,
    /// Start offset against the mix: positive = the stem's content comes later than in the mix.
    pub offset_samples: Option<i64>,
    /// Gain to apply to this stem so that it matches its part of the mix.
    pub gain_db: Option<f64>,
    /// Polarity the stem enters the mix with (`None` for the mix and unreconciled stems).
    pub polarity: Option<Polarity>,
    /// What the file actually is (`None` when it could not be read).
    pub container: Option<Container>,
    /// Start time stamp: BWF `bext` TimeReference (or iXML's), in samples since midnight at the
    /// file's rate; `None` when the file carries none.
    pub time_reference_samples: Option<u64>,
    // ---- extensions ----
    /// Highest short-term loudness (3 s window), LUFS.
    pub max_short_term_lufs: Option<f64>,
    /// Highest momentary loudness (400 ms window), LUFS.
    pub max_momentary_lufs: Option<f64>,
    /// Largest absolute DC offset over the channels, in dBFS.
    pub dc_offset_dbfs: Option<f64>,
    /// Number of clipped runs: flat tops of equal samples at the file's peak level (at full
    /// scale for 16-bit and coarser integer files).
    pub clipped_runs: Option<u64>,
    /// Count of NaN or infinite samples (float files).
    pub non_finite_samples: Option<u64>,
    /// Why the file could not be read, when it could not.
    pub error: Option<String>,
    // ---- issue 18: frequency analysis and loudness over time ----
    /// Long-term third-octave spectrum of the whole file (`None` when unreadable or shorter
    /// than ~85 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spectrum: Option<FileSpectrum>,
    /// EBU R128 short-term loudness over time (`None` when unreadable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_term_loudness: Option<LoudnessTimeline>,
}

/// A file's long-term spectrum in third-octave bands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FileSpectrum {
    /// Nominal centre frequency of each band, Hz (the bands of `reconciliation.spectrum` at
    /// the same sample rate).
    pub band_hz: Vec<f64>,
    /// Mean-square level per band over the whole file, channels averaged, dBFS: absolute, so
    /// files compare with each other (the bands' powers add up to the file's RMS within the
    /// covered range; a full-scale sine reads -3.0 in its band). `null` = no energy.
    pub level_dbfs: Vec<Option<f64>>,
}

/// Short-term loudness (EBU R128, 3 s window) sampled once per step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LoudnessTimeline {
    /// Seconds between values; value `i` is the loudness of the 3 s ending at `(i + 1) * step_s`.
    pub step_s: f64,
    /// Short-term loudness per step, LUFS (`null` = silence).
    pub lufs: Vec<Option<f64>>,
}

/// Most values a [`LoudnessTimeline`] holds: ten minutes at one per second. Longer files get a
/// longer whole-second step, so an hour-long stem adds 600 values to the report, not 3600.
pub const MAX_LOUDNESS_POINTS: usize = 600;

impl LoudnessTimeline {
    /// The timeline of a once-per-second series (value `i`: the 3 s ending at second `i + 1`),
    /// bounded to [`MAX_LOUDNESS_POINTS`]: the step is the fewest whole seconds that fit, and
    /// value `i` is the series' value at second `(i + 1) * step_s` (picked, not averaged, so
    /// every value keeps its meaning; a step of one keeps the series as it is).
    pub fn from_per_second(per_s: &[Option<f64>]) -> LoudnessTimeline {
        let step = per_s.len().div_ceil(MAX_LOUDNESS_POINTS).max(1);
        LoudnessTimeline {
            step_s: step as f64,
            lufs: per_s.iter().skip(step - 1).step_by(step).copied().collect(),
        }
    }
}

/// Stem sum against the mix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Reconciliation {
    /// Lag of the stem sum against the mix, in samples (positive = the sum comes later).
    pub lag_samples: i64,
    /// Residual RMS relative to mix RMS of the stems as delivered: shifted only by the one
    /// common lag above, no per-stem offset, gain or polarity correction, in dB (the headline;
    /// a bit-exact null is written as the floor, -200 dB).
    pub null_depth_db: Option<f64>,
    /// The same after every per-stem correction the findings name (offsets, gains, polarity).
    pub corrected_null_depth_db: Option<f64>,
    /// Loudness of the residual (mix minus aligned stem sum).
    pub residual_lufs: Option<f64>,
    // ---- extensions ----
    /// Null depth after the per-stem gain and polarity fit.
    pub fitted_null_depth_db: Option<f64>,
    /// Span the null was judged over (where every shifted stem has audio), in frames of the mix.
    pub judged_span_frames: Option<[u64; 2]>,
    /// Name of the mix file.
    pub mix: Option<String>,
    /// Mix and residual level per second, for plots.
    pub timeline: Option<LevelTimeline>,
    /// Mix and residual spectrum in fractional-octave bands, for plots.
    pub spectrum: Option<BandSpectrum>,
    /// Centre pan law (dB per channel) the mono stems were judged at, inferred from them.
    pub pan_law_db: Option<f64>,
    /// Every stem left out of the sum, with why (empty when every stem entered it).
    #[serde(default)]
    pub excluded_files: Vec<ExcludedFile>,
    /// EBU R128 short-term loudness over time of the residual (mix minus the stem sum with
    /// every stem at its measured offset and unity gain, as `timeline.residual_db`), one value
    /// per second of the mix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residual_short_term_loudness: Option<LoudnessTimeline>,
}

/// A stem that could not enter the stem sum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ExcludedFile {
    /// The file, as the report names it.
    pub path: String,
    /// Why it could not enter the sum (one phrase).
    pub reason: String,
}

/// Levels over time, one value per step (`None` = silence).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LevelTimeline {
    /// Length of one step in seconds.
    pub step_s: f64,
    /// Mix RMS level per step, dBFS.
    pub mix_db: Vec<Option<f64>>,
    /// Residual (mix minus aligned stem sum) RMS level per step, dBFS.
    pub residual_db: Vec<Option<f64>>,
}

/// Power spectra in bands (`None` = no energy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct BandSpectrum {
    /// Centre frequency of each band, Hz.
    pub band_hz: Vec<f64>,
    /// Mix level per band, dB relative to the mix's total power.
    pub mix_db: Vec<Option<f64>>,
    /// Residual (mix minus aligned stem sum) level per band, dB, on the same scale.
    pub residual_db: Vec<Option<f64>>,
}

/// Name and version of the tool that wrote the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// Name of the tool (`stemcheck`).
    pub name: String,
    /// Its version (the crate's).
    pub version: String,
}

impl Default for ToolInfo {
    fn default() -> Self {
        Self {
            name: "stemcheck".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Overall outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No finding reaches warning level.
    Pass,
    /// Warnings, no errors.
    Warn,
    /// At least one error.
    Fail,
}

impl Verdict {
    /// The verdict as written in JSON (`pass`, `warn`, `fail`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Version of the JSON layout ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The tool that wrote the report.
    pub tool: ToolInfo,
    /// `pass`, `warn` or `fail`, from the worst finding.
    pub verdict: Verdict,
    /// 0..100: 100 minus the cost of every warning and error (see [`Report::new`]).
    pub health_score: u32,
    /// Every input file, readable or not, in input order.
    pub files: Vec<FileReport>,
    /// Stem sum against the mix (`None` without a mix, or when the stems could not be reconciled).
    pub reconciliation: Option<Reconciliation>,
    /// One finding per cause, worst first.
    pub findings: Vec<Finding>,
    // ---- extensions ----
    /// Name of the profile the thresholds came from.
    pub profile: String,
}

/// Points an error-level finding (one cause) costs in the health score: it stops the stems
/// summing back to the mix or makes the delivery unusable. See [`Report::new`].
pub const ERROR_COST_POINTS: u32 = 30;
/// Points a warning about the sum (alignment, gain, bus processing, content no stem carries,
/// an incomplete file...) costs: the stems may not sum back as delivered.
pub const WARNING_COST_POINTS: u32 = 10;
/// Points a warning that leaves the sum intact costs: a departure from the profile's format,
/// level or naming rules ([`FindingCode::leaves_sum_intact`]); the stems are usable as they
/// are.
pub const PROFILE_WARNING_COST_POINTS: u32 = 3;

impl FindingCode {
    /// Whether a warning of this code leaves the stems' sum intact: a departure from the
    /// profile (format, level, layout, naming) rather than from the mix. Such warnings cost
    /// [`PROFILE_WARNING_COST_POINTS`] in the health score; every other warning
    /// [`WARNING_COST_POINTS`].
    pub fn leaves_sum_intact(self) -> bool {
        matches!(
            self,
            Self::LowBitDepth
                | Self::BitDepthMismatch
                | Self::SampleRateProfile
                | Self::Naming
                | Self::ChannelLayout
                | Self::MultitracksNotStems
                | Self::LowHeadroom
                | Self::DcOffset
                | Self::FloatOver
                | Self::SilentStem
                | Self::LengthMismatch
                | Self::DualMono
                | Self::SplitStereo
                | Self::StemCount
                | Self::HeadSilence
                | Self::TailSilence
                | Self::MissingFxStem
        )
    }
}

/// What one finding costs in the health score (see [`Report::new`]).
fn score_cost(f: &Finding) -> u32 {
    match f.severity {
        Severity::Error => ERROR_COST_POINTS,
        Severity::Warning if f.code.leaves_sum_intact() => PROFILE_WARNING_COST_POINTS,
        Severity::Warning => WARNING_COST_POINTS,
        Severity::Info => 0,
    }
}

impl Report {
    /// Builds a report, sorting findings (worst first, stable within a severity) and computing
    /// the verdict and health score from them.
    ///
    /// Health score: 100 minus the cost of every finding, never below 0. Findings are causes
    /// (one finding per cause, however many files it concerns), so the score counts causes,
    /// not files, by consequence:
    ///
    /// | finding | cost |
    /// |---|---|
    /// | error: the stems do not sum back to the mix, or the delivery is unusable | 30 |
    /// | warning about the sum (offsets, gains, bus processing, missing content, incomplete files) | 10 |
    /// | warning that leaves the sum intact (bit depth, naming, headroom, DC, float overs, layout, a trimmed silent tail: [`FindingCode::leaves_sum_intact`]) | 3 |
    /// | information | 0 |
    ///
    /// So a bit-perfect 16-bit delivery scores 97, a naming problem 97, an unclear bus
    /// compressor 90 and a clear one 70. The verdict is `fail` with any error, `warn` with
    /// any warning, otherwise `pass`. The table is repeated in the README.
    pub fn new(
        profile: &str,
        files: Vec<FileReport>,
        reconciliation: Option<Reconciliation>,
        mut findings: Vec<Finding>,
    ) -> Self {
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        let errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count() as u32;
        let warnings = findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count() as u32;
        let cost: u32 = findings.iter().map(score_cost).sum();
        let verdict = if errors > 0 {
            Verdict::Fail
        } else if warnings > 0 {
            Verdict::Warn
        } else {
            Verdict::Pass
        };
        Self {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo::default(),
            verdict,
            health_score: 100u32.saturating_sub(cost),
            files,
            reconciliation,
            findings,
            profile: profile.to_owned(),
        }
    }

    /// Whether any finding is at or above `level`.
    pub fn fails_at(&self, level: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= level)
    }

    /// Findings with the given code.
    pub fn findings_with(&self, code: FindingCode) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.code == code)
    }

    /// JSON as the contract specifies.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serialises")
    }
}

/// dBFS of a linear amplitude; `None` for zero (minus infinity).
pub fn amp_to_db(amp: f64) -> Option<f64> {
    crate::units::finite(crate::units::amp_to_db(amp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loudness_timelines_stay_per_second_to_ten_minutes_then_grow_their_step() {
        let series = |n: usize| -> Vec<Option<f64>> {
            (0..n)
                .map(|i| (i % 7 != 0).then_some(-(i as f64)))
                .collect()
        };
        let short = series(600);
        let t = LoudnessTimeline::from_per_second(&short);
        assert_eq!((t.step_s, &t.lufs), (1.0, &short));
        let t = LoudnessTimeline::from_per_second(&series(3_600));
        assert_eq!(t.step_s, 6.0);
        assert_eq!(t.lufs.len(), 600);
        // Value i is the series' value at second (i + 1) * 6: index 6 i + 5.
        assert_eq!(t.lufs[0], Some(-5.0));
        assert_eq!(t.lufs[1], Some(-11.0));
        assert_eq!(
            t.lufs[5], None,
            "second 36 (index 35) is silence, kept as such"
        );
        assert_eq!(t.lufs[599], Some(-3_599.0));
        let t = LoudnessTimeline::from_per_second(&series(601));
        assert_eq!((t.step_s, t.lufs.len()), (2.0, 300));
        assert!(LoudnessTimeline::from_per_second(&[]).lufs.is_empty());
    }

    #[test]
    fn codes_serialise_as_the_contract_spells_them() {
        let json = serde_json::to_string(&FindingCode::MissingFxReturn).unwrap();
        assert_eq!(json, "\"missing_fx_return\"");
        for code in [
            FindingCode::UnreadableFile,
            FindingCode::MultitracksNotStems,
            FindingCode::NonFiniteSamples,
            FindingCode::UnexplainedResidual,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn score_and_verdict_follow_the_documented_formula() {
        let f = |s| Finding::new(FindingCode::Naming, s, vec![], "m", "f");
        let r = Report::new("mastering", vec![], None, vec![]);
        assert_eq!((r.verdict, r.health_score), (Verdict::Pass, 100));
        let r = Report::new(
            "mastering",
            vec![],
            None,
            vec![f(Severity::Info), f(Severity::Warning)],
        );
        // A naming warning leaves the sum intact: it costs little.
        assert_eq!((r.verdict, r.health_score), (Verdict::Warn, 97));
        let r = Report::new(
            "mastering",
            vec![],
            None,
            vec![f(Severity::Warning), f(Severity::Error)],
        );
        assert_eq!((r.verdict, r.health_score), (Verdict::Fail, 67));
        // A warning about the sum costs more than any departure from the profile, an error
        // more than any warning.
        let g = |code, s| Finding::new(code, s, vec![], "m", "f");
        let score = |f: Vec<Finding>| Report::new("m", vec![], None, f).health_score;
        let bus = score(vec![g(
            FindingCode::MissingBusProcessing,
            Severity::Warning,
        )]);
        let naming = score(vec![g(FindingCode::Naming, Severity::Warning)]);
        let sixteen_bit = score(vec![g(FindingCode::LowBitDepth, Severity::Warning)]);
        let missing = score(vec![g(FindingCode::MissingElement, Severity::Error)]);
        assert!(
            missing < bus && bus < naming && naming == sixteen_bit,
            "{missing} {bus} {naming}"
        );
        assert_eq!(sixteen_bit, 97);
        assert_eq!(r.findings[0].severity, Severity::Error, "worst first");
        let many = (0..10).map(|_| f(Severity::Error)).collect();
        assert_eq!(Report::new("m", vec![], None, many).health_score, 0);
    }

    #[test]
    fn minus_infinity_is_null() {
        let f = Finding::new(FindingCode::SilentStem, Severity::Error, vec![], "m", "f")
            .with("peak_dbfs", f64::NEG_INFINITY);
        assert_eq!(f.measured["peak_dbfs"], serde_json::Value::Null);
        let file = FileReport::default();
        let json = serde_json::to_value(&file).unwrap();
        assert!(json["integrated_lufs"].is_null());
    }
}
