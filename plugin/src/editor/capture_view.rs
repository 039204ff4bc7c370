//! The capture status at a glance: idle / armed / capturing (time, dropped) / done and where
//! the bounce went, the capture root's count and size, the session arm and the clean-up.
//!
//! [`CaptureView::from_status`] reduces the shared status to one [`CaptureView`] (tested
//! below), so the label never says "capturing" unless the writer has a capture file open.

use std::sync::atomic::Ordering;

use egui::Color32;
use nice_plug::prelude::ParamSetter;

use crate::capture::retention::Retention;
use crate::params::{Role, StemCheckParams};
use crate::shared::{CaptureStatus, DoneCapture, RetainedBounces};

/// What the capture is doing, as the editor says it.
#[derive(Debug, Clone, PartialEq)]
pub enum CaptureView {
    /// Nothing captured now; `auto` says whether renders are captured automatically.
    Idle { auto: bool },
    /// Real-time playback is captured from its first block; `here`: this instance armed the
    /// session (else another one did, or this instance's legacy "capture always" arm is on).
    Armed { here: bool },
    /// Playback is being watched in memory: kept only if it proves to be a render.
    Watching,
    /// A capture file is open.
    Capturing { seconds: f64, dropped_frames: u64 },
    /// The last capture completed (and nothing runs now).
    Done(DoneCapture),
}

impl CaptureView {
    /// The state from the shared status and this instance's parameters: `arm_playback` (the
    /// session arm), `manual_arm` (capture whenever audio runs) and `auto`.
    pub fn from_status(
        status: &CaptureStatus,
        last_done: Option<DoneCapture>,
        (arm_playback, manual_arm, auto): (bool, bool, bool),
    ) -> Self {
        let rate = f64::from(status.sample_rate.load(Ordering::Relaxed).max(1));
        if status.recording.load(Ordering::Relaxed) {
            return Self::Capturing {
                seconds: status.frames_written.load(Ordering::Relaxed) as f64 / rate,
                dropped_frames: status.dropped_frames.load(Ordering::Relaxed),
            };
        }
        let session = status.session_armed.load(Ordering::Relaxed);
        if arm_playback || session || manual_arm {
            return Self::Armed { here: arm_playback };
        }
        if status.pending.load(Ordering::Relaxed) {
            return Self::Watching;
        }
        match last_done {
            Some(done) => Self::Done(done),
            None => Self::Idle { auto },
        }
    }

    fn label(&self) -> (String, Color32) {
        match self {
            Self::Idle { auto: true } => (
                "idle - renders are captured automatically".into(),
                Color32::GRAY,
            ),
            Self::Idle { auto: false } => (
                "idle - auto capture off: only an arm captures".into(),
                Color32::GRAY,
            ),
            Self::Armed { here: true } => (
                "ARMED - playback in every instance is captured".into(),
                Color32::from_rgb(230, 160, 40),
            ),
            Self::Armed { here: false } => (
                "ARMED (by another instance) - playback is captured".into(),
                Color32::from_rgb(230, 160, 40),
            ),
            Self::Watching => (
                "playing - not captured (a render would be; arm to capture playback)".into(),
                Color32::GRAY,
            ),
            Self::Capturing {
                seconds,
                dropped_frames,
            } => {
                let dropped = if *dropped_frames == 0 {
                    "nothing dropped".to_string()
                } else {
                    format!("{dropped_frames} frames DROPPED")
                };
                (
                    format!("CAPTURING {} - {dropped}", clock(*seconds)),
                    Color32::from_rgb(220, 60, 60),
                )
            }
            Self::Done(done) => (
                format!(
                    "done - {} captured",
                    clock(done.frames as f64 / f64::from(done.sample_rate.max(1)))
                ),
                Color32::from_rgb(90, 190, 90),
            ),
        }
    }
}

/// `m:ss.s` for a length in seconds.
fn clock(seconds: f64) -> String {
    let tenths = (seconds.max(0.0) * 10.0).round() as u64;
    let (minutes, rest) = (tenths / 600, tenths % 600);
    format!("{minutes}:{:02}.{}", rest / 10, rest % 10)
}

/// A size in decimal units, as file managers show it.
fn size(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.0} MB", b / 1e6)
    }
}

