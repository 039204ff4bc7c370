//! The live analyser's arithmetic, as pure functions the tests pin down: bin powers, the
//! fractional-octave smoothing, the tilt, and the axes (frequency -> x, dB -> y, ticks).
//!
//! Smoothing works on the power spectrum's running sum ([`cumulative_power`]): a display point
//! at frequency `f` gets the power of the band `f / 2^(1/2n) .. f * 2^(1/2n)` (1/n octave),
//! each FFT bin counted with the part of its width that lies inside the band. So every display
//! point is computed from its own band, never interpolated between two bins: at the top a band
//! holds hundreds of bins (no "grass"), at the bottom a band narrower than two bins is widened
//! to two bins (level scaled back to the nominal width), which keeps the curve continuous
//! there instead of drawing straight segments between sparse bins.
//!
//! Levels are band powers (mean square) in dBFS, the convention of the report's
//! `files[].spectrum` (a full-scale sine reads -3.0 dB in its band), so the live curve and the
//! bounce's per-stem spectra read alike.

/// Frequency the tilt pivots on: a tilted curve keeps its level here.
pub const TILT_PIVOT_HZ: f32 = 1_000.0;

/// One-sided power per FFT bin of a Hann- (or any-) windowed block, normalised so the bins
/// sum to the block's mean square: `|X_k|^2 * 2 / (N * sum(w^2))`, the DC and Nyquist bins
/// counted once. `magnitudes_sq[k]` is `|X_k|^2` for `k = 0..=N/2`.
pub fn bin_powers(magnitudes_sq: &[f32], fft_size: usize, window_power_sum: f32, out: &mut [f32]) {
    let scale = 1.0 / (fft_size as f32 * window_power_sum);
    let last = magnitudes_sq.len().saturating_sub(1);
    for (k, (o, &m)) in out.iter_mut().zip(magnitudes_sq).enumerate() {
        let one_sided = if k == 0 || k == last { 1.0 } else { 2.0 };
        *o = m * scale * one_sided;
    }
}

/// Running sum of `power`: `out[k]` = sum of `power[..k]` (`out` is one longer than `power`).
/// f64, so a band high up (thousands of bins) subtracts two large sums without losing the
/// quiet bins.
pub fn cumulative_power(power: &[f32], out: &mut Vec<f64>) {
    out.clear();
    out.reserve(power.len() + 1);
    let mut sum = 0.0f64;
    out.push(0.0);
    for &p in power {
        sum += f64::from(p);
        out.push(sum);
    }
}

/// The running sum at a fractional bin edge `x` (edge `j` is the lower edge of bin `j`, at
/// `(j - 0.5) * bin_hz`): bins are flat over their width, so the sum is linear between edges.
fn cumulative_at(cumulative: &[f64], x: f64) -> f64 {
    let bins = cumulative.len() - 1;
    let x = x.clamp(0.0, bins as f64);
    let j = (x.floor() as usize).min(bins.saturating_sub(1));
    let frac = x - j as f64;
    cumulative[j] + (cumulative[j + 1] - cumulative[j]) * frac
}

/// Power in the 1/`fraction`-octave band centred (geometrically) on `centre_hz`, from the
/// running sum of bin powers ([`cumulative_power`]) of bins `bin_hz` apart.
///
/// A band narrower than two bins is measured over two bins around `centre_hz` and scaled to
/// the nominal width (the mean power per Hz times the band's width), so a smooth spectrum
/// keeps its level and the curve has no flat steps at the bottom.
pub fn band_power(cumulative: &[f64], bin_hz: f32, centre_hz: f32, fraction: f32) -> f32 {
    if cumulative.len() < 2 || bin_hz <= 0.0 || centre_hz <= 0.0 {
        return 0.0;
    }
    let half = 2f64.powf(1.0 / (2.0 * f64::from(fraction.max(1.0))));
    let centre = f64::from(centre_hz);
    let bin = f64::from(bin_hz);
    let (lo, hi) = (centre / half, centre * half);
    let nominal = hi - lo;
    let (lo, hi) = if nominal < 2.0 * bin {
        (centre - bin, centre + bin)
    } else {
        (lo, hi)
    };
    let edge = |hz: f64| hz / bin + 0.5;
    let power = cumulative_at(cumulative, edge(hi)) - cumulative_at(cumulative, edge(lo));
    (power.max(0.0) * nominal / (hi - lo)) as f32
}

