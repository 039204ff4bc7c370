//! A small CLAP host on `clack-host`: loads a `.clap` file, creates instances that know their
//! track name (track-info extension), sets parameters, switches the render mode (render
//! extension) and activates them. [`crate::render`] drives the activated processors.
//!
//! It implements the host side a plugin may ask for in a real DAW: log, thread-check, params
//! (rescan / flush requests), track-info, gui (the editor's resize / show / hide requests and its
//! closing are recorded in [`GuiRequests`] for the tests to read). Callbacks the plugin requests
//! on the main thread are run by [`Instance::pump_main_thread`].

use std::cell::Cell;
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::ThreadId;

use clack_extensions::gui::{GuiSize, HostGui, HostGuiImpl, PluginGui};
use clack_extensions::log::{HostLog, HostLogImpl, LogSeverity};
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamInfoBuffer,
    ParamRescanFlags, PluginParams,
};
use clack_extensions::render::{PluginRender, RenderMode};
use clack_extensions::thread_check::{HostThreadCheck, HostThreadCheckImpl};
use clack_extensions::track_info::{HostTrackInfo, HostTrackInfoImpl, TrackInfo, TrackInfoWriter};
use clack_host::events::event_types::ParamValueEvent;
use clack_host::prelude::*;

use crate::error::{Error, Result};

/// Host name the plugin sees (it lands in the capture sidecars as the host).
pub const HOST_NAME: &str = "StemCheck host-tests";

thread_local! {
    /// Set on the threads that call `process()`, for the thread-check extension.
    static IS_AUDIO_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread as an audio thread (answers the plugin's thread checks).
pub fn mark_audio_thread() {
    IS_AUDIO_THREAD.with(|f| f.set(true));
}

/// Host data shared between the plugin's threads.
pub struct Shared {
    main_thread: ThreadId,
    callback_requested: AtomicBool,
    restart_requested: AtomicBool,
    flush_requested: AtomicBool,
    params: OnceLock<Option<PluginParams>>,
    render: OnceLock<Option<PluginRender>>,
    gui: OnceLock<Option<PluginGui>>,
    gui_requests: Mutex<GuiRequests>,
}

/// What the plugin's editor asked of the host (gui extension), in order of arrival. The host
/// accepts every resize request, as a DAW with a resizable plugin window does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuiRequests {
    /// `request_resize` sizes (physical pixels on X11).
    pub resize: Vec<GuiSize>,
    /// `resize_hints_changed` calls.
    pub hints_changed: u32,
    pub show: u32,
    pub hide: u32,
    /// `closed(was_destroyed)` calls.
    pub closed: Vec<bool>,
}

impl<'a> SharedHandler<'a> for Shared {
    fn initializing(&self, instance: InitializingPluginHandle<'a>) {
        let _ = self.params.set(instance.get_extension());
        let _ = self.render.set(instance.get_extension());
        let _ = self.gui.set(instance.get_extension());
    }
    fn request_restart(&self) {
        self.restart_requested.store(true, Ordering::SeqCst);
    }
    fn request_process(&self) {}
    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::SeqCst);
    }
}

impl HostLogImpl for Shared {
    fn log(&self, severity: LogSeverity, message: &str) {
        // Plugins log rarely (and never from process()); tests show stderr on failure.
        eprintln!("[plugin {severity}] {message}");
    }
}

impl HostThreadCheckImpl for Shared {
    fn is_main_thread(&self) -> bool {
        std::thread::current().id() == self.main_thread
    }
    fn is_audio_thread(&self) -> bool {
        IS_AUDIO_THREAD.with(Cell::get)
    }
}

impl HostParamsImplShared for Shared {
    fn request_flush(&self) {
        self.flush_requested.store(true, Ordering::SeqCst);
    }
}

