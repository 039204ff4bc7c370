//! The meter section of the editor: left/right sample-peak bars and the true-peak bar on a scale
//! that gives the top 20 dB most of the height, the peak maxima side by side, headroom to the
//! ceiling and the over latch, and the loudness readouts (integrated large, momentary,
//! short-term, their maxima, loudness range, the target) with the short-term history.
//!
//! Everything beyond what the audio thread publishes (maxima, integrated loudness, range,
//! history, holds) is computed here, on the GUI thread, while the editor is open.

use std::sync::atomic::Ordering;

use egui::{Align2, Color32, FontId, Pos2, Rect, RichText, Sense, Stroke, Vec2};
use nice_plug::prelude::{Param, ParamSetter};
use nice_plug_egui::widgets::ParamSlider;

use super::meter_reading::{
    LoudnessStats, METER_FLOOR_DB, RELEASE_DB_PER_S, TruePeakDisplay, meter_scale_fraction,
    take_levels,
};
use crate::params::{LoudnessTarget, StemCheckParams};
use crate::shared::{MeterShared, Shared};

/// How long a bar's hold marker stays before it falls.
const PEAK_HOLD_S: f32 = 2.0;
/// Below the ceiling by more than this, a bar is green; between this and the ceiling, amber.
const AMBER_BELOW_CEILING_DB: f32 = 6.0;
/// Steps of the short-term history drawn (60 s).
const HISTORY_STEPS: usize = 600;
/// The scale's labelled levels, dBFS.
const SCALE_TICKS_DB: [f32; 10] = [
    0.0, -3.0, -6.0, -10.0, -15.0, -20.0, -30.0, -40.0, -50.0, -60.0,
];

const RED: Color32 = Color32::from_rgb(230, 40, 40);
const AMBER: Color32 = Color32::from_rgb(230, 180, 40);
const GREEN: Color32 = Color32::from_rgb(60, 190, 90);

/// A falling bar with instant attack and a hold marker.
#[derive(Debug, Clone, Copy)]
struct Bar {
    db: f32,
    hold_db: f32,
    hold_age_s: f32,
}

impl Bar {
    const REST: Self = Self {
        db: METER_FLOOR_DB - 1.0,
        hold_db: METER_FLOOR_DB - 1.0,
        hold_age_s: 0.0,
    };

    /// Instant attack to `peak_db`, [`RELEASE_DB_PER_S`] release; the hold marker keeps the
    /// highest value for [`PEAK_HOLD_S`], then follows the bar.
    fn update(&mut self, peak_db: f32, dt_s: f32) {
        self.db = peak_db
            .max(self.db - RELEASE_DB_PER_S * dt_s)
            .max(METER_FLOOR_DB - 1.0);
        self.hold_age_s += dt_s;
        if self.db >= self.hold_db || self.hold_age_s > PEAK_HOLD_S {
            self.hold_db = self.db;
            self.hold_age_s = 0.0;
        }
    }
}

/// The meter section's GUI-thread state.
#[derive(Debug, Clone)]
pub struct MeterView {
    /// Left (channel 0) and right (the others) sample-peak bars.
    sides: [Bar; 2],
    /// The true-peak bar's hold (its level is `true_peak.bar_db()`).
    true_peak_hold: Bar,
    /// The true-peak bar and the highest true peak since the last reset; takes the audio
    /// thread's true peak only where it can change them.
    true_peak: TruePeakDisplay,
    /// Highest sample peak since the last reset, dBFS.
    sample_peak_max_dbfs: f32,
    stats: LoudnessStats,
    /// The audio thread's `reset_requests` as last seen.
    resets_seen: u32,
    /// The next frame is the first since the editor opened (see [`Self::editor_opened`]).
    first_frame: bool,
    momentary_lufs: f32,
    short_term_lufs: f32,
    non_finite_samples: u64,
    channels: u32,
    loudness_blocks_dropped: u64,
}

