//! BWF/iXML time stamps against each other and against the measured alignment: where each
//! file lands when the recipient spots it to its timecode, as a post house conforms a
//! delivery.

use std::collections::BTreeMap;

use crate::cause::{Cause, TimecodeMismatch};
use crate::report::{FileReport, Role};

/// Spot positions this close (samples at the mix's rate) agree: converting a stamp between
/// rates rounds by up to half a sample.
const TOLERANCE_SAMPLES: i64 = 1;

/// One stamped stem: its stamp at the comparison rate and its measured offset.
struct Stamped<'a> {
    name: &'a str,
    stamp: i64,
    offset: Option<i64>,
}

impl Stamped<'_> {
    /// Where the stem's audio lands on the timeline when spotted to its stamp, expressed as
    /// the stamp its content at mix position 0 gets: the stamp plus the measured offset.
    fn spot(&self) -> i64 {
        self.stamp.saturating_add(self.offset.unwrap_or(0))
    }
}

/// `timecode_mismatch` causes, one per distinct disagreement, from the files' stamps and the
/// reconciliation's offsets (already in `files`). Files without a stamp are not compared.
///
/// The reference is the mix when it is stamped; otherwise the spot most stamped stems share
/// (the earliest on a tie), so two stems stamped apart still show without a stamped mix.
pub(super) fn timecode_causes(files: &[FileReport]) -> Vec<Cause> {
    let readable = |f: &&FileReport| f.error.is_none() && f.sample_rate.is_some();
    let mix = files
        .iter()
        .filter(readable)
        .find(|f| f.role == Some(Role::Mix));
    let stems: Vec<&FileReport> = files
        .iter()
        .filter(readable)
        .filter(|f| f.role == Some(Role::Stem) && f.time_reference_samples.is_some())
        .collect();
    let Some(rate) = mix.or(stems.first().copied()).and_then(|f| f.sample_rate) else {
        return Vec::new();
    };
    let at_rate = |f: &FileReport| -> Option<i64> {
        let (stamp, from) = (f.time_reference_samples?, f.sample_rate?);
        let scaled =
            (u128::from(stamp) * u128::from(rate) + u128::from(from) / 2) / u128::from(from);
        i64::try_from(scaled).ok()
    };
    let stamped: Vec<Stamped> = stems
        .iter()
        .filter_map(|f| {
            Some(Stamped {
                name: &f.path,
                stamp: at_rate(f)?,
                offset: f.offset_samples,
            })
        })
        .collect();
    let (reference, reference_spot) = match mix.and_then(|m| Some((m, at_rate(m)?))) {
        Some((m, stamp)) => (Some(m.path.clone()), stamp),
        None if stamped.len() >= 2 => {
            let mut count: BTreeMap<i64, usize> = BTreeMap::new();
            for s in &stamped {
                *count.entry(s.spot()).or_default() += 1;
            }
            let most = count.values().copied().max().unwrap_or(0);
            let Some((&spot, _)) = count.iter().find(|&(_, &n)| n == most) else {
                return Vec::new();
            };
            (None, spot)
        }
        None => return Vec::new(),
    };
    // Files with the same disagreement (stamp apart, audio offset) are one cause.
    let mut groups: BTreeMap<(i64, Option<i64>), Vec<String>> = BTreeMap::new();
    for s in &stamped {
        if apart(s.spot(), reference_spot).abs() <= TOLERANCE_SAMPLES {
            continue;
        }
        groups
            .entry((apart(s.stamp, reference_spot), s.offset))
            .or_default()
            .push(s.name.to_owned());
    }
    groups
        .into_iter()
        .map(|((apart, offset), files)| {
            Cause::TimecodeMismatch(TimecodeMismatch {
                files,
                reference: reference.clone(),
                reference_stamp_samples: u64::try_from(reference_spot).unwrap_or(0),
                stamped_apart_samples: apart,
                audio_offset_samples: offset,
                sample_rate: rate,
            })
        })
        .collect()
}

