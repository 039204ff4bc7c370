//! Clock drift: a stem rendered on a clock a little off the mix's (a device at 48 kHz
//! +100 ppm, a sample-rate conversion with a wrong ratio). Its offset grows linearly over the
//! song (100 ppm over 30 s at 48 kHz: 144 samples end to end), so one offset fits it nowhere
//! and the plain fit reads it as an offset in the middle plus a gain error, an EQ and a
//! missing part.
//!
//! After the placement, each active stem that does not already explain its part is measured
//! in `DRIFT_WINDOWS` windows spread evenly over the judged span: its lag against its
//! leave-one-out target is refined around its placed lag in each window on its own. A linear
//! trend of those lags over time, with every window close to the line (`MAX_SCATTER`) and a
//! slope of at least `MIN_DRIFT_PPM`, is a clock drift. The stem is then read through
//! [`DriftCorrected`] for the rest of the reconciliation, so neither its offset nor the gain,
//! EQ or missing part its drift looked like are blamed on it.

use realfft::RealFftPlanner;
use rubato::WindowFunction;
use rubato::sinc_interpolator::{AnyInterpolator, SincInterpolator, make_interpolator};

use super::locate::Located;
use super::plan::{Plan, dbg_align};
use super::window_io::WindowIo;
use crate::Result;
use crate::align::Correlator;
use crate::cause::{Cause, ClockDrift};
use crate::source::FrameSource;

/// Windows the lag is measured in, spread over the song.
pub(super) const DRIFT_WINDOWS: usize = 8;
/// Fewest windows (where the stem sounds and correlates) a drift is judged on.
const MIN_WINDOWS: usize = 4;
/// A slope under this (parts per million) is not called a drift.
pub(super) const MIN_DRIFT_PPM: f64 = 5.0;
/// Largest distance (samples) of a window's lag from the fitted line: a drift is one straight
/// line, not lags that jump (periodic material locking on another period).
const MAX_SCATTER: f64 = 2.0;
/// ... or this fraction of the lag's change within one window, when that is larger: a window's
/// lag is the correlation peak of a lag that slides through the window, which transients pull
/// anywhere along the slide (corpus: drums at 100 ppm slide 27 samples per 5.5 s window and
/// scatter 2.2 samples around the line).
const MAX_SCATTER_OF_SLIDE: f64 = 0.2;
/// The lag's change over the measured windows must be at least this many times the scatter
/// around the line (and at least `MIN_TREND_SAMPLES`): a chorus or a reverb return in the
/// mix wobbles a stem's lag by a few samples, which a line through a few windows can read as a
/// slope of a few ppm (corpus: 8 samples of trend at 2 samples of scatter; a chorus on the mix
/// bus pulled a bass 5.8 samples over 26 s at 0.69 of scatter, 8.4 times; real drifts of 20
/// to 100 ppm over 30 s: 26 to 150 samples at 0.1 to 2.5, 40 times and more).
const MIN_TREND_OVER_SCATTER: f64 = 16.0;
/// See `MIN_TREND_OVER_SCATTER`.
const MIN_TREND_SAMPLES: f64 = 4.0;
/// A stem at or above this leave-one-out correlation already explains its part. A slow drift
/// of a low stem stays highly correlated (a bass at 20 ppm over 30 s: 0.993 to 0.995, its
/// residual 20 dB under it), so only a stem that nulls is left unmeasured.
const EXPLAINED_CORRELATION: f64 = 0.9999;
/// Per-window lag peaks under this normalised correlation are not measurements.
const MIN_PEAK: f64 = 0.3;

/// A drift found for one stem: its lag at mix frame `t` is `start + ppm * 1e-6 * t`.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    /// The stem.
    pub stem: usize,
    /// Rate error, parts per million (positive: the stem's content comes later and later).
    pub ppm: f64,
    /// Lag at the mix's first frame, samples (fractional).
    pub start_samples: f64,
    /// Lag at the mix's last frame, samples.
    pub end_samples: f64,
    /// Windows the line was fitted on.
    pub windows: usize,
    /// The analysis windows' joint least-squares residual with the stem as delivered, dB re
    /// mix.
    pub residual_as_is_db: f64,
}

