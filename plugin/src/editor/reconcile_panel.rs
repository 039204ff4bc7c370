//! The reconciliation panel of the editor (mix role only): the state of the bounce's check
//! and, once done, the verdict (which bounce, when, dimmed as "previous bounce" once the
//! transport runs again), the findings one per cause, most serious first and above
//! everything else, "Write repaired set", the per-file table (the selected finding's files
//! highlighted), and the plots of the HTML report plus the stems' spectra (geometry in
//! [`crate::plots`]). No scroll area of its own: the editor scrolls as a whole.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;

use analyzer_core::fix::{FixOptions, ResidualMode};
use analyzer_core::report::{Report, Severity, SpectralSignature};
use egui::{Color32, Pos2, Rect, RichText, Sense, Stroke, Vec2};
use parking_lot::Mutex;

use super::spectrum_view::{AXIS_TEXT, readout};
use crate::params::{Role, StemCheckParams};
use crate::plots::{PlotData, PlotGeometry, XScale, timeline_xs};
use crate::reconcile::{RepairError, Repaired, write_repaired};
use crate::shared::{ReconcileState, Shared};
use crate::spectrum::geometry::{db_label, hz_readout};

/// Series colours of the reconciliation plots (the HTML report's: mix blue, residual red,
/// lightened for the dark background).
const MIX_COLOR: Color32 = Color32::from_rgb(110, 150, 240);
const RESIDUAL_COLOR: Color32 = Color32::from_rgb(235, 80, 70);
/// Colours of the stems in the spectra plot, in file order.
const STEM_COLORS: [Color32; 8] = [
    Color32::from_rgb(240, 170, 60),
    Color32::from_rgb(110, 200, 110),
    Color32::from_rgb(200, 120, 220),
    Color32::from_rgb(80, 200, 200),
    Color32::from_rgb(230, 110, 140),
    Color32::from_rgb(190, 190, 90),
    Color32::from_rgb(140, 160, 255),
    Color32::from_rgb(220, 140, 100),
];
const ERROR_COLOR: Color32 = Color32::from_rgb(230, 60, 60);
const WARNING_COLOR: Color32 = Color32::from_rgb(230, 190, 40);
const HIGHLIGHT: Color32 = Color32::from_rgb(60, 70, 40);
/// Height of one reconciliation plot, including its axis labels.
const PLOT_HEIGHT: f32 = 150.0;
/// Legend of the residual curve in the reconciliation plots.
const RESIDUAL_LEGEND: &str = "residual (mix - stem sum)";
/// Below this width the two plots stack instead of sitting side by side.
const TWO_COLUMNS_MIN_WIDTH: f32 = 620.0;

/// Where "Write repaired set" stands.
#[derive(Debug, Clone, Default)]
pub enum RepairState {
    #[default]
    Idle,
    /// Running on its thread for this bounce folder.
    Running { bounce: PathBuf },
    /// Written: where, and the change log.
    Written { bounce: PathBuf, repaired: Repaired },
    /// The fix declined to act; the reasons and what each would need.
    Refused { bounce: PathBuf, reasons: String },
    /// It failed (I/O, unreadable bounce).
    Failed { bounce: PathBuf, reason: String },
}

impl RepairState {
    /// The state a finished run leaves.
    pub fn finished(bounce: PathBuf, result: Result<Repaired, RepairError>) -> Self {
        match result {
            Ok(repaired) => Self::Written { bounce, repaired },
            Err(e) if e.is_refusal() => Self::Refused {
                bounce,
                reasons: e.to_string(),
            },
            Err(e) => Self::Failed {
                bounce,
                reason: e.to_string(),
            },
        }
    }

    /// The bounce folder it concerns (`None` when idle).
    pub fn bounce(&self) -> Option<&Path> {
        match self {
            Self::Idle => None,
            Self::Running { bounce }
            | Self::Written { bounce, .. }
            | Self::Refused { bounce, .. }
            | Self::Failed { bounce, .. } => Some(bounce),
        }
    }
}

/// The repair's background thread and its published state. Dropping it (the editor closes
/// with the plugin) joins a running repair: a host may unload the library right after.
#[derive(Debug, Default)]
struct RepairJob {
    state: Arc<Mutex<RepairState>>,
    thread: Option<JoinHandle<()>>,
}

