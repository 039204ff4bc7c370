//! Stem-sum reconciliation: do the stems sum back to the mix, and if not, which stem is
//! shifted, inverted or at the wrong gain?
//!
//! Algorithm (memory bounded by the number of files, never their length):
//!
//! 1. **Activity probes.** Short probes (25 ms every 250 ms, a tenth of a read) find where each
//!    stem carries audio; a stem the probes miss is scanned in full. A stem that stays under
//!    the profile's silence level is silent: `active = false`, no offset.
//! 2. **Windows.** A few non-overlapping analysis windows (1.5 s) are chosen so that every
//!    sounding stem is loud in up to three of them, preferring windows many stems share.
//! 3. **Coarse lag** per stem by GCC-PHAT of its mono downmix against the mix's, over
//!    +/-[`ReconcileOptions::max_offset_s`] (2.5 s by default), with the cross spectra of its
//!    windows summed. A stem whose peak does not stand out from the correlation floor does not
//!    correlate with the mix: `active = false`.
//! 4. **Leave-one-out refinement**: least-squares gains of all aligned stems on the windows,
//!    then each stem's lag re-estimated by normalised cross-correlation (+/-50 ms) against the
//!    mix minus every *other* fitted stem; the most convincing correction is applied and the
//!    round repeats until nothing moves. This removes the bias that correlated parts (bass and
//!    keys on the same notes) put on the coarse peak. Stems whose coarse peak is weak (a quiet
//!    pad under louder parts sharing its notes) are first searched over the full range against
//!    the mix minus the clearly found stems.
//! 5. **Streaming pass** over the whole mix, every stem read shifted by its offset: Gram
//!    statistics over the judged span (where every shifted active stem has audio), exact
//!    residual energies, 10 ms residual statistics, and an optional [`BlockVisitor`] for the
//!    diagnosis. The full-length least-squares gains and null depths come out of it.
//!
//! Gains follow the model documented in `gram.rs`: one fader gain per stem; a mono stem in a
//! stereo mix gets one gain per channel (any pan fits) and reports their constant-power sum,
//! so a mono stem panned with the common -3 dB pan law reads 0 dB.

mod findings;
pub mod gram;
pub mod stream;
pub mod synth;

use std::path::Path;

use realfft::RealFftPlanner;

use crate::align::{self, Activity, Correlator, FrameSource, LagEstimate};
use crate::report::{Finding, Polarity, Reconciliation};
use crate::{Error, Profile, Result};
use gram::{Gram, Model};
pub use stream::{BlockStats, BlockVisitor};

/// How one stem enters the mix.
#[derive(Debug, Clone, PartialEq)]
pub struct StemFit {
    /// Start offset against the mix: positive = the stem's content comes later than in the mix.
    /// 0 for stems that are not active.
    pub offset_samples: i64,
    /// Gain to apply to the stem so that it matches its part of the mix (magnitude; the sign
    /// is in `polarity`).
    pub gain_db: f64,
    pub polarity: Polarity,
    /// Normalised correlation (0..1) of the fitted stem with its leave-one-out target on the
    /// analysis windows: 1 = the stem explains its part of the mix exactly.
    pub confidence: f64,
    /// False for a silent stem or one that does not correlate with the mix; its offset, gain
    /// and polarity then mean nothing and no finding is made about them.
    pub active: bool,
    /// Signed linear gain per mix channel, full-length fit (what the diagnosis rebuilds the
    /// fitted sum with).
    pub channel_gains: Vec<f64>,
    /// GCC-PHAT peak over the correlation floor of the coarse search.
    pub peak_to_sidelobe: f64,
}

/// Everything the reconciliation found.
#[derive(Debug, Clone)]
pub struct ReconcileResult {
    pub reconciliation: Reconciliation,
    /// One entry per stem given; `None` when the stem could not be compared with the mix
    /// (another sample rate, unreadable, empty).
    pub stems: Vec<Option<StemFit>>,
    pub findings: Vec<Finding>,
    /// Residual statistics per ~10 ms over the whole mix (see [`BlockStats::aggregate`]).
    pub blocks: BlockStats,
    pub sample_rate: u32,
    pub mix_channels: usize,
    /// Mix energy over the judged span (sum of squares, all channels).
    pub mix_energy: f64,
    /// The analysis windows (start frames in the mix), for the diagnosis to reuse.
    pub windows: Vec<u64>,
    pub window_frames: u64,
}