impl Default for MeterView {
    fn default() -> Self {
        Self {
            sides: [Bar::REST; 2],
            true_peak_hold: Bar::REST,
            true_peak: TruePeakDisplay::new(),
            sample_peak_max_dbfs: f32::NEG_INFINITY,
            stats: LoudnessStats::default(),
            resets_seen: 0,
            first_frame: true,
            momentary_lufs: f32::NEG_INFINITY,
            short_term_lufs: f32::NEG_INFINITY,
            non_finite_samples: 0,
            channels: 2,
            loudness_blocks_dropped: 0,
        }
    }
}

fn to_db(linear: f32) -> f32 {
    analyzer_core::units::amp_to_db_f32(linear)
}

impl MeterView {
    /// The editor (re)opened: the next frame takes what was held while it was closed into the
    /// maxima and the statistics, but starts the bars at rest (no stale peak falling from
    /// where the music was when the editor was closed).
    pub fn editor_opened(&mut self) {
        self.first_frame = true;
    }

    /// Takes this frame's meter values and loudness blocks, and updates bars, holds, maxima and
    /// statistics (the GUI side of "peaks held between reads").
    pub fn update(&mut self, shared: &Shared, dt_s: f32) {
        let m = &shared.meters;
        let resets = m.reset_requests.load(Ordering::Acquire);
        if resets != self.resets_seen {
            // The loudness statistics restart at the marker in the block ring, below.
            self.resets_seen = resets;
            self.reset_peaks(m);
        }
        let r = take_levels(m);
        let sides = [0, 1].map(|i| to_db(m.side_peaks_linear[i].swap(0.0, Ordering::Relaxed)));
        self.sample_peak_max_dbfs = self.sample_peak_max_dbfs.max(r.sample_peak_dbfs);
        if std::mem::take(&mut self.first_frame) {
            self.sides = [Bar::REST; 2];
            self.true_peak_hold = Bar::REST;
            self.true_peak.resume(m);
        } else {
            for (bar, db) in self.sides.iter_mut().zip(sides) {
                bar.update(db, dt_s);
            }
            self.true_peak.update(m, dt_s);
            self.true_peak_hold.update(self.true_peak.bar_db(), dt_s);
        }
        if let Some(mut ring) = shared.loudness_blocks.try_lock()
            && let Some(consumer) = ring.as_mut()
        {
            while let Ok(block) = consumer.pop() {
                self.stats.add(block);
            }
        }
        self.momentary_lufs = r.momentary_lufs;
        self.short_term_lufs = r.short_term_lufs;
        self.non_finite_samples = r.non_finite_samples;
        self.channels = m.channels.load(Ordering::Relaxed);
        self.loudness_blocks_dropped = m.loudness_blocks_dropped.load(Ordering::Relaxed);
    }

    /// Forgets the peak maxima and the over and clip latches.
    fn reset_peaks(&mut self, m: &MeterShared) {
        m.clip_latched.store(false, Ordering::Relaxed);
        self.true_peak.reset_max();
        self.sample_peak_max_dbfs = f32::NEG_INFINITY;
    }

    /// Forgets maxima, latches and the loudness statistics (the reset button).
    pub fn reset(&mut self, m: &MeterShared) {
        self.reset_peaks(m);
        self.stats.reset();
    }

    /// Highest true peak since the last reset, dBTP, never below the highest sample peak (the
    /// 4x interpolation can read a hair below a sample; a true peak below a sample peak
    /// cannot be).
    pub fn true_peak_max_dbtp(&self) -> f32 {
        self.true_peak.max_db().max(self.sample_peak_max_dbfs)
    }

    /// Highest sample peak since the last reset, dBFS.
    pub fn sample_peak_max_dbfs(&self) -> f32 {
        self.sample_peak_max_dbfs
    }

    /// The left and right bars, dBFS (at rest [`METER_FLOOR_DB`] - 1).
    pub fn side_bars_db(&self) -> [f32; 2] {
        self.sides.map(|b| b.db)
    }

