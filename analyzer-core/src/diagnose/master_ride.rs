//! Master fader automation the stem export did not print: a fade-out (or a ride) on the master
//! bus, the stems exported without it.
//!
//! The time-varying gain model explains such a mix as well as it explains a bus compressor,
//! and the dynamics characterisation then reads "compression, 0 dB typical, up to 26 dB". What
//! tells them apart is *where* the gain moves: a compressor or limiter moves it all through the
//! song (or in many short dips on the peaks), automation holds it for most of the song and
//! moves it in one or two long stretches (a fade-out, a fade-in, a section ridden down).
//!
//! The mix/sum gain is measured on 100 ms groups of the collector's 10 ms frames (regression
//! gains, unbiased by content in the mix that the sum lacks).

use super::stats::{FRAME_S, FrameStat, db};

/// Frames per group (100 ms).
const GROUP_FRAMES: usize = 10;
/// A group's gain departs from the song's when it is this far (dB) from the median.
const DEPART_DB: f64 = 1.0;
/// Departed groups this close (groups) belong to one stretch.
const MERGE_GROUPS: usize = 5;
/// A stretch of automation lasts at least this long (groups: 1 s).
const MIN_STRETCH_GROUPS: usize = 10;
/// At most this many stretches (a fade-in and a fade-out, or one section ridden).
const MAX_STRETCHES: usize = 2;
/// The gain holds (within [`DEPART_DB`]) for at least this share of the audible groups.
const MIN_FLAT_SHARE: f64 = 0.6;
/// Departed groups outside the stretches (a compressor's or limiter's dips) stay under this
/// share of the audible groups.
const MAX_SCATTERED_SHARE: f64 = 0.05;
/// The automation moves the level at least this far (dB) somewhere.
const MIN_DEPTH_DB: f64 = 3.0;

/// Groups `[start, end)` where the gain departs.
type Run = (usize, usize);

/// One stretch of master automation: start and end (seconds into the judged frames) and the
/// farthest the mix's gain against the stems' sum goes there (dB, against the rest of the song).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stretch {
    pub start_s: f64,
    pub end_s: f64,
    pub depth_db: f64,
}

/// The stretches of master automation in `frames` (the judged frames, 10 ms each, starting at
/// `start_s` into the mix), when the mix/sum gain holds everywhere else; `None` otherwise.
pub(super) fn stretches(frames: &[FrameStat], start_s: f64) -> Option<Vec<Stretch>> {
    let groups: Vec<(f64, f64)> = frames
        .chunks(GROUP_FRAMES)
        .map(|g| {
            g.iter().fold((0.0, 0.0), |(ms, ss), f| {
                (ms + f64::from(f.ems), ss + f64::from(f.es))
            })
        })
        .collect();
    let loudest = groups.iter().map(|g| g.1).fold(0.0, f64::max);
    if loudest <= 0.0 {
        return None;
    }
    // Groups where the sum sounds (within 50 dB of its loudest): a gain is measured there.
    let gains: Vec<Option<f64>> = groups
        .iter()
        .map(|&(ms, ss)| (ss > loudest * 1e-5).then(|| db((ms / ss).max(1e-6).powi(2))))
        .collect();
    let mut measured: Vec<f64> = gains.iter().flatten().copied().collect();
    if measured.len() < 4 * MIN_STRETCH_GROUPS {
        return None;
    }
    measured.sort_by(f64::total_cmp);
    let typical = measured[measured.len() / 2];
    let departed: Vec<bool> = gains
        .iter()
        .map(|g| g.is_some_and(|g| (g - typical).abs() > DEPART_DB))
        .collect();
    let audible = measured.len() as f64;
    let n_departed = departed.iter().filter(|&&d| d).count();
    if (audible - n_departed as f64) < MIN_FLAT_SHARE * audible {
        return None;
    }
    // Runs of departed groups, merged over short gaps (a quiet group or two inside a fade).
    let mut runs: Vec<Run> = Vec::new();
    for k in (0..departed.len()).filter(|&k| departed[k]) {
        match runs.last_mut() {
            Some(r) if k <= r.1 + MERGE_GROUPS => r.1 = k + 1,
            _ => runs.push((k, k + 1)),
        }
    }
    let (long, short): (Vec<Run>, Vec<Run>) = runs
        .into_iter()
        .partition(|r| r.1 - r.0 >= MIN_STRETCH_GROUPS);
    let scattered: usize = short
        .iter()
        .map(|r| departed[r.0..r.1].iter().filter(|&&d| d).count())
        .sum();
    if long.is_empty()
        || long.len() > MAX_STRETCHES
        || scattered as f64 > MAX_SCATTERED_SHARE * audible
    {
        return None;
    }
    let group_s = GROUP_FRAMES as f64 * FRAME_S;
    let end_s = start_s + frames.len() as f64 * FRAME_S;
    let out: Vec<Stretch> = long
        .iter()
        .map(|&(a, b)| {
            let depth_db = gains[a..b]
                .iter()
                .flatten()
                .map(|g| g - typical)
                .fold(0.0f64, |d, x| if x.abs() > d.abs() { x } else { d });
            Stretch {
                start_s: start_s + a as f64 * group_s,
                end_s: (start_s + b as f64 * group_s).min(end_s),
                depth_db,
            }
        })
        .collect();
    out.iter()
        .any(|s| s.depth_db.abs() >= MIN_DEPTH_DB)
        .then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 10 ms frames of a steady sum, the mix at `gain_db(t)` against it.
    fn frames(seconds: f64, gain_db: impl Fn(f64) -> f64) -> Vec<FrameStat> {
        let n = (seconds / FRAME_S) as usize;
        (0..n)
            .map(|k| {
                let t = k as f64 * FRAME_S;
                let g = 10f64.powf(gain_db(t) / 20.0) as f32;
                // A level that moves with the music (every 0.5 s), the gain on top.
                let es = if (k / 50) % 2 == 0 { 1.0 } else { 0.3 };
                FrameStat {
                    em: g * g * es,
                    es,
                    ems: g * es,
                    ..FrameStat::default()
                }
            })
            .collect()
    }

    #[test]
    fn a_fade_out_is_one_stretch_at_the_end() {
        let f = frames(30.0, |t| if t < 24.0 { 0.0 } else { -(t - 24.0) * 5.0 });
        let s = stretches(&f, 0.0).expect("a fade");
        assert_eq!(s.len(), 1, "{s:?}");
        assert!(
            (s[0].start_s - 24.2).abs() < 0.3 && s[0].end_s > 29.8,
            "{s:?}"
        );
        assert!(s[0].depth_db < -25.0, "{s:?}");
    }

    #[test]
    fn a_compressor_or_a_limiter_is_no_automation() {
        // Gain that follows the level all through the song.
        let f = frames(30.0, |t| {
            if ((t / 0.5) as usize).is_multiple_of(2) {
                -4.0
            } else {
                0.0
            }
        });
        assert_eq!(stretches(&f, 0.0), None);
        // Short dips on the peaks, many of them.
        let f = frames(30.0, |t| if (t % 1.0) < 0.15 { -3.0 } else { 0.0 });
        assert_eq!(stretches(&f, 0.0), None);
        // A steady gain is the reconciliation's.
        let f = frames(30.0, |_| -2.0);
        assert_eq!(stretches(&f, 0.0), None);
    }
}
