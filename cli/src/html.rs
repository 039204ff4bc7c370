//! `--report report.html`: one self-contained HTML file (inline CSS and SVG, no scripts, no
//! fonts, no network) that a client can open in any browser: verdict and health score, per-stem
//! level bars against the profile's targets, stem sum against the mix over time, residual
//! spectrum against the mix spectrum, alignment offsets, and every finding with its fix.

use std::fmt::Write;

use analyzer_core::Profile;
use analyzer_core::chart_axis::{DbRange, XAxis, XScale, db_label};
use analyzer_core::report::{Polarity, Report, Role, Severity, Verdict};

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn db(v: Option<f64>) -> String {
    v.map_or("−∞".to_owned(), |x| format!("{x:.1}"))
}

/// Chart geometry shared by the plots.
const W: f64 = 760.0;
const LEFT: f64 = 150.0;
const RIGHT: f64 = 20.0;

/// Maps a dB value in `[lo, hi]` to an x coordinate of a horizontal bar chart.
fn x_of(v: f64, lo: f64, hi: f64) -> f64 {
    LEFT + (v.clamp(lo, hi) - lo) / (hi - lo) * (W - LEFT - RIGHT)
}

/// Per-stem bars of sample peak, true peak and integrated loudness with the profile's targets.
fn level_bars(report: &Report, profile: &Profile) -> String {
    let (lo, hi) = (-60.0, 3.0);
    let row_h = 46.0;
    let h = 40.0 + row_h * report.files.len() as f64 + 20.0;
    let mut s = format!(
        r#"<svg class="chart" id="levels" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-label="Levels per file">"#
    );
    // Grid every 6 dB.
    let mut g = lo;
    while g <= hi {
        let x = x_of(g, lo, hi);
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="28" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="20" class="tick">{g}</text>"##,
            h - 20.0
        );
        g += 6.0;
    }
    for (label, v, color) in [
        ("stem peak target", profile.stem_peak_max_dbfs, "#d08000"),
        ("true-peak ceiling", profile.true_peak_max_dbtp, "#c00000"),
    ] {
        let x = x_of(v, lo, hi);
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" y1="28" x2="{x:.1}" y2="{:.1}" stroke="{color}" stroke-dasharray="4 3"><title>{label}: {v} dB</title></line>"#,
            h - 20.0
        );
    }
    for (i, f) in report.files.iter().enumerate() {
        let y = 34.0 + row_h * i as f64;
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" class="label" text-anchor="end">{}</text>"#,
            LEFT - 8.0,
            y + 20.0,
            esc(&f.path)
        );
        let bars = [
            ("sample peak", f.sample_peak_dbfs, "#4a7bd0"),
            ("true peak", f.true_peak_dbtp, "#1f3f8a"),
            ("integrated LUFS", f.integrated_lufs, "#3a9a5a"),
        ];
        for (k, (what, v, color)) in bars.iter().enumerate() {
            let Some(v) = v else { continue };
            let x = x_of(*v, lo, hi);
            let _ = write!(
                s,
                r#"<rect class="bar" x="{LEFT}" y="{:.1}" width="{:.1}" height="11" fill="{color}"><title>{}: {what} {v:.1}</title></rect>"#,
                y + 13.0 * k as f64,
                (x - LEFT).max(1.0),
                esc(&f.path)
            );
        }
    }
    let _ = write!(
        s,
        r##"<text x="{LEFT}" y="{:.1}" class="tick">dBFS / dBTP / LUFS — bars: sample peak, true peak, integrated loudness; dashed: profile targets</text></svg>"##,
        h - 4.0
    );
    s
}

