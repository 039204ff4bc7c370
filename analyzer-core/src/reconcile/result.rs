//! Step 5 of the reconciliation and its outcome: the streaming pass over the whole mix with
//! every stem at its offset, the full-length fit, and the [`ReconcileResult`] built from it
//! (per-stem fits, the report's [`Reconciliation`], findings).

use super::findings;
use super::gram::Model;
use super::pan_law;
use super::plan::{Plan, judged_span};
use super::search::Placement;
use super::stream::{self, BlockVisitor};
use super::types::{ReconcileResult, StemFit};
use crate::report::{Polarity, Reconciliation};
use crate::source::FrameSource;
use crate::units::{amp_to_db, db_to_amp, power_to_db};
use crate::{Profile, Result};

/// Floor of the null depths in the report, dB re mix: a residual of exactly zero (a bit-exact
/// null) would read about -3000 dB; it is written as this floor and the `sum_matches_mix`
/// finding says "bit-exact" (`measured.bit_exact`).
pub const NULL_FLOOR_DB: f64 = -200.0;

/// What the streaming pass needs besides the sources.
pub(super) struct Finish<'a> {
    pub plan: &'a Plan,
    pub model: &'a Model,
    pub profile: &'a Profile,
    pub placement: Placement,
    /// The analysis windows (start frames in the mix), handed on to the diagnosis.
    pub windows: Vec<u64>,
    /// Threads for the streaming pass; 0 = all available.
    pub threads: usize,
}

/// Gains of the plain sum and of the windows' fit, with the stems that cannot be compared
/// left out (zero gains, no reads).
struct StreamGains {
    unity: Vec<f64>,
    fitted: Vec<f64>,
}

