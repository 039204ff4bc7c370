//! The built `StemCheck.clap` editor embedded in a real X11 window by a CLAP host (clack-host),
//! resized and scaled through the gui extension the way a DAW does (issue 19 item 5: "the host's
//! resize and scale requests honoured"). What counts is what the X server says of the plugin's
//! window: a size the plugin reports but never applies to its window fails here.
//!
//! Needs the bundle built and an X server: `DISPLAY`, else `Xvfb` (started and stopped by the
//! test). `tests/run-host-tests.sh` installs Xvfb and runs it; by hand:
//! `cargo xtask bundle stemcheck-plugin --release` then
//! `cargo test --release -p host-tests --test gui -- --ignored --test-threads=1`.

use std::time::{Duration, Instant};

use clack_extensions::gui::{
    AspectRatioStrategy, GuiApiType, GuiConfiguration, GuiSize, Window as ClapWindow,
};
use host_tests::clap_host::{Bundle, Instance};
use host_tests::paths;
use host_tests::scenario::plugin_name;
use host_tests::x11::{HostWindow, SizePx, XServer};
use stemcheck_plugin::editor::{MAX_HEIGHT, MAX_WIDTH, MIN_HEIGHT, MIN_WIDTH};
use stemcheck_plugin::params::{EDITOR_HEIGHT, EDITOR_WIDTH};

/// Embedded X11 window: the only way nice-plug's CLAP wrapper offers an editor on Linux.
const X11_EMBEDDED: GuiConfiguration<'static> = GuiConfiguration {
    api_type: GuiApiType::X11,
    is_floating: false,
};
/// The HiDPI factor the host asks for (200 %, a 4K screen).
const SCALE: f64 = 2.0;
/// How long the plugin's window thread may take to apply a change the X server then shows.
const SETTLE: Duration = Duration::from_secs(3);
/// The whole test's budget (the brief: well under a minute).
const BUDGET: Duration = Duration::from_secs(45);

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn gui_size((width, height): SizePx) -> GuiSize {
    GuiSize { width, height }
}

/// A logical size (points) in physical pixels at `scale`, rounded as nice-plug rounds.
fn physical(width_pt: f32, height_pt: f32, scale: f64) -> SizePx {
    (
        (f64::from(width_pt) * scale).round() as u32,
        (f64::from(height_pt) * scale).round() as u32,
    )
}

