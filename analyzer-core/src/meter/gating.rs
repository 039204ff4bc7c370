//! BS.1770-4 gating (section 2.8) and the loudness scale of its blocks, defined once for every
//! loudness figure of analyzer-core.
//!
//! A gating block's loudness is `-0.691 + 10·log10(energy)` ([`energy_to_lufs`]). A block
//! passes the absolute gate when it is strictly above [`ABSOLUTE_GATE_LUFS`]; of those, the
//! blocks strictly above a relative gate ([`RELATIVE_GATE_LU`] for integrated loudness,
//! [`LRA_RELATIVE_GATE_LU`] for the loudness range) below their mean energy are averaged.
//!
//! Two accumulators apply these gates. The histogram the [`Loudness`](super::Loudness) meter
//! keeps is bounded in memory for programmes of any length (its gate position is quantised to
//! 0.01 LU, the mean energies stay exact); [`gated_loudness_lufs`] gates a list of block
//! energies exactly, for a caller that keeps the list anyway (the reconciliation's residual
//! over the judged span).

use crate::units::{db_to_power, power_to_db};

/// Absolute gate of BS.1770-4 / Tech 3342.
pub const ABSOLUTE_GATE_LUFS: f64 = -70.0;
/// Relative gate for integrated loudness (BS.1770-4).
pub const RELATIVE_GATE_LU: f64 = -10.0;
/// Relative gate for loudness range (Tech 3342).
pub const LRA_RELATIVE_GATE_LU: f64 = -20.0;

/// Loudness in LUFS of a mean weighted square (BS.1770-4 eq. 2); -inf for 0.
pub fn energy_to_lufs(energy: f64) -> f64 {
    -0.691 + power_to_db(energy)
}

/// Mean weighted square giving `lufs`.
pub fn lufs_to_energy(lufs: f64) -> f64 {
    db_to_power(lufs + 0.691)
}

/// Whether a block of loudness `lufs` passes the absolute gate: strictly above -70 LUFS
/// (BS.1770-4: blocks "above" the gate); -inf and NaN do not.
pub fn passes_absolute_gate(lufs: f64) -> bool {
    lufs > ABSOLUTE_GATE_LUFS
}

/// Energy of the relative gate `rel_lu` below blocks of mean energy `mean_energy`.
pub fn relative_gate_energy(mean_energy: f64, rel_lu: f64) -> f64 {
    mean_energy * db_to_power(rel_lu)
}

/// Integrated loudness (BS.1770-4 section 2.8) of a list of gating-block energies (400 ms
/// blocks every 100 ms), gated exactly: absolute gate, then the relative gate
/// [`RELATIVE_GATE_LU`] below the mean of the blocks that passed. `None` when no block passes
/// (silence).
pub fn gated_loudness_lufs(blocks: &[f64]) -> Option<f64> {
    let gated = gated_blocks(blocks, RELATIVE_GATE_LU);
    (!gated.is_empty()).then(|| energy_to_lufs(gated.iter().sum::<f64>() / gated.len() as f64))
}

/// Loudness range (EBU Tech 3342) of a list of short-term block energies (3 s windows),
/// gated exactly: absolute gate, then [`LRA_RELATIVE_GATE_LU`] below the mean of the blocks
/// that passed; the spread between the 10th and 95th percentiles of what remains (nearest
/// rank). `None` when no block passes.
pub fn gated_loudness_range_lu(blocks: &[f64]) -> Option<f64> {
    let mut lufs: Vec<f64> = gated_blocks(blocks, LRA_RELATIVE_GATE_LU)
        .into_iter()
        .map(energy_to_lufs)
        .collect();
    if lufs.is_empty() {
        return None;
    }
    lufs.sort_by(f64::total_cmp);
    let n = lufs.len();
    let at = |p: f64| lufs[(((n - 1) as f64 * p + 0.5) as usize).min(n - 1)];
    Some((at(0.95) - at(0.10)).max(0.0))
}

/// The block energies that pass the absolute gate and then the relative gate `rel_lu` below
/// the mean of those that passed it.
fn gated_blocks(blocks: &[f64], rel_lu: f64) -> Vec<f64> {
    let passed: Vec<f64> = blocks
        .iter()
        .copied()
        .filter(|&e| passes_absolute_gate(energy_to_lufs(e)))
        .collect();
    if passed.is_empty() {
        return passed;
    }
    let gate = relative_gate_energy(passed.iter().sum::<f64>() / passed.len() as f64, rel_lu);
    passed.into_iter().filter(|&e| e > gate).collect()
}

/// Bins of the block-loudness histogram.
const BINS: usize = 10_000;
/// Lowest loudness of bin 0 (the absolute gate).
const HIST_MIN_LUFS: f64 = ABSOLUTE_GATE_LUFS;
/// Width of one bin.
const BIN_LU: f64 = 0.01;

