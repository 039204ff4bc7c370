//! Delivery checks: what makes a folder of WAVs a usable stem delivery before any audio is
//! compared with the mix. Format consistency, lengths, layout, stem count, naming, silence,
//! duplicates, and the level checks of the chosen [`Profile`].
//!
//! Every check here is a pure function of per-file facts (header + meter results), so it is
//! cheap, testable without audio, and the same for the CLI and the plugin's panel.

use std::collections::BTreeMap;

use crate::profile::Profile;
use crate::report::{Finding, FindingCode, Role, SampleFormat, Severity};

/// What the checks need to know about one readable file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileFacts {
    /// Display name (the file name as the report shows it).
    pub name: String,
    pub role: Option<Role>,
    pub sample_rate: u32,
    pub channels: u16,
    pub bits_per_sample: u16,
    pub sample_format: Option<SampleFormat>,
    pub frames: u64,
    pub sample_peak_dbfs: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
    pub dc_offset_dbfs: Option<f64>,
    pub clipped_runs: u64,
    pub longest_clip_run_samples: u64,
    pub non_finite_samples: u64,
    /// Hash of the decoded samples; equal hashes mean identical audio.
    pub content_hash: u64,
    /// RMS per 100 ms block in dB, for near-duplicate detection.
    pub envelope_db: Vec<f32>,
}

impl FileFacts {
    fn is_stem(&self) -> bool {
        self.role != Some(Role::Mix)
    }
}

/// Runs every delivery check over the readable files of one delivery.
pub fn delivery_checks(files: &[FileFacts], profile: &Profile) -> Vec<Finding> {
    let mut out = Vec::new();
    format_consistency(files, profile, &mut out);
    lengths(files, &mut out);
    channel_layout(files, &mut out);
    stem_count(files, profile, &mut out);
    naming(files, &mut out);
    silence_and_duplicates(files, profile, &mut out);
    levels(files, profile, &mut out);
    out
}

fn names<'a>(it: impl IntoIterator<Item = &'a FileFacts>) -> Vec<String> {
    it.into_iter().map(|f| f.name.clone()).collect()
}

/// Groups files by a key; used to describe a mismatch as "which files have which value".
fn group_by<K: Ord + Clone>(
    files: &[FileFacts],
    key: impl Fn(&FileFacts) -> K,
) -> BTreeMap<K, Vec<&FileFacts>> {
    let mut groups: BTreeMap<K, Vec<&FileFacts>> = BTreeMap::new();
    for f in files {
        groups.entry(key(f)).or_default().push(f);
    }
    groups
}

/// The most common value's group is "the delivery"; the others are the odd ones out.
fn odd_ones_out<K: Ord + Clone>(groups: &BTreeMap<K, Vec<&FileFacts>>) -> (K, Vec<String>) {
    let (majority, _) = groups
        .iter()
        .max_by_key(|(_, v)| v.len())
        .expect("at least one group");
    let odd = groups
        .iter()
        .filter(|(k, _)| *k != majority)
        .flat_map(|(_, v)| v.iter().map(|f| f.name.clone()))
        .collect();
    (majority.clone(), odd)
}

fn format_name(format: Option<SampleFormat>, bits: u16) -> String {
    match format {
        Some(SampleFormat::Float) => format!("{bits}-bit float"),
        _ => format!("{bits}-bit"),
    }
}

