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
    /// A stem's gain into each mix channel (signed, linear), when a fit measured it; unity
    /// into every channel otherwise.
    pub gains: Option<&'a [f64]>,
}

impl FileDc<'_> {
    /// What this stem's offset adds to mix channel `c` (its length against the mix's
    /// `mix_frames` weighs it: a shorter stem adds its mean over less of the mix).
    fn in_mix(&self, c: usize, mix_frames: u64) -> f64 {
        if self.means.is_empty() {
            return 0.0;
        }
        let weight = (self.frames as f64 / mix_frames.max(1) as f64).min(1.0);
        let gain = self.gains.and_then(|g| g.get(c)).copied().unwrap_or(1.0);
        self.means[c % self.means.len()] * gain * weight
    }
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

/// Per mix channel, the offset of the mix minus the stems' sum (each stem at its gains, unity
/// without; weighted by its length against the mix's; a mono stem feeds every channel; a stem
/// with other channels feeds mix channel `c` from its channel `c mod channels`, as the
/// reconciliation routes it).
pub(super) fn residual_dc(mix: FileDc<'_>, stems: &[FileDc<'_>]) -> Vec<f64> {
    let mut dc = mix.means.to_vec();
    for stem in stems {
        for (c, d) in dc.iter_mut().enumerate() {
            *d -= stem.in_mix(c, mix.frames);
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

/// A file named by [`named_files`].
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Named {
    pub name: String,
    /// Its offset, largest channel, dBFS.
    pub dbfs: f64,
    /// What to take off each of its channels for the stems' offsets to add up to the mix's
    /// (a stem's share of the residual's offset; the mix's own offset for the mix).
    pub correction: Vec<f64>,
    pub is_mix: bool,
}

/// The files whose offsets make up the residual's (stems first, in the order given, then the
/// mix): on some mix channel, the stems' offsets overshoot the mix's and the stem's own part
/// points their way, or the mix holds an offset beyond what it carries of the stems'; either
/// reaching [`NAMED_SHARE`] of the residual's there. A mix always carries its stems' own
/// offsets (their music's few microvolts, a mono stem's at its pan law): those name nothing.
pub(super) fn named_files(
    residual: &[f64],
    mix: (&str, FileDc<'_>),
    stems: &[(&str, FileDc<'_>)],
) -> Vec<Named> {
    let mix_frames = mix.1.frames;
    let sum_into = |c: usize| -> f64 { stems.iter().map(|(_, m)| m.in_mix(c, mix_frames)).sum() };
    let mix_mean = |c: usize| {
        let m = mix.1.means;
        if m.is_empty() { 0.0 } else { m[c % m.len()] }
    };
    let significant = |x: f64, d: f64| d != 0.0 && x.abs() >= NAMED_SHARE * d.abs();
    // Per mix channel: the stems carry more than the mix when their sum overshoots it (the
    // residual points back against it); the mix carries an offset of its own when its own
    // points the residual's way and is more than it carries of the stems'.
    let stems_excess = |c: usize| {
        let (s, d) = (sum_into(c), residual[c]);
        s * d < 0.0 && significant(s, d)
    };
    let mix_excess = |c: usize| {
        let (m, s, d) = (mix_mean(c), sum_into(c), residual[c]);
        m * d > 0.0 && significant(m, d) && !(m * s > 0.0 && m.abs() <= s.abs())
    };
    // A stem is named where the stems overshoot, when its own part points the same way as
    // their sum's and reaches a quarter of the residual's.
    let named_stems: Vec<(&str, FileDc<'_>)> = stems
        .iter()
        .copied()
        .filter(|(_, m)| {
            (0..residual.len()).any(|c| {
                let own = m.in_mix(c, mix_frames);
                stems_excess(c) && own * sum_into(c) > 0.0 && significant(own, residual[c])
            })
        })
        .collect();
    let mut out: Vec<Named> = named_stems
        .iter()
        .map(|&(n, m)| Named {
            name: n.to_owned(),
            dbfs: largest_dbfs(m.means),
            correction: stem_correction(residual, mix_frames, m, &named_stems),
            is_mix: false,
        })
        .collect();
    if (0..residual.len()).any(mix_excess) {
        out.push(Named {
            name: mix.0.to_owned(),
            dbfs: largest_dbfs(mix.1.means),
            correction: mix.1.means.to_vec(),
            is_mix: true,
        });
    }
    out
}

/// What to take off each channel of `stem` (one of `named`) so that the stems' offsets add up
/// to the mix's: the residual's offset (mix minus stems) shared among the named stems in
/// proportion to what each adds to that mix channel, brought back through the stem's gain and
/// length into the mix. The stem's offset is not simply taken off: the mix carries whatever
/// part of it the stem's own music has (a bass's few microvolts), so only the excess goes.
fn stem_correction(
    residual: &[f64],
    mix_frames: u64,
    stem: FileDc<'_>,
    named: &[(&str, FileDc<'_>)],
) -> Vec<f64> {
    let ch = stem.means.len().max(1);
    // Per stem channel: the mean over the mix channels it feeds.
    let mut correction = vec![0.0f64; ch];
    let mut feeds = vec![0usize; ch];
    for (c, d) in residual.iter().enumerate() {
        let own = stem.in_mix(c, mix_frames);
        let total: f64 = named.iter().map(|(_, m)| m.in_mix(c, mix_frames)).sum();
        // Through this channel, a unit taken off the stem takes this much off the mix.
        let per_unit = stem.in_mix(c, mix_frames) / stem.means[c % ch];
        if total.abs() <= 0.0 || !per_unit.is_finite() || per_unit.abs() < 1e-6 {
            continue;
        }
        correction[c % ch] += -d * (own / total) / per_unit;
        feeds[c % ch] += 1;
    }
    for (x, n) in correction.iter_mut().zip(feeds) {
        if n > 0 {
            *x /= n as f64;
        }
    }
    correction
}

/// The DC-free reconciliation `dc_free` as the report's: the null as delivered (with the
/// offsets) from `delivered`, the causes told so, and the [`DcMismatch`] naming `files`.
/// `dc_free` must null [`DC_EXPLAINS_DB`] deeper than `delivered` (the caller checks).
pub(super) fn adopt(
    delivered: &ReconcileResult,
    mut dc_free: ReconcileResult,
    residual: &[f64],
    files: Vec<Named>,
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
    let mix = files.iter().find(|f| f.is_mix).map(|f| f.name.clone());
    dc_free.causes.insert(
        0,
        Cause::DcMismatch(DcMismatch {
            by_file: files.iter().map(|f| (f.name.clone(), f.dbfs)).collect(),
            mix,
            offset_by_channel: files.into_iter().map(|f| (f.name, f.correction)).collect(),
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
        FileDc {
            frames,
            means,
            gains: None,
        }
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
        assert_eq!(named[0].name, "Bass");
        assert!((named[0].dbfs - amp_to_db(0.003)).abs() < 1e-9);
        assert_eq!(named[0].correction, vec![0.003, 0.003]);
        assert!(!named[0].is_mix);
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
        assert!(named[0].is_mix);
    }

    #[test]
    fn a_stem_loses_only_the_offset_the_mix_does_not_carry() {
        // The bass's music has 1e-4 of its own, which the mix carries; 0.003 was added.
        let mix = dc(1000, &[1e-4, 1e-4]);
        let bass = dc(1000, &[0.0031, 0.0031]);
        let r = residual_dc(mix, &[bass]);
        let named = named_files(&r, ("Mix", mix), &[("Bass", bass)]);
        assert_eq!(named.len(), 1);
        for x in &named[0].correction {
            assert!((x - 0.003).abs() < 1e-12, "{x}");
        }
        // Two stems share the excess by their offsets; a mono one takes both channels' mean.
        let keys = dc(1000, &[0.002, 0.002]);
        let lead = dc(1000, &[0.002]);
        let r = residual_dc(dc(1000, &[0.0, 0.0]), &[keys, lead]);
        let named = named_files(
            &r,
            ("Mix", dc(1000, &[0.0, 0.0])),
            &[("Keys", keys), ("Lead", lead)],
        );
        assert_eq!(named.len(), 2);
        for x in named[0].correction.iter().chain(&named[1].correction) {
            assert!((x - 0.002).abs() < 1e-12, "{x}");
        }
        assert_eq!(named[1].correction.len(), 1);
        // A mono stem panned at -3 dB into both channels: the mix has 0.707 of its offset on
        // each, and the correction is the stem's own excess.
        let g = [std::f64::consts::FRAC_1_SQRT_2; 2];
        let mono = FileDc {
            frames: 1000,
            means: &[0.0045],
            gains: Some(&g),
        };
        let carried = [0.0015 * g[0], 0.0015 * g[1]];
        let mix = dc(1000, &carried);
        let r = residual_dc(mix, &[mono]);
        let named = named_files(&r, ("Mix", mix), &[("Bass", mono)]);
        assert_eq!(named.len(), 1, "{named:?}");
        assert!((named[0].correction[0] - 0.003).abs() < 1e-12, "{named:?}");
    }

    #[test]
    fn a_mix_carrying_its_stems_own_offsets_is_not_named() {
        // The mix carries the bass's own 0.001 (its music's); 0.003 more was added to the bass.
        let mix = dc(1000, &[0.001, 0.001]);
        let bass = dc(1000, &[0.004, 0.004]);
        let r = residual_dc(mix, &[bass]);
        let named = named_files(&r, ("Mix", mix), &[("Bass", bass)]);
        assert_eq!(named.len(), 1, "{named:?}");
        assert!(!named[0].is_mix);
        // Stem and mix shifted apart: both are named.
        let mix = dc(1000, &[-0.03, -0.03]);
        let bass = dc(1000, &[0.02, 0.02]);
        let r = residual_dc(mix, &[bass]);
        let named = named_files(&r, ("Mix", mix), &[("Bass", bass)]);
        assert_eq!(named.len(), 2, "{named:?}");
        assert!(named[1].is_mix);
    }

    #[test]
    fn an_offset_far_under_any_null_is_not_worth_a_second_pass() {
        let mix = dc(1000, &[0.0, 0.0]);
        let stem = dc(1000, &[1e-5, -1e-5]);
        assert!(!worth_trying(&residual_dc(mix, &[stem])));
    }
}
