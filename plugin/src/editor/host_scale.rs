//! The egui editor with the host's scale factor applied to `adjust_size` (issue 19, item 5).
//!
//! Why this wrapper exists: on X11, baseview 0.4.2 (nice-plug-egui 0.6's window library)
//! applies a host-suggested scale (`set_scale(2.0)`, 200 %) on its window thread but never
//! passes it to the main thread's copy of the scale (`SizingThreadShared::set_scaling_factor`
//! runs only when the window is created, `platform/x11/sizing.rs`). nice-plug-egui's
//! `EguiEditorHandle::adjust_size` reads that copy through `window.size()`, so at 200 % it
//! clamped the host's requests to the scale-1 pixel limits: `adjust_size(10, 10)` answered
//! 380x320 instead of 760x640, and a host could shrink the editor below its minimum (the layout
//! then clips). Every other call is passed through unchanged.
//!
//! The scale used is the one baseview itself applies: the X server's `Xft.dpi` when it sets one
//! (then baseview ignores the host), otherwise the host's latest suggestion, otherwise 1. The
//! wrapper cannot read `Xft.dpi` itself; it infers it at creation: baseview's main-thread scale
//! then differs from the host's suggestion only when the system set it. One case stays
//! ambiguous: a system scale equal to the host's suggestion at creation (`Xft.dpi` of exactly 96
//! and no suggestion, say) followed by another suggestion; baseview keeps the system's and the
//! limits given are the host scale's (at a larger scale, larger than needed: the editor is never
//! made smaller than its minimum; the host may offer a little less shrinking than possible).
//!
//! Remove it when baseview keeps the main thread's scale in step (then `adjust_size` of the
//! inner handle is right, and the GUI host test still checks it).

use std::error::Error;
use std::sync::atomic::{AtomicU64, Ordering};

use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::NativeSize;
use nice_plug::editor::{
    Editor, EditorHandle, HostMethods, Modifiers, ParentWindowHandle, ResizeHint, SpawnedEditor,
    VirtualKeyCode,
};
use nice_plug::plugin::TrackInfo;
use nice_plug_egui::baseview;
use nice_plug_egui::{EguiEditor, EguiEditorHandle, NiceEguiApp};

/// An [`EguiEditor`] whose handle answers `adjust_size` at the scale the window really has.
pub struct HostScaledEditor<A: NiceEguiApp> {
    inner: EguiEditor<A>,
}

impl<A: NiceEguiApp> HostScaledEditor<A> {
    pub fn new(inner: EguiEditor<A>) -> Self {
        Self { inner }
    }
}

/// The scale a window has, as baseview decides it: the system's when it sets one, else the
/// host's suggestion, else 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleSource {
    /// The scale the X server set (`Xft.dpi / 96`), which overrides the host's.
    pub system: Option<f64>,
    /// The host's latest suggestion (`set_scale`), or the one given at creation.
    pub host: Option<f64>,
}

impl ScaleSource {
    /// Infers the system's scale at creation: baseview's main-thread scale is the system's when
    /// it set one, otherwise the host's suggestion (or 1).
    pub fn at_creation(created_scale: f64, host_suggested: Option<f64>) -> Self {
        let without_system = host_suggested.unwrap_or(1.0);
        let system = ((created_scale - without_system).abs() > 1e-6).then_some(created_scale);
        Self {
            system,
            host: host_suggested,
        }
    }

    pub fn effective(&self) -> f64 {
        self.system.or(self.host).unwrap_or(1.0)
    }
}

impl<A: NiceEguiApp> Editor for HostScaledEditor<A> {
    type Handle = HostScaledHandle;

    fn spawn(
        &self,
        parent: Option<ParentWindowHandle>,
        wait_for_parent: bool,
        fallback_scale_factor: Option<f64>,
        gui_context: GuiContext,
        host: Option<HostMethods>,
    ) -> Result<SpawnedEditor<Self::Handle>, Box<dyn Error>> {
        let spawned = self.inner.spawn(
            parent,
            wait_for_parent,
            fallback_scale_factor,
            gui_context,
            host,
        )?;
        let source =
            ScaleSource::at_creation(spawned.window.size().scale_factor, fallback_scale_factor);
        Ok(SpawnedEditor {
            handle: HostScaledHandle {
                inner: spawned.handle,
                resize_hint: self.inner.resize_hint(),
                system_scale: source.system,
                host_scale_bits: AtomicU64::new(source.host.unwrap_or(f64::NAN).to_bits()),
            },
            window: spawned.window,
        })
    }

    fn size(&self) -> NativeSize<u32> {
        self.inner.size()
    }

    fn resize_hint(&self) -> ResizeHint {
        self.inner.resize_hint()
    }

    fn track_info_updated(&self, info: TrackInfo) {
        self.inner.track_info_updated(info)
    }

