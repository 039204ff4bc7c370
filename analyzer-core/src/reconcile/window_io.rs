//! Reading the analysis windows: the mix and every stem (shifted by its offset) over the
//! windows, reduced either to Gram statistics (for least-squares fits) or to leave-one-out
//! correlations (for lag searches).
//!
//! [`WindowIo`] is the one context every search step reads through: the sources, the fit model
//! and the current windows, so that a step names only what it varies (offsets, which stems,
//! gains).

use std::ops::Range;

use super::channels::ChannelFix;
use super::gram::{Gram, Model};
use super::plan::judged_span;
use super::stream;
use crate::Result;
use crate::align::{Correlator, Energies, LagEstimate, Spectrum};
use crate::source::FrameSource;

/// Window Gram statistics kept by [`WindowIo::gram`]: most phases ask again for the offsets
/// they or the phase before already measured (a weak stem's proposal at its current lag, the
/// next weak stem's start, the refinement's first round, the final window fit).
const GRAM_CACHE: usize = 32;

/// Frames per piece of [`WindowIo::loo_search_both`]'s read of a window: 13 stereo files of
/// planar `f64` are then 1.7 MB (cache), and the reads stay large (48 KB per 24-bit file).
const LOO_PIECE: usize = 8192;

/// What one window Gram was measured over: the windows, their length, the offsets and the
/// judged span. The same key over the same sources gives the same statistics, bit for bit.
#[derive(Debug, Clone, PartialEq)]
struct GramKey {
    windows: Vec<u64>,
    window: usize,
    offsets: Vec<i64>,
    span: Range<u64>,
}

/// The sources, the fit model and the analysis windows (in mix time), with the buffers and the
/// Gram cache behind every read of the windows.
pub(super) struct WindowIo<'a> {
    model: &'a Model,
    mix: &'a mut dyn FrameSource,
    stems: &'a mut [Box<dyn FrameSource>],
    /// Start frames of the windows in the mix.
    windows: Vec<u64>,
    /// `present[i][w]`: stem `i`, read at its offset, sounds in window `w`.
    present: Vec<Vec<bool>>,
    window_frames: usize,
    stem_frames: Vec<u64>,
    mix_frames: u64,
    buf: Vec<f32>,
    /// The last window read, planar: per mix channel, and per stem and stem channel.
    mix_planar: Vec<Vec<f64>>,
    stems_planar: Vec<Vec<Vec<f64>>>,
    /// Recent window Grams, oldest first (at most [`GRAM_CACHE`]).
    grams: Vec<(GramKey, Gram)>,
    /// How each stem's channels are read (a channel fault under test, see
    /// `super::channels`).
    fixes: Vec<ChannelFix>,
}

impl<'a> WindowIo<'a> {
    /// A reader of windows `window_frames` long; it has no windows until
    /// [`WindowIo::set_windows`].
    pub fn new(
        model: &'a Model,
        mix: &'a mut dyn FrameSource,
        stems: &'a mut [Box<dyn FrameSource>],
        window_frames: usize,
    ) -> Self {
        Self {
            model,
            mix_planar: vec![Vec::new(); model.mix_channels],
            stems_planar: model
                .stem_channels
                .iter()
                .map(|&c| vec![Vec::new(); c])
                .collect(),
            stem_frames: stems.iter().map(|s| s.frames()).collect(),
            mix_frames: mix.frames(),
            mix,
            stems,
            windows: Vec::new(),
            present: Vec::new(),
            window_frames,
            buf: Vec::new(),
            grams: Vec::new(),
            fixes: vec![ChannelFix::AsIs; model.stem_channels.len()],
        }
    }

    /// Replaces the windows (start frames in the mix) and where each stem sounds in them.
    pub fn set_windows(&mut self, windows: Vec<u64>, present: Vec<Vec<bool>>) {
        self.windows = windows;
        self.present = present;
    }

    /// Reads stem `i`'s channels with `fix` from now on (the kept statistics, read otherwise,
    /// are dropped).
    pub fn set_fix(&mut self, i: usize, fix: ChannelFix) {
        if self.fixes[i] != fix {
            self.fixes[i] = fix;
            self.grams.clear();
        }
    }

    /// The current windows' start frames in the mix.
    pub fn windows(&self) -> &[u64] {
        &self.windows
    }