    /// The true-peak bar, dBTP, never below the sample-peak bars.
    pub fn true_peak_bar_db(&self) -> f32 {
        self.true_peak
            .bar_db()
            .max(self.sides[0].db)
            .max(self.sides[1].db)
    }

    /// Whether the true peak went over `ceiling_dbtp` since the last reset (latched until
    /// reset; a sample at exactly full scale under a 0 dBTP ceiling is not an over).
    pub fn over(&self, ceiling_dbtp: f32) -> bool {
        self.true_peak_max_dbtp() > ceiling_dbtp
    }

    /// The loudness statistics since the last reset.
    pub fn stats(&mut self) -> &mut LoudnessStats {
        &mut self.stats
    }

    /// The bars, maxima, headroom, over latch and loudness readouts, with the ceiling and target
    /// controls (through `setter`, so hosts record them as automation).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        shared: &MeterShared,
        params: &StemCheckParams,
        setter: Option<&ParamSetter<'_>>,
    ) {
        let ceiling = params.ceiling_dbtp.value();
        let target = params.loudness_target.value();
        ui.horizontal_top(|ui| {
            self.bars_ui(ui, ceiling);
            ui.add_space(12.0);
            ui.vertical(|ui| {
                self.peaks_ui(ui, shared, ceiling);
                ui.separator();
                self.loudness_ui(ui, target);
                ui.separator();
                ui.horizontal_wrapped(|ui| {
                    if let Some(setter) = setter {
                        ui.label("Ceiling");
                        ui.add(
                            ParamSlider::for_param(&params.ceiling_dbtp, setter).with_width(90.0),
                        );
                        ui.label("Target");
                        target_combo(ui, params, setter);
                    }
                    if ui
                        .button("Reset meters")
                        .on_hover_text("maxima, over, integrated loudness, range, history")
                        .clicked()
                    {
                        self.reset(shared);
                    }
                });
            });
        });
    }

    fn bars_ui(&self, ui: &mut egui::Ui, ceiling: f32) {
        let height = ui.available_height().clamp(220.0, 360.0);
        let bar_w = 22.0;
        let scale_w = 30.0;
        let bars: Vec<(&str, f32, f32)> = if self.channels <= 1 {
            vec![("M", self.sides[0].db, self.sides[0].hold_db)]
        } else {
            vec![
                ("L", self.sides[0].db, self.sides[0].hold_db),
                ("R", self.sides[1].db, self.sides[1].hold_db),
            ]
        };
        let n = bars.len() as f32 + 1.0;
        let width = scale_w + n * (bar_w + 4.0);
        let (rect, _) = ui.allocate_exact_size(Vec2::new(width, height + 16.0), Sense::hover());
        let painter = ui.painter_at(rect);
        let top = rect.top() + 6.0;
        let bottom = rect.top() + height;
        let y_of = |db: f32| bottom - (bottom - top) * meter_scale_fraction(db);
        let font = FontId::monospace(10.0);
        for db in SCALE_TICKS_DB {
            let y = y_of(db);
            painter.text(
                Pos2::new(rect.left() + scale_w - 4.0, y),
                Align2::RIGHT_CENTER,
                format!("{}", db as i32),
                font.clone(),
                Color32::from_gray(170),
            );
            painter.line_segment(
                [
                    Pos2::new(rect.left() + scale_w - 2.0, y),
                    Pos2::new(rect.right(), y),
                ],
                Stroke::new(1.0, Color32::from_gray(45)),
            );
        }
        let tp = (
            "TP",
            self.true_peak_bar_db(),
            self.true_peak_hold.hold_db.max(self.true_peak_bar_db()),
        );
        for (i, (name, db, hold)) in bars.into_iter().chain([tp]).enumerate() {
            let left = rect.left() + scale_w + i as f32 * (bar_w + 4.0);
            let bar = Rect::from_min_max(Pos2::new(left, top), Pos2::new(left + bar_w, bottom));
            painter.rect_filled(bar, 2.0, Color32::from_gray(25));
            // Colour zones, each painted where the bar reaches it.
            let amber_from = ceiling - AMBER_BELOW_CEILING_DB;
            for (from, to, color) in [
                (METER_FLOOR_DB, amber_from, GREEN),
                (amber_from, ceiling, AMBER),
                (ceiling, 0.0, RED),
            ] {
                let to = to.min(db);
                if to > from {
                    painter.rect_filled(
                        Rect::from_min_max(
                            Pos2::new(bar.left(), y_of(to)),
                            Pos2::new(bar.right(), y_of(from)),
                        ),
                        0.0,
                        color,
                    );
                }
            }
            if hold > METER_FLOOR_DB {
                let y = y_of(hold);
                painter.line_segment(
                    [Pos2::new(bar.left(), y), Pos2::new(bar.right(), y)],
                    Stroke::new(2.0, Color32::WHITE),
                );
            }
            painter.text(
                Pos2::new(bar.center().x, bottom + 8.0),
                Align2::CENTER_CENTER,
                name,
                font.clone(),
                Color32::from_gray(200),
            );
        }
        let y = y_of(ceiling);
        painter.line_segment(
            [
                Pos2::new(rect.left() + scale_w, y),
                Pos2::new(rect.right(), y),
            ],
            Stroke::new(1.0, RED),
        );
    }

    fn peaks_ui(&mut self, ui: &mut egui::Ui, shared: &MeterShared, ceiling: f32) {
        let tp_max = self.true_peak_max_dbtp();
        let over = self.over(ceiling);
        ui.horizontal(|ui| {
            let text = format!(
                "TP max {}   Sample max {}",
                fmt_db(tp_max, "dBTP"),
                fmt_db(self.sample_peak_max_dbfs, "dBFS")
            );
            if ui
                .add(egui::Button::new(
                    RichText::new(text).monospace().size(15.0),
                ))
                .on_hover_text("highest since the last reset; click to reset")
                .clicked()
            {
                self.reset_peaks(shared);
            }
        });
        ui.horizontal(|ui| {
            let headroom = ceiling - tp_max;
            let color = if headroom < 0.0 {
                RED
            } else {
                Color32::from_gray(210)
            };
            ui.label(
                RichText::new(format!(
                    "Headroom to {} : {}",
                    fmt_db(ceiling, "dBTP").trim(),
                    if headroom.is_finite() {
                        format!("{} dB", fmt_num(headroom))
                    } else {
                        "-".into()
                    }
                ))
                .monospace()
                .color(color),
            );
            let (text, fill) = if over {
                ("TP OVER", RED)
            } else {
                ("no over", Color32::from_rgb(40, 90, 50))
            };
            if ui
                .add(egui::Button::new(RichText::new(text).color(Color32::WHITE)).fill(fill))
                .on_hover_text("latches when the true peak goes above the ceiling; click to reset")
                .clicked()
            {
                self.reset_peaks(shared);
            }
        });
        if self.non_finite_samples > 0 {
            ui.colored_label(
                Color32::from_rgb(230, 120, 40),
                format!("{} NaN/inf samples seen", self.non_finite_samples),
            );
        }
    }

    fn loudness_ui(&mut self, ui: &mut egui::Ui, target: LoudnessTarget) {
        let integrated = self.stats.integrated_lufs();
        let lra = self.stats.loudness_range_lu();
        ui.horizontal(|ui| {
            ui.label(
                RichText::new(match integrated {
                    Some(i) => format!("{} LUFS", fmt_num(i as f32)),
                    None => "-- LUFS".into(),
                })
                .size(30.0)
                .strong(),
            );
            ui.vertical(|ui| {
                ui.small("integrated");
                if let Some(i) = integrated {
                    ui.small(format!(
                        "{} LU to target {}",
                        fmt_signed(i as f32 - target.lufs()),
                        fmt_num(target.lufs())
                    ));
                }
            });
        });
        let max = |x: Option<f32>| x.map_or(f32::NEG_INFINITY, |v| v);
        ui.monospace(format!(
            "Momentary  {}   max {}",
            fmt_db(self.momentary_lufs, "LUFS"),
            fmt_db(max(self.stats.max_momentary_lufs()), "LUFS")
        ));
        ui.monospace(format!(
            "Short-term {}   max {}",
            fmt_db(self.short_term_lufs, "LUFS"),
            fmt_db(max(self.stats.max_short_term_lufs()), "LUFS")
        ));
        ui.monospace(format!(
            "Range      {}",
            lra.map_or("    -- LU".into(), |l| format!(
                "{:>6} LU",
                fmt_num(l as f32)
            ))
        ));
        if self.loudness_blocks_dropped > 0 {
            ui.small("integrated misses what played while the editor was closed over an hour");
        }
        history_ui(ui, self.stats.history(), target.lufs());
    }
}

