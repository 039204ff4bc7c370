//! The spectrum section of the editor: the GUI end of the audio thread's left/right ring,
//! analysed ([`crate::spectrum::SpectrumAnalyzer`]) and drawn each frame on a log-frequency
//! axis with labelled decades and a dB axis, with the view (mid, L/R, side), smoothing, tilt and
//! peak-hold controls and a readout under the cursor.

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, Vec2};

use std::sync::Arc;

use parking_lot::RwLock;

use crate::params::{AnalyserPrefs, PeakHoldPref};
use crate::shared::Shared;
use crate::spectrum::geometry::{DbAxis, FreqAxis, db_label, hz_readout, tilt_db};
use crate::spectrum::{AnalyzerSettings, ChannelView, MAX_HZ, MIN_HZ, SpectrumAnalyzer};

/// The live plot's dB range: band levels of music sit between -90 and 0 dBFS.
pub const LIVE_DB: DbAxis = DbAxis {
    lo_db: -90.0,
    hi_db: 0.0,
};
/// Tilt choices, dB per octave (SPAN and Insight offer 3 and 4.5).
pub const TILTS_DB_PER_OCTAVE: [f32; 3] = [0.0, 3.0, 4.5];
/// Smoothing choices: 1/n octave.
pub const SMOOTHING_FRACTIONS: [f32; 4] = [3.0, 6.0, 12.0, 24.0];
/// Peak-hold choices: seconds held before falling; 0 hides the hold, infinite keeps it until a
/// click on the plot.
pub const HOLDS_S: [f32; 3] = [0.0, 2.0, f32::INFINITY];

/// Colours of the curves (first: mid / left / side, second: right) and of the peak hold.
const CURVE_COLORS: [Color32; 2] = [
    Color32::from_rgb(90, 180, 240),
    Color32::from_rgb(240, 140, 90),
];
const HOLD_COLOR: Color32 = Color32::from_rgb(200, 160, 60);
pub(crate) const GRID: Color32 = Color32::from_gray(45);
pub(crate) const GRID_STRONG: Color32 = Color32::from_gray(75);
pub(crate) const AXIS_TEXT: Color32 = Color32::from_gray(150);
/// Room for the dB labels on the left and the frequency labels below a plot.
pub(crate) const LEFT_PX: f32 = 30.0;
pub(crate) const BOTTOM_PX: f32 = 14.0;

/// The spectrum section's GUI-thread state: the analyser of the current activation's ring and
/// the display settings, which start from the project's [`AnalyserPrefs`] and are written back
/// to them whenever the user changes one.
#[derive(Debug)]
pub struct SpectrumView {
    analyzer: Option<SpectrumAnalyzer>,
    settings: AnalyzerSettings,
    tilt_db_per_octave: f32,
    prefs: Arc<RwLock<AnalyserPrefs>>,
}

impl SpectrumView {
    /// A view showing the settings stored in `prefs` (the plugin's persisted field).
    pub fn new(prefs: Arc<RwLock<AnalyserPrefs>>) -> Self {
        let p = prefs.read().sanitized();
        Self {
            analyzer: None,
            settings: AnalyzerSettings {
                view: p.view,
                octave_fraction: p.octave_fraction,
                hold_s: p.hold.hold_s(),
            },
            tilt_db_per_octave: p.tilt_db_per_octave,
            prefs,
        }
    }

    /// The settings as the project stores them.
    fn current_prefs(&self) -> AnalyserPrefs {
        AnalyserPrefs {
            view: self.settings.view,
            octave_fraction: self.settings.octave_fraction,
            tilt_db_per_octave: self.tilt_db_per_octave,
            hold: PeakHoldPref::from_hold_s(self.settings.hold_s),
        }
    }

