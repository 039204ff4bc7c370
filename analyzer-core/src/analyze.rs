//! The whole check of one delivery: find the files and the mix, meter every file (streamed, in
//! parallel), run the delivery checks, reconcile the stems against the mix, and build the
//! [`Report`]. The CLI and the plugin's reconciliation panel both call [`check_paths`], so they
//! always agree.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::capture::{self, CaptureRole, CaptureSidecar, CaptureState};
use crate::cause::{self, CaptureProblem, Cause, IncompleteCapture};
use crate::checks::{FileFacts, delivery_checks};
use crate::error::{Error, Result};
use crate::meter::Metrics;
use crate::profile::Profile;
use crate::report::{FileReport, LevelTimeline, Report, Role};
use crate::wav::{WavInfo, WavReader};

/// Frames read per block while metering (defined with the metering path it belongs to).
pub use crate::meter::METER_BLOCK_FRAMES;
/// Most stems reconciled against a mix in one check. The leave-one-out search grows faster
/// than linearly in stems (measured: 40 stems 0.7 s / 62 MB, 80 stems 7 s / 350 MB), so a
/// folder of hundreds of multitracks would run for an hour and take gigabytes; such a set is
/// reported as multitracks and checked file by file instead.
pub const MAX_RECONCILE_STEMS: usize = 64;

/// What a check run reports about its progress, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The total amount of work, in frames (all files, all passes).
    Total(u64),
    /// This many more frames are done.
    Advance(u64),
}

/// How to run a check.
pub struct Options<'a> {
    pub profile: &'static Profile,
    /// The mix, when the user named it (`--mix`).
    pub mix: Option<PathBuf>,
    /// Worker threads for metering (at least 1).
    pub threads: usize,
    /// Called from worker threads as work completes.
    pub progress: Option<&'a (dyn Fn(Progress) + Sync)>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Self {
            profile: &crate::profile::MASTERING,
            mix: None,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            progress: None,
        }
    }
}

impl std::fmt::Debug for Options<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("profile", &self.profile.name)
            .field("mix", &self.mix)
            .field("threads", &self.threads)
            .finish()
    }
}

/// One file of the delivery, before it is read.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub path: PathBuf,
    /// Name shown in the report.
    pub name: String,
    pub role: Role,
    /// The plugin's sidecar, when the file is a capture from a bounce folder.
    pub capture: Option<CaptureSidecar>,
}

/// Is this a WAV file name (by extension)?
fn is_wav_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("wav") || e.eq_ignore_ascii_case("wave"))
}

/// Does the file name say it is the mix (mix, mixdown, master, 2mix; case-insensitive)?
pub fn name_says_mix(name: &str) -> bool {
    let base = name.rsplit_once('.').map_or(name, |(b, _)| b);
    base.split(|c: char| !c.is_ascii_alphanumeric())
        .map(str::to_ascii_lowercase)
        .any(|w| {
            matches!(
                w.as_str(),
                "mix" | "mixdown" | "master" | "2mix" | "fullmix" | "stereomix"
            )
        })
}

