//! One StemCheck instance in its own process, as a sandboxing host (Bitwig) runs plugins: loads
//! the `.clap`, sets the role and render mode, plays the input WAV as one bounce (varying blocks,
//! seconds timeline) and writes the plugin's output WAV. The capture goes wherever
//! `STEMCHECK_CAPTURE_DIR` says. Used by the host tests; usage: see `ChildArgs::to_args`.

use anyhow::Context;
use clack_extensions::render::RenderMode;
use host_tests::clap_host::{Bundle, nice_plug_param_hash};
use host_tests::render::{RenderPlan, render};
use host_tests::scenario::{ChildArgs, instance_for, plugin_name, write_wav};

/// Speed of the real-time mode pass, in multiples of real time.
const REALTIME_SPEED: f64 = 8.0;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a = ChildArgs::parse(&args).map_err(anyhow::Error::msg).context("usage: clap-instance --bundle F.clap --track NAME --role stem|mix --input IN.wav --output OUT.wav --mode offline|realtime --seed N [--speed X] [--arm]")?;
    let input = host_tests::captures::read_wav(&a.input)?;
    let rate = analyzer_core::wav::WavReader::open(&a.input)?
        .info()
        .sample_rate;
    let bundle = Bundle::load(&a.bundle, &plugin_name())?;
    let mode = if a.offline {
        RenderMode::Offline
    } else {
        RenderMode::Realtime
    };
    let mut inst = instance_for(&bundle, &a.track, a.role, mode)?;
    if a.arm {
        inst.set_param(nice_plug_param_hash("arm_playback"), 1.0)?;
    }
    let plan = if a.offline {
        RenderPlan::bounce(rate, a.seed)
    } else {
        // A real-time pass of a host that renders faster than real time.
        RenderPlan::realtime(rate, a.speed.unwrap_or(REALTIME_SPEED))
    };
    let processor = inst.activate(f64::from(rate), plan.blocks.max())?;
    let (processor, out) = render(processor, &input, &plan)?;
    inst.pump_main_thread();
    inst.deactivate(processor);
    inst.pump_main_thread();
    write_wav(&a.output, &out.output, rate)?;
    Ok(())
}
