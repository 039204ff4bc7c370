//! Delivery checks: what makes a folder of WAVs a usable stem delivery before any audio is
//! compared with the mix. Format consistency, lengths, layout, stem count, naming, silence,
//! duplicates, and the level checks of the chosen [`Profile`].
//!
//! Every check here is a pure function of per-file facts (header + meter results), so it is
//! cheap, testable without audio, and the same for the CLI and the plugin's panel.

use std::collections::BTreeMap;

use crate::cause::{Cause, ClipRuns, NamingProblem, NonFinite};
use crate::profile::Profile;
use crate::report::{Role, SampleFormat};

/// What the checks need to know about one readable file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileFacts {
    /// Display name (the file name as the report shows it).
    pub name: String,
    /// Stem or mix (`None` counts as a stem).
    pub role: Option<Role>,
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Channel count.
    pub channels: u16,
    /// Bits per sample of the stored format.
    pub bits_per_sample: u16,
    /// Integer or float PCM.
    pub sample_format: Option<SampleFormat>,
    /// Length in frames (samples per channel).
    pub frames: u64,
    /// Highest absolute sample value, dBFS (`None` = every sample zero).
    pub sample_peak_dbfs: Option<f64>,
    /// True peak, dBTP (`None` = silence).
    pub true_peak_dbtp: Option<f64>,
    /// Largest absolute DC offset over the channels, dBFS (`None` = none at all).
    pub dc_offset_dbfs: Option<f64>,
    /// Signed DC offset (mean sample value) per channel, full scale 1.0 (empty: not
    /// measured).
    pub dc_offset_by_channel: Vec<f64>,
    /// Clipped (flat-topped) runs, as metering counts them for the file's format
    /// (`meter::ClipMode`).
    pub clipped_runs: u64,
    /// Length of the longest such run, samples.
    pub longest_clip_run_samples: u64,
    /// Count of NaN or infinite samples.
    pub non_finite_samples: u64,
    /// Time of the first NaN or infinite sample, s (`None` without any).
    pub first_non_finite_s: Option<f64>,
    /// Stereo files: energy of left minus right against the channels' mean, dB (`None` for
    /// other layouts and silence).
    pub channel_difference_db: Option<f64>,
    /// Its last 10 ms are silent (nothing at or above `meter::AUDIBLE_TAIL_DBFS`).
    pub silent_tail: bool,
    /// First frame at or above `meter::AUDIBLE_TAIL_DBFS` (`None`: never that loud): the
    /// head silence a profile may limit.
    pub first_audible_frame: Option<u64>,
    /// Last frame at or above `meter::AUDIBLE_TAIL_DBFS`: the tail silence a profile may
    /// limit.
    pub last_audible_frame: Option<u64>,
    /// BS.1770 integrated loudness, LUFS (`None`: below the gate); the mix's is checked
    /// against a profile's `mix_loudness`.
    pub integrated_lufs: Option<f64>,
    /// Hash of the decoded samples; equal hashes mean identical audio.
    pub content_hash: u64,
    /// RMS per 100 ms block in dB, for near-duplicate detection.
    pub envelope_db: Vec<f32>,
    /// One of a stereo stem's two mono files (a multi-mono export), when it is.
    pub split_stereo: Option<SplitSide>,
}

/// Which half of a stereo stem delivered as two mono files a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitSide {
    /// The pair's name, `"<left> + <right>"`.
    pub pair: String,
    /// Whether this is the left file.
    pub left: bool,
}

impl FileFacts {
    fn is_stem(&self) -> bool {
        self.role != Some(Role::Mix)
    }

    /// The right file of a split stereo pair: counted with its left file, which stands for
    /// the stem where stems are counted or their layouts compared.
    fn is_split_right(&self) -> bool {
        self.split_stereo.as_ref().is_some_and(|s| !s.left)
    }

    /// The file as one stem: a split pair's left file as the stereo stem the pair is.
    fn as_stem(&self) -> FileFacts {
        match &self.split_stereo {
            Some(s) if s.left => FileFacts {
                name: s.pair.clone(),
                channels: 2,
                ..self.clone()
            },
            _ => self.clone(),
        }
    }
}

