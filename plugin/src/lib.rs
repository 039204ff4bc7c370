//! # StemCheck plugin (VST3 + CLAP)
//!
//! Put it on every stem bus and on the mix bus. It passes audio through untouched (bit-exact,
//! latency 0), meters it live (sample peak, true peak per ITU-R BS.1770-4 Annex 2, momentary
//! and short-term loudness per EBU R128 / Tech 3341), captures it losslessly during a bounce
//! and, on the mix instance, reconciles the bounce's stems against the mix with analyzer-core.
//!
//! Module map (one concern each):
//! - [`params`]: the `role` parameter (report contract), arming, the meters' ceiling, target
//!   and reset, persisted label.
//! - [`shared`]: every type that crosses threads.
//! - [`capture`]: audio thread -> rings -> writer thread -> WAV + sidecar; bounce rendezvous.
//! - [`reconcile`]: the mix instance's background analysis of a finished bounce.
//! - [`editor`]: the egui editor; [`plots`]: geometry of its reconciliation plots.
//! - [`interleave`]: planar to interleaved, for the meters, the capture and the spectrum feed.
//! - [`engine`]: the per-block work `process()` does, as a plain struct tests can drive.

pub mod capture;
pub mod editor;
pub mod engine;
pub mod interleave;
pub mod meters;
pub mod params;
pub mod plots;
pub mod reconcile;
pub mod shared;
pub mod spectrum;

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use nice_plug::prelude::*;

use crate::capture::StreamFormat;
use crate::capture::engine::BlockInfo;
use crate::engine::Engine;
use crate::params::{Role, StemCheckParams};
use crate::shared::Shared;

/// A process-unique, cross-process-random instance id (hex), used in sidecars so a bounce
/// folder can tell its instances apart even when they run in different processes.
pub fn new_instance_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("{:016x}", h.finish())
}

/// The plugin.
pub struct StemCheck {
    params: Arc<StemCheckParams>,
    shared: Arc<Shared>,
    engine: Engine,
    instance_id: String,
}

/// The folder the standalone build checks and shows in its reconciliation panel at start
/// (`STEMCHECK_SHOW_FOLDER`, used for the editor screenshot). Never read by the VST3/CLAP
/// builds: a host's environment must not change what a plugin shows.
fn folder_to_show() -> Option<PathBuf> {
    if cfg!(feature = "standalone") {
        std::env::var_os("STEMCHECK_SHOW_FOLDER").map(PathBuf::from)
    } else {
        None
    }
}

/// The editor size the standalone build opens at (`STEMCHECK_EDITOR_SIZE=WIDTHxHEIGHT`, logical
/// points, kept within the editor's limits; used for the screenshots of the wide layout). Like
/// [`folder_to_show`], never read by the VST3/CLAP builds.
fn editor_size_to_show() -> Option<(u32, u32)> {
    if !cfg!(feature = "standalone") {
        return None;
    }
    let text = std::env::var("STEMCHECK_EDITOR_SIZE").ok()?;
    parse_editor_size(&text)
}

/// `"WIDTHxHEIGHT"` in logical points, clamped to [`editor::MIN_WIDTH`]..[`editor::MAX_WIDTH`]
/// (and the same for the height); `None` when it is not two numbers.
fn parse_editor_size(text: &str) -> Option<(u32, u32)> {
    let (w, h) = text.trim().split_once(['x', 'X'])?;
    let w: f32 = w.trim().parse().ok()?;
    let h: f32 = h.trim().parse().ok()?;
    if !(w.is_finite() && h.is_finite()) {
        return None;
    }
    Some((
        w.clamp(editor::MIN_WIDTH, editor::MAX_WIDTH) as u32,
        h.clamp(editor::MIN_HEIGHT, editor::MAX_HEIGHT) as u32,
    ))
}

impl Default for StemCheck {
    fn default() -> Self {
        let shared = Arc::new(Shared::default());
        let show = folder_to_show();
        let mut params = match show {
            Some(_) => StemCheckParams::with_default_role(Role::Mix),
            None => StemCheckParams::default(),
        };
        if let Some((width, height)) = editor_size_to_show() {
            params.editor_state = nice_plug_egui::EguiEditorState::from_size(
                nice_plug::editor::dpi::LogicalSize::new(width, height),
                1.0,
            );
        }
        let params = Arc::new(params);
        if let Some(folder) = show
            && let Err(e) =
                reconcile::show_folder(shared.clone(), folder, reconcile::analyze_folder)
        {
            *shared.reconcile.lock() = shared::ReconcileState::Failed {
                bounce_id: "-".into(),
                reason: format!("could not start the check: {e}"),
            };
        }
        let instance_id = new_instance_id();
        Self {
            engine: Engine::new(shared.clone(), params.editor_state.clone()),
            params,
            shared,
            instance_id,
        }
    }
}

