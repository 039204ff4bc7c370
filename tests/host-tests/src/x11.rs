//! The X11 side of a plugin-window host: an X server when there is none ([`XServer`]), the
//! parent window a host hands an embedded CLAP editor ([`HostWindow`]), and what the X server
//! says of the plugin's window (its real size, whether it is mapped), which is what a user sees:
//! a size the plugin only stores but never applies to its window shows here.
//!
//! Pure Rust (`x11rb`'s own connection, no libxcb), so the test needs nothing but an X server;
//! `Xvfb` is started when `DISPLAY` is unset (CI has no display).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ConfigureWindowAux, ConnectionExt as _, CreateWindowAux, EventMask, MapState, Window,
    WindowClass,
};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::rust_connection::RustConnection;

use crate::error::{Error, Result};

/// How long Xvfb may take to say which display it took.
const XVFB_START_TIMEOUT: Duration = Duration::from_secs(15);
/// XTEST event kinds (the core protocol's event codes).
const BUTTON_PRESS: u8 = 4;
const BUTTON_RELEASE: u8 = 5;
const MOTION_NOTIFY: u8 = 6;
/// How long the pointer rests where a drag starts before the button goes down.
const HOVER_BEFORE_PRESS: Duration = Duration::from_millis(300);

fn x11_error(problem: impl std::fmt::Display) -> Error {
    Error::X11 {
        problem: problem.to_string(),
    }
}

/// The X server the test talks to: the one `DISPLAY` names, else an `Xvfb` started here and
/// stopped (with `DISPLAY` unset again) when this is dropped.
#[derive(Debug)]
pub struct XServer {
    xvfb: Option<Child>,
    display: String,
}

impl XServer {
    /// Uses `DISPLAY` when set, else starts `Xvfb` on a free display (Xvfb picks it:
    /// `-displayfd`) and sets `DISPLAY` for this process, so the plugin's window library finds
    /// it. Call before any other thread reads the environment.
    ///
    /// # Errors
    /// [`Error::X11`] when Xvfb is not installed or does not start.
    pub fn ensure() -> Result<Self> {
        if let Some(display) = std::env::var_os("DISPLAY").filter(|d| !d.is_empty()) {
            return Ok(Self {
                xvfb: None,
                display: display.to_string_lossy().into_owned(),
            });
        }
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "3200x2400x24",
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                x11_error(if e.kind() == std::io::ErrorKind::NotFound {
                    "DISPLAY is unset and Xvfb is not installed: install the xvfb package \
                     (apt-get install xvfb; tests/run-host-tests.sh does) or set DISPLAY"
                        .to_string()
                } else {
                    format!("cannot start Xvfb: {e}")
                })
            })?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let number = rx
            .recv_timeout(XVFB_START_TIMEOUT)
            .ok()
            .and_then(|line| line.trim().parse::<u32>().ok());
        let Some(number) = number else {
            let _ = child.kill();
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            return Err(x11_error(format!(
                "Xvfb did not report a display within {XVFB_START_TIMEOUT:?} ({status})"
            )));
        };
        let display = format!(":{number}");
        // SAFETY: called by the GUI test on its only thread before the plugin is loaded; nothing
        // else reads the environment meanwhile.
        unsafe { std::env::set_var("DISPLAY", &display) };
        Ok(Self {
            xvfb: Some(child),
            display,
        })
    }

    /// The display name (`:99`).
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Whether this test started the server (Xvfb).
    pub fn started_here(&self) -> bool {
        self.xvfb.is_some()
    }
}

impl Drop for XServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.xvfb.take() {
            let _ = child.kill();
            let _ = child.wait();
            // SAFETY: the GUI test drops this last, on its only thread.
            unsafe { std::env::remove_var("DISPLAY") };
        }
    }
}

/// A width and height in physical pixels.
pub type SizePx = (u32, u32);

/// A top-level window the test owns, as a DAW owns the frame it embeds a plugin editor in
/// (CLAP `set_parent` with the X11 api: the window's XID).
pub struct HostWindow {
    conn: RustConnection,
    root: Window,
    window: Window,
}

impl HostWindow {
    /// Creates and maps a `size` window at the top left of the screen.
    ///
    /// # Errors
    /// [`Error::X11`] when the X server cannot be reached or refuses the window.
    pub fn new(size: SizePx) -> Result<Self> {
        let (conn, screen_num) = x11rb::connect(None).map_err(x11_error)?;
        let screen = &conn.setup().roots[screen_num];
        let root = screen.root;
        let window = conn.generate_id().map_err(x11_error)?;
        conn.create_window(
            x11rb::COPY_DEPTH_FROM_PARENT,
            window,
            root,
            0,
            0,
            u16::try_from(size.0).map_err(x11_error)?,
            u16::try_from(size.1).map_err(x11_error)?,
            0,
            WindowClass::INPUT_OUTPUT,
            x11rb::COPY_FROM_PARENT,
            &CreateWindowAux::new()
                .background_pixel(screen.black_pixel)
                .event_mask(EventMask::STRUCTURE_NOTIFY | EventMask::SUBSTRUCTURE_NOTIFY),
        )
        .map_err(x11_error)?
        .check()
        .map_err(x11_error)?;
        conn.map_window(window)
            .map_err(x11_error)?
            .check()
            .map_err(x11_error)?;
        Ok(Self { conn, root, window })
    }