impl Drift {
    /// Whether the drift is one (measured again on the corrected stems): a slope of at least
    /// `MIN_DRIFT_PPM` that moves the lag `MIN_TREND_SAMPLES` or more over the song, measured
    /// on windows (a drift only supposed for a stem when others drift, and never measured, is
    /// none).
    pub fn holds(&self) -> bool {
        self.windows >= MIN_WINDOWS
            && self.ppm.abs() >= MIN_DRIFT_PPM
            && (self.end_samples - self.start_samples).abs() >= MIN_TREND_SAMPLES
    }

    /// The cause for the stem named `file`.
    pub fn cause(&self, file: &str, sample_rate: u32) -> Cause {
        Cause::ClockDrift(ClockDrift {
            file: file.to_owned(),
            stems: Vec::new(),
            ppm: self.ppm,
            offset_start_samples: self.start_samples,
            offset_end_samples: self.end_samples,
            sample_rate,
            windows: self.windows,
        })
    }

    /// The cause of every stem (`stems`) drifting alike at this one rate: the
    /// mix (`mix`) on a clock of its own.
    pub fn mix_cause(&self, mix: &str, stems: Vec<String>, sample_rate: u32) -> Cause {
        Cause::ClockDrift(ClockDrift {
            file: mix.to_owned(),
            stems,
            ppm: self.ppm,
            offset_start_samples: self.start_samples,
            offset_end_samples: self.end_samples,
            sample_rate,
            windows: self.windows,
        })
    }
}

/// When two or more stems drift, the mix may be the one on another clock (printed through
/// outboard into another converter, resampled at a wrong ratio): then every stem drifts alike,
/// but a stem the drift put out of the fit, or one whose windows were too few, was not measured
/// as drifting. Every other sounding stem is supposed to drift as the median of the measured
/// ones (from its placed offset, shifted as they are from theirs) so that it is read corrected
/// and measured again ([`refine`]); where it does not drift, its measured line undoes the
/// supposition and it is read as delivered ([`Drift::holds`]).
pub(super) fn suppose_shared_clock(
    found: Vec<Drift>,
    offsets: &[i64],
    sounding: &[bool],
    plan: &Plan,
) -> Vec<Drift> {
    if found.len() < 2 {
        return found;
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let ppm = median(found.iter().map(|d| d.ppm).collect());
    let shift = median(
        found
            .iter()
            .map(|d| d.start_samples - offsets[d.stem] as f64)
            .collect(),
    );
    let last = io_last_frame(plan);
    let residual_as_is_db = found[0].residual_as_is_db;
    let supposed: Vec<Drift> = (0..offsets.len())
        .filter(|&i| sounding[i] && !found.iter().any(|d| d.stem == i))
        .map(|i| {
            let start = offsets[i] as f64 + shift;
            Drift {
                stem: i,
                ppm,
                start_samples: start,
                end_samples: start + ppm * 1e-6 * last,
                windows: 0,
                residual_as_is_db,
            }
        })
        .collect();
    dbg_align(|| {
        format!(
            "drift: supposed shared clock {ppm:.2} ppm for {:?}",
            supposed.iter().map(|d| d.stem).collect::<Vec<_>>()
        )
    });
    let mut all = found;
    all.extend(supposed);
    all.sort_by_key(|d| d.stem);
    all
}

/// Largest spread (ppm, or this fraction of the rate when larger) of the stems' refined rates
/// about their mean for one clock to be theirs and another the mix's: the rates of one mix's
/// drift measured on three corpus songs' stems agree to 0.05 ppm, on a synthetic song whose
/// parts share their notes (each leave-one-out target holds the others' misfit) to 2.3 ppm in
/// 50. Stems on clocks of their own differ by tens of ppm.
const SHARED_CLOCK_PPM: f64 = 1.0;
const SHARED_CLOCK_FRACTION: f64 = 0.1;

/// One drift standing for them all when every active stem drifts at one rate (see
/// [`suppose_shared_clock`]): the mix is on another clock. `None` when some active stem keeps
/// the mix's time, the rates differ, or fewer than two stems are active.
pub(super) fn shared_clock(drifts: &[Drift], active: &[bool]) -> Option<Drift> {
    let n = active.iter().filter(|&&a| a).count();
    if n < 2
        || drifts.len() < 2
        || (0..active.len()).any(|i| active[i] && !drifts.iter().any(|d| d.stem == i))
    {
        return None;
    }
    let k = drifts.len() as f64;
    let ppm = drifts.iter().map(|d| d.ppm).sum::<f64>() / k;
    let tolerance = SHARED_CLOCK_PPM.max(SHARED_CLOCK_FRACTION * ppm.abs());
    if drifts.iter().any(|d| (d.ppm - ppm).abs() > tolerance) {
        return None;
    }
    let start = drifts.iter().map(|d| d.start_samples).sum::<f64>() / k;
    let end = drifts.iter().map(|d| d.end_samples).sum::<f64>() / k;
    Some(Drift {
        stem: drifts[0].stem,
        ppm,
        start_samples: start,
        end_samples: end,
        windows: drifts.iter().map(|d| d.windows).min().unwrap_or(0),
        residual_as_is_db: drifts[0].residual_as_is_db,
    })
}

/// What [`measure`] needs besides the windows.
pub(super) struct DriftTest<'a> {
    pub plan: &'a Plan,
    pub located: &'a Located,
    pub active: &'a [bool],
    pub offsets: &'a [i64],
    /// Each stem's normalised correlation with its leave-one-out target.
    pub confidence: &'a [f64],
}

