//! # analyzer-core
//!
//! StemCheck's analysis library: reading stem deliveries (streamed, bounded memory), delivery
//! checks, metering after ITU-R BS.1770-4 / EBU R128, alignment of stems against the mix,
//! stem-sum reconciliation and diagnosis of what the stems are missing.
//!
//! No plugin, GUI or ring-buffer dependencies: the plugin and the CLI both build on this.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod align;
pub mod analyze;
pub mod capture;
pub mod cause;
pub mod chart_axis;
pub mod checks;
pub mod diagnose;
pub mod error;
pub mod fft;
pub mod fix;
pub mod meter;
pub mod profile;
pub mod reconcile;
pub mod report;
pub mod resample;
pub mod source;
pub mod synth;
pub mod units;
pub mod wav;

pub use error::{Error, Result};
pub use profile::Profile;
pub use report::{FileReport, Finding, FindingCode, Report, Severity};
