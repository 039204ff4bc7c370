//! Delivery profiles: the thresholds and requirements a check is judged by.
//!
//! A profile is a TOML file (a *delivery spec*), so that a recipient can send one with the
//! request and an engineer can read exactly why a stem failed. The profiles StemCheck ships
//! are such files too (`analyzer-core/profiles/*.toml`, embedded at build time): one source
//! of truth, parsed by the same code as a file given with `--profile-file`. `mastering` is
//! the default.
//!
//! # Keys
//!
//! Every key is checked by a delivery check with a finding; unknown keys are refused.
//!
//! | key | type | required | checked by |
//! |---|---|---|---|
//! | `name` | string | yes | written in the report (`profile`) |
//! | `description` | string | yes | `stemcheck profiles` |
//! | `source` | string | no | `stemcheck profiles`: the standard or practice it follows |
//! | `stem_peak_max_dbfs` | float | yes | `low_headroom`: a stem's sample peak above it |
//! | `true_peak_max_dbtp` | float | yes | `true_peak_over`: any file's true peak above it |
//! | `min_bit_depth` | integer | yes | `low_bit_depth`: integer PCM below it (float passes) |
//! | `stem_count_range` | `[min, max]` | yes | `stem_count` below min, `multitracks_not_stems` above max |
//! | `gain_tolerance_db` | float | yes | `gain_mismatch`: a stem's gain into the mix off by more |
//! | `null_pass_db` | float | yes | `sum_matches_mix` / failing null: residual re mix |
//! | `dc_offset_max_dbfs` | float | yes | `dc_offset` above it |
//! | `silence_below_dbfs` | float | yes | `silent_stem`: a file peaking below it |
//! | `sample_rates_hz` | `[int, ...]` | no | `sample_rate_profile`: a file at another rate |
//! | `channels` | `[int, ...]` | no | `channel_layout`: a stem with another channel count |
//! | `file_name_pattern` | string | no | `naming`: a stem name the pattern does not match |
//! | `mix_loudness` | `{ target_lufs, tolerance_lu }` | no | `loudness_off_target`: the mix's integrated loudness outside target ± tolerance |
//! | `max_head_silence_ms` | float | no | `head_silence`: the delivery sounds later than this |
//! | `max_tail_silence_ms` | float | no | `tail_silence`: the delivery ends with longer silence |
//! | `fx_stem_required` | bool | no | `missing_fx_stem`: no stem is named as the FX stem |
//! | `bus_processing_expected` | bool | no | `missing_bus_processing` / `bus_eq` become expected (info) |
//!
//! # File-name pattern
//!
//! The pattern is matched against a stem's whole file name. `{word}` (any name in braces)
//! stands for one or more characters; every other character stands for itself, letters
//! matched without regard to case. `{song}_{stem}.wav` accepts `MySong_Drums.wav` and refuses
//! `Drums.wav` and `MySong_Drums.aif`. Braces cannot be matched literally. The mix's name is
//! not checked (it is found by its own rules).

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// Thresholds and requirements for one kind of delivery: the parsed delivery spec. See the
/// module documentation for the TOML keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The profile's name as given on the command line (`--profile`) and written in the report.
    pub name: String,
    /// What the profile is for, one line.
    pub description: String,
    /// The standard or delivery practice the numbers follow ("EBU R128 (2023)"); empty for a
    /// spec that does not say.
    #[serde(default)]
    pub source: String,
    /// Stems should peak at or below this (sample peak); above it: `low_headroom` (warning).
    pub stem_peak_max_dbfs: f64,
    /// True peak ceiling for every file; above it: `true_peak_over` (error).
    pub true_peak_max_dbtp: f64,
    /// Integer PCM below this many bits: `low_bit_depth` (warning). Float always passes.
    #[serde(rename = "min_bit_depth")]
    pub min_int_bits: u16,
    /// Stem counts this profile accepts: fewer is `stem_count` (warning), more (or a set
    /// that looks like multitracks) `multitracks_not_stems`.
    pub stem_count_range: (usize, usize),
    /// A stem whose gain into the mix differs by more than this is a `gain_mismatch`.
    pub gain_tolerance_db: f64,
    /// Aligned-and-fitted residual at or below this (relative to the mix) counts as a null.
    pub null_pass_db: f64,
    /// DC offset above this is a `dc_offset` (warning).
    pub dc_offset_max_dbfs: f64,
    /// A file whose sample peak is below this holds only silence (`silent_stem`).
    pub silence_below_dbfs: f64,
    /// The sample rates every file must have (`sample_rate_profile`, error); empty: any.
    #[serde(default)]
    pub sample_rates_hz: Vec<u32>,
    /// The channel counts a stem may have (`channel_layout`, warning); empty: any.
    #[serde(default)]
    pub channels: Vec<u16>,
    /// The pattern every stem's file name must match (`naming`, warning); see the module
    /// documentation for the syntax.
    #[serde(default)]
    pub file_name_pattern: Option<String>,
    /// The mix's integrated loudness (BS.1770) the recipient wants, with its tolerance
    /// (`loudness_off_target`, error). Without a mix there is nothing to measure it on.
    #[serde(default)]
    pub mix_loudness: Option<LoudnessTarget>,
    /// The longest silence before the delivery first sounds (the earliest file's first sample
    /// at or above -70 dBFS), ms (`head_silence`, warning).
    #[serde(default)]
    pub max_head_silence_ms: Option<f64>,
    /// The longest silence after the delivery last sounds (the latest-sounding file's silence
    /// before its end), ms (`tail_silence`, warning).
    #[serde(default)]
    pub max_tail_silence_ms: Option<f64>,
    /// A stem must carry the effects (a name with the word `fx`, `sfx`, `efx`, `effects` or
    /// `returns`, or a word ending in `fx`): else `missing_fx_stem` (warning).
    #[serde(default)]
    pub fx_stem_required: bool,
    /// The stems come without the mix-bus processing the mix has (a stem-mastering request:
    /// stems dry of the bus chain, plus a reference mix with it): `missing_bus_processing`
    /// and `bus_eq` are then expected, reported as info with what they measure.
    #[serde(default)]
    pub bus_processing_expected: bool,
}

