//! Stereo stems delivered as two mono files: a multi-mono export (Pro Tools' "Multiple Mono"
//! bounce, Logic's "Split" files) writes `Bass.L.wav` and `Bass.R.wav` for one stereo stem.
//! Read one by one, each is a mono stem that enters the stereo sum at the centre, so a correct
//! delivery missed its null by 13 dB and the bass's two identical halves read as a
//! `duplicate_stem` with gain errors. The two files of a pair are one stem: the reconciliation
//! reads them interleaved (left, right), the checks count them once, and every finding about
//! the stem names both files.
//!
//! A pair is two mono files of one folder and one role at one sample rate whose names differ
//! only in the channel word at the end: `.L`/`.R`, `_L`/`_R`, `-L`/`-R`, ` L`/` R`, or the
//! same with `Left`/`Right` (any case). A left or right file without its partner stays a mono
//! stem.

use std::path::Path;

use super::inputs::Input;
use crate::checks::{FileFacts, SplitSide};
use crate::report::{Finding, Role};

/// One stereo stem delivered as two mono files (indices into the check's inputs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitPair {
    /// The left channel's file.
    pub left: usize,
    /// The right channel's file.
    pub right: usize,
    /// How findings name the stem until the report lists its two files: `"<left> + <right>"`
    /// (see [`expand_findings`]).
    pub name: String,
}

/// Which channel a file's name says it holds, with the rest of the name (folder, base name and
/// separator, extension) that its partner shares.
fn side_of(path: &Path) -> Option<(bool, String)> {
    let file = path.file_name()?.to_str()?;
    let (base, ext) = file.rsplit_once('.').unwrap_or((file, ""));
    let cut = base.rfind(['.', '_', '-', ' '])?;
    let (stem, word) = (&base[..=cut], &base[cut + 1..]);
    let left = match word.to_ascii_lowercase().as_str() {
        "l" | "left" => true,
        "r" | "right" => false,
        _ => return None,
    };
    if stem.len() < 2 {
        return None;
    }
    // The partner's word in the same style: `L` with `R`, `Left` with `Right`.
    let style = if word.len() == 1 { "1" } else { "word" };
    let folder = path.parent().map(|p| p.to_string_lossy().into_owned());
    Some((
        left,
        format!(
            "{}\u{0}{stem}\u{0}{style}\u{0}{}",
            folder.unwrap_or_default(),
            ext.to_ascii_lowercase()
        ),
    ))
}

/// The split-stereo pairs among `inputs`: mono files (`channels` by input, from the headers)
/// at one sample rate (`rate`) whose names pair (see the module docs). Only stems are paired:
/// the mix is read as one file.
pub fn find_pairs(
    inputs: &[Input],
    channels: impl Fn(usize) -> Option<u16>,
    rate: impl Fn(usize) -> Option<u32>,
) -> Vec<SplitPair> {
    let candidates: Vec<(usize, bool, String)> = inputs
        .iter()
        .enumerate()
        .filter(|(i, input)| input.role == Role::Stem && channels(*i) == Some(1))
        .filter_map(|(i, input)| side_of(&input.path).map(|(l, key)| (i, l, key)))
        .collect();
    let mut pairs = Vec::new();
    for (l, _, key) in candidates.iter().filter(|c| c.1) {
        let rights: Vec<usize> = candidates
            .iter()
            .filter(|c| !c.1 && c.2 == *key)
            .map(|c| c.0)
            .collect();
        if let [r] = rights[..]
            && rate(*l).is_some()
            && rate(*l) == rate(r)
        {
            pairs.push(SplitPair {
                left: *l,
                right: r,
                name: format!("{} + {}", inputs[*l].name, inputs[r].name),
            });
        }
    }
    pairs
}

/// Marks the delivery facts of every pair's two files (see [`SplitSide`]).
pub fn mark_facts(facts: &mut [FileFacts], pairs: &[SplitPair], inputs: &[Input]) {
    for f in facts {
        f.split_stereo = pairs.iter().find_map(|p| {
            let left = inputs[p.left].name == f.name;
            (left || inputs[p.right].name == f.name).then(|| SplitSide {
                pair: p.name.clone(),
                left,
            })
        });
    }
}

/// Replaces a pair's name in every finding's files by its two files (left, right), so that
/// the report names files as given.
pub fn expand_findings(findings: &mut [Finding], pairs: &[SplitPair], inputs: &[Input]) {
    for f in findings {
        let mut files = Vec::with_capacity(f.files.len() + 1);
        for name in f.files.drain(..) {
            match pairs.iter().find(|p| p.name == name) {
                Some(p) => {
                    files.push(inputs[p.left].name.clone());
                    files.push(inputs[p.right].name.clone());
                }
                None => files.push(name),
            }
        }
        f.files = files;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn input(name: &str) -> Input {
        Input {
            path: PathBuf::from("/d").join(name),
            name: name.to_owned(),
            role: Role::Stem,
            capture: None,
        }
    }

    fn paired(names: &[&str]) -> Vec<(String, String)> {
        let inputs: Vec<Input> = names.iter().map(|n| input(n)).collect();
        find_pairs(&inputs, |_| Some(1), |_| Some(48_000))
            .into_iter()
            .map(|p| (inputs[p.left].name.clone(), inputs[p.right].name.clone()))
            .collect()
    }

    #[test]
    fn channel_words_pair_in_one_style() {
        let pair = |l: &str, r: &str| (l.to_owned(), r.to_owned());
        assert_eq!(
            paired(&["Bass.L.wav", "Bass.R.wav"]),
            [pair("Bass.L.wav", "Bass.R.wav")]
        );
        assert_eq!(
            paired(&["Keys_R.WAV", "Keys_L.wav"]),
            [pair("Keys_L.wav", "Keys_R.WAV")]
        );
        assert_eq!(
            paired(&["Pads Left.aif", "Pads Right.aif", "Pads R.aif"]),
            [pair("Pads Left.aif", "Pads Right.aif")]
        );
        assert_eq!(
            paired(&["gtr-l.flac", "gtr-r.flac"]),
            [pair("gtr-l.flac", "gtr-r.flac")]
        );
    }

    #[test]
    fn names_that_only_look_alike_do_not_pair() {
        // Other bases, other separators, other extensions, a lone side, one-letter bases.
        assert!(paired(&["Bass.L.wav", "Keys.R.wav"]).is_empty());
        assert!(paired(&["Bass.L.wav", "Bass_R.wav"]).is_empty());
        assert!(paired(&["Bass.L.wav", "Bass.R.flac"]).is_empty());
        assert!(paired(&["Bass.L.wav"]).is_empty());
        assert!(paired(&["Vocal.wav", "Vocal_Harmony.wav"]).is_empty());
        assert!(paired(&["L.wav", "R.wav"]).is_empty());
        assert!(paired(&["Bass.L.wav", "Bass.Right.wav"]).is_empty());
    }

    #[test]
    fn only_mono_stems_at_one_rate_pair() {
        let inputs = vec![input("Bass.L.wav"), input("Bass.R.wav")];
        assert!(find_pairs(&inputs, |_| Some(2), |_| Some(48_000)).is_empty());
        assert!(find_pairs(&inputs, |_| Some(1), |i| Some(44_100 + i as u32)).is_empty());
        let mut mix = inputs.clone();
        mix[1].role = Role::Mix;
        assert!(find_pairs(&mix, |_| Some(1), |_| Some(48_000)).is_empty());
    }
}
