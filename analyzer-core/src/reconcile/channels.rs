//! Channel faults of stereo stems, fitted per channel: left and right swapped, or one channel
//! polarity-inverted.
//!
//! The fit model gives a stereo stem one fader gain (its left feeds the mix's left, its right
//! the right), so a swapped wide stem fits as "a gain error plus a part missing", and one
//! inverted channel (its mono downmix is then the side signal) as a wrong lag, a gain error
//! and a missing part. After the placement, each active stereo stem of a stereo mix is tried
//! on the analysis windows in every alternative reading (swapped, left inverted, right
//! inverted; each at its placed lag, at no offset and at the set's common lag, since the
//! fault may have misled the lag search), with every active stem fitted: the joint
//! least-squares residual of the windows says which reading explains the mix. A reading is
//! adopted only when it leaves `CHANNEL_MARGIN_DB` less residual than the stem as
//! delivered. A near-mono stem (left equal to right) reads the same swapped, so a swap can
//! only win on a stem whose channels clearly differ.
//!
//! An adopted reading is applied to the stem for the rest of the reconciliation
//! ([`FixedChannels`] wraps its source), so the searches, the corrected null and the
//! diagnosis see the corrected stem and no gain, offset or missing-part side effects remain.

use super::plan::dbg_align;
use super::window_io::WindowIo;
use crate::Result;
use crate::cause::{Cause, ChannelFault, ChannelFaultKind};
use crate::source::FrameSource;
use crate::units::power_to_db;

/// The alternative reading must leave at least this much less residual on the windows (dB)
/// than the stem as delivered.
pub(super) const CHANNEL_MARGIN_DB: f64 = 6.0;

/// How a stereo stem's channels are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChannelFix {
    /// As delivered.
    #[default]
    AsIs,
    /// Left and right swapped.
    Swapped,
    /// The left channel polarity-inverted.
    LeftInverted,
    /// The right channel polarity-inverted.
    RightInverted,
}

impl ChannelFix {
    /// The alternatives to the stem as delivered.
    pub const ALTERNATIVES: [ChannelFix; 3] =
        [Self::Swapped, Self::LeftInverted, Self::RightInverted];

    /// Applies the reading to interleaved stereo frames (other channel counts are left as
    /// they are).
    pub fn apply_interleaved(self, channels: usize, buf: &mut [f32]) {
        if channels != 2 || self == Self::AsIs {
            return;
        }
        for f in buf.chunks_exact_mut(2) {
            match self {
                Self::AsIs => {}
                Self::Swapped => f.swap(0, 1),
                Self::LeftInverted => f[0] = -f[0],
                Self::RightInverted => f[1] = -f[1],
            }
        }
    }

    /// Applies the reading to planar stereo channels (other channel counts are left as they
    /// are).
    pub fn apply_planar(self, planar: &mut [Vec<f64>]) {
        if planar.len() != 2 {
            return;
        }
        match self {
            Self::AsIs => {}
            Self::Swapped => planar.swap(0, 1),
            Self::LeftInverted => planar[0].iter_mut().for_each(|x| *x = -*x),
            Self::RightInverted => planar[1].iter_mut().for_each(|x| *x = -*x),
        }
    }
}

/// A stem source read with a [`ChannelFix`]: what the streaming pass and the diagnosis read
/// for a stem whose channel fault was adopted.
pub struct FixedChannels {
    inner: Box<dyn FrameSource>,
    fix: ChannelFix,
}

impl FixedChannels {
    /// `inner` read with `fix`.
    pub fn new(inner: Box<dyn FrameSource>, fix: ChannelFix) -> Self {
        Self { inner, fix }
    }
}

impl FrameSource for FixedChannels {
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
        self.inner.read_window(start_frame, out)?;
        self.fix.apply_interleaved(self.inner.channels(), out);
        Ok(())
    }
    fn reopen(&self) -> Result<Box<dyn FrameSource>> {
        Ok(Box::new(Self::new(self.inner.reopen()?, self.fix)))
    }
}

/// A channel fault adopted for one stem, with the numbers behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelVerdict {
    /// The stem.
    pub stem: usize,
    /// The reading adopted.
    pub fix: ChannelFix,
    /// Windows' joint residual with the stem as delivered (at its placed lag), dB re mix.
    pub residual_as_is_db: f64,
    /// The same with the stem read corrected, dB re mix.
    pub residual_fixed_db: f64,
    /// The lag the corrected stem fitted best at, samples.
    pub offset_samples: i64,
}

/// The cause a verdict reports, for the stem named `file`.
pub(super) fn channel_fault(v: &ChannelVerdict, file: &str) -> Cause {
    let kind = match v.fix {
        ChannelFix::Swapped => ChannelFaultKind::Swapped,
        ChannelFix::LeftInverted => ChannelFaultKind::LeftInverted,
        // `AsIs` is never a verdict.
        ChannelFix::RightInverted | ChannelFix::AsIs => ChannelFaultKind::RightInverted,
    };
    Cause::ChannelFault(ChannelFault {
        file: file.to_owned(),
        kind,
        residual_as_is_db: v.residual_as_is_db,
        residual_fixed_db: v.residual_fixed_db,
    })
}