/// Draws the capture section. `setter` is `None` before the editor is built.
pub fn ui(
    ui: &mut egui::Ui,
    params: &StemCheckParams,
    status: &CaptureStatus,
    setter: Option<&ParamSetter>,
) {
    let info = status.info.lock().clone();
    let arm = params.arm_playback.value();
    let view = CaptureView::from_status(
        status,
        info.last_done.clone(),
        (arm, params.manual_arm.value(), params.auto_arm.value()),
    );
    let (text, color) = view.label();
    ui.horizontal(|ui| {
        ui.colored_label(color, egui::RichText::new(text).strong());
        if let Some(setter) = setter {
            let arm_text = match params.role.value() {
                Role::Mix => "Arm playback capture (all tracks)",
                Role::Stem => "Arm playback capture (all tracks, as on the mix)",
            };
            let mut armed = arm;
            let tip = "capture real-time playback in every instance of the session; renders \
                       are captured without an arm";
            if ui
                .checkbox(&mut armed, arm_text)
                .on_hover_text(tip)
                .changed()
            {
                setter.begin_set_parameter(&params.arm_playback);
                setter.set_parameter(&params.arm_playback, armed);
                setter.end_set_parameter(&params.arm_playback);
            }
        }
    });
    match (&view, &info.wav_path, &info.last_done) {
        (CaptureView::Capturing { .. }, Some(path), _) => {
            ui.small(format!("to {}", path.display()));
        }
        (CaptureView::Done(done), _, _) | (_, _, Some(done)) => {
            ui.small(format!(
                "last bounce {} in {}",
                done.bounce_id,
                done.folder.display()
            ));
        }
        _ => {}
    }
    let passes = status.passes_not_kept.load(Ordering::Relaxed);
    if passes > 0 {
        ui.small(format!("{passes} playback passes not kept (not renders)"));
    }
    retention_ui(ui, params.retention(), info.retained, &info, status);
    if let Some(err) = &info.last_error {
        ui.colored_label(Color32::RED, format!("capture error: {err}"));
    }
}

fn retention_ui(
    ui: &mut egui::Ui,
    rule: Retention,
    retained: Option<RetainedBounces>,
    info: &crate::shared::CaptureInfo,
    status: &CaptureStatus,
) {
    let Some(root) = &info.capture_root else {
        return;
    };
    ui.horizontal(|ui| {
        let counted = retained.map_or("counting...".to_string(), |r| {
            format!("{} bounces, {}", r.bounces, size(r.bytes))
        });
        ui.small(format!(
            "{counted} in {} (keeps the last {}, up to {})",
            root.display(),
            rule.keep_bounces,
            size(rule.max_bytes)
        ));
        let clean = ui
            .small_button("Clean up")
            .on_hover_text("remove every finished bounce but the newest");
        if clean.clicked() {
            status.cleanup_requested.store(true, Ordering::Relaxed);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn done() -> DoneCapture {
        DoneCapture {
            bounce_id: "b1".into(),
            folder: PathBuf::from("/captures/b1"),
            frames: 96_000,
            sample_rate: 48_000,
            finished_unix_ms: 0,
        }
    }

    #[test]
    fn capturing_only_while_a_capture_file_is_open() {
        let status = CaptureStatus::default();
        status.sample_rate.store(48_000, Ordering::Relaxed);
        // Playback watched in memory is not a capture, nor is an arm.
        status.pending.store(true, Ordering::Relaxed);
        assert_eq!(
            CaptureView::from_status(&status, None, (false, false, true)),
            CaptureView::Watching
        );
        assert_eq!(
            CaptureView::from_status(&status, None, (true, false, true)),
            CaptureView::Armed { here: true }
        );
        status.pending.store(false, Ordering::Relaxed);
        status.session_armed.store(true, Ordering::Relaxed);
        assert_eq!(
            CaptureView::from_status(&status, None, (false, false, true)),
            CaptureView::Armed { here: false }
        );
        status.session_armed.store(false, Ordering::Relaxed);
        assert_eq!(
            CaptureView::from_status(&status, Some(done()), (false, false, false)),
            CaptureView::Done(done())
        );
        assert_eq!(
            CaptureView::from_status(&status, None, (false, false, false)),
            CaptureView::Idle { auto: false }
        );
        status.recording.store(true, Ordering::Relaxed);
        status.frames_written.store(48_000 * 75, Ordering::Relaxed);
        status.dropped_frames.store(3, Ordering::Relaxed);
        let view = CaptureView::from_status(&status, Some(done()), (false, false, true));
        assert_eq!(
            view,
            CaptureView::Capturing {
                seconds: 75.0,
                dropped_frames: 3
            }
        );
        assert_eq!(view.label().0, "CAPTURING 1:15.0 - 3 frames DROPPED");
    }

    #[test]
    fn only_the_capturing_state_says_capturing() {
        let states = [
            CaptureView::Idle { auto: true },
            CaptureView::Idle { auto: false },
            CaptureView::Armed { here: true },
            CaptureView::Armed { here: false },
            CaptureView::Watching,
            CaptureView::Done(done()),
        ];
        for s in states {
            let text = s.label().0.to_lowercase();
            assert!(
                !text.contains("capturing") && !text.contains("recording"),
                "{s:?}: {text}"
            );
        }
        assert_eq!(clock(59.96), "1:00.0");
        assert_eq!(clock(3.24), "0:03.2");
    }
}