impl RepairJob {
    fn start(&mut self, bounce: PathBuf, opts: FixOptions) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        *self.state.lock() = RepairState::Running {
            bounce: bounce.clone(),
        };
        let state = self.state.clone();
        let spawned = std::thread::Builder::new()
            .name("stemcheck-repair".into())
            .spawn(move || {
                let result = write_repaired(&bounce, opts);
                *state.lock() = RepairState::finished(bounce, result);
            });
        match spawned {
            Ok(t) => self.thread = Some(t),
            Err(e) => {
                let bounce = self.state.lock().bounce().map(Path::to_path_buf);
                *self.state.lock() = RepairState::Failed {
                    bounce: bounce.unwrap_or_default(),
                    reason: format!("cannot start a thread: {e}"),
                };
            }
        }
    }
}

impl Drop for RepairJob {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The panel's GUI-thread state: the selected finding, the repair job and its options.
#[derive(Debug, Default)]
pub struct ReconcilePanel {
    /// The selected finding: the bounce it belongs to and its index in the report.
    selected: Option<(String, usize)>,
    /// A stem picked in the spectra legend (its path).
    picked_stem: Option<String>,
    /// When each shown bounce was made (unix ms), read once per bounce from its manifest.
    bounce_time: Option<(String, Option<u64>)>,
    repair: RepairJob,
    match_gains: bool,
    residual_stem: bool,
}

impl ReconcilePanel {
    /// The mix instance's panel: where the check of the last bounce stands, and its report.
    pub fn ui(&mut self, ui: &mut egui::Ui, params: &StemCheckParams, shared: &Shared) {
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
                    ERROR_COLOR,
                    format!("Bounce {bounce_id}: check failed: {reason}"),
                );
            }
            ReconcileState::Done {
                bounce_id,
                folder,
                report,
            } => {
                let previous = verdict_is_previous(
                    shared.played_blocks.load(Ordering::Relaxed),
                    shared.played_blocks_at_verdict.load(Ordering::Relaxed),
                );
                self.report_ui(ui, &bounce_id, &folder, &report, previous);
            }
        }
    }

    fn made_unix_ms(&mut self, bounce_id: &str, folder: &Path) -> Option<u64> {
        match &self.bounce_time {
            Some((id, t)) if id == bounce_id => *t,
            _ => {
                let t = analyzer_core::capture::read_bounce(folder)
                    .ok()
                    .map(|b| b.created_unix_ms)
                    .filter(|&ms| ms > 0)
                    .or_else(|| {
                        let modified = std::fs::metadata(folder).and_then(|m| m.modified()).ok()?;
                        let since = modified.duration_since(std::time::UNIX_EPOCH).ok()?;
                        u64::try_from(since.as_millis()).ok()
                    });
                self.bounce_time = Some((bounce_id.to_owned(), t));
                t
            }
        }
    }

    fn report_ui(
        &mut self,
        ui: &mut egui::Ui,
        bounce_id: &str,
        folder: &Path,
        report: &Report,
        previous: bool,
    ) {
        let made = self.made_unix_ms(bounce_id, folder);
        let now = analyzer_core::capture::now_unix_ms();
        if previous {
            ui.label(
                RichText::new("Previous bounce: the transport ran since this check. Bounce again to check the current mix.")
                    .italics()
                    .color(AXIS_TEXT),
            );
            // The whole verdict steps back.
            ui.multiply_opacity(0.55);
        }
        let verdict = report.verdict.as_str();
        let color = match verdict {
            "pass" => Color32::from_rgb(60, 190, 90),
            "warn" => WARNING_COLOR,
            _ => ERROR_COLOR,
        };
        ui.horizontal_wrapped(|ui| {
            ui.label(
                RichText::new(verdict.to_uppercase())
                    .color(color)
                    .strong()
                    .size(if previous { 16.0 } else { 22.0 }),
            );
            ui.label(format!("health {} / 100", report.health_score));
            ui.label(bounce_caption(bounce_id, folder, made, now));
        });
        ui.small(format!(
            "profile {}, {} files",
            report.profile,
            report.files.len()
        ));
        if let Some(r) = &report.reconciliation {
            ui.small(format!(
                "stem sum against {}: lag {} samples, null as delivered {} dB (corrected as the findings say: {} dB)",
                r.mix.as_deref().map_or("the mix".into(), base_name),
                r.lag_samples,
                fmt_opt(r.null_depth_db, 1),
                fmt_opt(r.corrected_null_depth_db, 1),
            ));
        } else {
            ui.small("No mix was found: the stems were checked without reconciliation.");
        }
        ui.add_space(4.0);
        let selected = self
            .selected
            .as_ref()
            .filter(|(id, _)| id == bounce_id)
            .map(|s| s.1);
        let lines = finding_lines(report);
        for line in &lines {
            let i = line.index;
            if finding_ui(ui, line, selected == Some(i)).clicked() {
                self.selected = if selected == Some(i) {
                    None
                } else {
                    Some((bounce_id.to_owned(), i))
                };
            }
        }
        let selected = self
            .selected
            .as_ref()
            .filter(|(id, _)| id == bounce_id)
            .map(|s| s.1);
        if let Some(sig) =
            selected.and_then(|i| report.findings.get(i)?.spectral_signature.as_ref())
        {
            ui.add_space(4.0);
            ui.small(signature_summary(sig));
            plot_ui(
                ui,
                "Spectral signature: what no stem carries, over the mix (third octaves)",
                Some((&sig.band_hz[..], [&sig.mix_db[..], &sig.residual_db[..]])),
                XScale::Log,
                "Hz",
                "missing content",
            );
        }
        ui.add_space(4.0);
        self.repair_ui(ui, folder);
        ui.add_space(4.0);
        let mut highlighted = highlighted_files(report, selected);
        if let Some(p) = &self.picked_stem {
            highlighted.insert(p.clone());
        }
        files_table(ui, report, &highlighted);
        ui.add_space(6.0);
        if let Some(r) = &report.reconciliation {
            let timeline = r.timeline.as_ref().map(|t| {
                (
                    timeline_xs(t.step_s, t.mix_db.len()),
                    [&t.mix_db[..], &t.residual_db[..]],
                )
            });
            let spectrum = r
                .spectrum
                .as_ref()
                .map(|s| (&s.band_hz[..], [&s.mix_db[..], &s.residual_db[..]]));
            let plots = |ui: &mut egui::Ui, which: usize| {
                if which == 0 {
                    plot_ui(
                        ui,
                        "Mix and residual level over time",
                        timeline.as_ref().map(|(xs, v)| (&xs[..], *v)),
                        XScale::Linear,
                        "s",
                        RESIDUAL_LEGEND,
                    );
                } else {
                    plot_ui(
                        ui,
                        "Residual spectrum against the mix spectrum",
                        spectrum,
                        XScale::Log,
                        "Hz",
                        RESIDUAL_LEGEND,
                    );
                }
            };
            if ui.available_width() >= TWO_COLUMNS_MIN_WIDTH {
                ui.columns(2, |cols| {
                    plots(&mut cols[0], 0);
                    plots(&mut cols[1], 1);
                });
            } else {
                plots(ui, 0);
                plots(ui, 1);
            }
        }
        if let Some(picked) = stems_spectra_ui(ui, report, &highlighted) {
            self.picked_stem = if self.picked_stem.as_deref() == Some(picked.as_str()) {
                None
            } else {
                Some(picked)
            };
        }
    }

    /// "Write repaired set" and what it did for this bounce.
    fn repair_ui(&mut self, ui: &mut egui::Ui, folder: &Path) {
        let state = self.repair.state.lock().clone();
        let this_bounce = state.bounce() == Some(folder);
        ui.horizontal_wrapped(|ui| {
            let running = matches!(state, RepairState::Running { .. });
            let button = ui
                .add_enabled(!running, egui::Button::new("Write repaired set"))
                .on_hover_text(
                    "Writes a corrected copy of this bounce (shifts, polarity, channels, drift, \
                     lengths: only what the check is certain of) into a folder beside it, with \
                     its change log. The bounce itself is never touched.",
                );
            ui.checkbox(&mut self.match_gains, "match gains");
            ui.checkbox(&mut self.residual_stem, "add residual stem");
            if button.clicked() {
                let opts = FixOptions {
                    match_gains: self.match_gains,
                    residual: if self.residual_stem {
                        ResidualMode::Content
                    } else {
                        ResidualMode::Off
                    },
                };
                self.repair.start(folder.to_path_buf(), opts);
            }
            if running && this_bounce {
                ui.spinner();
                ui.label("writing...");
            }
        });
        if !this_bounce {
            return;
        }
        match state {
            RepairState::Written { repaired, .. } => {
                ui.colored_label(
                    Color32::from_rgb(60, 190, 90),
                    format!("Written to {}", repaired.folder.display()),
                );
                egui::CollapsingHeader::new("change log")
                    .id_salt("repair-log")
                    .default_open(true)
                    .show(ui, |ui| {
                        ui.add(
                            egui::Label::new(
                                RichText::new(&repaired.log_text).monospace().size(11.0),
                            )
                            .wrap(),
                        );
                    });
            }
            RepairState::Refused { reasons, .. } => {
                ui.colored_label(WARNING_COLOR, "Nothing written: the fix refused.");
                ui.add(egui::Label::new(RichText::new(reasons).size(11.0)).wrap());
            }
            RepairState::Failed { reason, .. } => {
                ui.colored_label(ERROR_COLOR, format!("Nothing written: {reason}"));
            }
            RepairState::Idle | RepairState::Running { .. } => {}
        }
    }
}