/// Measures every active stem that does not already explain its part (see the module docs).
/// Leaves `io` on its own windows.
///
/// # Errors
/// When a file cannot be read.
pub(super) fn measure(
    io: &mut WindowIo<'_>,
    planner: &mut RealFftPlanner<f32>,
    t: &DriftTest<'_>,
) -> Result<Vec<Drift>> {
    let k = t.offsets.len();
    // A sounding stem the placement left out is measured too: a drum stem at 100 ppm slides
    // 150 samples over 30 s, and no one offset correlates it with the mix enough to keep it
    // (0.03 over the windows), while each window on its own finds it at once.
    let which: Vec<bool> = (0..k)
        .map(|i| {
            if t.active[i] {
                t.confidence[i] < EXPLAINED_CORRELATION
            } else {
                t.located.activity[i].is_some()
            }
        })
        .collect();
    dbg_align(|| {
        format!(
            "drift which {which:?} active {:?} confidence {:?}",
            t.active, t.confidence
        )
    });
    let window = t.plan.window_frames;
    let span = io.judged_span(t.active, t.offsets);
    if !which.iter().any(|&w| w) || span.end < span.start + window * DRIFT_WINDOWS as u64 {
        return Ok(Vec::new());
    }
    let model = io.model();
    let gram = io.judged_gram(t.active, t.offsets)?;
    let coefs = model.coefs(&gram.solve_masked(model, t.active));
    let residual_as_is_db =
        crate::units::power_to_db(gram.energy(&coefs).max(1e-300) / gram.mix_energy().max(1e-300));
    let lags = window_lags(io, planner, t, &which, &coefs, &span)?;
    let last = io_last_frame(t.plan);
    let mut out = Vec::new();
    for (i, points) in lags.iter().enumerate() {
        let Some((a, b, scatter)) = robust_line(points, window as f64) else {
            continue;
        };
        let ppm = b * 1e6;
        dbg_align(|| format!("drift stem {i}: {points:?} -> {ppm:.1} ppm, scatter {scatter:.2}"));
        let reach = reach(points);
        let trend = (b * reach).abs();
        if points.len() >= MIN_WINDOWS
            && scatter <= scatter_tolerance(b, window as f64, reach)
            && ppm.abs() >= MIN_DRIFT_PPM
            && trend >= MIN_TREND_SAMPLES
            && trend >= MIN_TREND_OVER_SCATTER * scatter
        {
            out.push(Drift {
                stem: i,
                ppm,
                start_samples: a,
                end_samples: a + b * last,
                windows: points.len(),
                residual_as_is_db,
            });
        }
    }
    Ok(out)
}

