//! The spectrum section of the editor: the GUI end of the audio thread's downmix ring, analysed
//! (FFT, smoothing, peak hold) and drawn each frame.

use egui::{Color32, Pos2, Sense, Stroke, Vec2};

use crate::shared::Shared;
use crate::spectrum::{FLOOR_DB, MAX_HZ, MIN_HZ, SpectrumAnalyzer};

/// The spectrum section's GUI-thread state: the analyser of the current activation's ring.
#[derive(Debug, Default)]
pub struct SpectrumView {
    analyzer: Option<SpectrumAnalyzer>,
}

impl SpectrumView {
    /// Takes a new activation's ring from `shared` if there is one, runs this frame's FFT and
    /// draws the smoothed and peak-hold curves on a log-frequency axis.
    pub fn ui(&mut self, ui: &mut egui::Ui, shared: &Shared, dt_s: f32) {
        if let Some((consumer, rate)) = shared.spectrum.lock().take() {
            self.analyzer = Some(SpectrumAnalyzer::new(consumer, rate));
        }
        let desired = Vec2::new(ui.available_width(), 130.0);
        let (response, painter) = ui.allocate_painter(desired, Sense::hover());
        let rect = response.rect;
        painter.rect_filled(rect, 2.0, Color32::from_gray(18));
        let Some(analyzer) = self.analyzer.as_mut() else {
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
}
