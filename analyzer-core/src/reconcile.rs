//! Stem-sum reconciliation: do the stems sum back to the mix, and if not, which stem is
//! shifted, inverted or at the wrong gain?
//!
//! Algorithm (memory bounded by the number of files, never their length):
//!
//! 1. **Activity probes.** Short probes (25 ms every 250 ms, a tenth of a read) find where each
//!    stem carries audio; a sparse stem (fewer than 8 probes above the silence level: a few
//!    hits the probes may miss) is scanned in full. A stem that stays under
//!    the profile's silence level is silent: `active = false`, no offset.
//! 2. **Windows.** A few non-overlapping analysis windows (1.5 s) are chosen so that every
//!    sounding stem is loud in up to three of them, preferring windows many stems share.
//! 3. **Coarse lag** per stem by GCC-PHAT of its mono downmix against the mix's, over
//!    +/-[`ReconcileOptions::max_offset_s`] (2.5 s by default), with the cross spectra of its
//!    windows summed. A stem whose peak does not stand out from the correlation floor does not
//!    correlate with the mix: `active = false`.
//!    From here on the windows are in mix time, every stem read at its offset; a shifted stem
//!    also gets windows where its content lands in the mix.
//! 4. **Leave-one-out searches.** Stems whose coarse peak is weak (a quiet pad under louder
//!    parts sharing its notes, a drum loop that repeats every bar) are searched again over the
//!    full range, one at a time and loudest first, against the mix minus the stems already
//!    found. **Periodic material** (a loop, keys repeating every beat, a reverb return whose
//!    combs echo every 30-45 ms) correlates almost as well one period away, and a stem searched
//!    early against a target that still holds unplaced stems can lock onto such a peak and
//!    drag the stems searched after it. So the weak stems are searched once more from the
//!    set's common lag, best first (per round every stem proposes a lag and only the proposal
//!    with the deepest joint null is taken), and every stem then settles on the candidate lag
//!    (coarse peak, either search's lag, 0, the common lag) with the deepest *joint* null:
//!    every active stem fitted on the windows, over the span where every shifted stem has
//!    audio. Candidates within 1 % of what the stem explains tie, and the smaller shift wins.
//!    Then every stem's lag is refined over +/-50 ms against the mix minus every *other*
//!    fitted stem (least-squares gains on the windows): the target stays fixed and the stem
//!    slides, and the lag of the best normalised correlation is the best least-squares fit.
//!    Only the most convincing correction is proposed per round, and it stands only if the
//!    windows' least-squares residual falls; rounds repeat until nothing moves. This removes
//!    the bias that correlated parts (bass and keys on the same notes) put on the coarse peak.
//!    A stem that explains under 5 % (normalised correlation) of its leave-one-out target is
//!    not in the mix: `active = false`.
//! 5. **Streaming pass** over the whole mix, every stem read shifted by its offset: Gram
//!    statistics over the judged span (where every shifted active stem has audio), exact
//!    residual energies, 10 ms residual statistics, and an optional [`BlockVisitor`] for the
//!    diagnosis. The full-length least-squares gains and null depths come out of it.
//!
//! Gains follow the model documented in `gram.rs`: one fader gain per stem; a mono stem in a
//! stereo mix gets one gain per channel (any pan fits) and reports their constant-power sum,
//! so a mono stem panned with the common -3 dB pan law reads 0 dB. The plain (unfitted) sum
//! behind `null_depth_db` uses unity gains; a mono stem enters it at constant power at the pan
//! position the fit found (a mono file carries no pan, so its pan is not a fault), with no
//! gain or polarity correction. `residual_lufs` (ITU-R BS.1770-4 integrated loudness of the
//! plain-sum residual) and the 10 ms block statistics use the pan from the windows' fit.

mod findings;
pub mod gram;
pub mod pan_law;
pub mod stream;
pub mod synth;

use std::ops::Range;
use std::path::Path;

use realfft::RealFftPlanner;

use crate::align::{self, Activity, Correlator, LagEstimate};
use crate::report::{Finding, Polarity, Reconciliation};
use crate::source::{self, FrameSource};
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