/// Each stem of `which`: its lag (fractional samples, against its leave-one-out target with
/// the other stems at `coefs`) in [`DRIFT_WINDOWS`] windows spread over `span`, as (window
/// centre, lag) points. Leaves `io` on its own windows.
fn window_lags(
    io: &mut WindowIo<'_>,
    planner: &mut RealFftPlanner<f32>,
    t: &DriftTest<'_>,
    which: &[bool],
    coefs: &[f64],
    span: &std::ops::Range<u64>,
) -> Result<Vec<Vec<(f64, f64)>>> {
    let window = t.plan.window_frames;
    let mut corr = Correlator::new(planner, window as usize, t.plan.refine_range_samples);
    let step = (span.end - span.start - window) / (DRIFT_WINDOWS as u64 - 1);
    let saved = (io.windows().to_vec(), io.present().to_vec());
    let mut lags: Vec<Vec<(f64, f64)>> = vec![Vec::new(); which.len()];
    for w in 0..DRIFT_WINDOWS as u64 {
        let start = span.start + w * step;
        let present = t.located.present_at(t.plan, &[start], t.offsets);
        io.set_windows(vec![start], present);
        let found = io.loo_search(which, t.offsets, coefs, &mut corr, true)?;
        dbg_align(|| {
            format!(
                "drift window {start}: {:?}",
                found
                    .iter()
                    .map(|f| f.map(|f| (f.lag_samples, (f.peak * 100.0).round() / 100.0)))
                    .collect::<Vec<_>>()
            )
        });
        for (i, f) in found.iter().enumerate() {
            if let Some(f) = f.filter(|f| f.peak.abs() >= MIN_PEAK) {
                let centre = (start + window / 2) as f64;
                let lag = (t.offsets[i] + f.lag_samples) as f64 + f.fraction_samples;
                lags[i].push((centre, lag));
            }
        }
    }
    io.set_windows(saved.0, saved.1);
    Ok(lags)
}

/// The drifts of `found`, measured again on the stems read through their [`DriftCorrected`]
/// sources (placed again, at `t.offsets`): the corrected stem's lag hardly slides within a
/// window, so its residual line is read far more precisely than the first line, whose lag
/// slid tens of samples through each window (a 0.1-sample error in the slope's reach leaves
/// a null near -25 dB at a few kHz). The residual line is composed with the first: the stem
/// is then read at `start + ratio (t + a2 + b2 t)`. A drift whose residual cannot be measured
/// is kept as it was.
///
/// # Errors
/// When a file cannot be read.
pub(super) fn refine(
    io: &mut WindowIo<'_>,
    planner: &mut RealFftPlanner<f32>,
    t: &DriftTest<'_>,
    found: &[Drift],
) -> Result<Vec<Drift>> {
    let k = t.offsets.len();
    let which: Vec<bool> = (0..k)
        .map(|i| t.active[i] && found.iter().any(|d| d.stem == i))
        .collect();
    let window = t.plan.window_frames;
    let span = io.judged_span(t.active, t.offsets);
    if !which.iter().any(|&w| w) || span.end < span.start + window * DRIFT_WINDOWS as u64 {
        return Ok(found.to_vec());
    }
    let model = io.model();
    let gram = io.judged_gram(t.active, t.offsets)?;
    let coefs = model.coefs(&gram.solve_masked(model, t.active));
    let lags = window_lags(io, planner, t, &which, &coefs, &span)?;
    let last = io_last_frame(t.plan);
    Ok(found
        .iter()
        .map(|d| {
            let points = &lags[d.stem];
            match robust_line(points, window as f64) {
                Some((a2, b2, scatter))
                    if points.len() >= MIN_WINDOWS && scatter <= MAX_SCATTER =>
                {
                    let ratio = 1.0 + d.ppm * 1e-6;
                    let start = d.start_samples + ratio * a2;
                    let ppm = (ratio * (1.0 + b2) - 1.0) * 1e6;
                    dbg_align(|| {
                        format!(
                            "drift stem {}: residual line {a2:.3} + {:.3} ppm (scatter {scatter:.3}) -> {ppm:.3} ppm from {start:.3}",
                            d.stem,
                            b2 * 1e6
                        )
                    });
                    Drift {
                        ppm,
                        start_samples: start,
                        end_samples: start + ppm * 1e-6 * last,
                        // A supposed drift is measured now.
                        windows: if d.windows == 0 {
                            points.len()
                        } else {
                            d.windows
                        },
                        ..d.clone()
                    }
                }
                _ => d.clone(),
            }
        })
        .collect())
}