impl Finish<'_> {
    /// Streams the mix and the stems over the judged span and builds the result.
    ///
    /// # Errors
    /// When a file fails while it is being read.
    pub fn run(
        self,
        mix: &mut dyn FrameSource,
        stems: &mut [Box<dyn FrameSource>],
        visitor: Option<&mut dyn BlockVisitor>,
        progress: &dyn Fn(u64),
    ) -> Result<ReconcileResult> {
        let (plan, model, placement) = (self.plan, self.model, &self.placement);
        let (k, cm) = (plan.stems(), plan.mix_channels);
        let (offsets, active) = (&placement.offsets, &placement.active);
        let span = judged_span(active, offsets, &plan.stem_frames, plan.mix_frames);
        let tol = self.profile.gain_tolerance_db;
        let used = self.stream_gains(tol);
        let threads = if self.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.threads
        };
        let stream_plan = stream::StreamPlan {
            model,
            offsets,
            unity: &used.unity,
            fitted: &used.fitted,
            span: span.clone(),
            frames: plan.mix_frames,
            block_frames: plan.block_frames,
            stat_frames: plan.stat_frames,
        };
        let out = stream::run(&stream_plan, mix, stems, threads, visitor, progress)?;
        let theta = out.gram.solve(model);
        let mut coefs = model.coefs(&theta);
        for i in (0..k).filter(|&i| !plan.eligible[i]) {
            coefs[i * cm..(i + 1) * cm].fill(0.0);
        }
        // The plain sum's residual with each mono stem's pan taken from the full-length fit
        // (the window fit may not have seen a sparse stem): exact by the quadratic expansion
        // around the measured residual.
        let pan_law_db = session_pan_law(model, &coefs, active, tol);
        let mut unity_final = used.unity.clone();
        pan_mono_stems(model, &coefs, pan_law_db, &mut unity_final, |i| {
            plan.eligible[i]
        });
        let e_unity = out.gram.energy_from(&unity_final, &used.unity, out.e_unity);
        let e_mix = out.gram.mix_energy();
        let e_fit = out.gram.energy_from(&coefs, &used.fitted, out.e_fitted);
        let ratio_db = |e: f64, e_mix: f64| {
            (e_mix > 0.0).then(|| power_to_db(e.max(1e-300) / e_mix).max(NULL_FLOOR_DB))
        };
        let names: Vec<String> = stems.iter().map(|s| s.name().to_owned()).collect();
        let fits = self.fits(&coefs, pan_law_db, &names);
        // BS.1770-4 integrated loudness of the residual (mix minus the aligned plain sum).
        let residual_lufs = stream::gated_loudness_lufs(&out.gating_blocks);
        let lag_samples = findings::common_offset(&fits, &out.gram, model);
        // The headline: the plain sum as delivered, every stem at the one common lag. When
        // every stem already sits there the pass above measured it; otherwise a second,
        // plain-sum-only pass reads the stems at the common lag.
        let (e_delivered, e_mix_delivered) = if (0..k)
            .filter(|&i| plan.eligible[i])
            .all(|i| offsets[i] == lag_samples)
        {
            (e_unity, e_mix)
        } else {
            let common = vec![lag_samples; k];
            let delivered_span = judged_span(active, &common, &plan.stem_frames, plan.mix_frames);
            let delivered_plan = stream::StreamPlan {
                offsets: &common,
                unity: &unity_final,
                fitted: &unity_final,
                span: delivered_span,
                ..stream_plan
            };
            stream::plain_residual(&delivered_plan, mix, stems)?
        };
        // Under the floor the stems sum to the mix within the arithmetic's own rounding (f32
        // samples cannot differ by that little): bit-exact.
        let bit_exact = e_mix_delivered > 0.0
            && power_to_db(e_delivered.max(1e-300) / e_mix_delivered) <= NULL_FLOOR_DB;
        let reconciliation = Reconciliation {
            lag_samples,
            null_depth_db: ratio_db(e_delivered, e_mix_delivered),
            corrected_null_depth_db: ratio_db(e_fit, e_mix),
            residual_lufs,
            fitted_null_depth_db: ratio_db(e_fit, e_mix),
            judged_span_frames: Some([span.start, span.end]),
            mix: Some(mix.name().to_owned()),
            pan_law_db: pan_law_db.map(pan_law::display_db),
            ..Default::default()
        };
        let mut edges = Vec::with_capacity(k);
        for (i, s) in stems.iter_mut().enumerate() {
            edges.push(if active[i] {
                Some(findings::edge_levels(s.as_mut(), plan.stat_frames)?)
            } else {
                None
            });
        }
        let ctx = findings::Context {
            profile: self.profile,
            names: &names,
            fits: &fits,
            reconciliation: &reconciliation,
            sample_rate: plan.sample_rate,
            mix_frames: plan.mix_frames,
            stem_frames: &plan.stem_frames,
            edges: &edges,
            floor_mean_square: plan.floor_mean_square,
            mono: &(0..k)
                .map(|i| mono_fit(model, &coefs, i).is_some())
                .collect::<Vec<_>>(),
            pan_law_db: pan_law_db.map(pan_law::display_db),
            bit_exact,
            stem_energy_share: (0..k)
                .map(|i| out.gram.stem_energy_at(&unity_final, i) / e_mix.max(1e-300))
                .collect(),
            sum_energy_share: out.gram.sum_energy_at(&unity_final) / e_mix.max(1e-300),
            blocks: &out.stats,
            gram: &out.gram,
            model,
        };
        let mut causes = findings::make(&ctx);
        // What a cause found below that stops the sum does to it.
        let breaking_impact =
            if findings::delivered_fails(reconciliation.null_depth_db, self.profile) {
                crate::cause::SumImpact::breaking(
                    reconciliation.null_depth_db,
                    reconciliation.corrected_null_depth_db,
                )
            } else {
                crate::cause::SumImpact::default()
            };
        // Gaps in a stem's export leave bursts of residual that read as content no stem
        // carries; the stem and the gaps are named instead.
        let dropouts = super::dropout::DropoutSearch {
            blocks: &out.stats,
            offsets,
            active,
            names: &names,
            sample_rate: plan.sample_rate,
            floor_mean_square: plan.floor_mean_square,
            impact: breaking_impact,
        }
        .run(stems)?;
        if !dropouts.is_empty() {
            causes.retain(|c| !matches!(c, crate::cause::Cause::SumMatchesMix { .. }));
            causes.extend(dropouts);
        }
        // A stem clipped in its export leaves its cut peaks as the residual, and the gain fit
        // leans on it to make them up.
        let bias_db = if out.clips.iter().any(|c| c.samples > 0) {
            super::clipped::bias_db(model, &coefs, &out.gram, &out.clip_gram)
        } else {
            vec![0.0; k]
        };
        let clipped = super::clipped::ClippedSearch {
            clips: &out.clips,
            e_residual: out.e_unity,
            e_mix,
            bias_db: &bias_db,
            names: &names,
            impact: breaking_impact,
        }
        .run();
        if !clipped.is_empty() {
            causes = super::clipped::attribute_gains(causes, &names, &bias_db, active);
            causes.extend(clipped);
        }
        // A stem ducked by another's sidechain that its export did not print: its residual is
        // the stem scaled by the ducking, its whole-song gain the ducking's average.
        let ducking = super::ducking::DuckingSearch {
            model,
            gram: &out.gram,
            unity: &used.unity,
            offsets,
            active,
            names: &names,
            e_residual: out.e_unity,
            e_mix,
            span: span.clone(),
            sample_rate: plan.sample_rate,
            impact: breaking_impact,
        }
        .run(mix, stems)?;
        if let Some(d) = ducking {
            causes = super::ducking::attribute_gain(causes, &d, active);
            causes.push(d);
        }
        // A stereo stem exported as a mono file: the residual is its side (as it is a swapped
        // or inverted channel's, which is named already).
        let channel_fault = causes
            .iter()
            .any(|c| matches!(c, crate::cause::Cause::ChannelFault(_)));
        let folded = super::folded::FoldedSearch {
            gram: &out.gram,
            pass: super::block_pass::BlockPass {
                model,
                unity: &used.unity,
                offsets,
                active,
                span: span.clone(),
                sample_rate: plan.sample_rate,
            },
            names: &names,
            e_residual: out.e_unity,
            e_mix,
            impact: breaking_impact,
        };
        let folded = if channel_fault {
            None
        } else {
            folded.run(mix, stems)?
        };
        if let Some(f) = folded {
            causes = super::folded::attribute_gain(causes, &f, active);
            causes.push(f);
        }
        let mut reconciliation = reconciliation;
        // A stem whose export stopped short leaves the end of the mix unmatched, outside the
        // span every stem covers: the headline (the sum as delivered) then covers the whole mix.
        if causes.iter().any(|c| {
            matches!(
                c,
                crate::cause::Cause::CutOff {
                    audible_in_mix: true,
                    ..
                }
            )
        }) {
            let (residual_out, mix_out) = findings::energies_outside(&out.stats, &span);
            reconciliation.null_depth_db =
                ratio_db(e_delivered + residual_out, e_mix_delivered + mix_out);
        }
        let residual_plan = super::residual::ResidualPlan {
            lag_samples,
            stems: (0..k)
                .map(|i| {
                    plan.eligible[i].then(|| super::residual::StemPlacement {
                        offset_samples: offsets[i],
                        delivered_gains: unity_final[i * cm..(i + 1) * cm].to_vec(),
                        corrected_gains: coefs[i * cm..(i + 1) * cm].to_vec(),
                        channel_fix: None,
                        drift: None,
                    })
                })
                .collect(),
        };
        Ok(ReconcileResult {
            residual_plan,
            aligned_null_depth_db: ratio_db(e_unity, e_mix),
            delivered_bit_exact: bit_exact,
            reconciliation,
            stems: fits,
            findings: crate::cause::findings(&causes),
            causes,
            blocks: out.stats,
            sample_rate: plan.sample_rate,
            mix_channels: cm,
            mix_energy: e_mix,
            windows: self.windows,
            window_frames: plan.window_frames,
        })
    }

    /// The gains the streaming pass measures the residuals with. The plain sum: unity gains,
    /// except that a mono stem keeps the pan position it was mixed at (a mono file carries no
    /// pan; that is not a fault), at the level the session's pan law (see `pan_law`) gives
    /// it, without any polarity correction.
    fn stream_gains(&self, tol_db: f64) -> StreamGains {
        let (plan, model, placement) = (self.plan, self.model, &self.placement);
        let (k, cm) = (plan.stems(), plan.mix_channels);
        let wcoefs = &placement.window_coefs;
        let law_windows = session_pan_law(model, wcoefs, &placement.active, tol_db);
        let mut unity = model.unity_coefs();
        pan_mono_stems(model, wcoefs, law_windows, &mut unity, |_| true);
        let mut fitted = wcoefs.clone();
        for i in (0..k).filter(|&i| !plan.eligible[i]) {
            unity[i * cm..(i + 1) * cm].fill(0.0);
            fitted[i * cm..(i + 1) * cm].fill(0.0);
        }
        StreamGains { unity, fitted }
    }

    /// Every comparable stem's fit from the full-length gains `coefs`.
    fn fits(
        &self,
        coefs: &[f64],
        pan_law_db: Option<f64>,
        names: &[String],
    ) -> Vec<Option<StemFit>> {
        let (plan, model, p) = (self.plan, self.model, &self.placement);
        let cm = plan.mix_channels;
        (0..plan.stems())
            .map(|i| {
                plan.eligible[i].then(|| {
                    let g = model.stem_gain(coefs, i);
                    let mut gain_db = amp_to_db(g.abs().max(1e-15));
                    if let (Some(law), Some(m)) = (pan_law_db, mono_fit(model, coefs, i)) {
                        gain_db = m.gain_db(law);
                    }
                    StemFit {
                        name: names[i].clone(),
                        offset_samples: p.offsets[i],
                        gain_db,
                        polarity: if g < 0.0 {
                            Polarity::Inverted
                        } else {
                            Polarity::Normal
                        },
                        confidence: p.confidence[i],
                        active: p.active[i],
                        channel_gains: coefs[i * cm..(i + 1) * cm].to_vec(),
                        peak_to_sidelobe: p.estimates[i].map_or(0.0, |c| c.peak_to_sidelobe),
                        window_gain_spread_db: p.window_gain_spread_db[i],
                        window_gain_range_db: p.window_gain_range_db[i],
                        window_own_gain_db: p.window_own_gain_db[i],
                    }
                })
            })
            .collect()
    }
}

