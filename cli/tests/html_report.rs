//! The HTML report in a real browser: headless Chromium (Debian's `chromium`, installed by
//! scripts/test.sh) loads the report, a probe script measures every chart and collects errors,
//! and a screenshot is saved to `target/report-screenshot.png`. At a narrow and a wide window
//! it checks the layout (no clipped label, no sideways scrolling, every chart drawn) and that
//! every number the page shows equals the JSON report's of the same run. A second test prints
//! a report to PDF (the copy that gets attached to an email) and reads it back with poppler's
//! `pdftotext` and `pdftoppm` (Debian `poppler-utils`, installed by scripts/test.sh).

// Test code may unwrap: a panic is the failure report (as in tests/cli.rs).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use analyzer_core::synth::{self, WavFormat};

const SR: u32 = 48_000;

fn chromium() -> PathBuf {
    for c in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if Path::new(c).exists() {
            return c.into();
        }
    }
    panic!(
        "headless Chromium is required for this test (scripts/test.sh installs the Debian package `chromium`)"
    );
}

/// `stemcheck check DIR --report DIR/report.html --json DIR/report.json` on a delivery that
/// must fail (exit 1): the HTML report's path and the JSON report.
fn check_failing(dir: &Path) -> (PathBuf, serde_json::Value) {
    let html = dir.join("report.html");
    let json_path = dir.join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_stemcheck"))
        .arg("check")
        .arg(dir)
        .arg("--report")
        .arg(&html)
        .arg("--json")
        .arg(&json_path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    (html, report)
}

fn chromium_cmd(profile: &Path) -> Command {
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

#[test]
fn report_renders_its_charts_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let stems = synth::demo_song(SR, 8.0);
    let mix = synth::mix_down(&stems, 2);
    synth::write_wav(
        &dir.path().join("Song_Mix.wav"),
        2,
        SR,
        WavFormat::Float32,
        &mix,
    )
    .unwrap();
    for s in &stems {
        let mut samples = s.samples.clone();
        if s.name == "Keys" {
            let shift = 37 * s.channels as usize;
            samples.rotate_right(shift);
            samples[..shift].fill(0.0);
        }
        synth::write_wav(
            &dir.path().join(format!("Song_{}.wav", s.name)),
            s.channels,
            SR,
            WavFormat::Float32,
            &samples,
        )
        .unwrap();
    }
    let (html, report) = check_failing(dir.path());
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(
        !text.contains("<script"),
        "the report itself runs no script"
    );
    assert!(
        !text.contains("src=\"http") && !text.contains("href=\"http") && !text.contains("url("),
        "no network resources"
    );
    // Findings first: the first finding's block comes before the file table and every chart.
    let first_finding = text.find(r#"id="finding-0""#).expect("a finding block");
    assert!(first_finding < text.find(r#"id="files""#).unwrap());
    assert!(first_finding < text.find(r#"id="levels""#).unwrap());

    let files = report["files"].as_array().unwrap();
    let findings = report["findings"].as_array().unwrap();
    let keys_row = files
        .iter()
        .position(|f| f["path"].as_str().unwrap().ends_with("Keys.wav"))
        .unwrap();
    // The offset finding links the Keys row, and the Keys row links it back.
    let offset_finding = findings
        .iter()
        .position(|f| f["code"] == "start_offset")
        .unwrap();
    assert!(text.contains(&format!(r##"href="#file-{keys_row}""##)));
    assert!(text.contains(&format!(r##"href="#finding-{offset_finding}""##)));
    assert!(text.contains(&format!(r#"<tr id="file-{keys_row}""#)));

    // 500 px: headless Chromium will not open a narrower window.
    for width in [500, 1600] {
        let probe = probe_in_chromium(dir.path(), &text, width);
        check_layout(&probe, files.len(), width);
        check_numbers(&probe, &report);
    }
    // Screenshot for people (the README shows one made this way).
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/report-screenshot.png");
    // `target/` is not there when CARGO_TARGET_DIR points elsewhere.
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let status = chromium_cmd(profile.path())
        .arg("--window-size=1280,2000")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.len() > 10_000 && png.starts_with(b"\x89PNG"),
        "screenshot is a real PNG"
    );
}

/// Loads a copy of the report with a probe script at `width` CSS pixels and returns what the
/// probe measured (JSON): every chart's size and marks, clipped labels, the page's overflow,
/// and every number marked with `data-key` as the browser shows it.
fn probe_in_chromium(dir: &Path, report_html: &str, width: u32) -> serde_json::Value {
    let probe = report_html.replace(
        "</body>",
        r#"<script>
window.addEventListener('load', () => {
  const charts = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const r = svg.getBoundingClientRect();
    charts.push({id: svg.id, w: r.width, h: r.height, marks: svg.querySelectorAll('path.series').length});
  }
  const clipped = [];
  for (const el of document.querySelectorAll('.name, figcaption, .lv-nums, .verdict, .score, .files td, .files th')) {
    if (el.scrollWidth > el.clientWidth + 1) clipped.push(el.textContent);
  }
  const numbers = [];
  for (const el of document.querySelectorAll('[data-key]')) {
    numbers.push({file: el.dataset.file ?? null, finding: el.dataset.finding ?? null,
      key: el.dataset.key, text: el.innerText});
  }
  const levels = document.querySelectorAll('#levels .lv-track').length;
  const sparks = document.querySelectorAll('#files svg.spark path.series').length;
  const out = {width: window.innerWidth, page: document.documentElement.scrollWidth,
    charts, clipped, numbers, levels, sparks};
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = 'PROBE[' + btoa(unescape(encodeURIComponent(JSON.stringify(out)))) + ']';
  document.body.appendChild(pre);
});
</script></body>"#,
    );
    let probe_path = dir.join(format!("probe-{width}.html"));
    std::fs::write(&probe_path, probe).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = chromium_cmd(profile.path())
        .args([
            "--virtual-time-budget=5000",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
        ])
        .arg(format!("--window-size={width},1200"))
        .arg(format!("file://{}", probe_path.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    for line in log.lines() {
        assert!(
            !(line.contains("CONSOLE") && (line.contains("Error") || line.contains("Uncaught"))),
            "console error: {line}"
        );
    }
    let b64 = dom
        .rsplit("PROBE[")
        .next()
        .filter(|_| dom.matches("PROBE[").count() >= 2)
        .and_then(|s| s.split(']').next())
        .unwrap_or_else(|| panic!("probe did not run; chromium said:\n{log}"));
    serde_json::from_slice(&base64_decode(b64)).unwrap()
}

/// Minimal standard base64 decoding (the probe's output is ASCII-safe that way).
fn base64_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c).expect("base64") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// Charts have a size and draw something, no label is clipped, the page does not scroll
/// sideways (the file table may, inside its own box), every file has a level bar.
fn check_layout(probe: &serde_json::Value, files: usize, width: u32) {
    assert_eq!(probe["width"], width, "window width: {probe}");
    let page = probe["page"].as_f64().unwrap();
    assert!(
        page <= f64::from(width) + 1.0,
        "the page overflows sideways at {width} px: {page}"
    );
    let charts = probe["charts"].as_array().unwrap();
    let mut ids: Vec<String> = vec!["timeline".into(), "spectrum".into(), "loudness".into()];
    ids.extend((0..files).map(|i| format!("spectrum-{i}")));
    for id in &ids {
        let c = charts
            .iter()
            .find(|c| c["id"] == id.as_str())
            .unwrap_or_else(|| panic!("chart {id} missing at {width} px: {charts:?}"));
        let (w, h) = (c["w"].as_f64().unwrap(), c["h"].as_f64().unwrap());
        assert!(
            w > 150.0 && h > 60.0,
            "chart {id} has no size at {width} px: {c}"
        );
        assert!(
            c["marks"].as_u64().unwrap() > 0,
            "chart {id} drew nothing: {c}"
        );
        assert!(
            w <= f64::from(width),
            "chart {id} wider than the window: {c}"
        );
    }
    // Fluid: at 1600 px the wide charts use the room a fixed 820 px column would waste.
    if width >= 1600 {
        let timeline = charts.iter().find(|c| c["id"] == "timeline").unwrap();
        let small = charts.iter().find(|c| c["id"] == "spectrum-0").unwrap();
        assert!(timeline["w"].as_f64().unwrap() > 600.0, "{timeline}");
        assert!(
            small["w"].as_f64().unwrap() < 500.0,
            "small multiples: {small}"
        );
    }
    assert_eq!(
        probe["clipped"].as_array().unwrap().len(),
        0,
        "clipped labels at {width} px: {}",
        probe["clipped"]
    );
    assert_eq!(probe["levels"].as_u64().unwrap() as usize, files);
    assert_eq!(probe["sparks"].as_u64().unwrap() as usize, files);
}

/// Every number the page shows with a `data-key` equals the JSON report's, to the decimals
/// shown; a value shown as "−∞" or "–" is `null` in the JSON.
fn check_numbers(probe: &serde_json::Value, report: &serde_json::Value) {
    let numbers = probe["numbers"].as_array().unwrap();
    let files = report["files"].as_array().unwrap().len();
    assert!(
        numbers.len() >= files * 8,
        "too few marked numbers: {}",
        numbers.len()
    );
    let mut file_numbers = 0;
    for n in numbers {
        let key = n["key"].as_str().unwrap();
        let json = match (n["file"].as_str(), n["finding"].as_str()) {
            (Some(i), _) => {
                file_numbers += 1;
                &report["files"][i.parse::<usize>().unwrap()][key]
            }
            (_, Some(k)) => &report["findings"][k.parse::<usize>().unwrap()]["measured"][key],
            _ => &report[key],
        };
        let text = n["text"].as_str().unwrap().trim().replace('\u{2212}', "-");
        match text.parse::<f64>() {
            Ok(shown) => {
                let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
                let want = json
                    .as_f64()
                    .unwrap_or_else(|| panic!("{key} shows {text}, the JSON has {json}"));
                let tolerance = 0.5 * 10f64.powi(-(decimals as i32)) + 1e-9;
                assert!(
                    (shown - want).abs() <= tolerance,
                    "{key} ({n}) shows {text}, the JSON has {want}"
                );
            }
            Err(_) => assert!(json.is_null(), "{key} shows {text}, the JSON has {json}"),
        }
    }
    assert!(file_numbers >= files * 6, "{file_numbers}");
}

/// A delivery with several causes: the keys stem 37 samples late, the lead stem missing from
/// the folder (a part the mix holds that no stem carries), and one 16-bit stem among float.
fn faulty_delivery(dir: &Path) {
    let stems = synth::demo_song(SR, 8.0);
    let mix = synth::mix_down(&stems, 2);
    synth::write_wav(&dir.join("Song_Mix.wav"), 2, SR, WavFormat::Float32, &mix).unwrap();
    for s in &stems {
        let mut samples = s.samples.clone();
        if s.name == "Lead" {
            continue;
        }
        if s.name == "Keys" {
            let shift = 37 * s.channels as usize;
            samples.rotate_right(shift);
            samples[..shift].fill(0.0);
        }
        let format = if s.name == "Bass" {
            WavFormat::Int16
        } else {
            WavFormat::Float32
        };
        let name = format!("Song_{}_with_a_long_descriptive_name_v2.wav", s.name);
        synth::write_wav(&dir.join(name), s.channels, SR, format, &samples).unwrap();
    }
}

/// Runs a poppler tool, returning its standard output.
fn poppler(tool: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} is required (scripts/test.sh installs poppler-utils): {e}")
    });
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Mean and minimum of a binary PGM's (P5, 8-bit) pixels in the given fraction of its width
/// and height around the top-left corner (the page margin).
fn pgm_corner(pgm: &[u8], frac: f64) -> (f64, u8) {
    // Header: "P5" whitespace width whitespace height whitespace maxval single-whitespace.
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while pgm[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !pgm[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&pgm[start..i]).into_owned());
    }
    assert_eq!(fields[0], "P5");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let pixels = &pgm[i + 1..];
    assert_eq!(pixels.len(), w * h);
    let (cw, ch) = ((w as f64 * frac) as usize, (h as f64 * frac) as usize);
    let mut sum = 0u64;
    let mut min = 255u8;
    for y in 0..ch {
        for &p in &pixels[y * w..y * w + cw] {
            sum += u64::from(p);
            min = min.min(p);
        }
    }
    (sum as f64 / (cw * ch) as f64, min)
}

#[test]
fn report_prints_to_a_light_pdf_with_the_findings_on_page_one() {
    let dir = tempfile::tempdir().unwrap();
    faulty_delivery(dir.path());
    let (html, report) = check_failing(dir.path());
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.len() >= 2, "several causes to print: {codes:?}");

    // Printed as a reader whose system is in dark mode would print it: paper stays white.
    let pdf = print_dark(&html, &dir.path().join("report.pdf"));
    let pdf_s = pdf.to_str().unwrap();
    let text = String::from_utf8(poppler("pdftotext", &["-layout", pdf_s, "-"])).unwrap();
    let pages: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert!(
        (1..=12).contains(&pages.len()),
        "a report of 6 files prints on a few pages, not {}",
        pages.len()
    );
    // Page one carries the verdict and the most serious cause; every warning and error is
    // printed before the file table (findings first on paper too).
    let first = pages[0];
    assert!(first.contains("FAIL"), "verdict on page 1:\n{first}");
    assert!(first.contains(codes[0]), "{} on page 1:\n{first}", codes[0]);
    let files_at = text.find("\nFiles").expect("the file table's heading");
    for code in &codes {
        let at = text.find(code).unwrap_or_else(|| panic!("{code} printed"));
        assert!(at < files_at, "{code} is printed before the file table");
    }
    // Every file name is printed in full at least once (the file table: wrapped at the cell's
    // width is fine, cut or ellipsised is not). In content order (`-raw`) a wrapped name's
    // pieces are consecutive lines, so the lines are joined before looking.
    let raw = String::from_utf8(poppler("pdftotext", &["-raw", pdf_s, "-"])).unwrap();
    let joined: String = raw.lines().collect();
    for f in report["files"].as_array().unwrap() {
        let path = f["path"].as_str().unwrap();
        let name = Path::new(path).file_name().unwrap().to_str().unwrap();
        let stem = &name[..name.len().min(12)];
        let seen: Vec<&str> = raw.lines().filter(|l| l.contains(stem)).collect();
        assert!(
            joined.contains(name),
            "{name} is printed in full; lines: {seen:#?}"
        );
    }
    // Light paper: page 1's top-left margin and the page overall are white, not dark mode.
    let pgm = first_page_gray(&pdf);
    // The top-left 3 % of the page is margin (Chromium's default 0.4 in).
    let (corner_mean, corner_min) = pgm_corner(&pgm, 0.03);
    assert!(
        corner_mean > 250.0,
        "page margin is white: mean {corner_mean:.0}, darkest {corner_min}"
    );
    let (page_mean, _) = pgm_corner(&pgm, 1.0);
    assert!(
        page_mean > 200.0,
        "page 1 is mostly light (mean {page_mean:.0}, corner {corner_mean:.0})"
    );

    // Control: the same measurement on the print style with a dark background reads dark, so
    // the check above can fail. (Chromium 1xx prints in the light scheme even when the screen is
    // dark; the print palette keeps paper white in a browser that does not.)
    let page = std::fs::read_to_string(&html).unwrap();
    let palette = "@media print {\n  :root { color-scheme: light; --fg: #000; --muted: #5f6368; --bg: #fff; --card: #f3f3f3;";
    assert!(
        page.contains(palette),
        "the print palette is where the control expects it"
    );
    let dark_print = page.replace(
        palette,
        "@media print {\n  :root { color-scheme: dark; --fg: #eee; --muted: #aaa; --bg: #16181b; --card: #202328;",
    );
    let unstyled = dir.path().join("dark-print.html");
    std::fs::write(&unstyled, dark_print).unwrap();
    let dark = first_page_gray(&print_dark(&unstyled, &dir.path().join("dark-print.pdf")));
    let (dark_mean, _) = pgm_corner(&dark, 1.0);
    assert!(
        dark_mean < 120.0,
        "a dark print palette reads dark (mean {dark_mean:.0})"
    );
}

/// Prints `html` to `pdf` with headless Chromium in dark mode (as a reader whose system is
/// dark would), no header or footer.
fn print_dark(html: &Path, pdf: &Path) -> PathBuf {
    let profile = tempfile::tempdir().unwrap();
    let status = chromium_cmd(profile.path())
        .arg("--force-dark-mode")
        .arg("--blink-settings=preferredColorScheme=0")
        .arg("--no-pdf-header-footer")
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(
        status.status.success() && pdf.exists(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    pdf.to_owned()
}

/// Page 1 of `pdf` as an 8-bit grey PGM at 30 dpi.
fn first_page_gray(pdf: &Path) -> Vec<u8> {
    let out_dir = tempfile::tempdir().unwrap();
    let prefix = out_dir.path().join("page");
    poppler(
        "pdftoppm",
        &[
            "-r",
            "30",
            "-f",
            "1",
            "-l",
            "1",
            "-gray",
            pdf.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let file = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pgm"))
        .expect("pdftoppm wrote page 1");
    std::fs::read(file).unwrap()
}