/// A loudness target with its tolerance (`mix_loudness = { target_lufs = -23.0,
/// tolerance_lu = 0.5 }`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoudnessTarget {
    /// Integrated loudness wanted, LUFS (= LKFS).
    pub target_lufs: f64,
    /// How far from it the mix may be, LU, either way.
    pub tolerance_lu: f64,
}

/// A delivery spec that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file cannot be read.
    #[error("cannot read profile file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, an unknown key, a missing key or a value of the wrong type (the
    /// message names the key and its line).
    #[error("profile file {}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML parser's account, naming the key.
        message: String,
    },
    /// A value of the right type that makes no sense.
    #[error("profile file {}: key `{key}`: {problem}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The key.
        key: &'static str,
        /// What is wrong with its value.
        problem: String,
    },
}

impl Profile {
    /// Parses a delivery spec; `path` only names the file in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ProfileError> {
        let p: Self = toml::from_str(text).map_err(|e| ProfileError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        p.validate()
            .map_err(|(key, problem)| ProfileError::Invalid {
                path: path.to_owned(),
                key,
                problem,
            })?;
        Ok(p)
    }

    /// Reads and parses a delivery spec file (`--profile-file`).
    pub fn from_file(path: &Path) -> Result<Self, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// Values of the right type that no delivery can meet or that would make a check
    /// meaningless: the key and what is wrong.
    fn validate(&self) -> Result<(), (&'static str, String)> {
        let finite = [
            ("stem_peak_max_dbfs", self.stem_peak_max_dbfs),
            ("true_peak_max_dbtp", self.true_peak_max_dbtp),
            ("gain_tolerance_db", self.gain_tolerance_db),
            ("null_pass_db", self.null_pass_db),
            ("dc_offset_max_dbfs", self.dc_offset_max_dbfs),
            ("silence_below_dbfs", self.silence_below_dbfs),
        ];
        for (key, v) in finite {
            if !v.is_finite() {
                return Err((key, format!("{v} is not a finite number")));
            }
        }
        if self.name.trim().is_empty() {
            return Err(("name", "is empty".into()));
        }
        let (min, max) = self.stem_count_range;
        if min > max {
            return Err(("stem_count_range", format!("min {min} is above max {max}")));
        }
        if let Some(&r) = self
            .sample_rates_hz
            .iter()
            .find(|&&r| !(1_000..=1_536_000).contains(&r))
        {
            return Err(("sample_rates_hz", format!("{r} Hz is not an audio rate")));
        }
        if let Some(&c) = self.channels.iter().find(|&&c| c == 0) {
            return Err(("channels", format!("{c} channels")));
        }
        if let Some(p) = &self.file_name_pattern {
            parse_pattern(p).map_err(|e| ("file_name_pattern", e))?;
        }
        if let Some(l) = self.mix_loudness
            && !(l.target_lufs.is_finite() && l.tolerance_lu.is_finite() && l.tolerance_lu >= 0.0)
        {
            return Err((
                "mix_loudness",
                "target_lufs and tolerance_lu must be finite, tolerance_lu >= 0".into(),
            ));
        }
        for (key, v) in [
            ("max_head_silence_ms", self.max_head_silence_ms),
            ("max_tail_silence_ms", self.max_tail_silence_ms),
        ] {
            if let Some(v) = v.filter(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err((key, format!("{v} is not a duration")));
            }
        }
        Ok(())
    }

