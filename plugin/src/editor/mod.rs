//! The egui editor: meters, spectrum, capture status, role and label, reconciliation panel.
//!
//! Everything here runs on the GUI thread. It reads the audio thread's results through
//! [`crate::shared`] (atomics, taken once per frame) and runs the spectrum FFT itself. One
//! module per section: [`meter_view`] (on [`meter_reading`], the GUI's side of the meters'
//! hand-over), [`spectrum_view`], [`capture_view`], [`reconcile_panel`]; the role and label
//! controls are here.

pub mod capture_view;
pub mod host_scale;
pub mod meter_reading;
pub mod meter_view;
pub mod reconcile_panel;
pub mod spectrum_view;

use std::sync::Arc;
use std::time::Instant;

use egui::Vec2;
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::editor::{ResizeHint, SizeConstraints};
use nice_plug::prelude::*;
use nice_plug_egui::resizable_window::ResizableWindow;
use nice_plug_egui::{EguiNiceSettings, NiceEguiApp, RepaintNotifier};

use crate::params::{Role, StemCheckParams};
use crate::shared::Shared;
use meter_view::MeterView;
use reconcile_panel::ReconcilePanel;
use spectrum_view::SpectrumView;

/// The editor's GUI-thread state.
pub struct StemCheckEditor {
    params: Arc<StemCheckParams>,
    shared: Arc<Shared>,
    repaint: RepaintNotifier,
    gui: Option<GuiContext>,
    meters: MeterView,
    spectrum: SpectrumView,
    reconcile: ReconcilePanel,
    last_frame: Option<Instant>,
    label_edit: String,
}

/// Smallest editor: an insert slot's width (the sections stack and wrap below
/// [`WIDE_LAYOUT_MIN_WIDTH`]).
pub const MIN_WIDTH: f32 = 380.0;
pub const MIN_HEIGHT: f32 = 320.0;
/// Largest editor (logical points; the host scale factor multiplies it).
pub const MAX_WIDTH: f32 = 2_400.0;
pub const MAX_HEIGHT: f32 = 1_800.0;
/// From this width on, the meters and the spectrum sit side by side.
pub const WIDE_LAYOUT_MIN_WIDTH: f32 = 1_100.0;

/// What the host may do with the editor's size: both axes, between the minimum and maximum
/// above, in logical points so the host's scale factor (HiDPI) applies on top. nice-plug-egui
/// honours the host's resize and scale requests from this hint (`set_size`, `adjust_size`,
/// `set_fallback_scale_factor`) and keeps `editor_state`'s size (persisted) in step.
pub fn resize_hint() -> ResizeHint {
    ResizeHint {
        size_constraints: SizeConstraints::Logical {
            min_size: Some(LogicalSize::new(MIN_WIDTH, MIN_HEIGHT)),
            max_size: Some(LogicalSize::new(MAX_WIDTH, MAX_HEIGHT)),
        },
        ..ResizeHint::RESIZABLE
    }
}

/// The spectrum plot's height for a window of `width` x `height` points: a third of the
/// window, at least 140 points (readable in an insert-sized window), at most 460; beside the
/// meters (wide layout) as tall as they are.
pub fn spectrum_height(width: f32, height: f32) -> f32 {
    if width >= WIDE_LAYOUT_MIN_WIDTH {
        (height * 0.45).clamp(260.0, 460.0)
    } else {
        (height / 3.0).clamp(140.0, 460.0)
    }
}

/// Builds the editor (called once per plugin instance by nice-plug).
pub fn create(
    params: Arc<StemCheckParams>,
    shared: Arc<Shared>,
) -> Option<host_scale::HostScaledEditor<StemCheckEditor>> {
    let repaint = RepaintNotifier::new();
    let label_edit = params.label.read().clone();
    let app = StemCheckEditor {
        params: params.clone(),
        shared,
        repaint: repaint.clone(),
        gui: None,
        meters: MeterView::default(),
        spectrum: SpectrumView::new(params.analyser.clone()),
        reconcile: ReconcilePanel::default(),
        last_frame: None,
        label_edit,
    };
    nice_plug_egui::create_egui_editor(
        params.editor_state.clone(),
        repaint,
        EguiNiceSettings::new()
            .with_tile("StemCheck")
            .with_resize_hint(resize_hint()),
        app,
    )
    .map(host_scale::HostScaledEditor::new)
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
            if ui
                .checkbox(&mut armed, "Always capture here")
                .on_hover_text(
                    "Capture whatever this instance plays, render or not (this track only; \
                     the session arm in the capture section arms every instance for playback)",
                )
                .changed()
            {
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
        // The corner handle asks the host for a new size (hosts that drag the window
        // themselves resize through `set_size`); the contents scroll when the window is
        // shorter than they are, so nothing scrolls inside anything else.
        ResizableWindow::new("stemcheck-editor")
            .min_size(Vec2::new(MIN_WIDTH, MIN_HEIGHT))
            .max_size(Vec2::new(MAX_WIDTH, MAX_HEIGHT))
            .show(ui, |ui| {
                let window = ui.clip_rect();
                // The resizable window fills the whole editor: its contents keep a margin.
                let margin = egui::Frame::new().inner_margin(egui::Margin::same(8));
                margin.show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .id_salt("editor")
                        .auto_shrink([false, false])
                        .show(ui, |ui| {
                            ui.horizontal_wrapped(|ui| {
                                ui.heading("StemCheck");
                                self.role_ui(ui);
                            });
                            ui.separator();
                            let gui = self.gui.clone();
                            let setter = gui.as_ref().map(GuiContext::param_setter);
                            let spectrum_height = spectrum_height(window.width(), window.height());
                            if window.width() >= WIDE_LAYOUT_MIN_WIDTH {
                                ui.columns(2, |cols| {
                                    self.meters.ui(
                                        &mut cols[0],
                                        &self.shared.meters,
                                        &self.params,
                                        setter.as_ref(),
                                    );
                                    self.spectrum.ui(
                                        &mut cols[1],
                                        &self.shared,
                                        dt_s,
                                        spectrum_height,
                                    );
                                });
                            } else {
                                self.meters.ui(
                                    ui,
                                    &self.shared.meters,
                                    &self.params,
                                    setter.as_ref(),
                                );
                                ui.separator();
                                self.spectrum.ui(ui, &self.shared, dt_s, spectrum_height);
                            }
                            ui.separator();
                            capture_view::ui(
                                ui,
                                &self.params,
                                &self.shared.capture,
                                setter.as_ref(),
                            );
                            ui.separator();
                            self.reconcile.ui(ui, &self.params, &self.shared);
                        });
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