/// A line chart of several series over a shared x axis, in dB.
fn line_chart(
    id: &str,
    title: &str,
    xs: &[f64],
    series: &[(&str, &str, &[Option<f64>])],
    x_label: &str,
    x_scale: XScale,
) -> String {
    let h = 260.0;
    let (top, bottom) = (20.0, h - 40.0);
    let axes = XAxis::new(xs, x_scale).zip(DbRange::of(
        series
            .iter()
            .flat_map(|(_, _, v)| v.iter().flatten().copied()),
    ));
    let Some((x_axis, db_range)) = axes else {
        return format!(
            r#"<p class="empty" id="{id}">{} — no data.</p>"#,
            esc(title)
        );
    };
    let px = |x: f64| LEFT + x_axis.fraction(x) * (W - LEFT - RIGHT);
    let py = |v: f64| top + db_range.fraction_below_top(v) * (bottom - top);
    let mut s = format!(
        r#"<svg class="chart" id="{id}" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-label="{}">"#,
        esc(title)
    );
    // Ranges, grid lines and ticks: analyzer-core's chart axis policy (the plugin's panel draws
    // the same charts with it). Grid lines bottom up.
    for g in db_range.ticks().into_iter().rev() {
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e4e4e4"/><text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            py(g) + 4.0,
            db_label(g),
            y = py(g)
        );
    }
    for (t, label) in x_axis.ticks() {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">{label}</text>"#,
            px(t),
            bottom + 16.0
        );
    }
    for (name, color, v) in series {
        let mut d = String::new();
        let mut pen_down = false;
        for (x, y) in xs.iter().zip(v.iter()) {
            match y {
                Some(y) => {
                    let _ = write!(
                        d,
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        px(*x),
                        py(*y)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let _ = write!(
            s,
            r#"<path class="series" d="{d}" fill="none" stroke="{color}" stroke-width="2"><title>{}</title></path>"#,
            esc(name)
        );
    }
    let mut lx = LEFT;
    for (name, color, _) in series {
        let _ = write!(
            s,
            r#"<rect x="{lx:.1}" y="{:.1}" width="12" height="4" fill="{color}"/><text x="{:.1}" y="{:.1}" class="tick">{}</text>"#,
            h - 12.0,
            lx + 16.0,
            h - 8.0,
            esc(name)
        );
        lx += 20.0 + 7.0 * name.len() as f64;
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{}</text></svg>"#,
        W - RIGHT,
        h - 8.0,
        esc(x_label)
    );
    s
}

/// Signed bars of each stem's offset against the mix.
fn offset_bars(report: &Report) -> String {
    let stems: Vec<_> = report
        .files
        .iter()
        .filter(|f| !matches!(f.role, Some(Role::Mix | Role::Reference)))
        .collect();
    let max = stems
        .iter()
        .filter_map(|f| f.offset_samples)
        .map(i64::unsigned_abs)
        .max()
        .unwrap_or(0)
        .max(10) as f64;
    let row_h = 22.0;
    let h = 30.0 + row_h * stems.len() as f64 + 24.0;
    let mid = LEFT + (W - LEFT - RIGHT) / 2.0;
    let half = (W - LEFT - RIGHT) / 2.0;
    let mut s = format!(
        r#"<svg class="chart" id="offsets" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-label="Offsets">"#
    );
    let _ = write!(
        s,
        r##"<line x1="{mid:.1}" y1="20" x2="{mid:.1}" y2="{:.1}" stroke="#888"/><text x="{mid:.1}" y="14" class="tick" text-anchor="middle">0</text><text x="{:.1}" y="14" class="tick" text-anchor="end">+{max} (late)</text><text x="{LEFT}" y="14" class="tick">−{max} (early)</text>"##,
        h - 24.0,
        W - RIGHT
    );
    for (i, f) in stems.iter().enumerate() {
        let y = 24.0 + row_h * i as f64;
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" class="label" text-anchor="end">{}</text>"#,
            LEFT - 8.0,
            y + 12.0,
            esc(&f.path)
        );
        match f.offset_samples {
            Some(o) => {
                let w = (o as f64 / max * half).abs().max(2.0);
                let x = if o < 0 { mid - w } else { mid };
                let color = if o == 0 { "#3a9a5a" } else { "#c03030" };
                let _ = write!(
                    s,
                    r#"<rect class="bar" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="14" fill="{color}"><title>{}: {o} samples</title></rect><text x="{:.1}" y="{:.1}" class="tick" text-anchor="{}">{o}</text>"#,
                    esc(&f.path),
                    if o < 0 { x - 4.0 } else { x + w + 4.0 },
                    y + 11.0,
                    if o < 0 { "end" } else { "start" }
                );
            }
            None => {
                let _ = write!(
                    s,
                    r#"<text x="{:.1}" y="{:.1}" class="tick">not aligned</text>"#,
                    mid + 6.0,
                    y + 11.0
                );
            }
        }
    }
    let _ = write!(
        s,
        r#"<text x="{LEFT}" y="{:.1}" class="tick">offset against the mix, samples</text></svg>"#,
        h - 6.0
    );
    s
}

/// Renders the whole report as one HTML document, with the targets of the profile it was
/// checked against (a shipped one or a `--profile-file` spec).
pub fn render(report: &Report, profile: &Profile) -> String {
    let (verdict_class, verdict) = match report.verdict {
        Verdict::Pass => ("pass", "PASS"),
        Verdict::Warn => ("warn", "WARN"),
        Verdict::Fail => ("fail", "FAIL"),
    };
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>StemCheck report — {verdict}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 820px; color: #222; }}
h1 {{ font-size: 22px; margin-bottom: 4px; }} h2 {{ font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }}
.verdict {{ display: inline-block; padding: 6px 14px; border-radius: 6px; color: #fff; font-weight: 700; font-size: 20px; }}
.pass {{ background: #2e8b57; }} .warn {{ background: #c88a00; }} .fail {{ background: #c03030; }}
.score {{ font-size: 20px; margin-left: 12px; }}
table {{ border-collapse: collapse; width: 100%; font-size: 13px; }} td, th {{ border-bottom: 1px solid #eee; padding: 4px 6px; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }}
.finding {{ margin: 10px 0; padding: 8px 10px; border-left: 4px solid #999; background: #fafafa; }}
.finding.error {{ border-color: #c03030; }} .finding.warning {{ border-color: #c88a00; }} .finding.info {{ border-color: #4a7bd0; }}
.code {{ font-family: ui-monospace, monospace; font-weight: 700; }} .fix {{ color: #333; margin-top: 4px; }}
.chart {{ max-width: 100%; height: auto; }} .tick {{ font-size: 11px; fill: #555; }} .label {{ font-size: 12px; fill: #222; }}
.muted {{ color: #666; font-size: 13px; }}
</style></head><body>
<h1>StemCheck report</h1>
<p><span class="verdict {verdict_class}" id="verdict">{verdict}</span><span class="score" id="health">health {}/100</span></p>
<p class="muted">Profile <b>{}</b> ({}) · {} file(s) · {} {}</p>
"#,
        report.health_score,
        esc(&profile.name),
        esc(&profile.description),
        report.files.len(),
        esc(&report.tool.name),
        esc(&report.tool.version)
    );

    let _ = write!(
        h,
        "<h2>Files</h2><table><tr><th>file</th><th>role</th><th>format</th><th>length</th><th>peak dBFS</th><th>TP dBTP</th><th>LUFS</th><th>offset</th><th>gain dB</th><th>polarity</th></tr>"
    );
    for f in &report.files {
        let format = match (f.sample_rate, f.bits_per_sample, f.channels) {
            (Some(sr), Some(b), Some(c)) => format!("{sr} Hz / {b}-bit / {c} ch"),
            _ => "unreadable".into(),
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&f.path),
            match f.role {
                Some(Role::Mix) => "mix",
                Some(Role::Reference) => "reference",
                _ => "stem",
            },
            format,
            f.duration_s.map_or("-".into(), |d| format!("{d:.2} s")),
            db(f.sample_peak_dbfs),
            db(f.true_peak_dbtp),
            db(f.integrated_lufs),
            f.offset_samples.map_or("-".into(), |o| o.to_string()),
            f.gain_db.map_or("-".into(), |g| format!("{g:+.2}")),
            match f.polarity {
                Some(Polarity::Inverted) => "inverted",
                Some(Polarity::Normal) => "normal",
                None => "-",
            }
        );
    }
    h.push_str("</table>");

    let _ = write!(
        h,
        "<h2>Levels against the profile</h2>{}",
        level_bars(report, profile)
    );

    h.push_str("<h2>Stem sum against the mix</h2>");
    match &report.reconciliation {
        Some(r) => {
            let _ = write!(
                h,
                r#"<p class="muted" id="null">Against {}: stem-sum lag {} samples, null as delivered {} (corrected as the findings say: {}), residual {} LUFS.</p>"#,
                esc(r.mix.as_deref().unwrap_or("the mix")),
                r.lag_samples,
                crate::render::null_db(r.null_depth_db),
                crate::render::null_db(r.corrected_null_depth_db),
                db(r.residual_lufs)
            );
            if let Some(t) = &r.timeline {
                let xs: Vec<f64> = (0..t.mix_db.len()).map(|i| i as f64 * t.step_s).collect();
                h.push_str(&line_chart(
                    "timeline",
                    "Mix and residual level over time",
                    &xs,
                    &[("mix", "#1f3f8a", &t.mix_db), ("residual (mix − stem sum)", "#c03030", &t.residual_db)],
                    "time, s",
                    XScale::Linear,
                ));
            }
            if let Some(sp) = &r.spectrum {
                h.push_str(&line_chart(
                    "spectrum",
                    "Residual spectrum against the mix spectrum",
                    &sp.band_hz,
                    &[("mix", "#1f3f8a", &sp.mix_db), ("residual", "#c03030", &sp.residual_db)],
                    "frequency, Hz",
                    XScale::Log,
                ));
            }
            h.push_str("<h2>Alignment</h2>");
            h.push_str(&offset_bars(report));
        }
        None => h.push_str(r#"<p class="muted" id="null">No mix was found: the stems were checked without reconciliation.</p>"#),
    }

    let _ = write!(h, "<h2>Findings ({})</h2>", report.findings.len());
    if report.findings.is_empty() {
        h.push_str("<p>No findings.</p>");
    }
    for f in &report.findings {
        let sev = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        let measured = serde_json::to_string(&f.measured).unwrap_or_default();
        let _ = write!(
            h,
            r#"<div class="finding {sev}"><span class="code">{}</span> <b>{sev}</b> — {}<div class="fix">Fix: {}</div><div class="muted">{}</div></div>"#,
            esc(f.code.as_str()),
            esc(&f.message),
            esc(&f.fix),
            esc(&measured)
        );
    }
    h.push_str("<p class=\"muted\">Health score: 100, minus 25 per error and 8 per warning, never below 0.</p></body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use analyzer_core::report::{FileReport, Finding, FindingCode, LevelTimeline, Reconciliation};

    #[test]
    fn report_is_self_contained_and_escaped() {
        let files = vec![
            FileReport {
                path: "<Drums>.wav".into(),
                role: Some(Role::Stem),
                sample_peak_dbfs: Some(-7.0),
                offset_samples: Some(37),
                ..Default::default()
            },
            FileReport {
                path: "Mix.wav".into(),
                role: Some(Role::Mix),
                sample_peak_dbfs: Some(-1.0),
                ..Default::default()
            },
        ];
        let rec = Reconciliation {
            timeline: Some(LevelTimeline {
                step_s: 1.0,
                mix_db: vec![Some(-20.0), Some(-18.0), None],
                residual_db: vec![Some(-80.0), Some(-70.0), None],
            }),
            ..Default::default()
        };
        let findings = vec![Finding::new(
            FindingCode::StartOffset,
            Severity::Error,
            vec!["<Drums>.wav".into()],
            "late & wrong",
            "fix it",
        )];
        let html = render(
            &Report::new("mastering", files, Some(rec), findings),
            &analyzer_core::profile::MASTERING,
        );
        assert!(html.contains("&lt;Drums&gt;.wav"));
        assert!(!html.contains("<Drums>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(html.contains(r#"id="timeline""#));
        assert!(html.contains(r#"id="offsets""#));
        assert!(html.contains("FAIL"));
    }
}
