//! Reconciling the stems against the mix and diagnosing the residual, in one streaming pass,
//! over files the check has already opened; and what the report takes from the result (per-stem
//! fits, the level timeline).

use std::path::{Path, PathBuf};

use super::split_stereo::SplitPair;
use crate::diagnose::{self, Diagnoser, Diagnosis};
use crate::error::{Error, Result, SourceProblem};
use crate::meter::Loudness;
use crate::profile::Profile;
use crate::reconcile::{
    self, BlockVisitor, ReconcileOptions, ReconcileResult, ResidualKind, ResidualPlan,
};
use crate::report::{LevelTimeline, LoudnessTimeline};
use crate::resample::{ResampledSource, supported_rate};
use crate::source::{FrameSource, SplitStereoSource, WavSource};
use crate::units::finite;
use crate::units::power_to_db;
use crate::wav::WavFile;

/// Reconciles stem files against a mix file and diagnoses the residual in the same streaming
/// pass: [`crate::reconcile::reconcile`] with the diagnosis added to its findings.
///
/// A convenience for tests and tools that hold paths; the check itself opens every file once
/// and calls [`reconcile_and_diagnose_files`].
///
/// # Errors
/// As [`crate::reconcile::reconcile`].
pub fn reconcile_and_diagnose(
    mix: &Path,
    stems: &[&Path],
    profile: &Profile,
    progress: &dyn Fn(u64),
) -> Result<ReconcileResult> {
    reconcile_and_diagnose_with(mix, stems, profile, progress).map(|(r, _)| r)
}

/// [`reconcile_and_diagnose`], also returning the diagnosis's numbers (model scores and
/// residual features) for tools that tabulate them.
///
/// # Errors
/// As [`crate::reconcile::reconcile`].
pub fn reconcile_and_diagnose_with(
    mix: &Path,
    stems: &[&Path],
    profile: &Profile,
    progress: &dyn Fn(u64),
) -> Result<(ReconcileResult, Diagnosis)> {
    let mix = WavFile::open(mix)?;
    let stems: Vec<Option<WavFile>> = stems.iter().map(|p| WavFile::open(p).ok()).collect();
    reconcile_and_diagnose_files(&mix, &stems, &[], profile, progress)
}

/// Reconciles opened stem files against an opened mix and diagnoses the residual in the same
/// streaming pass. Every reader (also those of the pass's worker threads) reads the files
/// given; none is opened again.
///
/// A stem at another sample rate than the mix is read resampled to the mix's rate
/// ([`ResampledSource`]); a stem given as `None` (it could not be opened) gets no fit. The two
/// files of each of `pairs` (indices into `stems`) are one stereo stem: read interleaved, one
/// fit, which both files get (the right file's placement is the pair's, kept with the left).
/// `progress` receives the mix frames streamed so far.
///
/// # Errors
/// When a file fails while it is being read; [`Error::InvalidSource`] when the mix's rate is
/// one no delivery holds (the spectrum and stream buffers are sized by it).
pub fn reconcile_and_diagnose_files(
    mix: &WavFile,
    stems: &[Option<WavFile>],
    pairs: &[SplitPair],
    profile: &Profile,
    progress: &dyn Fn(u64),
) -> Result<(ReconcileResult, Diagnosis)> {
    let mix_src = WavSource::from_file(mix);
    if !supported_rate(mix_src.sample_rate()) {
        return Err(Error::InvalidSource {
            name: mix_src.name().to_owned(),
            problem: SourceProblem::UnsupportedRate {
                rate_hz: mix_src.sample_rate(),
            },
        });
    }
    let mut diagnoser = Diagnoser::new(mix_src.channels(), mix_src.sample_rate());
    let mut opened: Vec<Box<dyn FrameSource>> = Vec::new();
    let mut index = Vec::new();
    for (i, src) in stem_sources(stems, pairs, mix_src.sample_rate())
        .into_iter()
        .enumerate()
    {
        if let Some(src) = src {
            opened.push(src);
            index.push(i);
        }
    }
    let mut visitor =
        ResidualLoudness::new(&mut diagnoser, mix.info().channels, mix.info().sample_rate);
    let mut r = reconcile::reconcile_sources(
        Box::new(mix_src),
        opened,
        profile,
        &ReconcileOptions::default(),
        Some(&mut visitor),
        progress,
    )?;
    r.reconciliation.residual_short_term_loudness = Some(visitor.timeline());
    let mut fits = vec![None; stems.len()];
    let mut placements = vec![None; stems.len()];
    for (j, fit) in r.stems.iter().enumerate() {
        fits[index[j]] = fit.clone();
        placements[index[j]] = r.residual_plan.stems.get(j).cloned().flatten();
    }
    for p in pairs {
        fits[p.right] = fits[p.left].clone();
    }
    r.stems = fits;
    r.residual_plan.stems = placements;
    let d = diagnose::diagnose(&diagnoser, &mut r, profile);
    r.reconciliation.spectrum = Some(diagnoser.band_spectrum());
    Ok((r, d))
}

