//! The HTML report in a real browser: headless Chromium (Debian's `chromium`, installed by
//! scripts/test.sh) loads the report, a probe script measures every chart and collects errors,
//! and a screenshot is saved to `target/report-screenshot.png`.

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
    let html = dir.path().join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_stemcheck"))
        .arg("check")
        .arg(dir.path())
        .arg("--report")
        .arg(&html)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(
        !text.contains("<script"),
        "the report itself runs no script"
    );
    assert!(
        !text.contains("src=\"http") && !text.contains("href=\"http"),
        "no network resources"
    );

    // A copy with a probe script: it measures each chart after layout and writes the result
    // into the DOM, which --dump-dom prints.
    let probe = text.replace(
        "</body>",
        r#"<script>
window.addEventListener('load', () => {
  const out = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const r = svg.getBoundingClientRect();
    const marks = svg.querySelectorAll('rect.bar, path.series').length;
    out.push(svg.id + ':' + Math.round(r.width) + 'x' + Math.round(r.height) + ':' + marks);
  }
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = 'PROBE[' + out.join(',') + ']';
  document.body.appendChild(pre);
});
</script></body>"#,
    );
    let probe_path = dir.path().join("probe.html");
    std::fs::write(&probe_path, probe).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = chromium_cmd(profile.path())
        .args([
            "--virtual-time-budget=5000",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
        ])
        .arg(format!("file://{}", probe_path.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    let probe = dom
        .rsplit("PROBE[")
        .next()
        .filter(|_| dom.matches("PROBE[").count() >= 2)
        .and_then(|s| s.split(']').next())
        .unwrap_or_else(|| panic!("probe did not run; chromium said:\n{log}"));
    let charts: Vec<(String, u32, u32, u32)> = probe
        .split(',')
        .map(|c| {
            let parts: Vec<&str> = c.split(':').collect();
            let (w, h) = parts[1].split_once('x').unwrap();
            (
                parts[0].to_owned(),
                w.parse().unwrap(),
                h.parse().unwrap(),
                parts[2].parse().unwrap(),
            )
        })
        .collect();
    for id in ["levels", "timeline", "spectrum", "offsets"] {
        let c = charts
            .iter()
            .find(|c| c.0 == id)
            .unwrap_or_else(|| panic!("chart {id} missing: {charts:?}"));
        assert!(c.1 > 300 && c.2 > 100, "chart {id} has no size: {c:?}");
        assert!(c.3 > 0, "chart {id} drew nothing: {c:?}");
    }
    for line in log.lines() {
        assert!(
            !(line.contains("CONSOLE") && (line.contains("Error") || line.contains("Uncaught"))),
            "console error: {line}"
        );
    }

    // Screenshot for people (the README shows one made this way).
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/report-screenshot.png");
    // `target/` is not there when CARGO_TARGET_DIR points elsewhere.
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let status = chromium_cmd(profile.path())
        .arg("--window-size=880,2200")
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