/// `a - b`, saturated: stamps come from the files and may be anything.
fn apart(a: i64, b: i64) -> i64 {
    a.saturating_sub(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(
        path: &str,
        role: Role,
        rate: u32,
        stamp: Option<u64>,
        offset: Option<i64>,
    ) -> FileReport {
        FileReport {
            path: path.to_owned(),
            role: Some(role),
            sample_rate: Some(rate),
            time_reference_samples: stamp,
            offset_samples: offset,
            ..Default::default()
        }
    }

    fn only(causes: &[Cause]) -> &TimecodeMismatch {
        match causes {
            [Cause::TimecodeMismatch(t)] => t,
            other => panic!("{other:#?}"),
        }
    }

    const HOUR: u64 = 3600 * 48_000;

    #[test]
    fn stamped_late_but_aligned_in_audio() {
        let files = [
            file("Mix.wav", Role::Mix, 48_000, Some(HOUR), None),
            file(
                "Drums.wav",
                Role::Stem,
                48_000,
                Some(HOUR + 48_000),
                Some(0),
            ),
            file("Bass.wav", Role::Stem, 48_000, Some(HOUR + 48_000), Some(0)),
            file("Keys.wav", Role::Stem, 48_000, Some(HOUR), Some(0)),
            file("Vox.wav", Role::Stem, 48_000, None, Some(0)),
        ];
        let c = timecode_causes(&files);
        let t = only(&c);
        assert_eq!(t.files, ["Drums.wav", "Bass.wav"]);
        assert_eq!(t.reference.as_deref(), Some("Mix.wav"));
        assert_eq!(
            (t.stamped_apart_samples, t.misplacement_samples()),
            (48_000, 48_000)
        );
        assert_eq!(t.right_stamp_samples(), Some(HOUR));
        let f = c[0].to_finding();
        assert!(f.message.contains("1.000 s later"), "{}", f.message);
        assert!(f.message.contains("lines up"), "{}", f.message);
        assert!(f.fix.contains("01:00:00.000"), "{}", f.fix);
    }

    #[test]
    fn stamped_together_but_offset_in_audio_and_consistent_stamps() {
        let files = [
            file("Mix.wav", Role::Mix, 48_000, Some(HOUR), None),
            // Audio 480 samples late in the file, stamped as the mix: lands 10 ms late.
            file("Gtr.wav", Role::Stem, 48_000, Some(HOUR), Some(480)),
            // A stem that starts 1 s into the song, stamped 1 s later: lands right.
            file(
                "Fx.wav",
                Role::Stem,
                48_000,
                Some(HOUR + 48_000),
                Some(-48_000),
            ),
        ];
        let c = timecode_causes(&files);
        let t = only(&c);
        assert_eq!(t.files, ["Gtr.wav"]);
        assert_eq!(
            (t.stamped_apart_samples, t.misplacement_samples()),
            (0, 480)
        );
        assert!(c[0].to_finding().message.contains("stamped together"));
    }

    #[test]
    fn rates_are_converted_and_unstamped_files_ignored() {
        let files = [
            file("Mix.wav", Role::Mix, 48_000, Some(HOUR), None),
            // The same instant at 96 kHz.
            file("Hi.wav", Role::Stem, 96_000, Some(2 * HOUR), Some(0)),
            file("None.wav", Role::Stem, 48_000, None, Some(0)),
        ];
        assert!(timecode_causes(&files).is_empty());
        // No stamped mix and a single stamped stem: nothing to compare.
        let files = [
            file("Mix.wav", Role::Mix, 48_000, None, None),
            file("A.wav", Role::Stem, 48_000, Some(HOUR), Some(0)),
        ];
        assert!(timecode_causes(&files).is_empty());
    }

    #[test]
    fn absurd_stamps_and_offsets_do_not_overflow() {
        let files = [
            file("A.wav", Role::Stem, 48_000, Some(1 << 62), Some(i64::MAX)),
            file("B.wav", Role::Stem, 48_000, Some(0), Some(-(1 << 62))),
            file("C.wav", Role::Stem, 48_000, Some(0), Some(-(1 << 62))),
            // Beyond what a stamp at the comparison rate can hold: not compared.
            file("D.wav", Role::Stem, 1, Some(u64::MAX), Some(0)),
        ];
        let c = timecode_causes(&files);
        assert_eq!(only(&c).files, ["A.wav"]);
        assert!(!c[0].to_finding().message.is_empty());
    }

    #[test]
    fn without_a_stamped_mix_stems_are_compared_with_each_other() {
        let files = [
            file("A.wav", Role::Stem, 48_000, Some(HOUR), None),
            file("B.wav", Role::Stem, 48_000, Some(HOUR), None),
            file("C.wav", Role::Stem, 48_000, Some(HOUR - 24_000), None),
        ];
        let c = timecode_causes(&files);
        let t = only(&c);
        assert_eq!(
            (t.files.as_slice(), t.reference.as_deref()),
            (&["C.wav".to_owned()][..], None)
        );
        assert_eq!(t.misplacement_samples(), -24_000);
        assert!(
            c[0].to_finding().message.contains("500 ms early"),
            "{}",
            c[0].to_finding().message
        );
    }
}
