//! The axis policy of the reconciliation charts, one for every picture of them: the HTML report
//! (`stemcheck check --report`) and the plugin's panel draw the same two charts (mix and
//! residual level over time, residual spectrum against the mix spectrum) and must read alike.
//!
//! - Levels (y): a dB range in multiples of 10 dB around the data, at most [`MAX_SPAN_DB`] tall
//!   (quieter values sit on the bottom edge) and at least [`MIN_SPAN_DB`] (a nearly flat series
//!   is not magnified into noise); a grid line every 10 dB, every 20 dB when the range is taller
//!   than [`DENSE_GRID_MAX_SPAN_DB`], from the top down.
//! - Time (x, linear): about [`TARGET_X_TICKS`] ticks at a round step (1, 2 or 5 x 10^k
//!   seconds).
//! - Frequency (x, logarithmic): the octave centres [`FREQ_TICKS_HZ`] inside the data, labelled
//!   "1k" style.
//!
//! Only numbers and labels: where they land on a screen or in an SVG is the drawer's business,
//! through [`XAxis::fraction`] and [`DbRange::fraction_below_top`].

/// Widest dB span a chart shows; quieter values sit on the bottom edge.
pub const MAX_SPAN_DB: f64 = 120.0;
/// Narrowest dB span, so a nearly flat series is not magnified into noise.
pub const MIN_SPAN_DB: f64 = 20.0;
/// dB ranges up to this tall get a grid line every 10 dB, taller ones every 20 dB.
pub const DENSE_GRID_MAX_SPAN_DB: f64 = 60.0;
/// About this many ticks on a linear x axis.
pub const TARGET_X_TICKS: f64 = 6.0;
/// Octave-spaced frequency ticks (ISO 266 octave centres from 31.5 Hz to 16 kHz).
pub const FREQ_TICKS_HZ: [f64; 10] = [
    31.5, 63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0,
];

/// The dB range of a chart's y axis, both ends multiples of 10 dB.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DbRange {
    /// Bottom of the axis, dB.
    pub lo_db: f64,
    /// Top of the axis, dB.
    pub hi_db: f64,
}

impl DbRange {
    /// The range for these levels (dB; non-finite ones are ignored): the largest rounded up to
    /// 10 dB on top, the smallest rounded down below, clamped to [`MAX_SPAN_DB`] and widened to
    /// [`MIN_SPAN_DB`]. `None` without any finite level (a chart with "no data").
    pub fn of(levels_db: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut finite = levels_db.into_iter().filter(|v| v.is_finite()).peekable();
        finite.peek()?;
        let (min, max) = finite.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let hi_db = (max / 10.0).ceil() * 10.0;
        let lo_db = (min.max(hi_db - MAX_SPAN_DB) / 10.0).floor() * 10.0;
        let lo_db = if hi_db - lo_db < MIN_SPAN_DB {
            hi_db - MIN_SPAN_DB
        } else {
            lo_db
        };
        Some(Self { lo_db, hi_db })
    }

    /// Where `db` sits from the top (0) to the bottom (1) of the range; values outside it are
    /// clamped to the edges.
    pub fn fraction_below_top(&self, db: f64) -> f64 {
        (self.hi_db - db.clamp(self.lo_db, self.hi_db)) / (self.hi_db - self.lo_db)
    }

    /// Grid lines, dB, from the top down: every 10 dB, or every 20 dB when the range is taller
    /// than [`DENSE_GRID_MAX_SPAN_DB`]; always including the top.
    pub fn ticks(&self) -> Vec<f64> {
        let step = if self.hi_db - self.lo_db > DENSE_GRID_MAX_SPAN_DB {
            20.0
        } else {
            10.0
        };
        let mut ticks = Vec::new();
        let mut db = self.hi_db;
        while db >= self.lo_db - 1e-9 {
            ticks.push(db);
            db -= step;
        }
        ticks
    }
}

/// The label of a dB grid line ("-20 dB").
pub fn db_label(db: f64) -> String {
    // A tick computed as -0.0 reads "0 dB", never "-0 dB".
    let db = if db == 0.0 { 0.0 } else { db };
    format!("{db} dB")
}

/// How an x axis maps values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XScale {
    /// Proportional (time).
    Linear,
    /// Logarithmic (frequency); values at or below zero are placed at the left edge.
    Log,
}

/// A chart's x axis: its scale and data range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct XAxis {
    /// How values map.
    pub scale: XScale,
    /// First x value (left edge).
    pub min: f64,
    /// Last x value (right edge).
    pub max: f64,
}

impl XAxis {
    /// The axis of `xs` (ascending: seconds or band centres in Hz); `None` for fewer than two
    /// values or an empty range (a chart with "no data").
    pub fn new(xs: &[f64], scale: XScale) -> Option<Self> {
        let (&min, &max) = (xs.first()?, xs.last()?);
        if xs.len() < 2 || max.partial_cmp(&min) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        Some(Self { scale, min, max })
    }

    fn warp(&self, x: f64) -> f64 {
        match self.scale {
            XScale::Linear => x,
            XScale::Log => x.max(self.min.max(1e-9)).log10(),
        }
    }

    /// Where `x` sits from the left edge (0) to the right edge (1); outside the data range it
    /// lies outside 0..1.
    pub fn fraction(&self, x: f64) -> f64 {
        let (a, b) = (self.warp(self.min), self.warp(self.max));
        (self.warp(x) - a) / (b - a)
    }