impl StemCheck {
    /// The state shared with the writer, reconciler and editor (for tests and the editor).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// The engine `process()` drives (tests drive it directly).
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// The host's plugin API name for sidecars.
    fn host_name(api: PluginApi) -> &'static str {
        match api {
            PluginApi::Clap => "clap",
            PluginApi::Vst3 => "vst3",
            #[allow(unreachable_patterns)]
            _ => "standalone",
        }
    }

    /// What the host said about this block, from nice-plug's transport and our parameters.
    fn block_info(&self, transport: &Transport) -> BlockInfo {
        BlockInfo {
            playing: transport.playing,
            position_samples: transport.pos_samples(),
            role: Some(self.params.role.value().into()),
            auto_arm: self.params.auto_arm.value(),
            manual_arm: self.params.manual_arm.value(),
            arm_playback: self.params.arm_playback.value(),
        }
    }
}

impl Plugin for StemCheck {
    const NAME: &'static str = "StemCheck";
    const VENDOR: &'static str = "StemCheck";
    const URL: &'static str = "https://example.invalid/stemcheck";
    const EMAIL: &'static str = "stemcheck@example.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    type SysExMessage = ();
    type BackgroundTask = ();
    type Editor = editor::host_scale::HostScaledEditor<editor::StemCheckEditor>;

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(self.params.clone(), self.shared.clone())
    }

    fn activate(
        &mut self,
        audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        context.set_latency_samples(0);
        let channels = audio_io_layout
            .main_input_channels
            .map(NonZeroU32::get)
            .unwrap_or(2) as u16;
        let format = StreamFormat {
            sample_rate: buffer_config.sample_rate.round().max(1.0) as u32,
            channels,
        };
        let process_mode = match buffer_config.process_mode {
            ProcessMode::Realtime => analyzer_core::capture::ProcessMode::Realtime,
            ProcessMode::Buffered => analyzer_core::capture::ProcessMode::Buffered,
            ProcessMode::Offline => analyzer_core::capture::ProcessMode::Offline,
        };
        let params = self.params.clone();
        let arming = self.params.clone();
        let retaining = self.params.clone();
        let fallback = format!("instance-{}", &self.instance_id[..8]);
        let config = engine::ActivateConfig {
            format,
            max_block_frames: buffer_config.max_buffer_size as usize,
            process_mode,
            capture_root: analyzer_core::capture::default_capture_root(),
            instance_id: self.instance_id.clone(),
            host: Self::host_name(context.plugin_api()).to_string(),
            label: Box::new(move || params.effective_label(&fallback)),
            arms_session: Box::new(move || arming.arms_session()),
            retention: Box::new(move || retaining.retention()),
        };
        // A failing writer thread only costs the capture; audio and meters keep running.
        if let Err(e) = self.engine.activate(config) {
            self.shared.capture.info.lock().last_error =
                Some(format!("capture writer could not start: {e}"));
        }
        true
    }

    fn reset(&mut self) {
        // Meters only: capture state survives reset() (hosts call it mid-bounce).
        self.engine.reset_meters();
    }

    fn deactivate(&mut self) {
        self.engine.deactivate();
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let info = self.block_info(context.transport());
        let frames = buffer.samples();
        self.engine.set_meter_reset(self.params.meter_reset.value());
        // Read-only access: the output is the input, untouched.
        self.engine
            .process(buffer.as_slice_immutable(), frames, info);
        ProcessStatus::Normal
    }
}

impl ClapPlugin for StemCheck {
    const CLAP_ID: &'static str = "invalid.example.stemcheck";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Stem delivery check: live headroom, lossless bounce capture, stem reconciliation");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Analyzer,
        ClapFeature::Utility,
        ClapFeature::Stereo,
        ClapFeature::Mono,
    ];
}

impl Vst3Plugin for StemCheck {
    const VST3_CLASS_ID: [u8; 16] = *b"StemCheckMeterV1";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Analyzer];
}

nice_export_clap!(StemCheck);
nice_export_vst3!(StemCheck);

#[cfg(test)]
mod tests {
    use super::parse_editor_size;

    #[test]
    fn editor_size_is_parsed_and_kept_within_the_editor_limits() {
        assert_eq!(parse_editor_size("1300x1050"), Some((1300, 1050)));
        assert_eq!(parse_editor_size(" 1300 X 1050 "), Some((1300, 1050)));
        assert_eq!(parse_editor_size("100x100"), Some((380, 320)));
        assert_eq!(parse_editor_size("9000x9000"), Some((2400, 1800)));
        assert_eq!(parse_editor_size("wide"), None);
        assert_eq!(parse_editor_size("1300x"), None);
    }
}