impl Shared {
    fn record(&self, f: impl FnOnce(&mut GuiRequests)) {
        f(&mut self.gui_requests.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

impl HostGuiImpl for Shared {
    fn resize_hints_changed(&self) {
        self.record(|r| r.hints_changed += 1);
    }
    fn request_resize(&self, new_size: GuiSize) -> std::result::Result<(), HostError> {
        self.record(|r| r.resize.push(new_size));
        Ok(())
    }
    fn request_show(&self) -> std::result::Result<(), HostError> {
        self.record(|r| r.show += 1);
        Ok(())
    }
    fn request_hide(&self) -> std::result::Result<(), HostError> {
        self.record(|r| r.hide += 1);
        Ok(())
    }
    fn closed(&self, was_destroyed: bool) {
        self.record(|r| r.closed.push(was_destroyed));
    }
}

/// Host data of the main thread: the track this instance sits on.
pub struct MainThread {
    track_name: CString,
}

impl<'a> MainThreadHandler<'a> for MainThread {}

impl HostTrackInfoImpl for MainThread {
    fn get<'a>(&'a self, writer: &mut TrackInfoWriter<'_, 'a>) {
        let mut info = TrackInfo::new();
        info.set_name(Some(self.track_name.to_bytes()));
        writer.set(&info);
    }
}

impl HostParamsImplMainThread for MainThread {
    fn rescan(&self, _flags: ParamRescanFlags) {}
    fn clear(&self, _param_id: ClapId, _flags: ParamClearFlags) {}
}

/// The host type handed to `clack-host`.
pub struct Host;

impl HostHandlers for Host {
    type Shared<'a> = Shared;
    type MainThread<'a> = MainThread;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder
            .register::<HostLog>()
            .register::<HostThreadCheck>()
            .register::<HostParams>()
            .register::<HostTrackInfo>()
            .register::<HostGui>();
    }
}

/// A loaded `.clap` file and the plugin in it.
pub struct Bundle {
    path: PathBuf,
    entry: PluginEntry,
    plugin_id: CString,
    host_info: HostInfo,
}

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle")
            .field("path", &self.path)
            .field("plugin_id", &self.plugin_id)
            .finish()
    }
}

impl Bundle {
    /// Loads the CLAP file at `path` and picks its plugin named `plugin_name`.
    ///
    /// # Errors
    /// [`Error::ClapEntry`] when the file cannot be loaded or holds no such plugin.
    pub fn load(path: &Path, plugin_name: &str) -> Result<Self> {
        let err = |reason: String| Error::ClapEntry {
            path: path.to_owned(),
            reason,
        };
        // SAFETY: loading a plugin library runs its initialisers; this is the point of the test,
        // and the file is the bundle this workspace built.
        let entry = unsafe { PluginEntry::load(path) }.map_err(|e| err(e.to_string()))?;
        let factory = entry
            .get_plugin_factory()
            .ok_or_else(|| err("no plugin factory".into()))?;
        let mut names = Vec::new();
        let mut plugin_id = None;
        for d in factory.plugin_descriptors() {
            let name = d
                .name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name == plugin_name {
                plugin_id = d.id().map(CStr::to_owned);
            }
            names.push(name);
        }
        let plugin_id = plugin_id
            .ok_or_else(|| err(format!("no plugin named {plugin_name} (found {names:?})")))?;
        let host_info = HostInfo::new(
            HOST_NAME,
            "StemCheck",
            "https://example.invalid/stemcheck",
            env!("CARGO_PKG_VERSION"),
        )
        .map_err(|e| err(e.to_string()))?;
        Ok(Self {
            path: path.to_owned(),
            entry,
            plugin_id,
            host_info,
        })
    }

    /// The CLAP file this was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// One plugin instance on one track (main-thread side).
pub struct Instance {
    bundle_path: PathBuf,
    inner: PluginInstance<Host>,
}

/// Parameter info the tests care about.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDesc {
    pub id: u32,
    pub name: String,
    pub min_value: f64,
    pub max_value: f64,
    pub default_value: f64,
    pub stepped: bool,
}

