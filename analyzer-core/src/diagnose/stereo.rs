//! A stereo width (imager, mid/side processing) on the mix bus that the stems were exported
//! without: the mix's side signal (left minus right) is the sum's through a gain or curve of
//! its own, while its mid (left plus right) is the sum's as it is (or through another curve).
//!
//! No other whole-mix model sees it. The dynamics and level models are per channel, and the
//! band filter is fitted on the mono downmix, which is the mid: it nulls a mix whose width
//! changed as well as one that did not, and what is left reads as content that differs between
//! the channels and plays the stems' notes, i.e. an FX return (a chorus or widener) no stem
//! carries. A real FX return (reverb, chorus, a delay-based widener) is no filter of the sum's
//! side, so letting the side have its own curve explains little of it.
//!
//! The model is the band filter of `super::models` fitted twice, once on the mid and once on
//! the side (third-octave bands, complex gain per band, two-fold cross-validation over the
//! segments); its rival is the same filter for both (a stereo-linked EQ, which is what the
//! filter model is on the channels). Multiband imagers (a width per band, the lows made mono)
//! are curves, so a band model; a flat width is one gain. Energies are in mid/side units:
//! `|L|^2 + |R|^2 = (|L + R|^2 + |L - R|^2) / 2`, so sums over mid and side compare as sums
//! over the channels do.

use realfft::num_complex::Complex;

use super::stats::{OCTAVE_HZ, Segment, db};

/// What a width of its own for the side does over one filter for both.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WidthFit {
    /// How much deeper the mid/side filters null than one gain for both (cross-validated),
    /// dB.
    pub null_gain_db: f64,
    /// How much deeper they null than one filter for both (a stereo-linked EQ), dB: what the
    /// side's own curve explains.
    pub over_linked_db: f64,
    /// The same on the side alone: how much deeper the side nulls with a curve of its own
    /// than with the filter both channels share, dB (the mid's misfit, a compressor's
    /// above all, left out).
    pub side_over_linked_db: f64,
    /// The side's gain against the mid's, dB, over the bands where the sum has side energy
    /// (energy-weighted): positive = the mix is wider than the stems' sum.
    pub side_minus_mid_db: f64,
    /// The same per octave band `(centre Hz, dB)`, the octaves where the sum's side has
    /// energy.
    pub side_minus_mid_db_by_octave: Vec<(f64, f64)>,
}

/// Per band and fold: `|M|^2`, `|S|^2`, `conj(S) M` of one signal pair (mix, sum).
struct Pair {
    mm: [Vec<f64>; 2],
    ss: [Vec<f64>; 2],
    ms: [Vec<Complex<f64>>; 2],
}

impl Pair {
    fn new(bands: usize) -> Self {
        let z = || vec![0.0; bands];
        let c = || vec![Complex::new(0.0, 0.0); bands];
        Self {
            mm: [z(), z()],
            ss: [z(), z()],
            ms: [c(), c()],
        }
    }

    /// The pooled `(mm, ss, ms)` of band `b` over both folds.
    fn all(&self, b: usize) -> (f64, f64, Complex<f64>) {
        (
            self.mm[0][b] + self.mm[1][b],
            self.ss[0][b] + self.ss[1][b],
            self.ms[0][b] + self.ms[1][b],
        )
    }
}

/// Residual energy of `m - h s` from the band sums.
fn resid(mm: f64, ss: f64, ms: Complex<f64>, h: Complex<f64>) -> f64 {
    (mm - 2.0 * (h.conj() * ms).re + h.norm_sqr() * ss).max(0.0)
}

/// The width model on the judged segments of a stereo mix (`band_hz`: the bands' centres);
/// `None` for another layout, too few segments, or a sum without side energy.
pub(super) fn fit(segments: &[&Segment], band_hz: &[f64], channels: usize) -> Option<WidthFit> {
    fit_with(segments, band_hz, channels, false)
}

/// The width model under a gain that moves with time (a bus compressor before or after the
/// imager): every FFT frame's sum is first brought to the mix by that frame's own gain, read
/// from the mid alone (a mid/side width leaves the mid as it is, so the mid's gain is the
/// compressor's), then the three models are fitted as in [`fit`]. Without it the
/// compressor's misfit dwarfs what the side's own curve explains, and the width's residual
/// (decorrelated between the channels, following the stems' notes) reads as an effect return
/// no stem carries.
pub(super) fn fit_under_moving_gain(
    segments: &[&Segment],
    band_hz: &[f64],
    channels: usize,
) -> Option<WidthFit> {
    fit_with(segments, band_hz, channels, true)
}

