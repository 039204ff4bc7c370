//! `--residual FILE.wav`: the residual as audio, so that an engineer can solo what the stems
//! are missing. Two files: FILE.wav is the mix minus the stems as delivered (what
//! `null_depth_db` measures), FILE.corrected.wav the mix minus the stems after the corrections
//! the findings name (offsets, gains, polarity, channel fixes, clock drift: what
//! `corrected_null_depth_db` measures). Both 32-bit float WAV at the mix's rate and channels,
//! so that nothing is clipped or dithered away.
//!
//! The audio comes from analyzer-core's reconciliation ([`Residuals::render`]): the same
//! placement and gains its null depths were computed with, nothing aligned again here.

use std::path::{Path, PathBuf};

use analyzer_core::Report;
use analyzer_core::analyze::Residuals;
use analyzer_core::reconcile::ResidualKind;
use anyhow::{Context, Result, anyhow, bail};

/// The corrected residual's path beside `path`: `res.wav` gives `res.corrected.wav`.
pub fn corrected_path(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(|| "residual".into(), |s| s.to_os_string());
    let mut name = stem;
    name.push(".corrected.");
    name.push(
        path.extension()
            .map_or_else(|| "wav".into(), |e| e.to_os_string()),
    );
    path.with_file_name(name)
}

/// Refuses `-` (a WAV is not written to standard output) before any analysis.
///
/// # Errors
/// When `path` is `-`.
pub fn check_arg(path: &Path) -> Result<()> {
    if path.as_os_str() == "-" {
        bail!("--residual needs a file name (a WAV is not written to standard output)");
    }
    Ok(())
}

/// Writes both residuals: `path` as delivered, [`corrected_path`] corrected. Returns the two
/// paths written.
///
/// # Errors
/// When no reconciliation ran (no mix, or nothing to reconcile), when a path is the mix or a
/// stem (never overwritten), or a file cannot be written; the message names
/// the path. A file left half-written is removed.
pub fn write_both(residuals: Option<&Residuals>, path: &Path) -> Result<[PathBuf; 2]> {
    let residuals = residuals.ok_or_else(|| {
        anyhow!(
            "cannot write the residual to {}: the stems were not reconciled against a mix",
            path.display()
        )
    })?;
    let corrected = corrected_path(path);
    for p in [path, corrected.as_path()] {
        if residuals.reads(p) {
            bail!(
                "cannot write the residual to {}: it is the mix or one of the stems checked",
                p.display()
            );
        }
    }
    write_one(residuals, path, ResidualKind::Delivered)?;
    write_one(residuals, &corrected, ResidualKind::Corrected)?;
    Ok([path.to_owned(), corrected])
}

/// Writes one residual as 32-bit float WAV.
fn write_one(residuals: &Residuals, path: &Path, kind: ResidualKind) -> Result<()> {
    let what = || format!("cannot write the residual to {}", path.display());
    let (channels, sample_rate) = residuals.format().with_context(what)?;
    let spec = hound::WavSpec {
        channels: u16::try_from(channels).with_context(what)?,
        sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec).with_context(what)?;
    let written = residuals
        .render(kind, &mut |block| {
            block
                .iter()
                .try_for_each(|&x| writer.write_sample(x))
                .map_err(|source| analyzer_core::Error::Write {
                    path: path.to_owned(),
                    source,
                })
        })
        .map_err(anyhow::Error::new)
        .and_then(|()| writer.finalize().map_err(anyhow::Error::new));
    if let Err(e) = written {
        let _ = std::fs::remove_file(path);
        return Err(e.context(what()));
    }
    Ok(())
}

/// Longest residual excerpt embedded in the HTML report, seconds.
const EXCERPT_MAX_S: f64 = 10.0;

/// Most bytes of WAV embedded in the HTML report (the page holds 4/3 of it as base64): 1 MiB,
/// 10 s of 16-bit mono at 48 kHz, less at higher rates.
const EXCERPT_MAX_BYTES: usize = 1 << 20;

/// Peak the excerpt is raised to, dBFS: a residual 50 dB under the mix is inaudible at its
/// own level.
const EXCERPT_PEAK_DBFS: f64 = -1.0;

