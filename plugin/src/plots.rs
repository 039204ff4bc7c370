//! Geometry of the reconciliation panel's two plots: the same charts as the HTML report
//! (`cli/src/html.rs`), from the same analyzer-core data.
//!
//! - Mix and residual level over time: [`analyzer_core::report::LevelTimeline`], RMS level per
//!   step (one second) in dBFS, on a linear time axis.
//! - Residual spectrum against the mix spectrum: [`analyzer_core::report::BandSpectrum`],
//!   third-octave band levels in dB relative to the mix's total power, on a logarithmic
//!   frequency axis.
//!
//! This module only turns data into screen coordinates (pure functions, tested below); the
//! editor paints the result with egui's painter on the GUI thread. The dB axis is chosen as in
//! the HTML report: 10 dB grid, at most 120 dB tall, at least 20 dB, so both pictures read alike.

use egui::{Pos2, Rect};

/// Widest dB span a plot shows; quieter values sit on the bottom edge.
pub const MAX_SPAN_DB: f64 = 120.0;
/// Narrowest dB span, so a nearly flat series is not magnified into noise.
pub const MIN_SPAN_DB: f64 = 20.0;
/// Octave-spaced frequency ticks (the HTML report's).
const FREQ_TICKS_HZ: [f64; 10] = [
    31.5, 63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0,
];

/// How the x axis maps values to pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XScale {
    Linear,
    /// Logarithmic (frequency); values at or below zero are placed at the left edge.
    Log,
}

/// A plot's mapping from data (x, dB) to screen points inside `rect`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotGeometry {
    pub rect: Rect,
    pub x_scale: XScale,
    /// Data range of the x axis (first and last x value).
    pub x_min: f64,
    pub x_max: f64,
    /// dB range of the y axis, multiples of 10 dB.
    pub lo_db: f64,
    pub hi_db: f64,
}

impl PlotGeometry {
    /// The geometry for `series` plotted over `xs` in `rect`; `None` when there is nothing to
    /// draw (fewer than two x values, or no finite value in any series), which the panel shows
    /// as "no data" like the HTML report.
    pub fn new(rect: Rect, xs: &[f64], x_scale: XScale, series: &[&[Option<f64>]]) -> Option<Self> {
        let (&x_min, &x_max) = (xs.first()?, xs.last()?);
        if xs.len() < 2 || x_max.partial_cmp(&x_min) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        let mut vals = series
            .iter()
            .flat_map(|s| s.iter().flatten().copied())
            .filter(|v| v.is_finite())
            .peekable();
        vals.peek()?;
        let (min, max) = vals.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let hi_db = (max / 10.0).ceil() * 10.0;
        let lo_db = (min.max(hi_db - MAX_SPAN_DB) / 10.0).floor() * 10.0;
        let lo_db = if hi_db - lo_db < MIN_SPAN_DB {
            hi_db - MIN_SPAN_DB
        } else {
            lo_db
        };
        Some(Self {
            rect,
            x_scale,
            x_min,
            x_max,
            lo_db,
            hi_db,
        })
    }

    fn warp(&self, x: f64) -> f64 {
        match self.x_scale {
            XScale::Linear => x,
            XScale::Log => x.max(self.x_min.max(1e-9)).log10(),
        }
    }

    /// Screen x of data value `x` (may lie outside the rect for x outside the data range).
    pub fn x_px(&self, x: f64) -> f32 {
        let (a, b) = (self.warp(self.x_min), self.warp(self.x_max));
        let t = (self.warp(x) - a) / (b - a);
        self.rect.left() + (t * f64::from(self.rect.width())) as f32
    }

    /// Screen y of a level, clamped to the plot's dB range (0 dB-relative values above the top
    /// cannot occur: the top is the largest value rounded up).
    pub fn y_px(&self, db: f64) -> f32 {
        let t = (db.clamp(self.lo_db, self.hi_db) - self.lo_db) / (self.hi_db - self.lo_db);
        self.rect.bottom() - (t * f64::from(self.rect.height())) as f32
    }