/// Distribution of block energies above the absolute gate, bounded in memory.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    counts: Vec<u64>,
    /// Exact sum of the energies that fell into each bin.
    energy: Vec<f64>,
    total_count: u64,
    total_energy: f64,
}

impl Histogram {
    pub(crate) fn new() -> Self {
        Histogram {
            counts: vec![0; BINS],
            energy: vec![0.0; BINS],
            total_count: 0,
            total_energy: 0.0,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.counts.fill(0);
        self.energy.fill(0.0);
        self.total_count = 0;
        self.total_energy = 0.0;
    }

    fn bin_of(lufs: f64) -> usize {
        let i = ((lufs - HIST_MIN_LUFS) / BIN_LU).floor();
        if i <= 0.0 {
            0
        } else if i >= (BINS - 1) as f64 {
            BINS - 1
        } else {
            i as usize
        }
    }

    /// Adds a block of mean energy `e` if it passes the absolute gate.
    pub(crate) fn add(&mut self, e: f64) {
        let l = energy_to_lufs(e);
        if !passes_absolute_gate(l) {
            return;
        }
        let b = Self::bin_of(l);
        self.counts[b] += 1;
        self.energy[b] += e;
        self.total_count += 1;
        self.total_energy += e;
    }

    /// First bin whose blocks pass a relative gate at `gate_energy`; in the bin holding the gate
    /// (all within 0.01 LU of it) the bin's mean decides.
    fn first_bin_above(&self, gate_energy: f64) -> usize {
        let b = Self::bin_of(energy_to_lufs(gate_energy));
        if self.counts[b] > 0 && self.energy[b] / (self.counts[b] as f64) < gate_energy {
            b + 1
        } else {
            b
        }
    }

    /// Mean energy of the blocks above the relative gate `rel_lu`, with their count.
    pub(crate) fn gated_mean(&self, rel_lu: f64) -> Option<(f64, u64, usize)> {
        if self.total_count == 0 {
            return None;
        }
        let gate = relative_gate_energy(self.total_energy / self.total_count as f64, rel_lu);
        let start = self.first_bin_above(gate);
        let mut n = 0u64;
        let mut e = 0.0;
        for b in start..BINS {
            n += self.counts[b];
            e += self.energy[b];
        }
        (n > 0).then(|| (e / n as f64, n, start))
    }

    /// Loudness of the block of rank `rank` (0-based) counting from bin `start` upwards.
    pub(crate) fn loudness_at_rank(&self, start: usize, rank: u64) -> f64 {
        let mut seen = 0u64;
        for b in start..BINS {
            let c = self.counts[b];
            if c > 0 && seen + c > rank {
                return energy_to_lufs(self.energy[b] / c as f64);
            }
            seen += c;
        }
        f64::NEG_INFINITY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_bins_are_monotonic_and_clamped() {
        assert_eq!(Histogram::bin_of(-200.0), 0);
        assert_eq!(Histogram::bin_of(-69.995), 0);
        assert_eq!(Histogram::bin_of(-69.985), 1);
        assert_eq!(Histogram::bin_of(500.0), BINS - 1);
        let mut h = Histogram::new();
        h.add(0.0);
        h.add(lufs_to_energy(-75.0));
        assert_eq!(h.total_count, 0);
        h.add(lufs_to_energy(-23.0));
        assert_eq!(h.total_count, 1);
        let (e, n, _) = h.gated_mean(-10.0).unwrap();
        assert_eq!(n, 1);
        assert!((energy_to_lufs(e) + 23.0).abs() < 1e-9);
    }

    #[test]
    fn list_and_histogram_apply_the_same_gates() {
        // Blocks below the absolute gate, a loud run and a quieter run 15 LU down that the
        // relative gate drops.
        let mut blocks = vec![0.0, lufs_to_energy(-80.0), lufs_to_energy(-70.0)];
        blocks.extend(std::iter::repeat_n(lufs_to_energy(-20.0), 30));
        blocks.extend(std::iter::repeat_n(lufs_to_energy(-35.0), 10));
        let exact = gated_loudness_lufs(&blocks).unwrap();
        assert!((exact + 20.0).abs() < 1e-9, "{exact}");
        let mut h = Histogram::new();
        for &e in &blocks {
            h.add(e);
        }
        let (e, n, _) = h.gated_mean(RELATIVE_GATE_LU).unwrap();
        assert_eq!(n, 30);
        assert!((energy_to_lufs(e) - exact).abs() < 1e-9);
        assert_eq!(gated_loudness_lufs(&[0.0, lufs_to_energy(-71.0)]), None);
    }
}
