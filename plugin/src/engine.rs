//! Everything `process()` does, as a plain struct: meters, spectrum copy, capture.
//!
//! The plugin's `process()` is one call into [`Engine::process`]; tests build an `Engine` (or
//! the whole plugin) and drive it with hand-made blocks. The engine only reads the input: the
//! plugin's output is its input, bit for bit.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use nice_plug_egui::EguiEditorState;

use crate::capture::StreamFormat;
use crate::capture::engine::{BlockInfo, CaptureEngine};
use crate::capture::writer::{Writer, WriterConfig};
use crate::meters::AudioMeters;
use crate::reconcile::{AnalyzeFn, Reconciler};
use crate::shared::Shared;
use crate::spectrum::SpectrumInput;

/// What an activation needs to know.
pub struct ActivateConfig {
    pub format: StreamFormat,
    pub max_block_frames: usize,
    pub process_mode: analyzer_core::capture::ProcessMode,
    pub capture_root: Option<PathBuf>,
    pub instance_id: String,
    pub host: String,
    /// The label captures are named by, read when each capture starts.
    pub label: Box<dyn Fn() -> String + Send>,
    /// True while this instance arms real-time capture for the session (the mix's arm).
    pub arms_session: Box<dyn Fn() -> bool + Send>,
    /// The retention rule the parameters set.
    pub retention: Box<dyn Fn() -> crate::capture::retention::Retention + Send>,
}

/// The per-instance processing state.
pub struct Engine {
    shared: Arc<Shared>,
    editor_state: Arc<EguiEditorState>,
    capture: CaptureEngine,
    meters: Option<AudioMeters>,
    spectrum: Option<SpectrumInput>,
    writer: Option<JoinHandle<()>>,
    reconciler: Option<Reconciler>,
    analyze: AnalyzeFn,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("capture", &self.capture)
            .finish_non_exhaustive()
    }
}

impl Engine {
    pub fn new(shared: Arc<Shared>, editor_state: Arc<EguiEditorState>) -> Self {
        Self {
            capture: CaptureEngine::inactive(shared.capture.clone()),
            shared,
            editor_state,
            meters: None,
            spectrum: None,
            writer: None,
            reconciler: None,
            analyze: crate::reconcile::analyze_folder,
        }
    }

    /// Replaces the analysis the mix instance runs (tests use a stand-in for speed).
    pub fn set_analyze(&mut self, analyze: AnalyzeFn) {
        self.analyze = analyze;
    }

    /// Allocates rings and meters and starts the writer (and, once, the reconciler).
    ///
    /// # Errors
    /// When a thread cannot be started; audio and meters still work then.
    pub fn activate(&mut self, config: ActivateConfig) -> std::io::Result<()> {
        self.deactivate();
        let format = config.format;
        let mut meters = AudioMeters::new(format.channels as usize, format.sample_rate);
        *self.shared.loudness_blocks.lock() = Some(meters.loudness_feed());
        self.meters = Some(meters);
        let (spectrum, consumer) = SpectrumInput::new(format.channels as usize);
        self.spectrum = Some(spectrum);
        *self.shared.spectrum.lock() = Some((consumer, format.sample_rate as f32));
        let mut reconcile_error = None;
        if self.reconciler.is_none() {
            match Reconciler::spawn(self.shared.clone(), self.analyze) {
                Ok(r) => self.reconciler = Some(r),
                // Captures still work without the panel.
                Err(e) => reconcile_error = Some(e),
            }
        }
        let ends = self
            .capture
            .activate(format, config.max_block_frames, config.process_mode);
        let writer = Writer::new(
            ends,
            WriterConfig {
                capture_root: config.capture_root,
                instance_id: config.instance_id,
                host: config.host,
                plugin_version: env!("CARGO_PKG_VERSION").to_string(),
                label: config.label,
                status: self.shared.capture.clone(),
                on_mix_complete: self.reconciler.as_ref().and_then(Reconciler::sender),
                arms_session: config.arms_session,
                retention: config.retention,
            },
        );
        self.writer = Some(writer.spawn()?);
        match reconcile_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Ends the capture and waits for the writer to put everything on disk. Not real-time.
    pub fn deactivate(&mut self) {
        self.capture.deactivate();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }

    /// Clears meter state; capture state is untouched (hosts call `reset()` mid-bounce).
    pub fn reset_meters(&mut self) {
        if let Some(m) = self.meters.as_mut() {
            m.reset();
        }
    }

    /// The `meter_reset` parameter's value for the next block (its rising edges reset the
    /// editor's statistics). Never allocates.
    pub fn set_meter_reset(&mut self, on: bool) {
        if let Some(m) = self.meters.as_mut() {
            m.set_reset_param(on, &self.shared.meters);
        }
    }

    /// One block. Never allocates, locks or does I/O.
    pub fn process<S: AsRef<[f32]>>(&mut self, channels: &[S], frames: usize, info: BlockInfo) {
        if let Some(m) = self.meters.as_mut() {
            m.process(channels, frames, &self.shared.meters);
        }
        if self.editor_state.is_open()
            && let Some(s) = self.spectrum.as_mut()
        {
            s.push(channels, frames);
        }
        if info.playing {
            self.shared
                .played_blocks
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        self.capture.process(channels, frames, info);
    }

    /// The state shared with the writer, reconciler and editor.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub fn is_capturing(&self) -> bool {
        self.capture.is_capturing()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.deactivate();
    }
}