/// What it takes to render a check's residual as audio ([`reconcile::render_residual`]): the
/// files it reconciled and how each entered its two null depths.
#[derive(Debug, Clone)]
pub struct Residuals {
    pub(super) mix: PathBuf,
    pub(super) stems: Vec<PathBuf>,
    /// Stems delivered as two mono files (indices into `stems`), read as one.
    pub(super) pairs: Vec<SplitPair>,
    pub(super) plan: ResidualPlan,
}

impl Residuals {
    /// Channels and sample rate of the residual (the mix's).
    ///
    /// # Errors
    /// When the mix can no longer be opened.
    pub fn format(&self) -> Result<(usize, u32)> {
        let info = WavFile::open(&self.mix)?;
        let src = WavSource::from_file(&info);
        Ok((src.channels(), src.sample_rate()))
    }

    /// Whether `path` is one of the files the residual is read from (an existing file that is
    /// the mix or a stem), so that a residual is never written over one.
    pub fn reads(&self, path: &Path) -> bool {
        let Ok(target) = path.canonicalize() else {
            return false;
        };
        std::iter::once(&self.mix)
            .chain(&self.stems)
            .any(|p| p.canonicalize().is_ok_and(|c| c == target))
    }

    /// Streams the residual of `kind` over the whole mix to `out` (interleaved, the mix's
    /// channels and rate), reading the files again the way the reconciliation read them (a
    /// stem at another rate resampled to the mix's).
    ///
    /// # Errors
    /// When a file can no longer be read, or `out` fails.
    pub fn render(
        &self,
        kind: ResidualKind,
        out: &mut dyn FnMut(&[f32]) -> Result<()>,
    ) -> Result<()> {
        let mix = WavSource::from_file(&WavFile::open(&self.mix)?);
        let rate = mix.sample_rate();
        let files: Vec<Option<WavFile>> =
            self.stems.iter().map(|p| WavFile::open(p).ok()).collect();
        let stems = stem_sources(&files, &self.pairs, rate);
        reconcile::render_residual(Box::new(mix), stems, &self.plan, kind, out)
    }
}

/// Forwards every aligned block to the diagnoser and meters the residual (mix minus the stem
/// sum with every stem at its measured offset, unity gains) with an EBU R128 loudness meter, reading its short-term loudness
/// at every whole second of the mix: the residual's loudness over time, in the same pass.
struct ResidualLoudness<'a> {
    inner: &'a mut Diagnoser,
    meter: Loudness,
    channels: usize,
    step_frames: usize,
    pos: usize,
    lufs: Vec<Option<f64>>,
    residual: Vec<f32>,
}

impl<'a> ResidualLoudness<'a> {
    fn new(inner: &'a mut Diagnoser, channels: u16, sample_rate: u32) -> Self {
        let channels = usize::from(channels).max(1);
        Self {
            inner,
            meter: Loudness::new(channels, sample_rate),
            channels,
            step_frames: (sample_rate as usize).max(1),
            pos: 0,
            lufs: Vec::new(),
            residual: Vec::new(),
        }
    }

    fn timeline(&self) -> LoudnessTimeline {
        let per_s: Vec<Option<f64>> = self
            .lufs
            .iter()
            .map(|l| l.map(|x| (x * 100.0).round() / 100.0))
            .collect();
        LoudnessTimeline::from_per_second(&per_s)
    }
}

impl BlockVisitor for ResidualLoudness<'_> {
    /// Blocks come in order and back to back (the trait's contract), so cutting at every
    /// `step_frames` of them is cutting at every second of the mix.
    fn block(&mut self, frame: u64, mix: &[f32], sum: &[f32], fitted: &[f32]) {
        self.inner.block(frame, mix, sum, fitted);
        let ch = self.channels;
        self.residual.clear();
        self.residual
            .extend(mix.iter().zip(sum).map(|(m, s)| m - s));
        let mut rest = &self.residual[..self.residual.len() / ch * ch];
        while !rest.is_empty() {
            let n = (self.step_frames - self.pos).min(rest.len() / ch);
            let (run, tail) = rest.split_at(n * ch);
            self.meter.process(run);
            self.pos += n;
            if self.pos == self.step_frames {
                self.lufs.push(finite(self.meter.short_term_lufs()));
                self.pos = 0;
            }
            rest = tail;
        }
    }
}