/// A mono stem's fit in a stereo mix (`None` for other layouts or a zero fit).
fn mono_fit(model: &Model, coefs: &[f64], i: usize) -> Option<pan_law::MonoFit> {
    let cm = model.mix_channels;
    (model.stem_channels[i] == 1 && cm == 2)
        .then(|| pan_law::MonoFit::from_gains(coefs[i * cm], coefs[i * cm + 1]))
        .flatten()
}

/// The session's pan law from the active stems' fitted gains (see [`pan_law::infer`]).
fn session_pan_law(model: &Model, coefs: &[f64], active: &[bool], tol_db: f64) -> Option<f64> {
    let k = model.stems();
    let mono: Vec<pan_law::MonoFit> = (0..k)
        .filter(|&i| active[i])
        .filter_map(|i| mono_fit(model, coefs, i))
        .collect();
    let others: Vec<f64> = (0..k)
        .filter(|&i| active[i] && model.stem_channels[i] != 1)
        .map(|i| amp_to_db(model.stem_gain(coefs, i).abs().max(1e-15)))
        .collect();
    pan_law::infer(&mono, &others, tol_db)
}

/// Plain-sum gains of the mono stems in a multichannel mix: the pan position the fit found
/// (a mono file carries no pan; that is not a fault), at the level the session's pan law
/// gives it (constant power without one), without any gain or polarity correction.
fn pan_mono_stems(
    model: &Model,
    coefs: &[f64],
    law_db: Option<f64>,
    unity: &mut [f64],
    include: impl Fn(usize) -> bool,
) {
    let cm = model.mix_channels;
    for i in (0..model.stems()).filter(|&i| include(i) && model.stem_channels[i] == 1 && cm > 1) {
        let g = &coefs[i * cm..(i + 1) * cm];
        let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 0.0 {
            let sign = if g.iter().sum::<f64>() < 0.0 {
                -1.0
            } else {
                1.0
            };
            let level = match (law_db, mono_fit(model, coefs, i)) {
                (Some(law), Some(m)) => db_to_amp(m.expected_db(law)),
                _ => 1.0,
            };
            for c in 0..cm {
                unity[i * cm + c] = sign * level * g[c] / norm;
            }
        }
    }
}
