//! The egui editor: meters, spectrum, capture status, role and label, reconciliation panel.
//!
//! Everything here runs on the GUI thread. It reads the audio thread's results through
//! [`crate::shared`] (atomics, taken once per frame) and runs the spectrum FFT itself. One
//! module per section: [`meter_view`] (on [`meter_reading`], the GUI's side of the meters'
//! hand-over), [`spectrum_view`], [`capture_view`], [`reconcile_panel`]; the role and label
//! controls are here.

pub mod capture_view;
pub mod meter_reading;
pub mod meter_view;
pub mod reconcile_panel;
pub mod spectrum_view;

use std::sync::Arc;
use std::time::Instant;

use nice_plug::context::gui::GuiContext;
use nice_plug::prelude::*;
use nice_plug_egui::{EguiNiceSettings, NiceEguiApp, RepaintNotifier};

use crate::params::{Role, StemCheckParams};
use crate::shared::Shared;
use meter_view::MeterView;
use spectrum_view::SpectrumView;

/// The editor's GUI-thread state.
pub struct StemCheckEditor {
    params: Arc<StemCheckParams>,
    shared: Arc<Shared>,
    repaint: RepaintNotifier,
    gui: Option<GuiContext>,
    meters: MeterView,
    spectrum: SpectrumView,
    last_frame: Option<Instant>,
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
        meters: MeterView::default(),
        spectrum: SpectrumView::default(),
        last_frame: None,
        label_edit,
    };
    nice_plug_egui::create_egui_editor(
        params.editor_state.clone(),
        repaint,
        EguiNiceSettings::new().with_tile("StemCheck"),
        app,
    )
}

impl StemCheckEditor {
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
        if self.last_frame.is_none() {
            // First frame since the editor opened: no stale peak on the bars.
            self.meters.editor_opened();
        }
        let dt_s = self
            .last_frame
            .map_or(1.0 / 60.0, |t| now.duration_since(t).as_secs_f32())
            .clamp(0.0, 0.5);
        self.last_frame = Some(now);
        self.meters.update(&self.shared, dt_s);
        egui::CentralPanel::default().show(ui, |ui| {
            // Scrolls when the host gives the editor less room than its default size.
            egui::ScrollArea::vertical()
                .id_salt("editor")
                .show(ui, |ui| {
                    ui.heading("StemCheck");
                    self.role_ui(ui);
                    ui.separator();
                    let gui = self.gui.clone();
                    let setter = gui.as_ref().map(GuiContext::param_setter);
                    self.meters
                        .ui(ui, &self.shared.meters, &self.params, setter.as_ref());
                    ui.separator();
                    self.spectrum.ui(ui, &self.shared, dt_s);
                    ui.separator();
                    capture_view::ui(ui, &self.params, &self.shared.capture, setter.as_ref());
                    ui.separator();
                    reconcile_panel::ui(ui, &self.params, &self.shared);
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