/// Every stem as the reconciliation reads it ([`stem_source`]), the two files of a pair as one
/// stereo source in the left file's place (the right file's place is `None`: it has no source
/// of its own).
fn stem_sources(
    stems: &[Option<WavFile>],
    pairs: &[SplitPair],
    mix_rate: u32,
) -> Vec<Option<Box<dyn FrameSource>>> {
    let mut out: Vec<Option<Box<dyn FrameSource>>> = stems
        .iter()
        .map(|f| f.as_ref().and_then(|f| stem_source(f, mix_rate)))
        .collect();
    for p in pairs {
        let (left, right) = (out[p.left].take(), out[p.right].take());
        out[p.left] = left.zip(right).and_then(|(l, r)| {
            SplitStereoSource::new(p.name.clone(), l, r)
                .ok()
                .map(|s| Box::new(s) as Box<dyn FrameSource>)
        });
    }
    out
}

/// A stem file as the reconciliation reads it: as it is at the mix's rate, resampled to it
/// otherwise (for the reconciliation only: the delivery checks still report the other rate).
/// `None` when no resampler can be built for it (a header with no channels or no rate).
fn stem_source(file: &WavFile, mix_rate: u32) -> Option<Box<dyn FrameSource>> {
    let src = WavSource::from_file(file);
    if src.sample_rate() == mix_rate {
        return Some(Box::new(src));
    }
    ResampledSource::new(Box::new(src), mix_rate)
        .ok()
        .map(|r| Box::new(r) as Box<dyn FrameSource>)
}

/// The mix and the stems to reconcile against it (every readable one: a stem at another rate
/// is resampled), given each file's sample rate when it is readable; `None` when there is
/// nothing to reconcile.
pub(super) fn reconcile_plan(
    files: usize,
    mix_index: Option<usize>,
    rate_of: impl Fn(usize) -> Option<u32>,
) -> Option<(usize, Vec<usize>)> {
    let mi = mix_index?;
    rate_of(mi)?;
    let stems: Vec<usize> = (0..files)
        .filter(|&i| i != mi && rate_of(i).is_some())
        .collect();
    (!stems.is_empty()).then_some((mi, stems))
}

/// Mix and residual level per second from the reconciliation's ~10 ms block energies.
pub(super) fn level_timeline(
    blocks: &crate::reconcile::BlockStats,
    sample_rate: u32,
    channels: usize,
) -> LevelTimeline {
    let per_second = (sample_rate as usize / blocks.block_frames.max(1)).max(1);
    let s = blocks.aggregate(per_second);
    let level = |energy: f32| {
        let n = (s.block_frames * channels.max(1)) as f64;
        (energy > 0.0).then(|| power_to_db(energy as f64 / n))
    };
    LevelTimeline {
        step_s: s.block_frames as f64 / f64::from(sample_rate.max(1)),
        mix_db: s.mix.iter().map(|&e| level(e)).collect(),
        residual_db: s.residual.iter().map(|&e| level(e)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meter::FileMeter;
    use crate::synth::{self, WavFormat};

    /// A stem left out of the delivery is what the residual holds: the residual's short-term
    /// loudness over time reads that stem's, second by second.
    #[test]
    fn residual_short_term_loudness_reads_the_missing_stem() {
        let sr = 48_000;
        let dir = tempfile::tempdir().expect("temp dir");
        let stems = synth::demo_song(sr, 8.0);
        let mix = synth::mix_down(&stems, 2);
        let mix_path = dir.path().join("Mix.wav");
        synth::write_wav(&mix_path, 2, sr, WavFormat::Float32, &mix).expect("mix written");
        let missing = stems
            .iter()
            .find(|s| s.name == "Lead")
            .expect("the demo has a lead");
        let mut paths = Vec::new();
        for s in stems.iter().filter(|s| s.name != "Lead") {
            let p = dir.path().join(format!("{}.wav", s.name));
            synth::write_wav(&p, s.channels, sr, WavFormat::Float32, &s.samples)
                .expect("stem written");
            paths.push(p);
        }
        let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
        let r = reconcile_and_diagnose(&mix_path, &refs, &crate::profile::MASTERING, &|_| {})
            .expect("reconciled");
        let got = r
            .reconciliation
            .residual_short_term_loudness
            .expect("residual loudness");
        assert_eq!(got.lufs.len(), 8, "{got:?}");
        // The lead as the mix carries it: the mix-down of the lead alone.
        let lead_in_mix = synth::mix_down(std::slice::from_ref(missing), 2);
        let mut m = FileMeter::new(2, sr);
        m.process(&lead_in_mix);
        let want = m.finish().short_term_lufs_per_s;
        let mut compared = 0;
        for (i, (g, w)) in got.lufs.iter().zip(&want).enumerate() {
            match (g, w) {
                (Some(g), Some(w)) if *w > -70.0 => {
                    assert!(
                        (g - w).abs() < 0.5,
                        "second {i}: residual {g} LUFS, lead {w} LUFS"
                    );
                    compared += 1;
                }
                // Where the lead is silent, so is the residual.
                (g, _) => assert!(g.is_none_or(|g| g < -70.0), "second {i}: {g:?} {w:?}"),
            }
        }
        assert!(compared >= 3, "{got:?} {want:?}");
    }
}