    /// The series as connected runs of points; a `None` (silence) or non-finite value breaks
    /// the line, as in the HTML chart. A run of one point is kept (drawn as a dot).
    pub fn polylines(&self, xs: &[f64], values: &[Option<f64>]) -> Vec<Vec<Pos2>> {
        let mut runs = Vec::new();
        let mut run = Vec::new();
        for (&x, v) in xs.iter().zip(values) {
            match v {
                Some(v) if v.is_finite() => run.push(Pos2::new(self.x_px(x), self.y_px(*v))),
                _ => {
                    if !run.is_empty() {
                        runs.push(std::mem::take(&mut run));
                    }
                }
            }
        }
        if !run.is_empty() {
            runs.push(run);
        }
        runs
    }

    /// Horizontal grid lines: every 10 dB, or every 20 dB when the span is over 60 dB (the
    /// panel's plots are short), always including the top.
    pub fn db_ticks(&self) -> Vec<f64> {
        let step = if self.hi_db - self.lo_db > 60.0 {
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

    /// Labelled x ticks inside the data range: octaves (31.5 Hz .. 16 kHz, "1k" style) on a
    /// log axis, a round number of seconds on a linear one (about six ticks).
    pub fn x_ticks(&self) -> Vec<(f64, String)> {
        match self.x_scale {
            XScale::Log => FREQ_TICKS_HZ
                .into_iter()
                .filter(|&f| f >= self.x_min && f <= self.x_max)
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
                let step = nice_step((self.x_max - self.x_min) / 6.0);
                let first = (self.x_min / step).ceil() * step;
                (0..)
                    .map(|i| first + step * f64::from(i))
                    .take_while(|&x| x <= self.x_max + 1e-9)
                    .map(|x| (x, format!("{x}")))
                    .collect()
            }
        }
    }
}

/// The smallest of 1, 2, 5 x 10^k that is at least `raw` (a readable tick step).
fn nice_step(raw: f64) -> f64 {
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

/// A plot's data: x values and the mix and residual levels at them, dB (`None` = silence).
pub type PlotData<'a> = (&'a [f64], [&'a [Option<f64>]; 2]);

/// x values of a level timeline: the start of each step, seconds.
pub fn timeline_xs(step_s: f64, steps: usize) -> Vec<f64> {
    (0..steps).map(|i| i as f64 * step_s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::{Vec2, pos2};

    fn rect() -> Rect {
        Rect::from_min_size(pos2(10.0, 20.0), Vec2::new(400.0, 100.0))
    }

    #[test]
    fn db_range_is_rounded_to_10_db_like_the_html_report() {
        let mix = [Some(-13.2), Some(-18.0), None];
        let res = [Some(-61.5), None, Some(-47.0)];
        let g = PlotGeometry::new(rect(), &[0.0, 1.0, 2.0], XScale::Linear, &[&mix, &res]).unwrap();
        assert_eq!((g.lo_db, g.hi_db), (-70.0, -10.0));
        // Top and bottom of the range land on the rect's edges.
        assert_eq!(g.y_px(-10.0), 20.0);
        assert_eq!(g.y_px(-70.0), 120.0);
        assert_eq!(g.y_px(-40.0), 70.0);
    }

    #[test]
    fn db_range_is_at_most_120_and_at_least_20_db() {
        let deep = [Some(0.0), Some(-300.0)];
        let g = PlotGeometry::new(rect(), &[0.0, 1.0], XScale::Linear, &[&deep]).unwrap();
        assert_eq!((g.lo_db, g.hi_db), (-120.0, 0.0));
        assert_eq!(
            g.y_px(-300.0),
            120.0,
            "values below the range sit on the bottom"
        );
        let flat = [Some(-20.5), Some(-20.4)];
        let g = PlotGeometry::new(rect(), &[0.0, 1.0], XScale::Linear, &[&flat]).unwrap();
        assert_eq!((g.lo_db, g.hi_db), (-40.0, -20.0));
    }

    #[test]
    fn no_plot_without_two_x_values_or_any_level() {
        let v = [Some(-10.0)];
        assert!(PlotGeometry::new(rect(), &[1.0], XScale::Linear, &[&v]).is_none());
        let silent = [None, None];
        assert!(PlotGeometry::new(rect(), &[0.0, 1.0], XScale::Linear, &[&silent]).is_none());
        let nan = [Some(f64::NAN), Some(f64::NEG_INFINITY)];
        assert!(PlotGeometry::new(rect(), &[0.0, 1.0], XScale::Linear, &[&nan]).is_none());
        assert!(PlotGeometry::new(rect(), &[], XScale::Log, &[]).is_none());
        assert!(PlotGeometry::new(rect(), &[5.0, 5.0], XScale::Linear, &[&v]).is_none());
    }

    #[test]
    fn log_axis_puts_each_octave_the_same_width_apart() {
        let hz = [20.0, 20_000.0];
        let v = [Some(-10.0), Some(-30.0)];
        let g = PlotGeometry::new(rect(), &hz, XScale::Log, &[&v]).unwrap();
        assert_eq!(g.x_px(20.0), 10.0);
        assert!((g.x_px(20_000.0) - 410.0).abs() < 1e-3);
        let octave = |f: f64| g.x_px(2.0 * f) - g.x_px(f);
        assert!((octave(100.0) - octave(5_000.0)).abs() < 1e-3);
        // 1 kHz is log10(50)/log10(1000) of the way across.
        let want = 10.0 + 400.0 * (50f64.log10() / 3.0) as f32;
        assert!((g.x_px(1_000.0) - want).abs() < 1e-3);
        let labels: Vec<String> = g.x_ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(
            labels,
            [
                "31.5", "63", "125", "250", "500", "1k", "2k", "4k", "8k", "16k"
            ]
        );
    }

    #[test]
    fn linear_axis_maps_seconds_proportionally_with_round_ticks() {
        let xs = timeline_xs(1.0, 31);
        assert_eq!(xs[30], 30.0);
        let v: Vec<Option<f64>> = xs.iter().map(|_| Some(-20.0)).collect();
        let g = PlotGeometry::new(rect(), &xs, XScale::Linear, &[&v]).unwrap();
        assert_eq!(g.x_px(15.0), 210.0);
        let ticks: Vec<f64> = g.x_ticks().into_iter().map(|t| t.0).collect();
        assert_eq!(ticks, [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0]);
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(0.0), 1.0);
    }

    #[test]
    fn silence_breaks_the_line_into_runs() {
        let xs = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        let v = [
            Some(-10.0),
            Some(-20.0),
            None,
            Some(-30.0),
            None,
            Some(f64::NAN),
        ];
        let g = PlotGeometry::new(rect(), &xs, XScale::Linear, &[&v]).unwrap();
        let runs = g.polylines(&xs, &v);
        assert_eq!(runs.len(), 2);
        // -10 dB at the top, -30 dB (the bottom of the range) at the bottom.
        assert_eq!(runs[0], [pos2(10.0, 20.0), pos2(90.0, 70.0)]);
        assert_eq!(runs[1], [pos2(250.0, 120.0)]);
    }

    #[test]
    fn db_ticks_cover_the_range_and_thin_out_for_tall_ranges() {
        let v = [Some(-3.0), Some(-45.0)];
        let g = PlotGeometry::new(rect(), &[0.0, 1.0], XScale::Linear, &[&v]).unwrap();
        assert_eq!(g.db_ticks(), [0.0, -10.0, -20.0, -30.0, -40.0, -50.0]);
        let v = [Some(-3.0), Some(-95.0)];
        let g = PlotGeometry::new(rect(), &[0.0, 1.0], XScale::Linear, &[&v]).unwrap();
        assert_eq!(g.db_ticks(), [0.0, -20.0, -40.0, -60.0, -80.0, -100.0]);
    }
}