/// A stem with fewer probes than this above the silence floor is scanned in full.
const SPARSE_PROBES: usize = 8;

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
    let mix_src = source::WavSource::open(mix)?;
    let mut opened: Vec<Box<dyn FrameSource>> = Vec::new();
    let mut index = Vec::new();
    for (i, p) in stems.iter().enumerate() {
        if let Ok(s) = source::WavSource::open(p) {
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
        // Sparse stems (a few hits the probes may straddle or miss) are scanned in full.
        if a.probes_above(floor_ms) < SPARSE_PROBES {
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
            source::read_mono(
                mix.as_mut(),
                t as i64 - range as i64,
                &mut scratch,
                &mut mono,
            )?;
            corr.forward(&mono, &mut ref_spec);
            for i in (0..k).filter(|&i| present[i][w]) {
                let x = &mut mono[..window as usize];
                source::read_mono(stems[i].as_mut(), t as i64, &mut scratch, x)?;
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
    let stem_frames: Vec<u64> = stems.iter().map(|s| s.frames()).collect();
    let model = Model::new(cm, &stem_channels);
    let mut win = WindowIo::new(cm, &stem_channels);
    let strong: Vec<bool> = coarse
        .iter()
        .map(|c| c.is_some_and(|c| c.peak_to_sidelobe >= STRONG_PEAK_TO_SIDELOBE))
        .collect();
    dbg_align(|| format!("coarse {coarse:?}"));
    let mut offsets: Vec<i64> = (0..k)
        .map(|i| match coarse[i] {
            Some(c) if strong[i] => c.lag_samples,
            _ => 0,
        })
        .collect();

    // From here on windows are in mix time and every stem is read at its offset; a shifted
    // stem (sparse hits 1 s late) gets windows where its content lands in the mix.
    let (mut mwin, mut mpresent) = mix_windows(
        &windows, &activity, &offsets, &strong, window, mix_frames, floor_ms,
    );
    // 3b. Stems whose peak is weak against the mix (a quiet pad under louder parts that share
    // its notes) are searched again, over the full range, against the mix minus the stems
    // that were found clearly.
    // The coarse peaks against the whole mix, before the leave-one-out searches replace the
    // weak ones: candidates for the joint-null arbitration.
    let coarse_mix = coarse.clone();
    let weak: Vec<bool> = (0..k)
        .map(|i| activity[i].is_some() && !strong[i] && present[i].iter().any(|&p| p))
        .collect();
    let loudness = |i: usize| activity[i].as_ref().map_or(0.0, Activity::max);
    if weak.iter().any(|&w| w) && strong.iter().any(|&s| s) {
        // One weak stem at a time, loudest first, each found one joining the subtracted set:
        // two weak stems searched together would each see the other in their target.
        let mut order: Vec<usize> = (0..k).filter(|&i| weak[i]).collect();
        order.sort_by(|&a, &b| loudness(b).total_cmp(&loudness(a)));
        let mut known = strong.clone();
        let mut corr = Correlator::new(&mut planner, window as usize, range);
        let search = WeakSearch {
            model: &model,
            windows: &mwin,
            present: &mpresent,
            window,
            stem_frames: &stem_frames,
            mix_frames,
            min_peak_to_sidelobe: options.min_peak_to_sidelobe,
        };
        let found = search.run(
            &mut win,
            &mut mix,
            &mut stems,
            &mut corr,
            &order,
            &mut known,
            &mut offsets,
            &coarse,
        )?;
        for (i, w) in found.into_iter().enumerate() {
            if let Some(w) = w {
                coarse[i] = Some(LagEstimate {
                    peak_to_sidelobe: w.peak_to_sidelobe.max(options.min_peak_to_sidelobe),
                    ..w
                });
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
    (mwin, mpresent) = mix_windows(
        &windows, &activity, &offsets, &active, window, mix_frames, floor_ms,
    );
    // 3c. Joint-null arbitration between near-equal lags (periodic material): the weak
    // stems are searched once more, each against the mix minus every other stem placed at the
    // set's common lag (so that a stem searched early cannot drag the later ones), and then
    // every stem settles on the candidate lag with the deepest joint null.
    let common = common_lag(
        &(0..k)
            .filter(|&i| active[i] && strong[i])
            .map(|i| offsets[i])
            .collect::<Vec<_>>(),
    );
    let mut order: Vec<usize> = (0..k).filter(|&i| active[i] && !strong[i]).collect();
    order.sort_by(|&a, &b| loudness(b).total_cmp(&loudness(a)));
    let mut at_common = offsets.clone();
    for &i in &order {
        at_common[i] = common;
    }
    let arbiter = Arbiter {
        model: &model,
        windows: &mwin,
        window,
        active: &active,
        stem_frames: &stem_frames,
        mix_frames,
    };
    let mut second = vec![None; k];
    if at_common != offsets {
        let mut corr = Correlator::new(&mut planner, window as usize, range);
        let mut cache = Vec::new();
        arbiter.best_first(
            &mut cache,
            &mut win,
            &mut mix,
            &mut stems,
            &mut corr,
            &mpresent,
            &order,
            &mut at_common,
        )?;
        let (e_first, _) =
            arbiter.residuals(&mut cache, &mut win, &mut mix, &mut stems, &offsets, 0)?;
        let (e_second, _) =
            arbiter.residuals(&mut cache, &mut win, &mut mix, &mut stems, &at_common, 0)?;
        dbg_align(|| {
            format!("first {offsets:?} {e_first:.3e}, second {at_common:?} {e_second:.3e}")
        });
        for &i in &order {
            second[i] = Some(at_common[i]);
        }
        if e_second <= e_first {
            offsets.copy_from_slice(&at_common);
        }
    }
    let candidates: Vec<Vec<i64>> = (0..k)
        .map(|i| {
            [coarse_mix[i], coarse[i]]
                .iter()
                .flatten()
                .filter(|c| c.peak_to_sidelobe >= options.min_peak_to_sidelobe)
                .map(|c| c.lag_samples)
                .chain(second[i])
                .collect()
        })
        .collect();
    if arbiter.arbitrate(
        &mut win,
        &mut mix,
        &mut stems,
        &mut offsets,
        common,
        &candidates,
    )? {
        (mwin, mpresent) = mix_windows(
            &windows, &activity, &offsets, &active, window, mix_frames, floor_ms,
        );
    }
    // 4. Leave-one-out refinement on the windows.
    if !windows.is_empty() && active.iter().any(|&a| a) {
        let mut corr = Correlator::new(&mut planner, window as usize, refine_range);
        // Each correction is a proposal; it stands only if the least-squares residual on the
        // windows falls. A stem whose proposal was refused is not moved again.
        let mut frozen = vec![false; k];
        let mut last: Option<(usize, i64)> = None;
        let mut accepted: Option<(f64, Vec<f64>)> = None;
        for _ in 0..options.refine_rounds.max(1) * (k + 1) {
            let gram = win.gram(
                &model,
                &mut mix,
                &mut stems,
                &mwin,
                window as usize,
                &offsets,
                &judged_span(&active, &offsets, &stem_frames, mix_frames),
            )?;
            let coefs = model.coefs(&gram.solve(&model));
            let energy = gram.energy(&coefs);
            dbg_align(|| {
                format!(
                    "refine {offsets:?} e {:.3e} last {last:?}",
                    energy / gram.mix_energy()
                )
            });
            let coefs = match (last, &accepted) {
                (Some((i, d)), Some((e_prev, prev_coefs))) if energy >= e_prev * (1.0 - 1e-6) => {
                    offsets[i] -= d;
                    frozen[i] = true;
                    prev_coefs.clone()
                }
                _ => {
                    accepted = Some((energy, coefs.clone()));
                    coefs
                }
            };
            let movable: Vec<bool> = (0..k).map(|i| active[i] && !frozen[i]).collect();
            let deltas = win.loo_search(
                &model, &mut mix, &mut stems, &mwin, &mpresent, &movable, &offsets, &coefs,
                &mut corr, true,
            )?;
            // Propose only the most convincing correction per round: correcting two correlated
            // stems at once makes them trade places (each was measured against the other's
            // old position) and the rounds oscillate.
            let best = (0..k)
                .filter_map(|i| deltas[i].filter(|d| d.lag_samples != 0).map(|d| (i, d)))
                .max_by(|a, b| {
                    let gain = |d: &LagEstimate| d.peak.abs() - d.at_zero.abs();
                    gain(&a.1).total_cmp(&gain(&b.1))
                });
            match best {
                Some((i, d)) => {
                    offsets[i] += d.lag_samples;
                    last = Some((i, d.lag_samples));
                }
                None => {
                    last = None;
                    break;
                }
            }
        }
        // The last proposal has not been judged yet.
        if let (Some((i, d)), Some((e_prev, _))) = (last, &accepted) {
            let gram = win.gram(
                &model,
                &mut mix,
                &mut stems,
                &mwin,
                window as usize,
                &offsets,
                &judged_span(&active, &offsets, &stem_frames, mix_frames),
            )?;
            if gram.energy(&model.coefs(&gram.solve(&model))) >= e_prev * (1.0 - 1e-6) {
                offsets[i] -= d;
            }
        }
    }
    let mut wgram = win.gram(
        &model,
        &mut mix,
        &mut stems,
        &mwin,
        window as usize,
        &offsets,
        &judged_span(&active, &offsets, &stem_frames, mix_frames),
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
            &mwin,
            window as usize,
            &offsets,
            &judged_span(&active, &offsets, &stem_frames, mix_frames),
        )?;
        wcoefs = model.coefs(&wgram.solve(&model));
        confidence = (0..k).map(|i| wgram.loo_correlation(&wcoefs, i)).collect();
    }

    // 5. Streaming pass over the judged span.
    let span = judged_span(&active, &offsets, &stem_frames, mix_frames);
    // The plain sum: unity gains, except that a mono stem keeps the pan position it was
    // mixed at (a mono file carries no pan; that is not a fault), at constant power and
    // without any polarity correction.
    // The session's pan law (see `pan_law`) sets the level a mono stem enters the plain sum at.
    let tol = profile.gain_tolerance_db;
    let law_windows = session_pan_law(&model, &wcoefs, &active, tol);
    let mut unity = model.unity_coefs();
    pan_mono_stems(&model, &wcoefs, law_windows, &mut unity, |_| true);
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
    // The plain sum's residual with each mono stem's pan taken from the full-length fit
    // (the window fit may not have seen a sparse stem): exact by the quadratic expansion
    // around the measured residual.
    let pan_law_db = session_pan_law(&model, &coefs, &active, tol);
    let mut unity_final = unity_used.clone();
    pan_mono_stems(&model, &coefs, pan_law_db, &mut unity_final, |i| {
        eligible[i]
    });
    let e_unity = out.gram.energy_from(&unity_final, &unity_used, out.e_unity);
    let e_mix = out.gram.mix_energy();
    let e_fit = out.gram.energy_from(&coefs, &wcoefs_used, out.e_fitted);
    let ratio_db = |e: f64| (e_mix > 0.0).then(|| 10.0 * (e.max(1e-300) / e_mix).log10());

    let fits: Vec<Option<StemFit>> = (0..k)
        .map(|i| {
            eligible[i].then(|| {
                let g = model.stem_gain(&coefs, i);
                let mut gain_db = 20.0 * g.abs().max(1e-15).log10();
                if let (Some(law), Some(m)) = (pan_law_db, mono_fit(&model, &coefs, i)) {
                    gain_db = m.gain_db(law);
                }
                StemFit {
                    offset_samples: offsets[i],
                    gain_db,
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
        null_depth_db: ratio_db(e_unity),
        residual_lufs,
        fitted_null_depth_db: ratio_db(e_fit),
        judged_span_frames: Some([span.start, span.end]),
        mix: Some(mix.name().to_owned()),
        pan_law_db: pan_law_db.map(pan_law::display_db),
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
        stem_frames: &stem_frames,
        edges: &edges,
        floor_ms,
        mono: &(0..k)
            .map(|i| mono_fit(&model, &coefs, i).is_some())
            .collect::<Vec<_>>(),
        pan_law_db: pan_law_db.map(pan_law::display_db),
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
        windows: mwin,
        window_frames: window,
    })
}

fn dbg_align(msg: impl FnOnce() -> String) {
    if std::env::var_os("STEMCHECK_DEBUG_ALIGN").is_some() {
        eprintln!("align: {}", msg());
    }
}

/// The leave-one-out search of step 3b: stems in `order`, one at a time, over the full
/// range against the mix minus the `known` stems.
struct WeakSearch<'a> {
    model: &'a Model,
    windows: &'a [u64],
    present: &'a [Vec<bool>],
    window: u64,
    stem_frames: &'a [u64],
    mix_frames: u64,
    min_peak_to_sidelobe: f64,
}

impl WeakSearch<'_> {
    /// Searches each stem of `order` in turn; a stem found joins `known` at its lag in
    /// `offsets`. Both orientations of the leave-one-out correlation propose a lag, and so
    /// does the coarse peak against the mix; the proposal that leaves the smaller
    /// least-squares residual on the windows wins. Returns the estimate behind every lag that was taken.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        win: &mut WindowIo,
        mix: &mut Box<dyn FrameSource>,
        stems: &mut [Box<dyn FrameSource>],
        corr: &mut Correlator,
        order: &[usize],
        known: &mut [bool],
        offsets: &mut [i64],
        coarse: &[Option<LagEstimate>],
    ) -> Result<Vec<Option<LagEstimate>>> {
        let k = offsets.len();
        let model = self.model;
        let mut found = vec![None; k];
        for &i in order {
            let span = judged_span(known, offsets, self.stem_frames, self.mix_frames);
            let gram = win.gram(
                model,
                mix,
                stems,
                self.windows,
                self.window as usize,
                offsets,
                &span,
            )?;
            let coefs = model.coefs(&gram.solve_masked(model, known));
            let mut which = vec![false; k];
            which[i] = true;
            // Both orientations from one read of the windows (sliding the target catches an
            // onset anywhere in range, sliding the stem is not fooled by a target that is
            // quiet somewhere).
            let wide = win.loo_search_both(
                model,
                mix,
                stems,
                self.windows,
                self.present,
                &which,
                offsets,
                &coefs,
                corr,
                &[false, true],
            )?;
            let mut residual = |lag: i64| -> Result<f64> {
                let mut trial = offsets.to_vec();
                trial[i] = lag;
                let mut with = known.to_vec();
                with[i] = true;
                let span = judged_span(&with, &trial, self.stem_frames, self.mix_frames);
                let g = win.gram(
                    model,
                    mix,
                    stems,
                    self.windows,
                    self.window as usize,
                    &trial,
                    &span,
                )?;
                Ok(g.energy(&model.coefs(&g.solve_masked(model, &with)))
                    / g.mix_energy().max(1e-300))
            };
            let mut best: Option<(f64, LagEstimate)> = None;
            for pass in 0..3 {
                let proposal = if pass == 2 {
                    coarse[i].filter(|c| c.peak_to_sidelobe >= self.min_peak_to_sidelobe)
                } else {
                    // Leave-one-out lags are relative to the stem's current offset.
                    wide.get(pass)
                        .and_then(|w| w[i])
                        .filter(|w| w.peak.abs() >= LOO_MIN_CORRELATION)
                        .map(|w| LagEstimate {
                            lag_samples: w.lag_samples + offsets[i],
                            ..w
                        })
                };
                let Some(w) = proposal else {
                    continue;
                };
                if best.is_some_and(|(_, b)| b.lag_samples == w.lag_samples) {
                    continue;
                }
                let e = residual(w.lag_samples)?;
                if best.is_none_or(|(be, _)| e < be) {
                    best = Some((e, w));
                }
            }
            dbg_align(|| format!("weak {i}: best {best:?}"));
            // The normalised correlation with the target decides: a stem that explains a
            // good part of what the known stems leave over is in the mix at that lag.
            if let Some((_, w)) = best {
                offsets[i] = w.lag_samples;
                known[i] = true;
                found[i] = Some(w);
            }
        }
        Ok(found)
    }
}

/// Frames per piece of [`WindowIo::loo_search_both`]'s read of a window: 13 stereo files of
/// planar `f64` are then 1.7 MB (cache), and the reads stay large (48 KB per 24-bit file).
const LOO_PIECE: usize = 8192;

/// Most one-sample steps the joint-null polish of a moved stem takes each way.
const POLISH_STEPS: usize = 32;

/// Two lags whose joint nulls differ by less than this share of what the stem explains (the
/// residual with the stem left out minus the best residual) are a tie: the smaller shift wins.
const TIE_SHARE: f64 = 0.01;

/// Joint-null arbitration between lags that correlate about equally well.
///
/// Periodic material (a loop, keys repeating every beat, a reverb return smearing both)
/// correlates with the mix almost as well one beat or one comb delay away as at the true lag,
/// and a leave-one-out search made before the other stems are placed can lock onto such a
/// peak, dragging the stems searched after it. A lag is therefore trusted only when it wins
/// the *joint* null: every active stem fitted (least squares on the analysis windows, over the
/// span where every shifted stem has audio) with this stem at each candidate lag. Candidates
/// are the common lag of the set (where the clearly found stems agree), the coarse peak
/// against the mix and the leave-one-out lag; ties go to the one closer to the common lag.
struct Arbiter<'a> {
    model: &'a Model,
    windows: &'a [u64],
    window: u64,
    active: &'a [bool],
    stem_frames: &'a [u64],
    mix_frames: u64,
}

impl Arbiter<'_> {
    /// The windows' Gram statistics with `offsets` over the judged span. The statistics of
    /// every offset vector are kept, so a vector is read only once.
    fn gram<'c>(
        &self,
        cache: &'c mut Vec<(Vec<i64>, Gram)>,
        win: &mut WindowIo,
        mix: &mut Box<dyn FrameSource>,
        stems: &mut [Box<dyn FrameSource>],
        offsets: &[i64],
    ) -> Result<&'c Gram> {
        let p = match cache.iter().position(|(o, _)| o == offsets) {
            Some(p) => p,
            None => {
                let span = judged_span(self.active, offsets, self.stem_frames, self.mix_frames);
                let g = win.gram(
                    self.model,
                    mix,
                    stems,
                    self.windows,
                    self.window as usize,
                    offsets,
                    &span,
                )?;
                cache.push((offsets.to_vec(), g));
                cache.len() - 1
            }
        };
        Ok(&cache[p].1)
    }

    /// Windows' least-squares residual with `offsets`, relative to the mix over the judged
    /// span, with every active stem fitted, and with stem `left_out` left out.
    fn residuals(
        &self,
        cache: &mut Vec<(Vec<i64>, Gram)>,
        win: &mut WindowIo,
        mix: &mut Box<dyn FrameSource>,
        stems: &mut [Box<dyn FrameSource>],
        offsets: &[i64],
        left_out: usize,
    ) -> Result<(f64, f64)> {
        let g = self.gram(cache, win, mix, stems, offsets)?;
        let e_mix = g.mix_energy().max(1e-300);
        let mut without = self.active.to_vec();
        without[left_out] = false;
        let e = |mask: &[bool]| {
            (g.energy(&self.model.coefs(&g.solve_masked(self.model, mask))) / e_mix).max(0.0)
        };
        Ok((e(self.active), e(&without)))
    }

    /// Moves the stems of `order` from `offsets` by leave-one-out searches over the full
    /// range, each stem against the mix minus every other stem where it stands, best first:
    /// per round every stem proposes its lag (both orientations), and only the proposal with
    /// the deepest joint null is taken, if it deepens the null. A stem misplaced among stems
    /// that are right sees exactly itself in its target and wins the round; stems that sit
    /// right but see its error in their targets propose small, shallower moves.
    #[allow(clippy::too_many_arguments)]
    fn best_first(
        &self,
        cache: &mut Vec<(Vec<i64>, Gram)>,
        win: &mut WindowIo,
        mix: &mut Box<dyn FrameSource>,
        stems: &mut [Box<dyn FrameSource>],
        corr: &mut Correlator,
        present: &[Vec<bool>],
        order: &[usize],
        offsets: &mut [i64],
    ) -> Result<()> {
        let k = offsets.len();
        let Some(&first) = order.first() else {
            return Ok(());
        };
        let mut which = vec![false; k];
        for &i in order {
            which[i] = true;
        }
        let mut moved = vec![false; k];
        for _ in 0..order.len() {
            let (e_now, _) = self.residuals(cache, win, mix, stems, offsets, first)?;
            // The statistics `residuals` just read (cached), not a second read of the windows.
            let gram = self.gram(cache, win, mix, stems, offsets)?;
            let coefs = self
                .model
                .coefs(&gram.solve_masked(self.model, self.active));
            let wide = win.loo_search_both(
                self.model,
                mix,
                stems,
                self.windows,
                present,
                &which,
                offsets,
                &coefs,
                corr,
                &[false, true],
            )?;
            let mut best: Option<(f64, usize, i64)> = None;
            for &i in order {
                for w in wide.iter().filter_map(|o| o[i]) {
                    if w.peak.abs() < LOO_MIN_CORRELATION || w.lag_samples == 0 {
                        continue;
                    }
                    let mut trial = offsets.to_vec();
                    trial[i] += w.lag_samples;
                    let (e, _) = self.residuals(cache, win, mix, stems, &trial, i)?;
                    if best.is_none_or(|b| e < b.0) {
                        best = Some((e, i, trial[i]));
                    }
                }
            }
            dbg_align(|| format!("best first from {offsets:?} {e_now:.3e}: {best:?}"));
            match best {
                Some((e, i, lag)) if e < e_now * (1.0 - 1e-6) => {
                    offsets[i] = lag;
                    moved[i] = true;
                }
                _ => break,
            }
        }
        // The leave-one-out target of a stem holds the other stems' gain errors, which
        // pull the peak of a smooth signal (a reverb return) by a few samples: the joint
        // null itself settles the last samples.
        for i in (0..k).filter(|&i| moved[i]) {
            let (mut e_now, _) = self.residuals(cache, win, mix, stems, offsets, i)?;
            for step in [1i64, -1] {
                for _ in 0..POLISH_STEPS {
                    let mut trial = offsets.to_vec();
                    trial[i] += step;
                    let (e, _) = self.residuals(cache, win, mix, stems, &trial, i)?;
                    if e >= e_now {
                        break;
                    }
                    e_now = e;
                    offsets[i] = trial[i];
                }
            }
        }
        Ok(())
    }

    /// Settles every active stem on the candidate lag (its own `candidates`, 0, `common` and
    /// its current offset) with the deepest joint null, stem by stem until nothing moves;
    /// near-equal nulls (within [`TIE_SHARE`] of what the stem explains) go to the smaller
    /// shift. Returns whether an offset changed. Costs one read of the windows per distinct
    /// offset vector, none when every stem sits at its only candidate.
    fn arbitrate(
        &self,
        win: &mut WindowIo,
        mix: &mut Box<dyn FrameSource>,
        stems: &mut [Box<dyn FrameSource>],
        offsets: &mut [i64],
        common: i64,
        candidates: &[Vec<i64>],
    ) -> Result<bool> {
        let k = offsets.len();
        let lags: Vec<Vec<i64>> = (0..k)
            .map(|i| {
                let mut l: Vec<i64> = candidates[i]
                    .iter()
                    .copied()
                    .chain([0, common, offsets[i]])
                    .collect();
                l.sort_unstable();
                l.dedup();
                l
            })
            .collect();
        let open: Vec<usize> = (0..k)
            .filter(|&i| self.active[i] && lags[i].len() > 1)
            .collect();
        let before = offsets.to_vec();
        let mut cache = Vec::new();
        for _ in 0..3 {
            let mut moved = false;
            for &i in &open {
                let mut tried: Vec<(i64, f64, f64)> = Vec::new();
                for &lag in &lags[i] {
                    let mut trial = offsets.to_vec();
                    trial[i] = lag;
                    let (e, e_out) = self.residuals(&mut cache, win, mix, stems, &trial, i)?;
                    tried.push((lag, e, e_out));
                }
                let Some(&(_, e_best, e_out)) = tried.iter().min_by(|a, b| a.1.total_cmp(&b.1))
                else {
                    continue;
                };
                let tie = TIE_SHARE * (e_out - e_best).max(0.0);
                let pick = tried
                    .iter()
                    .filter(|t| t.1 - e_best <= tie)
                    .min_by_key(|t| ((t.0 - common).abs().min(t.0.abs()), t.0.abs()))
                    .map_or(offsets[i], |t| t.0);
                dbg_align(|| format!("arbitrate stem {i}: {tried:?} -> {pick}"));
                if pick != offsets[i] {
                    offsets[i] = pick;
                    moved = true;
                }
            }
            if !moved {
                break;
            }
        }
        Ok(offsets != before.as_slice())
    }
}

/// The lag most of the clearly found stems share when at least two agree (ties: the smaller
/// shift), else 0: one shifted stem does not move the set.
fn common_lag(lags: &[i64]) -> i64 {
    let mut best = (0usize, 0i64);
    for &l in lags {
        let n = lags.iter().filter(|&&m| m == l).count();
        if n > best.0 || (n == best.0 && l.abs() < best.1.abs()) {
            best = (n, l);
        }
    }
    if best.0 >= 2 { best.1 } else { 0 }
}

/// Analysis windows in mix time: the chosen windows plus, for every stem in `mask` with an
/// offset, its windows moved to where its content lands in the mix (unless a window already
/// covers most of that). Returns the windows and, per stem, whether it sounds in each.
fn mix_windows(
    base: &[u64],
    activity: &[Option<Activity>],
    offsets: &[i64],
    mask: &[bool],
    window: u64,
    mix_frames: u64,
    floor_ms: f64,
) -> (Vec<u64>, Vec<Vec<bool>>) {
    let last = mix_frames.saturating_sub(window) as i64;
    let mut ws = base.to_vec();
    for (i, a) in activity.iter().enumerate() {
        let Some(a) = a.as_ref().filter(|_| mask[i] && offsets[i] != 0) else {
            continue;
        };
        for &t in base {
            if !align::present_in(a, t, window, floor_ms) {
                continue;
            }
            let m = (t as i64 - offsets[i]).clamp(0, last.max(0)) as u64;
            if !ws.iter().any(|&u| u.abs_diff(m) < window / 2) {
                ws.push(m);
            }
        }
    }
    ws.sort_unstable();
    let present = activity
        .iter()
        .enumerate()
        .map(|(i, a)| {
            ws.iter()
                .map(|&t| {
                    a.as_ref().is_some_and(|a| {
                        let st = (t as i64 + offsets[i]).max(0) as u64;
                        align::present_in(a, st, window, floor_ms)
                    })
                })
                .collect()
        })
        .collect();
    (ws, present)
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
        .map(|i| 20.0 * model.stem_gain(coefs, i).abs().max(1e-15).log10())
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
                (Some(law), Some(m)) => 10f64.powf(m.expected_db(law) / 20.0),
                _ => 1.0,
            };
            for c in 0..cm {
                unity[i * cm + c] = sign * level * g[c] / norm;
            }
        }
    }
}

