//! A global allocator that counts what is live and refuses to go past a
//! cap, so an input that makes a parser allocate without bound is caught
//! as a failure (its bytes saved first) instead of taking the machine down.
//! The fuzz binary and the fuzz test each install it:
//! `#[global_allocator] static ALLOC: Counting = Counting;`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// 0 for no cap.
static CAP: AtomicUsize = AtomicUsize::new(0);

/// Bytes live now.
pub fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// The most bytes live at once since the last [`reset_peak`].
pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

pub fn reset_peak() {
    PEAK.store(live(), Ordering::Relaxed);
}

/// Allocations that would take the live bytes past `bytes` fail (the
/// process then aborts, as Rust does on allocation failure), after
/// [`crate::run::save_pending`] has written the input under test.
pub fn set_cap(bytes: usize) {
    CAP.store(bytes, Ordering::Relaxed);
}

fn admit(size: usize) -> bool {
    let cap = CAP.load(Ordering::Relaxed);
    let now = LIVE.fetch_add(size, Ordering::Relaxed) + size;
    if cap != 0 && now > cap {
        LIVE.fetch_sub(size, Ordering::Relaxed);
        crate::run::save_pending("memory");
        return false;
    }
    PEAK.fetch_max(now, Ordering::Relaxed);
    true
}

// SAFETY: every method forwards to `System` with the caller's layout and
// pointer unchanged; the counters are bookkeeping only.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !admit(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract for `alloc` holds for `System`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !admit(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let grow = new_size.saturating_sub(layout.size());
        if grow > 0 && !admit(grow) {
            return std::ptr::null_mut();
        }
        // SAFETY: as for `alloc`; `ptr` came from `System` with `layout`.
        let moved = unsafe { System.realloc(ptr, layout, new_size) };
        if moved.is_null() {
            LIVE.fetch_sub(grow, Ordering::Relaxed);
        } else if new_size < layout.size() {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        moved
    }
}