    /// Takes a new activation's ring from `shared` if there is one, runs this frame's analysis
    /// and draws the controls and a plot `height` points tall.
    pub fn ui(&mut self, ui: &mut egui::Ui, shared: &Shared, dt_s: f32, height: f32) {
        if let Some((consumer, rate)) = shared.spectrum.lock().take() {
            let mut analyzer = SpectrumAnalyzer::new(consumer, rate);
            analyzer.set_settings(self.settings);
            self.analyzer = Some(analyzer);
        }
        let before = self.current_prefs();
        self.controls_ui(ui);
        let after = self.current_prefs();
        if after != before {
            *self.prefs.write() = after;
        }
        if let Some(a) = self.analyzer.as_mut() {
            a.set_settings(self.settings);
            a.update(dt_s);
        }
        let (response, painter) = ui.allocate_painter(
            Vec2::new(ui.available_width(), height.max(80.0)),
            Sense::click(),
        );
        let outer = response.rect;
        let plot = Rect::from_min_max(
            Pos2::new(outer.left() + LEFT_PX, outer.top() + 2.0),
            Pos2::new(outer.right() - 4.0, outer.bottom() - BOTTOM_PX),
        );
        let max_hz = self
            .analyzer
            .as_ref()
            .map_or(MAX_HZ, |a| MAX_HZ.min(a.sample_rate() / 2.0));
        let axis = FreqAxis {
            min_hz: MIN_HZ,
            max_hz,
        };
        painter.rect_filled(plot, 2.0, Color32::from_gray(18));
        draw_axes(&painter, plot, axis, LIVE_DB, "dBFS");
        let tilt = self.tilt_db_per_octave;
        let to_screen = |hz: f32, db: f32| {
            Pos2::new(
                plot.left() + plot.width() * axis.fraction(hz),
                plot.top() + plot.height() * LIVE_DB.fraction_below_top(db + tilt_db(hz, tilt)),
            )
        };
        if response.clicked()
            && let Some(a) = self.analyzer.as_mut()
        {
            a.clear_peaks();
        }
        let Some(analyzer) = self.analyzer.as_ref() else {
            painter.text(
                plot.center(),
                Align2::CENTER_CENTER,
                "no audio yet",
                FontId::proportional(12.0),
                AXIS_TEXT,
            );
            return;
        };
        let show_hold = self.settings.hold_s > 0.0;
        let painter = painter.with_clip_rect(plot);
        for (i, curve) in analyzer.curves.iter().enumerate() {
            let color = CURVE_COLORS[i.min(1)];
            if show_hold {
                let held: Vec<Pos2> = analyzer
                    .hz
                    .iter()
                    .zip(&curve.peak.db)
                    .map(|(&hz, &db)| to_screen(hz, db))
                    .collect();
                painter.line(held, Stroke::new(1.0, HOLD_COLOR.gamma_multiply(0.8)));
            }
            let now: Vec<Pos2> = analyzer
                .hz
                .iter()
                .zip(&curve.db)
                .map(|(&hz, &db)| to_screen(hz, db))
                .collect();
            painter.line(now, Stroke::new(1.5, color));
        }
        // Legend: the curves' names, top right.
        let mut x = plot.right() - 6.0;
        for (i, name) in analyzer
            .settings()
            .view
            .curve_names()
            .iter()
            .enumerate()
            .rev()
        {
            let r = painter.text(
                Pos2::new(x, plot.top() + 4.0),
                Align2::RIGHT_TOP,
                *name,
                FontId::proportional(11.0),
                CURVE_COLORS[i.min(1)],
            );
            x = r.left() - 8.0;
        }
        if let Some(pos) = response.hover_pos().filter(|p| plot.contains(*p)) {
            let hz = axis.hz_at((pos.x - plot.left()) / plot.width());
            let i = analyzer
                .hz
                .partition_point(|&f| f < hz)
                .min(analyzer.hz.len() - 1);
            let mut text = hz_readout(hz);
            for (name, curve) in analyzer
                .settings()
                .view
                .curve_names()
                .iter()
                .zip(&analyzer.curves)
            {
                text.push_str(&format!("  {name} {} dB", db_label(curve.db[i], 1)));
                if show_hold {
                    text.push_str(&format!(" (hold {})", db_label(curve.peak.db[i], 1)));
                }
            }
            if tilt != 0.0 {
                text.push_str(&format!("  tilt {:+.1} dB", tilt_db(hz, tilt)));
            }
            readout(&painter, plot, pos, &text);
        }
    }

