//! A "master mix + stems" export as REAPER runs it, on the CLAP host: one StemCheck per stem
//! track (role stem) and one on the master (role mix), every instance processed on its own
//! thread, the master fed the sum of the stems. Also the same bounce with every instance in its
//! own process (Bitwig's plugin sandboxing), through the `clap-instance` binary.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use clack_extensions::render::RenderMode;

use crate::captures::{Bounce, first_difference, window};
use crate::clap_host::{Bundle, Instance, find_param, nice_plug_param_hash};
use crate::error::{Error, Result};
use crate::render::{RenderPlan, Rendered, render};
use crate::signals::Planar;

/// The plugin's display name in the CLAP factory (`STEMCHECK_PLUGIN_NAME` overrides, to try the
/// harness on another plugin).
pub fn plugin_name() -> String {
    std::env::var("STEMCHECK_PLUGIN_NAME").unwrap_or_else(|_| crate::paths::BUNDLE_NAME.to_string())
}

/// The plugin's `role` parameter values (report contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Stem = 0,
    Mix = 1,
}

impl Role {
    /// The role string the sidecars use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stem => "stem",
            Self::Mix => "mix",
        }
    }
}

/// One host track with a StemCheck on it, and the audio the host feeds that instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    pub name: String,
    pub role: Role,
    pub input: Planar,
}

/// Finds the `role` parameter and checks the contract: CLAP id = nice-plug's hash of the stable
/// string id "role", stepped, plain values 0 (stem) and 1 (mix).
///
/// # Errors
/// When the parameter is missing or breaks the contract.
pub fn role_param(instance: &mut Instance, bundle: &Path) -> Result<u32> {
    let params = instance.params()?;
    let bad = |reason: String| Error::ClapPlugin {
        path: bundle.to_owned(),
        step: "role parameter",
        reason,
    };
    let p = find_param(&params, "Role")
        .ok_or_else(|| bad(format!("no parameter named Role in {params:?}")))?;
    if p.id != nice_plug_param_hash("role") {
        return Err(bad(format!(
            "id {} is not the hash of the stable id \"role\"",
            p.id
        )));
    }
    if !p.stepped || p.min_value != 0.0 || p.max_value < 1.0 || p.default_value != 0.0 {
        return Err(bad(format!(
            "not a stepped 0..N parameter defaulting to stem: {p:?}"
        )));
    }
    Ok(p.id)
}

/// Creates an instance on `track`, sets its role and the render mode.
///
/// # Errors
/// When any step fails.
pub fn instance_for(
    bundle: &Bundle,
    track: &str,
    role: Role,
    mode: RenderMode,
) -> Result<Instance> {
    let mut inst = Instance::new(bundle, track)?;
    let id = role_param(&mut inst, bundle.path())?;
    inst.set_param(id, f64::from(role as u8))?;
    inst.set_render_mode(mode)?;
    Ok(inst)
}

/// Plays `bounces` bounces of `tracks` back to back in this process: instances created and
/// activated on the calling (main) thread, each instance's processing on its own thread per
/// bounce, deactivation at the end. `plan(i, b)` is the plan of track `i` in bounce `b`.
/// Returns what each instance put out, per bounce.
///
/// # Errors
/// When any instance fails.
pub fn run_in_process(
    bundle: &Bundle,
    tracks: &[Track],
    mode: RenderMode,
    bounces: usize,
    plan: &dyn Fn(usize, usize) -> RenderPlan,
) -> Result<Vec<Vec<Rendered>>> {
    run_in_process_with(bundle, tracks, mode, bounces, plan, &|_, _| Ok(()))
}

/// Sets the plugin's `arm_playback` parameter (the session-wide arm of real-time capture) on
/// the instance on the mix track; for [`run_in_process_with`].
///
/// # Errors
/// When the parameter cannot be set.
pub fn arm_on_mix(inst: &mut Instance, track: &Track) -> Result<()> {
    if track.role == Role::Mix {
        inst.set_param(nice_plug_param_hash("arm_playback"), 1.0)?;
    }
    Ok(())
}

