//! `process` of every meter must not allocate (the plugin calls it on the audio thread). A
//! counting global allocator counts allocations made by this thread while metering 10 s of
//! audio, after construction.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use analyzer_core::meter::{
    ClipDetector, DcOffset, FileMeter, Loudness, NonFiniteCounter, SamplePeak, TruePeak,
};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// const-initialised thread-local Cell, which itself never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn process_never_allocates() {
    for (rate, ch) in [
        (48_000u32, 2usize),
        (44_100, 1),
        (96_000, 2),
        (192_000, 2),
        (48_000, 6),
    ] {
        let frames = rate as usize * 10;
        let x: Vec<f32> = (0..frames * ch)
            .map(|i| {
                let v = ((i as f32) * 0.001).sin() * 0.9;
                if i % 10_007 == 0 { f32::NAN } else { v }
            })
            .collect();
        let mut sp = SamplePeak::new(ch, rate);
        let mut tp = TruePeak::new(ch, rate);
        let mut lo = Loudness::new(ch, rate);
        let mut dc = DcOffset::new(ch, rate);
        let mut cl = ClipDetector::new(ch, rate);
        let mut nf = NonFiniteCounter::new(ch, rate);
        let mut fm = FileMeter::with_expected_frames(ch, rate, frames as u64);
        let mut out = vec![0f32; ch];

        let before = allocations();
        // Plugin-sized blocks, with GUI-style reads in between.
        for block in x.chunks(512 * ch) {
            sp.process(block);
            tp.process(block);
            lo.process(block);
            dc.process(block);
            cl.process(block);
            nf.process(block);
            fm.process(block);
            sp.take_peaks(&mut out);
            tp.take_peaks(&mut out);
            let _ = lo.take_max_momentary_lufs();
            let _ = lo.momentary_lufs();
        }
        let during = allocations() - before;
        assert_eq!(
            during, 0,
            "{rate} Hz {ch} ch: {during} allocations in process"
        );

        // The counter works: readouts that build vectors do allocate.
        let _ = fm.finish();
        assert!(allocations() > before);
    }
}
