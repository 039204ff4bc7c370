//! Reading what the plugin wrote, as an outside consumer of the capture layout
//! (`<root>/<bounce id>/<label>.wav` + `<label>.stemcheck.json`): the tests read the JSON fields
//! by name, so a renamed field fails here just as it would fail a user's script.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use analyzer_core::wav::WavReader;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::signals::Planar;

/// Suffix of a capture's sidecar.
pub const SIDECAR_SUFFIX: &str = ".stemcheck.json";

/// One capture: its sidecar fields the tests check, and where its audio is.
#[derive(Debug, Clone, PartialEq)]
pub struct Capture {
    pub sidecar_path: PathBuf,
    pub wav_path: PathBuf,
    pub role: String,
    pub label: String,
    pub state: String,
    pub host: String,
    pub bounce_id: String,
    pub process_mode: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub timeline_start_samples: i64,
    pub length_frames: u64,
    pub dropped_frames: u64,
    pub discontinuities: usize,
    pub instance_id: String,
}

fn field<'v>(v: &'v Value, path: &Path, name: &str) -> Result<&'v Value> {
    v.get(name).ok_or_else(|| Error::Capture {
        path: path.to_owned(),
        problem: format!("sidecar has no field {name}"),
    })
}

fn str_field(v: &Value, path: &Path, name: &str) -> Result<String> {
    field(v, path, name)?
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::Capture {
            path: path.to_owned(),
            problem: format!("{name} is not a string"),
        })
}

fn int_field(v: &Value, path: &Path, name: &str) -> Result<i64> {
    field(v, path, name)?
        .as_i64()
        .ok_or_else(|| Error::Capture {
            path: path.to_owned(),
            problem: format!("{name} is not an integer"),
        })
}

impl Capture {
    /// Reads one sidecar.
    ///
    /// # Errors
    /// When it cannot be read or lacks a field the contract promises.
    pub fn read(sidecar_path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(sidecar_path).map_err(|e| Error::io(sidecar_path, e))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| Error::Capture {
            path: sidecar_path.to_owned(),
            problem: e.to_string(),
        })?;
        let p = sidecar_path;
        let folder = p.parent().unwrap_or(Path::new("."));
        let as_u = |name: &str| -> Result<u64> {
            u64::try_from(int_field(&v, p, name)?).map_err(|_| Error::Capture {
                path: p.to_owned(),
                problem: format!("{name} is negative"),
            })
        };
        Ok(Self {
            sidecar_path: p.to_owned(),
            wav_path: folder.join(str_field(&v, p, "wav_file")?),
            role: str_field(&v, p, "role")?,
            label: str_field(&v, p, "label")?,
            state: str_field(&v, p, "state")?,
            host: str_field(&v, p, "host")?,
            bounce_id: str_field(&v, p, "bounce_id")?,
            process_mode: str_field(&v, p, "process_mode")?,
            sample_rate: u32::try_from(as_u("sample_rate")?).unwrap_or(0),
            channels: u16::try_from(as_u("channels")?).unwrap_or(0),
            timeline_start_samples: int_field(&v, p, "timeline_start_samples")?,
            length_frames: as_u("length_frames")?,
            dropped_frames: as_u("dropped_frames")?,
            discontinuities: field(&v, p, "discontinuities")?
                .as_array()
                .map_or(0, Vec::len),
            instance_id: str_field(&v, p, "instance_id")?,
        })
    }

    /// The captured audio, planar (exact f32 values of the 32-bit float WAV).
    ///
    /// # Errors
    /// When the WAV cannot be read.
    pub fn audio(&self) -> Result<Planar> {
        read_wav(&self.wav_path)
    }
}

/// A 32-bit float WAV's samples exactly as stored (NaN payloads kept), planar; `None` when
/// hound cannot read the file whole or it is not 32-bit float.
fn read_float_raw(path: &Path) -> Option<Planar> {
    let mut r = hound::WavReader::open(path).ok()?;
    let spec = r.spec();
    if spec.sample_format != hound::SampleFormat::Float || spec.bits_per_sample != 32 {
        return None;
    }
    let channels = usize::from(spec.channels).max(1);
    let mut out: Planar = vec![Vec::new(); channels];
    for (i, s) in r.samples::<f32>().enumerate() {
        out[i % channels].push(s.ok()?);
    }
    Some(out)
}

/// Reads a whole WAV as planar f32.
///
/// # Errors
/// When the file cannot be read.
pub fn read_wav(path: &Path) -> Result<Planar> {
    let mut r = WavReader::open(path)?;
    let channels = r.info().channels as usize;
    let mut out: Planar = vec![Vec::new(); channels];
    let mut buf = vec![0.0f32; 8192 * channels];
    loop {
        let n = r.read_frames(&mut buf)?;
        if n == 0 {
            break;
        }
        for frame in buf[..n * channels].chunks_exact(channels) {
            for (c, s) in frame.iter().enumerate() {
                out[c].push(*s);
            }
        }
    }
    // analyzer-core's reader reads NaN and infinite samples as silence (what an analysis
    // wants); a capture is verified bit for bit, NaN payloads included, so a 32-bit float file
    // whose samples hound reads in full is taken from hound's exact values instead.
    if let Some(raw) = read_float_raw(path).filter(|raw| {
        raw.len() == out.len() && raw.iter().zip(&out).all(|(a, b)| a.len() == b.len())
    }) {
        return Ok(raw);
    }
    Ok(out)
}