/// [`run_in_process`] with `setup` applied to each instance before it is activated.
///
/// # Errors
/// When any instance fails.
pub fn run_in_process_with(
    bundle: &Bundle,
    tracks: &[Track],
    mode: RenderMode,
    bounces: usize,
    plan: &dyn Fn(usize, usize) -> RenderPlan,
    setup: &dyn Fn(&mut Instance, &Track) -> Result<()>,
) -> Result<Vec<Vec<Rendered>>> {
    let mut instances = tracks
        .iter()
        .map(|t| {
            let mut inst = instance_for(bundle, &t.name, t.role, mode)?;
            setup(&mut inst, t)?;
            Ok(inst)
        })
        .collect::<Result<Vec<_>>>()?;
    let max = (0..tracks.len())
        .map(|i| plan(i, 0).blocks.max())
        .max()
        .unwrap_or(8192);
    let rate = plan(0, 0).sample_rate;
    let mut processors = Vec::new();
    for inst in &mut instances {
        processors.push(Some(inst.activate(f64::from(rate), max)?));
    }
    let mut results = Vec::new();
    for b in 0..bounces {
        let outcome: Vec<Result<_>> = std::thread::scope(|s| {
            let handles: Vec<_> = processors
                .iter_mut()
                .zip(tracks)
                .enumerate()
                .map(|(i, (p, t))| {
                    let processor = p.take().expect("processor present between bounces");
                    let plan = plan(i, b);
                    s.spawn(move || render(processor, &t.input, &plan))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("render thread panicked"))
                .collect()
        });
        let mut rendered = Vec::new();
        for (slot, r) in processors.iter_mut().zip(outcome) {
            let (p, out) = r?;
            *slot = Some(p);
            rendered.push(out);
        }
        for inst in &mut instances {
            inst.pump_main_thread();
        }
        results.push(rendered);
    }
    for (inst, p) in instances.iter_mut().zip(processors) {
        if let Some(p) = p {
            inst.deactivate(p);
        }
        inst.pump_main_thread();
    }
    Ok(results)
}

/// Arguments of the `clap-instance` binary for one track.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildArgs {
    pub bundle: PathBuf,
    pub track: String,
    pub role: Role,
    pub input: PathBuf,
    pub output: PathBuf,
    pub offline: bool,
    pub seed: u64,
    /// Real-time mode pace in multiples of real time (`--speed`); `None`: the binary's default.
    pub speed: Option<f64>,
    /// Sets `arm_playback` (`--arm`): a real-time pass at 1x is kept only when armed.
    pub arm: bool,
}

impl ChildArgs {
    /// The command line.
    pub fn to_args(&self) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "--bundle".into(),
            self.bundle.display().to_string(),
            "--track".into(),
            self.track.clone(),
            "--role".into(),
            self.role.as_str().into(),
            "--input".into(),
            self.input.display().to_string(),
            "--output".into(),
            self.output.display().to_string(),
            "--mode".into(),
            if self.offline { "offline" } else { "realtime" }.into(),
            "--seed".into(),
            self.seed.to_string(),
        ];
        if let Some(speed) = self.speed {
            args.extend(["--speed".into(), speed.to_string()]);
        }
        if self.arm {
            args.push("--arm".into());
        }
        args
    }

    /// Parses [`ChildArgs::to_args`] output.
    ///
    /// # Errors
    /// A message naming the bad argument.
    pub fn parse(args: &[String]) -> std::result::Result<Self, String> {
        let get = |name: &str| -> std::result::Result<String, String> {
            let i = args
                .iter()
                .position(|a| a == name)
                .ok_or_else(|| format!("missing {name}"))?;
            args.get(i + 1)
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        Ok(Self {
            bundle: get("--bundle")?.into(),
            track: get("--track")?,
            role: match get("--role")?.as_str() {
                "stem" => Role::Stem,
                "mix" => Role::Mix,
                other => return Err(format!("bad --role {other}")),
            },
            input: get("--input")?.into(),
            output: get("--output")?.into(),
            offline: match get("--mode")?.as_str() {
                "offline" => true,
                "realtime" => false,
                other => return Err(format!("bad --mode {other}")),
            },
            seed: get("--seed")?
                .parse()
                .map_err(|e| format!("bad --seed: {e}"))?,
            speed: match args.iter().position(|a| a == "--speed") {
                Some(_) => Some(
                    get("--speed")?
                        .parse()
                        .map_err(|e| format!("bad --speed: {e}"))?,
                ),
                None => None,
            },
            arm: args.iter().any(|a| a == "--arm"),
        })
    }
}