    /// Looks a shipped profile up by name (case-insensitive).
    pub fn by_name(name: &str) -> Option<&'static Profile> {
        all()
            .into_iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// Whether a stem's file name matches the profile's `file_name_pattern` (true without
    /// one).
    pub fn name_matches(&self, file_name: &str) -> bool {
        self.file_name_pattern
            .as_deref()
            .and_then(|p| parse_pattern(p).ok())
            .is_none_or(|parts| matches_parts(&parts, &file_name.chars().collect::<Vec<_>>()))
    }
}

/// One piece of a file-name pattern.
#[derive(Debug, PartialEq)]
enum Part {
    /// Characters matched one for one (letters regardless of case).
    Literal(Vec<char>),
    /// `{word}`: one or more characters.
    Field,
}

/// Splits a pattern into literals and `{word}` fields; an error says what is malformed.
fn parse_pattern(p: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut lit = Vec::new();
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed || name.is_empty() || name.contains('{') {
                    return Err(format!("{p:?}: fields are a word in braces, like {{song}}"));
                }
                if !lit.is_empty() {
                    parts.push(Part::Literal(std::mem::take(&mut lit)));
                }
                parts.push(Part::Field);
            }
            '}' => return Err(format!("{p:?}: '}}' without '{{'")),
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        parts.push(Part::Literal(lit));
    }
    if parts.is_empty() {
        return Err("the pattern is empty".into());
    }
    Ok(parts)
}

/// Backtracking match of the whole name against the parts (patterns are short).
fn matches_parts(parts: &[Part], name: &[char]) -> bool {
    match parts.split_first() {
        None => name.is_empty(),
        Some((Part::Literal(l), rest)) => {
            name.len() >= l.len()
                && l.iter()
                    .zip(name)
                    .all(|(a, b)| a.to_lowercase().eq(b.to_lowercase()))
                && matches_parts(rest, &name[l.len()..])
        }
        Some((Part::Field, rest)) => (1..=name.len()).any(|n| matches_parts(rest, &name[n..])),
    }
}

/// Parses a profile shipped in `analyzer-core/profiles/`.
///
/// # Panics
///
/// When the embedded file is invalid; `every_shipped_profile_parses` (and every test that
/// touches a profile) catches that before release.
fn shipped(file: &str, text: &str) -> Profile {
    Profile::from_toml(text, Path::new(file))
        .unwrap_or_else(|e| panic!("shipped profile is invalid: {e}"))
}

