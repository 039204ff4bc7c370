//! Diagnosis: *why* the stems do not sum to the mix.
//!
//! A null test that only says "residual at -23 dB" leaves the engineer guessing. This module
//! explains the residual that [`crate::reconcile`] measured, naming the causes of issue 3 and
//! the report contract: `missing_bus_processing` (compression or limiting on the mix bus),
//! `bus_eq` (a linear filter on the mix bus), `missing_fx_return` (reverb/delay returns that no
//! stem carries), `missing_element` (a part no stem carries) and `unexplained_residual`; and it
//! corrects the attribution of `gain_mismatch` when a whole-mix process made every stem look
//! cold.
//!
//! # Method
//!
//! The [`Diagnoser`] sees every aligned block of the reconciliation's streaming pass (it is a
//! [`BlockVisitor`](crate::reconcile::BlockVisitor)): the mix, the plain aligned stem sum (unity gains) and the fitted sum
//! (per-stem gains and polarities). It keeps only bounded statistics: a few numbers per 10 ms
//! frame (energies, cross products and peaks; 36 bytes per frame) and, per segment of about
//! 0.7 s, third-octave-band cross spectra of the mix against the plain sum (Hann-windowed FFT,
//! 50 % overlap). Nothing else of the audio is kept.
//!
//! Whole-mix models are tested on the *plain* sum first, because free per-stem gains quietly
//! absorb bus processing (every stem of a compressed mix reads 1-2 dB cold). Competing
//! explanations are nested models compared by two-fold cross-validation (segments of
//! alternating parity; the model is fitted on one fold and scored on the other):
//!
//! - **global gain**: `mix = g * sum` (the reference every other model must beat);
//! - **linear filter** (bus EQ): `mix = H(f) * sum` with one complex gain per third-octave band,
//!   fitted from the cross spectrum (`H = S_sm / S_ss`). Band pooling is the regulariser: an
//!   EQ is smooth in frequency, a reverb's response is not and stays unexplained;
//! - **time-varying gain** (dynamics): `mix = g(t) * sum` on 10 ms frames, where each frame's
//!   gain is predicted from its two neighbours (a compressor's gain moves smoothly; 50 ms
//!   frames cannot follow fast attacks).
//!
//! - **stereo width** (an imager on the mix bus, stereo mixes): the band filter fitted on the
//!   mid and, apart, on the side (left minus right), against one filter for both; the mono
//!   band filter is blind to it (see `stereo`).
//!
//! A model that deepens the cross-validated null by [`DECISIVE_DB`] over the global gain
//! explains the residual. Dynamics are then characterised as limiting (the mix's frame peaks
//! pinned under a ceiling and its crest factor reduced) or compression (gain that falls with
//! the level of the sum), with the gain reduction (typical and maximum) in dB. Flat-topped runs
//! in the mix are counted first, so that a clipped mix is not called a limiter.
//!
//! What no whole-mix model explains is added content, judged on the fitted residual:
//!
//! - an **FX return** is decorrelated between the channels and its energy envelope *trails* the
//!   sum's: a leaky integral of the sum's energy (decay time constant `tau`) predicts it better
//!   than the sum's instantaneous energy does, and it has few onsets of its own. The tail is
//!   reported as RT60 = `tau * ln(10^6)` (energy decay of 60 dB);
//! - a **missing element** has its own onsets, is correlated between the channels (a panned
//!   part) or follows the sum instantaneously; its level and spectrum region are reported.
//!
//! When the evidence points both ways (a wide pad that plays throughout is the hard case), the
//! finding says the evidence is weak and is a warning, not an error.

mod analysis;
mod artefacts;
mod collect;
mod explain;
mod features;
mod level_ride;
mod master_ride;
mod models;
mod stats;
mod stereo;
mod waveshaper;

/// Re-exported from [`crate::cause`], where the severities are decided.
pub use crate::cause::{ERROR_RESIDUAL_DB, QUIET_RESIDUAL_DB};
pub use analysis::Diagnosis;
pub use artefacts::{GAIN_ARTEFACT_DB, OFFSET_ARTEFACT_S};
pub use collect::Diagnoser;
pub use explain::DECISIVE_DB;
pub use features::ResidualFeatures;
pub use models::ModelScores;
pub use stats::FRAME_S;

use crate::cause;
use crate::profile::Profile;
use crate::reconcile::ReconcileResult;
use artefacts::absorb_artefacts;