/// How far a window's lag may sit from a drift line of slope `b` (see [`MAX_SCATTER`]), the
/// line reaching `reach` frames: a few samples are nothing beside a lag that moves a hundred
/// (a drum stem at 100 ppm under a bus compressor scattered 2.5 samples about a line falling
/// 122), so the trend's own tolerance ([`MIN_TREND_OVER_SCATTER`]) applies when it is wider.
fn scatter_tolerance(b: f64, window_frames: f64, reach: f64) -> f64 {
    MAX_SCATTER
        .max(MAX_SCATTER_OF_SLIDE * (b * window_frames).abs())
        .max((b * reach).abs() / MIN_TREND_OVER_SCATTER)
}

/// [`fit_line`], fitted again without its worst window when that one alone is off the line
/// and at least [`MIN_WINDOWS`] others remain: one window a transient or a song edge pulled
/// (corpus: drums at 100 ppm whose first window, mostly count-in, read 0 instead of -4) does
/// not hide a drift the other six draw as a straight line.
fn robust_line(points: &[(f64, f64)], window_frames: f64) -> Option<(f64, f64, f64)> {
    let (a, b, scatter) = fit_line(points)?;
    if scatter <= scatter_tolerance(b, window_frames, reach(points)) || points.len() <= MIN_WINDOWS
    {
        return Some((a, b, scatter));
    }
    let worst = points
        .iter()
        .enumerate()
        .max_by(|x, y| {
            let dx = (x.1.1 - a - b * x.1.0).abs();
            let dy = (y.1.1 - a - b * y.1.0).abs();
            dx.total_cmp(&dy)
        })
        .map(|(i, _)| i)?;
    let rest: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != worst)
        .map(|(_, p)| *p)
        .collect();
    fit_line(&rest)
}

/// Frames between the first and the last point's window.
fn reach(points: &[(f64, f64)]) -> f64 {
    let xs = points.iter().map(|p| p.0);
    xs.clone().fold(f64::NEG_INFINITY, f64::max) - xs.fold(f64::INFINITY, f64::min)
}

fn io_last_frame(plan: &Plan) -> f64 {
    plan.mix_frames.saturating_sub(1) as f64
}

/// Least-squares line `y = a + b x` through `points`, with the largest distance of a point
/// from it. `None` for fewer than two distinct `x`.
fn fit_line(points: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let b = sxy / sxx;
    let a = my - b * mx;
    let scatter = points
        .iter()
        .map(|p| (p.1 - a - b * p.0).abs())
        .fold(0.0, f64::max);
    Some((a, b, scatter))
}

/// Taps of [`DriftCorrected`]'s windowed sinc.
const SINC_TAPS: usize = 128;
/// Its cutoff, a fraction of the Nyquist frequency. A drifting stem is read at nearly its own
/// rate, so nothing aliases; what the filter takes off the top is left in the residual. The
/// corpus's drums hold a tenth of their energy above 14 kHz: read back through the filter at
/// 0.9 they differ from themselves by -47 dB, at 0.97 by -61 dB (the 64-tap default of
/// `rubato`, about 0.8: -29 dB).
const SINC_CUTOFF: f32 = 0.97;
/// Sinc rows per sample of [`DriftCorrected`] (positions between two rows are blended
/// linearly).
const SINC_ROWS: usize = 256;

