//! Keeping a long-running service's memory near what it uses.
//!
//! glibc's allocator raises its mmap threshold to the size of the largest
//! block freed so far: after one Argon2id hash (19 MiB) or one big import
//! buffer, such blocks come from the heap arenas and stay there when freed,
//! one arena per thread that touched them. A burst of sign-ins and an import
//! left `pd serve all` at 470 MB. Fixing the threshold sends big blocks
//! to mmap (returned to the system on free), and two arenas bound the
//! per-thread copies.

/// Call once at process start, before threads exist. `PD_MALLOC_DEFAULTS=1`
/// keeps glibc's defaults (to measure the difference).
pub fn tune_allocator() {
    if std::env::var_os("PD_MALLOC_DEFAULTS").is_some() {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; called before
        // any other thread runs, as glibc recommends.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 4 * 1024 * 1024);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 8 * 1024 * 1024);
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
