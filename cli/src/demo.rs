//! `stemcheck demo`: render a short song as stems with one deliberate delivery fault, check it
//! and print the report, so a new user sees what StemCheck does in one command.

use std::path::PathBuf;
use std::process::ExitCode;

use analyzer_core::analyze::{self, Options};
use analyzer_core::report::FindingCode;
use analyzer_core::synth::{self, WavFormat};
use anyhow::{Context, Result, anyhow};

/// Sample rate of the demo delivery.
const DEMO_SAMPLE_RATE: u32 = 48_000;
/// Length of the demo song.
const DEMO_SECONDS: f32 = 12.0;
/// The injected fault: the keys stem was exported this many samples late (10 ms at 48 kHz).
const KEYS_LATE_SAMPLES: usize = 480;

pub fn run(keep: Option<PathBuf>, json: Option<String>) -> Result<ExitCode> {
    let temp;
    let dir = match keep {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            dir
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("stemcheck-demo-")
                .tempdir()?;
            temp.path().to_owned()
        }
    };
    eprintln!(
        "Rendering a {DEMO_SECONDS} s demo song as 5 stems + mix (24-bit, {DEMO_SAMPLE_RATE} Hz) into {}",
        dir.display()
    );
    let stems = synth::demo_song(DEMO_SAMPLE_RATE, DEMO_SECONDS);
    let mix = synth::mix_down(&stems, 2);
    synth::write_wav(
        &dir.join("Demo_Mix.wav"),
        2,
        DEMO_SAMPLE_RATE,
        WavFormat::Int24,
        &mix,
    )?;
    for stem in &stems {
        let mut samples = stem.samples.clone();
        if stem.name == "Keys" {
            // The fault: keys exported late, as when a track's region was nudged or a plugin's
            // latency was not compensated during the stem export.
            let shift = KEYS_LATE_SAMPLES * stem.channels as usize;
            samples.rotate_right(shift);
            samples[..shift].fill(0.0);
        }
        let path = dir.join(format!("Demo_{}.wav", stem.name));
        synth::write_wav(
            &path,
            stem.channels,
            DEMO_SAMPLE_RATE,
            WavFormat::Int24,
            &samples,
        )?;
    }
    eprintln!("Injected fault: Demo_Keys.wav starts {KEYS_LATE_SAMPLES} samples (10 ms) late.\n");
    eprintln!("$ stemcheck check {}\n", dir.display());
    let report = analyze::check_paths(std::slice::from_ref(&dir), &Options::default())
        .map_err(|e| anyhow!(e))?;
    crate::emit(&report, json.as_deref())?;
    let found = report
        .findings_with(FindingCode::StartOffset)
        .any(|f| f.files.iter().any(|n| n == "Demo_Keys.wav"));
    if found {
        eprintln!("\nStemCheck found the injected fault (start_offset on Demo_Keys.wav).");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("\nStemCheck did NOT find the injected fault: this is a bug, please report it.");
        Ok(ExitCode::from(1))
    }
}