    fn controls_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            ui.strong("Spectrum");
            for (view, name) in [
                (ChannelView::Mid, "Mid"),
                (ChannelView::LeftRight, "L/R"),
                (ChannelView::Side, "Side"),
            ] {
                if ui
                    .selectable_label(self.settings.view == view, name)
                    .clicked()
                {
                    self.settings.view = view;
                }
            }
            ui.separator();
            egui::ComboBox::from_id_salt("smoothing")
                .selected_text(format!("1/{} oct", self.settings.octave_fraction))
                .width(70.0)
                .show_ui(ui, |ui| {
                    for f in SMOOTHING_FRACTIONS {
                        ui.selectable_value(
                            &mut self.settings.octave_fraction,
                            f,
                            format!("1/{f} octave"),
                        );
                    }
                });
            egui::ComboBox::from_id_salt("tilt")
                .selected_text(format!("tilt {} dB/oct", self.tilt_db_per_octave))
                .width(95.0)
                .show_ui(ui, |ui| {
                    for t in TILTS_DB_PER_OCTAVE {
                        ui.selectable_value(
                            &mut self.tilt_db_per_octave,
                            t,
                            format!("{t} dB/octave"),
                        );
                    }
                });
            egui::ComboBox::from_id_salt("hold")
                .selected_text(hold_label(self.settings.hold_s))
                .width(80.0)
                .show_ui(ui, |ui| {
                    for h in HOLDS_S {
                        ui.selectable_value(&mut self.settings.hold_s, h, hold_label(h));
                    }
                });
        });
    }
}

fn hold_label(hold_s: f32) -> String {
    if hold_s == 0.0 {
        "no hold".into()
    } else if hold_s.is_infinite() {
        "hold: max".into()
    } else {
        format!("hold {hold_s} s")
    }
}

/// The frequency grid (1-2-5 per decade, decades stronger, labelled below) and the dB grid
/// (labelled left, `unit` at the top) of a plot in `plot`.
pub(crate) fn draw_axes(
    painter: &egui::Painter,
    plot: Rect,
    axis: FreqAxis,
    db: DbAxis,
    unit: &str,
) {
    let font = FontId::proportional(10.0);
    for level in db.ticks(10.0, plot.height(), 14.0) {
        let y = plot.top() + plot.height() * db.fraction_below_top(level);
        painter.line_segment(
            [Pos2::new(plot.left(), y), Pos2::new(plot.right(), y)],
            Stroke::new(1.0, GRID),
        );
        painter.text(
            Pos2::new(plot.left() - 3.0, y),
            Align2::RIGHT_CENTER,
            db_label(level, 0),
            font.clone(),
            AXIS_TEXT,
        );
    }
    // The unit inside the plot's top left corner: the margins hold the tick labels.
    painter.text(
        Pos2::new(plot.left() + 4.0, plot.top() + 3.0),
        Align2::LEFT_TOP,
        unit,
        font.clone(),
        AXIS_TEXT,
    );
    // Labels thin out on narrow plots: a label is drawn only when it clears the previous one.
    let mut last_label_right = f32::NEG_INFINITY;
    for (hz, label, decade) in axis.ticks() {
        let x = plot.left() + plot.width() * axis.fraction(hz);
        let color = if decade { GRID_STRONG } else { GRID };
        painter.line_segment(
            [Pos2::new(x, plot.top()), Pos2::new(x, plot.bottom())],
            Stroke::new(1.0, color),
        );
        let half_width = 4.0 * label.len() as f32;
        if x - half_width > last_label_right + 4.0 || decade {
            painter.text(
                Pos2::new(x, plot.bottom() + 1.0),
                Align2::CENTER_TOP,
                &label,
                font.clone(),
                AXIS_TEXT,
            );
            last_label_right = x + half_width;
        }
    }
}

/// A readout box near the cursor, kept inside the plot, with a crosshair.
pub(crate) fn readout(painter: &egui::Painter, plot: Rect, pos: Pos2, text: &str) {
    painter.line_segment(
        [
            Pos2::new(pos.x, plot.top()),
            Pos2::new(pos.x, plot.bottom()),
        ],
        Stroke::new(1.0, Color32::from_gray(110)),
    );
    let galley = painter.layout_no_wrap(text.to_owned(), FontId::monospace(11.0), Color32::WHITE);
    let size = galley.size() + Vec2::splat(6.0);
    let mut min = Pos2::new(pos.x + 8.0, plot.top() + 18.0);
    if min.x + size.x > plot.right() {
        min.x = (pos.x - 8.0 - size.x).max(plot.left());
    }
    let rect = Rect::from_min_size(min, size);
    painter.rect_filled(rect, 3.0, Color32::from_black_alpha(200));
    painter.galley(rect.min + Vec2::splat(3.0), galley, Color32::WHITE);
}
