//! The analysis of what the collector gathered: model scores, residual features, and the
//! causes they support.

use realfft::num_complex::Complex;

use super::explain::{Context, explain};
use super::features::{ResidualFeatures, residual_features};
use super::models::{ModelScores, model_scores};
use super::stats::{FrameStat, Segment, StreamFacts};
use crate::cause::{self, Cause};
use crate::report::Finding;

/// The diagnosis: the numbers and the causes they support.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    /// How well each model (global gain, dynamics, EQ) nulls the residual (`None` when the
    /// judged stream was too short or the mix silent, so nothing was diagnosed).
    pub scores: Option<ModelScores>,
    /// Features of the fitted residual that tell added content apart (`None` as for `scores`).
    pub residual: Option<ResidualFeatures>,
    /// Causes, strongest first.
    pub causes: Vec<Cause>,
    /// `causes` rendered for the report (kept for tools and tests that read findings).
    pub findings: Vec<Finding>,
}

impl Diagnosis {
    /// A diagnosis of these causes.
    pub fn new(
        scores: Option<ModelScores>,
        residual: Option<ResidualFeatures>,
        causes: Vec<Cause>,
    ) -> Self {
        Self {
            scores,
            residual,
            findings: cause::findings(&causes),
            causes,
        }
    }

    /// Drops every cause (the set needs no explanation).
    pub fn clear_causes(&mut self) {
        self.causes.clear();
        self.findings.clear();
    }
}

/// Scores the models, measures the residual and explains it; too little audio (under half a
/// second, or a silent mix) gives an empty diagnosis.
pub(super) fn analyse(
    d: &StreamFacts<'_>,
    frames: &[FrameStat],
    segments: &[&Segment],
) -> Diagnosis {
    let em: f64 = frames.iter().map(|f| f64::from(f.em)).sum();
    if frames.len() < 50 || em <= 0.0 {
        return Diagnosis::new(None, None, Vec::new());
    }
    let (scores, h, coh): (ModelScores, Vec<Complex<f64>>, Vec<f64>) =
        model_scores(frames, segments, d.band_hz.len());
    let features = residual_features(d, frames, segments);
    let causes = explain(&Context {
        stream: d,
        frames,
        segments,
        scores: &scores,
        residual: &features,
        band_gains: &h,
        band_coherence: &coh,
    });
    Diagnosis::new(Some(scores), Some(features), causes)
}