/// Tuning of the reconciliation; the defaults suit music at any common sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconcileOptions {
    /// Offsets are searched over +/- this many seconds.
    pub max_offset_s: f64,
    /// Length of one analysis window.
    pub window_s: f64,
    /// Windows each sounding stem should be loud in.
    pub windows_per_stem: usize,
    /// Leave-one-out refinement rounds per stem (each round corrects the one stem whose
    /// correction is most convincing; rounds stop when nothing moves).
    pub refine_rounds: usize,
    /// Threads for the streaming pass; 0 = all available.
    pub threads: usize,
    /// A coarse peak below this many times the correlation floor means "does not correlate".
    pub min_peak_to_sidelobe: f64,
    /// An aligned stem whose correlation with its leave-one-out target stays below this is
    /// not part of the mix.
    pub min_correlation: f64,
}

/// A coarse peak this clear is trusted without a second, leave-one-out search.
const STRONG_PEAK_TO_SIDELOBE: f64 = 40.0;

/// A weak stem found against the leave-one-out target counts when its normalised correlation
/// there reaches this.
const LOO_MIN_CORRELATION: f64 = 0.3;

impl Default for ReconcileOptions {
    fn default() -> Self {
        Self {
            max_offset_s: 2.5,
            window_s: 1.5,
            windows_per_stem: 3,
            refine_rounds: 2,
            threads: 0,
            min_peak_to_sidelobe: 8.0,
            min_correlation: 0.05,
        }
    }
}

/// Reconciles stem files against a mix file.
///
/// A stem that cannot be opened or has another sample rate than the mix gets `None` (the
/// delivery checks report why); `progress` receives the mix frames streamed so far.
///
/// # Errors
/// When the mix cannot be read, or a file fails while it is being read.
pub fn reconcile(
    mix: &Path,
    stems: &[&Path],
    profile: &Profile,
    progress: &dyn Fn(u64),
) -> Result<ReconcileResult> {
    let mix_src = align::WavSource::open(mix)?;
    let mut opened: Vec<Box<dyn FrameSource>> = Vec::new();
    let mut index = Vec::new();
    for (i, p) in stems.iter().enumerate() {
        if let Ok(s) = align::WavSource::open(p) {
            opened.push(Box::new(s));
            index.push(i);
        }
    }
    let r = reconcile_sources(
        Box::new(mix_src),
        opened,
        profile,
        &ReconcileOptions::default(),
        None,
        progress,
    )?;
    let mut fits = vec![None; stems.len()];
    for (j, fit) in r.stems.iter().enumerate() {
        fits[index[j]] = fit.clone();
    }
    Ok(ReconcileResult { stems: fits, ..r })
}