    /// Labelled ticks inside the data range: octave centres ("1k" style) on a log axis, a round
    /// step of about [`TARGET_X_TICKS`] ticks on a linear one.
    pub fn ticks(&self) -> Vec<(f64, String)> {
        match self.scale {
            XScale::Log => FREQ_TICKS_HZ
                .into_iter()
                .filter(|&f| f >= self.min && f <= self.max)
                .map(|f| {
                    let label = if f >= 1000.0 {
                        format!("{}k", f / 1000.0)
                    } else {
                        format!("{f}")
                    };
                    (f, label)
                })
                .collect(),
            XScale::Linear => {
                let step = nice_step((self.max - self.min) / TARGET_X_TICKS);
                let first = (self.min / step).ceil() * step;
                (0..)
                    .map(|i| first + step * f64::from(i))
                    .take_while(|&x| x <= self.max + 1e-9)
                    .map(|x| (x, format!("{x}")))
                    .collect()
            }
        }
    }
}

/// The smallest of 1, 2, 5 x 10^k that is at least `raw` (a readable tick step); 1 for a
/// step that is not a positive finite number.
pub fn nice_step(raw: f64) -> f64 {
    if raw.is_nan() || raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let base = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * base)
        .find(|&s| s >= raw - 1e-12)
        .unwrap_or(10.0 * base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_range_is_rounded_to_10_db() {
        let r = DbRange::of([-13.2, -18.0, -61.5, -47.0]).unwrap();
        assert_eq!((r.lo_db, r.hi_db), (-70.0, -10.0));
        assert_eq!(r.fraction_below_top(-10.0), 0.0);
        assert_eq!(r.fraction_below_top(-70.0), 1.0);
        assert_eq!(r.fraction_below_top(-40.0), 0.5);
    }

    #[test]
    fn db_range_is_at_most_120_and_at_least_20_db() {
        let r = DbRange::of([0.0, -300.0]).unwrap();
        assert_eq!((r.lo_db, r.hi_db), (-120.0, 0.0));
        assert_eq!(r.fraction_below_top(-300.0), 1.0, "below the range: bottom");
        let r = DbRange::of([-20.5, -20.4]).unwrap();
        assert_eq!((r.lo_db, r.hi_db), (-40.0, -20.0));
    }

    #[test]
    fn no_range_without_a_finite_level() {
        assert!(DbRange::of([]).is_none());
        assert!(DbRange::of([f64::NAN, f64::NEG_INFINITY]).is_none());
        assert!(DbRange::of([f64::NAN, -12.0]).is_some());
    }

    #[test]
    fn db_ticks_cover_the_range_and_thin_out_for_tall_ranges() {
        let r = DbRange::of([-3.0, -45.0]).unwrap();
        assert_eq!(r.ticks(), [0.0, -10.0, -20.0, -30.0, -40.0, -50.0]);
        let r = DbRange::of([-3.0, -95.0]).unwrap();
        assert_eq!(r.ticks(), [0.0, -20.0, -40.0, -60.0, -80.0, -100.0]);
        assert_eq!(db_label(-20.0), "-20 dB");
        assert_eq!(db_label(-0.0), "0 dB");
    }

    #[test]
    fn no_x_axis_without_two_increasing_values() {
        assert!(XAxis::new(&[1.0], XScale::Linear).is_none());
        assert!(XAxis::new(&[], XScale::Log).is_none());
        assert!(XAxis::new(&[5.0, 5.0], XScale::Linear).is_none());
        assert!(XAxis::new(&[f64::NAN, 5.0], XScale::Linear).is_none());
    }

    #[test]
    fn log_axis_puts_each_octave_the_same_width_apart_with_octave_ticks() {
        let x = XAxis::new(&[20.0, 20_000.0], XScale::Log).unwrap();
        assert_eq!(x.fraction(20.0), 0.0);
        assert!((x.fraction(20_000.0) - 1.0).abs() < 1e-12);
        let octave = |f: f64| x.fraction(2.0 * f) - x.fraction(f);
        assert!((octave(100.0) - octave(5_000.0)).abs() < 1e-12);
        assert!((x.fraction(1_000.0) - 50f64.log10() / 3.0).abs() < 1e-12);
        let labels: Vec<String> = x.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(
            labels,
            [
                "31.5", "63", "125", "250", "500", "1k", "2k", "4k", "8k", "16k"
            ]
        );
        let narrow = XAxis::new(&[100.0, 1_500.0], XScale::Log).unwrap();
        let ticks: Vec<f64> = narrow.ticks().into_iter().map(|t| t.0).collect();
        assert_eq!(ticks, [125.0, 250.0, 500.0, 1000.0]);
    }

    #[test]
    fn linear_axis_has_about_six_round_ticks() {
        let xs: Vec<f64> = (0..31).map(f64::from).collect();
        let x = XAxis::new(&xs, XScale::Linear).unwrap();
        assert_eq!(x.fraction(15.0), 0.5);
        let ticks: Vec<f64> = x.ticks().into_iter().map(|t| t.0).collect();
        assert_eq!(ticks, [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0]);
        let long = XAxis::new(&[0.0, 179.0], XScale::Linear).unwrap();
        let labels: Vec<String> = long.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["0", "50", "100", "150"]);
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(0.0), 1.0);
    }
}
