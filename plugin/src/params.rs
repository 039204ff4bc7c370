//! The plugin's parameters and persisted fields.
//!
//! `role` is the one parameter host scripts rely on (report contract): its id never changes, and
//! its plain values are 0 = stem, 1 = mix. As an [`EnumParam`] it is a stepped parameter, which
//! VST3 hosts (Ardour's Lua, REAPER's ReaScript) see as the plain values 0..N-1.
//!
//! New parameters go after the existing ones: VST3 hosts index parameters in declaration
//! order, and scripts that address them by index must keep working.

use std::sync::Arc;

use nice_plug::prelude::*;
use nice_plug_egui::EguiEditorState;
use parking_lot::RwLock;

use analyzer_core::capture::CaptureRole;
use analyzer_core::profile::MASTERING;

use crate::capture::retention::{self, Retention};
use crate::spectrum::ChannelView;

/// What this instance sits on. Append new variants only at the end: the index is the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Role {
    #[id = "stem"]
    #[name = "Stem"]
    Stem,
    #[id = "mix"]
    #[name = "Mix"]
    Mix,
}

impl From<Role> for CaptureRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Stem => CaptureRole::Stem,
            Role::Mix => CaptureRole::Mix,
        }
    }
}

/// The loudness the meter's integrated readout is compared with (the editor shows the
/// difference). Append new variants only at the end: hosts store the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum LoudnessTarget {
    /// Streaming services' playback normalisation (Spotify, YouTube, Tidal).
    #[id = "minus14"]
    #[name = "-14 LUFS (streaming)"]
    Minus14,
    /// Apple Music / podcasts (AES TD1004).
    #[id = "minus16"]
    #[name = "-16 LUFS (Apple, podcast)"]
    Minus16,
    /// EBU R128 broadcast.
    #[id = "minus23"]
    #[name = "-23 LUFS (EBU R128)"]
    Minus23,
    /// ATSC A/85 broadcast.
    #[id = "minus24"]
    #[name = "-24 LKFS (ATSC A/85)"]
    Minus24,
}

impl LoudnessTarget {
    pub fn lufs(self) -> f32 {
        match self {
            Self::Minus14 => -14.0,
            Self::Minus16 => -16.0,
            Self::Minus23 => -23.0,
            Self::Minus24 => -24.0,
        }
    }
}

/// Range of the true-peak ceiling parameter, dBTP: every shipped profile's ceiling (0, -1, -2)
/// and the stricter ones some distributors ask for.
pub const CEILING_MIN_DBTP: f32 = -6.0;
pub const CEILING_MAX_DBTP: f32 = 0.0;

/// Ranges of the retention parameters (bounces, GB).
pub const KEEP_BOUNCES_MAX: i32 = 500;
pub const KEEP_GB_MIN: f32 = 0.5;
pub const KEEP_GB_MAX: f32 = 1000.0;

/// Default editor size in logical pixels (room for the reconciliation plots and table).
pub const EDITOR_WIDTH: u32 = 860;
pub const EDITOR_HEIGHT: u32 = 860;

#[derive(Params)]
pub struct StemCheckParams {
    /// Stem or mix; the stable id `role` is part of the report contract.
    #[id = "role"]
    pub role: EnumParam<Role>,

    /// Capture renders automatically (offline, or detected as faster than real time); real-time
    /// playback is watched for a render but kept only when armed (`arm_playback`).
    #[id = "auto_arm"]
    pub auto_arm: BoolParam,

    /// Capture whenever audio is processed, even without a transport (hosts that report none).
    #[id = "arm"]
    pub manual_arm: BoolParam,

    /// The true-peak ceiling the headroom and the over indicator are measured against, dBTP
    /// (default: the `mastering` profile's). A float parameter, which also gives
    /// clap-validator's `param-set-*` tests a value that cannot land on its default (see
    /// tests/README.md).
    #[id = "ceiling"]
    pub ceiling_dbtp: FloatParam,