/// The host's idle loop for `duration`: main-thread callbacks the plugin asked for (nice-plug's
/// X11 window thread reaches the host through them) and the host window's X events.
fn pump(inst: &mut Instance, host: Option<&HostWindow>, duration: Duration) {
    let until = Instant::now() + duration;
    while Instant::now() < until {
        inst.pump_main_thread();
        if let Some(host) = host {
            host.drain_events();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Pumps until `done` holds or [`SETTLE`] passes; returns whether it held.
fn pump_until(
    inst: &mut Instance,
    host: &HostWindow,
    mut done: impl FnMut(&mut Instance) -> bool,
) -> bool {
    let until = Instant::now() + SETTLE;
    loop {
        if done(inst) {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        pump(inst, Some(host), Duration::from_millis(20));
    }
}

fn get_size(inst: &mut Instance) -> SizePx {
    let size = ok(inst.with_gui(|g, h| g.get_size(h))).expect("get_size answers once created");
    (size.width, size.height)
}

fn adjust_size(inst: &mut Instance, size: SizePx) -> SizePx {
    let got = ok(inst.with_gui(|g, h| g.adjust_size(h, gui_size(size))))
        .unwrap_or_else(|| panic!("adjust_size({size:?}) refused"));
    (got.width, got.height)
}

/// The plugin's editor window: the one child of the host window, once `set_parent` ran.
fn editor_window(inst: &mut Instance, host: &HostWindow) -> u32 {
    let mut children = Vec::new();
    pump_until(inst, host, |_| {
        children = ok(host.children());
        !children.is_empty()
    });
    assert_eq!(
        children.len(),
        1,
        "the host window should hold exactly the editor's window, holds {children:?}"
    );
    children[0]
}

/// At `scale`, `adjust_size` clamps each axis on its own to the editor's limits in physical
/// pixels (its minimum and maximum in points times the scale) and keeps a size within them.
fn adjust_size_clamps_to_the_limits_at(inst: &mut Instance, scale: f64) {
    let min_px = physical(MIN_WIDTH, MIN_HEIGHT, scale);
    let max_px = physical(MAX_WIDTH, MAX_HEIGHT, scale);
    assert_eq!(
        adjust_size(inst, (10, 10)),
        min_px,
        "too small a request at scale {scale}"
    );
    assert_eq!(
        adjust_size(inst, (100_000, 100_000)),
        max_px,
        "too large a request at scale {scale}"
    );
    assert_eq!(
        adjust_size(inst, (10, 100_000)),
        (min_px.0, max_px.1),
        "each axis is clamped on its own at scale {scale}"
    );
    let usable = physical(1_000.0, 700.0, scale);
    assert_eq!(
        adjust_size(inst, usable),
        usable,
        "a usable size at scale {scale}"
    );
}

/// The host resizes the editor the way a DAW does when its frame is dragged: `adjust_size`,
/// `set_size`, then its own window. The X server must show the editor at `size` right after
/// `set_size` (before the host window changes, so only the plugin can have applied it) and
/// still after the host window followed; `get_size` must report it.
fn host_resizes_to(inst: &mut Instance, host: &HostWindow, editor: u32, size: SizePx) {
    assert_eq!(
        adjust_size(inst, size),
        size,
        "{size:?} lies within the editor's limits, adjust_size should keep it"
    );
    ok(inst.with_gui(|g, h| g.set_size(h, gui_size(size))))
        .unwrap_or_else(|e| panic!("set_size({size:?}): {e}"));
    wait_for_editor_size(
        inst,
        host,
        editor,
        size,
        &format!("after set_size({size:?})"),
    );
    host_window_follows(inst, host, size);
    assert_eq!(
        ok(host.size_of(editor)),
        size,
        "the editor's X window after the host window followed"
    );
    assert_eq!(get_size(inst), size, "get_size after set_size({size:?})");
}

/// Pumps events until the editor's X window is `size` (what the X server says, not what the
/// plugin reports); fails naming `what` led to it and the size seen.
fn wait_for_editor_size(
    inst: &mut Instance,
    host: &HostWindow,
    editor: u32,
    size: SizePx,
    what: &str,
) {
    let mut seen = (0, 0);
    let applied = pump_until(inst, host, |_| {
        seen = ok(host.size_of(editor));
        seen == size
    });
    assert!(
        applied,
        "{what}: the editor's X window is {seen:?}, not {size:?}"
    );
}

/// The host resizes its own window to `size`, as a DAW follows its plugin's editor, and lets
/// the events settle.
fn host_window_follows(inst: &mut Instance, host: &HostWindow, size: SizePx) {
    ok(host.resize(size));
    pump(inst, Some(host), Duration::from_millis(200));
}

/// The plugin-initiated path: the user drags the editor's own resize corner (nice-plug-egui's
/// `ResizableWindow`, the only handle a host without a resizable frame offers). The editor
/// resizes its X window and asks the host for the new size (`request_resize`, in physical
/// pixels); this host accepts and resizes its window to it, as a DAW does.
fn the_user_drags_the_editors_corner(
    inst: &mut Instance,
    host: &HostWindow,
    editor: u32,
    from_px: SizePx,
) {
    let before = inst.gui_requests().resize.len();
    // A few pixels inside the bottom-right corner, dragged right and up (the host window sits
    // at 0,0 on the screen).
    let (delta_x, delta_y) = (300_i32, -200_i32);
    let start = (from_px.0 as i32 - 6, from_px.1 as i32 - 6);
    let end = (start.0 + delta_x, start.1 + delta_y);
    let as_i16 = |(x, y): (i32, i32)| (x as i16, y as i16);
    let expected = (
        (from_px.0 as i32 + delta_x) as u32,
        (from_px.1 as i32 + delta_y) as u32,
    );
    let mut requests = Vec::new();
    let mut asked = false;
    // A drag the editor never saw start (no request at all: under load it drew no frame with
    // the pointer on the corner before the press, 1 CI run in ~15 beside a corpus render) is
    // tried again, as a user would; a drag that started must end where the pointer did.
    for _attempt in 0..3 {
        ok(host.press_and_move(as_i16(start), as_i16(end), 12, Duration::from_millis(40)));
        asked = pump_until(inst, host, |inst| {
            requests = inst_requests_after(inst, before);
            requests.last().is_some_and(|r| {
                r.width.abs_diff(expected.0) <= 4 && r.height.abs_diff(expected.1) <= 4
            })
        });
        // The button goes up once the editor followed the pointer (or gave up): released
        // earlier, a loaded machine's editor could miss the last steps and end short.
        ok(host.release(as_i16(end)));
        if asked || !requests.is_empty() {
            break;
        }
        pump(inst, Some(host), Duration::from_millis(200));
    }
    assert!(
        asked,
        "dragging the corner from {from_px:?} by ({delta_x}, {delta_y}) px should ask the host \
         for about {expected:?}; requests: {requests:?}"
    );
    let last = requests.last().copied().expect("a request");
    let requested = (last.width, last.height);
    wait_for_editor_size(
        inst,
        host,
        editor,
        requested,
        "the editor asked the host for this size",
    );
    host_window_follows(inst, host, requested);
    assert_eq!(get_size(inst), requested, "get_size after the drag");
    assert_eq!(ok(host.size_of(editor)), requested);
}

fn inst_requests_after(inst: &mut Instance, before: usize) -> Vec<GuiSize> {
    inst.gui_requests().resize.split_off(before)
}

#[test]
#[ignore = "needs the built bundle and Xvfb: tests/run-host-tests.sh"]
fn editor_honours_the_hosts_resize_and_scale_requests_in_a_real_x11_window() {
    let started = Instant::now();
    let xserver = ok(XServer::ensure());
    eprintln!(
        "X server {} ({})",
        xserver.display(),
        if xserver.started_here() {
            "Xvfb started by the test"
        } else {
            "DISPLAY"
        }
    );
    let bundle = ok(Bundle::load(&ok(paths::clap_bundle()), &plugin_name()));
    let mut inst = ok(Instance::new(&bundle, "Master"));

    // What a host asks first.
    assert!(ok(inst.with_gui(|g, h| g.is_api_supported(h, X11_EMBEDDED))));
    let preferred = ok(inst.with_gui(|g, h| {
        g.get_preferred_api(h)
            .map(|c| (c.api_type.to_standard_api(), c.is_floating))
    }));
    assert_eq!(preferred, Some((Some(GuiApiType::X11), false)));
    ok(inst.with_gui(|g, h| g.create(h, X11_EMBEDDED))).expect("create(x11, embedded)");

    // Scale 1 (no host scale yet, no Xft.dpi on the server): the editor's default size.
    let default_px = (EDITOR_WIDTH, EDITOR_HEIGHT);
    assert_eq!(get_size(&mut inst), default_px, "get_size before set_scale");

    // Resizable on both axes, no aspect ratio; adjust_size clamps each axis to the editor's
    // limits (asked again at scale 2 below).
    assert!(ok(inst.with_gui(|g, h| g.can_resize(h))));
    let hints = ok(inst.with_gui(|g, h| g.get_resize_hints(h))).expect("get_resize_hints");
    assert!(hints.can_resize_horizontally && hints.can_resize_vertically);
    assert_eq!(hints.strategy, AspectRatioStrategy::Disregard);
    adjust_size_clamps_to_the_limits_at(&mut inst, 1.0);

    // The host's 200 %: X11 sizes are physical pixels (gui.h), so an honoured scale doubles
    // them; set_scale returns true only when it was applied.
    let scaled = ok(inst.with_gui(|g, h| g.set_scale(h, SCALE)));
    assert!(
        scaled.is_ok(),
        "set_scale({SCALE}) refused: the editor would be half size on a HiDPI screen"
    );
    let scaled_px = physical(EDITOR_WIDTH as f32, EDITOR_HEIGHT as f32, SCALE);
    assert_eq!(
        get_size(&mut inst),
        scaled_px,
        "set_scale({SCALE}) returned true, so get_size must be the default size times {SCALE}"
    );
    // The limits scale too (baseview 0.4.2 alone kept the scale-1 pixel limits here: the
    // plugin's editor/host_scale.rs; without it this fails with 380x320 for 760x640).
    adjust_size_clamps_to_the_limits_at(&mut inst, SCALE);

    // Embed in a real window the size the plugin asked for, show, and look at the X server.
    let host = ok(HostWindow::new(scaled_px));
    let window = ClapWindow::from_x11_handle(host.id().into());
    // SAFETY: `host` outlives the editor: destroy() runs below, before `host` is dropped.
    ok(inst.with_gui(|g, h| unsafe { g.set_parent(h, window) })).expect("set_parent");
    ok(inst.with_gui(|g, h| g.show(h))).expect("show");
    let editor = editor_window(&mut inst, &host);
    let viewable = pump_until(&mut inst, &host, |_| ok(host.is_viewable(editor)));
    assert!(viewable, "the editor's window is not mapped after show()");
    assert_eq!(
        ok(host.size_of(editor)),
        scaled_px,
        "the shown editor's X window (physical pixels at scale {SCALE})"
    );

    // The host resizes it: an insert-sized slot at the minimum width, then a large window
    // (the wide layout), while shown.
    let narrow_px = physical(MIN_WIDTH, 600.0, SCALE);
    // Large: the wide layout (from 1100 points), past the scale-1 pixel limits (2400x1800).
    let large_px = physical(1_300.0, 1_000.0, SCALE);
    host_resizes_to(&mut inst, &host, editor, narrow_px);
    the_user_drags_the_editors_corner(&mut inst, &host, editor, narrow_px);
    host_resizes_to(&mut inst, &host, editor, large_px);

    // Back to 100 % (the window moved to a normal screen): the size halves, both in what the
    // plugin reports and in the X server.
    ok(inst.with_gui(|g, h| g.set_scale(h, 1.0))).expect("set_scale(1.0)");
    let unscaled_px = physical(1_300.0, 1_000.0, 1.0);
    assert_eq!(
        get_size(&mut inst),
        unscaled_px,
        "get_size after set_scale(1.0)"
    );
    let mut seen = (0, 0);
    let applied = pump_until(&mut inst, &host, |_| {
        seen = ok(host.size_of(editor));
        seen == unscaled_px
    });
    assert!(
        applied,
        "after set_scale(1.0) the editor's X window is {seen:?}"
    );
    ok(host.resize(unscaled_px));
    host_resizes_to(
        &mut inst,
        &host,
        editor,
        physical(MIN_WIDTH, MIN_HEIGHT, 1.0),
    );

    // Hidden: unmapped, still there; destroyed: gone, no crash.
    ok(inst.with_gui(|g, h| g.hide(h))).expect("hide");
    let hidden = pump_until(&mut inst, &host, |_| !ok(host.is_viewable(editor)));
    assert!(hidden, "the editor's window is still mapped after hide()");
    ok(inst.with_gui(|g, h| g.destroy(h)));
    let gone = pump_until(&mut inst, &host, |_| ok(host.children()).is_empty());
    assert!(
        gone,
        "the editor's window outlives destroy(): {:?}",
        ok(host.children())
    );
    pump(&mut inst, Some(&host), Duration::from_millis(100));
    eprintln!("requests from the editor: {:?}", inst.gui_requests());
    drop(host);
    drop(inst);
    drop(xserver);
    assert!(
        started.elapsed() < BUDGET,
        "the GUI test took {:?}",
        started.elapsed()
    );
}