/// Whether the verdict on screen belongs to a previous bounce: the transport has played
/// blocks since the reconciler published it.
pub fn verdict_is_previous(played_blocks: u64, played_blocks_at_verdict: u64) -> bool {
    played_blocks != played_blocks_at_verdict
}

/// "bounce `<id>` in `<folder>`, made 14:03:12 UTC (5 min ago)".
pub fn bounce_caption(
    bounce_id: &str,
    folder: &Path,
    made_unix_ms: Option<u64>,
    now_unix_ms: u64,
) -> String {
    let folder_name = folder.file_name().map_or_else(
        || folder.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut s = if folder_name == bounce_id {
        format!("bounce {bounce_id}")
    } else {
        format!("bounce {bounce_id} ({folder_name})")
    };
    if let Some(ms) = made_unix_ms {
        let secs = ms / 1000;
        let (h, m, sec) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
        s.push_str(&format!(
            ", made {h:02}:{m:02}:{sec:02} UTC ({})",
            ago(now_unix_ms.saturating_sub(ms))
        ));
    }
    s
}

/// "just now", "42 s ago", "5 min ago", "3 h ago", "2 days ago".
pub fn ago(elapsed_ms: u64) -> String {
    let s = elapsed_ms / 1000;
    match s {
        0..10 => "just now".into(),
        10..120 => format!("{s} s ago"),
        120..7_200 => format!("{} min ago", s / 60),
        7_200..172_800 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// The files a finding concerns (paths as in the report), for highlighting; empty when no
/// finding is selected or the selection is out of range.
pub fn highlighted_files(report: &Report, selected: Option<usize>) -> HashSet<String> {
    selected
        .and_then(|i| report.findings.get(i))
        .map(|f| f.files.iter().cloned().collect())
        .unwrap_or_default()
}

fn base_name(p: &str) -> String {
    Path::new(p)
        .file_name()
        .map_or_else(|| p.to_owned(), |n| n.to_string_lossy().into_owned())
}

fn fmt_opt(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "-".to_string(), |v| db_label(v as f32, digits))
}

fn severity_color(s: Severity) -> Color32 {
    match s {
        Severity::Error => ERROR_COLOR,
        Severity::Warning => WARNING_COLOR,
        Severity::Info => Color32::GRAY,
    }
}

/// One finding as a clickable block: severity and code, message, files, fix.
fn finding_ui(ui: &mut egui::Ui, line: &FindingLine, selected: bool) -> egui::Response {
    let frame = egui::Frame::new()
        .inner_margin(egui::Margin::symmetric(6, 3))
        .corner_radius(3.0)
        .fill(if selected {
            HIGHLIGHT
        } else {
            Color32::from_gray(28)
        })
        .stroke(Stroke::new(
            1.0,
            severity_color(line.severity).gamma_multiply(0.6),
        ));
    let inner = frame.show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal_wrapped(|ui| {
            ui.label(
                RichText::new(format!(
                    "{} {}",
                    line.severity.as_str().to_uppercase(),
                    line.code
                ))
                .color(severity_color(line.severity))
                .strong(),
            );
            ui.label(&line.message);
        });
        if let Some(files) = &line.files {
            ui.small(files);
        }
        if let Some(fix) = &line.fix {
            ui.small(fix);
        }
    });
    ui.interact(
        inner.response.rect,
        ui.scope_id().with(("finding", &line.code, &line.message)),
        Sense::click(),
    )
    .on_hover_text(if line.has_signature {
        "Click to highlight its files and show its spectral signature"
    } else {
        "Click to highlight its files"
    })
}

