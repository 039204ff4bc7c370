//! The egui editor: meters, spectrum, capture status, role and label, reconciliation panel.
//!
//! Everything here runs on the GUI thread. It reads the audio thread's results through
//! [`crate::shared`] (atomics, taken once per frame) and runs the spectrum FFT itself.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use analyzer_core::profile::MASTERING;
use analyzer_core::report::{Report, Severity};
use egui::{Color32, Pos2, Rect, RichText, Sense, Stroke, Vec2};
use nice_plug::context::gui::GuiContext;
use nice_plug::prelude::*;
use nice_plug_egui::{EguiNiceSettings, NiceEguiApp, RepaintNotifier};

use crate::meters::{METER_FLOOR_DB, MeterReading, RELEASE_DB_PER_S, TruePeakDisplay, take_levels};
use crate::params::{Role, StemCheckParams};
use crate::plots::{PlotData, PlotGeometry, XScale, timeline_xs};
use crate::shared::{ReconcileState, Shared};
use crate::spectrum::{FLOOR_DB, MAX_HZ, MIN_HZ, SpectrumAnalyzer};

/// How long the peak-hold marker stays before it falls.
const PEAK_HOLD_S: f32 = 2.0;
/// Series colours of the reconciliation plots (the HTML report's: mix blue, residual red,
/// lightened for the dark background).
const MIX_COLOR: Color32 = Color32::from_rgb(110, 150, 240);
const RESIDUAL_COLOR: Color32 = Color32::from_rgb(235, 80, 70);
/// Height of one reconciliation plot, including its axis labels.
const PLOT_HEIGHT: f32 = 150.0;

/// The editor's GUI-thread state.
pub struct StemCheckEditor {
    params: Arc<StemCheckParams>,
    shared: Arc<Shared>,
    repaint: RepaintNotifier,
    gui: Option<GuiContext>,
    spectrum: Option<SpectrumAnalyzer>,
    last_frame: Option<Instant>,
    /// Latest per-frame sample peak (falling bar), dB.
    sample_peak_dbfs: f32,
    /// Falling peak-hold marker and when it was last raised.
    hold_dbfs: f32,
    hold_age_s: f32,
    /// The true-peak bar and the highest true peak since the clip indicator was last reset
    /// (for headroom); takes the audio thread's true peak only where it can change them.
    true_peak: TruePeakDisplay,
    reading: Option<MeterReading>,
    label_edit: String,
}

/// Builds the editor (called once per plugin instance by nice-plug).
pub fn create(
    params: Arc<StemCheckParams>,
    shared: Arc<Shared>,
) -> Option<nice_plug_egui::EguiEditor<StemCheckEditor>> {
    let repaint = RepaintNotifier::new();
    let label_edit = params.label.read().clone();
    let app = StemCheckEditor {
        params: params.clone(),
        shared,
        repaint: repaint.clone(),
        gui: None,
        spectrum: None,
        last_frame: None,
        sample_peak_dbfs: f32::NEG_INFINITY,
        hold_dbfs: f32::NEG_INFINITY,
        hold_age_s: 0.0,
        true_peak: TruePeakDisplay::new(),
        reading: None,
        label_edit,
    };
    nice_plug_egui::create_egui_editor(
        params.editor_state.clone(),
        repaint,
        EguiNiceSettings::new().with_tile("StemCheck"),
        app,
    )
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

fn fmt_opt(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "-".to_string(), |v| format!("{v:.digits$}"))
}

impl StemCheckEditor {
    /// Takes this frame's meter values and updates holds (the GUI side of "peaks held between
    /// reads").
    fn update_meters(&mut self, dt_s: f32) {
        let r = take_levels(&self.shared.meters);
        // Meter ballistics: instant attack, 20 dB/s release (the true-peak bar's are the same,
        // in `TruePeakDisplay`).
        let fall = RELEASE_DB_PER_S * dt_s;
        self.sample_peak_dbfs = r
            .sample_peak_dbfs
            .max(self.sample_peak_dbfs - fall)
            .max(METER_FLOOR_DB - 1.0);
        self.true_peak.update(&self.shared.meters, dt_s);
        self.hold_age_s += dt_s;
        if r.sample_peak_dbfs >= self.hold_dbfs || self.hold_age_s > PEAK_HOLD_S {
            self.hold_dbfs = r.sample_peak_dbfs.max(self.sample_peak_dbfs);
            self.hold_age_s = 0.0;
        }
        self.reading = Some(r);
    }

