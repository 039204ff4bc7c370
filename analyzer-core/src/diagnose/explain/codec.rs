//! A mix or stems delivered through a lossy codec ([`LossyCodec`]): an MP3 or AAC of the mix,
//! decoded back to WAV, is a common reference in a stem delivery, and stems passed around as
//! MP3s come back as WAVs too. The residual is then the codec's coding noise, which the
//! added-content models read as a chorus or a short reverb (an error naming a cause that is
//! not there). Which side was coded cannot be told from the residual (see [`LossyCodec`]).
//!
//! Coding noise has a shape no missing part or effect return has, all of it measured on the
//! fitted residual's third-octave bands per passage (the diagnosis's segments). On MP3, AAC,
//! Vorbis and Opus at 128-320 kbit/s over the corpus songs (the mix coded, or every stem):
//!
//! - it is in **every band** the mix has energy in (quantisation everywhere: no band more than
//!   20 dB under the lows' share), at a share of the mix that **rises towards the highs** (the
//!   codec spends its bits where the ear is most sensitive and leaves the highs coarse): 7-31 dB
//!   more of the mix at 8-16 kHz than at 100-500 Hz, and within 25 dB of the mix's own level
//!   there (a soft clipper's distortion products rise too, but stay 35-41 dB under it);
//! - its share of the mix **holds from passage to passage** (the noise follows the music:
//!   1.1-8.1 dB standard deviation) where a missing part's comes and goes with the part;
//! - it follows the music's envelope **instantly** (no tail: an energy time constant of 20 ms
//!   or less on the 30 s songs, and where a longer one fits a short excerpt, it predicts the
//!   envelope no better than the sum's present does) and its channels correlate at most 0.61
//!   (joint-stereo coding puts some of it in the mid channel).
//!
//! Every condition must hold. None of the corpus's other cases (reverb and chorus returns,
//! dropped stems, bus processing, 16-bit exports) meets them all, nor do a soft clipper, an
//! exciter, a chorus, a widener, a phaser, a slapback echo or hiss on the mix bus.

use super::judge::Context;
use crate::cause::LossyCodec;
use crate::diagnose::stats::db;

/// The coding noise is at least this far under the mix (dB): MP3 at 96 kbit/s leaves -19 to
/// -23 dB on the corpus songs. (At 64 kbit/s, with the encoder's low-pass far down, one of
/// two songs does not reach this test: a whole-mix model takes the residual first.)
const MAX_RESIDUAL_DB: f64 = -15.0;
/// The coding noise is louder than this (dB re mix): a 16-bit delivery's quantisation noise,
/// white and so also rising towards the highs against the music, is 55-65 dB under the mix on
/// the corpus, codecs at 128-320 kbit/s 20-45 dB.
const MIN_RESIDUAL_DB: f64 = -50.0;
/// Its share of the mix in the lows (100-500 Hz) is at most this (dB): codecs code the lows
/// finely (-19 to -52 dB on the corpus).
const MAX_LOW_DB: f64 = -18.0;
/// Its share in the highs (8-16 kHz) exceeds the lows' by at least this (dB).
const MIN_RISE_DB: f64 = 7.0;
/// Its share in the highs (8-16 kHz) is at least this (dB): codecs code the highs coarsely
/// whatever the bit rate (-3 to -19 dB on the corpus, MP3 at 320 kbit/s included), where a
/// soft clipper's or saturator's distortion products, also rising towards the highs and
/// following the music, stay 35-41 dB under the mix there.
const MIN_HIGH_DB: f64 = -25.0;
/// No band's share is more than this under the lows' (dB): noise in every band.
const MAX_HOLE_DB: f64 = 20.0;
/// Its share of the mix varies from passage to passage by at most this (standard deviation,
/// dB).
const MAX_SPREAD_DB: f64 = 10.0;
/// Passages within this much (dB) of the loudest are judged for the spread: the quiet ones
/// hold little but dither and the codec's noise floor.
const PASSAGE_RANGE_DB: f64 = 30.0;
/// Its envelope has no tail: a decay time constant over this (s) counts as one only when it
/// predicts the envelope better than the sum's present or future does by [`MIN_TRAIL_GAIN`]
/// (a 12 s excerpt's envelope fit can land on 70 ms for coding noise without predicting
/// anything better).
const MAX_TAU_S: f64 = 0.03;
/// See [`MAX_TAU_S`] (correlation of log envelopes).
const MIN_TRAIL_GAIN: f64 = 0.05;
/// The correlation of its channels lies within +/- this: joint-stereo coding puts much of the
/// noise in the mid channel (up to 0.61 on the corpus), a panned part that no stem carries is
/// near 1.
const MAX_INTERCHANNEL: f64 = 0.8;
/// Bands under this much (dB) of the mix's total power are not judged (nothing to code).
const BAND_FLOOR_DB: f64 = -60.0;