/// The per-file table; rows of `highlighted` files are marked.
fn files_table(ui: &mut egui::Ui, report: &Report, highlighted: &HashSet<String>) {
    egui::Grid::new("stems")
        .striped(true)
        .min_col_width(40.0)
        .show(ui, |ui| {
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
                let name = base_name(&f.path);
                let marked = highlighted.contains(&f.path);
                let text = if marked {
                    RichText::new(format!("> {name}"))
                        .strong()
                        .color(Color32::WHITE)
                        .background_color(HIGHLIGHT)
                } else {
                    RichText::new(name)
                };
                ui.label(text).on_hover_text(&f.path);
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
}

/// The stems' long-term spectra (the report's `files[].spectrum`, third-octave bands, dBFS)
/// overlaid with the mix's, so a missing element shows as a gap; `highlighted` stems drawn
/// strong and the rest faint. Returns the path of a stem whose legend entry was clicked.
fn stems_spectra_ui(
    ui: &mut egui::Ui,
    report: &Report,
    highlighted: &HashSet<String>,
) -> Option<String> {
    let files: Vec<(&str, bool, &analyzer_core::report::FileSpectrum)> = report
        .files
        .iter()
        .filter_map(|f| {
            let is_mix = matches!(f.role, Some(analyzer_core::report::Role::Mix));
            f.spectrum.as_ref().map(|s| (f.path.as_str(), is_mix, s))
        })
        .collect();
    let xs = &files.first()?.2.band_hz;
    ui.small(
        "Stems' spectra (third-octave, whole bounce) against the mix: click a name to pick a stem",
    );
    let (response, painter) = ui.allocate_painter(
        Vec2::new(ui.available_width(), PLOT_HEIGHT + 30.0),
        Sense::hover(),
    );
    let outer = response.rect;
    painter.rect_filled(outer, 2.0, Color32::from_gray(18));
    let plot = Rect::from_min_max(
        outer.left_top() + Vec2::new(42.0, 8.0),
        outer.right_bottom() - Vec2::new(10.0, 16.0),
    );
    let series: Vec<&[Option<f64>]> = files.iter().map(|f| &f.2.level_dbfs[..]).collect();
    let g = PlotGeometry::new(plot, xs, XScale::Log, &series)?;
    let font = egui::FontId::proportional(10.0);
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
            AXIS_TEXT,
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
            AXIS_TEXT,
        );
    }
    let any_highlight = files.iter().any(|f| highlighted.contains(f.0));
    let mut stem_i = 0;
    let mut styled = Vec::new();
    for &(path, is_mix, s) in &files {
        let (color, width) = if is_mix {
            (Color32::from_gray(235), 2.0)
        } else {
            let c = STEM_COLORS[stem_i % STEM_COLORS.len()];
            stem_i += 1;
            if !any_highlight || highlighted.contains(path) {
                (c, if any_highlight { 2.5 } else { 1.3 })
            } else {
                (c.gamma_multiply(0.25), 1.0)
            }
        };
        styled.push((path, is_mix, s, color));
        // The mix is drawn last (on top); stems first.
        if is_mix {
            continue;
        }
        for run in g.polylines(&s.band_hz, &s.level_dbfs) {
            painter.line(run, Stroke::new(width, color));
        }
    }
    for &(_, is_mix, s, color) in &styled {
        if is_mix {
            for run in g.polylines(&s.band_hz, &s.level_dbfs) {
                painter.line(run, Stroke::new(2.0, color));
            }
        }
    }
    if let Some(pos) = response.hover_pos().filter(|p| plot.contains(*p)) {
        // The band under the cursor and each file's level in it.
        let nearest = xs
            .iter()
            .enumerate()
            .min_by(|a, b| {
                (g.x_px(*a.1) - pos.x)
                    .abs()
                    .total_cmp(&(g.x_px(*b.1) - pos.x).abs())
            })
            .map(|(i, _)| i);
        if let Some(i) = nearest {
            let mut text = format!("{} band", hz_readout(xs[i] as f32));
            for &(path, is_mix, s, _) in &styled {
                if is_mix || !any_highlight || highlighted.contains(path) {
                    let level = s.level_dbfs.get(i).copied().flatten();
                    text.push_str(&format!(
                        "\n{:>7} dB  {}",
                        fmt_opt(level, 1),
                        base_name(path)
                    ));
                }
            }
            readout(&painter, plot, Pos2::new(g.x_px(xs[i]), pos.y), &text);
        }
    }
    // Legend: clickable names in their colours.
    let mut picked = None;
    ui.horizontal_wrapped(|ui| {
        for &(path, is_mix, _, color) in &styled {
            let name = base_name(path);
            let text = RichText::new(if is_mix {
                format!("{name} (mix)")
            } else {
                name
            })
            .color(color)
            .size(11.0);
            if ui
                .selectable_label(highlighted.contains(path), text)
                .clicked()
                && !is_mix
            {
                picked = Some(path.to_owned());
            }
        }
    });
    picked
}

