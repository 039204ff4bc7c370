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

/// `x` (interleaved, `ch` channels) time-stretched so that its content comes `ppm` parts per
/// million later and later: `y[n] = x(n / (1 + ppm 1e-6))`, by linear interpolation (a stem on
/// a drifting clock).
pub fn stretch(x: &[f32], ch: usize, ppm: f64) -> Vec<f32> {
    let n = x.len() / ch;
    let r = 1.0 + ppm * 1e-6;
    let mut y = vec![0.0f32; x.len()];
    for t in 0..n {
        let p = t as f64 / r;
        let (i, f) = (p.floor() as usize, (p - p.floor()) as f32);
        for c in 0..ch {
            let a = x[i * ch + c];
            let b = if i + 1 < n { x[(i + 1) * ch + c] } else { 0.0 };
            y[t * ch + c] = a + f * (b - a);
        }
    }
    y
}