/// Expands files and folders into the list of files to check and decides which one is the mix.
///
/// A folder contributes its `.wav` files (not recursively). A file named explicitly is always
/// included, whatever its extension, so a mislabelled file is reported rather than skipped.
///
/// # Errors
/// A path that does not exist or cannot be listed, or no file at all to check.
pub fn collect_inputs(paths: &[PathBuf], mix: Option<&Path>) -> Result<Vec<Input>> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut captures: Vec<(PathBuf, CaptureSidecar)> = Vec::new();
    let mut bad_sidecars: Vec<Error> = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|source| Error::Io {
            path: p.clone(),
            source,
        })?;
        if meta.is_dir() && is_bounce_folder(p) {
            // A plugin bounce folder: the sidecars say which WAV is what.
            let bounce = capture::read_bounce(p)?;
            for c in bounce.captures {
                files.push(c.wav_path.clone());
                captures.push((c.wav_path, c.sidecar));
            }
            bad_sidecars.extend(bounce.unreadable);
        } else if meta.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|source| Error::Io {
                    path: p.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| is_wav_name(f) && !f.is_dir())
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    if let Some(m) = mix
        && !m.exists()
    {
        return Err(Error::Io {
            path: m.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "mix file not found"),
        });
    }
    // The same file named twice (or the mix also inside a folder) is checked once.
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let mix_canon = mix.map(canon);
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(canon(f)) && Some(canon(f)) != mix_canon);
    if let Some(m) = mix {
        files.insert(0, m.to_owned());
    }
    if files.is_empty() {
        return Err(Error::NoInput {
            searched: paths.to_vec(),
        });
    }
    let mut inputs: Vec<Input> = files
        .into_iter()
        .map(|path| {
            let capture = captures
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, c)| c.clone());
            Input {
                name: file_name(&path),
                path,
                role: Role::Stem,
                capture,
            }
        })
        .collect();
    // A sidecar that cannot be read still names a capture the user expects to see.
    for e in bad_sidecars {
        if let Error::Sidecar { path, .. } | Error::Io { path, .. } = &e {
            let wav = sidecar_wav_path(path);
            if !inputs.iter().any(|i| i.path == wav) {
                inputs.push(Input {
                    name: file_name(&wav),
                    path: wav,
                    role: Role::Stem,
                    capture: None,
                });
            }
        }
    }
    disambiguate_names(&mut inputs);
    if mix.is_some() {
        inputs[0].role = Role::Mix;
    } else if let Some(i) = capture_mix_index(&inputs).or_else(|| sidecar_mix_index(&inputs)) {
        inputs[i].role = Role::Mix;
    } else {
        let candidates: Vec<usize> = (0..inputs.len())
            .filter(|&i| name_says_mix(&inputs[i].name))
            .collect();
        if candidates.len() == 1 {
            inputs[candidates[0]].role = Role::Mix;
        } else if candidates.len() > 1 {
            // Several names say mix: prefer the one that says "mix" over "master", then the
            // shortest name (the plainest "Song_Mix" over "Song_Mix_Instrumental").
            let rank = |i: usize| {
                let n = inputs[i].name.to_ascii_lowercase();
                (if n.contains("mix") { 0 } else { 1 }, n.len())
            };
            let best = candidates
                .into_iter()
                .min_by_key(|&i| rank(i))
                .expect("non-empty");
            inputs[best].role = Role::Mix;
        }
    }
    Ok(inputs)
}

/// A folder the plugin wrote: it has a bounce manifest or capture sidecars.
pub fn is_bounce_folder(dir: &Path) -> bool {
    dir.join(capture::BOUNCE_MANIFEST).is_file()
        || std::fs::read_dir(dir).is_ok_and(|mut it| {
            it.any(|e| {
                e.is_ok_and(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .ends_with(capture::SIDECAR_SUFFIX)
                })
            })
        })
}

/// The WAV a sidecar path belongs to (`X.stemcheck.json` -> `X.wav`).
fn sidecar_wav_path(sidecar: &Path) -> PathBuf {
    let name = sidecar
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(capture::SIDECAR_SUFFIX).unwrap_or(&name);
    sidecar.with_file_name(format!("{stem}.wav"))
}

/// Candidate sidecar paths of a capture WAV written by the plugin.
fn sidecar_candidates(wav: &Path) -> [PathBuf; 3] {
    let mut long = wav.as_os_str().to_owned();
    long.push(".json");
    [
        wav.with_extension("stemcheck.json"),
        wav.with_extension("json"),
        PathBuf::from(long),
    ]
}

/// The role a plugin sidecar gives a capture, if there is a sidecar that says one.
pub fn sidecar_role(wav: &Path) -> Option<Role> {
    sidecar_candidates(wav).iter().find_map(|p| {
        let text = std::fs::read_to_string(p).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        match v.get("role")? {
            serde_json::Value::String(s) if s.eq_ignore_ascii_case("mix") => Some(Role::Mix),
            serde_json::Value::String(s) if s.eq_ignore_ascii_case("stem") => Some(Role::Stem),
            serde_json::Value::Number(n) => match n.as_u64()? {
                0 => Some(Role::Stem),
                1 => Some(Role::Mix),
                _ => None,
            },
            _ => None,
        }
    })
}

/// Index of the one capture whose sidecar says it is the mix.
fn capture_mix_index(inputs: &[Input]) -> Option<usize> {
    let mixes: Vec<usize> = (0..inputs.len())
        .filter(|&i| {
            inputs[i]
                .capture
                .as_ref()
                .is_some_and(|c| c.role == CaptureRole::Mix)
        })
        .collect();
    (mixes.len() == 1).then(|| mixes[0])
}