fn format_consistency(files: &[FileFacts], profile: &Profile, out: &mut Vec<Finding>) {
    if files.is_empty() {
        return;
    }
    let rates = group_by(files, |f| f.sample_rate);
    if rates.len() > 1 {
        let (majority, odd) = odd_ones_out(&rates);
        let mut finding = Finding::new(
            FindingCode::SampleRateMismatch,
            Severity::Error,
            odd.clone(),
            format!(
                "The files do not share one sample rate: most are {majority} Hz, {} {} not.",
                odd.join(", "),
                if odd.len() == 1 { "is" } else { "are" }
            ),
            format!("Re-export every stem and the mix at {majority} Hz from the session (do not resample after the fact)."),
        )
        .with("majority_sample_rate", majority);
        for (rate, group) in &rates {
            finding = finding.with(&format!("files_at_{rate}_hz"), names(group.iter().copied()));
        }
        out.push(finding);
    }
    if let Some(required) = profile.required_sample_rate {
        let wrong: Vec<&FileFacts> = files.iter().filter(|f| f.sample_rate != required).collect();
        if !wrong.is_empty() {
            out.push(
                Finding::new(
                    FindingCode::SampleRateProfile,
                    Severity::Error,
                    names(wrong.iter().copied()),
                    format!(
                        "The {} profile requires {required} Hz; {} file(s) are at another rate.",
                        profile.name,
                        wrong.len()
                    ),
                    format!("Export at {required} Hz from the session."),
                )
                .with("required_sample_rate", required),
            );
        }
    }
    let formats = group_by(files, |f| {
        (
            f.bits_per_sample,
            f.sample_format == Some(SampleFormat::Float),
        )
    });
    if formats.len() > 1 {
        let ((bits, float), odd) = odd_ones_out(&formats);
        let majority = format_name(float.then_some(SampleFormat::Float), bits);
        out.push(
            Finding::new(
                FindingCode::BitDepthMismatch,
                Severity::Warning,
                odd.clone(),
                format!(
                    "The files do not share one bit depth / sample format: most are {majority}, {} differ.",
                    odd.join(", ")
                ),
                format!("Export every stem with the same format ({majority} or 32-bit float) and no dither between stems."),
            )
            .with("majority_format", majority),
        );
    }
    for f in files {
        if f.sample_format != Some(SampleFormat::Float) && f.bits_per_sample < profile.min_int_bits
        {
            out.push(
                Finding::new(
                    FindingCode::LowBitDepth,
                    Severity::Warning,
                    vec![f.name.clone()],
                    format!(
                        "{} is {}-bit; the {} profile expects {}-bit or float.",
                        f.name, f.bits_per_sample, profile.name, profile.min_int_bits
                    ),
                    format!(
                        "Re-export {} as {}-bit or 32-bit float.",
                        f.name, profile.min_int_bits
                    ),
                )
                .with("bits_per_sample", f.bits_per_sample)
                .with("expected_bits", profile.min_int_bits),
            );
        }
    }
}

fn lengths(files: &[FileFacts], out: &mut Vec<Finding>) {
    let groups = group_by(files, |f| f.frames);
    if groups.len() <= 1 {
        return;
    }
    let (majority, odd) = odd_ones_out(&groups);
    let rate = files[0].sample_rate.max(1) as f64;
    let mut finding = Finding::new(
        FindingCode::LengthMismatch,
        Severity::Error,
        odd.clone(),
        format!(
            "The files do not share one length: most are {majority} samples ({:.3} s), {} differ.",
            majority as f64 / rate,
            odd.join(", ")
        ),
        "Export every stem over the same range (song start to the end of the longest tail) so they line up and have equal length.",
    )
    .with("majority_frames", majority);
    let lens: serde_json::Map<String, serde_json::Value> = files
        .iter()
        .map(|f| (f.name.clone(), f.frames.into()))
        .collect();
    finding = finding.with("frames_by_file", serde_json::Value::Object(lens));
    out.push(finding);
}

fn channel_layout(files: &[FileFacts], out: &mut Vec<Finding>) {
    let stems: Vec<FileFacts> = files.iter().filter(|f| f.is_stem()).cloned().collect();
    let mix = files.iter().find(|f| !f.is_stem());
    let groups = group_by(&stems, |f| f.channels);
    let many = stems.iter().filter(|f| f.channels > 2).collect::<Vec<_>>();
    if let Some(mix) = mix {
        let wider: Vec<&FileFacts> = stems.iter().filter(|f| f.channels > mix.channels).collect();
        if !wider.is_empty() {
            out.push(
                Finding::new(
                    FindingCode::ChannelLayout,
                    Severity::Warning,
                    names(wider.iter().copied()),
                    format!(
                        "{} stem(s) have more channels than the {}-channel mix.",
                        wider.len(),
                        mix.channels
                    ),
                    "Export stems in the mix's channel layout (or the mix in the stems' layout).",
                )
                .with("mix_channels", mix.channels),
            );
        }
    }
    if groups.len() > 1 {
        let (majority, odd) = odd_ones_out(&groups);
        // Mono stems in a stereo delivery are common and legitimate (bass, kick, lead vocal), so
        // that case is information; anything involving surround widths deserves a look.
        let severity = if many.is_empty() {
            Severity::Info
        } else {
            Severity::Warning
        };
        out.push(
            Finding::new(
                FindingCode::ChannelLayout,
                severity,
                odd.clone(),
                format!(
                    "The stems do not share one channel layout: most have {majority} channel(s), {} differ.",
                    odd.join(", ")
                ),
                "Confirm with the receiver whether mono stems are welcome; otherwise export every stem in the same layout.",
            )
            .with("majority_channels", majority),
        );
    }
}

