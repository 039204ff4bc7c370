//! End-to-end tests of the built StemCheck bundles inside real hosts.
//!
//! Unit tests of the plugin crate call its Rust API; they cannot show that the *built* bundle
//! loads, processes and captures when a third-party host drives it with that host's habits. This
//! crate drives the real `StemCheck.clap` through a CLAP host written on `clack-host`
//! ([`clap_host`], [`render`]) and the real `StemCheck.vst3` through Ardour 7's headless Lua
//! tool ([`ardour`]), then checks what the plugin wrote ([`captures`]) with the `stemcheck` CLI
//! ([`report`]), exactly as a user would. The editor is embedded in a real X11 window
//! ([`x11`]) and resized and scaled through the CLAP gui extension.
//!
//! The tests in `tests/` are `#[ignore]`d because they need the bundles built first (and Ardour
//! installed); `tests/run-host-tests.sh` builds everything and runs them.

pub mod ardour;
pub mod captures;
pub mod clap_host;
pub mod error;
pub mod faults;
pub mod paths;
pub mod plugin_driver;
pub mod render;
pub mod report;
pub mod scenario;
pub mod signals;
pub mod x11;

pub use error::{Error, Result};
