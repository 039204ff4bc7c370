//! Side effects of whole-mix causes on the per-stem fits: a bus compressor makes every stem
//! read cold, a bus EQ's phase delay reads as a small lag. The diagnosis attributes such
//! reconciliation causes to the whole-mix cause that explains them.

use crate::cause::{Cause, SetGain, StemGain, round1, round2};
use crate::report::{FindingCode, Severity};

/// Gain errors up to this size (beyond the measured gain reduction or EQ boost) are what
/// whole-mix processing makes per-stem fits read.
pub const GAIN_ARTEFACT_DB: f64 = 3.0;
/// Gain errors up to this size are what content in the mix that no stem carries (an effect
/// return, a part) makes per-stem fits read.
pub const ADDED_CONTENT_GAIN_DB: f64 = 2.0;
/// With content in the mix that no stem carries, a stem gain that varies by more than this
/// (interquartile range over the analysis windows, dB) is that content's pull on the fit, not
/// the stem's level, whatever its size.
pub const ADDED_CONTENT_GAIN_SPREAD_DB: f64 = 2.0;
/// Gain errors up to this size are what a lossy codec's low-pass and coding noise make
/// per-stem fits read (a hi-hat stem reads cold when the codec cut the mix's top octave).
pub const LOSSY_CODEC_GAIN_DB: f64 = 1.5;
/// Gain errors up to this size are what master automation (a fade the stems lack) makes
/// per-stem fits read: the stems that play through the fade read cold (0.7-2.4 dB on the
/// corpus songs with a 6 s fade-out).
pub const MASTER_RIDE_GAIN_DB: f64 = 3.0;
/// Per-stem offsets up to this long can be the phase delay of a bus EQ or compressor.
pub const OFFSET_ARTEFACT_S: f64 = 0.0005;