/// Words that name a single instrument or microphone rather than a submix.
const MULTITRACK_WORDS: &[&str] = &[
    "kick",
    "kik",
    "snare",
    "snr",
    "hat",
    "hihat",
    "hh",
    "tom",
    "oh",
    "overhead",
    "overheads",
    "room",
    "ride",
    "crash",
    "cymbal",
    "di",
    "amp",
    "mic",
    "close",
    "top",
    "bottom",
    "gtr1",
    "gtr2",
    "vox1",
    "vox2",
    "take",
    "comp",
];

fn stem_count(files: &[FileFacts], profile: &Profile, out: &mut Vec<Finding>) {
    let stems: Vec<&FileFacts> = files.iter().filter(|f| f.is_stem()).collect();
    let (_, max) = profile.stem_count_range;
    let single_instrument = stems
        .iter()
        .filter(|f| {
            words(&f.name)
                .iter()
                .any(|w| MULTITRACK_WORDS.contains(&w.as_str()))
        })
        .count();
    let too_many = stems.len() > max;
    let looks_like_tracks = stems.len() >= 6 && single_instrument * 2 >= stems.len();
    if too_many || looks_like_tracks {
        out.push(
            Finding::new(
                FindingCode::MultitracksNotStems,
                Severity::Warning,
                vec![],
                format!(
                    "{} files{} look like raw multitracks rather than {}-{} submix stems.",
                    stems.len(),
                    if single_instrument > 0 {
                        format!(", {single_instrument} named after single instruments or mics,")
                    } else {
                        String::new()
                    },
                    5,
                    max
                ),
                "Bounce submix stems (drums, bass, music, vocals, FX...) through their buses with processing, not the raw tracks.",
            )
            .with("stem_count", stems.len())
            .with("single_instrument_names", single_instrument)
            .with("expected_max_stems", max),
        );
    }
}

/// Lower-case alphanumeric words of a file name without its extension.
fn words(name: &str) -> Vec<String> {
    let base = name.rsplit_once('.').map_or(name, |(b, _)| b);
    base.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
        .collect()
}

/// Names that say nothing about what the stem holds.
fn says_nothing(name: &str) -> bool {
    const VAGUE: &[&str] = &[
        "audio", "track", "stem", "untitled", "bounce", "new", "export", "output", "file",
        "render", "master", "bus", "aux", "mixdown", "final", "out",
    ];
    let ws = words(name);
    !ws.is_empty()
        && ws.iter().all(|w| {
            w.chars().all(|c| c.is_ascii_digit())
                || VAGUE.contains(&w.as_str())
                || VAGUE.iter().any(|v| {
                    w.strip_prefix(v).is_some_and(|rest| {
                        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())
                    })
                })
        })
}

fn naming(files: &[FileFacts], out: &mut Vec<Finding>) {
    let mut seen: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for f in files {
        let normalised: String = words(&f.name).join("_");
        seen.entry(normalised).or_default().push(&f.name);
        let mut problems = Vec::new();
        if f.name.contains(' ') {
            problems.push("contains spaces".to_owned());
        }
        let bad: String = f
            .name
            .chars()
            .filter(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ' ')))
            .collect();
        if !bad.is_empty() {
            problems.push(format!(
                "contains characters outside [A-Za-z0-9._-]: {bad:?}"
            ));
        }
        if f.is_stem() && says_nothing(&f.name) {
            problems.push("does not say what the stem holds".to_owned());
        }
        if !problems.is_empty() {
            out.push(
                Finding::new(
                    FindingCode::Naming,
                    Severity::Warning,
                    vec![f.name.clone()],
                    format!("{} {}.", f.name, problems.join(" and ")),
                    "Name stems as Artist_Song_Stem.wav using only letters, digits, '_', '-' and '.', with the part it holds (Drums, Bass, Vox...).",
                )
                .with("problems", problems),
            );
        }
    }
    for group in seen.values().filter(|g| g.len() > 1) {
        out.push(
            Finding::new(
                FindingCode::Naming,
                Severity::Warning,
                group.iter().map(|s| s.to_string()).collect(),
                format!(
                    "{} are named alike and can be confused.",
                    group.join(" and ")
                ),
                "Give every stem a distinct name.",
            )
            .with("problems", vec!["duplicate name"]),
        );
    }
}

