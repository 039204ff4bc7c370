//! What the streaming pass is told to do: the one type its block reader and its accumulators
//! share.

use std::ops::Range;

use crate::reconcile::gram::Model;

/// What the pass needs to know.
pub(crate) struct StreamPlan<'a> {
    pub model: &'a Model,
    /// Read offset per stem (0 for stems that are not aligned).
    pub offsets: &'a [i64],
    pub unity: &'a [f64],
    pub fitted: &'a [f64],
    /// Judged span in mix frames (may be empty).
    pub span: Range<u64>,
    pub frames: u64,
    pub block_frames: usize,
    pub stat_frames: usize,
}
