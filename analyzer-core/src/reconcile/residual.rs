//! The residual as audio: mix minus the stem sum, as delivered and after the corrections the
//! findings name, so that an engineer can solo what the stems are missing.
//!
//! Nothing is measured again here. The reconciliation keeps, per stem, what its two null
//! depths were computed with ([`ResidualPlan`]): for the null as delivered, every stem at the
//! one common lag with unity gains (a mono stem at its pan position, as in
//! `reconciliation.null_depth_db`); for the corrected null, every stem at its own offset, read
//! with its channel fix or drift correction, at the full-length least-squares gains (signed:
//! polarity included), as in `reconciliation.corrected_null_depth_db`. [`render_residual`]
//! streams the mix and the stems once more through the same block reader as the streaming
//! pass and hands out the difference.

use super::channels::{ChannelFix, FixedChannels};
use super::drift::DriftCorrected;
use super::gram::Model;
use super::stream::{StreamPlan, residual_audio};
use crate::Result;
use crate::source::FrameSource;

/// Which residual to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResidualKind {
    /// The stems as delivered: one common lag, unity gains (`null_depth_db`).
    Delivered,
    /// After every correction the findings name: offsets, gains, polarity, channel fixes,
    /// clock drift (`corrected_null_depth_db`).
    Corrected,
}

/// How one stem entered the two null depths.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StemPlacement {
    /// The stem's own offset against the mix, samples (the corrected sum reads it there).
    pub offset_samples: i64,
    /// Gain per mix channel in the sum as delivered (unity; a mono stem at its pan position).
    pub delivered_gains: Vec<f64>,
    /// Signed gain per mix channel in the corrected sum (the full-length fit).
    pub corrected_gains: Vec<f64>,
    /// The channel reading the corrected sum uses (swapped, one channel inverted).
    pub channel_fix: Option<ChannelFix>,
    /// The clock drift the corrected sum undoes: (lag at the mix's first frame in samples,
    /// rate error in ppm).
    pub drift: Option<(f64, f64)>,
}

/// What [`render_residual`] needs from a reconciliation, per stem in the order the stems were
/// given (`None`: the stem did not enter the sum).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResidualPlan {
    /// The common lag of the sum as delivered, samples.
    pub lag_samples: i64,
    /// One entry per stem given to the reconciliation.
    pub stems: Vec<Option<StemPlacement>>,
}

/// Frames per block handed to `out` (at most).
const BLOCK_FRAMES: usize = 16_384;

/// Streams the residual of `kind` over the whole mix to `out`, block by block, interleaved
/// with the mix's channels at the mix's rate. `stems` are the sources the reconciliation was
/// given, in the same order (`None` for one that cannot be read now: it is left out, as a
/// stem without a placement is).
///
/// # Errors
/// When a source fails while it is being read, or `out` fails.
pub fn render_residual(
    mut mix: Box<dyn FrameSource>,
    stems: Vec<Option<Box<dyn FrameSource>>>,
    plan: &ResidualPlan,
    kind: ResidualKind,
    out: &mut dyn FnMut(&[f32]) -> Result<()>,
) -> Result<()> {
    let cm = mix.channels();
    let mut sources: Vec<Box<dyn FrameSource>> = Vec::new();
    let (mut offsets, mut gains) = (Vec::new(), Vec::new());
    for (src, placement) in stems.into_iter().zip(&plan.stems) {
        let (Some(mut src), Some(p)) = (src, placement) else {
            continue;
        };
        let g = match kind {
            ResidualKind::Delivered => &p.delivered_gains,
            ResidualKind::Corrected => &p.corrected_gains,
        };
        if g.len() != cm {
            continue;
        }
        if kind == ResidualKind::Corrected {
            if let Some(fix) = p.channel_fix {
                src = Box::new(FixedChannels::new(src, fix));
            }
            if let Some((start, ppm)) = p.drift {
                src = Box::new(DriftCorrected::new(src, start, ppm));
            }
        }
        offsets.push(match kind {
            ResidualKind::Delivered => plan.lag_samples,
            ResidualKind::Corrected => p.offset_samples,
        });
        gains.extend_from_slice(g);
        sources.push(src);
    }
    let stem_channels: Vec<usize> = sources.iter().map(|s| s.channels()).collect();
    let model = Model::new(cm, &stem_channels);
    let frames = mix.frames();
    let stream_plan = StreamPlan {
        model: &model,
        offsets: &offsets,
        unity: &gains,
        fitted: &gains,
        span: 0..frames,
        frames,
        block_frames: BLOCK_FRAMES,
        stat_frames: BLOCK_FRAMES,
    };
    residual_audio(&stream_plan, mix.as_mut(), &mut sources, out)
}
