//! Added content: effect returns (`missing_fx_return`) and parts (`missing_element`) in the
//! mix that no stem carries, told apart by the residual's features.

use super::super::features::{residual_signature, residual_spectrum};
use super::judge::Context;
use crate::cause::{AddedContent, AddedKind, SumImpact};

/// Residuals whose band energies follow the sum's at least this closely (see
/// [`ResidualFeatures::spectral_follow`](crate::diagnose::ResidualFeatures::spectral_follow))
/// are derived from the stems (effects, processing).
const FOLLOW_DERIVED: f64 = 0.5;
/// Below this the residual has a spectrum of its own: a missing part.
const FOLLOW_OWN: f64 = 0.3;

/// The added-content cause for a residual at `added_db` (dB re mix), if the features support
/// one. After a whole-mix model (`secondary`), added content is reported only when the
/// evidence is strong, and as a warning.
pub(super) fn cause(cx: &Context<'_>, added_db: f64, secondary: bool) -> Option<AddedContent> {
    let r = cx.residual;
    let decorrelated = r
        .interchannel_correlation
        .map(|c| c < 0.5 || r.sum_interchannel_correlation.is_some_and(|s| c < s - 0.35));
    // A reverb follows the sum causally: its envelope is predicted by the sum's past
    // better than by the sum's present or future.
    let trails = r.tau_s >= 0.04
        && r.trail_correlation - r.instant_correlation.max(r.backwards_correlation) >= 0.05;
    let own_onsets = r.own_onset_share > 0.5 && r.onsets_per_s > 0.5;
    let derived = r.spectral_follow >= FOLLOW_DERIVED;
    let own_spectrum = r.spectral_follow < FOLLOW_OWN;
    let fx_signs = usize::from(decorrelated == Some(true)) + usize::from(trails);
    let (is_fx, strong) = if r.spectral_follow < FOLLOW_OWN - 0.1 {
        // A spectrum clearly its own (other notes than the stems play) outweighs the
        // envelope: a wide pad playing throughout is decorrelated and smooth too.
        (false, own_onsets || decorrelated == Some(false))
    } else if fx_signs == 2 {
        // Decorrelated *and* trailing: a return, even when its spectrum follows only the
        // stems that feed the send rather than the whole sum.
        (true, true)
    } else if own_spectrum {
        let strong =
            r.spectral_follow < FOLLOW_OWN - 0.1 || own_onsets || decorrelated == Some(false);
        (false, strong)
    } else if fx_signs > 0 {
        // Channels in opposite phase (a chorus or widener) are an effect's signature: no
        // panned part does that.
        let anti_phase = r.interchannel_correlation.is_some_and(|c| c < -0.3);
        let strong = derived && (fx_signs == 2 || r.spectral_follow >= 0.7 || anti_phase);
        (true, strong)
    } else if derived {
        // Plays the stems' notes without being decorrelated or trailing: processing of
        // the sum (saturation, the part of a bus process a model did not capture), not
        // added content.
        return None;
    } else {
        (false, false)
    };
    if secondary && !strong {
        return None;
    }
    let (octave_bands, f10, f90, centroid) = residual_spectrum(cx.stream, cx.segments);
    Some(AddedContent {
        kind: if is_fx {
            AddedKind::FxReturn {
                trails,
                decorrelated: decorrelated == Some(true),
            }
        } else {
            AddedKind::Element
        },
        strong,
        secondary,
        residual_db: added_db,
        interchannel_correlation: r.interchannel_correlation,
        sum_interchannel_correlation: r.sum_interchannel_correlation,
        tau_s: r.tau_s,
        trail_correlation: r.trail_correlation,
        instant_correlation: r.instant_correlation,
        onsets_per_s: r.onsets_per_s,
        own_onset_share: r.own_onset_share,
        backwards_correlation: r.backwards_correlation,
        spectral_follow: r.spectral_follow,
        may_be_excluded: Vec::new(),
        spectrum_low_hz: f10,
        spectrum_high_hz: f90,
        spectrum_centroid_hz: centroid,
        octave_bands,
        signature: residual_signature(cx.stream, cx.segments, f10, f90),
        sum: SumImpact::default(),
    })
}
