//! The meter section of the editor: sample-peak and true-peak bars with their ballistics, the
//! loudness readouts, headroom to the profile's ceiling and the clip latch.

use std::sync::atomic::Ordering;

use analyzer_core::profile::MASTERING;
use egui::{Color32, Pos2, Rect, RichText, Sense, Stroke, Vec2};

use super::meter_reading::{
    METER_FLOOR_DB, MeterReading, RELEASE_DB_PER_S, TruePeakDisplay, take_levels,
};
use crate::shared::MeterShared;

/// How long the peak-hold marker stays before it falls.
const PEAK_HOLD_S: f32 = 2.0;

/// The meter section's GUI-thread state.
#[derive(Debug, Clone)]
pub struct MeterView {
    /// Latest per-frame sample peak (falling bar), dB.
    sample_peak_dbfs: f32,
    /// Falling peak-hold marker and when it was last raised.
    hold_dbfs: f32,
    hold_age_s: f32,
    /// The true-peak bar and the highest true peak since the clip indicator was last reset
    /// (for headroom); takes the audio thread's true peak only where it can change them.
    true_peak: TruePeakDisplay,
    reading: Option<MeterReading>,
}

impl Default for MeterView {
    fn default() -> Self {
        Self {
            sample_peak_dbfs: f32::NEG_INFINITY,
            hold_dbfs: f32::NEG_INFINITY,
            hold_age_s: 0.0,
            true_peak: TruePeakDisplay::new(),
            reading: None,
        }
    }
}

impl MeterView {
    /// Takes this frame's meter values and updates holds (the GUI side of "peaks held between
    /// reads").
    pub fn update(&mut self, shared: &MeterShared, dt_s: f32) {
        let r = take_levels(shared);
        // Meter ballistics: instant attack, 20 dB/s release (the true-peak bar's are the same,
        // in `TruePeakDisplay`).
        let fall = RELEASE_DB_PER_S * dt_s;
        self.sample_peak_dbfs = r
            .sample_peak_dbfs
            .max(self.sample_peak_dbfs - fall)
            .max(METER_FLOOR_DB - 1.0);
        self.true_peak.update(shared, dt_s);
        self.hold_age_s += dt_s;
        if r.sample_peak_dbfs >= self.hold_dbfs || self.hold_age_s > PEAK_HOLD_S {
            self.hold_dbfs = r.sample_peak_dbfs.max(self.sample_peak_dbfs);
            self.hold_age_s = 0.0;
        }
        self.reading = Some(r);
    }

    /// The bars and readouts; the clip button clears the latch in `shared` and the max.
    pub fn ui(&mut self, ui: &mut egui::Ui, shared: &MeterShared) {
        let Some(r) = self.reading else { return };
        let ceiling = MASTERING.true_peak_max_dbtp as f32;
        ui.horizontal(|ui| {
            bar(ui, "Peak", self.sample_peak_dbfs, Some(self.hold_dbfs));
            bar(ui, "True pk", self.true_peak.bar_db(), None);
            ui.vertical(|ui| {
                ui.monospace(format!(
                    "Sample peak hold {}",
                    fmt_peak_db(self.hold_dbfs, "dBFS")
                ));
                ui.monospace(format!(
                    "True peak        {}",
                    fmt_peak_db(self.true_peak.bar_db(), "dBTP")
                ));
                ui.monospace(format!(
                    "Momentary        {}",
                    fmt_db(r.momentary_lufs, "LUFS")
                ));
                ui.monospace(format!(
                    "Short-term       {}",
                    fmt_db(r.short_term_lufs, "LUFS")
                ));
                let headroom = ceiling - self.true_peak.max_db();
                ui.monospace(format!(
                    "Headroom to {ceiling:.1} dBTP ({}): {}",
                    MASTERING.name,
                    if headroom.is_finite() {
                        format!("{headroom:.1} dB")
                    } else {
                        "-".into()
                    }
                ));
                let (text, color) = if r.clip_latched {
                    ("CLIP (click to reset)", Color32::from_rgb(230, 40, 40))
                } else {
                    ("no clip", Color32::from_rgb(60, 140, 60))
                };
                if ui
                    .add(egui::Button::new(RichText::new(text).color(Color32::WHITE)).fill(color))
                    .clicked()
                {
                    shared.clip_latched.store(false, Ordering::Relaxed);
                    self.true_peak.reset_max();
                }
                if r.non_finite_samples > 0 {
                    ui.colored_label(
                        Color32::from_rgb(230, 120, 40),
                        format!("{} NaN/inf samples seen", r.non_finite_samples),
                    );
                }
            });
        });
    }
}

/// Peak values at the bottom of the meter scale (where the falling display rests) read as
/// silence.
fn fmt_peak_db(x: f32, unit: &str) -> String {
    fmt_db(
        if x > METER_FLOOR_DB - 1.0 {
            x
        } else {
            f32::NEG_INFINITY
        },
        unit,
    )
}

fn fmt_db(x: f32, unit: &str) -> String {
    if x.is_finite() {
        format!("{x:6.1} {unit}")
    } else {
        format!("  -inf {unit}")
    }
}

/// A vertical level bar from [`METER_FLOOR_DB`] to 0 dB with an optional hold marker.
fn bar(ui: &mut egui::Ui, name: &str, db: f32, hold: Option<f32>) {
    ui.vertical(|ui| {
        let (rect, _) = ui.allocate_exact_size(Vec2::new(26.0, 120.0), Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 2.0, Color32::from_gray(25));
        let y_of = |db: f32| {
            let t = ((db - METER_FLOOR_DB) / -METER_FLOOR_DB).clamp(0.0, 1.0);
            rect.bottom() - rect.height() * t
        };
        let color = if db >= -1.0 {
            Color32::from_rgb(230, 40, 40)
        } else if db >= -6.0 {
            Color32::from_rgb(230, 190, 40)
        } else {
            Color32::from_rgb(60, 190, 90)
        };
        painter.rect_filled(
            Rect::from_min_max(Pos2::new(rect.left(), y_of(db)), rect.right_bottom()),
            0.0,
            color,
        );
        if let Some(h) = hold.filter(|h| h.is_finite()) {
            let y = y_of(h);
            painter.line_segment(
                [Pos2::new(rect.left(), y), Pos2::new(rect.right(), y)],
                Stroke::new(2.0, Color32::WHITE),
            );
        }
        ui.small(name);
    });
}