fn fit_with(
    segments: &[&Segment],
    band_hz: &[f64],
    channels: usize,
    moving_gain: bool,
) -> Option<WidthFit> {
    let bands = band_hz.len();
    if channels != 2 || segments.len() < 2 {
        return None;
    }
    let (mut mid, mut side) = (Pair::new(bands), Pair::new(bands));
    for (j, seg) in segments.iter().enumerate() {
        let k = j % 2;
        let (mid_ss, mid_ms, side_ss, side_ms) = if moving_gain {
            (&seg.mid_gss, &seg.mid_gms, &seg.side_gss, &seg.side_gms)
        } else {
            (&seg.sss, &seg.sms, &seg.side_ss, &seg.side_ms)
        };
        for b in 0..bands {
            mid.mm[k][b] += seg.smm[b];
            mid.ss[k][b] += mid_ss[b];
            mid.ms[k][b] += mid_ms[b];
            side.mm[k][b] += seg.side_mm[b];
            side.ss[k][b] += side_ss[b];
            side.ms[k][b] += side_ms[b];
        }
    }
    let e_side_sum: f64 = (0..bands).map(|b| side.all(b).1).sum();
    let e_mix: f64 = (0..bands).map(|b| mid.all(b).0 + side.all(b).0).sum();
    if e_side_sum <= 0.0 || e_mix <= 0.0 {
        return None;
    }
    let gain_of = |h: Complex<f64>, ss: f64, ms: Complex<f64>| if ss > 0.0 { ms / ss } else { h };
    let (mut e_gain, mut e_linked, mut e_ms) = (0.0f64, 0.0f64, 0.0f64);
    let (mut side_linked, mut side_own) = (0.0f64, 0.0f64);
    for k in 0..2 {
        let o = 1 - k; // fitted on fold o, scored on fold k
        let total =
            |p: &Pair| -> (f64, f64) { (p.ss[o].iter().sum(), p.ms[o].iter().map(|x| x.re).sum()) };
        let ((ss_m, ms_m), (ss_s, ms_s)) = (total(&mid), total(&side));
        let g = if ss_m + ss_s > 0.0 {
            (ms_m + ms_s) / (ss_m + ss_s)
        } else {
            1.0
        };
        let g = Complex::new(g, 0.0);
        for b in 0..bands {
            let score = |p: &Pair, h: Complex<f64>| resid(p.mm[k][b], p.ss[k][b], p.ms[k][b], h);
            e_gain += score(&mid, g) + score(&side, g);
            let linked = gain_of(
                g,
                mid.ss[o][b] + side.ss[o][b],
                mid.ms[o][b] + side.ms[o][b],
            );
            e_linked += score(&mid, linked) + score(&side, linked);
            side_linked += score(&side, linked);
            let h_mid = gain_of(g, mid.ss[o][b], mid.ms[o][b]);
            let h_side = gain_of(g, side.ss[o][b], side.ms[o][b]);
            e_ms += score(&mid, h_mid) + score(&side, h_side);
            side_own += score(&side, h_side);
        }
    }
    let floor = 1e-30 * e_mix;
    // The side's gain against the mid's, band by band (all data), weighted by the sum's side
    // energy; octaves pool their bands.
    let mut per_band: Vec<(f64, f64, f64)> = Vec::new(); // (Hz, dB, weight)
    for (b, &hz) in band_hz.iter().enumerate() {
        let (_, ss_m, ms_m) = mid.all(b);
        let (_, ss_s, ms_s) = side.all(b);
        if ss_m <= 0.0 || ss_s <= 0.0 {
            continue;
        }
        let (h_mid, h_side) = ((ms_m / ss_m).norm_sqr(), (ms_s / ss_s).norm_sqr());
        if h_mid > 0.0 && h_side > 0.0 {
            per_band.push((hz, db(h_side / h_mid), ss_s));
        }
    }
    let weighted = |rows: &mut dyn Iterator<Item = &(f64, f64, f64)>| {
        let (mut wsum, mut w) = (0.0, 0.0);
        for &(_, d, e) in rows {
            wsum += d * e;
            w += e;
        }
        (w > 0.0).then(|| wsum / w)
    };
    let side_minus_mid_db = weighted(&mut per_band.iter())?;
    // Octaves: the bands within half an octave of each centre, with at least 0.1 % of the
    // sum's side energy.
    let by_octave = OCTAVE_HZ
        .iter()
        .filter_map(|&c| {
            let rows: Vec<&(f64, f64, f64)> = per_band
                .iter()
                .filter(|(hz, _, _)| (hz / c).log2().abs() < 0.5)
                .collect();
            let e: f64 = rows.iter().map(|r| r.2).sum();
            (e >= 1e-3 * e_side_sum)
                .then(|| weighted(&mut rows.into_iter()).map(|d| (c, d)))
                .flatten()
        })
        .collect();
    Some(WidthFit {
        null_gain_db: db((e_gain + floor) / (e_ms + floor)),
        over_linked_db: db((e_linked + floor) / (e_ms + floor)),
        side_over_linked_db: db((side_linked + floor) / (side_own + floor)),
        side_minus_mid_db,
        side_minus_mid_db_by_octave: by_octave,
    })
}
