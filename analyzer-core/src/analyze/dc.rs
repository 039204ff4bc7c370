//! DC offsets the stems and the mix do not share.
//!
//! A DC offset is inaudible, but it is a constant on every sample of the residual when the
//! mix does not carry the stems' offsets (a DC filter or high-pass on the mix bus that the
//! stem exports bypassed) or carries one of its own. A stem at -50 dBFS of DC against a mix
//! without it keeps the sum from nulling deeper than about -20 dB, and the constant pulls
//! every gain of the fit and reads as content no stem carries: the report named an
//! unexplained residual and a false `gain_mismatch` error, and at -34 dBFS a polarity error
//! and a duplicate as well.
//!
//! The files' DC offsets are known from metering (each channel's mean over the file). When the
//! stems as delivered miss the profile's null and the offset of the mix minus the stems' sum
//! is not negligible, the set is reconciled again with every file's offset taken off as it is
//! read ([`crate::wav::WavFile::without_dc`]). When that deepens the null decisively, the
//! offsets are the cause: the DC-free reconciliation is reported (its gains, offsets and
//! diagnosis are the music's), with the null as delivered as its headline, and one
//! `dc_offset` finding names the files whose offsets the rest does not carry.

use crate::cause::{Cause, DcMismatch, SumImpact};
use crate::reconcile::ReconcileResult;
use crate::units::amp_to_db;

/// One file's DC offsets as metering measured them.
#[derive(Debug, Clone, Copy)]
pub(super) struct FileDc<'a> {
    /// Length, frames.
    pub frames: u64,
    /// Mean sample value per channel, full scale 1.0.
    pub means: &'a [f64],
}

/// The residual's offset must reach this (dBFS, largest channel) for the DC-free
/// reconciliation to be tried: under it the constant is far below any profile's null on
/// programme material (a 24-bit file's own rounding is near -144 dBFS).
pub(super) const MIN_RESIDUAL_DC_DBFS: f64 = -90.0;

/// The DC-free plain sum must null at least this much deeper (dB) than the sum with the
/// offsets for them to be named: they then held at least half of the residual.
pub(super) const DC_EXPLAINS_DB: f64 = 3.0;

/// A file is named when its offset reaches this share of the residual's on some channel (the
/// residual's offset is made of the named files' offsets; smaller ones are not why).
const NAMED_SHARE: f64 = 0.25;

/// Per mix channel, the offset of the mix minus the stems' sum at unity gain (each stem's
/// mean weighted by its length against the mix's; a mono stem feeds every channel; a stem
/// with other channels feeds mix channel `c` from its channel `c mod channels`, as the
/// reconciliation routes it).
pub(super) fn residual_dc(mix: FileDc<'_>, stems: &[FileDc<'_>]) -> Vec<f64> {
    let mix_frames = mix.frames.max(1) as f64;
    let mut dc = mix.means.to_vec();
    for stem in stems {
        let means = stem.means;
        if means.is_empty() {
            continue;
        }
        let weight = (stem.frames as f64 / mix_frames).min(1.0);
        for (c, d) in dc.iter_mut().enumerate() {
            *d -= means[c % means.len()] * weight;
        }
    }
    dc
}

/// The largest magnitude of `values`, dBFS (`-inf` when all are zero).
fn largest_dbfs(values: &[f64]) -> f64 {
    amp_to_db(values.iter().fold(0.0f64, |a, v| a.max(v.abs())))
}

/// Whether the residual's offset is worth a DC-free reconciliation.
pub(super) fn worth_trying(residual: &[f64]) -> bool {
    largest_dbfs(residual) >= MIN_RESIDUAL_DC_DBFS
}