/// Reconciles any [`FrameSource`]s (files or memory). See the module docs for the algorithm.
///
/// # Errors
/// When a source fails while it is being read.
pub fn reconcile_sources(
    mut mix: Box<dyn FrameSource>,
    mut stems: Vec<Box<dyn FrameSource>>,
    profile: &Profile,
    options: &ReconcileOptions,
    visitor: Option<&mut dyn BlockVisitor>,
    progress: &dyn Fn(u64),
) -> Result<ReconcileResult> {
    let sr = mix.sample_rate();
    let cm = mix.channels();
    let mix_frames = mix.frames();
    if cm == 0 || sr == 0 {
        return Err(Error::InvalidInput(format!("{}: no channels", mix.name())));
    }
    let k = stems.len();
    // Stems that can be compared at all.
    let eligible: Vec<bool> = stems
        .iter()
        .map(|s| s.sample_rate() == sr && s.frames() > 0 && s.channels() > 0)
        .collect();
    let per_sec = f64::from(sr);
    let range = (options.max_offset_s * per_sec).ceil().max(1.0) as usize;
    let hop = (0.25 * per_sec).round().max(1.0) as u64;
    let probe = (0.025 * per_sec).round().max(1.0) as u64;
    let window = ((options.window_s * per_sec).round() as u64)
        .min(mix_frames)
        .max(1);
    let refine_range = ((0.05 * per_sec).round() as usize).max(8);
    let floor_ms = 10f64.powf(profile.silence_below_dbfs / 10.0);

    // 1. Activity.
    let mut activity: Vec<Option<Activity>> = Vec::with_capacity(k);
    for (i, s) in stems.iter_mut().enumerate() {
        if !eligible[i] {
            activity.push(None);
            continue;
        }
        let mut a = Activity::scan(s.as_mut(), hop, probe)?;
        if a.max() <= floor_ms {
            a = Activity::scan(s.as_mut(), hop, hop)?;
        }
        activity.push((a.max() > floor_ms).then_some(a));
    }

    // 2. Windows.
    let levels: Vec<Option<&Activity>> = activity.iter().map(Option::as_ref).collect();
    let windows = align::choose_windows(
        &levels,
        mix_frames,
        window,
        options.windows_per_stem,
        floor_ms,
    );
    let present: Vec<Vec<bool>> = (0..k)
        .map(|i| {
            windows
                .iter()
                .map(|&t| {
                    activity[i]
                        .as_ref()
                        .is_some_and(|a| align::present_in(a, t, window, floor_ms))
                })
                .collect()
        })
        .collect();

    // 3. Coarse lags.
    let mut planner = RealFftPlanner::<f32>::new();
    let mut coarse: Vec<Option<align::LagEstimate>> = vec![None; k];
    if mix_frames > 0 && !windows.is_empty() {
        let mut corr = Correlator::new(&mut planner, window as usize, range);
        let mut acc: Vec<Option<align::Spectrum>> = vec![None; k];
        let (mut scratch, mut mono) = (Vec::new(), vec![0.0f32; corr.reference_len()]);
        let (mut ref_spec, mut win_spec) = (corr.new_spectrum(), corr.new_spectrum());
        for (w, &t) in windows.iter().enumerate() {
            if !(0..k).any(|i| present[i][w]) {
                continue;
            }
            align::read_mono(
                mix.as_mut(),
                t as i64 - range as i64,
                &mut scratch,
                &mut mono,
            )?;
            corr.forward(&mono, &mut ref_spec);
            for i in (0..k).filter(|&i| present[i][w]) {
                let x = &mut mono[..window as usize];
                align::read_mono(stems[i].as_mut(), t as i64, &mut scratch, x)?;
                corr.forward(x, &mut win_spec);
                let a = acc[i].get_or_insert_with(|| corr.new_spectrum());
                Correlator::accumulate(a, &ref_spec, &win_spec);
            }
        }
        for i in 0..k {
            if let Some(a) = &acc[i] {
                coarse[i] = corr.peak(a, true);
            }
        }
    }
    let stem_channels: Vec<usize> = stems.iter().map(|s| s.channels().max(1)).collect();
    let model = Model::new(cm, &stem_channels);
    let mut win = WindowIo::new(cm, &stem_channels);
    let strong: Vec<bool> = coarse
        .iter()
        .map(|c| c.is_some_and(|c| c.peak_to_sidelobe >= STRONG_PEAK_TO_SIDELOBE))
        .collect();
    let mut offsets: Vec<i64> = (0..k)
        .map(|i| match coarse[i] {
            Some(c) if strong[i] => c.lag_samples,
            _ => 0,
        })
        .collect();

    // 3b. Stems whose peak is weak against the mix (a quiet pad under louder parts that share
    // its notes) are searched again, over the full range, against the mix minus the stems
    // that were found clearly.
    let weak: Vec<bool> = (0..k)
        .map(|i| activity[i].is_some() && !strong[i] && present[i].iter().any(|&p| p))
        .collect();
    if weak.iter().any(|&w| w) && strong.iter().any(|&s| s) {
        let gram = win.gram(
            &model,
            &mut mix,
            &mut stems,
            &windows,
            window as usize,
            &offsets,
        )?;
        let coefs = model.coefs(&gram.solve_masked(&model, &strong));
        let mut corr = Correlator::new(&mut planner, window as usize, range);
        let wide = win.loo_search(
            &model, &mut mix, &mut stems, &windows, &present, &weak, &offsets, &coefs, &mut corr,
        )?;
        for i in (0..k).filter(|&i| weak[i]) {
            // The normalised correlation with the target decides: a stem that explains a
            // good part of what the clear stems leave over is in the mix at that lag.
            if let Some(w) = wide[i]
                && w.peak.abs() >= LOO_MIN_CORRELATION
            {
                coarse[i] = Some(LagEstimate {
                    peak_to_sidelobe: w.peak_to_sidelobe.max(options.min_peak_to_sidelobe),
                    ..w
                });
                offsets[i] = w.lag_samples;
            }
        }
    }
    let mut active: Vec<bool> = coarse
        .iter()
        .map(|c| c.is_some_and(|c| c.peak_to_sidelobe >= options.min_peak_to_sidelobe))
        .collect();
    for i in (0..k).filter(|&i| !active[i]) {
        offsets[i] = 0;
    }
    // 4. Leave-one-out refinement on the windows.
    if !windows.is_empty() && active.iter().any(|&a| a) {
        let mut corr = Correlator::new(&mut planner, window as usize, refine_range);
        for _ in 0..options.refine_rounds.max(1) * (k + 1) {
            let gram = win.gram(
                &model,
                &mut mix,
                &mut stems,
                &windows,
                window as usize,
                &offsets,
            )?;
            let coefs = model.coefs(&gram.solve(&model));
            let deltas = win.loo_search(
                &model, &mut mix, &mut stems, &windows, &present, &active, &offsets, &coefs,
                &mut corr,
            )?;
            // Apply only the most convincing correction per round: correcting two correlated
            // stems at once makes them trade places (each was measured against the other's
            // old position) and the rounds oscillate.
            let best = (0..k)
                .filter_map(|i| deltas[i].filter(|d| d.lag_samples != 0).map(|d| (i, d)))
                .max_by(|a, b| {
                    let gain = |d: &LagEstimate| d.peak.abs() - d.at_zero.abs();
                    gain(&a.1).total_cmp(&gain(&b.1))
                });
            match best {
                Some((i, d)) => offsets[i] += d.lag_samples,
                None => break,
            }
        }
    }
    let mut wgram = win.gram(
        &model,
        &mut mix,
        &mut stems,
        &windows,
        window as usize,
        &offsets,
    )?;
    let mut wcoefs = model.coefs(&wgram.solve(&model));
    let mut confidence: Vec<f64> = (0..k).map(|i| wgram.loo_correlation(&wcoefs, i)).collect();
    // A stem that explains almost nothing of its leave-one-out target is not in the mix (or
    // lies far below everything else): no offset, no findings.
    let dropped: Vec<usize> = (0..k)
        .filter(|&i| active[i] && confidence[i] < options.min_correlation)
        .collect();
    if !dropped.is_empty() {
        for &i in &dropped {
            active[i] = false;
            offsets[i] = 0;
        }
        wgram = win.gram(
            &model,
            &mut mix,
            &mut stems,
            &windows,
            window as usize,
            &offsets,
        )?;
        wcoefs = model.coefs(&wgram.solve(&model));
        confidence = (0..k).map(|i| wgram.loo_correlation(&wcoefs, i)).collect();
    }

    // 5. Streaming pass over the judged span.
    let mut span = 0..mix_frames;
    for i in (0..k).filter(|&i| active[i]) {
        let lo = (-offsets[i]).max(0) as u64;
        let hi = (stems[i].frames() as i64 - offsets[i]).max(0) as u64;
        span = span.start.max(lo)..span.end.min(hi);
    }
    if span.end < span.start {
        span = span.start..span.start;
    }
    // The plain sum: unity gains, except that a mono stem keeps the pan position it was
    // mixed at (a mono file carries no pan; that is not a fault), at constant power and
    // without any polarity correction.
    let mut unity = model.unity_coefs();
    for i in (0..k).filter(|&i| stem_channels[i] == 1 && cm > 1) {
        let g = &wcoefs[i * cm..(i + 1) * cm];
        let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 0.0 {
            let sign = if g.iter().sum::<f64>() < 0.0 {
                -1.0
            } else {
                1.0
            };
            for c in 0..cm {
                unity[i * cm + c] = sign * g[c] / norm;
            }
        }
    }
    let stat_frames = ((per_sec * 0.01).round() as usize).max(1);
    // Stream blocks hold whole 10 ms statistics blocks and whole 100 ms loudness sub-blocks,
    // so that chunks split between threads start on both grids.
    let sub_block = ((sr as usize + 5) / 10).max(1);
    let block_frames = lcm(stat_frames, sub_block).max(4096);
    let block_frames =
        block_frames.div_ceil(lcm(stat_frames, sub_block)) * lcm(stat_frames, sub_block);
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    };
    // Stems that cannot be compared are left out of the sum (zero gains, no reads).
    let mut unity_used = unity.clone();
    let mut wcoefs_used = wcoefs.clone();
    for i in (0..k).filter(|&i| !eligible[i]) {
        unity_used[i * cm..(i + 1) * cm].fill(0.0);
        wcoefs_used[i * cm..(i + 1) * cm].fill(0.0);
    }
    let plan = stream::StreamPlan {
        model: &model,
        offsets: &offsets,
        unity: &unity_used,
        fitted: &wcoefs_used,
        span: span.clone(),
        frames: mix_frames,
        block_frames,
        stat_frames,
    };
    let out = stream::run(&plan, mix.as_mut(), &mut stems, threads, visitor, progress)?;
    let theta = out.gram.solve(&model);
    let mut coefs = model.coefs(&theta);
    for i in (0..k).filter(|&i| !eligible[i]) {
        coefs[i * cm..(i + 1) * cm].fill(0.0);
    }
    let e_mix = out.gram.mix_energy();
    let e_fit = out.gram.energy_from(&coefs, &wcoefs_used, out.e_fitted);
    let ratio_db = |e: f64| (e_mix > 0.0).then(|| 10.0 * (e.max(1e-300) / e_mix).log10());

    let fits: Vec<Option<StemFit>> = (0..k)
        .map(|i| {
            eligible[i].then(|| {
                let g = model.stem_gain(&coefs, i);
                StemFit {
                    offset_samples: offsets[i],
                    gain_db: 20.0 * g.abs().max(1e-15).log10(),
                    polarity: if g < 0.0 {
                        Polarity::Inverted
                    } else {
                        Polarity::Normal
                    },
                    confidence: confidence[i],
                    active: active[i],
                    channel_gains: coefs[i * cm..(i + 1) * cm].to_vec(),
                    peak_to_sidelobe: coarse[i].map_or(0.0, |c| c.peak_to_sidelobe),
                }
            })
        })
        .collect();
    // BS.1770-4 integrated loudness of the residual (mix minus the aligned plain sum).
    let residual_lufs = stream::gated_loudness_lufs(&out.gating_blocks);
    let lag_samples = findings::common_offset(&fits, &out.gram, &model);
    let reconciliation = Reconciliation {
        lag_samples,
        null_depth_db: ratio_db(out.e_unity),
        residual_lufs,
        fitted_null_depth_db: ratio_db(e_fit),
        judged_span_frames: Some([span.start, span.end]),
        mix: Some(mix.name().to_owned()),
        ..Default::default()
    };
    let names: Vec<String> = stems.iter().map(|s| s.name().to_owned()).collect();
    let mut edges = Vec::with_capacity(k);
    for (i, s) in stems.iter_mut().enumerate() {
        edges.push(if active[i] {
            Some(findings::edge_levels(s.as_mut(), stat_frames)?)
        } else {
            None
        });
    }
    let ctx = findings::Context {
        profile,
        names: &names,
        fits: &fits,
        reconciliation: &reconciliation,
        sample_rate: sr,
        mix_frames,
        stem_frames: &stems.iter().map(|s| s.frames()).collect::<Vec<_>>(),
        edges: &edges,
        floor_ms,
    };
    let findings = findings::make(&ctx);
    Ok(ReconcileResult {
        reconciliation,
        stems: fits,
        findings,
        blocks: out.stats,
        sample_rate: sr,
        mix_channels: cm,
        mix_energy: e_mix,
        windows,
        window_frames: window,
    })
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn lcm(a: usize, b: usize) -> usize {
    a / gcd(a, b).max(1) * b
}

