//! The reconciliation panel of the editor (mix role only): the state of the bounce's check
//! and, once done, the verdict, the two plots of the HTML report (geometry in
//! [`crate::plots`]), the per-file table and the findings.

use analyzer_core::report::{Report, Severity};
use egui::{Color32, Pos2, Rect, RichText, Sense, Stroke, Vec2};

use crate::params::{Role, StemCheckParams};
use crate::plots::{PlotData, PlotGeometry, XScale, timeline_xs};
use crate::shared::{ReconcileState, Shared};

/// Series colours of the reconciliation plots (the HTML report's: mix blue, residual red,
/// lightened for the dark background).
const MIX_COLOR: Color32 = Color32::from_rgb(110, 150, 240);
const RESIDUAL_COLOR: Color32 = Color32::from_rgb(235, 80, 70);
/// Height of one reconciliation plot, including its axis labels.
const PLOT_HEIGHT: f32 = 150.0;

/// The mix instance's panel: where the check of the last bounce stands, and its report.
pub fn ui(ui: &mut egui::Ui, params: &StemCheckParams, shared: &Shared) {
    if params.role.value() != Role::Mix {
        ui.label("Set the role to Mix on the mix bus to see the reconciliation here.");
        return;
    }
    let state = shared.reconcile.lock().clone();
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

fn fmt_opt(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "-".to_string(), |v| format!("{v:.digits$}"))
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
            "stem sum against {}: lag {} samples, null as delivered {} dB (corrected as the findings say: {} dB)",
            r.mix.as_deref().unwrap_or("the mix"),
            r.lag_samples,
            fmt_opt(r.null_depth_db, 1),
            fmt_opt(r.corrected_null_depth_db, 1),
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
            for line in finding_lines(report) {
                let color = match line.severity {
                    Severity::Error => Color32::from_rgb(230, 60, 60),
                    Severity::Warning => Color32::from_rgb(230, 190, 40),
                    Severity::Info => Color32::GRAY,
                };
                ui.colored_label(color, line.headline);
                if let Some(files) = line.files {
                    ui.small(files);
                }
                if let Some(fix) = line.fix {
                    ui.small(fix);
                }
            }
        });
}

/// One finding as the panel shows it: the same grouped findings as the CLI's report (one per
/// cause), with the files a cause concerns listed under it when there are several.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingLine {
    /// Severity (the line's colour).
    pub severity: Severity,
    /// `[error] code: message`.
    pub headline: String,
    /// "files: a.wav, b.wav" for a finding that concerns more than one file.
    pub files: Option<String>,
    /// "fix: ..." when the finding has a fix.
    pub fix: Option<String>,
}

/// The report's findings as panel lines, in the report's order (worst first).
pub fn finding_lines(report: &Report) -> Vec<FindingLine> {
    let base = |p: &str| {
        std::path::Path::new(p)
            .file_name()
            .map_or_else(|| p.to_owned(), |n| n.to_string_lossy().into_owned())
    };
    report
        .findings
        .iter()
        .map(|f| FindingLine {
            severity: f.severity,
            headline: format!("[{}] {}: {}", f.severity.as_str(), f.code, f.message),
            files: (f.files.len() > 1).then(|| {
                let names: Vec<String> = f.files.iter().map(|p| base(p)).collect();
                format!("files ({}): {}", names.len(), names.join(", "))
            }),
            fix: (!f.fix.is_empty()).then(|| format!("fix: {}", f.fix)),
        })
        .collect()
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
    for (db, label) in g.db_ticks() {
        let y = g.y_px(db);
        painter.line_segment(
            [Pos2::new(plot.left(), y), Pos2::new(plot.right(), y)],
            grid,
        );
        painter.text(
            Pos2::new(plot.left() - 4.0, y),
            egui::Align2::RIGHT_CENTER,
            label,
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

#[cfg(test)]
mod tests {
    use super::*;
    use analyzer_core::report::{Finding, FindingCode};

    #[test]
    fn a_cause_of_several_files_is_one_line_listing_them() {
        let finding = |code, files: &[&str], fix: &str| {
            Finding::new(
                code,
                Severity::Warning,
                files.iter().map(|&f| f.to_owned()).collect(),
                "m",
                fix,
            )
        };
        let report = Report::new(
            "mastering",
            vec![],
            None,
            vec![
                finding(FindingCode::LowBitDepth, &["in/a.wav", "in/b.wav"], "f"),
                finding(FindingCode::Naming, &["in/c d.wav"], ""),
            ],
        );
        let lines = finding_lines(&report);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].files.as_deref(), Some("files (2): a.wav, b.wav"));
        assert_eq!(lines[0].fix.as_deref(), Some("fix: f"));
        assert!(lines[0].headline.starts_with("[warning] low_bit_depth: m"));
        assert_eq!(
            (lines[1].files.as_ref(), lines[1].fix.as_ref()),
            (None, None)
        );
    }
}