    pub fn model(&self) -> &'a Model {
        self.model
    }

    /// Mix frames where every shifted stem of `active` has audio (see [`judged_span`]).
    pub fn judged_span(&self, active: &[bool], offsets: &[i64]) -> Range<u64> {
        judged_span(active, offsets, &self.stem_frames, self.mix_frames)
    }

    /// Gram statistics of the windows with `offsets` over the judged span of `active`.
    ///
    /// # Errors
    /// When a file cannot be read.
    pub fn judged_gram(&mut self, active: &[bool], offsets: &[i64]) -> Result<Gram> {
        let span = self.judged_span(active, offsets);
        self.gram(offsets, &span)
    }

    /// Loads `[start, start + len)` of the mix and the stems at `start + offset`.
    fn load(&mut self, start: i64, len: usize, offsets: &[i64]) -> Result<()> {
        let cm = self.mix.channels();
        self.buf.resize(len * cm, 0.0);
        self.mix.read_window(start, &mut self.buf)?;
        stream::to_planar(&self.buf, cm, &mut self.mix_planar);
        for (i, s) in self.stems.iter_mut().enumerate() {
            let ch = s.channels();
            self.buf.resize(len * ch, 0.0);
            s.read_window(start + offsets[i], &mut self.buf)?;
            stream::to_planar(&self.buf, ch, &mut self.stems_planar[i]);
            self.fixes[i].apply_planar(&mut self.stems_planar[i]);
        }
        Ok(())
    }

    /// Gram statistics of the windows, restricted to `span` (mix frames where every shifted
    /// active stem has audio): outside it a cut-off stem would bend the other stems' gains.
    /// The windows are read only when these statistics were not measured recently (the
    /// sources never change under one `WindowIo`, so a kept Gram is exactly a fresh one).
    ///
    /// # Errors
    /// When a file cannot be read.
    pub fn gram(&mut self, offsets: &[i64], span: &Range<u64>) -> Result<Gram> {
        let key = GramKey {
            windows: self.windows.clone(),
            window: self.window_frames,
            offsets: offsets.to_vec(),
            span: span.clone(),
        };
        if let Some((_, g)) = self.grams.iter().find(|(k, _)| *k == key) {
            return Ok(g.clone());
        }
        let g = self.read_gram(offsets, span)?;
        if self.grams.len() >= GRAM_CACHE {
            self.grams.remove(0);
        }
        self.grams.push((key, g.clone()));
        Ok(g)
    }

    /// [`WindowIo::gram`] without the cache: reads the windows.
    fn read_gram(&mut self, offsets: &[i64], span: &Range<u64>) -> Result<Gram> {
        let model = self.model;
        let window = self.window_frames;
        let mut g = Gram::new(model);
        for wi in 0..self.windows.len() {
            let t = self.windows[wi];
            let lo = span.start.clamp(t, t + window as u64) - t;
            let hi = span.end.clamp(t, t + window as u64) - t;
            if hi <= lo {
                continue;
            }
            self.load(t as i64, window, offsets)?;
            g.add(
                model,
                &self.mix_planar,
                &self.stems_planar,
                lo as usize..hi as usize,
            );
        }
        Ok(g)
    }

    /// Where each stem, read at its offset, sounds in each current window.
    pub fn present(&self) -> &[Vec<bool>] {
        &self.present
    }

    /// Gram statistics of every current window on its own (`None` for a window outside
    /// `span`), for evidence that must hold window by window rather than in the sum (see
    /// `super::evidence`). Not cached: each call reads the windows.
    ///
    /// # Errors
    /// When a file cannot be read.
    pub fn window_grams(
        &mut self,
        offsets: &[i64],
        span: &Range<u64>,
    ) -> Result<Vec<Option<Gram>>> {
        let model = self.model;
        let window = self.window_frames;
        let mut out = Vec::with_capacity(self.windows.len());
        for wi in 0..self.windows.len() {
            let t = self.windows[wi];
            let lo = span.start.clamp(t, t + window as u64) - t;
            let hi = span.end.clamp(t, t + window as u64) - t;
            if hi <= lo {
                out.push(None);
                continue;
            }
            self.load(t as i64, window, offsets)?;
            let mut g = Gram::new(model);
            g.add(
                model,
                &self.mix_planar,
                &self.stems_planar,
                lo as usize..hi as usize,
            );
            out.push(Some(g));
        }
        Ok(out)
    }

    /// Lag of every stem in `which` against its leave-one-out target (the mix minus every
    /// other fitted stem, gains `coefs`), relative to its offset in `offsets`, over `corr`'s
    /// range, by normalised correlation. With `slide_stem` the target window stays fixed and
    /// the stem slides (the least-squares criterion); without, the stem's window stays fixed
    /// and the target slides (a stem's onset inside its window is then matched wherever it
    /// lies in the mix).
    ///
    /// # Errors
    /// When a file cannot be read.
    pub fn loo_search(
        &mut self,
        which: &[bool],
        offsets: &[i64],
        coefs: &[f64],
        corr: &mut Correlator,
        slide_stem: bool,
    ) -> Result<Vec<Option<LagEstimate>>> {
        let mut r = self.loo_search_both(which, offsets, coefs, corr, &[slide_stem])?;
        Ok(r.remove(0))
    }

    /// [`WindowIo::loo_search`] for several orientations (`slide_stem` values) at once: the
    /// windows are read and the residual formed once for all of them.
    ///
    /// # Errors
    /// When a file cannot be read.
    pub fn loo_search_both(
        &mut self,
        which: &[bool],
        offsets: &[i64],
        coefs: &[f64],
        corr: &mut Correlator,
        orientations: &[bool],
    ) -> Result<Vec<Vec<Option<LagEstimate>>>> {
        let k = self.stems.len();
        let (e, w) = (corr.range(), corr.window());
        let mut acc = LooAccumulator::new(k, orientations, corr);
        let mut loo = LooScratch::default();
        for wi in 0..self.windows.len() {
            let t = self.windows[wi];
            let searched: Vec<usize> = (0..k)
                .filter(|&i| which[i] && self.present[i][wi])
                .collect();
            if searched.is_empty() {
                continue;
            }
            let start = t as i64 - e as i64;
            self.read_targets(start, w + 2 * e, &searched, offsets, coefs, &mut loo)?;
            acc.add(corr, &loo.spans);
        }
        Ok(acc.peaks(corr))
    }

    /// Reads the span `[start, start + len)` and fills, for every stem of `searched`, its
    /// leave-one-out target (residual of the full fitted model plus the stem's own fitted
    /// contribution) and its mono sum into `loo.spans`.
    ///
    /// The span (seconds, every file) is read and reduced piece by piece, so that the decoded
    /// audio is used while it is in cache: read whole, 13 stereo files of planar f64 were
    /// ~65 MB per window, written once and read back from memory. Every sample still gets the
    /// same operations in the same order.
    fn read_targets(
        &mut self,
        start: i64,
        len: usize,
        searched: &[usize],
        offsets: &[i64],
        coefs: &[f64],
        loo: &mut LooScratch,
    ) -> Result<()> {
        let model = self.model;
        let (k, cm) = (self.stems.len(), model.mix_channels);
        loo.resid.resize(LOO_PIECE, 0.0);
        loo.own.resize(LOO_PIECE, 0.0);
        loo.spans
            .resize_with(searched.len(), || (0, vec![0.0; len], vec![0.0; len]));
        for lo in (0..len).step_by(LOO_PIECE) {
            let n = (len - lo).min(LOO_PIECE);
            self.load(start + lo as i64, n, offsets)?;
            // Mono residual of the full fitted model.
            let r = &mut loo.resid[..n];
            r.fill(0.0);
            for c in 0..cm {
                for (r, &m) in r.iter_mut().zip(&self.mix_planar[c]) {
                    *r += m;
                }
                for i in 0..k {
                    let g = coefs[i * cm + c];
                    if g != 0.0 {
                        let s = &self.stems_planar[i][model.route(i, c)];
                        for (r, &s) in r.iter_mut().zip(s) {
                            *r -= g * s;
                        }
                    }
                }
            }
            for (&i, (slot, target, x)) in searched.iter().zip(&mut loo.spans) {
                *slot = i;
                // The target (residual plus this stem's own fitted contribution) and the
                // stem's mono sum; each orientation takes its parts of the span. The sums
                // run in channel order, as a sum over each sample's channels adds them.
                let own = &mut loo.own[..n];
                for c in 0..cm {
                    let g = coefs[i * cm + c];
                    let s = &self.stems_planar[i][model.route(i, c)];
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
                let (first, rest) = self.stems_planar[i]
                    .split_first()
                    .expect("a stem has a channel");
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
        Ok(())
    }
}

/// Buffers of one leave-one-out search.
#[derive(Debug, Default)]
struct LooScratch {
    resid: Vec<f64>,
    own: Vec<f64>,
    /// Per searched stem of the current window: its index, its target and its mono sum over
    /// the whole span (window plus the search range each side).
    spans: Vec<(usize, Vec<f32>, Vec<f32>)>,
}

/// Cross spectra and energies of the leave-one-out correlations, per orientation and stem.
struct LooAccumulator<'o> {
    orientations: &'o [bool],
    acc: Vec<Vec<Option<Spectrum>>>,
    energies: Vec<Vec<Energies>>,
    /// Spectra of the current target and stem.
    target_spectrum: Spectrum,
    stem_spectrum: Spectrum,
}

impl<'o> LooAccumulator<'o> {
    fn new(stems: usize, orientations: &'o [bool], corr: &Correlator) -> Self {
        let no = orientations.len();
        Self {
            orientations,
            acc: vec![vec![None; stems]; no],
            energies: vec![vec![Energies::default(); stems]; no],
            target_spectrum: corr.new_spectrum(),
            stem_spectrum: corr.new_spectrum(),
        }
    }

    /// Adds one window's targets and stems (see [`LooScratch::spans`]).
    fn add(&mut self, corr: &mut Correlator, spans: &[(usize, Vec<f32>, Vec<f32>)]) {
        let (e, w) = (corr.range(), corr.window());
        let (ts, xs) = (&mut self.target_spectrum, &mut self.stem_spectrum);
        for (i, target, x) in spans {
            let i = *i;
            for (o, &slide_stem) in self.orientations.iter().enumerate() {
                // With `slide_stem` the target stays fixed over the window and the stem
                // slides over +/-e around its offset: with the target fixed, the best
                // normalised correlation is the best least-squares fit (sliding the
                // target instead would favour lags where it happens to be quiet).
                let (tv, xv) = if slide_stem {
                    (&target[e..e + w], &x[..])
                } else {
                    (&target[..], &x[e..e + w])
                };
                corr.forward(xv, xs);
                corr.forward(tv, ts);
                let a = self.acc[o][i].get_or_insert_with(|| corr.new_spectrum());
                if slide_stem {
                    Correlator::accumulate(a, xs, ts);
                    corr.add_energies(xv, tv, &mut self.energies[o][i]);
                } else {
                    Correlator::accumulate(a, ts, xs);
                    corr.add_energies(tv, xv, &mut self.energies[o][i]);
                }
            }
        }
    }

    /// Each stem's correction per orientation. The correlator reports where the window
    /// (target) sits in the reference (stem); the stem's own correction is the opposite.
    fn peaks(&self, corr: &mut Correlator) -> Vec<Vec<Option<LagEstimate>>> {
        self.orientations
            .iter()
            .zip(self.acc.iter().zip(&self.energies))
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
                                fraction_samples: if slide_stem {
                                    -p.fraction_samples
                                } else {
                                    p.fraction_samples
                                },
                                ..p
                            })
                    })
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::synth;
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
        let mut win = WindowIo::new(&model, mix.as_mut(), &mut stems, 4_000);
        win.set_windows(vec![1_000u64, 20_000, 33_000], Vec::new());
        let offsets = vec![0i64, 12, -7, 0];
        let span = 500..40_000u64;
        let first = win.gram(&offsets, &span).expect("gram");
        let after_first = read.load(Ordering::Relaxed);
        assert!(after_first > 0);
        // The same request again is answered without reading, with the same statistics.
        let again = win.gram(&offsets, &span).expect("gram");
        assert_eq!(read.load(Ordering::Relaxed), after_first);
        assert_eq!(again, first);
        assert_eq!(again, win.read_gram(&offsets, &span).expect("gram"));
        // Any other offsets, span or windows are read afresh.
        let before = read.load(Ordering::Relaxed);
        let moved = vec![0i64, 13, -7, 0];
        let other = win.gram(&moved, &span).expect("gram");
        assert!(read.load(Ordering::Relaxed) > before);
        assert_ne!(other, first);
        let before = read.load(Ordering::Relaxed);
        let narrower = win.gram(&offsets, &(2_000..40_000)).expect("gram");
        assert!(read.load(Ordering::Relaxed) > before);
        assert_ne!(narrower, first);
        let before = read.load(Ordering::Relaxed);
        win.set_windows(vec![1_000u64, 20_000], Vec::new());
        let fewer = win.gram(&offsets, &span).expect("gram");
        assert!(read.load(Ordering::Relaxed) > before);
        assert_ne!(fewer, first);
        // The cache stays bounded.
        for d in 0..2 * GRAM_CACHE as i64 {
            let o = vec![0i64, d, 0, 0];
            win.gram(&o, &span).expect("gram");
        }
        assert!(win.grams.len() <= GRAM_CACHE);
    }
}
