//! How the native tool asks glibc's allocator for memory.
//!
//! The encoder allocates a fresh output for every tensor op, and at batch 8 the largest ones
//! (the MLP's [8 × 421 × 6,144] f32 activations, 83 MB) are above glibc's `mmap` threshold
//! (at most 32 MB): each such buffer was mapped, zeroed page by page by the kernel on first
//! touch and unmapped again on free, thousands of times per gene. `perf` put page faults and
//! page clearing at ~8% of the samples, with the second core idling meanwhile, and
//! `texcnn bench` measured batch 8 on the full-size model 1.3× faster with freed memory kept
//! in the heap for reuse (docs/performance.md). Peak memory is unchanged; memory freed in
//! the middle of a run is kept for the next op rather than returned to the system.

/// Serves every allocation from the heap (no `mmap`) and never trims it, so freed tensor
/// buffers are reused. Call once at start-up, before large allocations; a no-op where the
/// allocator is not glibc's.
pub fn reuse_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning parameters; it is called before any
    // other thread exists and takes no pointers.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}