impl Instance {
    /// Creates an instance on a track named `track_name`.
    ///
    /// # Errors
    /// [`Error::ClapPlugin`] when the plugin fails to instantiate.
    pub fn new(bundle: &Bundle, track_name: &str) -> Result<Self> {
        let track_name = CString::new(track_name).map_err(|e| Error::ClapPlugin {
            path: bundle.path.clone(),
            step: "track name",
            reason: e.to_string(),
        })?;
        let main_thread = std::thread::current().id();
        let inner = PluginInstance::<Host>::new(
            |_| Shared {
                main_thread,
                callback_requested: AtomicBool::new(false),
                restart_requested: AtomicBool::new(false),
                flush_requested: AtomicBool::new(false),
                params: OnceLock::new(),
                render: OnceLock::new(),
                gui: OnceLock::new(),
                gui_requests: Mutex::new(GuiRequests::default()),
            },
            |_| MainThread { track_name },
            &bundle.entry,
            &bundle.plugin_id,
            &bundle.host_info,
        )
        .map_err(|e| Error::ClapPlugin {
            path: bundle.path.clone(),
            step: "instantiation",
            reason: e.to_string(),
        })?;
        Ok(Self {
            bundle_path: bundle.path.clone(),
            inner,
        })
    }

    fn fail(&self, step: &'static str, reason: impl Into<String>) -> Error {
        Error::ClapPlugin {
            path: self.bundle_path.clone(),
            step,
            reason: reason.into(),
        }
    }

    fn params_ext(&mut self) -> Result<PluginParams> {
        self.inner
            .access_shared_handler(|s| s.params.get().copied().flatten())
            .ok_or_else(|| self.fail("params", "the plugin has no params extension"))
    }

    /// All parameters the plugin exposes.
    ///
    /// # Errors
    /// When the plugin has no params extension.
    pub fn params(&mut self) -> Result<Vec<ParamDesc>> {
        let ext = self.params_ext()?;
        let handle = self.inner.plugin_handle();
        let mut out = Vec::new();
        let mut buffer = ParamInfoBuffer::new();
        for i in 0..ext.count(&handle) {
            if let Some(info) = ext.get_info(&handle, i, &mut buffer) {
                out.push(ParamDesc {
                    id: info.id.get(),
                    name: String::from_utf8_lossy(info.name).into_owned(),
                    min_value: info.min_value,
                    max_value: info.max_value,
                    default_value: info.default_value,
                    stepped: info
                        .flags
                        .contains(clack_extensions::params::ParamInfoFlags::IS_STEPPED),
                });
            }
        }
        Ok(out)
    }

    /// The current plain value of a parameter.
    ///
    /// # Errors
    /// When the plugin has no params extension or does not know the id.
    pub fn param_value(&mut self, id: u32) -> Result<f64> {
        let ext = self.params_ext()?;
        let clap_id = ClapId::from_raw(id).ok_or_else(|| self.fail("param value", "invalid id"))?;
        let handle = self.inner.plugin_handle();
        ext.get_value(&handle, clap_id)
            .ok_or_else(|| self.fail("param value", format!("unknown param {id}")))
    }

    /// Sets a parameter while the plugin is inactive (params `flush` on the main thread), the way
    /// a host applies a project's saved values before playback.
    ///
    /// # Errors
    /// When the plugin is active, has no params extension, or the value does not read back.
    pub fn set_param(&mut self, id: u32, value: f64) -> Result<()> {
        let ext = self.params_ext()?;
        let clap_id = ClapId::from_raw(id).ok_or_else(|| self.fail("set param", "invalid id"))?;
        let event = ParamValueEvent::new(0, clap_id, Pckn::match_all(), value);
        let input = [event];
        let mut output = EventBuffer::new();
        {
            let active = self.inner.is_active();
            let Some(mut handle) = self.inner.inactive_plugin_handle() else {
                return Err(Error::ClapPlugin {
                    path: self.bundle_path.clone(),
                    step: "set param",
                    reason: format!("the plugin is active ({active})"),
                });
            };
            ext.flush(
                &mut handle,
                &InputEvents::from_buffer(&input),
                &mut OutputEvents::from_buffer(&mut output),
            );
        }
        let got = self.param_value(id)?;
        if (got - value).abs() > 1e-9 {
            return Err(self.fail(
                "set param",
                format!("param {id} reads back {got} after setting {value}"),
            ));
        }
        Ok(())
    }