    /// The XID handed to the plugin.
    pub fn id(&self) -> Window {
        self.window
    }

    /// Resizes the host window, as a DAW does before telling the plugin its new size.
    ///
    /// # Errors
    /// [`Error::X11`] when the request fails.
    pub fn resize(&self, size: SizePx) -> Result<()> {
        self.conn
            .configure_window(
                self.window,
                &ConfigureWindowAux::new().width(size.0).height(size.1),
            )
            .map_err(x11_error)?
            .check()
            .map_err(x11_error)
    }

    /// Reads and drops the events queued for this connection (nothing here acts on them).
    pub fn drain_events(&self) {
        while let Ok(Some(_)) = self.conn.poll_for_event() {}
    }

    /// The windows embedded in the host window (the plugin's editor, once `set_parent` ran).
    ///
    /// # Errors
    /// [`Error::X11`] when the query fails.
    pub fn children(&self) -> Result<Vec<Window>> {
        Ok(self
            .conn
            .query_tree(self.window)
            .map_err(x11_error)?
            .reply()
            .map_err(x11_error)?
            .children)
    }

    /// The size of `window` as the X server has it.
    ///
    /// # Errors
    /// [`Error::X11`] when the window does not exist.
    pub fn size_of(&self, window: Window) -> Result<SizePx> {
        let g = self
            .conn
            .get_geometry(window)
            .map_err(x11_error)?
            .reply()
            .map_err(x11_error)?;
        Ok((u32::from(g.width), u32::from(g.height)))
    }

    /// Whether `window` is viewable (mapped, and its parents too).
    ///
    /// # Errors
    /// [`Error::X11`] when the window does not exist.
    pub fn is_viewable(&self, window: Window) -> Result<bool> {
        let a = self
            .conn
            .get_window_attributes(window)
            .map_err(x11_error)?
            .reply()
            .map_err(x11_error)?;
        Ok(a.map_state == MapState::VIEWABLE)
    }

    /// Presses button 1 at `from` and moves the pointer to `to` (root coordinates; the host
    /// window sits at 0,0) through the XTEST extension, as a user's mouse does: move, press,
    /// move in `steps` steps `step_pause` apart. The button stays down until [`Self::release`]:
    /// a caller waits for the application to have followed the pointer first (a release that
    /// comes before the application drew its next frame ends the drag short of `to`).
    ///
    /// # Errors
    /// [`Error::X11`] when the server has no XTEST or refuses the input.
    pub fn press_and_move(
        &self,
        from: (i16, i16),
        to: (i16, i16),
        steps: u16,
        step_pause: Duration,
    ) -> Result<()> {
        self.fake(MOTION_NOTIFY, 0, from)?;
        // An immediate-mode UI starts a drag on what the pointer hovered in the frame before
        // the press: wait for it to draw one (a 40 ms pause missed it 1 run in 8 under load).
        std::thread::sleep(step_pause.max(HOVER_BEFORE_PRESS));
        self.fake(BUTTON_PRESS, 1, from)?;
        std::thread::sleep(step_pause);
        let steps = steps.max(1);
        for i in 1..=steps {
            let lerp = |a: i16, b: i16| {
                let t = f32::from(i) / f32::from(steps);
                (f32::from(a) + (f32::from(b) - f32::from(a)) * t).round() as i16
            };
            self.fake(MOTION_NOTIFY, 0, (lerp(from.0, to.0), lerp(from.1, to.1)))?;
            std::thread::sleep(step_pause);
        }
        Ok(())
    }

    /// Releases button 1 at `at` (the end of [`Self::press_and_move`]).
    ///
    /// # Errors
    /// [`Error::X11`] when the server refuses the input.
    pub fn release(&self, at: (i16, i16)) -> Result<()> {
        self.fake(BUTTON_RELEASE, 1, at)
    }

    fn fake(&self, kind: u8, detail: u8, at: (i16, i16)) -> Result<()> {
        self.conn
            .xtest_fake_input(kind, detail, 0, self.root, at.0, at.1, 0)
            .map_err(x11_error)?
            .check()
            .map_err(x11_error)?;
        self.conn.flush().map_err(x11_error)
    }
}

impl Drop for HostWindow {
    fn drop(&mut self) {
        let _ = self.conn.destroy_window(self.window);
        let _ = self.conn.flush();
    }
}