macro_rules! shipped_profile {
    ($(#[$doc:meta])* $id:ident, $file:literal) => {
        $(#[$doc])*
        pub static $id: LazyLock<Profile> =
            LazyLock::new(|| shipped($file, include_str!(concat!("../profiles/", $file))));
    };
}

shipped_profile!(
    /// Mastering delivery (default): stems with 6 dB of headroom, 24-bit or float, any rate.
    MASTERING,
    "mastering.toml"
);
shipped_profile!(
    /// Sync and production-music library delivery: -1 dBTP, 24-bit (or float) at 48 kHz.
    SYNC,
    "sync.toml"
);
shipped_profile!(
    /// Collaboration between mix engineers: anything that nulls and does not clip.
    COLLAB,
    "collab.toml"
);
shipped_profile!(
    /// Stem mastering: as `mastering`, but the bus processing (dynamics, EQ) the reference
    /// mix has over the stems is expected (info, with the gain reduction measured).
    STEM_MASTERING,
    "stem-mastering.toml"
);
shipped_profile!(
    /// Music stems for streaming services: -1 dBTP.
    STREAMING,
    "streaming.toml"
);
shipped_profile!(
    /// Music stems for film and TV: 48 kHz, 24-bit, -2 dBTP.
    FILM_TV,
    "film-tv.toml"
);
shipped_profile!(
    /// Dolby Atmos music stems: 48 kHz, 24-bit, end silence under one frame.
    ATMOS,
    "atmos.toml"
);
shipped_profile!(
    /// EBU R128 broadcast: mix at -23 LUFS, -1 dBTP.
    EBU_R128,
    "ebu-r128.toml"
);
shipped_profile!(
    /// ATSC A/85 broadcast: mix at -24 LKFS, -2 dBTP.
    ATSC_A85,
    "atsc-a85.toml"
);

/// Every shipped profile, default first.
pub fn all() -> [&'static Profile; 9] {
    [
        &MASTERING,
        &SYNC,
        &COLLAB,
        &STEM_MASTERING,
        &STREAMING,
        &FILM_TV,
        &ATMOS,
        &EBU_R128,
        &ATSC_A85,
    ]
}

impl Default for Profile {
    fn default() -> Self {
        MASTERING.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_mastering_is_default() {
        assert_eq!(Profile::by_name("SYNC").unwrap().name, "sync");
        assert!(Profile::by_name("nope").is_none());
        assert_eq!(Profile::default().name, "mastering");
        assert_eq!(MASTERING.stem_peak_max_dbfs, -6.0);
        assert_eq!(SYNC.sample_rates_hz, [48_000]);
        let stem = Profile::by_name("stem-mastering").unwrap();
        assert!(stem.bus_processing_expected && !MASTERING.bus_processing_expected);
        assert_eq!(stem.null_pass_db, MASTERING.null_pass_db);
    }

    #[test]
    fn every_shipped_profile_parses_with_a_source_and_a_unique_name() {
        let all = all();
        for p in all {
            assert!(!p.source.is_empty(), "{} names no source", p.name);
            assert!(!p.description.is_empty());
        }
        let mut names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 9);
    }

    /// Today's four profiles (before they became files) hold the numbers they held as code.
    #[test]
    fn the_profiles_that_were_code_keep_their_numbers() {
        let m = &*MASTERING;
        assert_eq!(
            (m.stem_peak_max_dbfs, m.true_peak_max_dbtp, m.min_int_bits),
            (-6.0, -1.0, 24)
        );
        assert_eq!(
            (m.gain_tolerance_db, m.null_pass_db, m.dc_offset_max_dbfs),
            (0.5, -50.0, -50.0)
        );
        assert_eq!((m.silence_below_dbfs, m.stem_count_range), (-90.0, (2, 12)));
        assert!(m.sample_rates_hz.is_empty() && m.channels.is_empty());
        let s = &*SYNC;
        assert_eq!((s.stem_peak_max_dbfs, s.true_peak_max_dbtp), (-1.0, -1.0));
        assert_eq!((s.stem_count_range, s.min_int_bits), ((2, 16), 24));
        let c = &*COLLAB;
        assert_eq!((c.stem_peak_max_dbfs, c.true_peak_max_dbtp), (0.0, 0.0));
        assert_eq!((c.min_int_bits, c.gain_tolerance_db), (16, 1.0));
        assert_eq!((c.null_pass_db, c.dc_offset_max_dbfs), (-40.0, -40.0));
        assert_eq!(c.stem_count_range, (2, 24));
        let sm = Profile {
            name: STEM_MASTERING.name.clone(),
            description: STEM_MASTERING.description.clone(),
            source: STEM_MASTERING.source.clone(),
            bus_processing_expected: true,
            ..MASTERING.clone()
        };
        assert_eq!(*STEM_MASTERING, sm);
        for p in [m, s, c, &*STEM_MASTERING] {
            assert!(p.file_name_pattern.is_none() && p.mix_loudness.is_none());
            assert!(p.max_head_silence_ms.is_none() && p.max_tail_silence_ms.is_none());
            assert!(!p.fx_stem_required);
        }
    }

    #[test]
    fn new_profiles_hold_the_numbers_of_their_sources() {
        assert_eq!(STREAMING.true_peak_max_dbtp, -1.0);
        assert_eq!(FILM_TV.true_peak_max_dbtp, -2.0);
        assert_eq!(
            (FILM_TV.sample_rates_hz.as_slice(), FILM_TV.min_int_bits),
            (&[48_000][..], 24)
        );
        assert_eq!(
            (ATMOS.sample_rates_hz.as_slice(), ATMOS.min_int_bits),
            (&[48_000][..], 24)
        );
        assert!(
            ATMOS
                .max_tail_silence_ms
                .is_some_and(|ms| ms < 1000.0 / 24.0 + 0.01)
        );
        let r128 = EBU_R128.mix_loudness.unwrap();
        assert_eq!(
            (r128.target_lufs, EBU_R128.true_peak_max_dbtp),
            (-23.0, -1.0)
        );
        let a85 = ATSC_A85.mix_loudness.unwrap();
        assert_eq!(
            (a85.target_lufs, ATSC_A85.true_peak_max_dbtp),
            (-24.0, -2.0)
        );
    }

    fn spec(extra: &str) -> String {
        let base = include_str!("../profiles/mastering.toml");
        format!("{base}\n{extra}\n")
    }

    fn parse_err(text: &str) -> String {
        Profile::from_toml(text, Path::new("spec.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn an_unknown_key_is_refused_by_name() {
        let e = parse_err(&spec("true_peak_ceiling = -1.0"));
        assert!(
            e.contains("spec.toml") && e.contains("true_peak_ceiling"),
            "{e}"
        );
        let e = parse_err(&spec(
            "mix_loudness = { target_lufs = -23.0, tolerance = 1.0 }",
        ));
        assert!(e.contains("tolerance"), "{e}");
    }

    #[test]
    fn a_wrong_type_names_the_key() {
        let text = include_str!("../profiles/mastering.toml")
            .replace("true_peak_max_dbtp = -1.0", "true_peak_max_dbtp = \"-1\"");
        let e = parse_err(&text);
        assert!(
            e.contains("spec.toml") && e.contains("true_peak_max_dbtp"),
            "{e}"
        );
        let e = parse_err(&spec("sample_rates_hz = 48000"));
        assert!(e.contains("sample_rates_hz"), "{e}");
    }

    #[test]
    fn a_missing_key_is_named() {
        let text = include_str!("../profiles/mastering.toml").replace("null_pass_db = -50.0", "");
        let e = parse_err(&text);
        assert!(e.contains("null_pass_db"), "{e}");
    }

    #[test]
    fn senseless_values_name_the_key() {
        let e = parse_err(&spec("sample_rates_hz = [0]"));
        assert!(e.contains("`sample_rates_hz`"), "{e}");
        let e = parse_err(&spec("file_name_pattern = \"{song_{stem}.wav\""));
        assert!(e.contains("`file_name_pattern`"), "{e}");
        let e = parse_err(&spec("max_tail_silence_ms = -1.0"));
        assert!(e.contains("`max_tail_silence_ms`"), "{e}");
        let text = include_str!("../profiles/mastering.toml")
            .replace("stem_count_range = [2, 12]", "stem_count_range = [12, 2]");
        assert!(parse_err(&text).contains("`stem_count_range`"));
    }

    #[test]
    fn file_name_patterns_match_whole_names() {
        let p = Profile {
            file_name_pattern: Some("{song}_{stem}.wav".into()),
            ..MASTERING.clone()
        };
        assert!(p.name_matches("MySong_Drums.wav"));
        assert!(p.name_matches("my_song_DRUMS.WAV"));
        assert!(!p.name_matches("Drums.wav"));
        assert!(!p.name_matches("MySong_Drums.aif"));
        assert!(!p.name_matches("_Drums.wav"));
        assert!(MASTERING.name_matches("anything at all"));
    }
}