/// Reads analysis windows of the mix and of every stem (shifted by its offset) as planar f64.
struct WindowIo {
    buf: Vec<f32>,
    mix: Vec<Vec<f64>>,
    stems: Vec<Vec<Vec<f64>>>,
}

impl WindowIo {
    fn new(cm: usize, stem_channels: &[usize]) -> Self {
        Self {
            buf: Vec::new(),
            mix: vec![Vec::new(); cm],
            stems: stem_channels.iter().map(|&c| vec![Vec::new(); c]).collect(),
        }
    }

    /// Loads `[start, start + len)` of the mix and the stems at `start + offset`.
    fn load(
        &mut self,
        mix: &mut Box<dyn FrameSource>,
        stems: &mut [Box<dyn FrameSource>],
        start: i64,
        len: usize,
        offsets: &[i64],
    ) -> Result<()> {
        let cm = mix.channels();
        self.buf.resize(len * cm, 0.0);
        mix.read_window(start, &mut self.buf)?;
        stream::to_planar(&self.buf, cm, &mut self.mix);
        for (i, s) in stems.iter_mut().enumerate() {
            let ch = s.channels();
            self.buf.resize(len * ch, 0.0);
            s.read_window(start + offsets[i], &mut self.buf)?;
            stream::to_planar(&self.buf, ch, &mut self.stems[i]);
        }
        Ok(())
    }