/// One finding as the panel shows it: the same grouped findings as the CLI's report (one per
/// cause), with the files a cause concerns listed under it.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingLine {
    /// Its index in the report's `findings`.
    pub index: usize,
    /// Severity (the block's colour).
    pub severity: Severity,
    /// The finding's code, as in the JSON.
    pub code: String,
    /// The finding's message.
    pub message: String,
    /// "files (2): a.wav, b.wav" for a finding that concerns files.
    pub files: Option<String>,
    /// "fix: ..." when the finding has a fix.
    pub fix: Option<String>,
    /// The finding carries a spectral signature (shown when it is selected).
    pub has_signature: bool,
}

/// The sentence above a signature plot: where most of the missing content lies and over which
/// span (the HTML report says the same under the same chart).
pub fn signature_summary(sig: &SpectralSignature) -> String {
    format!(
        "Most of what the stems lack lies between {} and {} ({:.1}-{:.1} s).",
        hz_readout(sig.low_hz as f32),
        hz_readout(sig.high_hz as f32),
        sig.start_s,
        sig.end_s
    )
}

/// The report's findings as panel blocks, most serious first (errors, then warnings, then
/// information; the report's order within a severity), one per cause.
pub fn finding_lines(report: &Report) -> Vec<FindingLine> {
    let mut lines: Vec<FindingLine> = report
        .findings
        .iter()
        .enumerate()
        .map(|(index, f)| FindingLine {
            index,
            severity: f.severity,
            code: f.code.to_string(),
            message: f.message.clone(),
            files: (!f.files.is_empty()).then(|| {
                let names: Vec<String> = f.files.iter().map(|p| base_name(p)).collect();
                format!("files ({}): {}", names.len(), names.join(", "))
            }),
            fix: (!f.fix.is_empty()).then(|| format!("fix: {}", f.fix)),
            has_signature: f.spectral_signature.is_some(),
        })
        .collect();
    lines.sort_by_key(|l| std::cmp::Reverse(l.severity));
    lines
}

