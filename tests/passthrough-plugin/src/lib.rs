//! A plugin that does nothing: its output is its input (nice-plug processes in place, so leaving
//! the buffer alone passes it through, latency 0). It has StemCheck's `role` parameter (same
//! stable id, values and default), so the CLAP harness drives it exactly like StemCheck; the
//! 13-instance bounce benchmark compares the two to price StemCheck's meters and capture.

use std::num::NonZeroU32;
use std::sync::Arc;

use nice_plug::prelude::*;

/// The same parameter contract as StemCheck's role (stable ids "stem" and "mix").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Role {
    #[id = "stem"]
    Stem,
    #[id = "mix"]
    Mix,
}

#[derive(Params)]
pub struct PassthroughParams {
    #[id = "role"]
    pub role: EnumParam<Role>,
}

pub struct Passthrough {
    params: Arc<PassthroughParams>,
}

impl Default for Passthrough {
    fn default() -> Self {
        Self {
            params: Arc::new(PassthroughParams {
                role: EnumParam::new("Role", Role::Stem),
            }),
        }
    }
}

impl Plugin for Passthrough {
    const NAME: &'static str = "StemCheck Passthrough";
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
    type Editor = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn process(
        &mut self,
        _buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        _context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        ProcessStatus::Normal
    }
}

impl ClapPlugin for Passthrough {
    const CLAP_ID: &'static str = "invalid.example.stemcheck-passthrough";
    const CLAP_DESCRIPTION: Option<&'static str> = Some("Output = input; a benchmark baseline");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[ClapFeature::AudioEffect, ClapFeature::Utility];
}

impl Vst3Plugin for Passthrough {
    const VST3_CLASS_ID: [u8; 16] = *b"StemCheckPassThr";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[Vst3SubCategory::Fx];
}

nice_export_clap!(Passthrough);
nice_export_vst3!(Passthrough);