    fn gram(
        &mut self,
        model: &Model,
        mix: &mut Box<dyn FrameSource>,
        stems: &mut [Box<dyn FrameSource>],
        windows: &[u64],
        window: usize,
        offsets: &[i64],
    ) -> Result<Gram> {
        let mut g = Gram::new(model);
        for &t in windows {
            self.load(mix, stems, t as i64, window, offsets)?;
            g.add(model, &self.mix, &self.stems, 0..window);
        }
        Ok(g)
    }

    /// Lag of every stem in `which` against its leave-one-out target (the mix minus every
    /// other fitted stem), relative to its current offset, over `corr`'s range.
    #[allow(clippy::too_many_arguments)]
    fn loo_search(
        &mut self,
        model: &Model,
        mix: &mut Box<dyn FrameSource>,
        stems: &mut [Box<dyn FrameSource>],
        windows: &[u64],
        present: &[Vec<bool>],
        which: &[bool],
        offsets: &[i64],
        coefs: &[f64],
        corr: &mut Correlator,
    ) -> Result<Vec<Option<align::LagEstimate>>> {
        let k = stems.len();
        let cm = model.mix_channels;
        let (e, w) = (corr.range(), corr.window());
        let len = w + 2 * e;
        let mut acc: Vec<Option<align::Spectrum>> = vec![None; k];
        let mut energies: Vec<align::Energies> = vec![align::Energies::default(); k];
        let mut resid = vec![0.0f64; len];
        let (mut target, mut x) = (vec![0.0f32; len], vec![0.0f32; w]);
        let (mut ts, mut xs) = (corr.new_spectrum(), corr.new_spectrum());
        for (wi, &t) in windows.iter().enumerate() {
            if !(0..k).any(|i| which[i] && present[i][wi]) {
                continue;
            }
            self.load(mix, stems, t as i64 - e as i64, len, offsets)?;
            // Mono residual of the full fitted model.
            resid.fill(0.0);
            for c in 0..cm {
                for (r, &m) in resid.iter_mut().zip(&self.mix[c]) {
                    *r += m;
                }
                for i in 0..k {
                    let g = coefs[i * cm + c];
                    if g != 0.0 {
                        for (r, &s) in resid.iter_mut().zip(&self.stems[i][model.route(i, c)]) {
                            *r -= g * s;
                        }
                    }
                }
            }
            for i in (0..k).filter(|&i| which[i] && present[i][wi]) {
                // Target: residual plus this stem's own fitted contribution.
                for (n, tv) in target.iter_mut().enumerate() {
                    let own: f64 = (0..cm)
                        .map(|c| coefs[i * cm + c] * self.stems[i][model.route(i, c)][n])
                        .sum();
                    *tv = (resid[n] + own) as f32;
                }
                for (n, xv) in x.iter_mut().enumerate() {
                    *xv = self.stems[i].iter().map(|ch| ch[e + n]).sum::<f64>() as f32;
                }
                corr.forward(&target, &mut ts);
                corr.forward(&x, &mut xs);
                let a = acc[i].get_or_insert_with(|| corr.new_spectrum());
                Correlator::accumulate(a, &ts, &xs);
                corr.add_energies(&target, &x, &mut energies[i]);
            }
        }
        Ok(acc
            .iter()
            .zip(&energies)
            .map(|(a, e)| a.as_ref().and_then(|a| corr.peak_normalized(a, e)))
            .collect())
    }
}