    unsafe fn assume_standalone_in_process(&self) {
        // SAFETY: the same contract as the inner editor's (this method's caller keeps it).
        unsafe { self.inner.assume_standalone_in_process() }
    }
}

/// The handle of a [`HostScaledEditor`]: the inner handle plus the scale the host asked for.
pub struct HostScaledHandle {
    inner: EguiEditorHandle,
    resize_hint: ResizeHint,
    system_scale: Option<f64>,
    /// The host's latest scale (`f64` bits; NaN: none yet). Written on the main thread by
    /// `set_fallback_scale_factor`, read by `adjust_size` on the same thread; atomic because
    /// handles must be `Send`.
    host_scale_bits: AtomicU64,
}

impl HostScaledHandle {
    fn scale_source(&self) -> ScaleSource {
        let host = f64::from_bits(self.host_scale_bits.load(Ordering::Relaxed));
        ScaleSource {
            system: self.system_scale,
            host: (!host.is_nan()).then_some(host),
        }
    }
}

impl EditorHandle for HostScaledHandle {
    type Window = baseview::Window;
    type Error = baseview::Error;

    fn run_until_closed(window: Self::Window) -> Result<(), Self::Error> {
        EguiEditorHandle::run_until_closed(window)
    }

    fn set_parent(
        &self,
        parent: ParentWindowHandle,
        window: &Self::Window,
    ) -> Result<(), Self::Error> {
        self.inner.set_parent(parent, window)
    }

    fn show(&self, window: &Self::Window) -> Result<(), Self::Error> {
        self.inner.show(window)
    }

    fn hide(&self, window: &Self::Window) -> Result<(), Self::Error> {
        self.inner.hide(window)
    }

    fn set_size(
        &self,
        new_size: NativeSize<u32>,
        window: &Self::Window,
    ) -> Result<(), Self::Error> {
        self.inner.set_size(new_size, window)
    }

    fn host_main_thread_callback(&self, window: &Self::Window) {
        self.inner.host_main_thread_callback(window)
    }

    fn adjust_size(
        &self,
        new_size: NativeSize<u32>,
        window: &Self::Window,
    ) -> Option<NativeSize<u32>> {
        // Only X11 keeps the stale copy; elsewhere the inner handle is right (and on macOS the
        // sizes are logical anyway).
        if cfg!(target_os = "macos") || cfg!(target_os = "windows") || !self.resize_hint.can_resize
        {
            return self.inner.adjust_size(new_size, window);
        }
        let current = window.size();
        Some(self.resize_hint.adjust_size(
            new_size,
            NativeSize::from_logical_or_physical(current.logical, current.physical),
            self.scale_source().effective(),
        ))
    }

    fn set_fallback_scale_factor(
        &self,
        scale_factor: f64,
        window: &Self::Window,
    ) -> Result<(), Self::Error> {
        self.inner.set_fallback_scale_factor(scale_factor, window)?;
        self.host_scale_bits
            .store(scale_factor.to_bits(), Ordering::Relaxed);
        Ok(())
    }

    fn on_virtual_key_from_host(
        &self,
        key_code: VirtualKeyCode,
        is_down: bool,
        modifiers: Modifiers,
    ) -> bool {
        self.inner
            .on_virtual_key_from_host(key_code, is_down, modifiers)
    }

    fn state_changed(&self) {
        self.inner.state_changed()
    }

    fn param_value_changed(&self, id: &str, normalized_value: f32) {
        self.inner.param_value_changed(id, normalized_value)
    }

    fn param_modulation_changed(&self, id: &str, modulation_offset: f32) {
        self.inner.param_modulation_changed(id, modulation_offset)
    }
}

#[cfg(test)]
mod tests {
    use super::ScaleSource;

    #[test]
    fn the_hosts_scale_applies_unless_the_system_set_one() {
        // No Xft.dpi: baseview created the window at the host's suggestion (or 1).
        let none = ScaleSource::at_creation(1.0, None);
        assert_eq!(none.system, None);
        assert_eq!(none.effective(), 1.0);
        let host = ScaleSource::at_creation(2.0, Some(2.0));
        assert_eq!(host.system, None);
        assert_eq!(host.effective(), 2.0);
        // Xft.dpi 144 (1.5): the system's scale wins over the host's 2.
        let system = ScaleSource::at_creation(1.5, Some(2.0));
        assert_eq!(system.system, Some(1.5));
        assert_eq!(system.effective(), 1.5);
        let later = ScaleSource {
            host: Some(3.0),
            ..system
        };
        assert_eq!(later.effective(), 1.5);
        // A later host suggestion without a system scale.
        let later = ScaleSource {
            host: Some(2.0),
            ..none
        };
        assert_eq!(later.effective(), 2.0);
    }
}