fn silence_and_duplicates(files: &[FileFacts], profile: &Profile, out: &mut Vec<Finding>) {
    let silent = |f: &FileFacts| {
        f.sample_peak_dbfs
            .is_none_or(|p| p < profile.silence_below_dbfs)
    };
    for f in files.iter().filter(|f| silent(f)) {
        let (code, severity, what) = if f.is_stem() {
            (FindingCode::SilentStem, Severity::Warning, "stem")
        } else {
            (FindingCode::SilentStem, Severity::Error, "mix")
        };
        out.push(
            Finding::new(
                code,
                severity,
                vec![f.name.clone()],
                format!("The {what} {} holds only silence.", f.name),
                "Check that the track was not muted or routed elsewhere during the export, or leave the file out.",
            )
            .with("sample_peak_dbfs", f.sample_peak_dbfs.unwrap_or(f64::NEG_INFINITY)),
        );
    }
    let audible: Vec<&FileFacts> = files.iter().filter(|f| !silent(f)).collect();
    for (i, a) in audible.iter().enumerate() {
        for b in &audible[i + 1..] {
            if a.frames != b.frames || a.channels != b.channels {
                continue;
            }
            let identical = a.content_hash == b.content_hash;
            let near = !identical
                && envelopes_match(&a.envelope_db, &b.envelope_db)
                && a.sample_peak_dbfs
                    .zip(b.sample_peak_dbfs)
                    .is_some_and(|(x, y)| (x - y).abs() < 0.01);
            if identical || near {
                out.push(
                    Finding::new(
                        FindingCode::DuplicateStem,
                        if identical { Severity::Error } else { Severity::Warning },
                        vec![a.name.clone(), b.name.clone()],
                        format!(
                            "{} and {} carry {} audio.",
                            a.name,
                            b.name,
                            if identical { "the same" } else { "practically the same" }
                        ),
                        "Re-export one of them with the right track soloed; a doubled stem adds 6 dB of that part to the sum.",
                    )
                    .with("identical_samples", identical),
                );
            }
        }
    }
}

/// Two 100 ms RMS envelopes match when every block agrees within 0.05 dB.
fn envelopes_match(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len()
        && !a.is_empty()
        && a.iter().zip(b).all(|(x, y)| {
            (x.is_infinite() && y.is_infinite() && x.signum() == y.signum()) || (x - y).abs() < 0.05
        })
}