fn target_combo(ui: &mut egui::Ui, params: &StemCheckParams, setter: &ParamSetter<'_>) {
    let current = params.loudness_target.value();
    egui::ComboBox::from_id_salt("loudness_target")
        .selected_text(format!("{} LUFS", fmt_num(current.lufs())))
        .show_ui(ui, |ui| {
            for t in [
                LoudnessTarget::Minus14,
                LoudnessTarget::Minus16,
                LoudnessTarget::Minus23,
                LoudnessTarget::Minus24,
            ] {
                let name = params.loudness_target.normalized_value_to_string(
                    params.loudness_target.preview_normalized(t),
                    false,
                );
                if ui.selectable_label(current == t, name).clicked() && current != t {
                    setter.begin_set_parameter(&params.loudness_target);
                    setter.set_parameter(&params.loudness_target, t);
                    setter.end_set_parameter(&params.loudness_target);
                }
            }
        });
}

/// The short-term loudness of the last minute, with the target as a line.
fn history_ui(ui: &mut egui::Ui, history: &[f32], target_lufs: f32) {
    // As wide as the column allows: an insert-sized window still shows it whole.
    let width = ui.available_width().clamp(160.0, 640.0);
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, 70.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(22));
    let (lo, hi) = (target_lufs - 24.0, target_lufs + 12.0);
    let y_of = |l: f32| rect.bottom() - rect.height() * ((l - lo) / (hi - lo)).clamp(0.0, 1.0);
    let y = y_of(target_lufs);
    painter.line_segment(
        [Pos2::new(rect.left(), y), Pos2::new(rect.right(), y)],
        Stroke::new(1.0, Color32::from_gray(90)),
    );
    let shown = &history[history.len().saturating_sub(HISTORY_STEPS)..];
    let dx = rect.width() / HISTORY_STEPS as f32;
    let start = rect.right() - dx * shown.len() as f32;
    let points: Vec<Pos2> = shown
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            Pos2::new(
                start + dx * i as f32,
                y_of(if l.is_finite() { l } else { lo }),
            )
        })
        .collect();
    painter.add(egui::Shape::line(points, Stroke::new(1.5, GREEN)));
    painter.text(
        rect.left_top() + Vec2::new(4.0, 2.0),
        Align2::LEFT_TOP,
        "short-term, last 60 s",
        FontId::proportional(10.0),
        Color32::from_gray(140),
    );
}