/// Index of the one input whose plugin sidecar says it is the mix.
fn sidecar_mix_index(inputs: &[Input]) -> Option<usize> {
    let mixes: Vec<usize> = (0..inputs.len())
        .filter(|&i| sidecar_role(&inputs[i].path) == Some(Role::Mix))
        .collect();
    (mixes.len() == 1).then(|| mixes[0])
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Files of the same name from different folders are shown with their path.
fn disambiguate_names(inputs: &mut [Input]) {
    for i in 0..inputs.len() {
        if inputs.iter().filter(|o| o.name == inputs[i].name).count() > 1 {
            for j in 0..inputs.len() {
                if inputs[j].name == inputs[i].name && j != i {
                    inputs[j].name = inputs[j].path.display().to_string();
                }
            }
            inputs[i].name = inputs[i].path.display().to_string();
        }
    }
}

/// What metering one file produced.
struct Metered {
    info: WavInfo,
    metrics: Metrics,
}

/// Meters one file in blocks. Memory: one block.
fn meter_one(path: &Path, progress: &dyn Fn(u64)) -> Result<Metered> {
    let (info, metrics) = crate::meter::meter_file(path, progress)?;
    Ok(Metered { info, metrics })
}

/// Checks the files and folders in `paths` (see [`collect_inputs`]) and returns the report.
///
/// # Errors
/// Only when there is nothing to check at all (see [`collect_inputs`]). Unreadable files are
/// `unreadable_file` findings in the report.
pub fn check_paths(paths: &[PathBuf], opts: &Options<'_>) -> Result<Report> {
    let inputs = collect_inputs(paths, opts.mix.as_deref())?;
    Ok(check_inputs(&inputs, opts))
}

/// Checks an already collected list of files.
pub fn check_inputs(inputs: &[Input], opts: &Options<'_>) -> Report {
    let profile = opts.profile;
    let progress = |p: Progress| {
        if let Some(cb) = opts.progress {
            cb(p);
        }
    };
    // Work estimate: every file is read once for metering, stems and mix once more for
    // reconciliation. Headers are cheap to read up front.
    let headers: Vec<Option<WavInfo>> = inputs
        .iter()
        .map(|i| WavReader::open(&i.path).ok().map(|r| r.info().clone()))
        .collect();
    let total: u64 = headers.iter().flatten().map(|h| h.frames).sum();
    progress(Progress::Total(total * 2));
    let mix_index = inputs.iter().position(|i| i.role == Role::Mix);

    // The reconciliation does not need the meters, only which files are readable at the
    // mix's rate: it starts at once from the headers, beside the metering, and is redone
    // below in the rare case that metering finds a file the headers did not warn about.
    // Sets above MAX_RECONCILE_STEMS are never reconciled (see below), so never start one.
    let planned = reconcile_plan(inputs.len(), mix_index, |i| {
        headers[i].as_ref().map(|h| h.sample_rate)
    })
    .filter(|(_, stems)| !stems.is_empty() && stems.len() <= MAX_RECONCILE_STEMS);
    let reconcile = |(mi, stems): &(usize, Vec<usize>)| {
        let stem_paths: Vec<&Path> = stems.iter().map(|&i| inputs[i].path.as_path()).collect();
        let cb = |n: u64| progress(Progress::Advance(n));
        crate::diagnose::reconcile_and_diagnose(&inputs[*mi].path, &stem_paths, opts.profile, &cb)
    };

    // Meter every file on a small pool of threads; results keep the input order. While the
    // reconciliation runs it has a core of its own.
    let results: Vec<Mutex<Option<Result<Metered>>>> =
        inputs.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let threads = opts.threads.clamp(1, inputs.len().max(1));
    let meter_threads = if planned.is_some() {
        threads.saturating_sub(1).max(1)
    } else {
        threads
    };
    let mut speculative = std::thread::scope(|s| {
        let rec = planned
            .as_ref()
            .map(|plan| s.spawn(|| (plan.clone(), reconcile(plan))));
        for _ in 0..meter_threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= inputs.len() {
                        break;
                    }
                    let r = meter_one(&inputs[i].path, &|n| progress(Progress::Advance(n)));
                    *results[i].lock().expect("no panics while holding") = Some(r);
                }
            });
        }
        rec.map(|h| h.join().expect("reconciliation does not panic"))
    });
    let results: Vec<Result<Metered>> = results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .expect("not poisoned")
                .expect("every file metered")
        })
        .collect();

    let mut causes: Vec<Cause> = Vec::new();
    let mut files = Vec::with_capacity(inputs.len());
    let mut facts = Vec::new();
    for (input, result) in inputs.iter().zip(&results) {
        let mut file = FileReport {
            path: input.name.clone(),
            role: Some(input.role),
            ..Default::default()
        };
        match result {
            Ok(m) => {
                fill_file_report(&mut file, m);
                facts.push(file_facts(input, m));
                if m.info.truncated {
                    causes.push(Cause::Truncated {
                        file: input.name.clone(),
                        declared_frames: m.info.declared_frames,
                        frames: m.info.frames,
                    });
                }
            }
            Err(e) => {
                file.error = Some(e.to_string());
                causes.push(Cause::Unreadable {
                    file: input.name.clone(),
                    reason: e.problem(),
                });
            }
        }
        files.push(file);
    }
    causes.extend(delivery_checks(&facts, profile));
    causes.extend(capture_causes(inputs, |i| {
        results[i].as_ref().ok().map(|m| m.info.frames)
    }));

    let readable = |i: usize| results[i].as_ref().ok();
    let mut reconciliation = None;
    match mix_index {
        None => causes.push(Cause::NoMix),
        Some(mi) => match readable(mi) {
            None => causes.push(Cause::MixUnreadable {
                mix: inputs[mi].name.clone(),
            }),
            Some(mix) => {
                let rate = mix.info.sample_rate;
                let stems: Vec<usize> = (0..inputs.len())
                    .filter(|&i| i != mi && readable(i).is_some_and(|m| m.info.sample_rate == rate))
                    .collect();
                let skipped: Vec<String> = (0..inputs.len())
                    .filter(|&i| i != mi && readable(i).is_some_and(|m| m.info.sample_rate != rate))
                    .map(|i| inputs[i].name.clone())
                    .collect();
                if !skipped.is_empty() {
                    causes.push(Cause::LeftOutOfReconciliation {
                        files: skipped,
                        mix_sample_rate: rate,
                    });
                }
                if stems.len() > MAX_RECONCILE_STEMS {
                    causes.push(Cause::TooManyStems {
                        mix: inputs[mi].name.clone(),
                        stems: stems.len(),
                        max_stems: MAX_RECONCILE_STEMS,
                    });
                } else if stems.is_empty() {
                    causes.push(Cause::NoStemAtMixRate);
                } else {
                    let plan = (mi, stems.clone());
                    let result = match speculative.take() {
                        Some((p, r)) if p == plan => r,
                        _ => reconcile(&plan),
                    };
                    match result {
                        Ok(result) => {
                            let name_of_path = |p: &str| {
                                inputs
                                    .iter()
                                    .find(|i| i.path.display().to_string() == p || i.name == p)
                                    .map_or_else(|| p.to_owned(), |i| i.name.clone())
                            };
                            for (k, fit) in result.stems.iter().enumerate() {
                                if let Some(fit) = fit {
                                    let file = &mut files[stems[k]];
                                    // Captures are keyed by timeline position: a capture that
                                    // began later on the timeline holds its audio earlier in
                                    // its file, which is not an offset of the stem itself.
                                    let timeline_shift =
                                        match (&inputs[stems[k]].capture, &inputs[mi].capture) {
                                            (Some(s), Some(m)) => {
                                                s.timeline_start_samples - m.timeline_start_samples
                                            }
                                            _ => 0,
                                        };
                                    file.offset_samples = Some(fit.offset_samples + timeline_shift);
                                    file.gain_db = Some(fit.gain_db);
                                    file.polarity = Some(fit.polarity);
                                }
                            }
                            let mut rec = result.reconciliation;
                            rec.timeline = Some(level_timeline(
                                &result.blocks,
                                result.sample_rate,
                                result.mix_channels,
                            ));
                            rec.mix = Some(inputs[mi].name.clone());
                            reconciliation = Some(rec);
                            // Reconciliation speaks of paths; the report speaks of names.
                            causes.extend(result.causes.into_iter().map(|mut c| {
                                c.rename_files(name_of_path);
                                c
                            }));
                        }
                        Err(e) => causes.push(Cause::ReconciliationFailed {
                            reason: e.to_string(),
                        }),
                    }
                }
            }
        },
    }
    Report::new(
        profile.name,
        files,
        reconciliation,
        cause::findings(&causes),
    )
}

