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
//! editor paints the result with egui's painter on the GUI thread. Ranges, ticks and labels are
//! analyzer-core's [`chart_axis`] policy, the HTML report's too, so both pictures read alike.

pub use analyzer_core::chart_axis::XScale;
use analyzer_core::chart_axis::{self, DbRange, XAxis};
use egui::{Pos2, Rect};

/// A plot's mapping from data (x, dB) to screen points inside `rect`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotGeometry {
    pub rect: Rect,
    /// The x axis: scale and data range (first and last x value).
    pub x: XAxis,
    /// The y axis: dB range, multiples of 10 dB.
    pub db: DbRange,
}

impl PlotGeometry {
    /// The geometry for `series` plotted over `xs` in `rect`; `None` when there is nothing to
    /// draw (fewer than two x values, or no finite value in any series), which the panel shows
    /// as "no data" like the HTML report.
    pub fn new(rect: Rect, xs: &[f64], x_scale: XScale, series: &[&[Option<f64>]]) -> Option<Self> {
        let x = XAxis::new(xs, x_scale)?;
        let db = DbRange::of(series.iter().flat_map(|s| s.iter().flatten().copied()))?;
        Some(Self { rect, x, db })
    }

    /// Screen x of data value `x` (may lie outside the rect for x outside the data range).
    pub fn x_px(&self, x: f64) -> f32 {
        self.rect.left() + (self.x.fraction(x) * f64::from(self.rect.width())) as f32
    }

    /// Screen y of a level, clamped to the plot's dB range (0 dB-relative values above the top
    /// cannot occur: the top is the largest value rounded up).
    pub fn y_px(&self, db: f64) -> f32 {
        self.rect.top() + (self.db.fraction_below_top(db) * f64::from(self.rect.height())) as f32
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

    /// Horizontal grid lines with their labels ([`DbRange::ticks`]).
    pub fn db_ticks(&self) -> Vec<(f64, String)> {
        self.db
            .ticks()
            .into_iter()
            .map(|db| (db, chart_axis::db_label(db)))
            .collect()
    }

    /// Labelled x ticks inside the data range ([`XAxis::ticks`]).
    pub fn x_ticks(&self) -> Vec<(f64, String)> {
        self.x.ticks()
    }
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
        assert_eq!((g.db.lo_db, g.db.hi_db), (-70.0, -10.0));
        // Top and bottom of the range land on the rect's edges.
        assert_eq!(g.y_px(-10.0), 20.0);
        assert_eq!(g.y_px(-70.0), 120.0);
        assert_eq!(g.y_px(-40.0), 70.0);
    }

    #[test]
    fn db_range_is_at_most_120_and_at_least_20_db() {
        let deep = [Some(0.0), Some(-300.0)];
        let g = PlotGeometry::new(rect(), &[0.0, 1.0], XScale::Linear, &[&deep]).unwrap();
        assert_eq!((g.db.lo_db, g.db.hi_db), (-120.0, 0.0));
        assert_eq!(
            g.y_px(-300.0),
            120.0,
            "values below the range sit on the bottom"
        );
        let flat = [Some(-20.5), Some(-20.4)];
        let g = PlotGeometry::new(rect(), &[0.0, 1.0], XScale::Linear, &[&flat]).unwrap();
        assert_eq!((g.db.lo_db, g.db.hi_db), (-40.0, -20.0));
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
        let ticks: Vec<f64> = g.db_ticks().into_iter().map(|t| t.0).collect();
        assert_eq!(ticks, [0.0, -10.0, -20.0, -30.0, -40.0, -50.0]);
        assert_eq!(g.db_ticks()[1].1, "-10 dB");
        let v = [Some(-3.0), Some(-95.0)];
        let g = PlotGeometry::new(rect(), &[0.0, 1.0], XScale::Linear, &[&v]).unwrap();
        let ticks: Vec<f64> = g.db_ticks().into_iter().map(|t| t.0).collect();
        assert_eq!(ticks, [0.0, -20.0, -40.0, -60.0, -80.0, -100.0]);
    }
}