/// Runs the diagnosis on a finished reconciliation and merges its causes into the result's
/// (and re-renders the result's findings).
///
/// Explanations are put before the reconciliation's causes, strongest first. When a whole-mix
/// process (dynamics or EQ) explains the residual, `gain_mismatch` causes within
/// [`GAIN_ARTEFACT_DB`] are attributed to it and reported as info: per-stem gains absorb bus
/// compression (every stem reads 1-2 dB cold), so they are not the stems' fault (see
/// `artefacts` for small offsets).
pub fn diagnose(
    diagnoser: &Diagnoser,
    result: &mut ReconcileResult,
    profile: &Profile,
) -> Diagnosis {
    let rec = &result.reconciliation;
    let fitted = rec.fitted_null_depth_db;
    let mut diagnosis = diagnoser.finish(rec.judged_span_frames);
    // A set that nulls per the profile needs no explanation. The plain sum judged here has
    // every stem at its own offset (the residual the diagnosis sees); shifted stems are the
    // reconciliation's causes, not a residual to explain.
    if fitted.is_some_and(|f| f <= profile.null_pass_db)
        && result
            .aligned_null_depth_db
            .is_some_and(|n| n <= profile.null_pass_db)
    {
        diagnosis.clear_causes();
        by_consequence(result, profile, 0);
        result.findings = cause::findings(&result.causes);
        return diagnosis;
    }
    // One stem's fader ride reads as whole-mix dynamics to the models above; the windowed fits
    // say whose it is.
    if level_ride::name_level_rides(&mut diagnosis.causes, &result.stems, &mut result.causes) {
        diagnosis.findings = cause::findings(&diagnosis.causes);
    }
    // Gaps in a stem's export (see `reconcile::dropout`), or the peaks its export cut (see
    // `reconcile::clipped`), are what the residual is. When the rest would pass the profile's
    // null, no model has anything else to explain (the wideband distortion of cut peaks
    // otherwise reads as a codec's noise or a bus process); dropouts that hold at least half
    // of it leave bursts that are no part or effect the stems lack.
    match export_faults(&result.causes, rec.null_depth_db) {
        Some(f) if f.rest_db <= profile.null_pass_db => diagnosis.clear_causes(),
        // A stem's missing ducking (80 % of the residual at least) is the time-varying gain the
        // dynamics models read, and the ducked stem's own notes are no part the stems lack; a
        // stem folded to mono leaves its side, which reads as a decorrelated return or a width.
        Some(f) if f.stem_fault => {
            diagnosis.causes.retain(|c| {
                !matches!(
                    c,
                    cause::Cause::MissingBusProcessing(_)
                        | cause::Cause::AddedContent(_)
                        | cause::Cause::UnexplainedResidual { .. }
                )
            });
            diagnosis.findings = cause::findings(&diagnosis.causes);
        }
        Some(f) if f.dropouts_db >= f.null_db - 3.0 => {
            diagnosis.causes.retain(|c| {
                !matches!(
                    c,
                    cause::Cause::AddedContent(_) | cause::Cause::UnexplainedResidual { .. }
                )
            });
            diagnosis.findings = cause::findings(&diagnosis.causes);
        }
        _ => {}
    }
    // The explanation does not know the mix's name; the coding-noise finding quotes it.
    if let Some(l) = diagnosis.causes.iter_mut().find_map(|c| match c {
        cause::Cause::LossyCodec(l) => Some(l),
        _ => None,
    }) {
        l.mix = rec.mix.clone().unwrap_or_default();
        diagnosis.findings = cause::findings(&diagnosis.causes);
    }
    // Grouped stem gains are judged one by one (some may be the whole-mix cause's side
    // effects) and grouped again after.
    result.causes = cause::ungroup_stem_gains(std::mem::take(&mut result.causes));
    absorb_artefacts(&diagnosis.causes, &mut result.causes, result.sample_rate);
    let active = result.stems.iter().flatten().filter(|f| f.active).count();
    result.causes = cause::group_stem_gains(std::mem::take(&mut result.causes), active);
    result.causes = cause::group_side_effect_gains(std::mem::take(&mut result.causes), active);
    // The gains a master fade bends are that fade's (a gain finding already): one finding.
    if diagnosis
        .causes
        .iter()
        .any(|c| matches!(c, cause::Cause::MasterRide(_)))
    {
        let of_ride = |by: &Option<crate::report::FindingCode>| {
            *by == Some(crate::report::FindingCode::GainMismatch)
        };
        result.causes.retain(|c| match c {
            cause::Cause::SetGain(g) => !of_ride(&g.side_effect_of),
            cause::Cause::StemGain(g) => !of_ride(&g.side_effect_of),
            cause::Cause::StemGains(g) => !of_ride(&g.side_effect_of),
            _ => true,
        });
    }
    // The explanations go first: within one severity the report keeps this order, and a cause
    // comes before the side effects (downgraded above) it has on the per-stem fits.
    let rest = std::mem::take(&mut result.causes);
    result.causes = diagnosis.causes.iter().cloned().chain(rest).collect();
    if profile.bus_processing_expected {
        expect_bus_processing(&mut result.causes);
    }
    by_consequence(result, profile, diagnosis.causes.len());
    // A "filter" flat within a dB is a level, not an EQ anyone set: saying "the mix went
    // through an EQ" would be false, and the level is the gain fits' to report.
    result.causes.retain(|c| !flat_eq(c));
    result.findings = cause::findings(&result.causes);
    diagnosis
}

