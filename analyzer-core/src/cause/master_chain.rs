//! Stems that went through the master chain one by one ([`Cause::MasterProcessingOnStems`]).
//!
//! The diagnosis sees only the residual: a mix limited as a whole against stems that were each
//! limited on their own reads as "the mix went through a limiter the stems did not" (or as a
//! residual no model explains, when every stem's limiting differs). What tells the two apart is
//! in the files: when the stems were exported through the master chain, the loud stems' sample
//! peaks sit exactly at the mix's ceiling — a level a stem of an ordinary mix reaches only by
//! chance, and never two of them. So this runs where the file levels and the causes meet.

use super::{Cause, MasterChain, SumImpact};
use crate::report::{FindingCode, Severity};

/// Stem peaks within this many dB of the mix's sample peak sit at its ceiling.
pub const MASTER_CEILING_SPREAD_DB: f64 = 0.05;
/// Stems at the ceiling it takes: one stem can reach the mix's peak by chance (a drum hit that
/// is the mix's loudest moment), two at the same level to a twentieth of a dB cannot.
const STEMS_AT_CEILING: usize = 2;

/// Replaces the residual cause the diagnosis named (`missing_bus_processing`, or an unexplained
/// residual) with [`Cause::MasterProcessingOnStems`] when at least two stems' sample peaks sit
/// at the mix's ceiling (`stem_peaks`: stem name and sample peak, dBFS; `mix`: name and sample
/// peak). The stems' gain fits and their and the mix's flat tops are that cause's doing: the
/// gains are attributed to it, the clipping of those files is folded into it. Normalised stems
/// (every peak at one level, named by [`super::mark_normalised`]) are not this cause.
///
/// When the diagnosis named nothing (the residual was quiet enough to pass for render noise)
/// but the stems as delivered still miss the profile's null (`missed_null_db`: the delivered
/// null, when it misses), the stems at the ceiling are reason enough: a warning.
pub fn name_master_processing_on_stems(
    causes: &mut Vec<Cause>,
    stem_peaks: &[(String, f64)],
    mix: Option<(&str, f64)>,
    missed_null_db: Option<f64>,
) {
    let Some((mix, ceiling_dbfs)) = mix.filter(|(_, p)| p.is_finite()) else {
        return;
    };
    let normalised = causes
        .iter()
        .any(|c| matches!(c, Cause::StemGains(g) if g.normalised_peak_dbfs.is_some()));
    let stems: Vec<String> = stem_peaks
        .iter()
        .filter(|(_, p)| (p - ceiling_dbfs).abs() <= MASTER_CEILING_SPREAD_DB)
        .map(|(f, _)| f.clone())
        .collect();
    if normalised || stems.len() < STEMS_AT_CEILING {
        return;
    }
    let residual = causes.iter().position(|c| {
        c.severity() >= Severity::Warning
            && matches!(
                c,
                Cause::MissingBusProcessing(_) | Cause::UnexplainedResidual { .. }
            )
    });
    let Some(at) = residual else {
        if let Some(null_db) = missed_null_db {
            causes.push(Cause::MasterProcessingOnStems(MasterChain {
                stems,
                mix: mix.to_owned(),
                ceiling_dbfs,
                residual_db: Some(null_db),
                replaced: FindingCode::UnexplainedResidual,
                sum: SumImpact::default(),
            }));
        }
        return;
    };
    let replaced = causes.remove(at);
    let sum = match &replaced {
        Cause::MissingBusProcessing(b) => b.sum,
        Cause::UnexplainedResidual { sum, .. } => *sum,
        _ => SumImpact::default(),
    };
    let chain = MasterChain {
        stems: stems.clone(),
        mix: mix.to_owned(),
        ceiling_dbfs,
        residual_db: replaced.residual_share_db(),
        replaced: replaced.code(),
        sum,
    };
    causes.insert(at, Cause::MasterProcessingOnStems(chain));
    for c in causes.iter_mut() {
        c.attribute_to(FindingCode::MasterProcessingOnStems);
        if let Cause::Clipping { by_file, .. } = c {
            by_file.retain(|(f, _)| f != mix && !stems.contains(f));
        }
    }
    causes.retain(|c| !matches!(c, Cause::Clipping { by_file, .. } if by_file.is_empty()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cause::{ClipRuns, StemGain};

    fn residual(breaks: bool) -> Cause {
        Cause::UnexplainedResidual {
            residual_db: -24.0,
            null_gain_with_dynamics_db: 0.0,
            null_gain_with_eq_db: 0.0,
            may_be_excluded: Vec::new(),
            sum: if breaks {
                SumImpact::breaking(Some(-24.0), Some(-25.0))
            } else {
                SumImpact::default()
            },
        }
    }

    fn peaks(p: &[(&str, f64)]) -> Vec<(String, f64)> {
        p.iter().map(|&(f, x)| (f.to_owned(), x)).collect()
    }

    #[test]
    fn stems_at_the_mix_ceiling_name_the_master_chain_and_take_its_side_effects() {
        let mut causes = vec![
            residual(true),
            Cause::StemGain(StemGain {
                file: "drums".into(),
                gain_db: -0.6,
                tolerance_db: 0.5,
                correlation: 0.99,
                window_gain_spread_db: None,
                follows_added_content: false,
                pan_law_db: None,
                side_effect_of: None,
                sum: SumImpact::breaking(Some(-24.0), Some(-25.0)),
            }),
            Cause::Clipping {
                by_file: vec![(
                    "keys".into(),
                    ClipRuns {
                        runs: 8,
                        longest_run_samples: 3,
                    },
                )],
                is_stem: true,
            },
        ];
        let stems = peaks(&[("bass", -7.9), ("drums", -6.02), ("keys", -6.02)]);
        name_master_processing_on_stems(&mut causes, &stems, Some(("mix", -6.02)), None);
        assert_eq!(causes.len(), 2, "{causes:#?}");
        let f = causes[0].to_finding();
        assert_eq!(f.code, FindingCode::MasterProcessingOnStems);
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.files, ["drums", "keys"]);
        assert!(
            f.message
                .contains("drums and keys peak at the mix's own ceiling of -6.0 dBFS")
        );
        assert_eq!(
            causes[1].severity(),
            Severity::Info,
            "the gain is a side effect"
        );
    }

    #[test]
    fn one_stem_at_the_mix_peak_is_chance() {
        let mut causes = vec![residual(true)];
        let stems = peaks(&[("bass", -7.9), ("drums", -6.02), ("keys", -9.0)]);
        name_master_processing_on_stems(&mut causes, &stems, Some(("mix", -6.02)), None);
        assert_eq!(causes[0].code(), FindingCode::UnexplainedResidual);
    }

    #[test]
    fn a_quiet_residual_that_misses_the_null_is_a_warning_with_stems_at_the_ceiling() {
        let mut causes = Vec::new();
        let stems = peaks(&[("drums", -6.02), ("keys", -6.03)]);
        name_master_processing_on_stems(&mut causes, &stems, Some(("mix", -6.02)), Some(-42.7));
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].severity(), Severity::Warning);
        let none = &mut Vec::new();
        name_master_processing_on_stems(none, &stems, Some(("mix", -6.02)), None);
        assert!(none.is_empty(), "a sum that passes keeps its verdict");
    }
}