/// One bounce folder and its captures (sorted by label).
#[derive(Debug, Clone, PartialEq)]
pub struct Bounce {
    pub path: PathBuf,
    pub captures: Vec<Capture>,
}

impl Bounce {
    /// The capture labelled `label`.
    pub fn by_label(&self, label: &str) -> Option<&Capture> {
        self.captures.iter().find(|c| c.label == label)
    }

    /// The captures with role `mix`.
    pub fn mixes(&self) -> Vec<&Capture> {
        self.captures.iter().filter(|c| c.role == "mix").collect()
    }

    /// The labels, for messages.
    pub fn labels(&self) -> Vec<&str> {
        self.captures.iter().map(|c| c.label.as_str()).collect()
    }
}

/// Every bounce folder under `root` that holds at least one sidecar, oldest first (by name,
/// then by modification time).
///
/// # Errors
/// When a folder or sidecar cannot be read.
pub fn bounces(root: &Path) -> Result<Vec<Bounce>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io(root, e)),
    };
    let mut dirs: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| {
            (
                e.metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH),
                e.path(),
            )
        })
        .collect();
    dirs.sort();
    for (_, dir) in dirs {
        let mut captures = Vec::new();
        for e in std::fs::read_dir(&dir)
            .map_err(|e| Error::io(&dir, e))?
            .flatten()
        {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(SIDECAR_SUFFIX) {
                captures.push(Capture::read(&e.path())?);
            }
        }
        if !captures.is_empty() {
            captures.sort_by(|a, b| a.label.cmp(&b.label));
            out.push(Bounce {
                path: dir,
                captures,
            });
        }
    }
    Ok(out)
}

/// Waits until every capture under `root` has left the `recording` state (the writer threads
/// finish after the host stops), up to `timeout`; returns the bounces.
///
/// # Errors
/// When reading fails, or a capture is still recording at the timeout.
pub fn wait_finished(root: &Path, timeout: Duration) -> Result<Vec<Bounce>> {
    let start = Instant::now();
    loop {
        let all = bounces(root)?;
        let recording: Vec<&Capture> = all
            .iter()
            .flat_map(|b| &b.captures)
            .filter(|c| c.state == "recording")
            .collect();
        if recording.is_empty() && !all.is_empty() {
            return Ok(all);
        }
        if start.elapsed() > timeout {
            let what = if all.is_empty() {
                "no capture was written".to_string()
            } else {
                format!(
                    "still recording after {timeout:?}: {:?}",
                    recording
                        .iter()
                        .map(|c| &c.sidecar_path)
                        .collect::<Vec<_>>()
                )
            };
            return Err(Error::Capture {
                path: root.to_owned(),
                problem: what,
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Where two planar signals first differ, as `(channel, frame, a, b)`; also reports a length or
/// channel-count difference as frame = the shorter length.
pub fn first_difference(a: &Planar, b: &Planar) -> Option<(usize, usize, f32, f32)> {
    if a.len() != b.len() {
        return Some((a.len().min(b.len()), 0, f32::NAN, f32::NAN));
    }
    for (c, (x, y)) in a.iter().zip(b).enumerate() {
        if let Some(i) = x
            .iter()
            .zip(y)
            .position(|(p, q)| p.to_bits() != q.to_bits())
        {
            return Some((c, i, x[i], y[i]));
        }
        if x.len() != y.len() {
            return Some((c, x.len().min(y.len()), f32::NAN, f32::NAN));
        }
    }
    None
}

/// `audio` from timeline position `from` for `frames` frames, when the capture starts at
/// `timeline_start` (silence outside the capture).
pub fn window(audio: &Planar, timeline_start: i64, from: i64, frames: usize) -> Planar {
    audio
        .iter()
        .map(|ch| {
            (0..frames)
                .map(|i| {
                    let idx = from + i as i64 - timeline_start;
                    if idx >= 0 && (idx as usize) < ch.len() {
                        ch[idx as usize]
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_is_bitwise() {
        let a = vec![vec![0.0f32, 1.0]];
        let b = vec![vec![-0.0f32, 1.0]];
        assert_eq!(first_difference(&a, &a), None);
        assert_eq!(first_difference(&a, &b).map(|d| (d.0, d.1)), Some((0, 0)));
        let c = vec![vec![0.0f32]];
        assert!(first_difference(&a, &c).is_some());
    }

    #[test]
    fn window_shifts_by_timeline_start() {
        let a = vec![vec![1.0f32, 2.0, 3.0]];
        assert_eq!(window(&a, -1, 0, 3), vec![vec![2.0, 3.0, 0.0]]);
        assert_eq!(window(&a, 1, 0, 2), vec![vec![0.0, 1.0]]);
    }
}