    fn meters_ui(&mut self, ui: &mut egui::Ui) {
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
                    self.shared
                        .meters
                        .clip_latched
                        .store(false, Ordering::Relaxed);
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

    fn spectrum_ui(&mut self, ui: &mut egui::Ui, dt_s: f32) {
        if let Some((consumer, rate)) = self.shared.spectrum.lock().take() {
            self.spectrum = Some(SpectrumAnalyzer::new(consumer, rate));
        }
        let desired = Vec2::new(ui.available_width(), 130.0);
        let (response, painter) = ui.allocate_painter(desired, Sense::hover());
        let rect = response.rect;
        painter.rect_filled(rect, 2.0, Color32::from_gray(18));
        let Some(analyzer) = self.spectrum.as_mut() else {
            return;
        };
        analyzer.update(dt_s);
        let max_hz = MAX_HZ.min(analyzer.sample_rate() / 2.0);
        let x_of =
            |hz: f32| rect.left() + rect.width() * (hz / MIN_HZ).ln() / (max_hz / MIN_HZ).ln();
        let y_of = |db: f32| {
            let t = ((db - FLOOR_DB) / (0.0 - FLOOR_DB)).clamp(0.0, 1.0);
            rect.bottom() - rect.height() * t
        };
        for hz in [100.0, 1_000.0, 10_000.0] {
            let x = x_of(hz);
            painter.line_segment(
                [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
                Stroke::new(1.0, Color32::from_gray(50)),
            );
        }
        let curve = analyzer.log_curve(rect.width().max(2.0) as usize);
        let smooth: Vec<Pos2> = curve
            .iter()
            .map(|p| Pos2::new(x_of(p.0), y_of(p.1)))
            .collect();
        let peak: Vec<Pos2> = curve
            .iter()
            .map(|p| Pos2::new(x_of(p.0), y_of(p.2)))
            .collect();
        painter.line(peak, Stroke::new(1.0, Color32::from_rgb(200, 160, 60)));
        painter.line(smooth, Stroke::new(1.5, Color32::from_rgb(90, 180, 240)));
    }

    fn capture_ui(&mut self, ui: &mut egui::Ui) {
        let c = &self.shared.capture;
        let armed = c.armed.load(Ordering::Relaxed);
        let recording = c.recording.load(Ordering::Relaxed);
        let frames = c.frames_written.load(Ordering::Relaxed);
        let dropped = c.dropped_frames.load(Ordering::Relaxed);
        let rate = c.sample_rate.load(Ordering::Relaxed).max(1);
        let info = c.info.lock().clone();
        ui.horizontal(|ui| {
            let (state, color) = match (recording, armed) {
                (true, _) => ("RECORDING", Color32::from_rgb(220, 50, 50)),
                (false, true) => ("ARMED", Color32::from_rgb(220, 160, 40)),
                _ => ("idle", Color32::GRAY),
            };
            ui.colored_label(color, state);
            ui.monospace(format!(
                "{frames} frames ({:.1} s)",
                frames as f64 / f64::from(rate)
            ));
            if dropped > 0 {
                ui.colored_label(Color32::RED, format!("{dropped} frames dropped"));
            } else {
                ui.label("0 dropped");
            }
        });
        if let Some(bounce) = &info.bounce_id {
            ui.small(format!("bounce {bounce}"));
        }
        if let Some(path) = &info.wav_path {
            ui.small(path.display().to_string());
        } else if let Some(root) = &info.capture_root {
            ui.small(format!("captures go to {}", root.display()));
        }
        if let Some(err) = &info.last_error {
            ui.colored_label(Color32::RED, format!("capture error: {err}"));
        }
    }

    fn role_ui(&mut self, ui: &mut egui::Ui) {
        let Some(gui) = self.gui.clone() else { return };
        let setter = gui.param_setter();
        ui.horizontal(|ui| {
            ui.label("Role");
            let current = self.params.role.value();
            for (role, name) in [(Role::Stem, "Stem"), (Role::Mix, "Mix")] {
                if ui.selectable_label(current == role, name).clicked() && current != role {
                    setter.begin_set_parameter(&self.params.role);
                    setter.set_parameter(&self.params.role, role);
                    setter.end_set_parameter(&self.params.role);
                }
            }
            ui.separator();
            ui.label("Label");
            let hint = self.params.host_track_name.read().clone();
            let edit = egui::TextEdit::singleline(&mut self.label_edit)
                .hint_text(if hint.is_empty() {
                    "track name".into()
                } else {
                    hint
                })
                .desired_width(160.0);
            if ui.add(edit).changed() {
                *self.params.label.write() = self.label_edit.trim().to_string();
            }
            ui.separator();
            let mut auto = self.params.auto_arm.value();
            if ui.checkbox(&mut auto, "Auto capture").changed() {
                setter.begin_set_parameter(&self.params.auto_arm);
                setter.set_parameter(&self.params.auto_arm, auto);
                setter.end_set_parameter(&self.params.auto_arm);
            }
            let mut armed = self.params.manual_arm.value();
            if ui.checkbox(&mut armed, "Arm").changed() {
                setter.begin_set_parameter(&self.params.manual_arm);
                setter.set_parameter(&self.params.manual_arm, armed);
                setter.end_set_parameter(&self.params.manual_arm);
            }
        });
    }

    fn reconcile_ui(&mut self, ui: &mut egui::Ui) {
        if self.params.role.value() != Role::Mix {
            ui.label("Set the role to Mix on the mix bus to see the reconciliation here.");
            return;
        }
        let state = self.shared.reconcile.lock().clone();
        match state {
            ReconcileState::Idle => {
                ui.label("Bounce the mix and its stems; the verdict appears here.");
            }
            ReconcileState::Waiting {
                bounce_id,
                captures,
            } => {
                ui.label(format!(
                    "Bounce {bounce_id}: waiting for captures to finish ({captures} so far)..."
                ));
            }
            ReconcileState::Analyzing { bounce_id } => {
                ui.label(format!("Bounce {bounce_id}: analysing..."));
            }
            ReconcileState::Failed { bounce_id, reason } => {
                ui.colored_label(
                    Color32::RED,
                    format!("Bounce {bounce_id}: check failed: {reason}"),
                );
            }
            ReconcileState::Done {
                bounce_id, report, ..
            } => report_ui(ui, &bounce_id, &report),
        }
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

fn report_ui(ui: &mut egui::Ui, bounce_id: &str, report: &Report) {
    let verdict = report.verdict.as_str();
    let color = match verdict {
        "pass" => Color32::from_rgb(60, 190, 90),
        "warn" => Color32::from_rgb(230, 190, 40),
        _ => Color32::from_rgb(230, 40, 40),
    };
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(verdict.to_uppercase())
                .color(color)
                .strong()
                .size(20.0),
        );
        ui.label(format!("health {} / 100", report.health_score));
        ui.small(format!("bounce {bounce_id}, profile {}", report.profile));
    });
    if let Some(r) = &report.reconciliation {
        ui.small(format!(
            "stem sum against {}: lag {} samples, null depth {} dB (after gain fit {} dB)",
            r.mix.as_deref().unwrap_or("the mix"),
            r.lag_samples,
            fmt_opt(r.null_depth_db, 1),
            fmt_opt(r.fitted_null_depth_db, 1),
        ));
        ui.columns(2, |cols| {
            let timeline = r.timeline.as_ref().map(|t| {
                (
                    timeline_xs(t.step_s, t.mix_db.len()),
                    [&t.mix_db[..], &t.residual_db[..]],
                )
            });
            plot_ui(
                &mut cols[0],
                "Mix and residual level over time",
                timeline.as_ref().map(|(xs, v)| (&xs[..], *v)),
                XScale::Linear,
                "s",
            );
            let spectrum = r
                .spectrum
                .as_ref()
                .map(|s| (&s.band_hz[..], [&s.mix_db[..], &s.residual_db[..]]));
            plot_ui(
                &mut cols[1],
                "Residual spectrum against the mix spectrum",
                spectrum,
                XScale::Log,
                "Hz",
            );
        });
    } else {
        ui.small("No mix was found: the stems were checked without reconciliation.");
    }
    egui::ScrollArea::vertical()
        .max_height(220.0)
        .show(ui, |ui| {
            egui::Grid::new("stems").striped(true).show(ui, |ui| {
                for h in [
                    "file",
                    "role",
                    "offset",
                    "gain dB",
                    "polarity",
                    "peak dBFS",
                    "TP dBTP",
                    "LUFS",
                ] {
                    ui.strong(h);
                }
                ui.end_row();
                for f in &report.files {
                    let name = std::path::Path::new(&f.path)
                        .file_name()
                        .map_or(f.path.clone(), |n| n.to_string_lossy().into_owned());
                    ui.label(name);
                    ui.label(
                        f.role
                            .map_or("-".to_string(), |r| format!("{r:?}").to_lowercase()),
                    );
                    ui.label(f.offset_samples.map_or("-".into(), |o| o.to_string()));
                    ui.label(fmt_opt(f.gain_db, 2));
                    ui.label(
                        f.polarity
                            .map_or("-".to_string(), |p| format!("{p:?}").to_lowercase()),
                    );
                    ui.label(fmt_opt(f.sample_peak_dbfs, 1));
                    ui.label(fmt_opt(f.true_peak_dbtp, 1));
                    ui.label(fmt_opt(f.integrated_lufs, 1));
                    ui.end_row();
                }
            });
            ui.separator();
            for finding in &report.findings {
                let color = match finding.severity {
                    Severity::Error => Color32::from_rgb(230, 60, 60),
                    Severity::Warning => Color32::from_rgb(230, 190, 40),
                    Severity::Info => Color32::GRAY,
                };
                ui.colored_label(
                    color,
                    format!(
                        "[{}] {}: {}",
                        finding.severity.as_str(),
                        finding.code,
                        finding.message
                    ),
                );
                if !finding.fix.is_empty() {
                    ui.small(format!("fix: {}", finding.fix));
                }
            }
        });
}

/// One reconciliation plot: mix and residual in dB over `xs` (seconds or Hz), with a dB grid,
/// x tick labels and a legend, painted like the HTML report's chart.
fn plot_ui(
    ui: &mut egui::Ui,
    title: &str,
    data: Option<PlotData<'_>>,
    x_scale: XScale,
    x_unit: &str,
) {
    ui.small(title);
    let (response, painter) =
        ui.allocate_painter(Vec2::new(ui.available_width(), PLOT_HEIGHT), Sense::hover());
    let outer = response.rect;
    painter.rect_filled(outer, 2.0, Color32::from_gray(18));
    // Room for dB labels on the left and x labels plus the legend below.
    let plot = Rect::from_min_max(
        outer.left_top() + Vec2::new(42.0, 8.0),
        outer.right_bottom() - Vec2::new(10.0, 32.0),
    );
    let font = egui::FontId::proportional(10.0);
    let text = Color32::from_gray(170);
    let geometry = data.and_then(|(xs, series)| {
        PlotGeometry::new(plot, xs, x_scale, &series).map(|g| (g, xs, series))
    });
    let Some((g, xs, series)) = geometry else {
        painter.text(
            outer.center(),
            egui::Align2::CENTER_CENTER,
            "no data",
            font,
            text,
        );
        return;
    };
    let grid = Stroke::new(1.0, Color32::from_gray(48));
    for db in g.db_ticks() {
        let y = g.y_px(db);
        painter.line_segment(
            [Pos2::new(plot.left(), y), Pos2::new(plot.right(), y)],
            grid,
        );
        painter.text(
            Pos2::new(plot.left() - 4.0, y),
            egui::Align2::RIGHT_CENTER,
            format!("{db} dB"),
            font.clone(),
            text,
        );
    }
    for (x, label) in g.x_ticks() {
        let px = g.x_px(x);
        painter.line_segment(
            [Pos2::new(px, plot.top()), Pos2::new(px, plot.bottom())],
            grid,
        );
        painter.text(
            Pos2::new(px, plot.bottom() + 2.0),
            egui::Align2::CENTER_TOP,
            label,
            font.clone(),
            text,
        );
    }
    painter.text(
        Pos2::new(plot.right(), plot.bottom() + 14.0),
        egui::Align2::RIGHT_TOP,
        x_unit,
        font.clone(),
        text,
    );
    let mut legend_x = plot.left();
    for (values, color, name) in [
        (series[0], MIX_COLOR, "mix"),
        (series[1], RESIDUAL_COLOR, "residual (mix - stem sum)"),
    ] {
        for run in g.polylines(xs, values) {
            if let [dot] = run[..] {
                painter.circle_filled(dot, 1.5, color);
            } else {
                painter.line(run, Stroke::new(1.5, color));
            }
        }
        let y = plot.bottom() + 20.0;
        painter.line_segment(
            [Pos2::new(legend_x, y), Pos2::new(legend_x + 12.0, y)],
            Stroke::new(3.0, color),
        );
        let label = painter.text(
            Pos2::new(legend_x + 16.0, y),
            egui::Align2::LEFT_CENTER,
            name,
            font.clone(),
            text,
        );
        legend_x = label.right() + 12.0;
    }
}

impl NiceEguiApp for StemCheckEditor {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.gui = Some(nice_gui_ctx);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        let now = Instant::now();
        let dt_s = self
            .last_frame
            .map_or(1.0 / 60.0, |t| now.duration_since(t).as_secs_f32())
            .clamp(0.0, 0.5);
        self.last_frame = Some(now);
        self.update_meters(dt_s);
        egui::CentralPanel::default().show(ui, |ui| {
            // Scrolls when the host gives the editor less room than its default size.
            egui::ScrollArea::vertical()
                .id_salt("editor")
                .show(ui, |ui| {
                    ui.heading("StemCheck");
                    self.role_ui(ui);
                    ui.separator();
                    self.meters_ui(ui);
                    ui.separator();
                    self.spectrum_ui(ui, dt_s);
                    ui.separator();
                    self.capture_ui(ui);
                    ui.separator();
                    self.reconcile_ui(ui);
                });
        });
        // Meters animate continuously while the editor is open.
        self.repaint.request_repaint();
    }

    fn editor_closed(&mut self) {
        self.gui = None;
        self.last_frame = None;
    }

    fn track_info_changed(&mut self, info: TrackInfo) {
        // The host's track name is the default label (report contract); persisted so captures
        // keep it even when the editor object is gone.
        *self.params.host_track_name.write() = info.name().to_string();
    }
}