    /// The loudness the integrated readout is compared with.
    #[id = "target"]
    pub loudness_target: EnumParam<LoudnessTarget>,

    /// Resets the meters' maxima, integrated loudness, loudness range and over latch on each
    /// change from off to on (a host can automate it, e.g. at the start of each pass). The
    /// audio thread counts the edges ([`crate::shared::MeterShared::reset_requests`]) so none
    /// is missed while the editor is closed.
    #[id = "meter_reset"]
    pub meter_reset: BoolParam,

    /// Captures real-time playback in every instance of the session (through the capture
    /// root, [`crate::capture::session_arm`]). Renders are captured without it.
    #[id = "arm_playback"]
    pub arm_playback: BoolParam,

    /// Retention: the capture root keeps at most this many bounces (the newest always).
    #[id = "keep_bounces"]
    pub keep_bounces: IntParam,

    /// Retention: the capture root's bounces take at most this much disk, GB (10^9 bytes).
    #[id = "keep_gb"]
    pub keep_gb: FloatParam,

    /// The label the user typed; empty means "use the host's track name".
    #[persist = "label"]
    pub label: Arc<RwLock<String>>,

    /// The track name the host last reported (CLAP track-info / VST3 channel context), kept with
    /// the project so captures keep their name in hosts that report it only while the editor
    /// exists.
    #[persist = "host_track_name"]
    pub host_track_name: Arc<RwLock<String>>,

    /// The spectrum analyser's display settings (view, smoothing, tilt, hold), kept with the
    /// project like the settings of any analyser an engineer leaves open. Written by the editor
    /// (GUI thread) when one changes; read when the editor opens.
    #[persist = "analyser"]
    pub analyser: Arc<RwLock<AnalyserPrefs>>,

    /// Editor size and open state. Not persisted: nice-plug-egui 0.6's `EguiEditorState` has no
    /// serde form and no size setter, and the wrappers ask for the editor (and its size) before
    /// the project's state is loaded, so a stored size could not reach the window.
    pub editor_state: Arc<EguiEditorState>,
}

/// Peak-hold choice of the analyser, stored by name (the infinite hold has no JSON number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeakHoldPref {
    /// No peak curve.
    Off,
    /// Peaks held two seconds, then falling.
    #[default]
    TwoSeconds,
    /// Peaks held until a click on the plot.
    UntilCleared,
}

impl PeakHoldPref {
    /// Seconds a peak is held (infinite: until cleared).
    pub fn hold_s(self) -> f32 {
        match self {
            Self::Off => 0.0,
            Self::TwoSeconds => 2.0,
            Self::UntilCleared => f32::INFINITY,
        }
    }

    /// The choice closest to `hold_s` (the editor's menu offers exactly these three).
    pub fn from_hold_s(hold_s: f32) -> Self {
        if hold_s <= 0.0 {
            Self::Off
        } else if hold_s.is_infinite() {
            Self::UntilCleared
        } else {
            Self::TwoSeconds
        }
    }
}

/// The analyser settings a project keeps. Fields missing from an older project take their
/// defaults; values outside the editor's choices are replaced by the nearest sane one on load
/// ([`AnalyserPrefs::sanitized`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct AnalyserPrefs {
    pub view: ChannelView,
    /// Smoothing: 1/`octave_fraction` octave.
    pub octave_fraction: f32,
    /// Display tilt, dB per octave (pivot 1 kHz).
    pub tilt_db_per_octave: f32,
    pub hold: PeakHoldPref,
}

impl Default for AnalyserPrefs {
    fn default() -> Self {
        Self {
            view: ChannelView::Mid,
            octave_fraction: 6.0,
            tilt_db_per_octave: 3.0,
            hold: PeakHoldPref::TwoSeconds,
        }
    }
}