    /// Switches the render mode (render extension); call on the main thread before activation.
    ///
    /// # Errors
    /// When the plugin has no render extension or declines the mode.
    pub fn set_render_mode(&mut self, mode: RenderMode) -> Result<()> {
        let ext = self
            .inner
            .access_shared_handler(|s| s.render.get().copied().flatten())
            .ok_or_else(|| self.fail("render mode", "the plugin has no render extension"))?;
        let handle = self.inner.plugin_handle();
        ext.set(&handle, mode)
            .map_err(|e| self.fail("render mode", e.to_string()))
    }

    /// Activates the instance for `sample_rate` and blocks of at most `max_frames`.
    ///
    /// # Errors
    /// When activation fails.
    pub fn activate(
        &mut self,
        sample_rate: f64,
        max_frames: u32,
    ) -> Result<StoppedPluginAudioProcessor<Host>> {
        let config = PluginAudioConfiguration {
            sample_rate,
            min_frames_count: 1,
            max_frames_count: max_frames,
        };
        self.inner
            .activate(|_, _| (), config)
            .map_err(|e| Error::ClapPlugin {
                path: self.bundle_path.clone(),
                step: "activation",
                reason: e.to_string(),
            })
    }

    /// Deactivates the instance with its processor (back on the main thread).
    pub fn deactivate(&mut self, processor: StoppedPluginAudioProcessor<Host>) {
        self.inner.deactivate(processor);
    }

    /// Runs the main-thread callback when the plugin asked for one; returns whether it ran.
    pub fn pump_main_thread(&mut self) -> bool {
        let requested = self
            .inner
            .access_shared_handler(|s| s.callback_requested.swap(false, Ordering::SeqCst));
        if requested {
            self.inner.call_on_main_thread_callback();
        }
        requested
    }

    /// Runs `f` with the plugin's gui extension and its main-thread handle (all gui calls are
    /// main-thread calls).
    ///
    /// # Errors
    /// When the plugin has no gui extension.
    pub fn with_gui<R>(
        &mut self,
        f: impl FnOnce(&PluginGui, &mut PluginMainThreadHandle<'_>) -> R,
    ) -> Result<R> {
        let gui = self
            .inner
            .access_shared_handler(|s| s.gui.get().copied().flatten())
            .ok_or_else(|| self.fail("gui", "the plugin has no gui extension"))?;
        let mut handle = self.inner.plugin_handle();
        Ok(f(&gui, &mut handle))
    }

    /// What the editor asked of the host so far.
    pub fn gui_requests(&mut self) -> GuiRequests {
        self.inner.access_shared_handler(|s| {
            s.gui_requests
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        })
    }

    /// Whether the plugin asked for a restart (e.g. a latency change) since creation.
    pub fn restart_requested(&mut self) -> bool {
        self.inner
            .access_shared_handler(|s| s.restart_requested.load(Ordering::SeqCst))
    }
}

/// The parameter named `name` (its display name) among `params`.
pub fn find_param<'p>(params: &'p [ParamDesc], name: &str) -> Option<&'p ParamDesc> {
    params.iter().find(|p| p.name == name)
}

/// The CLAP parameter id nice-plug derives from a stable string id (`hash_param_id`): the id
/// every CLAP host stores in its projects, so it must stay what the string id says.
pub fn nice_plug_param_hash(id: &str) -> u32 {
    let mut hash: u32 = 0;
    for b in id.bytes() {
        hash = hash.wrapping_mul(31).wrapping_add(u32::from(b));
    }
    hash & !(1 << 31)
}