/// The `<section>` with an `<audio>` element the HTML report embeds (`--embed-residual`): the
/// loudest stretch (at most [`EXCERPT_MAX_S`] and [`EXCERPT_MAX_BYTES`]) of the residual as
/// delivered, as 16-bit mono WAV in a `data:` URI, raised to -1 dBFS peak with the gain said
/// beside it. The loudest stretch is found from the report's level timeline (no extra pass);
/// a silent residual gets a sentence instead of audio.
///
/// # Errors
/// When no reconciliation ran or the files can no longer be read.
pub fn excerpt_section(residuals: Option<&Residuals>, report: &Report) -> Result<String> {
    let residuals = residuals.ok_or_else(|| {
        anyhow!("cannot embed the residual: the stems were not reconciled against a mix")
    })?;
    let (channels, rate) = residuals.format()?;
    let max_frames = ((EXCERPT_MAX_S * f64::from(rate)) as usize).min((EXCERPT_MAX_BYTES - 44) / 2);
    let timeline = report
        .reconciliation
        .as_ref()
        .and_then(|r| r.timeline.as_ref());
    let start_s = timeline.map_or(0.0, |t| {
        loudest_start_s(
            &t.residual_db,
            t.step_s,
            max_frames as f64 / f64::from(rate),
        )
    });
    let start = (start_s * f64::from(rate)) as usize;
    let mut mono = Vec::with_capacity(max_frames);
    let mut frame = 0usize;
    residuals.render(ResidualKind::Delivered, &mut |block| {
        for f in block.chunks_exact(channels) {
            if (start..start + max_frames).contains(&frame) {
                mono.push(f.iter().sum::<f32>() / channels as f32);
            }
            frame += 1;
        }
        Ok(())
    })?;
    let peak = mono.iter().fold(0.0f32, |m, &x| m.max(x.abs()));
    if peak <= 0.0 {
        return Ok(SECTION_SILENT.to_owned());
    }
    let gain_db = EXCERPT_PEAK_DBFS - 20.0 * f64::from(peak).log10();
    let gain = 10f64.powf(gain_db / 20.0);
    let samples: Vec<i16> = mono
        .iter()
        .map(|&x| {
            (f64::from(x) * gain * 32767.0)
                .round()
                .clamp(-32768.0, 32767.0) as i16
        })
        .collect();
    let wav = wav16_mono(&samples, rate);
    Ok(format!(
        "<section id=\"residual-excerpt\"><h2>Residual excerpt</h2><p>The loudest {:.1} s of the residual as delivered (the mix minus the stems), from {:.1} s, mono, played at {} dB against its level in the mix so that it can be heard.</p><audio controls preload=\"none\" src=\"data:audio/wav;base64,{}\"></audio></section>",
        samples.len() as f64 / f64::from(rate),
        start as f64 / f64::from(rate),
        crate::render::signed(gain_db, 1),
        base64(&wav)
    ))
}

/// What the report says when the residual as delivered is silent.
const SECTION_SILENT: &str = "<section id=\"residual-excerpt\"><h2>Residual excerpt</h2><p>The residual as delivered is silent: the stems sum to the mix exactly.</p></section>";

/// Start (seconds) of the loudest stretch of `len_s` seconds, from per-step levels.
fn loudest_start_s(levels_db: &[Option<f64>], step_s: f64, len_s: f64) -> f64 {
    if step_s <= 0.0 || levels_db.is_empty() {
        return 0.0;
    }
    let energy: Vec<f64> = levels_db
        .iter()
        .map(|l| l.map_or(0.0, |db| 10f64.powf(db / 10.0)))
        .collect();
    let n = ((len_s / step_s).floor() as usize).clamp(1, energy.len());
    let best = (0..=energy.len() - n)
        .map(|i| (i, energy[i..i + n].iter().sum::<f64>()))
        .fold((0, -1.0), |b, c| if c.1 > b.1 { c } else { b });
    best.0 as f64 * step_s
}

/// `page` with `section` inserted before its closing `</body>` (appended when it has none).
pub fn embed(page: &str, section: &str) -> String {
    match page.rfind("</body>") {
        Some(at) => format!("{}{section}{}", &page[..at], &page[at..]),
        None => format!("{page}{section}"),
    }
}

/// A 16-bit mono PCM WAV file.
fn wav16_mono(samples: &[i16], rate: u32) -> Vec<u8> {
    let data = (samples.len() * 2) as u32;
    let mut w = Vec::with_capacity(44 + samples.len() * 2);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes()); // PCM
    w.extend_from_slice(&1u16.to_le_bytes()); // mono
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * 2).to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data.to_le_bytes());
    for s in samples {
        w.extend_from_slice(&s.to_le_bytes());
    }
    w
}

/// Standard base64 (RFC 4648, with padding).
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrected_file_sits_beside_the_delivered_one() {
        assert_eq!(
            corrected_path(Path::new("out/res.wav")),
            PathBuf::from("out/res.corrected.wav")
        );
        assert_eq!(
            corrected_path(Path::new("res")),
            PathBuf::from("res.corrected.wav")
        );
        assert_eq!(
            corrected_path(Path::new("/tmp/a.b.WAV")),
            PathBuf::from("/tmp/a.b.corrected.WAV")
        );
    }

    #[test]
    fn base64_as_rfc_4648_says() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn loudest_stretch_and_where_it_goes() {
        let levels = [Some(-60.0), None, Some(-20.0), Some(-10.0), Some(-50.0)];
        assert_eq!(loudest_start_s(&levels, 1.0, 2.0), 2.0);
        assert_eq!(loudest_start_s(&levels, 1.0, 30.0), 0.0);
        assert_eq!(loudest_start_s(&[], 1.0, 2.0), 0.0);
        assert_eq!(
            embed("<p>a</p></body></html>", "<s/>"),
            "<p>a</p><s/></body></html>"
        );
        assert_eq!(embed("<p>a</p>", "<s/>"), "<p>a</p><s/>");
    }

    #[test]
    fn standard_output_is_refused() {
        assert!(check_arg(Path::new("-")).is_err());
        assert!(check_arg(Path::new("r.wav")).is_ok());
    }
}