fn levels(files: &[FileFacts], profile: &Profile, out: &mut Vec<Finding>) {
    for f in files {
        if f.non_finite_samples > 0 {
            out.push(
                Finding::new(
                    FindingCode::NonFiniteSamples,
                    Severity::Error,
                    vec![f.name.clone()],
                    format!("{} holds {} NaN or infinite samples.", f.name, f.non_finite_samples),
                    "Find the plugin that produced NaN/inf on that track (often a filter or a denormal bug) and re-export.",
                )
                .with("non_finite_samples", f.non_finite_samples),
            );
        }
        if f.clipped_runs > 0 {
            out.push(
                Finding::new(
                    FindingCode::Clipping,
                    if f.is_stem() { Severity::Error } else { Severity::Warning },
                    vec![f.name.clone()],
                    format!(
                        "{} clips: {} run(s) of consecutive full-scale samples, the longest {} samples.",
                        f.name, f.clipped_runs, f.longest_clip_run_samples
                    ),
                    "Lower the track or bus feeding this stem (or export 32-bit float) and re-export.",
                )
                .with("clipped_runs", f.clipped_runs)
                .with("longest_run_samples", f.longest_clip_run_samples),
            );
        }
        if let Some(tp) = f.true_peak_dbtp
            && tp > profile.true_peak_max_dbtp
        {
            out.push(
                Finding::new(
                    FindingCode::TruePeakOver,
                    Severity::Error,
                    vec![f.name.clone()],
                    format!(
                        "{} reaches {tp:.1} dBTP, above the {} profile's ceiling of {:.1} dBTP.",
                        f.name, profile.name, profile.true_peak_max_dbtp
                    ),
                    format!(
                        "Turn the {} down by at least {:.1} dB before export (do not limit a stem).",
                        if f.is_stem() { "stem's bus" } else { "master" },
                        tp - profile.true_peak_max_dbtp
                    ),
                )
                .with("true_peak_dbtp", tp)
                .with("ceiling_dbtp", profile.true_peak_max_dbtp),
            );
        }
        if f.is_stem()
            && let Some(peak) = f.sample_peak_dbfs
            && peak > profile.stem_peak_max_dbfs
        {
            out.push(
                Finding::new(
                    FindingCode::LowHeadroom,
                    Severity::Warning,
                    vec![f.name.clone()],
                    format!(
                        "{} peaks at {peak:.1} dBFS; the {} profile wants stems at or below {:.1} dBFS.",
                        f.name, profile.name, profile.stem_peak_max_dbfs
                    ),
                    format!(
                        "Lower every stem by the same {:.1} dB (keep their balance) so the loudest peaks at {:.1} dBFS.",
                        peak - profile.stem_peak_max_dbfs,
                        profile.stem_peak_max_dbfs
                    ),
                )
                .with("sample_peak_dbfs", peak)
                .with("target_dbfs", profile.stem_peak_max_dbfs),
            );
        }
        if let Some(dc) = f.dc_offset_dbfs
            && dc > profile.dc_offset_max_dbfs
        {
            out.push(
                Finding::new(
                    FindingCode::DcOffset,
                    Severity::Warning,
                    vec![f.name.clone()],
                    format!("{} carries a DC offset of {dc:.1} dBFS.", f.name),
                    "Put a high-pass (or DC filter) on the source track and re-export.",
                )
                .with("dc_offset_dbfs", dc),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::MASTERING;

    fn stem(name: &str) -> FileFacts {
        FileFacts {
            name: name.into(),
            role: Some(Role::Stem),
            sample_rate: 48_000,
            channels: 2,
            bits_per_sample: 24,
            sample_format: Some(SampleFormat::Int),
            frames: 480_000,
            sample_peak_dbfs: Some(-8.0),
            true_peak_dbtp: Some(-7.5),
            dc_offset_dbfs: None,
            content_hash: name.len() as u64 * 7919 + name.bytes().map(u64::from).sum::<u64>(),
            envelope_db: vec![-20.0; 100],
            ..Default::default()
        }
    }

    fn clean() -> Vec<FileFacts> {
        let mut v: Vec<FileFacts> = [
            "Song_Drums.wav",
            "Song_Bass.wav",
            "Song_Keys.wav",
            "Song_Vox.wav",
        ]
        .iter()
        .map(|n| stem(n))
        .collect();
        for (i, f) in v.iter_mut().enumerate() {
            f.envelope_db = vec![-20.0 - i as f32; 100];
        }
        let mut mix = stem("Song_Mix.wav");
        mix.role = Some(Role::Mix);
        mix.sample_peak_dbfs = Some(-1.5);
        mix.true_peak_dbtp = Some(-1.2);
        mix.envelope_db = vec![-10.0; 100];
        v.push(mix);
        v
    }

    fn codes(findings: &[Finding]) -> Vec<FindingCode> {
        findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn a_clean_delivery_has_no_findings() {
        let findings = delivery_checks(&clean(), &MASTERING);
        assert!(findings.is_empty(), "{findings:#?}");
    }

    #[test]
    fn sample_rate_and_length_mismatch_name_the_odd_file() {
        let mut files = clean();
        files[1].sample_rate = 44_100;
        files[2].frames = 480_001;
        let findings = delivery_checks(&files, &MASTERING);
        let sr = findings
            .iter()
            .find(|f| f.code == FindingCode::SampleRateMismatch)
            .unwrap();
        assert_eq!(sr.files, vec!["Song_Bass.wav"]);
        assert_eq!(sr.severity, Severity::Error);
        let len = findings
            .iter()
            .find(|f| f.code == FindingCode::LengthMismatch)
            .unwrap();
        assert_eq!(len.files, vec!["Song_Keys.wav"]);
    }

    #[test]
    fn low_bit_depth_and_mixed_formats() {
        let mut files = clean();
        files[0].bits_per_sample = 16;
        let findings = delivery_checks(&files, &MASTERING);
        assert!(codes(&findings).contains(&FindingCode::LowBitDepth));
        assert!(codes(&findings).contains(&FindingCode::BitDepthMismatch));
        // Float is never low bit depth.
        let mut files = clean();
        for f in &mut files {
            f.bits_per_sample = 32;
            f.sample_format = Some(SampleFormat::Float);
        }
        assert!(delivery_checks(&files, &MASTERING).is_empty());
    }

    #[test]
    fn naming_rules() {
        assert!(says_nothing("Audio 1.wav"));
        assert!(says_nothing("Track01.wav"));
        assert!(says_nothing("stem_3.wav"));
        assert!(!says_nothing("Song_Drums.wav"));
        let mut files = clean();
        files[0].name = "Song Drums.wav".into();
        files[1].name = "Bäss.wav".into();
        files[2].name = "Audio 03.wav".into();
        let findings = delivery_checks(&files, &MASTERING);
        let naming: Vec<_> = findings
            .iter()
            .filter(|f| f.code == FindingCode::Naming)
            .collect();
        assert_eq!(naming.len(), 3, "{naming:#?}");
        let mut files = clean();
        files[1].name = "song_drums.wav".into();
        let findings = delivery_checks(&files, &MASTERING);
        assert!(
            findings
                .iter()
                .any(|f| f.code == FindingCode::Naming && f.files.len() == 2)
        );
    }

    #[test]
    fn silent_and_duplicate_stems() {
        let mut files = clean();
        files[3].sample_peak_dbfs = None;
        files[1].content_hash = files[0].content_hash;
        let findings = delivery_checks(&files, &MASTERING);
        let silent = findings
            .iter()
            .find(|f| f.code == FindingCode::SilentStem)
            .unwrap();
        assert_eq!(silent.files, vec!["Song_Vox.wav"]);
        let dup = findings
            .iter()
            .find(|f| f.code == FindingCode::DuplicateStem)
            .unwrap();
        assert_eq!(dup.files, vec!["Song_Drums.wav", "Song_Bass.wav"]);
        assert_eq!(dup.severity, Severity::Error);
    }

    #[test]
    fn level_checks_follow_the_profile() {
        let mut files = clean();
        files[0].sample_peak_dbfs = Some(-3.0);
        files[1].true_peak_dbtp = Some(0.4);
        files[2].clipped_runs = 4;
        files[2].longest_clip_run_samples = 9;
        files[3].dc_offset_dbfs = Some(-30.0);
        files[3].non_finite_samples = 2;
        let c = codes(&delivery_checks(&files, &MASTERING));
        for code in [
            FindingCode::LowHeadroom,
            FindingCode::TruePeakOver,
            FindingCode::Clipping,
            FindingCode::DcOffset,
            FindingCode::NonFiniteSamples,
        ] {
            assert!(c.contains(&code), "{code} missing from {c:?}");
        }
        // The collab profile accepts -3 dBFS peaks.
        let mut files = clean();
        files[0].sample_peak_dbfs = Some(-3.0);
        assert!(delivery_checks(&files, &crate::profile::COLLAB).is_empty());
    }

    #[test]
    fn multitracks_are_recognised() {
        let names = [
            "Kick_In.wav",
            "Kick_Out.wav",
            "Snare_Top.wav",
            "Snare_Bottom.wav",
            "OH_L.wav",
            "Room.wav",
            "Bass_DI.wav",
            "Gtr1.wav",
        ];
        let mut files: Vec<FileFacts> = names.iter().map(|n| stem(n)).collect();
        for (i, f) in files.iter_mut().enumerate() {
            f.envelope_db = vec![-20.0 - i as f32; 10];
        }
        assert!(
            codes(&delivery_checks(&files, &MASTERING)).contains(&FindingCode::MultitracksNotStems)
        );
        let many: Vec<FileFacts> = (0..30)
            .map(|i| {
                let mut f = stem(&format!("Part{i}_Synth.wav"));
                f.envelope_db = vec![-20.0 - i as f32; 10];
                f
            })
            .collect();
        assert!(
            codes(&delivery_checks(&many, &MASTERING)).contains(&FindingCode::MultitracksNotStems)
        );
    }

    #[test]
    fn mono_stems_in_a_stereo_delivery_are_information() {
        let mut files = clean();
        files[1].channels = 1;
        let findings = delivery_checks(&files, &MASTERING);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].code, FindingCode::ChannelLayout);
        assert_eq!(findings[0].severity, Severity::Info);
    }
}