/// Runs every delivery check over the readable files of one delivery; what it finds, in the
/// order the report lists it.
pub fn delivery_checks(files: &[FileFacts], profile: &Profile) -> Vec<Cause> {
    let mut out = Vec::new();
    format_consistency(files, profile, &mut out);
    lengths(files, &mut out);
    channel_layout(files, &mut out);
    stem_count(files, profile, &mut out);
    naming(files, profile, &mut out);
    silence_and_duplicates(files, profile, &mut out);
    dual_mono(files, profile, &mut out);
    levels(files, profile, &mut out);
    spec_requirements(files, profile, &mut out);
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

fn format_consistency(files: &[FileFacts], profile: &Profile, out: &mut Vec<Cause>) {
    if files.is_empty() {
        return;
    }
    let rates = group_by(files, |f| f.sample_rate);
    if rates.len() > 1 {
        let (majority, odd) = odd_ones_out(&rates);
        out.push(Cause::SampleRateMismatch {
            files: odd,
            majority_sample_rate: majority,
            files_by_rate: rates
                .iter()
                .map(|(rate, group)| (*rate, names(group.iter().copied())))
                .collect(),
        });
    }
    if !profile.sample_rates_hz.is_empty() {
        let wrong: Vec<&FileFacts> = files
            .iter()
            .filter(|f| !profile.sample_rates_hz.contains(&f.sample_rate))
            .collect();
        if !wrong.is_empty() {
            out.push(Cause::SampleRateProfile {
                files: names(wrong.iter().copied()),
                profile: profile.name.clone(),
                allowed_sample_rates: profile.sample_rates_hz.clone(),
            });
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
        out.push(Cause::BitDepthMismatch {
            files: odd,
            majority_format: format_name(float.then_some(SampleFormat::Float), bits),
        });
    }
    let low: Vec<&FileFacts> = files
        .iter()
        .filter(|f| {
            f.sample_format != Some(SampleFormat::Float) && f.bits_per_sample < profile.min_int_bits
        })
        .collect();
    if !low.is_empty() {
        out.push(Cause::LowBitDepth {
            files: names(low.iter().copied()),
            bits_per_sample: low.iter().map(|f| f.bits_per_sample).max().unwrap_or(0),
            profile: profile.name.clone(),
            expected_bits: profile.min_int_bits,
        });
    }
}

/// Lengths are compared in time: a file at another rate (reported by `sample_rate_mismatch`)
/// has its length counted in frames of the delivery's common rate, and matches when it lies
/// within a frame of it (30.000 s at 44.1 kHz is 30.000 s at 48 kHz). A mismatch is an error
/// when a shorter file may have lost audio, a warning when every shorter file ends in silence
/// (a trimmed silent tail).
fn lengths(files: &[FileFacts], out: &mut Vec<Cause>) {
    if files.is_empty() {
        return;
    }
    let (common_rate, _) = odd_ones_out(&group_by(files, |f| f.sample_rate));
    let at_common = |f: &FileFacts| {
        if f.sample_rate == common_rate || f.sample_rate == 0 {
            f.frames
        } else {
            (f.frames as f64 * f64::from(common_rate) / f64::from(f.sample_rate)).round() as u64
        }
    };
    let (majority, _) = odd_ones_out(&group_by(files, at_common));
    // Exact at the common rate; a frame of rounding for a file converted from another rate.
    let matches = |f: &FileFacts, len: u64| {
        let slack = u64::from(f.sample_rate != common_rate);
        at_common(f).abs_diff(len) <= slack
    };
    let odd: Vec<&FileFacts> = files.iter().filter(|f| !matches(f, majority)).collect();
    if odd.is_empty() {
        return;
    }
    let longest = files.iter().map(at_common).max().unwrap_or(0);
    let silent_tails = files
        .iter()
        .filter(|f| !matches(f, longest))
        .all(|f| f.silent_tail);
    out.push(Cause::UnequalLengths {
        files: names(odd),
        majority_frames: majority,
        sample_rate: common_rate,
        frames_by_file: files.iter().map(|f| (f.name.clone(), f.frames)).collect(),
        silent_tails,
    });
}

fn channel_layout(files: &[FileFacts], out: &mut Vec<Cause>) {
    let stems: Vec<FileFacts> = files
        .iter()
        .filter(|f| f.is_stem() && !f.is_split_right())
        .map(FileFacts::as_stem)
        .collect();
    let mix = files.iter().find(|f| !f.is_stem());
    let groups = group_by(&stems, |f| f.channels);
    let many = stems.iter().filter(|f| f.channels > 2).collect::<Vec<_>>();
    if let Some(mix) = mix {
        let wider: Vec<&FileFacts> = stems.iter().filter(|f| f.channels > mix.channels).collect();
        if !wider.is_empty() {
            out.push(Cause::WiderThanMix {
                files: names(wider.iter().copied()),
                mix_channels: mix.channels,
            });
        }
    }
    if groups.len() > 1 {
        let (majority, odd) = odd_ones_out(&groups);
        // Mono stems in a stereo delivery are common and legitimate (bass, kick, lead vocal), so
        // that case is information; anything involving surround widths deserves a look.
        out.push(Cause::MixedChannelLayouts {
            files: odd,
            majority_channels: majority,
            surround: !many.is_empty(),
        });
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

fn stem_count(files: &[FileFacts], profile: &Profile, out: &mut Vec<Cause>) {
    let stems: Vec<&FileFacts> = files
        .iter()
        .filter(|f| f.is_stem() && !f.is_split_right())
        .collect();
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
        out.push(Cause::Multitracks {
            stem_count: stems.len(),
            single_instrument_names: single_instrument,
            expected_max_stems: max,
        });
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

fn naming(files: &[FileFacts], profile: &Profile, out: &mut Vec<Cause>) {
    let mut seen: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut by_file = Vec::new();
    for f in files {
        let normalised: String = words(&f.name).join("_");
        seen.entry(normalised).or_default().push(&f.name);
        let mut problems = Vec::new();
        if f.name.contains(' ') {
            problems.push(NamingProblem::Spaces);
        }
        let bad: String = f
            .name
            .chars()
            .filter(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ' ')))
            .collect();
        if !bad.is_empty() {
            problems.push(NamingProblem::Characters(bad));
        }
        if f.is_stem() && says_nothing(&f.name) {
            problems.push(NamingProblem::SaysNothing);
        }
        if let Some(pattern) = &profile.file_name_pattern
            && f.is_stem()
            && !profile.name_matches(&f.name)
        {
            problems.push(NamingProblem::Pattern(pattern.clone()));
        }
        if !problems.is_empty() {
            by_file.push((f.name.clone(), problems));
        }
    }
    if !by_file.is_empty() {
        out.push(Cause::Naming { by_file });
    }
    for group in seen.values().filter(|g| g.len() > 1) {
        out.push(Cause::NamedAlike {
            files: group.iter().map(|s| s.to_string()).collect(),
        });
    }
}

fn silence_and_duplicates(files: &[FileFacts], profile: &Profile, out: &mut Vec<Cause>) {
    let silent = |f: &FileFacts| {
        f.sample_peak_dbfs
            .is_none_or(|p| p < profile.silence_below_dbfs)
    };
    per_role(
        files,
        |f| silent(f).then_some(f.sample_peak_dbfs),
        |by_file, is_stem| {
            out.push(Cause::Silent {
                by_file,
                is_mix: !is_stem,
            });
        },
    );
    let audible: Vec<&FileFacts> = files.iter().filter(|f| !silent(f)).collect();
    // Files that carry the same audio are one cause however many copies there are: pairs are
    // joined into groups (three copies are one finding naming three files, not three pairs).
    let mut group: Vec<usize> = (0..audible.len()).collect();
    let mut all_identical = vec![true; audible.len()];
    fn root(group: &mut [usize], mut i: usize) -> usize {
        while group[i] != i {
            group[i] = group[group[i]];
            i = group[i];
        }
        i
    }
    for (i, a) in audible.iter().enumerate() {
        for (j, b) in audible.iter().enumerate().skip(i + 1) {
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
                let (ri, rj) = (root(&mut group, i), root(&mut group, j));
                let both = all_identical[ri] && all_identical[rj] && identical;
                group[rj] = ri;
                all_identical[ri] = both;
            }
        }
    }
    for (r, &identical) in all_identical.iter().enumerate() {
        if root(&mut group, r) != r {
            continue;
        }
        let members: Vec<&FileFacts> = (0..audible.len())
            .filter(|&k| root(&mut group, k) == r)
            .map(|k| audible[k])
            .collect();
        // A split pair's two identical halves are one dual-mono stem (see `dual_mono`).
        let pair_of = |f: &FileFacts| f.split_stereo.as_ref().map(|s| s.pair.clone());
        let one_pair =
            matches!(&members[..], [a, b] if pair_of(a).is_some() && pair_of(a) == pair_of(b));
        if members.len() > 1 && !one_pair {
            out.push(Cause::Duplicate {
                files: names(members),
                identical,
            });
        }
    }
}

/// Channels closer than this (left minus right against their mean energy, dB) are the same
/// signal: dither alone keeps 24-bit copies near -140 dB, a real stereo image above -40.
pub const DUAL_MONO_BELOW_DB: f64 = -90.0;

/// Stereo stems whose two channels carry the same signal: one cause listing them all
/// (information: legitimate for a mono part, but twice the space).
fn dual_mono(files: &[FileFacts], profile: &Profile, out: &mut Vec<Cause>) {
    let audible = |f: &FileFacts| {
        f.sample_peak_dbfs
            .is_some_and(|p| p >= profile.silence_below_dbfs)
    };
    let mut dual: Vec<String> = files
        .iter()
        .filter(|f| f.is_stem() && f.channels == 2 && audible(f))
        .filter(|f| {
            f.channel_difference_db
                .is_some_and(|d| d < DUAL_MONO_BELOW_DB)
        })
        .map(|f| f.name.clone())
        .collect();
    // A split pair whose two files carry the same audio.
    for f in files.iter().filter(|f| f.is_stem() && audible(f)) {
        let Some(side) = f.split_stereo.as_ref().filter(|s| s.left) else {
            continue;
        };
        let twin = files.iter().any(|g| {
            g.split_stereo
                .as_ref()
                .is_some_and(|s| !s.left && s.pair == side.pair)
                && g.frames == f.frames
                && g.content_hash == f.content_hash
        });
        if twin {
            dual.push(side.pair.clone());
        }
    }
    if !dual.is_empty() {
        out.push(Cause::DualMono { files: dual });
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

/// Calls `push` with the stems for which `pick` gives a value, then with the mix if it does:
/// a level cause that concerns several files is one cause, but a stem's and the mix's are
/// fixed in different places (stem export, mix bus), so they stay apart.
fn per_role<T>(
    files: &[FileFacts],
    pick: impl Fn(&FileFacts) -> Option<T>,
    mut push: impl FnMut(Vec<(String, T)>, bool),
) {
    for is_stem in [true, false] {
        let by_file: Vec<(String, T)> = files
            .iter()
            .filter(|f| f.is_stem() == is_stem)
            .filter_map(|f| pick(f).map(|v| (f.name.clone(), v)))
            .collect();
        if !by_file.is_empty() {
            push(by_file, is_stem);
        }
    }
}

fn levels(files: &[FileFacts], profile: &Profile, out: &mut Vec<Cause>) {
    let non_finite: Vec<(String, NonFinite)> = files
        .iter()
        .filter(|f| f.non_finite_samples > 0)
        .map(|f| {
            (
                f.name.clone(),
                NonFinite {
                    count: f.non_finite_samples,
                    first_s: f.first_non_finite_s.unwrap_or(0.0),
                },
            )
        })
        .collect();
    if !non_finite.is_empty() {
        out.push(Cause::NonFiniteSamples {
            by_file: non_finite,
        });
    }
    per_role(
        files,
        |f| {
            (f.clipped_runs > 0).then_some(ClipRuns {
                runs: f.clipped_runs,
                longest_run_samples: f.longest_clip_run_samples,
            })
        },
        |by_file, is_stem| out.push(Cause::Clipping { by_file, is_stem }),
    );
    per_role(
        files,
        |f| {
            f.sample_peak_dbfs
                .filter(|&p| f.sample_format == Some(SampleFormat::Float) && p > 0.0)
        },
        |by_file, is_stem| out.push(Cause::FloatOver { by_file, is_stem }),
    );
    per_role(
        files,
        |f| {
            f.true_peak_dbtp
                .filter(|&tp| tp > profile.true_peak_max_dbtp)
        },
        |by_file, is_stem| {
            out.push(Cause::TruePeakOver {
                by_file,
                is_stem,
                profile: profile.name.clone(),
                ceiling_dbtp: profile.true_peak_max_dbtp,
            });
        },
    );
    let hot: Vec<(String, f64)> = files
        .iter()
        .filter(|f| f.is_stem())
        .filter_map(|f| {
            f.sample_peak_dbfs
                .filter(|&p| p > profile.stem_peak_max_dbfs)
                .map(|p| (f.name.clone(), p))
        })
        .collect();
    if !hot.is_empty() {
        out.push(Cause::LowHeadroom {
            by_file: hot,
            profile: profile.name.clone(),
            target_dbfs: profile.stem_peak_max_dbfs,
        });
    }
    dc_offsets(files, profile, out);
}

/// DC offsets over the profile's limit: one finding for the stems, one for the mix, or one
/// for both when the stems' offsets add up to the mix's (the mix is their sum, so its offset
/// is theirs: one cause, fixed at the source track).
fn dc_offsets(files: &[FileFacts], profile: &Profile, out: &mut Vec<Cause>) {
    let over = |f: &FileFacts| {
        f.dc_offset_dbfs
            .filter(|&dc| dc > profile.dc_offset_max_dbfs)
    };
    let mut stems = None;
    let mut mix = None;
    per_role(files, over, |by_file, is_stem| {
        if is_stem {
            stems = Some(by_file);
        } else {
            mix = Some(by_file);
        }
    });
    let carried = stems.is_some()
        && mix.as_ref().is_some_and(|m| m.len() == 1)
        && files
            .iter()
            .find(|f| !f.is_stem())
            .is_some_and(|m| stems_carry_mix_dc(files, m));
    if let Some(by_file) = stems {
        let mix = if carried {
            mix.take().and_then(|m| m.into_iter().next())
        } else {
            None
        };
        out.push(Cause::DcOffset {
            by_file,
            is_stem: true,
            mix,
        });
    }
    if let Some(by_file) = mix {
        out.push(Cause::DcOffset {
            by_file,
            is_stem: false,
            mix: None,
        });
    }
}

/// How far (as a share of the mix's own offset) the stems' summed offset may stray from the
/// mix's on every channel and still be the mix's offset: the stems' gains into the mix
/// (within the gain tolerance) and a pan law on a mono stem move it by a few tenths of that,
/// a mix bus of its own (another DC source, or a high-pass taking some out) by more.
const DC_CARRIED_SHARE: f64 = 0.3;

/// The stems' DC offsets, added channel by channel (a mono stem feeds every channel of the
/// mix, a split pair's half its own; each stem's mean weighted by its length against the mix's), come within
/// [`DC_CARRIED_SHARE`] of the mix's offset on every channel of the mix.
fn stems_carry_mix_dc(files: &[FileFacts], mix: &FileFacts) -> bool {
    let channels = mix.dc_offset_by_channel.len();
    if channels == 0 || mix.frames == 0 {
        return false;
    }
    let mut sum = vec![0.0f64; channels];
    for stem in files.iter().filter(|f| f.is_stem()) {
        let dc = &stem.dc_offset_by_channel;
        let weight = stem.frames as f64 / mix.frames as f64;
        match (dc.len(), &stem.split_stereo) {
            (0, _) => continue,
            // A split pair's halves feed their own channel.
            (1, Some(side)) if channels == 2 => sum[usize::from(!side.left)] += dc[0] * weight,
            (1, _) => sum.iter_mut().for_each(|s| *s += dc[0] * weight),
            (n, _) if n == channels => {
                sum.iter_mut().zip(dc).for_each(|(s, d)| *s += d * weight);
            }
            _ => return false,
        }
    }
    let largest = mix
        .dc_offset_by_channel
        .iter()
        .fold(0.0f64, |a, d| a.max(d.abs()));
    largest > 0.0
        && sum
            .iter()
            .zip(&mix.dc_offset_by_channel)
            .all(|(s, m)| (s - m).abs() <= DC_CARRIED_SHARE * largest)
}

/// Words that name a stem as the FX stem (`fx_stem_required`); a word ending in "fx"
/// ("VoxFX") counts too.
const FX_WORDS: &[&str] = &["fx", "sfx", "efx", "effects", "returns"];

/// The requirements only a delivery spec sets (each key `None`/empty/false checks nothing):
/// stem count minimum, channel layouts, mix loudness, head and tail silence, the FX stem.
fn spec_requirements(files: &[FileFacts], profile: &Profile, out: &mut Vec<Cause>) {
    let stems: Vec<&FileFacts> = files.iter().filter(|f| f.is_stem()).collect();
    let (min_stems, _) = profile.stem_count_range;
    if !stems.is_empty() && stems.len() < min_stems {
        out.push(Cause::TooFewStems {
            stem_count: stems.len(),
            min_stems,
            profile: profile.name.clone(),
        });
    }
    if !profile.channels.is_empty() {
        let by_file: Vec<(String, u16)> = stems
            .iter()
            .filter(|f| !profile.channels.contains(&f.channels))
            .map(|f| (f.name.clone(), f.channels))
            .collect();
        if !by_file.is_empty() {
            out.push(Cause::ChannelsProfile {
                by_file,
                profile: profile.name.clone(),
                allowed_channels: profile.channels.clone(),
            });
        }
    }
    if let Some(want) = profile.mix_loudness {
        for f in files.iter().filter(|f| !f.is_stem()) {
            if let Some(lufs) = f
                .integrated_lufs
                .filter(|l| (l - want.target_lufs).abs() > want.tolerance_lu)
            {
                out.push(Cause::LoudnessOffTarget {
                    file: f.name.clone(),
                    integrated_lufs: lufs,
                    target_lufs: want.target_lufs,
                    tolerance_lu: want.tolerance_lu,
                    profile: profile.name.clone(),
                });
            }
        }
    }
    edge_silence(files, profile, out);
    if profile.fx_stem_required
        && !stems.is_empty()
        && !stems.iter().any(|f| {
            words(&f.name)
                .iter()
                .any(|w| FX_WORDS.contains(&w.as_str()) || w.ends_with("fx"))
        })
    {
        out.push(Cause::MissingFxStem {
            files: names(stems.iter().copied()),
            profile: profile.name.clone(),
        });
    }
}

/// Head silence is the delivery's: the time before the first file sounds (a stem that
/// enters at bar 20 is silent that long, and rightly). Tail silence likewise: the silence
/// left after the last file to sound falls silent, measured on that file. Files that never
/// sound (`silent_stem`) do not count.
fn edge_silence(files: &[FileFacts], profile: &Profile, out: &mut Vec<Cause>) {
    let ms = |frames: u64, f: &FileFacts| frames as f64 * 1000.0 / f64::from(f.sample_rate.max(1));
    let sounding = || files.iter().filter(|f| f.first_audible_frame.is_some());
    if let Some(max_ms) = profile.max_head_silence_ms
        && let Some((f, head_ms)) = sounding()
            .filter_map(|f| f.first_audible_frame.map(|first| (f, ms(first, f))))
            .min_by(|a, b| a.1.total_cmp(&b.1))
        && head_ms > max_ms
    {
        out.push(Cause::EdgeSilence {
            file: f.name.clone(),
            at_end: false,
            silence_ms: head_ms,
            max_ms,
            profile: profile.name.clone(),
        });
    }
    if let Some(max_ms) = profile.max_tail_silence_ms
        && let Some((f, tail_ms)) = sounding()
            .filter_map(|f| {
                f.last_audible_frame
                    .map(|last| (f, ms(f.frames.saturating_sub(last + 1), f)))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
        && tail_ms > max_ms
    {
        out.push(Cause::EdgeSilence {
            file: f.name.clone(),
            at_end: true,
            silence_ms: tail_ms,
            max_ms,
            profile: profile.name.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::MASTERING;
    use crate::report::{Finding, FindingCode, Severity};

    /// A clean stereo 24-bit 48 kHz stem of 10 s peaking at -8 dBFS.
    pub(super) fn stem(name: &str) -> FileFacts {
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
            dc_offset_by_channel: Vec::new(),
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

    /// The checks' causes as the report shows them.
    fn findings_of(files: &[FileFacts], profile: &Profile) -> Vec<Finding> {
        crate::cause::findings(&delivery_checks(files, profile))
    }

    fn codes(findings: &[Finding]) -> Vec<FindingCode> {
        findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn a_clean_delivery_has_no_findings() {
        let findings = findings_of(&clean(), &MASTERING);
        assert!(findings.is_empty(), "{findings:#?}");
    }

    #[test]
    fn sample_rate_and_length_mismatch_name_the_odd_file() {
        let mut files = clean();
        // 10 s at 44.1 kHz beside 10 s at 48 kHz: the same length in time.
        files[1].sample_rate = 44_100;
        files[1].frames = 441_000;
        files[2].frames = 480_001;
        let findings = findings_of(&files, &MASTERING);
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
    fn lengths_are_compared_in_time() {
        let mut files = clean();
        files[1].sample_rate = 44_100;
        files[1].frames = 441_000;
        let findings = findings_of(&files, &MASTERING);
        assert!(
            !codes(&findings).contains(&FindingCode::LengthMismatch),
            "{findings:#?}"
        );
        // 10.0001 s at 44.1 kHz is not 10 s.
        files[1].frames = 441_005;
        let findings = findings_of(&files, &MASTERING);
        assert!(codes(&findings).contains(&FindingCode::LengthMismatch));
    }

    #[test]
    fn a_trimmed_silent_tail_is_a_warning_a_cut_is_an_error() {
        let mut files = clean();
        for f in &mut files {
            f.silent_tail = true;
        }
        files[2].frames = 470_000;
        let len = |files: &[FileFacts]| {
            findings_of(files, &MASTERING)
                .into_iter()
                .find(|f| f.code == FindingCode::LengthMismatch)
                .unwrap()
        };
        let f = len(&files);
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.message.contains("trimmed silent tail"), "{}", f.message);
        // The short file ends in audio: it may be cut.
        files[2].silent_tail = false;
        assert_eq!(len(&files).severity, Severity::Error);
        // A longer file ending in audio cuts nothing of the others.
        files[2].silent_tail = true;
        files[2].frames = 490_000;
        files[2].silent_tail = false;
        assert_eq!(len(&files).severity, Severity::Warning);
    }

    #[test]
    fn low_bit_depth_and_mixed_formats() {
        let mut files = clean();
        files[0].bits_per_sample = 16;
        let findings = findings_of(&files, &MASTERING);
        assert!(codes(&findings).contains(&FindingCode::LowBitDepth));
        assert!(codes(&findings).contains(&FindingCode::BitDepthMismatch));
        // Float is never low bit depth.
        let mut files = clean();
        for f in &mut files {
            f.bits_per_sample = 32;
            f.sample_format = Some(SampleFormat::Float);
        }
        assert!(findings_of(&files, &MASTERING).is_empty());
        // A float delivery with one 24-bit file: the fix names the float format once.
        files[0].bits_per_sample = 24;
        files[0].sample_format = Some(SampleFormat::Int);
        let findings = findings_of(&files, &MASTERING);
        let f = findings
            .iter()
            .find(|f| f.code == FindingCode::BitDepthMismatch)
            .expect("a mismatch");
        assert_eq!(
            f.fix,
            "Export every stem and the mix in the same format (32-bit float) and no dither between stems."
        );
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
        let findings = findings_of(&files, &MASTERING);
        let naming: Vec<_> = findings
            .iter()
            .filter(|f| f.code == FindingCode::Naming)
            .collect();
        // One cause, every file it concerns.
        assert_eq!(naming.len(), 1, "{naming:#?}");
        assert_eq!(
            naming[0].files,
            vec!["Song Drums.wav", "Bäss.wav", "Audio 03.wav"]
        );
        assert!(
            naming[0].message.starts_with("3 file names"),
            "{}",
            naming[0].message
        );
        let mut files = clean();
        files[1].name = "song_drums.wav".into();
        let findings = findings_of(&files, &MASTERING);
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
        let findings = findings_of(&files, &MASTERING);
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
    fn three_copies_are_one_duplicate_finding() {
        let mut files = clean();
        files[1].content_hash = files[0].content_hash;
        files[2].content_hash = files[0].content_hash;
        let findings = findings_of(&files, &MASTERING);
        let dups: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.code == FindingCode::DuplicateStem)
            .collect();
        assert_eq!(dups.len(), 1, "{dups:#?}");
        assert_eq!(dups[0].files.len(), 3);
        assert!(
            dups[0].message.contains(&files[2].name),
            "{}",
            dups[0].message
        );
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
        let c = codes(&findings_of(&files, &MASTERING));
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
        assert!(findings_of(&files, &crate::profile::COLLAB).is_empty());
    }

    #[test]
    fn a_cause_over_many_files_is_one_finding() {
        // Thirteen 16-bit files are one low_bit_depth naming them all.
        let mut files: Vec<FileFacts> = (0..13)
            .map(|i| {
                let mut f = stem(&format!("Song_Part{i}.wav"));
                f.bits_per_sample = 16;
                f.envelope_db = vec![-20.0 - i as f32; 100];
                f
            })
            .collect();
        let findings = findings_of(&files, &crate::profile::SYNC);
        let low: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.code == FindingCode::LowBitDepth)
            .collect();
        assert_eq!(low.len(), 1, "{findings:#?}");
        assert_eq!(low[0].files.len(), 13);
        assert!(
            low[0].message.starts_with("13 files ("),
            "{}",
            low[0].message
        );
        // Hot stems: one low_headroom with one number, the largest excess.
        files[2].sample_peak_dbfs = Some(-4.0);
        files[5].sample_peak_dbfs = Some(-1.5);
        files[7].true_peak_dbtp = Some(-0.5);
        files[8].true_peak_dbtp = Some(-0.2);
        let findings = findings_of(&files, &MASTERING);
        let hot: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.code == FindingCode::LowHeadroom)
            .collect();
        assert_eq!(hot.len(), 1, "{findings:#?}");
        assert_eq!(hot[0].files, vec!["Song_Part2.wav", "Song_Part5.wav"]);
        assert_eq!(hot[0].measured["lower_by_db"], 4.5);
        assert!(hot[0].fix.contains("the same 4.5 dB"), "{}", hot[0].fix);
        let tp: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.code == FindingCode::TruePeakOver)
            .collect();
        assert_eq!(tp.len(), 1);
        assert_eq!(tp[0].files, vec!["Song_Part7.wav", "Song_Part8.wav"]);
        // The mix's level causes stay apart from the stems' (fixed elsewhere).
        let mut files = clean();
        files[0].dc_offset_dbfs = Some(-30.0);
        files[1].dc_offset_dbfs = Some(-35.0);
        files[4].dc_offset_dbfs = Some(-40.0);
        let findings = findings_of(&files, &MASTERING);
        let dc: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.code == FindingCode::DcOffset)
            .collect();
        assert_eq!(dc.len(), 2);
        assert_eq!(dc[0].files, vec!["Song_Drums.wav", "Song_Bass.wav"]);
        assert_eq!(dc[1].files, vec!["Song_Mix.wav"]);
        assert!(dc[1].fix.contains("mix bus"), "{}", dc[1].fix);
    }

    #[test]
    fn a_mix_whose_offset_the_stems_add_up_to_is_part_of_their_finding() {
        let with_dc = |by_channel: [f64; 2]| {
            let mut files = clean();
            files[0].dc_offset_dbfs = Some(-34.0);
            files[0].dc_offset_by_channel = vec![0.02, 0.02];
            files[4].dc_offset_dbfs = Some(-34.0);
            files[4].dc_offset_by_channel = by_channel.to_vec();
            let findings = findings_of(&files, &MASTERING);
            findings
                .into_iter()
                .filter(|f| f.code == FindingCode::DcOffset)
                .collect::<Vec<Finding>>()
        };
        // The mix carries the drums' offset: one cause, one finding naming both.
        let dc = with_dc([0.02, 0.0199]);
        assert_eq!(dc.len(), 1, "{dc:?}");
        assert_eq!(dc[0].files, vec!["Song_Drums.wav", "Song_Mix.wav"]);
        assert!(dc[0].message.contains("carries it"), "{}", dc[0].message);
        assert!(dc[0].fix.contains("the stems and the mix"), "{}", dc[0].fix);
        // An offset of the mix's own (another sign on one channel): two causes.
        let dc = with_dc([0.02, -0.02]);
        assert_eq!(dc.len(), 2, "{dc:?}");
        assert_eq!(dc[1].files, vec!["Song_Mix.wav"]);
    }

    #[test]
    fn levels_over_a_limit_print_the_excess_and_fixes_name_the_mix() {
        let mut files = clean();
        files[4].true_peak_dbtp = Some(-0.955);
        let findings = findings_of(&files, &MASTERING);
        let tp = findings
            .iter()
            .find(|f| f.code == FindingCode::TruePeakOver)
            .unwrap();
        assert_eq!(tp.files, vec!["Song_Mix.wav"]);
        assert!(
            tp.message
                .contains("above the mastering profile's ceiling of -1.00 dBTP"),
            "{}",
            tp.message
        );
        assert!(!tp.message.contains("-1.0 dBTP,"), "{}", tp.message);
        assert!(tp.fix.contains("at least 0.05 dB"), "{}", tp.fix);
        // The mix's fix talks about the mix, never about a stem.
        assert!(
            tp.fix.contains("master") && !tp.fix.contains("stem"),
            "{}",
            tp.fix
        );
        files[4].clipped_runs = 1;
        files[4].longest_clip_run_samples = 3;
        let findings = findings_of(&files, &MASTERING);
        let clip = findings
            .iter()
            .find(|f| f.code == FindingCode::Clipping)
            .unwrap();
        assert!(!clip.fix.contains("stem"), "{}", clip.fix);
        assert!(
            clip.message
                .contains("1 flat-topped run, the longest 3 samples"),
            "{}",
            clip.message
        );
    }

    #[test]
    fn dual_mono_stems_are_one_information() {
        let mut files = clean();
        files[0].channel_difference_db = Some(f64::NEG_INFINITY);
        files[2].channel_difference_db = Some(-120.0);
        files[3].channel_difference_db = Some(-20.0);
        files[4].channel_difference_db = Some(f64::NEG_INFINITY); // the mix: not a stem
        let findings = findings_of(&files, &MASTERING);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].code, FindingCode::DualMono);
        assert_eq!(findings[0].severity, Severity::Info);
        assert_eq!(findings[0].files, vec!["Song_Drums.wav", "Song_Keys.wav"]);
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
            codes(&findings_of(&files, &MASTERING)).contains(&FindingCode::MultitracksNotStems)
        );
        let many: Vec<FileFacts> = (0..30)
            .map(|i| {
                let mut f = stem(&format!("Part{i}_Synth.wav"));
                f.envelope_db = vec![-20.0 - i as f32; 10];
                f
            })
            .collect();
        assert!(codes(&findings_of(&many, &MASTERING)).contains(&FindingCode::MultitracksNotStems));
    }

    #[test]
    fn mono_stems_in_a_stereo_delivery_are_information() {
        let mut files = clean();
        files[1].channels = 1;
        let findings = findings_of(&files, &MASTERING);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].code, FindingCode::ChannelLayout);
        assert_eq!(findings[0].severity, Severity::Info);
    }
}

/// Every delivery-spec key is enforced: a delivery that breaks it gets the finding, one that
/// meets it does not.
#[cfg(test)]
mod spec_tests {
    use super::*;
    use crate::profile::{LoudnessTarget, MASTERING};
    use crate::report::{Finding, FindingCode};

    /// Four stereo 24-bit 48 kHz stems and a mix, 10 s, sounding from 5 ms to 9.99 s, the
    /// mix at -14 LUFS.
    fn delivery() -> Vec<FileFacts> {
        let mut v: Vec<FileFacts> = ["Song_Drums.wav", "Song_Bass.wav", "Song_FX.wav"]
            .iter()
            .enumerate()
            .map(|(i, n)| FileFacts {
                content_hash: i as u64 + 1,
                envelope_db: vec![-20.0 - i as f32; 100],
                first_audible_frame: Some(240),
                last_audible_frame: Some(479_519),
                integrated_lufs: Some(-20.0),
                ..super::tests::stem(n)
            })
            .collect();
        let mut mix = v[0].clone();
        mix.name = "Song_Mix.wav".into();
        mix.role = Some(Role::Mix);
        mix.content_hash = 99;
        mix.envelope_db = vec![-10.0; 100];
        mix.integrated_lufs = Some(-14.0);
        v.push(mix);
        v
    }

    fn spec(edit: impl FnOnce(&mut Profile)) -> Profile {
        let mut p = MASTERING.clone();
        p.name = "spec".into();
        edit(&mut p);
        p
    }

    fn of(files: &[FileFacts], p: &Profile, code: FindingCode) -> Vec<Finding> {
        crate::cause::findings(&delivery_checks(files, p))
            .into_iter()
            .filter(|f| f.code == code)
            .collect()
    }

    #[test]
    fn the_test_delivery_meets_mastering() {
        assert!(crate::cause::findings(&delivery_checks(&delivery(), &MASTERING)).is_empty());
    }

    #[test]
    fn sample_rates_hz_accepts_any_listed_rate() {
        let mut files = delivery();
        files[1].sample_rate = 44_100;
        let p = spec(|p| p.sample_rates_hz = vec![48_000, 96_000]);
        let f = of(&files, &p, FindingCode::SampleRateProfile);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].files, ["Song_Bass.wav"]);
        assert!(
            f[0].message.contains("48000 Hz or 96000 Hz"),
            "{}",
            f[0].message
        );
        files[1].sample_rate = 96_000;
        let mut same_rate = files.clone();
        same_rate.iter_mut().for_each(|f| f.sample_rate = 96_000);
        assert!(of(&same_rate, &p, FindingCode::SampleRateProfile).is_empty());
    }

    #[test]
    fn min_bit_depth_is_enforced() {
        let mut files = delivery();
        files.iter_mut().for_each(|f| f.bits_per_sample = 16);
        let p = spec(|p| p.min_int_bits = 24);
        assert_eq!(of(&files, &p, FindingCode::LowBitDepth).len(), 1);
        let p = spec(|p| p.min_int_bits = 16);
        assert!(of(&files, &p, FindingCode::LowBitDepth).is_empty());
    }

    #[test]
    fn channels_lists_the_accepted_layouts() {
        let mut files = delivery();
        files[0].channels = 1;
        let p = spec(|p| p.channels = vec![2]);
        // A mono stem among stereo ones is also `mixed channel layouts` (info): the
        // profile's finding is the one naming it.
        let f: Vec<Finding> = of(&files, &p, FindingCode::ChannelLayout)
            .into_iter()
            .filter(|f| f.message.contains("profile"))
            .collect();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].files, ["Song_Drums.wav"]);
        assert!(f[0].message.contains("spec profile"), "{}", f[0].message);
        let p = spec(|p| p.channels = vec![1, 2]);
        assert!(
            of(&files, &p, FindingCode::ChannelLayout)
                .iter()
                .all(|f| !f.message.contains("spec profile"))
        );
    }

    #[test]
    fn stem_count_range_has_a_minimum() {
        let files = delivery();
        let p = spec(|p| p.stem_count_range = (4, 12));
        let f = of(&files, &p, FindingCode::StemCount);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].measured["min_stems"], 4);
        let p = spec(|p| p.stem_count_range = (3, 12));
        assert!(of(&files, &p, FindingCode::StemCount).is_empty());
        let p = spec(|p| p.stem_count_range = (1, 2));
        assert_eq!(of(&files, &p, FindingCode::MultitracksNotStems).len(), 1);
    }

    #[test]
    fn file_name_pattern_names_the_stems_that_break_it() {
        let mut files = delivery();
        files[1].name = "Bass.wav".into();
        let p = spec(|p| p.file_name_pattern = Some("{song}_{stem}.wav".into()));
        let f = of(&files, &p, FindingCode::Naming);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].files, ["Bass.wav"]);
        assert!(
            f[0].message.contains("{song}_{stem}.wav"),
            "{}",
            f[0].message
        );
        assert!(of(&delivery(), &p, FindingCode::Naming).is_empty());
    }

    #[test]
    fn peak_ceilings_are_enforced() {
        let p = spec(|p| p.true_peak_max_dbtp = -8.0);
        assert!(!of(&delivery(), &p, FindingCode::TruePeakOver).is_empty());
        let p = spec(|p| p.stem_peak_max_dbfs = -9.0);
        assert_eq!(of(&delivery(), &p, FindingCode::LowHeadroom).len(), 1);
    }

    #[test]
    fn mix_loudness_is_checked_on_the_mix_within_tolerance() {
        let want = |target_lufs, tolerance_lu| {
            spec(|p| {
                p.mix_loudness = Some(LoudnessTarget {
                    target_lufs,
                    tolerance_lu,
                })
            })
        };
        let f = of(
            &delivery(),
            &want(-23.0, 0.5),
            FindingCode::LoudnessOffTarget,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].files, ["Song_Mix.wav"]);
        assert_eq!(f[0].severity, crate::report::Severity::Error);
        assert_eq!(f[0].measured["off_target_lu"], 9.0);
        assert!(
            of(
                &delivery(),
                &want(-14.5, 0.5),
                FindingCode::LoudnessOffTarget
            )
            .is_empty()
        );
        assert_eq!(
            of(
                &delivery(),
                &want(-13.4, 0.5),
                FindingCode::LoudnessOffTarget
            )
            .len(),
            1
        );
    }

    #[test]
    fn head_silence_is_the_deliverys_not_each_stems() {
        let mut files = delivery();
        // A stem entering at 5 s is normal; the delivery still sounds at 5 ms.
        files[1].first_audible_frame = Some(240_000);
        let p = spec(|p| p.max_head_silence_ms = Some(10.0));
        assert!(of(&files, &p, FindingCode::HeadSilence).is_empty());
        files
            .iter_mut()
            .for_each(|f| f.first_audible_frame = Some(4_800));
        let f = of(&files, &p, FindingCode::HeadSilence);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].measured["silence_ms"], 100.0);
    }

    #[test]
    fn tail_silence_under_one_frame() {
        // Every file falls silent 10 ms before its end: within one 24 fps frame.
        let p = spec(|p| p.max_tail_silence_ms = Some(41.66));
        assert!(of(&delivery(), &p, FindingCode::TailSilence).is_empty());
        let mut files = delivery();
        files
            .iter_mut()
            .for_each(|f| f.last_audible_frame = Some(480_000 - 4_801));
        let f = of(&files, &p, FindingCode::TailSilence);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].measured["silence_ms"], 100.0);
    }

    #[test]
    fn fx_stem_required_wants_a_stem_named_fx() {
        let p = spec(|p| p.fx_stem_required = true);
        assert!(of(&delivery(), &p, FindingCode::MissingFxStem).is_empty());
        let mut files = delivery();
        files[2].name = "Song_Keys.wav".into();
        assert_eq!(of(&files, &p, FindingCode::MissingFxStem).len(), 1);
        files[2].name = "Song_VoxFX.wav".into();
        assert!(of(&files, &p, FindingCode::MissingFxStem).is_empty());
        assert!(of(&files, &MASTERING, FindingCode::MissingFxStem).is_empty());
    }
}
