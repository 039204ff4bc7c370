//! `--report report.html`: one self-contained HTML file (inline CSS and SVG, no scripts, no
//! fonts, no network) that a client can open in any browser or print to a PDF.
//!
//! Findings first: the verdict, the health score and every cause with its fix sit at the top,
//! each naming and linking the rows of the files it concerns; each file row links back to its
//! findings. Below them: the file table (with short-term loudness sparklines), one level bar per
//! file against the profile's targets, every file's third-octave spectrum on one shared scale
//! beside the mix's, the stem sum against the mix over time and in frequency, and the
//! alignment. The layout is fluid (CSS grid, no fixed column), names wrap rather than clip,
//! colours follow `prefers-color-scheme`, and a print style keeps the page whole on paper.
//!
//! Every number shown that comes from the JSON report carries `data-key` (the JSON field) and
//! `data-file` / `data-finding` (the index), so a test can check the page against the JSON.

use std::collections::HashMap;
use std::fmt::Write;

use analyzer_core::Profile;
use analyzer_core::chart_axis::{DbRange, XAxis, XScale, db_label};
use analyzer_core::report::{FileReport, Finding, Polarity, Report, Role, Severity, Verdict};

/// Bottom of the level bars' scale, dBFS.
const LEVEL_LO_DB: f64 = -60.0;
/// Top of the level bars' scale, dBFS (room for a float over).
const LEVEL_HI_DB: f64 = 3.0;
/// Loudness range of the sparklines, LUFS: one scale for every file so they compare.
const SPARK_LO_LUFS: f64 = -60.0;
const SPARK_HI_LUFS: f64 = 0.0;
/// Null depth at or below which the stems null bit-exactly (as the terminal report says).
const BIT_EXACT_DB: f64 = analyzer_core::reconcile::NULL_FLOOR_DB;

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

/// `x` with `decimals` decimals and no signed zero ("-0.0" reads as a finding that is not).
fn fixed(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_owned(),
        _ => s.replace('-', "−"),
    }
}

/// Like [`fixed`] with an explicit `+` on positive values (gains).
fn signed(x: f64, decimals: usize) -> String {
    let s = fixed(x, decimals);
    if s.starts_with('−') || s.chars().all(|c| c == '0' || c == '.') {
        s
    } else {
        format!("+{s}")
    }
}

/// A number from file `i`'s JSON entry, marked with its field name. `None` shows as `none`
/// (minus infinity for a level, "not measured" otherwise).
fn file_num(i: usize, key: &str, v: Option<f64>, decimals: usize, none: &str) -> String {
    let text = v.map_or_else(|| none.to_owned(), |x| fixed(x, decimals));
    format!(r#"<span class="n" data-file="{i}" data-key="{key}">{text}</span>"#)
}

fn null_db(x: Option<f64>) -> String {
    match x {
        Some(v) if v <= BIT_EXACT_DB => "bit-exact".to_owned(),
        Some(v) => format!("{} dB", fixed(v, 1)),
        None => "–".to_owned(),
    }
}

fn severity_class(s: Severity) -> &'static str {
    s.as_str()
}

fn role_name(f: &FileReport) -> &'static str {
    match f.role {
        Some(Role::Mix) => "mix",
        Some(Role::Reference) => "reference",
        _ => "stem",
    }
}

/// The unit a `measured` key names by its suffix, and the key without it, for the table.
fn unit_of(key: &str) -> (&str, &'static str) {
    const UNITS: [(&str, &str); 14] = [
        ("_lu_per_s", "LU/s"),
        ("_dbfs", "dBFS"),
        ("_dbtp", "dBTP"),
        ("_lufs", "LUFS"),
        ("_lu", "LU"),
        ("_db", "dB"),
        ("_hz", "Hz"),
        ("_samples", "samples"),
        ("_frames", "frames"),
        ("_ms", "ms"),
        ("_s", "s"),
        ("_ppm", "ppm"),
        ("_percent", "%"),
        ("_bits", "bits"),
    ];
    for (suffix, unit) in UNITS {
        if let Some(stem) = key.strip_suffix(suffix) {
            return (stem, unit);
        }
    }
    (key, "")
}

/// One measured value as text: integers as they are, other numbers to two decimals (one
/// above 100), lists joined (the first 24 items).
fn measured_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "–".into(),
        serde_json::Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => fixed(i as f64, 0),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(x)) if x.abs() >= 100.0 => fixed(x, 1),
            (_, _, Some(x)) => fixed(x, 2),
            _ => n.to_string(),
        },
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => {
            let mut items: Vec<String> = a.iter().take(24).map(measured_text).collect();
            if a.len() > 24 {
                items.push(format!("… ({} in all)", a.len()));
            }
            items.join(", ")
        }
        serde_json::Value::Object(_) => v.to_string(),
    }
}