/// The mix and the stems to reconcile against it (readable, at the mix's rate), given each
/// file's sample rate when it is readable; `None` when there is nothing to reconcile.
fn reconcile_plan(
    files: usize,
    mix_index: Option<usize>,
    rate_of: impl Fn(usize) -> Option<u32>,
) -> Option<(usize, Vec<usize>)> {
    let mi = mix_index?;
    let rate = rate_of(mi)?;
    let stems: Vec<usize> = (0..files)
        .filter(|&i| i != mi && rate_of(i) == Some(rate))
        .collect();
    (!stems.is_empty()).then_some((mi, stems))
}

/// Mix and residual level per second from the reconciliation's ~10 ms block energies.
fn level_timeline(
    blocks: &crate::reconcile::BlockStats,
    sample_rate: u32,
    channels: usize,
) -> LevelTimeline {
    let per_second = (sample_rate as usize / blocks.block_frames.max(1)).max(1);
    let s = blocks.aggregate(per_second);
    let level = |energy: f32| {
        let n = (s.block_frames * channels.max(1)) as f64;
        (energy > 0.0).then(|| 10.0 * (energy as f64 / n).log10())
    };
    LevelTimeline {
        step_s: s.block_frames as f64 / f64::from(sample_rate.max(1)),
        mix_db: s.mix.iter().map(|&e| level(e)).collect(),
        residual_db: s.residual.iter().map(|&e| level(e)).collect(),
    }
}