/// A stem source read on the mix's clock: mix frame `t` reads the stem at
/// `start + (1 + ppm * 1e-6) * t`, by `rubato`'s windowed-sinc interpolator (128 taps,
/// Blackman-Harris, 256 rows blended linearly), positioned sample by sample.
///
/// A 4-point cubic did this before: its response falls off towards the top octave, and a
/// bright stem read through it differed from itself by -29 dB (the corpus's drums, a tenth of
/// their energy above 14 kHz); every drifting stem's correction left that in the residual,
/// and with every stem corrected (a mix on another clock) it was an error of its own. This one
/// is good to -100 dB up to 5 kHz and -75 dB at 15 kHz, and reads the drums back to -61 dB. The
/// delivery fix is still a re-export on the session's clock.
pub struct DriftCorrected {
    inner: Box<dyn FrameSource>,
    start: f64,
    ratio: f64,
    sinc: AnyInterpolator<f32>,
    buf: Vec<f32>,
    planar: Vec<f32>,
}

impl DriftCorrected {
    /// `inner` read on the mix's clock, given its lag `start_samples` at the mix's first frame
    /// and its rate error `ppm`.
    pub fn new(inner: Box<dyn FrameSource>, start_samples: f64, ppm: f64) -> Self {
        let ratio = 1.0 + ppm * 1e-6;
        Self {
            inner,
            start: start_samples,
            ratio,
            sinc: make_interpolator(
                SINC_TAPS,
                1.0,
                Some(SINC_CUTOFF),
                SINC_ROWS,
                WindowFunction::BlackmanHarris2,
            ),
            buf: Vec::new(),
            planar: Vec::new(),
        }
    }

    /// Stem position (fractional frame) of mix frame `t`.
    fn position(&self, t: i64) -> f64 {
        self.start + self.ratio * t as f64
    }
}

/// The first sample and the sinc row (of `rubato`'s `make_sincs` table) that interpolate at
/// oversampled position `k` (in `1 / SINC_ROWS` of a sample): row `r` applied from sample `i`
/// peaks at `i + SINC_TAPS / 2 - 1 + (r + 1) / SINC_ROWS`.
fn sinc_start(k: i64) -> (i64, usize) {
    let rows = SINC_ROWS as i64;
    let from = k - (SINC_TAPS as i64 / 2 - 1) * rows - 1;
    (from.div_euclid(rows), from.rem_euclid(rows) as usize)
}