/// What [`test_channels`] needs besides the windows.
pub(super) struct ChannelTest<'a> {
    /// Stems fitted (and judged).
    pub active: &'a [bool],
    /// Stems that carry audio (above the silence level). A stereo stem with one channel
    /// inverted can sound and still not correlate with the mix at all (its mono downmix
    /// nearly cancels when the channels are alike), so it is tried although not active.
    pub sounding: &'a [bool],
    /// The placed lags.
    pub offsets: &'a [i64],
    /// The set's common lag (a candidate lag for a stem the fault misled).
    pub common: i64,
    /// Each stem's normalised correlation with its leave-one-out target: a stem at or above
    /// `EXPLAINED_CORRELATION` already explains its part and is not tried (a swapped or
    /// half-inverted wide stem cannot reach it).
    pub confidence: &'a [f64],
}

/// See [`ChannelTest::confidence`].
pub(super) const EXPLAINED_CORRELATION: f64 = 0.98;

/// Tests every active stereo stem of a stereo mix (see the module docs); returns the
/// readings adopted. `io` is left reading every stem as delivered.
///
/// # Errors
/// When a file cannot be read.
pub(super) fn test_channels(
    io: &mut WindowIo<'_>,
    t: &ChannelTest<'_>,
) -> Result<Vec<ChannelVerdict>> {
    let model = io.model();
    let k = t.offsets.len();
    let mut out = Vec::new();
    if model.mix_channels != 2 {
        return Ok(out);
    }
    let cm = model.mix_channels;
    // The windows' joint residual (dB re mix) and whether stem `i` fits with a positive gain.
    let residual = |io: &mut WindowIo<'_>, offsets: &[i64], i: usize| -> Result<(f64, bool)> {
        let mut fitted = t.active.to_vec();
        fitted[i] = true;
        let g = io.judged_gram(&fitted, offsets)?;
        let coefs = model.coefs(&g.solve_masked(model, &fitted));
        let e = g.energy(&coefs);
        let positive = coefs[i * cm..(i + 1) * cm].iter().sum::<f64>() > 0.0;
        Ok((
            power_to_db(e.max(1e-300) / g.mix_energy().max(1e-300)),
            positive,
        ))
    };
    let tried = |i: usize| {
        model.stem_channels[i] == 2
            && (t.active[i] && t.confidence[i] < EXPLAINED_CORRELATION
                || !t.active[i] && t.sounding[i])
    };
    for i in (0..k).filter(|&i| tried(i)) {
        let (as_is, _) = residual(io, t.offsets, i)?;
        let mut lags = vec![t.offsets[i], 0, t.common];
        lags.sort_unstable();
        lags.dedup();
        // Left inverted and right inverted fit alike (the one is the other with the whole stem
        // flipped): the reading with a positive gain is the one meant.
        let mut best: Option<(f64, ChannelFix, i64)> = None;
        for fix in ChannelFix::ALTERNATIVES {
            io.set_fix(i, fix);
            for &lag in &lags {
                let mut trial = t.offsets.to_vec();
                trial[i] = lag;
                let (e, positive) = residual(io, &trial, i)?;
                if positive && best.is_none_or(|b| e < b.0) {
                    best = Some((e, fix, lag));
                }
            }
        }
        io.set_fix(i, ChannelFix::AsIs);
        dbg_align(|| format!("channels stem {i}: as is {as_is:.1} dB, best {best:?}"));
        if let Some((e, fix, lag)) = best.filter(|b| b.0 <= as_is - CHANNEL_MARGIN_DB) {
            out.push(ChannelVerdict {
                stem: i,
                fix,
                residual_as_is_db: as_is,
                residual_fixed_db: e,
                offset_samples: lag,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;

    #[test]
    fn fixes_apply_alike_interleaved_and_planar() {
        for fix in ChannelFix::ALTERNATIVES {
            let mut inter = vec![1.0f32, 2.0, 3.0, 4.0];
            fix.apply_interleaved(2, &mut inter);
            let mut planar = vec![vec![1.0f64, 3.0], vec![2.0, 4.0]];
            fix.apply_planar(&mut planar);
            let back: Vec<f32> = (0..2)
                .flat_map(|t| [planar[0][t] as f32, planar[1][t] as f32])
                .collect();
            assert_eq!(inter, back, "{fix:?}");
        }
        let mut m = vec![1.0f32, 2.0];
        ChannelFix::Swapped.apply_interleaved(1, &mut m);
        assert_eq!(m, [1.0, 2.0], "mono is left as it is");
    }

    #[test]
    fn fixed_source_reads_swapped() {
        let src = MemorySource::new("s", 2, 48_000, vec![1.0, -1.0, 2.0, -2.0]).unwrap();
        let mut f = FixedChannels::new(Box::new(src), ChannelFix::Swapped);
        let mut out = [0.0f32; 4];
        f.read_window(0, &mut out).unwrap();
        assert_eq!(out, [-1.0, 1.0, -2.0, 2.0]);
        let mut r = f.reopen().unwrap();
        r.read_window(1, &mut out).unwrap();
        assert_eq!(out, [-2.0, 2.0, 0.0, 0.0]);
    }
}
