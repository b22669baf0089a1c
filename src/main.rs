//! The `lossy` command line: a thin layer over the library. Parses
//! arguments (clap), calls the library, prints results, and maps errors to
//! exit codes: 0 success, 2 invalid study / input / usage, 1 failure while
//! running.

mod cli;

fn main() -> std::process::ExitCode {
    keep_freed_memory();
    cli::main()
}

/// Tensor ops allocate and free a fresh output buffer each (megabytes per
/// layer). glibc hands blocks over 128 KiB straight back to the kernel, so
/// every op paid page faults, zeroing and TLB flushes on both cores for new
/// pages. Raising the mmap and trim thresholds lets freed buffers be reused.
/// The peak resident memory stays that of the largest live set.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator thresholds; it is called before
    // any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}
