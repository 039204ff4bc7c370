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
//! [`BlockVisitor`]): the mix, the plain aligned stem sum (unity gains) and the fitted sum
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
mod collect;
mod explain;
mod features;
mod models;
mod stats;

/// Re-exported from [`crate::cause`], where the severities are decided.
pub use crate::cause::{ERROR_RESIDUAL_DB, QUIET_RESIDUAL_DB};
pub use analysis::Diagnosis;
pub use collect::Diagnoser;
pub use explain::DECISIVE_DB;
pub use features::ResidualFeatures;
pub use models::ModelScores;
pub use stats::FRAME_S;

use crate::cause::{self, Cause, SetGain, StemGain, round1, round2};
use crate::profile::Profile;
use crate::reconcile::ReconcileResult;
use crate::report::{FindingCode, Severity};

/// Runs the diagnosis on a finished reconciliation and merges it into the result's findings.
///
/// Explanations are put before the reconciliation's findings, strongest first. When a whole-mix process (dynamics or EQ)
/// explains the residual, `gain_mismatch` findings within [`GAIN_ARTEFACT_DB`] are downgraded to
/// info: per-stem gains absorb bus compression (every stem reads 1-2 dB cold), so they are not
/// the stems' fault.
pub fn diagnose(
    diagnoser: &Diagnoser,
    result: &mut ReconcileResult,
    profile: &Profile,
) -> Diagnosis {
    let rec = &result.reconciliation;
    let fitted = rec.fitted_null_depth_db;
    let mut diagnosis = diagnoser.finish(rec.judged_span_frames);
    // A set that nulls per the profile needs no explanation.
    if fitted.is_some_and(|f| f <= profile.null_pass_db)
        && rec.null_depth_db.is_some_and(|n| n <= profile.null_pass_db)
    {
        diagnosis.clear_causes();
        return diagnosis;
    }
    absorb_artefacts(&diagnosis.causes, &mut result.causes, result.sample_rate);
    // The explanations go first: within one severity the report keeps this order, and a cause
    // comes before the side effects (downgraded above) it has on the per-stem fits.
    let rest = std::mem::take(&mut result.causes);
    result.causes = diagnosis.causes.iter().cloned().chain(rest).collect();
    result.findings = cause::findings(&result.causes);
    diagnosis
}

/// Gain errors up to this size (beyond the measured gain reduction or EQ boost) are what
/// whole-mix processing makes per-stem fits read.
pub const GAIN_ARTEFACT_DB: f64 = 3.0;
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
fn absorb_artefacts(diagnosis: &[Cause], causes: &mut [Cause], sample_rate: u32) {
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
    let by = dynamics
        .map(|_| FindingCode::MissingBusProcessing)
        .or(eq.map(|_| FindingCode::BusEq))
        .or(added.map(Cause::code));
    let Some(by) = by else {
        return;
    };
    let short = (OFFSET_ARTEFACT_S * f64::from(sample_rate)).round();
    let whole_mix = dynamics.is_some() || eq.is_some();
    for c in causes.iter_mut() {
        let side_effect = match c {
            Cause::SetGain(SetGain { gain_db, .. }) | Cause::StemGain(StemGain { gain_db, .. }) => {
                gain_bound.is_some_and(|bound| round2(*gain_db).abs() <= bound)
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

/// Reconciles stem files against a mix file and diagnoses the residual in the same streaming
/// pass: [`crate::reconcile::reconcile`] with the diagnosis added to its findings.
///
/// # Errors
/// As [`crate::reconcile::reconcile`].
pub fn reconcile_and_diagnose(
    mix: &std::path::Path,
    stems: &[&std::path::Path],
    profile: &Profile,
    progress: &dyn Fn(u64),
) -> crate::Result<ReconcileResult> {
    reconcile_and_diagnose_with(mix, stems, profile, progress).map(|(r, _)| r)
}

/// [`reconcile_and_diagnose`], also returning the diagnosis's numbers (model scores and
/// residual features) for tools that tabulate them.
///
/// # Errors
/// As [`crate::reconcile::reconcile`].
pub fn reconcile_and_diagnose_with(
    mix: &std::path::Path,
    stems: &[&std::path::Path],
    profile: &Profile,
    progress: &dyn Fn(u64),
) -> crate::Result<(ReconcileResult, Diagnosis)> {
    use crate::align::{FrameSource, WavSource};
    let mix_src = WavSource::open(mix)?;
    let mut diagnoser = Diagnoser::new(mix_src.channels(), mix_src.sample_rate());
    let mut opened: Vec<Box<dyn FrameSource>> = Vec::new();
    let mut index = Vec::new();
    for (i, p) in stems.iter().enumerate() {
        if let Ok(s) = WavSource::open(p) {
            opened.push(Box::new(s));
            index.push(i);
        }
    }
    let mut r = crate::reconcile::reconcile_sources(
        Box::new(mix_src),
        opened,
        profile,
        &crate::reconcile::ReconcileOptions::default(),
        Some(&mut diagnoser),
        progress,
    )?;
    let mut fits = vec![None; stems.len()];
    for (j, fit) in r.stems.iter().enumerate() {
        fits[index[j]] = fit.clone();
    }
    r.stems = fits;
    let d = diagnose(&diagnoser, &mut r, profile);
    r.reconciliation.spectrum = Some(diagnoser.band_spectrum());
    Ok((r, d))
}