/// dB of a power (mean square), floored at `floor_db`.
pub fn power_db(power: f32, floor_db: f32) -> f32 {
    if power > 0.0 {
        (10.0 * power.log10()).max(floor_db)
    } else {
        floor_db
    }
}

/// Level added by a tilt of `slope_db_per_octave` at `hz` (0 at [`TILT_PIVOT_HZ`]): +3 dB/oct
/// shows pink noise flat, +4.5 dB/oct a typical mix flat (as SPAN and Insight offer).
pub fn tilt_db(hz: f32, slope_db_per_octave: f32) -> f32 {
    slope_db_per_octave * (hz / TILT_PIVOT_HZ).log2()
}

/// `points` frequencies spaced evenly on a log axis from `min_hz` to `max_hz` (both included).
pub fn log_frequencies(points: usize, min_hz: f32, max_hz: f32) -> Vec<f32> {
    let last = points.max(2) - 1;
    (0..points)
        .map(|i| min_hz * (max_hz / min_hz).powf(i as f32 / last as f32))
        .collect()
}

/// A logarithmic frequency axis from `min_hz` to `max_hz`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FreqAxis {
    pub min_hz: f32,
    pub max_hz: f32,
}

impl FreqAxis {
    /// Where `hz` lies along the axis: 0 at `min_hz`, 1 at `max_hz` (outside for outside).
    pub fn fraction(&self, hz: f32) -> f32 {
        (hz / self.min_hz).ln() / (self.max_hz / self.min_hz).ln()
    }

    /// The frequency at `fraction` of the way along (the cursor readout's inverse).
    pub fn hz_at(&self, fraction: f32) -> f32 {
        self.min_hz * (self.max_hz / self.min_hz).powf(fraction)
    }

    /// Grid lines in range: 1, 2 and 5 times each power of ten; `true` marks the decades
    /// (drawn stronger). Each carries its label ("20", "500", "1k", "20k").
    pub fn ticks(&self) -> Vec<(f32, String, bool)> {
        let mut out = Vec::new();
        let mut decade = 1.0f32;
        while decade <= self.max_hz {
            for m in [1.0f32, 2.0, 5.0] {
                let hz = decade * m;
                if hz >= self.min_hz * 0.999 && hz <= self.max_hz * 1.001 {
                    out.push((hz, hz_tick_label(hz), m == 1.0));
                }
            }
            decade *= 10.0;
        }
        out
    }
}

/// A tick label: "50", "500", "1k", "2k", "20k".
pub fn hz_tick_label(hz: f32) -> String {
    if hz >= 1_000.0 {
        format!("{}k", (hz / 1_000.0).round())
    } else {
        format!("{}", hz.round())
    }
}

/// The cursor readout's frequency: "87 Hz", "1.25 kHz", "12.5 kHz".
pub fn hz_readout(hz: f32) -> String {
    if hz >= 10_000.0 {
        format!("{:.1} kHz", hz / 1_000.0)
    } else if hz >= 1_000.0 {
        format!("{:.2} kHz", hz / 1_000.0)
    } else {
        format!("{hz:.0} Hz")
    }
}

/// A vertical dB axis from `lo_db` (bottom) to `hi_db` (top).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DbAxis {
    pub lo_db: f32,
    pub hi_db: f32,
}

impl DbAxis {
    /// How far below the top `db` lies: 0 at `hi_db`, 1 at `lo_db`, clamped to the axis.
    pub fn fraction_below_top(&self, db: f32) -> f32 {
        ((self.hi_db - db) / (self.hi_db - self.lo_db)).clamp(0.0, 1.0)
    }