/// The files whose offsets make up the residual's: `(name, offset dBFS, is the mix)`, for
/// every file whose offset on some channel reaches [`NAMED_SHARE`] of the residual's there
/// (stems first, in the order given, then the mix).
pub(super) fn named_files(
    residual: &[f64],
    mix: (&str, FileDc<'_>),
    stems: &[(&str, FileDc<'_>)],
) -> Vec<(String, f64, bool)> {
    let reaches = |m: FileDc<'_>| {
        let means = m.means;
        !means.is_empty()
            && residual.iter().enumerate().any(|(c, r)| {
                let own = means[c % means.len()];
                r.abs() > 0.0 && own.abs() >= NAMED_SHARE * r.abs()
            })
    };
    stems
        .iter()
        .map(|&(n, m)| (n, m, false))
        .chain(std::iter::once((mix.0, mix.1, true)))
        .filter(|(_, m, _)| reaches(*m))
        .map(|(n, m, is_mix)| (n.to_owned(), largest_dbfs(m.means), is_mix))
        .collect()
}

/// The DC-free reconciliation `dc_free` as the report's: the null as delivered (with the
/// offsets) from `delivered`, the causes told so, and the [`DcMismatch`] naming `files`.
/// `dc_free` must null [`DC_EXPLAINS_DB`] deeper than `delivered` (the caller checks).
pub(super) fn adopt(
    delivered: &ReconcileResult,
    mut dc_free: ReconcileResult,
    residual: &[f64],
    files: Vec<(String, f64, bool)>,
) -> ReconcileResult {
    let null_delivered = delivered.reconciliation.null_depth_db;
    dc_free.reconciliation.null_depth_db = null_delivered;
    dc_free.delivered_bit_exact = false;
    // The DC-free sum may null: as delivered it does not.
    dc_free
        .causes
        .retain(|c| !matches!(c, Cause::SumMatchesMix { .. }));
    for c in &mut dc_free.causes {
        if let Some(sum) = c.sum_impact_mut().filter(|s| s.breaks_sum) {
            sum.null_depth_db = null_delivered;
        }
    }
    let mix = files.iter().find(|f| f.2).map(|f| f.0.clone());
    dc_free.causes.insert(
        0,
        Cause::DcMismatch(DcMismatch {
            by_file: files.into_iter().map(|(n, dc, _)| (n, dc)).collect(),
            mix,
            residual_dc_dbfs: largest_dbfs(residual),
            sum: SumImpact::breaking(
                null_delivered,
                dc_free.reconciliation.corrected_null_depth_db,
            ),
        }),
    );
    dc_free.findings = crate::cause::findings(&dc_free.causes);
    dc_free
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dc(frames: u64, means: &[f64]) -> FileDc<'_> {
        FileDc { frames, means }
    }

    #[test]
    fn the_residual_offset_is_the_mix_minus_the_stems_by_channel() {
        let mix = dc(1000, &[0.0, 0.0]);
        let bass = dc(1000, &[0.003, 0.003]);
        let keys = dc(1000, &[0.0, 0.0]);
        let r = residual_dc(mix, &[bass, keys]);
        assert_eq!(r, vec![-0.003, -0.003]);
        assert!(worth_trying(&r));
        let named = named_files(&r, ("Mix", mix), &[("Bass", bass), ("Keys", keys)]);
        assert_eq!(named.len(), 1);
        assert_eq!(named[0].0, "Bass");
        assert!((named[0].1 - amp_to_db(0.003)).abs() < 1e-9);
        assert!(!named[0].2);
        // A mix that carries the stems' offsets leaves none.
        let carried = dc(1000, &[0.003, 0.003]);
        let r = residual_dc(carried, &[bass, keys]);
        assert!(r.iter().all(|d| d.abs() < 1e-12));
        assert!(!worth_trying(&r));
        // A mono stem feeds both channels; a stem half the mix's length, half its mean.
        let mono = dc(500, &[0.004]);
        assert_eq!(residual_dc(mix, &[mono]), vec![-0.002, -0.002]);
        // An offset of the mix's own names the mix.
        let own = dc(1000, &[-0.01, 0.0]);
        let r = residual_dc(own, &[keys]);
        let named = named_files(&r, ("Mix", own), &[("Keys", keys)]);
        assert_eq!(named.len(), 1);
        assert!(named[0].2);
    }

    #[test]
    fn an_offset_far_under_any_null_is_not_worth_a_second_pass() {
        let mix = dc(1000, &[0.0, 0.0]);
        let stem = dc(1000, &[1e-5, -1e-5]);
        assert!(!worth_trying(&residual_dc(mix, &[stem])));
    }
}
