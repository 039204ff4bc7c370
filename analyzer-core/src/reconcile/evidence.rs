//! Step 4b of the reconciliation: an offset stands only on evidence that holds window by
//! window.
//!
//! The searches place every stem where the *sum* of the windows' least-squares residual is
//! smallest. When the residual has another cause (a bus EQ's phase, a reverb return, bus
//! compression, a part no stem carries), sliding a correct stem by a few samples shaves a
//! little off that residual, and the searches take the shave: a 1-7-sample "offset" whose fix
//! would damage a correct stem. A real shift is different in kind: put back at no offset, the
//! stem leaves a residual of its own (its misalignment) in *every* window where it sounds, far
//! above what the shifted fit leaves. So each shifted stem is tested against the no-offset
//! alternative on every window on its own (every active stem fitted, the window's own
//! least-squares gains): the offset stands only when it leaves clearly less residual
//! (`OFFSET_MARGIN_DB`) in most of the windows where the stem sounds (`OFFSET_MAJORITY`).
//! A stem whose offset does not stand is read at no offset: what its shift shaved off is then
//! attributed to the residual's real cause by the diagnosis.

use super::plan::dbg_align;
use super::window_io::WindowIo;
use crate::Result;
use crate::units::power_to_db;

/// The no-offset alternative must leave at least this much more residual (dB) in a window for
/// the window to count for the offset. A real shift of one sample on music at 48 kHz leaves a
/// misalignment residual tens of dB above a clean null; the shave a bus EQ's phase buys is a
/// fraction of a dB to 2-3 dB (corpus: at most 2.8 dB in a window, median 1.7 dB).
pub(super) const OFFSET_MARGIN_DB: f64 = 6.0;

/// Share of the windows (where the stem sounds) that must count for the offset.
pub(super) const OFFSET_MAJORITY: f64 = 2.0 / 3.0;

/// Residual energies under this share of the window's mix energy are read as this share: a
/// bit-exact null is not infinitely better than a -120 dB one.
const FLOOR_SHARE: f64 = 1e-12;

/// Residuals within this factor of the floor are at the floor (see `confirm_offsets`).
const NO_EVIDENCE_RATIO: f64 = 1.01;

/// The per-window test of one shifted stem.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct OffsetEvidence {
    /// The stem tested.
    pub stem: usize,
    /// Its offset (samples) as the searches placed it.
    pub offset_samples: i64,
    /// Windows where the stem sounds.
    pub windows: usize,
    /// Windows where the no-offset alternative leaves at least `OFFSET_MARGIN_DB` more
    /// residual.
    pub windows_for: usize,
    /// Median over those windows of how much more residual (dB) no offset leaves.
    pub median_margin_db: f64,
}

impl OffsetEvidence {
    /// Whether the offset stands: it wins by a clear margin in most windows. A stem sounding
    /// in no window cannot be judged and keeps its offset.
    pub fn stands(&self) -> bool {
        self.windows == 0 || self.windows_for as f64 >= OFFSET_MAJORITY * self.windows as f64
    }
}

/// Tests every active shifted stem (see the module docs) and sets the offset of every stem
/// whose offset does not stand to 0. Returns the tests.
///
/// # Errors
/// When a file cannot be read.
pub(super) fn confirm_offsets(
    io: &mut WindowIo<'_>,
    active: &[bool],
    offsets: &mut [i64],
) -> Result<Vec<OffsetEvidence>> {
    let k = offsets.len();
    let model = io.model();
    let mut out = Vec::new();
    let shifted: Vec<usize> = (0..k).filter(|&i| active[i] && offsets[i] != 0).collect();
    for i in shifted {
        let mut alt = offsets.to_vec();
        alt[i] = 0;
        let (a, b) = (
            io.judged_span(active, offsets),
            io.judged_span(active, &alt),
        );
        let span = a.start.max(b.start)..a.end.min(b.end).max(a.start.max(b.start));
        let with = io.window_grams(offsets, &span)?;
        let without = io.window_grams(&alt, &span)?;
        let present = io.present();
        let mut margins = Vec::new();
        for (w, (g1, g0)) in with.iter().zip(&without).enumerate() {
            let (Some(g1), Some(g0)) = (g1, g0) else {
                continue;
            };
            if !present[i].get(w).copied().unwrap_or(false) {
                continue;
            }
            let floor = g1.mix_energy() * FLOOR_SHARE + 1e-300;
            let e = |g: &super::gram::Gram| {
                g.energy(&model.coefs(&g.solve_masked(model, active)))
                    .max(floor)
            };
            let (e0, e1) = (e(g0), e(g1));
            // Where the placement changes nothing (both null to the floor: the fit silences a
            // misplaced stem and the stem has nothing left to add there), the window says
            // nothing for or against the offset.
            if e0 <= floor * NO_EVIDENCE_RATIO && e1 <= floor * NO_EVIDENCE_RATIO {
                continue;
            }
            margins.push(power_to_db(e0 / e1));
        }
        let windows_for = margins.iter().filter(|&&m| m >= OFFSET_MARGIN_DB).count();
        margins.sort_by(f64::total_cmp);
        let median_margin_db = margins.get(margins.len() / 2).copied().unwrap_or(0.0);
        let ev = OffsetEvidence {
            stem: i,
            offset_samples: offsets[i],
            windows: margins.len(),
            windows_for,
            median_margin_db,
        };
        dbg_align(|| format!("offset evidence {ev:?} margins {margins:.1?}"));
        if !ev.stands() {
            offsets[i] = 0;
        }
        out.push(ev);
    }
    Ok(out)
}