    /// The level at `fraction` below the top (the cursor readout's inverse).
    pub fn db_at(&self, fraction_below_top: f32) -> f32 {
        self.hi_db - fraction_below_top * (self.hi_db - self.lo_db)
    }

    /// Grid levels every `step_db` (multiples of it), top to bottom, for a plot `height_px`
    /// tall: the step doubles until lines are at least `min_gap_px` apart.
    pub fn ticks(&self, step_db: f32, height_px: f32, min_gap_px: f32) -> Vec<f32> {
        let span = self.hi_db - self.lo_db;
        let mut step = step_db;
        while step < span && height_px * step / span < min_gap_px {
            step *= 2.0;
        }
        let mut db = (self.hi_db / step).floor() * step;
        let mut out = Vec::new();
        while db >= self.lo_db - 1e-3 {
            out.push(db);
            db -= step;
        }
        out
    }
}

/// A dB tick or readout label without a signed zero ("0", "-10", "-34.5").
pub fn db_label(db: f32, digits: usize) -> String {
    let s = format!("{db:.digits$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

/// Peak hold of one curve: each point keeps its highest level for `hold_s`, then falls at
/// `fall_db_per_s`; an infinite `hold_s` keeps the maximum until [`PeakHold::clear`].
#[derive(Debug, Clone, PartialEq)]
pub struct PeakHold {
    pub db: Vec<f32>,
    age_s: Vec<f32>,
}

impl PeakHold {
    /// A hold over `points` points, all at `floor_db`.
    pub fn new(points: usize, floor_db: f32) -> Self {
        Self {
            db: vec![floor_db; points],
            age_s: vec![0.0; points],
        }
    }

    /// Back to `floor_db` everywhere.
    pub fn clear(&mut self, floor_db: f32) {
        self.db.fill(floor_db);
        self.age_s.fill(0.0);
    }

    /// One frame of `dt_s` seconds with the current levels `now_db`.
    pub fn update(&mut self, now_db: &[f32], dt_s: f32, hold_s: f32, fall_db_per_s: f32) {
        for ((held, age), &now) in self.db.iter_mut().zip(&mut self.age_s).zip(now_db) {
            *age += dt_s;
            if now >= *held {
                *held = now;
                *age = 0.0;
            } else if *age > hold_s {
                *held = (*held - fall_db_per_s * dt_s).max(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f32 = 48_000.0;
    const N: usize = 16_384;

    fn bin_hz() -> f32 {
        RATE / N as f32
    }

    fn cumulative(power: &[f32]) -> Vec<f64> {
        let mut c = Vec::new();
        cumulative_power(power, &mut c);
        c
    }

    #[test]
    fn each_decade_and_octave_takes_the_same_width() {
        let axis = FreqAxis {
            min_hz: 20.0,
            max_hz: 20_000.0,
        };
        assert_eq!(axis.fraction(20.0), 0.0);
        assert!((axis.fraction(20_000.0) - 1.0).abs() < 1e-6);
        let width = |a: f32, b: f32| axis.fraction(b) - axis.fraction(a);
        assert!((width(20.0, 200.0) - 1.0 / 3.0).abs() < 1e-5);
        assert!((width(200.0, 2_000.0) - width(2_000.0, 20_000.0)).abs() < 1e-5);
        assert!((width(50.0, 100.0) - width(5_000.0, 10_000.0)).abs() < 1e-5);
        for f in [0.0, 0.25, 0.5, 0.9] {
            assert!((axis.fraction(axis.hz_at(f)) - f).abs() < 1e-5);
        }
    }

    #[test]
    fn ticks_label_every_decade_and_its_2_and_5() {
        let axis = FreqAxis {
            min_hz: 20.0,
            max_hz: 20_000.0,
        };
        let ticks = axis.ticks();
        let labels: Vec<&str> = ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(
            labels,
            [
                "20", "50", "100", "200", "500", "1k", "2k", "5k", "10k", "20k"
            ]
        );
        let decades: Vec<f32> = ticks.iter().filter(|t| t.2).map(|t| t.0).collect();
        assert_eq!(decades, [100.0, 1_000.0, 10_000.0]);
        assert_eq!(hz_readout(87.4), "87 Hz");
        assert_eq!(hz_readout(1_250.0), "1.25 kHz");
        assert_eq!(hz_readout(12_500.0), "12.5 kHz");
    }

    #[test]
    fn db_axis_maps_top_and_bottom_to_the_edges_and_thins_its_grid() {
        let axis = DbAxis {
            lo_db: -90.0,
            hi_db: 0.0,
        };
        assert_eq!(axis.fraction_below_top(0.0), 0.0);
        assert_eq!(axis.fraction_below_top(-90.0), 1.0);
        assert_eq!(axis.fraction_below_top(-45.0), 0.5);
        assert_eq!(axis.fraction_below_top(12.0), 0.0, "clamped at the top");
        assert_eq!(
            axis.fraction_below_top(-200.0),
            1.0,
            "clamped at the bottom"
        );
        assert_eq!(axis.db_at(0.5), -45.0);
        // 10 dB lines when tall enough, 20 dB when 10 dB would be closer than 14 px.
        assert_eq!(axis.ticks(10.0, 300.0, 14.0).len(), 10);
        assert_eq!(
            axis.ticks(10.0, 100.0, 14.0),
            [0.0, -20.0, -40.0, -60.0, -80.0]
        );
        assert_eq!(db_label(-0.0, 0), "0");
        assert_eq!(db_label(-0.04, 1), "0.0");
        assert_eq!(db_label(-34.46, 1), "-34.5");
    }

    #[test]
    fn tilt_pivots_at_1_khz_and_adds_its_slope_per_octave() {
        assert_eq!(tilt_db(1_000.0, 4.5), 0.0);
        assert!((tilt_db(2_000.0, 3.0) - 3.0).abs() < 1e-5);
        assert!((tilt_db(500.0, 4.5) + 4.5).abs() < 1e-5);
        assert!((tilt_db(16_000.0, 3.0) - 12.0).abs() < 1e-4);
        assert_eq!(tilt_db(50.0, 0.0), 0.0);
    }

    /// White noise of mean square 1 spread evenly over the bins: a band's power is its width
    /// over Nyquist, at the top as at the bottom (where the band is widened to two bins).
    #[test]
    fn band_power_of_a_flat_spectrum_is_proportional_to_the_band_width() {
        let bins = N / 2 + 1;
        let power = vec![1.0 / bins as f32; bins];
        let c = cumulative(&power);
        for fraction in [3.0f32, 6.0, 12.0] {
            for centre in [25.0f32, 40.0, 100.0, 1_000.0, 15_000.0] {
                let half = 2f32.powf(1.0 / (2.0 * fraction));
                let width = centre * half - centre / half;
                let want = width / (RATE / 2.0);
                let got = band_power(&c, bin_hz(), centre, fraction);
                assert!(
                    (got / want - 1.0).abs() < 0.02,
                    "1/{fraction} oct at {centre} Hz: {got} vs {want}"
                );
            }
        }
    }

    /// The band power moves continuously with its centre even where bands are narrower than a
    /// bin: no flat steps and no straight segments between sparse bins below 100 Hz.
    #[test]
    fn the_curve_below_100_hz_is_continuous_and_not_piecewise_flat() {
        // A rough spectrum: every bin a different level.
        let power: Vec<f32> = (0..N / 2 + 1)
            .map(|k| 1e-6 * (1.0 + ((k * 7919) % 13) as f32 / 13.0))
            .collect();
        let c = cumulative(&power);
        let hz = log_frequencies(200, 20.0, 100.0);
        let db: Vec<f32> = hz
            .iter()
            .map(|&f| power_db(band_power(&c, bin_hz(), f, 12.0), -200.0))
            .collect();
        let steps: Vec<f32> = db.windows(2).map(|w| w[1] - w[0]).collect();
        // Continuous: neighbouring points 1/86 octave apart differ by a fraction of a dB.
        assert!(steps.iter().all(|s| s.abs() < 1.0), "{steps:?}");
        // Not flat: a piecewise-constant curve would repeat its value between bins.
        let flat = steps.iter().filter(|s| s.abs() < 1e-6).count();
        assert!(
            flat < steps.len() / 10,
            "{flat} flat steps of {}",
            steps.len()
        );
    }

    #[test]
    fn bin_powers_sum_to_the_mean_square_of_a_windowed_sine() {
        use realfft::RealFftPlanner;
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(N);
        let window: Vec<f32> = (0..N)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / N as f32).cos())
            .collect();
        let wsum: f32 = window.iter().map(|w| w * w).sum();
        for hz in [40.0f32, 1_000.0, 15_000.0] {
            let mut x: Vec<f32> = (0..N)
                .map(|i| {
                    window[i] * 0.5 * (2.0 * std::f32::consts::PI * hz * i as f32 / RATE).sin()
                })
                .collect();
            let mut spec = fft.make_output_vec();
            fft.process(&mut x, &mut spec).unwrap();
            let mags: Vec<f32> = spec.iter().map(|c| c.norm_sqr()).collect();
            let mut power = vec![0.0; mags.len()];
            bin_powers(&mags, N, wsum, &mut power);
            let total: f32 = power.iter().sum();
            // A sine of peak 0.5 has mean square 0.125 (-9.03 dBFS).
            assert!(
                (power_db(total, -200.0) + 9.03).abs() < 0.1,
                "{hz}: {total}"
            );
            // Its 1/6-octave band holds it all; an octave away holds almost nothing. Below
            // 100 Hz the band is narrower than the window's main lobe (4 bins): it holds most.
            let c = cumulative(&power);
            let band = power_db(band_power(&c, bin_hz(), hz, 6.0), -200.0);
            let tolerance_db = if hz < 100.0 { 2.5 } else { 0.5 };
            assert!((band + 9.03).abs() < tolerance_db, "{hz} Hz band: {band}");
            let away = power_db(band_power(&c, bin_hz(), hz * 2.0, 6.0), -200.0);
            assert!(away < band - 40.0, "{hz}: octave above {away}");
        }
    }

    #[test]
    fn peak_hold_keeps_the_maximum_then_falls() {
        let mut hold = PeakHold::new(2, -120.0);
        hold.update(&[-10.0, -50.0], 0.1, 1.05, 20.0);
        assert_eq!(hold.db, [-10.0, -50.0]);
        // Below the hold for 1 s (of a 1.05 s hold): still held.
        for _ in 0..10 {
            hold.update(&[-40.0, -60.0], 0.1, 1.05, 20.0);
        }
        assert_eq!(hold.db, [-10.0, -50.0]);
        // Then falls at 20 dB/s, never below the current level.
        hold.update(&[-40.0, -60.0], 0.1, 1.05, 20.0);
        assert!((hold.db[0] + 12.0).abs() < 1e-4, "{:?}", hold.db);
        for _ in 0..50 {
            hold.update(&[-40.0, -60.0], 0.1, 1.05, 20.0);
        }
        assert_eq!(hold.db, [-40.0, -60.0]);
        // Infinite hold keeps it.
        hold.update(&[0.0, 0.0], 0.1, f32::INFINITY, 20.0);
        for _ in 0..100 {
            hold.update(&[-90.0, -90.0], 0.1, f32::INFINITY, 20.0);
        }
        assert_eq!(hold.db, [0.0, 0.0]);
        hold.clear(-120.0);
        assert_eq!(hold.db, [-120.0, -120.0]);
    }
}