/// One reconciliation plot: mix and residual in dB over `xs` (seconds or Hz), with a dB grid,
/// x tick labels and a legend, painted like the HTML report's chart.
fn plot_ui(
    ui: &mut egui::Ui,
    title: &str,
    data: Option<PlotData<'_>>,
    x_scale: XScale,
    x_unit: &str,
    residual_name: &str,
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
        (series[1], RESIDUAL_COLOR, residual_name),
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

    fn finding(code: FindingCode, severity: Severity, files: &[&str], fix: &str) -> Finding {
        Finding::new(
            code,
            severity,
            files.iter().map(|&f| f.to_owned()).collect(),
            "m",
            fix,
        )
    }

    #[test]
    fn a_missing_parts_signature_is_offered_and_summarised() {
        let mut missing = finding(
            FindingCode::MissingElement,
            Severity::Error,
            &[],
            "export it",
        );
        missing.spectral_signature = Some(SpectralSignature {
            band_hz: vec![50.0, 100.0, 200.0],
            residual_db: vec![Some(-3.0), Some(-6.0), None],
            mix_db: vec![Some(-2.0), Some(-3.0), Some(-9.0)],
            start_s: 0.0,
            end_s: 32.0,
            low_hz: 50.0,
            high_hz: 1250.0,
        });
        let report = Report::new(
            "mastering",
            vec![],
            None,
            vec![
                finding(
                    FindingCode::StartOffset,
                    Severity::Error,
                    &["a.wav"],
                    "shift",
                ),
                missing,
            ],
        );
        let lines = finding_lines(&report);
        let with: Vec<(&str, bool)> = lines
            .iter()
            .map(|l| (l.code.as_str(), l.has_signature))
            .collect();
        assert!(with.contains(&("missing_element", true)));
        assert!(with.contains(&("start_offset", false)));
        let sig = report
            .findings
            .iter()
            .find_map(|f| f.spectral_signature.as_ref())
            .expect("the signature is kept");
        assert_eq!(
            signature_summary(sig),
            "Most of what the stems lack lies between 50 Hz and 1.25 kHz (0.0-32.0 s)."
        );
    }

    #[test]
    fn a_cause_of_several_files_is_one_block_listing_them() {
        let report = Report::new(
            "mastering",
            vec![],
            None,
            vec![
                finding(
                    FindingCode::LowBitDepth,
                    Severity::Warning,
                    &["in/a.wav", "in/b.wav"],
                    "f",
                ),
                finding(FindingCode::Naming, Severity::Warning, &["in/c d.wav"], ""),
            ],
        );
        let lines = finding_lines(&report);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].files.as_deref(), Some("files (2): a.wav, b.wav"));
        assert_eq!(lines[0].fix.as_deref(), Some("fix: f"));
        assert_eq!(
            (lines[0].code.as_str(), lines[0].message.as_str()),
            ("low_bit_depth", "m")
        );
        assert_eq!(lines[1].files.as_deref(), Some("files (1): c d.wav"));
        assert_eq!(lines[1].fix, None);
    }

    /// Errors come first, then warnings, then information, whatever order the findings came
    /// in; each block keeps its index into the report so a selection highlights its own files.
    #[test]
    fn most_serious_first_and_a_selection_highlights_its_files() {
        let mut report = Report::new("mastering", vec![], None, vec![]);
        report.findings = vec![
            finding(FindingCode::SumMatchesMix, Severity::Info, &[], ""),
            finding(FindingCode::Naming, Severity::Warning, &["s/x y.wav"], ""),
            finding(
                FindingCode::PolarityInverted,
                Severity::Error,
                &["s/bass.wav", "s/gtr.wav"],
                "invert",
            ),
        ];
        let lines = finding_lines(&report);
        let order: Vec<(Severity, usize)> = lines.iter().map(|l| (l.severity, l.index)).collect();
        assert_eq!(
            order,
            [
                (Severity::Error, 2),
                (Severity::Warning, 1),
                (Severity::Info, 0)
            ]
        );
        let lit = highlighted_files(&report, Some(lines[0].index));
        assert_eq!(lit.len(), 2);
        assert!(lit.contains("s/bass.wav") && lit.contains("s/gtr.wav"));
        assert!(highlighted_files(&report, None).is_empty());
        assert!(highlighted_files(&report, Some(9)).is_empty());
    }

    /// The verdict says which bounce and when, and steps back once blocks were played after it.
    #[test]
    fn verdict_names_its_bounce_and_time_and_ages() {
        let made = 1_765_029_792_000; // 2025-12-06 14:03:12 UTC
        let caption = bounce_caption("b-42", Path::new("/c/b-42"), Some(made), made + 300_000);
        assert_eq!(caption, "bounce b-42, made 14:03:12 UTC (5 min ago)");
        let caption = bounce_caption("b-42", Path::new("/c/song"), None, made);
        assert_eq!(caption, "bounce b-42 (song)");
        assert_eq!(ago(3_000), "just now");
        assert_eq!(ago(42_000), "42 s ago");
        assert_eq!(ago(3 * 3_600_000), "3 h ago");
        assert_eq!(ago(3 * 86_400_000), "3 days ago");
        assert!(!verdict_is_previous(1_000, 1_000));
        assert!(verdict_is_previous(1_001, 1_000));
    }

    #[test]
    fn a_finished_repair_is_written_refused_or_failed() {
        let bounce = PathBuf::from("/c/b");
        let refused = RepairError::Fix(analyzer_core::fix::FixError::Refused(vec![]));
        assert!(matches!(
            RepairState::finished(bounce.clone(), Err(refused)),
            RepairState::Refused { .. }
        ));
        let failed = RepairError::NoParent {
            folder: bounce.clone(),
        };
        let state = RepairState::finished(bounce.clone(), Err(failed));
        assert!(matches!(state, RepairState::Failed { .. }));
        assert_eq!(state.bounce(), Some(bounce.as_path()));
        assert_eq!(RepairState::Idle.bounce(), None);
    }
}
