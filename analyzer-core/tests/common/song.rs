//! Reconciling a synthetic song with the mastering profile's defaults, as most reconciliation
//! tests do.

use analyzer_core::profile::MASTERING;
use analyzer_core::reconcile::synth::Song;
use analyzer_core::reconcile::{ReconcileOptions, ReconcileResult, reconcile_sources};

/// `song`'s stems reconciled against `mix` (interleaved, the song's layout).
///
/// # Panics
/// When the sources cannot be built or the reconciliation fails: the test's failure.
pub fn reconcile(song: &Song, mix: &[f32]) -> ReconcileResult {
    let (m, stems) = song.sources(mix).expect("sources");
    reconcile_sources(
        m,
        stems,
        &MASTERING,
        &ReconcileOptions::default(),
        None,
        &|_| {},
    )
    .expect("reconcile")
}

/// Every stem's offset in samples (`i64::MIN` for a stem left out of the sum).
pub fn offsets(r: &ReconcileResult) -> Vec<i64> {
    r.stems
        .iter()
        .map(|f| f.as_ref().map_or(i64::MIN, |f| f.offset_samples))
        .collect()
}