/// A finding's numbers as a small table: name, value, unit. Scalars carry `data-key`.
fn measured_table(k: usize, f: &Finding) -> String {
    if f.measured.is_empty() {
        return String::new();
    }
    let mut s = String::from(r#"<table class="measured"><tbody>"#);
    for (key, v) in &f.measured {
        let (name, unit) = unit_of(key);
        let mark = if v.is_number() || v.is_null() {
            format!(r#" class="n" data-finding="{k}" data-key="{}""#, esc(key))
        } else {
            String::new()
        };
        let _ = write!(
            s,
            r#"<tr><th scope="row">{}</th><td><span{mark}>{}</span> <span class="unit">{unit}</span></td></tr>"#,
            esc(&name.replace('_', " ")),
            esc(&measured_text(v)),
        );
    }
    s.push_str("</tbody></table>");
    s
}

/// Where `v` (dB) sits on the level bars' scale, percent from the left.
fn level_pct(v: f64) -> f64 {
    (v.clamp(LEVEL_LO_DB, LEVEL_HI_DB) - LEVEL_LO_DB) / (LEVEL_HI_DB - LEVEL_LO_DB) * 100.0
}

/// One bar per file: the sample peak as the bar, the true peak and the integrated loudness as
/// marks on it, and the profile's stem-peak target and true-peak ceiling as lines across it.
/// HTML rather than SVG so that names wrap instead of being clipped.
fn level_bars(report: &Report, profile: &Profile) -> String {
    let targets = format!(
        r#"<i class="lv-target peak" style="left:{:.2}%" title="stem peak target {} dBFS"></i><i class="lv-target tp" style="left:{:.2}%" title="true-peak ceiling {} dBTP"></i>"#,
        level_pct(profile.stem_peak_max_dbfs),
        fixed(profile.stem_peak_max_dbfs, 1),
        level_pct(profile.true_peak_max_dbtp),
        fixed(profile.true_peak_max_dbtp, 1),
    );
    let mut s = String::from(r#"<div class="levels" id="levels">"#);
    // The scale, aligned with the tracks.
    s.push_str(r#"<div class="lv-row lv-scale"><div></div><div class="lv-axis">"#);
    let mut g = LEVEL_LO_DB;
    while g <= LEVEL_HI_DB {
        let _ = write!(
            s,
            r#"<span style="left:{:.2}%">{}</span>"#,
            level_pct(g),
            fixed(g, 0)
        );
        g += 12.0;
    }
    s.push_str("</div><div></div></div>");
    for (i, f) in report.files.iter().enumerate() {
        let _ = write!(
            s,
            r##"<div class="lv-row"><a class="name" href="#file-{i}">{}</a><div class="lv-track">{targets}"##,
            esc(&f.path)
        );
        if let Some(sp) = f.sample_peak_dbfs {
            let _ = write!(
                s,
                r#"<i class="lv-sp" style="width:{:.2}%" title="sample peak {} dBFS"></i>"#,
                level_pct(sp),
                fixed(sp, 1)
            );
        }
        if let Some(tp) = f.true_peak_dbtp {
            let _ = write!(
                s,
                r#"<i class="lv-tp" style="left:{:.2}%" title="true peak {} dBTP"></i>"#,
                level_pct(tp),
                fixed(tp, 1)
            );
        }
        if let Some(l) = f.integrated_lufs {
            let _ = write!(
                s,
                r#"<i class="lv-lufs" style="left:{:.2}%" title="integrated loudness {} LUFS"></i>"#,
                level_pct(l),
                fixed(l, 1)
            );
        }
        let _ = write!(
            s,
            r#"</div><div class="lv-nums">peak {} · TP {} · {} LUFS</div></div>"#,
            file_num(i, "sample_peak_dbfs", f.sample_peak_dbfs, 1, "−∞"),
            file_num(i, "true_peak_dbtp", f.true_peak_dbtp, 1, "−∞"),
            file_num(i, "integrated_lufs", f.integrated_lufs, 1, "−∞"),
        );
    }
    let _ = write!(
        s,
        r#"<p class="legend"><i class="key lv-sp"></i> sample peak, dBFS <i class="key lv-tp"></i> true peak, dBTP <i class="key lv-lufs"></i> integrated loudness, LUFS <i class="key lv-target peak"></i> stem peak target ({} dBFS) <i class="key lv-target tp"></i> true-peak ceiling ({} dBTP)</p></div>"#,
        fixed(profile.stem_peak_max_dbfs, 1),
        fixed(profile.true_peak_max_dbtp, 1)
    );
    s
}

/// A sparkline of a file's short-term loudness over time, on one LUFS scale for every file.
fn sparkline(f: &FileReport) -> String {
    let Some(t) = f.short_term_loudness.as_ref().filter(|t| t.lufs.len() >= 2) else {
        return String::new();
    };
    let (w, h) = (120.0, 26.0);
    let n = t.lufs.len();
    let mut d = String::new();
    let mut pen_down = false;
    for (k, v) in t.lufs.iter().enumerate() {
        match v {
            Some(v) => {
                let x = k as f64 / (n - 1) as f64 * w;
                let frac = (v.clamp(SPARK_LO_LUFS, SPARK_HI_LUFS) - SPARK_LO_LUFS)
                    / (SPARK_HI_LUFS - SPARK_LO_LUFS);
                let y = h - 1.0 - frac * (h - 2.0);
                let _ = write!(d, "{}{x:.1},{y:.1} ", if pen_down { "L" } else { "M" });
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    let max = t
        .lufs
        .iter()
        .flatten()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let title = if max.is_finite() {
        format!(
            "short-term loudness over {} s ({}…{} LUFS scale), loudest {} LUFS",
            fixed(n as f64 * t.step_s, 0),
            fixed(SPARK_LO_LUFS, 0),
            fixed(SPARK_HI_LUFS, 0),
            fixed(max, 1)
        )
    } else {
        "silent".to_owned()
    };
    format!(
        r#"<svg class="spark" viewBox="0 0 {w} {h}" preserveAspectRatio="none" role="img" aria-label="{title}"><title>{title}</title><path class="series" d="{d}"/></svg>"#
    )
}

/// The file table: format, levels, loudness range, alignment, a loudness sparkline and the
/// findings that concern each file (linked).
fn file_table(report: &Report, findings_of: &[Vec<usize>]) -> String {
    let mut s = String::from(
        r#"<div class="scroll"><table class="files" id="files"><thead><tr><th>file</th><th>role</th><th>format</th><th>length</th><th>peak<br><span class="unit">dBFS</span></th><th>TP<br><span class="unit">dBTP</span></th><th>loudness<br><span class="unit">LUFS</span></th><th>LRA<br><span class="unit">LU</span></th><th>short-term loudness<br><span class="unit">over time</span></th><th>offset<br><span class="unit">samples</span></th><th>gain<br><span class="unit">dB</span></th><th>polarity</th><th>findings</th></tr></thead><tbody>"#,
    );
    for (i, f) in report.files.iter().enumerate() {
        let format = match (f.sample_rate, f.bits_per_sample, f.channels) {
            (Some(sr), Some(b), Some(c)) => format!(
                r#"<span class="n" data-file="{i}" data-key="sample_rate">{sr}</span> Hz · {b}-bit · {c} ch"#
            ),
            _ => format!(
                r#"unreadable{}"#,
                f.error
                    .as_deref()
                    .map(|e| format!(": {}", esc(e)))
                    .unwrap_or_default()
            ),
        };
        let gain = f.gain_db.map_or_else(
            || "–".to_owned(),
            |g| {
                format!(
                    r#"<span class="n" data-file="{i}" data-key="gain_db">{}</span>"#,
                    signed(g, 2)
                )
            },
        );
        let chips: String = findings_of[i]
            .iter()
            .map(|&k| {
                let f = &report.findings[k];
                format!(
                    r##"<a class="chip {}" href="#finding-{k}" title="{}">{}</a> "##,
                    severity_class(f.severity),
                    esc(&f.message),
                    esc(f.code.as_str())
                )
            })
            .collect();
        let _ = write!(
            s,
            r#"<tr id="file-{i}" class="{}"><th scope="row" class="name">{}</th><td>{}</td><td>{format}</td><td class="num">{} s</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td><td class="num">{}</td><td class="num">{gain}</td><td>{}</td><td class="chips">{chips}</td></tr>"#,
            role_name(f),
            esc(&f.path),
            role_name(f),
            file_num(i, "duration_s", f.duration_s, 2, "–"),
            file_num(i, "sample_peak_dbfs", f.sample_peak_dbfs, 1, "−∞"),
            file_num(i, "true_peak_dbtp", f.true_peak_dbtp, 1, "−∞"),
            file_num(i, "integrated_lufs", f.integrated_lufs, 1, "−∞"),
            file_num(i, "loudness_range_lu", f.loudness_range_lu, 1, "–"),
            sparkline(f),
            file_num(
                i,
                "offset_samples",
                f.offset_samples.map(|o| o as f64),
                0,
                "–"
            ),
            match f.polarity {
                Some(Polarity::Inverted) => "inverted",
                Some(Polarity::Normal) => "normal",
                None => "–",
            }
        );
    }
    s.push_str("</tbody></table></div>");
    s
}

/// One block per cause: what, the fix, the files it concerns (linked to their rows) and the
/// numbers behind it.
fn finding_block(k: usize, f: &Finding, row_of: &HashMap<&str, usize>) -> String {
    let sev = severity_class(f.severity);
    let files: Vec<String> = f
        .files
        .iter()
        .map(|p| match row_of.get(p.as_str()) {
            Some(i) => format!(r##"<a href="#file-{i}">{}</a>"##, esc(p)),
            None => esc(p),
        })
        .collect();
    let files = if files.is_empty() {
        String::from(r#"<p class="files muted">Concerns the delivery as a whole.</p>"#)
    } else {
        format!(
            r#"<p class="files"><span class="muted">{}:</span> {}</p>"#,
            if files.len() == 1 { "File" } else { "Files" },
            files.join(", ")
        )
    };
    format!(
        r#"<section class="finding {sev}" id="finding-{k}"><h3><span class="sev">{sev}</span> <code>{}</code></h3><p class="msg">{}</p><p class="fix"><b>Fix:</b> {}</p>{files}{}{}</section>"#,
        esc(f.code.as_str()),
        esc(&f.message),
        esc(&f.fix),
        measured_table(k, f),
        signature_chart(k, f)
    )
}

/// A missing part's or effect return's spectral signature (`spectral_signature`): what the
/// stems lack per third-octave band over the mix's spectrum, so a reader sees where in
/// frequency it lives (a bass line below 300 Hz, a reverb's mid-range bloom), with the band
/// range that holds most of it in words. Empty for other findings.
fn signature_chart(k: usize, f: &Finding) -> String {
    let Some(sig) = &f.spectral_signature else {
        return String::new();
    };
    let mark = |key: &str| -> String {
        if f.measured.contains_key(key) {
            format!(r#" class="n" data-finding="{k}" data-key="{key}""#)
        } else {
            String::new()
        }
    };
    let mut s = format!(
        r#"<div class="signature" id="signature-{k}"><p class="sig">Most of what the stems lack lies between <span{}>{}</span> Hz and <span{}>{}</span> Hz.</p>"#,
        mark("spectrum_low_hz"),
        fixed(sig.low_hz, 0),
        mark("spectrum_high_hz"),
        fixed(sig.high_hz, 0),
    );
    s.push_str(&line_chart(
        &format!("signature-chart-{k}"),
        "Spectral signature: what no stem carries, over the mix",
        &sig.band_hz,
        &[
            ("s-mix", "mix", &sig.mix_db),
            ("s-res", "missing content", &sig.residual_db),
        ],
        &format!(
            "frequency, Hz — third octaves, dB relative to the mix's power over {}–{} s",
            fixed(sig.start_s, 1),
            fixed(sig.end_s, 1)
        ),
        XScale::Log,
    ));
    s.push_str("</div>");
    s
}

/// A line chart of several series (CSS class, name, values) over a shared x axis, in dB.
fn line_chart(
    id: &str,
    title: &str,
    xs: &[f64],
    series: &[(&str, &str, &[Option<f64>])],
    x_label: &str,
    x_scale: XScale,
) -> String {
    let (w, h, left, right) = (760.0, 260.0, 48.0, 12.0);
    let (top, bottom) = (12.0, h - 40.0);
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
    let px = |x: f64| left + x_axis.fraction(x) * (w - left - right);
    let py = |v: f64| top + db_range.fraction_below_top(v) * (bottom - top);
    let mut s = format!(
        r#"<figure><svg class="chart wide" id="{id}" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"#,
        esc(title)
    );
    // Ranges, grid lines and ticks: analyzer-core's chart axis policy (the plugin's panel draws
    // the same charts with it).
    for g in db_range.ticks().into_iter().rev() {
        let _ = write!(
            s,
            r#"<line class="grid" x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{}</text>"#,
            w - right,
            left - 6.0,
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
    for (class, name, v) in series {
        let _ = write!(
            s,
            r#"<path class="series {class}" d="{}"><title>{}</title></path>"#,
            path_of(xs, v, &px, &py),
            esc(name)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{}</text></svg><figcaption>"#,
        w - right,
        h - 8.0,
        esc(x_label)
    );
    for (class, name, _) in series {
        let _ = write!(s, r#"<i class="key {class}"></i> {} "#, esc(name));
    }
    s.push_str("</figcaption></figure>");
    s
}

/// An SVG path through the points, lifting the pen over `None`.
fn path_of(
    xs: &[f64],
    v: &[Option<f64>],
    px: &dyn Fn(f64) -> f64,
    py: &dyn Fn(f64) -> f64,
) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for (x, y) in xs.iter().zip(v) {
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
    d
}

/// Every file's long-term third-octave spectrum as small multiples on one dB scale and one
/// frequency axis, the mix's drawn behind each stem's: what each stem carries, and what only
/// the mix does.
fn spectra(report: &Report) -> String {
    let with: Vec<(usize, &FileReport)> = report
        .files
        .iter()
        .enumerate()
        .filter(|(_, f)| f.spectrum.is_some())
        .collect();
    let range = DbRange::of(with.iter().flat_map(|(_, f)| {
        f.spectrum
            .iter()
            .flat_map(|s| s.level_dbfs.iter().flatten().copied())
    }));
    let mix = report
        .files
        .iter()
        .find(|f| f.role == Some(Role::Mix))
        .and_then(|f| f.spectrum.as_ref());
    let all_hz: Vec<f64> = with
        .iter()
        .flat_map(|(_, f)| f.spectrum.iter().flat_map(|s| s.band_hz.iter().copied()))
        .collect();
    let (Some(range), Some(x_axis)) = (range, XAxis::new(&all_hz, XScale::Log)) else {
        return r#"<p class="empty" id="spectra">No file is long enough for a spectrum.</p>"#
            .to_owned();
    };
    let (w, h, left, right, top, bottom) = (300.0, 150.0, 44.0, 8.0, 6.0, 130.0);
    let px = |x: f64| left + x_axis.fraction(x) * (w - left - right);
    let py = |v: f64| top + range.fraction_below_top(v) * (bottom - top);
    let mut s = String::from(r#"<div class="multiples" id="spectra">"#);
    for (i, f) in with {
        let Some(sp) = &f.spectrum else { continue };
        let role = role_name(f);
        let _ = write!(
            s,
            r#"<figure><svg class="chart small" id="spectrum-{i}" viewBox="0 0 {w} {h}" role="img" aria-label="spectrum of {}">"#,
            esc(&f.path)
        );
        for g in range.ticks() {
            let _ = write!(
                s,
                r#"<line class="grid" x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{}</text>"#,
                w - right,
                left - 3.0,
                py(g) + 3.0,
                db_label(g),
                y = py(g)
            );
        }
        for (t, label) in x_axis.ticks().into_iter().step_by(2) {
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">{label}</text>"#,
                px(t),
                bottom + 14.0
            );
        }
        if let Some(m) = mix.filter(|_| role != "mix") {
            let _ = write!(
                s,
                r#"<path class="series s-behind" d="{}"><title>mix</title></path>"#,
                path_of(&m.band_hz, &m.level_dbfs, &px, &py)
            );
        }
        let _ = write!(
            s,
            r##"<path class="series s-{role}" d="{}"><title>{}</title></path></svg><figcaption><a class="name" href="#file-{i}">{}</a></figcaption></figure>"##,
            path_of(&sp.band_hz, &sp.level_dbfs, &px, &py),
            esc(&f.path),
            esc(&f.path)
        );
    }
    s.push_str(
        r#"</div><p class="legend"><i class="key s-stem"></i> the file <i class="key s-behind"></i> the mix, behind every other file — third-octave bands, dBFS (mean square per band; the bands add up to the file's RMS), Hz</p>"#,
    );
    s
}

/// Signed bars of each stem's offset against the mix, in HTML so that names wrap.
fn offset_bars(report: &Report) -> String {
    let stems: Vec<(usize, &FileReport)> = report
        .files
        .iter()
        .enumerate()
        .filter(|(_, f)| !matches!(f.role, Some(Role::Mix | Role::Reference)))
        .collect();
    let max = stems
        .iter()
        .filter_map(|(_, f)| f.offset_samples)
        .map(i64::unsigned_abs)
        .max()
        .unwrap_or(0)
        .max(10) as f64;
    let mut s = format!(
        r#"<div class="offsets" id="offsets"><div class="lv-row lv-scale"><div></div><div class="lv-axis"><span style="left:0%">−{max} (early)</span><span style="left:50%">0</span><span style="left:100%">+{max} (late)</span></div><div></div></div>"#
    );
    for (i, f) in stems {
        let _ = write!(
            s,
            r##"<div class="lv-row"><a class="name" href="#file-{i}">{}</a><div class="lv-track off">"##,
            esc(&f.path)
        );
        match f.offset_samples {
            Some(o) => {
                let w = (o as f64 / max * 50.0).abs().max(0.5);
                let x = if o < 0 { 50.0 - w } else { 50.0 };
                let _ = write!(
                    s,
                    r#"<i class="off-bar {}" style="left:{x:.2}%;width:{w:.2}%" title="{o} samples"></i></div><div class="lv-nums">{} samples</div></div>"#,
                    if o == 0 { "ok" } else { "bad" },
                    file_num(i, "offset_samples", Some(o as f64), 0, "–")
                );
            }
            None => s.push_str(r#"</div><div class="lv-nums">not aligned</div></div>"#),
        }
    }
    s.push_str(r#"<p class="legend">offset against the mix, samples (positive: the stem comes late)</p></div>"#);
    s
}

const CSS: &str = r#"
:root { color-scheme: light dark; --fg: #1d1d1f; --muted: #5f6368; --bg: #fff; --card: #f6f7f9; --line: #dde1e6;
  --err: #c0392b; --warn: #b7791f; --info: #2f6fbf; --ok: #2e8b57; --mix: #1f3f8a; --stem: #2f8f8f; --ref: #8a5a1f;
  --res: #c0392b; --behind: #b9c0ca; --sp: #6f95d8; --tp: #17306e; --lufs: #2e8b57; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e6e6; --muted: #a0a6ad; --bg: #16181b; --card: #202328; --line: #353a41;
  --err: #ff6b5e; --warn: #f0b44c; --info: #6fa8ff; --ok: #58c28a; --mix: #8fb0ff; --stem: #5fd1cf; --ref: #e0a860;
  --res: #ff6b5e; --behind: #4b525c; --sp: #5a7fc0; --tp: #c9d6ff; --lufs: #58c28a; } }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; padding: 16px clamp(12px, 3vw, 40px);
  max-width: 1800px; color: var(--fg); background: var(--bg); }
h1 { font-size: 22px; margin: 0 0 6px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 4px; }
a { color: inherit; } a:target, tr:target, section:target { outline: 2px solid var(--info); outline-offset: 2px; }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; }
.verdict { padding: 4px 14px; border-radius: 6px; color: #fff; font-weight: 700; font-size: 20px; }
.verdict.pass { background: var(--ok); } .verdict.warn { background: var(--warn); } .verdict.fail { background: var(--err); }
.score { font-size: 20px; font-weight: 600; }
.muted, .unit, .legend { color: var(--muted); } .unit { font-size: 12px; font-weight: 400; } .legend { font-size: 13px; }
.findings { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 440px), 1fr)); gap: 10px; }
.finding { padding: 10px 12px; border-left: 5px solid var(--muted); background: var(--card); border-radius: 4px; overflow-wrap: anywhere; break-inside: avoid; }
.finding.error { border-color: var(--err); } .finding.warning { border-color: var(--warn); } .finding.info { border-color: var(--info); }
.finding p { margin: 4px 0; } .sev { text-transform: uppercase; font-size: 12px; letter-spacing: .04em; }
.finding.error .sev { color: var(--err); } .finding.warning .sev { color: var(--warn); } .finding.info .sev { color: var(--info); }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; }
table { border-collapse: collapse; }
.measured { font-size: 13px; margin-top: 6px; } .measured th { text-align: left; font-weight: 400; color: var(--muted); padding: 1px 12px 1px 0; vertical-align: top; }
.measured td { padding: 1px 0; }
.scroll { overflow-x: auto; }
.files { width: 100%; font-size: 14px; } .files th, .files td { border-bottom: 1px solid var(--line); padding: 5px 7px; text-align: left; vertical-align: middle; }
.files thead th { font-weight: 600; vertical-align: bottom; } .files .num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.files th.name { font-weight: 600; max-width: 26em; overflow-wrap: break-word; }
.files tr.mix th.name::after { content: " (mix)"; color: var(--muted); font-weight: 400; }
.chip { display: inline-block; font: 12px ui-monospace, monospace; padding: 0 5px; margin: 1px 0; border-radius: 3px; border: 1px solid currentColor; text-decoration: none; white-space: nowrap; }
.chip.error { color: var(--err); } .chip.warning { color: var(--warn); } .chip.info { color: var(--info); }
.spark { width: 120px; height: 26px; display: block; } .spark .series { stroke: var(--mix); stroke-width: 1.2; vector-effect: non-scaling-stroke; }
.lv-row { display: grid; grid-template-columns: minmax(7em, 18em) minmax(8em, 1fr) 16em; gap: 2px 12px; align-items: center; margin: 4px 0; }
.lv-row .name { overflow-wrap: anywhere; text-decoration: none; } .lv-nums { font-size: 13px; white-space: nowrap; font-variant-numeric: tabular-nums; }
.lv-track { position: relative; height: 18px; background: var(--card); border-radius: 2px; }
.lv-track i { position: absolute; top: 0; bottom: 0; display: block; }
.lv-sp { left: 0; background: var(--sp); } .lv-tp { width: 3px; margin-left: -1px; background: var(--tp); }
.lv-lufs { width: 9px; height: 9px; top: 4.5px !important; margin-left: -4.5px; background: var(--lufs); transform: rotate(45deg); }
.lv-target { width: 0; border-left: 2px dashed; z-index: 1; } .lv-target.peak { border-color: var(--warn); } .lv-target.tp { border-color: var(--err); }
.lv-scale { margin: 0; } .lv-axis { position: relative; height: 16px; font-size: 11px; color: var(--muted); }
.lv-axis span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.lv-axis span:first-child { transform: none; } .lv-axis span:last-child { transform: translateX(-100%); }
.off::before { content: ""; position: absolute; left: 50%; top: 0; bottom: 0; border-left: 1px solid var(--muted); }
.off-bar.ok { background: var(--ok); } .off-bar.bad { background: var(--err); }
i.key { display: inline-block; width: 14px; height: 10px; vertical-align: middle; margin-left: 8px; }
i.key.lv-tp { width: 3px; } i.key.lv-lufs { width: 8px; height: 8px; transform: rotate(45deg); }
i.key.lv-target { height: 12px; width: 0; }
i.key.s-mix { background: var(--mix); } i.key.s-res { background: var(--res); } i.key.s-stem { background: var(--stem); } i.key.s-behind { background: var(--behind); }
figure { margin: 0; } figcaption { font-size: 13px; overflow-wrap: anywhere; }
.chart { width: 100%; height: auto; display: block; } .chart.wide { max-width: 1100px; }
.signature .chart.wide { max-width: 620px; } .signature .sig { margin-top: 8px; }
.chart .tick { font-size: 11px; fill: var(--muted); } .chart.small .tick { font-size: 9px; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.series { fill: none; stroke-width: 2; stroke-linejoin: round; } .chart.small .series { stroke-width: 1.6; }
.s-mix { stroke: var(--mix); } .s-res { stroke: var(--res); } .s-stem { stroke: var(--stem); } .s-reference { stroke: var(--ref); }
.s-behind { stroke: var(--behind); stroke-width: 3 !important; }
.multiples { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 260px), 1fr)); gap: 12px 16px; }
.charts2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 520px), 1fr)); gap: 16px; }
@media (max-width: 640px) { .lv-row { grid-template-columns: 1fr; } .lv-scale > div:first-child, .lv-scale > div:last-child { display: none; } }
@media print {
  :root { color-scheme: light; --fg: #000; --muted: #5f6368; --bg: #fff; --card: #f3f3f3; --line: #dde1e6;
    --err: #c0392b; --warn: #b7791f; --info: #2f6fbf; --ok: #2e8b57; --mix: #1f3f8a; --stem: #2f8f8f; --ref: #8a5a1f;
    --res: #c0392b; --behind: #b9c0ca; --sp: #6f95d8; --tp: #17306e; --lufs: #2e8b57; }
  body { font-size: 10pt; max-width: none; padding: 0; }
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  .scroll { overflow: visible; } .files { font-size: 8pt; } .spark { width: 80px; }
  a { text-decoration: none; } h2 { break-after: avoid; } .finding, figure, .lv-row, tr { break-inside: avoid; }
  .multiples { grid-template-columns: repeat(3, 1fr); }
}
"#;

/// Renders the whole report as one HTML document, with the targets of the profile it was
/// checked against (a shipped one or a `--profile-file` spec).
pub fn render(report: &Report, profile: &Profile) -> String {
    let (verdict_class, verdict) = match report.verdict {
        Verdict::Pass => ("pass", "PASS"),
        Verdict::Warn => ("warn", "WARN"),
        Verdict::Fail => ("fail", "FAIL"),
    };
    let row_of: HashMap<&str, usize> = report
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path.as_str(), i))
        .collect();
    let mut findings_of = vec![Vec::new(); report.files.len()];
    for (k, f) in report.findings.iter().enumerate() {
        for p in &f.files {
            if let Some(&i) = row_of.get(p.as_str())
                && findings_of[i].last() != Some(&k)
            {
                findings_of[i].push(k);
            }
        }
    }
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let stems = report
        .files
        .iter()
        .filter(|f| !matches!(f.role, Some(Role::Mix | Role::Reference)))
        .count();
    let null = report.reconciliation.as_ref().map_or_else(
        || "no mix to reconcile against".to_owned(),
        |r| format!("null as delivered {}", null_db(r.null_depth_db)),
    );
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>StemCheck report — {verdict}</title>
<style>{CSS}</style></head><body>
<header><h1>StemCheck report</h1>
<div class="top"><span class="verdict {verdict_class}" id="verdict">{verdict}</span><span class="score" id="health">health <span class="n" data-key="health_score">{}</span>/100</span>
<span>{} error(s) · {} warning(s) · {stems} stem(s) · {null}</span></div>
<p class="muted">Profile <b>{}</b> ({}) · {} file(s) · {} {}</p></header>
"#,
        report.health_score,
        count(Severity::Error),
        count(Severity::Warning),
        esc(&profile.name),
        esc(&profile.description),
        report.files.len(),
        esc(&report.tool.name),
        esc(&report.tool.version)
    );

    // Findings first: what to fix, then what is only worth knowing.
    let to_fix: Vec<usize> = (0..report.findings.len())
        .filter(|&k| report.findings[k].severity > Severity::Info)
        .collect();
    let notes: Vec<usize> = (0..report.findings.len())
        .filter(|&k| report.findings[k].severity == Severity::Info)
        .collect();
    h.push_str(r#"<main><h2 id="findings">What to fix</h2>"#);
    if to_fix.is_empty() {
        h.push_str("<p>Nothing: no finding is a warning or an error.</p>");
    } else {
        h.push_str(r#"<div class="findings">"#);
        for &k in &to_fix {
            h.push_str(&finding_block(k, &report.findings[k], &row_of));
        }
        h.push_str("</div>");
    }
    if !notes.is_empty() {
        h.push_str(r#"<h2 id="notes">Notes</h2><div class="findings">"#);
        for &k in &notes {
            h.push_str(&finding_block(k, &report.findings[k], &row_of));
        }
        h.push_str("</div>");
    }

    h.push_str(r#"<h2>Files</h2>"#);
    h.push_str(&file_table(report, &findings_of));

    let _ = write!(
        h,
        "<h2>Levels against the profile</h2>{}",
        level_bars(report, profile)
    );

    h.push_str("<h2>Frequency content per file</h2>");
    h.push_str(&spectra(report));

    h.push_str("<h2>Stem sum against the mix</h2>");
    match &report.reconciliation {
        Some(r) => {
            let _ = write!(
                h,
                r#"<p id="null">Against {}: stem-sum lag {} samples, null as delivered {} (corrected as the findings say: {}), residual {}.</p><div class="charts2">"#,
                esc(r.mix.as_deref().unwrap_or("the mix")),
                r.lag_samples,
                null_db(r.null_depth_db),
                null_db(r.corrected_null_depth_db),
                // None: every block under BS.1770's absolute gate.
                r.residual_lufs.map_or("under the −70 LUFS gate".to_owned(), |x| format!(
                    "{} LUFS",
                    fixed(x, 1)
                ))
            );
            if let Some(t) = &r.timeline {
                let xs: Vec<f64> = (0..t.mix_db.len()).map(|i| i as f64 * t.step_s).collect();
                h.push_str(&line_chart(
                    "timeline",
                    "Mix and residual level over time",
                    &xs,
                    &[
                        ("s-mix", "mix", &t.mix_db),
                        ("s-res", "residual (mix − stem sum)", &t.residual_db),
                    ],
                    "time, s — RMS level per second, dBFS",
                    XScale::Linear,
                ));
            }
            let mix_st = report
                .files
                .iter()
                .find(|f| f.role == Some(Role::Mix))
                .and_then(|f| f.short_term_loudness.as_ref());
            if let (Some(m), Some(res)) = (mix_st, &r.residual_short_term_loudness) {
                let xs: Vec<f64> = (1..=m.lufs.len().max(res.lufs.len()))
                    .map(|i| i as f64 * m.step_s)
                    .collect();
                h.push_str(&line_chart(
                    "loudness",
                    "Short-term loudness of the mix and of the residual",
                    &xs,
                    &[
                        ("s-mix", "mix", &m.lufs),
                        ("s-res", "residual (mix − aligned stem sum)", &res.lufs),
                    ],
                    "time, s — EBU R128 short-term loudness (3 s), LUFS",
                    XScale::Linear,
                ));
            }
            if let Some(sp) = &r.spectrum {
                h.push_str(&line_chart(
                    "spectrum",
                    "Residual spectrum against the mix spectrum",
                    &sp.band_hz,
                    &[
                        ("s-mix", "mix", &sp.mix_db),
                        ("s-res", "residual (what no stem carries)", &sp.residual_db),
                    ],
                    "frequency, Hz — dB relative to the mix's total power",
                    XScale::Log,
                ));
            }
            h.push_str("</div><h2>Alignment</h2>");
            h.push_str(&offset_bars(report));
        }
        None => h.push_str(
            r#"<p class="muted" id="null">No mix was found: the stems were checked without reconciliation.</p>"#,
        ),
    }
    h.push_str("<p class=\"muted\">Health score: 100 minus the cost of every error and warning (see the README), never below 0.</p></main></body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use analyzer_core::report::{FileReport, Finding, FindingCode, LevelTimeline, Reconciliation};

    #[test]
    fn a_missing_parts_signature_is_drawn_inside_its_finding_block() {
        let band_hz = vec![50.0, 100.0, 200.0, 400.0, 800.0, 1600.0];
        let mut missing = Finding::new(
            FindingCode::MissingElement,
            Severity::Error,
            vec![],
            "The mix holds a part no stem carries.",
            "Export the missing part.",
        )
        .with("spectrum_low_hz", 50.0)
        .with("spectrum_high_hz", 200.0);
        missing.spectral_signature = Some(analyzer_core::report::SpectralSignature {
            band_hz: band_hz.clone(),
            residual_db: vec![Some(-3.0), Some(-4.0), Some(-9.0), Some(-40.0), None, None],
            mix_db: vec![
                Some(-2.0),
                Some(-3.0),
                Some(-6.0),
                Some(-8.0),
                Some(-9.0),
                Some(-12.0),
            ],
            start_s: 0.0,
            end_s: 30.0,
            low_hz: 50.0,
            high_hz: 200.0,
        });
        let other = Finding::new(
            FindingCode::StartOffset,
            Severity::Error,
            vec![],
            "late",
            "re-export",
        );
        let rows = HashMap::new();
        let block = finding_block(3, &missing, &rows);
        let chart = block
            .find(r#"id="signature-chart-3""#)
            .expect("signature chart");
        assert!(chart < block.rfind("</section>").expect("block end"));
        assert!(block.contains(r#"data-finding="3" data-key="spectrum_low_hz">50</span> Hz"#));
        assert!(block.contains(r#"data-key="spectrum_high_hz">200</span> Hz"#));
        assert!(block.contains("series s-res") && block.contains("series s-mix"));
        assert!(block.contains("0.0–30.0 s"));
        assert!(!finding_block(4, &other, &rows).contains("signature"));
    }

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
        // The finding links its file's row, the row links the finding back.
        assert!(html.contains(r##"<a href="#file-0">&lt;Drums&gt;.wav</a>"##));
        assert!(html.contains(r##"href="#finding-0""##));
        assert!(html.contains(r#"<tr id="file-0""#));
    }

    #[test]
    fn numbers_have_no_signed_zero_and_measured_keys_their_units() {
        assert_eq!(fixed(-0.04, 1), "0.0");
        assert_eq!(fixed(-0.0, 2), "0.00");
        assert_eq!(fixed(-3.25, 1), "−3.2");
        assert_eq!(signed(-0.001, 2), "0.00");
        assert_eq!(signed(1.5, 2), "+1.50");
        assert_eq!(signed(-1.5, 2), "−1.50");
        assert_eq!(unit_of("null_depth_db"), ("null_depth", "dB"));
        assert_eq!(unit_of("peak_dbfs"), ("peak", "dBFS"));
        assert_eq!(unit_of("offset_samples"), ("offset", "samples"));
        assert_eq!(unit_of("drift_lu_per_s"), ("drift", "LU/s"));
        assert_eq!(unit_of("correlation"), ("correlation", ""));
        let f = Finding::new(
            FindingCode::GainMismatch,
            Severity::Warning,
            vec![],
            "m",
            "f",
        )
        .with("gain_db", -3.0)
        .with("bands_hz", vec![100.0, 200.0]);
        let t = measured_table(4, &f);
        assert!(
            t.contains(
                r#"data-finding="4" data-key="gain_db">−3.00</span> <span class="unit">dB</span>"#
            ),
            "{t}"
        );
        assert!(
            t.contains("100.0, 200.0") && !t.contains(r#"data-key="bands_hz""#),
            "{t}"
        );
        assert!(!t.contains('{'), "no raw JSON: {t}");
    }
}