impl FrameSource for DriftCorrected {
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
        // The stem covers mix frames up to where its own end lands.
        let end = (self.inner.frames() as f64 - self.start) / self.ratio;
        end.max(0.0).round() as u64
    }
    fn read_window(&mut self, start_frame: i64, out: &mut [f32]) -> Result<()> {
        let ch = self.inner.channels();
        let n = out.len() / ch;
        if n == 0 {
            return Ok(());
        }
        let half = SINC_TAPS as i64 / 2;
        let first = self.position(start_frame).floor() as i64 - half - 1;
        let last = self.position(start_frame + n as i64 - 1).floor() as i64 + half + 2;
        let len = (last - first + 1) as usize;
        self.buf.resize(len * ch, 0.0);
        self.inner.read_window(first, &mut self.buf)?;
        // The dot products take one channel's samples in a row.
        self.planar.resize(len * ch, 0.0);
        for (i, frame) in self.buf.chunks_exact(ch).enumerate() {
            for (c, &v) in frame.iter().enumerate() {
                self.planar[c * len + i] = v;
            }
        }
        let sincs = self.sinc.get_sincs();
        let rows = SINC_ROWS as f64;
        for j in 0..n {
            let q = self.position(start_frame + j as i64) * rows;
            let k = q.floor();
            let w = (q - k) as f32;
            let (i0, r0) = sinc_start(k as i64);
            let (i1, r1) = sinc_start(k as i64 + 1);
            let (i0, i1) = ((i0 - first) as usize, (i1 - first) as usize);
            for c in 0..ch {
                let wave = &self.planar[c * len..(c + 1) * len];
                let a = self.sinc.get_sinc_dot_product(wave, i0, &sincs[r0]);
                let b = self.sinc.get_sinc_dot_product(wave, i1, &sincs[r1]);
                out[j * ch + c] = a + w * (b - a);
            }
        }
        Ok(())
    }
    fn reopen(&self) -> Result<Box<dyn FrameSource>> {
        let ppm = (self.ratio - 1.0) * 1e6;
        Ok(Box::new(Self::new(self.inner.reopen()?, self.start, ppm)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;

    #[test]
    fn a_line_is_fitted_and_its_scatter_measured() {
        let pts: Vec<(f64, f64)> = (0..5)
            .map(|i| (i as f64 * 10.0, 3.0 + 0.5 * i as f64 * 10.0))
            .collect();
        let (a, b, s) = fit_line(&pts).unwrap();
        assert!((a - 3.0).abs() < 1e-9 && (b - 0.5).abs() < 1e-9 && s < 1e-9);
    }

    #[test]
    fn one_window_off_the_line_does_not_hide_a_drift() {
        // Six windows on a -20 ppm line (1.5 s windows at 48 kHz slide 1.4 samples each), the
        // first pulled 4 samples off it (the corpus's drums: count-in in the first window).
        let window = 72_000.0;
        let mut pts: Vec<(f64, f64)> = (0..7)
            .map(|i| {
                let x = 36_000.0 + 209_142.0 * i as f64;
                (x, -20e-6 * x)
            })
            .collect();
        pts[0].1 += 4.0;
        let (_, b, scatter) = fit_line(&pts).unwrap();
        assert!(
            scatter > scatter_tolerance(b, window, reach(&pts)),
            "the plain fit rejects it"
        );
        let (_, b, scatter) = robust_line(&pts, window).unwrap();
        assert!((b * 1e6 + 20.0).abs() < 0.1, "{}", b * 1e6);
        assert!(scatter < 1e-6);
        // With only MIN_WINDOWS points nothing is dropped.
        let few = &pts[..MIN_WINDOWS];
        assert_eq!(robust_line(few, window), fit_line(few));
    }

    #[test]
    fn drift_corrected_reads_tones_on_the_other_clock() {
        // Tones read at 100 ppm from 3.25 samples on: the interpolated values are the tones
        // at those positions to -100 dB up to 5 kHz and -75 dB at 15 kHz (the rows blended
        // linearly set that).
        for (hz, floor_db) in [
            (100.0, -100.0),
            (1000.0, -100.0),
            (5000.0, -100.0),
            (15_000.0, -75.0),
        ] {
            let w = 2.0 * std::f64::consts::PI * hz / 48_000.0;
            let tone: Vec<f32> = (0..20_000).map(|n| (w * n as f64).sin() as f32).collect();
            let src = MemorySource::new("t", 1, 48_000, tone).unwrap();
            let mut d = DriftCorrected::new(Box::new(src), 3.25, 100.0);
            let mut out = vec![0.0f32; 4000];
            d.read_window(8000, &mut out).unwrap();
            let err: f64 = out
                .iter()
                .enumerate()
                .map(|(j, &v)| {
                    let p = 3.25 + (1.0 + 100e-6) * (8000 + j) as f64;
                    (f64::from(v) - (w * p).sin()).powi(2)
                })
                .sum::<f64>()
                / out.len() as f64;
            let err_db = 10.0 * err.max(1e-30).log10() + 3.01;
            assert!(err_db < floor_db, "{hz} Hz: {err_db:.1} dB");
        }
    }

    #[test]
    fn drift_corrected_reads_a_ramp_on_the_other_clock() {
        // A ramp x[n] = n: read at ratio 1.001 from 10, frame t is 10 + 1.001 t.
        let ramp: Vec<f32> = (0..4000).map(|n| n as f32).collect();
        let src = MemorySource::new("r", 1, 48_000, ramp).unwrap();
        let mut d = DriftCorrected::new(Box::new(src), 10.0, 1000.0);
        let mut out = vec![0.0f32; 100];
        d.read_window(1000, &mut out).unwrap();
        for (j, &v) in out.iter().enumerate() {
            let want = 10.0 + 1.001 * (1000 + j) as f64;
            assert!((f64::from(v) - want).abs() < 1e-2, "{j}: {v} vs {want}");
        }
    }
}