impl AnalyserPrefs {
    /// The settings with a smoothing or tilt that is not finite or out of range (a hand-edited
    /// or damaged project) replaced by the default.
    pub fn sanitized(self) -> Self {
        let d = Self::default();
        Self {
            octave_fraction: if self.octave_fraction.is_finite()
                && (1.0..=48.0).contains(&self.octave_fraction)
            {
                self.octave_fraction
            } else {
                d.octave_fraction
            },
            tilt_db_per_octave: if self.tilt_db_per_octave.is_finite()
                && (0.0..=12.0).contains(&self.tilt_db_per_octave)
            {
                self.tilt_db_per_octave
            } else {
                d.tilt_db_per_octave
            },
            ..self
        }
    }
}

impl Default for StemCheckParams {
    fn default() -> Self {
        Self::with_default_role(Role::Stem)
    }
}

impl StemCheckParams {
    /// Parameters whose `role` starts at (and resets to) `role`. Plugins start as stems; the
    /// standalone build showing a checked folder starts as the mix.
    pub fn with_default_role(role: Role) -> Self {
        Self {
            role: EnumParam::new("Role", role),
            auto_arm: BoolParam::new("Auto capture", true),
            manual_arm: BoolParam::new("Capture armed", false),
            ceiling_dbtp: FloatParam::new(
                "True-peak ceiling",
                MASTERING.true_peak_max_dbtp as f32,
                FloatRange::Linear {
                    min: CEILING_MIN_DBTP,
                    max: CEILING_MAX_DBTP,
                },
            )
            .with_step_size(0.1)
            .with_unit(" dBTP")
            .with_value_to_string(formatters::v2s_f32_rounded(1)),
            loudness_target: EnumParam::new("Loudness target", LoudnessTarget::Minus14),
            meter_reset: BoolParam::new("Reset meters", false),
            arm_playback: BoolParam::new("Arm playback capture", false),
            keep_bounces: IntParam::new(
                "Keep last bounces",
                retention::DEFAULT_KEEP_BOUNCES,
                IntRange::Linear {
                    min: 1,
                    max: KEEP_BOUNCES_MAX,
                },
            ),
            keep_gb: FloatParam::new(
                "Capture size cap",
                retention::DEFAULT_MAX_GB,
                FloatRange::Skewed {
                    min: KEEP_GB_MIN,
                    max: KEEP_GB_MAX,
                    factor: FloatRange::skew_factor(-2.0),
                },
            )
            .with_unit(" GB")
            .with_value_to_string(formatters::v2s_f32_rounded(1)),
            label: Arc::new(RwLock::new(String::new())),
            host_track_name: Arc::new(RwLock::new(String::new())),
            analyser: Arc::new(RwLock::new(AnalyserPrefs::default())),
            editor_state: EguiEditorState::from_size(
                nice_plug::editor::dpi::LogicalSize::new(EDITOR_WIDTH, EDITOR_HEIGHT),
                1.0,
            ),
        }
    }
}

impl StemCheckParams {
    /// The retention rule the parameters set now.
    pub fn retention(&self) -> Retention {
        Retention {
            keep_bounces: self.keep_bounces.value().max(1) as usize,
            max_bytes: (f64::from(self.keep_gb.value()) * 1e9) as u64,
        }
    }

    /// True while this instance arms real-time capture for the whole session. Any instance's
    /// arm does (the editor offers it on the mix), so the one on the mix bus reaches every
    /// stem.
    pub fn arms_session(&self) -> bool {
        self.arm_playback.value()
    }

    /// The label captures are named by: the user's label, else the host's track name, else
    /// `fallback` (a unique instance name), as the report contract orders them.
    pub fn effective_label(&self, fallback: &str) -> String {
        let user = self.label.read().trim().to_string();
        if !user.is_empty() {
            return user;
        }
        let host = self.host_track_name.read().trim().to_string();
        if !host.is_empty() {
            return host;
        }
        fallback.to_string()
    }
}