/// The lossy-codec cause for the fitted residual of `cx`, when every sign of coding noise
/// holds; `replaced` is left for the caller.
pub(super) fn cause(cx: &Context<'_>) -> Option<LossyCodec> {
    let r = cx.residual;
    // A tail: the envelope is predicted by the sum's past better than by its present or its
    // future (the FX-return model's test, `added::cause`).
    let trails = r.tau_s > MAX_TAU_S
        && r.trail_correlation - r.instant_correlation.max(r.backwards_correlation)
            >= MIN_TRAIL_GAIN;
    crate::reconcile::dbg_align(|| {
        format!(
            "codec? residual {:.1} tau {:.3} trail {:.2} instant {:.2} backwards {:.2} ic {:?}",
            r.level_db,
            r.tau_s,
            r.trail_correlation,
            r.instant_correlation,
            r.backwards_correlation,
            r.interchannel_correlation
        )
    });
    if !(MIN_RESIDUAL_DB..=MAX_RESIDUAL_DB).contains(&r.level_db) || trails {
        return None;
    }
    if r.interchannel_correlation
        .is_some_and(|c| c.abs() > MAX_INTERCHANNEL)
    {
        return None;
    }
    let band_hz = cx.stream.band_hz;
    let (mut mix, mut res) = (vec![0.0f64; band_hz.len()], vec![0.0f64; band_hz.len()]);
    for s in cx.segments {
        for b in 0..band_hz.len() {
            mix[b] += s.smm_ch[b];
            res[b] += s.srr_ch[b];
        }
    }
    let total: f64 = mix.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let noise_to_mix_db: Vec<(f64, f64)> = band_hz
        .iter()
        .zip(mix.iter().zip(&res))
        .filter(|&(_, (&m, _))| db(m / total) >= BAND_FLOOR_DB)
        .map(|(&hz, (&m, &e))| (hz, db(e / m)))
        .collect();
    let mean_over = |lo_hz: f64, hi_hz: f64| {
        let v: Vec<f64> = noise_to_mix_db
            .iter()
            .filter(|(hz, _)| (lo_hz..=hi_hz).contains(hz))
            .map(|&(_, d)| d)
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let low_db = mean_over(100.0, 500.0)?;
    let high_db = mean_over(8000.0, 16000.0)?;
    let deepest_db = noise_to_mix_db
        .iter()
        .map(|&(_, d)| d)
        .fold(f64::INFINITY, f64::min);
    let spread_db = passage_spread_db(cx)?;
    let (mut mix_highs, mut sum_highs) = (0.0f64, 0.0f64);
    for s in cx.segments {
        for (b, hz) in band_hz.iter().enumerate() {
            if (8000.0..=16000.0).contains(hz) {
                mix_highs += s.smm[b];
                sum_highs += s.sss[b];
            }
        }
    }
    crate::reconcile::dbg_align(|| {
        format!(
            "codec: residual {:.1} low {low_db:.1} high {high_db:.1} deepest {deepest_db:.1} spread {spread_db:.1} tau {:.3} ic {:?}",
            r.level_db, r.tau_s, r.interchannel_correlation
        )
    });
    let codec = low_db <= MAX_LOW_DB
        && high_db >= MIN_HIGH_DB
        && high_db - low_db >= MIN_RISE_DB
        && deepest_db >= low_db - MAX_HOLE_DB
        && spread_db <= MAX_SPREAD_DB;
    codec.then(|| LossyCodec {
        mix: String::new(),
        residual_db: r.level_db,
        noise_to_mix_db,
        low_db,
        high_db,
        spread_db,
        highs_mix_minus_sum_db: db(mix_highs) - db(sum_highs),
        replaced: None,
    })
}

/// Standard deviation (dB) of the residual's share of the mix over the passages within
/// [`PASSAGE_RANGE_DB`] of the loudest; `None` with fewer than four.
fn passage_spread_db(cx: &Context<'_>) -> Option<f64> {
    let energies: Vec<(f64, f64)> = cx
        .segments
        .iter()
        .map(|s| (s.smm_ch.iter().sum::<f64>(), s.srr_ch.iter().sum::<f64>()))
        .collect();
    let loudest = energies.iter().map(|&(m, _)| m).fold(0.0f64, f64::max);
    if loudest <= 0.0 {
        return None;
    }
    let shares: Vec<f64> = energies
        .iter()
        .filter(|&&(m, _)| db(m / loudest) >= -PASSAGE_RANGE_DB)
        .map(|&(m, e)| db(e / m))
        .collect();
    if shares.len() < 4 {
        return None;
    }
    let n = shares.len() as f64;
    let mean = shares.iter().sum::<f64>() / n;
    Some((shares.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt())
}