/// One decimal, never "-0.0".
fn fmt_num(x: f32) -> String {
    let x = if x.abs() < 0.05 { 0.0 } else { x };
    format!("{x:.1}")
}

/// One decimal with an explicit sign ("+0.0" for zero, never "-0.0").
fn fmt_signed(x: f32) -> String {
    let x = if x.abs() < 0.05 { 0.0 } else { x };
    format!("{x:+.1}")
}

/// A level with its unit; silence (or the scale's rest) is "-inf".
fn fmt_db(x: f32, unit: &str) -> String {
    if x.is_finite() && x > METER_FLOOR_DB - 1.0 {
        format!("{:>6} {unit}", fmt_num(x))
    } else {
        format!("  -inf {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meters::AudioMeters;

    fn sine(frames: usize, amp: f32) -> Vec<f32> {
        (0..frames).map(|i| amp * (i as f32 * 0.05).sin()).collect()
    }

    /// Item 9: a peak played while the editor was closed counts for the maxima but never shows
    /// on the bars when it reopens; the bars show what plays now.
    #[test]
    fn reopening_shows_no_stale_peak_but_keeps_the_maxima() {
        let shared = Shared::default();
        let mut m = AudioMeters::new(2, 48_000);
        *shared.loudness_blocks.lock() = Some(m.loudness_feed());
        let mut view = MeterView::default();
        let quiet = sine(4800, 0.01);
        let loud = sine(4800, 0.9);
        m.process(&[&quiet[..], &quiet[..]], 4800, &shared.meters);
        view.update(&shared, 1.0 / 60.0);
        // Closed: a loud passage, then quiet.
        m.process(&[&loud[..], &loud[..]], 4800, &shared.meters);
        m.process(&[&quiet[..], &quiet[..]], 4800, &shared.meters);
        view.editor_opened();
        view.update(&shared, 1.0 / 60.0);
        for bar in view.side_bars_db() {
            assert!(bar < METER_FLOOR_DB, "stale bar at {bar} dB");
        }
        assert!(view.true_peak_bar_db() < METER_FLOOR_DB);
        assert!(
            view.sample_peak_max_dbfs() > -1.0,
            "{}",
            view.sample_peak_max_dbfs()
        );
        assert!(view.true_peak_max_dbtp() >= view.sample_peak_max_dbfs());
        // The next frame shows the quiet music.
        m.process(&[&quiet[..], &quiet[..]], 4800, &shared.meters);
        view.update(&shared, 1.0 / 60.0);
        for bar in view.side_bars_db() {
            assert!((bar - (-40.0)).abs() < 0.5, "{bar}");
        }
    }

    /// Left and right bars follow their own channel; the over latch follows the true-peak max
    /// against the ceiling and clears on reset; true peak never reads below sample peak.
    #[test]
    fn sides_maxima_and_the_over_latch() {
        let shared = Shared::default();
        let mut m = AudioMeters::new(2, 48_000);
        let mut view = MeterView::default();
        view.update(&shared, 1.0 / 60.0);
        let left = sine(4800, 0.5);
        let right = sine(4800, 0.05);
        m.process(&[&left[..], &right[..]], 4800, &shared.meters);
        view.update(&shared, 1.0 / 60.0);
        let [l, r] = view.side_bars_db();
        assert!(
            (l - (-6.02)).abs() < 0.1 && (r - (-26.02)).abs() < 0.1,
            "{l} {r}"
        );
        assert!(view.true_peak_bar_db() >= l);
        assert!(view.true_peak_max_dbtp() >= view.sample_peak_max_dbfs());
        assert!(!view.over(-1.0));
        assert!(view.over(-8.0));
        // The parameter's reset edge clears the maxima and the latch.
        m.set_reset_param(true, &shared.meters);
        view.update(&shared, 1.0 / 60.0);
        assert!(!view.over(-8.0));
        assert_eq!(view.sample_peak_max_dbfs(), f32::NEG_INFINITY);
    }

    #[test]
    fn numbers_never_read_minus_zero() {
        assert_eq!(fmt_num(-0.04), "0.0");
        assert_eq!(fmt_num(-0.0), "0.0");
        assert_eq!(fmt_signed(-0.01), "+0.0");
        assert_eq!(fmt_db(-0.02, "dBTP"), "   0.0 dBTP");
        assert_eq!(fmt_db(f32::NEG_INFINITY, "dBFS"), "  -inf dBFS");
        assert_eq!(fmt_db(-1.26, "dBFS"), "  -1.3 dBFS");
    }
}