/// The bound is computed from the numbers as the report shows them (rounded to 0.1 dB, a
/// non-finite value read as 0), so that a reader can redo the decision from the report.
fn shown(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

/// Per-stem fits absorb whole-mix processing: bus compression makes every stem read cold,
/// bus EQ's phase delay reads as small lags, an FX return biases a lag by a sample. When the
/// diagnosis names such a cause, the reconciliation's gain and small-offset causes that it
/// accounts for are attributed to it (reported lower, saying why) instead of being reported as
/// the stems' fault.
pub(super) fn absorb_artefacts(diagnosis: &[Cause], causes: &mut [Cause], sample_rate: u32) {
    let strong = || {
        diagnosis
            .iter()
            .filter(|c| c.severity() >= Severity::Warning)
    };
    let dynamics = strong().find_map(|c| match c {
        Cause::MissingBusProcessing(b) => Some(b),
        _ => None,
    });
    let eq = strong().find_map(|c| match c {
        Cause::BusEq(e) => Some(e),
        _ => None,
    });
    let added = strong().find(|c| matches!(c, Cause::AddedContent(_)));
    let lossy = strong().find(|c| matches!(c, Cause::LossyCodec(_)));
    let ride = strong().find(|c| matches!(c, Cause::MasterRide(_)));
    let mut gain_bound: Option<f64> = None;
    if let Some(b) = dynamics {
        let gr = shown(round1(b.gain_reduction_max_db)).abs()
            + shown(round1(b.quiet_passage_gain_db)).abs();
        gain_bound = Some(gain_bound.unwrap_or(0.0).max(gr + GAIN_ARTEFACT_DB));
    }
    if let Some(e) = eq {
        let boost: f64 = e
            .curve
            .iter()
            .map(|b| b.gain_db)
            .filter(|g| g.is_finite())
            .fold(0.0f64, |a, x| a.max(x.abs()));
        gain_bound = Some(gain_bound.unwrap_or(0.0).max(boost.min(12.0) + 1.5));
    }
    if added.is_some() {
        // Content no stem carries (a reverb return plays the stems' notes) pulls a least-squares
        // gain by a dB or two; a stem really off by more still stands out.
        gain_bound = Some(gain_bound.unwrap_or(0.0).max(ADDED_CONTENT_GAIN_DB));
    }
    if lossy.is_some() {
        gain_bound = Some(gain_bound.unwrap_or(0.0).max(LOSSY_CODEC_GAIN_DB));
    }
    if ride.is_some() {
        // A fade weighs the stems that play through it: their fits read a dB or two off.
        gain_bound = Some(gain_bound.unwrap_or(0.0).max(MASTER_RIDE_GAIN_DB));
    }
    let by = dynamics
        .map(|_| FindingCode::MissingBusProcessing)
        .or(eq.map(|_| FindingCode::BusEq))
        .or(added.map(Cause::code))
        .or(lossy.map(Cause::code))
        .or(ride.map(Cause::code));
    let Some(by) = by else {
        return;
    };
    let short = (OFFSET_ARTEFACT_S * f64::from(sample_rate)).round();
    let whole_mix = dynamics.is_some() || eq.is_some();
    for c in causes.iter_mut() {
        let side_effect = match c {
            Cause::SetGain(SetGain { gain_db, .. }) => {
                gain_bound.is_some_and(|bound| round2(*gain_db).abs() <= bound)
            }
            Cause::StemGain(StemGain {
                gain_db,
                window_gain_spread_db,
                follows_added_content,
                ..
            }) => {
                let within = gain_bound.is_some_and(|bound| round2(*gain_db).abs() <= bound);
                // A gain that content no stem carries pulls comes and goes with that content
                // (the return boosted where the missing lead plays, unity where it rests); a
                // fader offset is the same in every window, whatever its size.
                *follows_added_content = !within
                    && added.is_some()
                    && window_gain_spread_db.is_some_and(|s| s > ADDED_CONTENT_GAIN_SPREAD_DB);
                within || *follows_added_content
            }
            Cause::StartOffset(s) => {
                let conf = if s.correlation.is_finite() {
                    s.correlation
                } else {
                    1.0
                };
                // An FX return in the mix (reverb, chorus) biases a lag by a few samples;
                // a real shift still correlates almost perfectly once aligned.
                let biased = added.is_some() && conf < 0.95;
                s.side_effect_of.is_none()
                    && (s.offset_samples as f64).abs() <= short
                    && (whole_mix || biased)
            }
            _ => false,
        };
        if side_effect {
            c.attribute_to(by);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cause::{StartOffset, SumImpact};

    fn compression(gain_reduction_max_db: f64) -> Cause {
        crate::cause::fixtures::bus_compression(gain_reduction_max_db)
    }

    fn stem_gain(file: &str, gain_db: f64) -> Cause {
        crate::cause::fixtures::stem_gain(file, gain_db, None)
    }

    #[test]
    fn bus_compression_takes_the_cold_stems_and_small_shifts_upon_itself() {
        let diagnosis = [compression(2.0)];
        let mut causes = vec![
            Cause::StartOffset(StartOffset {
                files: vec!["a".into()],
                offset_samples: 12,
                sample_rate: 48_000,
                correlation: 0.99,
                active_stems: 3,
                side_effect_of: None,
                length_difference_samples: None,
                cut_off: None,
                sum: SumImpact::default(),
            }),
            stem_gain("b", -1.5),
            {
                // 9 dB off: it alone stops the delivered sum nulling (an error).
                let mut c = stem_gain("c", -9.0);
                if let Some(sum) = c.sum_impact_mut() {
                    *sum = SumImpact::breaking(Some(-8.0), Some(-60.0));
                }
                c
            },
        ];
        absorb_artefacts(&diagnosis, &mut causes, 48_000);
        let severities: Vec<Severity> = causes.iter().map(Cause::severity).collect();
        assert_eq!(
            severities,
            [Severity::Warning, Severity::Info, Severity::Error],
            "{causes:#?}"
        );
        assert!(
            causes[1]
                .to_finding()
                .message
                .ends_with("This is what the missing_bus_processing reported here makes a gain fit read, not necessarily the stem's level.")
        );
    }
}