/// Spawns one `clap-instance` process per track (all at once, as a sandboxing host does) with
/// `capture_dir` as STEMCHECK_CAPTURE_DIR; writes each track's input to `work` first; waits for
/// all and returns each process's output audio.
///
/// # Errors
/// When a process cannot start or fails.
pub fn run_in_processes(
    exe: &Path,
    bundle: &Path,
    tracks: &[Track],
    offline: bool,
    work: &Path,
    capture_dir: &Path,
    rate: u32,
) -> Result<Vec<Planar>> {
    let mut children: Vec<(ChildArgs, Child)> = Vec::new();
    for (i, t) in tracks.iter().enumerate() {
        let input = work.join(format!("in-{i}.wav"));
        let output = work.join(format!("out-{i}.wav"));
        write_wav(&input, &t.input, rate)?;
        let args = ChildArgs {
            bundle: bundle.to_owned(),
            track: t.name.clone(),
            role: t.role,
            input,
            output,
            offline,
            seed: 100 + i as u64,
            speed: None,
            arm: false,
        };
        let child = Command::new(exe)
            .args(args.to_args())
            .env("STEMCHECK_CAPTURE_DIR", capture_dir)
            .spawn()
            .map_err(|e| Error::io(exe, e))?;
        children.push((args, child));
    }
    let mut outputs = Vec::new();
    for (args, mut child) in children {
        let status = child.wait().map_err(|e| Error::io(exe, e))?;
        if !status.success() {
            return Err(Error::Command {
                program: format!("{} for track {}", exe.display(), args.track),
                status: status.to_string(),
                stderr_tail: "see the test's stderr".into(),
            });
        }
        outputs.push(crate::captures::read_wav(&args.output)?);
    }
    Ok(outputs)
}

/// Writes planar audio as a 32-bit float WAV.
///
/// # Errors
/// When the file cannot be written.
pub fn write_wav(path: &Path, audio: &Planar, rate: u32) -> Result<()> {
    let channels = u16::try_from(audio.len()).unwrap_or(u16::MAX);
    analyzer_core::synth::write_wav(
        path,
        channels,
        rate,
        analyzer_core::synth::WavFormat::Float32,
        &crate::signals::interleave(audio),
    )?;
    Ok(())
}

/// Checks one bounce folder against the tracks that were played: one capture per track, labelled
/// with the track name, with its role, complete, nothing dropped, starting at `start_samples`,
/// exactly as long as the bounce, and bit-identical to what the host fed that instance.
/// Returns the problems found (empty = all good), so a test can report them all at once.
pub fn verify_bounce(
    bounce: &Bounce,
    tracks: &[Track],
    start_samples: i64,
    host: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    if bounce.captures.len() != tracks.len() {
        problems.push(format!(
            "{} captures ({:?}) for {} tracks",
            bounce.captures.len(),
            bounce.labels(),
            tracks.len()
        ));
    }
    let ids: std::collections::HashSet<&str> = bounce
        .captures
        .iter()
        .map(|c| c.bounce_id.as_str())
        .collect();
    if ids.len() != 1 {
        problems.push(format!("captures disagree on the bounce id: {ids:?}"));
    }
    for t in tracks {
        let Some(c) = bounce.by_label(&t.name) else {
            problems.push(format!(
                "no capture labelled {:?} (labels {:?})",
                t.name,
                bounce.labels()
            ));
            continue;
        };
        let frames = t.input.first().map_or(0, Vec::len);
        let name = &t.name;
        if c.role != t.role.as_str() {
            problems.push(format!(
                "{name}: role {} instead of {}",
                c.role,
                t.role.as_str()
            ));
        }
        if c.state != "complete" {
            problems.push(format!("{name}: state {}", c.state));
        }
        if c.host != host {
            problems.push(format!("{name}: host {:?} instead of {host:?}", c.host));
        }
        if c.dropped_frames != 0 {
            problems.push(format!("{name}: {} frames dropped", c.dropped_frames));
        }
        if c.timeline_start_samples != start_samples {
            problems.push(format!(
                "{name}: starts at {} instead of {start_samples}",
                c.timeline_start_samples
            ));
        }
        if c.length_frames != frames as u64 {
            problems.push(format!(
                "{name}: sidecar says {} frames, the bounce had {frames}",
                c.length_frames
            ));
        }
        match c.audio() {
            Err(e) => problems.push(format!("{name}: {e}")),
            Ok(audio) => {
                if audio.first().map_or(0, Vec::len) != frames {
                    problems.push(format!(
                        "{name}: WAV holds {} frames, the bounce had {frames}",
                        audio.first().map_or(0, Vec::len)
                    ));
                }
                let got = window(&audio, c.timeline_start_samples, start_samples, frames);
                if let Some((ch, i, a, b)) = first_difference(&got, &t.input) {
                    problems.push(format!(
                        "{name}: capture differs from the input at channel {ch} frame {i}: {a:e} vs {b:e}"
                    ));
                }
            }
        }
    }
    problems
}

/// Checks that every instance passed its input through untouched (latency 0, bit-exact).
pub fn verify_passthrough(tracks: &[Track], outputs: &[&Planar]) -> Vec<String> {
    tracks
        .iter()
        .zip(outputs)
        .filter_map(|(t, out)| {
            first_difference(out, &t.input).map(|(ch, i, a, b)| {
                format!(
                    "{}: output differs from input at ch {ch} frame {i}: {a:e} vs {b:e}",
                    t.name
                )
            })
        })
        .collect()
}