/// Mix frames where every shifted active stem has audio (possibly empty).
fn judged_span(
    active: &[bool],
    offsets: &[i64],
    stem_frames: &[u64],
    mix_frames: u64,
) -> Range<u64> {
    let mut span = 0..mix_frames;
    for i in (0..active.len()).filter(|&i| active[i]) {
        let lo = (-offsets[i]).max(0) as u64;
        let hi = (stem_frames[i] as i64 - offsets[i]).max(0) as u64;
        span = span.start.max(lo)..span.end.min(hi);
    }
    if span.end < span.start {
        span.start..span.start
    } else {
        span
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn lcm(a: usize, b: usize) -> usize {
    a / gcd(a, b).max(1) * b
}

/// Window Gram statistics kept by [`WindowIo::gram`]: most phases ask again for the offsets
/// they or the phase before already measured (a weak stem's proposal at its current lag, the
/// next weak stem's start, the refinement's first round, the final window fit).
const GRAM_CACHE: usize = 32;

/// What one window Gram was measured over: the windows, their length, the offsets and the
/// judged span. The same key over the same sources gives the same statistics, bit for bit.
#[derive(Debug, Clone, PartialEq)]
struct GramKey {
    windows: Vec<u64>,
    window: usize,
    offsets: Vec<i64>,
    span: Range<u64>,
}

/// Reads analysis windows of the mix and of every stem (shifted by its offset) as planar f64.
struct WindowIo {
    buf: Vec<f32>,
    mix: Vec<Vec<f64>>,
    stems: Vec<Vec<Vec<f64>>>,
    /// Recent window Grams, oldest first (at most [`GRAM_CACHE`]).
    grams: Vec<(GramKey, Gram)>,
}

impl WindowIo {
    fn new(cm: usize, stem_channels: &[usize]) -> Self {
        Self {
            buf: Vec::new(),
            mix: vec![Vec::new(); cm],
            stems: stem_channels.iter().map(|&c| vec![Vec::new(); c]).collect(),
            grams: Vec::new(),
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

    /// Gram statistics of the windows, restricted to `span` (mix frames where every shifted
    /// active stem has audio): outside it a cut-off stem would bend the other stems' gains.
    /// The windows are read only when these statistics were not measured recently (the
    /// sources never change under one `WindowIo`, so a kept Gram is exactly a fresh one).
    #[allow(clippy::too_many_arguments)]
    fn gram(
        &mut self,
        model: &Model,
        mix: &mut Box<dyn FrameSource>,
        stems: &mut [Box<dyn FrameSource>],
        windows: &[u64],
        window: usize,
        offsets: &[i64],
        span: &Range<u64>,
    ) -> Result<Gram> {
        let key = GramKey {
            windows: windows.to_vec(),
            window,
            offsets: offsets.to_vec(),
            span: span.clone(),
        };
        if let Some((_, g)) = self.grams.iter().find(|(k, _)| *k == key) {
            return Ok(g.clone());
        }
        let g = self.read_gram(model, mix, stems, windows, window, offsets, span)?;
        if self.grams.len() >= GRAM_CACHE {
            self.grams.remove(0);
        }
        self.grams.push((key, g.clone()));
        Ok(g)
    }

    /// [`WindowIo::gram`] without the cache: reads the windows.
    #[allow(clippy::too_many_arguments)]
    fn read_gram(
        &mut self,
        model: &Model,
        mix: &mut Box<dyn FrameSource>,
        stems: &mut [Box<dyn FrameSource>],
        windows: &[u64],
        window: usize,
        offsets: &[i64],
        span: &Range<u64>,
    ) -> Result<Gram> {
        let mut g = Gram::new(model);
        for &t in windows {
            let lo = span.start.clamp(t, t + window as u64) - t;
            let hi = span.end.clamp(t, t + window as u64) - t;
            if hi <= lo {
                continue;
            }
            self.load(mix, stems, t as i64, window, offsets)?;
            g.add(model, &self.mix, &self.stems, lo as usize..hi as usize);
        }
        Ok(g)
    }

    /// Lag of every stem in `which` against its leave-one-out target (the mix minus every
    /// other fitted stem), relative to its current offset, over `corr`'s range, by normalised
    /// correlation. With `slide_stem` the target window stays fixed and the stem slides (the
    /// least-squares criterion); without, the stem's window stays fixed and the target slides
    /// (a stem's onset inside its window is then matched wherever it lies in the mix).
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
        slide_stem: bool,
    ) -> Result<Vec<Option<align::LagEstimate>>> {
        let mut r = self.loo_search_both(
            model,
            mix,
            stems,
            windows,
            present,
            which,
            offsets,
            coefs,
            corr,
            &[slide_stem],
        )?;
        Ok(r.remove(0))
    }

    /// [`WindowIo::loo_search`] for several orientations (`slide_stem` values) at once: the
    /// windows are read and the residual formed once for all of them.
    #[allow(clippy::too_many_arguments)]
    fn loo_search_both(
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
        orientations: &[bool],
    ) -> Result<Vec<Vec<Option<align::LagEstimate>>>> {
        let k = stems.len();
        let cm = model.mix_channels;
        let (e, w) = (corr.range(), corr.window());
        let len = w + 2 * e;
        let no = orientations.len();
        let mut acc: Vec<Vec<Option<align::Spectrum>>> = vec![vec![None; k]; no];
        let mut energies: Vec<Vec<align::Energies>> = vec![vec![align::Energies::default(); k]; no];
        let mut resid = vec![0.0f64; LOO_PIECE];
        let mut own = vec![0.0f64; LOO_PIECE];
        // Target and mono stem of every searched stem present in the window, whole span.
        let mut spans: Vec<(usize, Vec<f32>, Vec<f32>)> = Vec::new();
        let (mut ts, mut xs) = (corr.new_spectrum(), corr.new_spectrum());
        for (wi, &t) in windows.iter().enumerate() {
            let searched: Vec<usize> = (0..k).filter(|&i| which[i] && present[i][wi]).collect();
            if searched.is_empty() {
                continue;
            }
            spans.resize_with(searched.len(), || (0, vec![0.0; len], vec![0.0; len]));
            // The span (seconds, every file) is read and reduced piece by piece, so that the
            // decoded audio is used while it is in cache: read whole, 13 stereo files of
            // planar f64 were ~65 MB per window, written once and read back from memory.
            // Every sample still gets the same operations in the same order.
            for lo in (0..len).step_by(LOO_PIECE) {
                let n = (len - lo).min(LOO_PIECE);
                self.load(mix, stems, t as i64 - e as i64 + lo as i64, n, offsets)?;
                // Mono residual of the full fitted model.
                let r = &mut resid[..n];
                r.fill(0.0);
                for c in 0..cm {
                    for (r, &m) in r.iter_mut().zip(&self.mix[c]) {
                        *r += m;
                    }
                    for i in 0..k {
                        let g = coefs[i * cm + c];
                        if g != 0.0 {
                            for (r, &s) in r.iter_mut().zip(&self.stems[i][model.route(i, c)]) {
                                *r -= g * s;
                            }
                        }
                    }
                }
                for (&i, (slot, target, x)) in searched.iter().zip(&mut spans) {
                    *slot = i;
                    // The target (residual plus this stem's own fitted contribution) and the
                    // stem's mono sum; each orientation takes its parts of the span. The sums
                    // run in channel order, as a sum over each sample's channels adds them.
                    let own = &mut own[..n];
                    for c in 0..cm {
                        let g = coefs[i * cm + c];
                        let s = &self.stems[i][model.route(i, c)];
                        if c == 0 {
                            for (o, &s) in own.iter_mut().zip(s) {
                                *o = g * s;
                            }
                        } else {
                            for (o, &s) in own.iter_mut().zip(s) {
                                *o += g * s;
                            }
                        }
                    }
                    for ((tv, &r), &o) in target[lo..lo + n].iter_mut().zip(&*r).zip(&*own) {
                        *tv = (r + o) as f32;
                    }
                    let (first, rest) = self.stems[i].split_first().expect("a stem has a channel");
                    own.copy_from_slice(&first[..n]);
                    for ch in rest {
                        for (o, &s) in own.iter_mut().zip(ch) {
                            *o += s;
                        }
                    }
                    for (xv, &o) in x[lo..lo + n].iter_mut().zip(&*own) {
                        *xv = o as f32;
                    }
                }
            }
            for (i, target, x) in &spans {
                let i = *i;
                for (o, &slide_stem) in orientations.iter().enumerate() {
                    // With `slide_stem` the target stays fixed over the window and the stem
                    // slides over +/-e around its offset: with the target fixed, the best
                    // normalised correlation is the best least-squares fit (sliding the
                    // target instead would favour lags where it happens to be quiet).
                    let (tv, xv) = if slide_stem {
                        (&target[e..e + w], &x[..])
                    } else {
                        (&target[..], &x[e..e + w])
                    };
                    corr.forward(xv, &mut xs);
                    corr.forward(tv, &mut ts);
                    let a = acc[o][i].get_or_insert_with(|| corr.new_spectrum());
                    if slide_stem {
                        Correlator::accumulate(a, &xs, &ts);
                        corr.add_energies(xv, tv, &mut energies[o][i]);
                    } else {
                        Correlator::accumulate(a, &ts, &xs);
                        corr.add_energies(tv, xv, &mut energies[o][i]);
                    }
                }
            }
        }
        // The correlator reports where the window (target) sits in the reference (stem); the
        // stem's own correction is the opposite.
        Ok(orientations
            .iter()
            .zip(acc.iter().zip(&energies))
            .map(|(&slide_stem, (acc, energies))| {
                acc.iter()
                    .zip(energies)
                    .map(|(a, e)| {
                        a.as_ref()
                            .and_then(|a| corr.peak_normalized(a, e))
                            .map(|p| LagEstimate {
                                lag_samples: if slide_stem {
                                    -p.lag_samples
                                } else {
                                    p.lag_samples
                                },
                                ..p
                            })
                    })
                    .collect()
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A source that counts the frames read from it.
    struct Counting {
        inner: Box<dyn FrameSource>,
        frames: Arc<AtomicUsize>,
    }

    impl FrameSource for Counting {
        fn name(&self) -> &str {
            self.inner.name()
        }
        fn channels(&self) -> usize {
            self.inner.channels()
        }
        fn sample_rate(&self) -> u32 {
            self.inner.sample_rate()
        }
        fn frames(&self) -> u64 {
            self.inner.frames()
        }
        fn read_window(&mut self, start_frame: i64, out: &mut [f32]) -> Result<()> {
            self.frames
                .fetch_add(out.len() / self.channels(), Ordering::Relaxed);
            self.inner.read_window(start_frame, out)
        }
        fn reopen(&self) -> Result<Box<dyn FrameSource>> {
            self.inner.reopen()
        }
    }

    #[test]
    fn window_grams_are_kept_and_equal_a_fresh_read() {
        let song = synth::Song::new(8_000, 6.0, 4, 3);
        let (mix, stems) = song.sources(&song.mix()).expect("sources");
        let read = Arc::new(AtomicUsize::new(0));
        let count = |s: Box<dyn FrameSource>| -> Box<dyn FrameSource> {
            Box::new(Counting {
                inner: s,
                frames: read.clone(),
            })
        };
        let mut mix = count(mix);
        let mut stems: Vec<Box<dyn FrameSource>> = stems.into_iter().map(count).collect();
        let channels: Vec<usize> = stems.iter().map(|s| s.channels()).collect();
        let model = Model::new(mix.channels(), &channels);
        let mut win = WindowIo::new(mix.channels(), &channels);
        let windows = [1_000u64, 20_000, 33_000];
        let offsets = vec![0i64, 12, -7, 0];
        let span = 500..40_000u64;
        let first = win
            .gram(
                &model, &mut mix, &mut stems, &windows, 4_000, &offsets, &span,
            )
            .expect("gram");
        let after_first = read.load(Ordering::Relaxed);
        assert!(after_first > 0);
        // The same request again is answered without reading, with the same statistics.
        let again = win
            .gram(
                &model, &mut mix, &mut stems, &windows, 4_000, &offsets, &span,
            )
            .expect("gram");
        assert_eq!(read.load(Ordering::Relaxed), after_first);
        assert_eq!(again, first);
        assert_eq!(
            again,
            win.read_gram(
                &model, &mut mix, &mut stems, &windows, 4_000, &offsets, &span
            )
            .expect("gram")
        );
        // Any other offsets, span or windows are read afresh.
        let before = read.load(Ordering::Relaxed);
        let moved = vec![0i64, 13, -7, 0];
        let other = win
            .gram(&model, &mut mix, &mut stems, &windows, 4_000, &moved, &span)
            .expect("gram");
        assert!(read.load(Ordering::Relaxed) > before);
        assert_ne!(other, first);
        let before = read.load(Ordering::Relaxed);
        let narrower = win
            .gram(
                &model,
                &mut mix,
                &mut stems,
                &windows,
                4_000,
                &offsets,
                &(2_000..40_000),
            )
            .expect("gram");
        assert!(read.load(Ordering::Relaxed) > before);
        assert_ne!(narrower, first);
        // The cache stays bounded.
        for d in 0..2 * GRAM_CACHE as i64 {
            let o = vec![0i64, d, 0, 0];
            win.gram(&model, &mut mix, &mut stems, &windows, 4_000, &o, &span)
                .expect("gram");
        }
        assert!(win.grams.len() <= GRAM_CACHE);
    }
}