/// Plugin captures that did not complete cleanly. `readable_frames(i)` is how many frames
/// input `i`'s WAV holds (`None` when it could not be read).
fn capture_causes(inputs: &[Input], readable_frames: impl Fn(usize) -> Option<u64>) -> Vec<Cause> {
    let now = capture::now_unix_ms();
    let mut out = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let Some(c) = &input.capture else { continue };
        // The writer does not wait for the disk when a capture completes (the host would wait
        // with it), so a power cut soon after a bounce can leave a WAV shorter than its
        // sidecar says: that capture is not complete, whatever the sidecar claims.
        let short_by = readable_frames(i)
            .filter(|_| c.state == CaptureState::Complete)
            .map_or(0, |frames| c.length_frames.saturating_sub(frames));
        let problem = match c.state {
            CaptureState::Complete if short_by > 0 => CaptureProblem::CutShort {
                short_by_frames: short_by,
            },
            CaptureState::Aborted => CaptureProblem::Aborted {
                error: c.error.clone(),
            },
            CaptureState::Recording if c.is_incomplete(now) => CaptureProblem::StoppedRecording,
            CaptureState::Recording => CaptureProblem::StillRecording,
            CaptureState::Complete if c.dropped_frames > 0 => CaptureProblem::DroppedFrames,
            CaptureState::Complete => continue,
        };
        out.push(Cause::IncompleteCapture(IncompleteCapture {
            file: input.name.clone(),
            label: c.label.clone(),
            problem,
            state: c.state,
            dropped_frames: c.dropped_frames,
            length_frames: c.length_frames,
            bounce_id: c.bounce_id.clone(),
        }));
    }
    out
}

fn fill_file_report(file: &mut FileReport, m: &Metered) {
    let (info, x) = (&m.info, &m.metrics);
    file.sample_rate = Some(info.sample_rate);
    file.bits_per_sample = Some(info.bits_per_sample);
    file.sample_format = Some(info.sample_format);
    file.channels = Some(info.channels);
    file.frames = Some(info.frames);
    file.duration_s = Some(info.frames as f64 / f64::from(info.sample_rate.max(1)));
    file.sample_peak_dbfs = x.sample_peak_dbfs;
    file.true_peak_dbtp = x.true_peak_dbtp;
    file.integrated_lufs = x.integrated_lufs;
    file.loudness_range_lu = x.loudness_range_lu;
    file.max_momentary_lufs = x.max_momentary_lufs;
    file.max_short_term_lufs = x.max_short_term_lufs;
    file.dc_offset_dbfs = x.dc_offset_dbfs;
    file.clipped_runs = Some(x.clipped_runs);
    file.non_finite_samples = Some(x.non_finite_samples);
}

fn file_facts(input: &Input, m: &Metered) -> FileFacts {
    let (info, x) = (&m.info, &m.metrics);
    FileFacts {
        name: input.name.clone(),
        role: Some(input.role),
        sample_rate: info.sample_rate,
        channels: info.channels,
        bits_per_sample: info.bits_per_sample,
        sample_format: Some(info.sample_format),
        frames: info.frames,
        sample_peak_dbfs: x.sample_peak_dbfs,
        true_peak_dbtp: x.true_peak_dbtp,
        dc_offset_dbfs: x.dc_offset_dbfs,
        clipped_runs: x.clipped_runs,
        longest_clip_run_samples: x.longest_clip_run_samples,
        non_finite_samples: x.non_finite_samples,
        content_hash: x.content_hash,
        envelope_db: x.envelope_db.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_names() {
        for n in [
            "Song_Mix.wav",
            "MIXDOWN.wav",
            "song-master.wav",
            "2mix.wav",
            "Final Mix v2.wav",
        ] {
            assert!(name_says_mix(n), "{n}");
        }
        for n in [
            "Song_Drums.wav",
            "Premixed_Bass.wav",
            "Remix_Vox.wav",
            "Mixer.wav",
        ] {
            assert!(!name_says_mix(n), "{n}");
        }
    }
}