/// What export faults (dropouts, clipped exports, a sidechain's ducking not printed) leave of
/// the delivered residual, dB re mix.
struct ExportFaults {
    /// The delivered residual (the null as delivered).
    null_db: f64,
    /// What the dropouts leave (-inf without any).
    dropouts_db: f64,
    /// What is left besides all the export faults leave.
    rest_db: f64,
    /// A stem's lost sidechain ducking or its fold to mono is among them.
    stem_fault: bool,
}

/// The residual the export faults among `causes` leave against the delivered
/// one (`null_depth_db`); `None` when there are none or no null was measured.
fn export_faults(causes: &[cause::Cause], null_depth_db: Option<f64>) -> Option<ExportFaults> {
    use crate::units::{db_to_power, power_to_db};
    let (mut dropouts, mut others, mut stem_fault) = (0.0, 0.0, false);
    for c in causes {
        match c {
            cause::Cause::Dropout(d) => dropouts += db_to_power(d.residual_db),
            cause::Cause::ClippedExport(d) => others += db_to_power(d.residual_db),
            cause::Cause::Ducking(d) => {
                others += d.explained_share * db_to_power(d.residual_db);
                stem_fault = true;
            }
            cause::Cause::FoldedToMono(d) => {
                others += d.side_share * db_to_power(d.residual_db);
                stem_fault = true;
            }
            _ => {}
        }
    }
    let null_db = null_depth_db?;
    (dropouts + others > 0.0).then(|| ExportFaults {
        null_db,
        dropouts_db: power_to_db(dropouts),
        rest_db: power_to_db((db_to_power(null_db) - dropouts - others).max(0.0)),
        stem_fault,
    })
}

/// A bus EQ whose coherent bands lie within [`cause::FLAT_EQ_SPAN_DB`] of each other.
fn flat_eq(c: &cause::Cause) -> bool {
    matches!(c, cause::Cause::BusEq(e) if e.curve_span_db < cause::FLAT_EQ_SPAN_DB)
}

/// Under a profile that expects stems without the bus processing (`stem-mastering`), the
/// bus dynamics and EQ the mix has over them are expected: info, with what they measure.
fn expect_bus_processing(causes: &mut [cause::Cause]) {
    for c in causes {
        if matches!(
            c,
            cause::Cause::MissingBusProcessing(_) | cause::Cause::BusEq(_)
        ) && let Some(sum) = c.sum_impact_mut()
        {
            sum.expected_by_profile = true;
        }
    }
}

/// Severity by consequence (report contract): when the stems as delivered miss the profile's
/// null (by a residual louder than render noise, see [`crate::reconcile::delivered_fails`]),
/// the verdict is fail and an error says why. The primary explanation (the first of the
/// `explanations` the diagnosis put first, strongest first) breaks the sum when the residual
/// it accounts for is above the profile's null; when still no cause is an error, the first
/// cause that can break a sum and is not a side effect does; with none,
/// `unexplained_residual` is the error.
fn by_consequence(result: &mut ReconcileResult, profile: &Profile, explanations: usize) {
    let rec = &result.reconciliation;
    let Some(delivered) = rec
        .null_depth_db
        .filter(|_| crate::reconcile::delivered_fails(rec.null_depth_db, profile))
    else {
        return;
    };
    // Coding noise (a lossy mix or lossy stems) is why the sum misses the profile: the files'
    // format is at fault, not the stems' sum, and nothing louder than the noise is left for
    // another cause to explain.
    if result.causes[..explanations]
        .first()
        .is_some_and(|c| matches!(c, cause::Cause::LossyCodec(_)))
    {
        return;
    }
    let impact = cause::SumImpact::breaking(Some(delivered), rec.corrected_null_depth_db);
    // What the profile expects (bus processing under stem-mastering) does not fail the sum.
    if result.causes[..explanations]
        .first_mut()
        .and_then(|c| c.sum_impact_mut())
        .is_some_and(|s| s.expected_by_profile)
    {
        return;
    }
    if let Some(primary) = result.causes[..explanations].first_mut()
        && !flat_eq(primary)
        && primary
            .residual_share_db()
            .is_some_and(|s| s > profile.null_pass_db)
        && let Some(sum) = primary.sum_impact_mut()
    {
        *sum = impact;
    }
    if result
        .causes
        .iter()
        .any(|c| c.severity() == crate::report::Severity::Error)
    {
        return;
    }
    let breaking = |c: &cause::Cause| {
        if flat_eq(c) {
            return false;
        }
        let mut c = c.clone();
        if let Some(sum) = c.sum_impact_mut() {
            *sum = impact;
        }
        c.severity() == crate::report::Severity::Error
    };
    if let Some(i) = result.causes.iter().position(breaking)
        && let Some(sum) = result.causes[i].sum_impact_mut()
    {
        *sum = impact;
        return;
    }
    result.causes.push(cause::Cause::UnexplainedResidual {
        residual_db: delivered,
        null_gain_with_dynamics_db: 0.0,
        null_gain_with_eq_db: 0.0,
        may_be_excluded: Vec::new(),
        sum: impact,
    });
}
