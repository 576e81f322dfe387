use std::process::ExitCode;

/// mimalloc rather than glibc's malloc for Rust's allocations: glibc kept ~0.5 GB in
/// per-thread arenas after a 1,000-page publish while ~12 MB was live; mimalloc
/// gives freed pages back. Built without transparent huge pages, which would round its
/// arenas up to 2 MB pages and add ~20 MB to the idle RSS. `scripts/bench.sh` (a) prints the
/// figures.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    purge_soon();
    cap_c_arenas();
    edgepub::cli::main()
}

/// mimalloc's `purge_delay` option (v3 numbering: the position in `mi_option_e` of the
/// bundled mimalloc 3 headers; libmimalloc-sys names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long mimalloc waits before giving freed pages back, in ms. Its default (1 s, with
/// arenas ten times longer) left ~22 MB of an idle 45 MB RSS unreturned, measured; 0 returned
/// everything but cost saves a quarter of their rate in `madvise` calls (1,860 vs 2,450
/// saves/s, measured); 10 ms keeps the saves and returns memory within the background
/// workers' next polls.
const PURGE_DELAY_MS: std::ffi::c_long = 10;

/// Sets [`PURGE_DELAY_MS`]; `MIMALLOC_PURGE_DELAY`, when set, still wins.
fn purge_soon() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: sets an option mimalloc reads when it schedules a purge; any value is valid.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
    }
}

/// SQLite (C) still allocates through glibc, from each connection's worker thread; with one
/// arena per thread, what a publish's statements allocated stayed mapped (~20 MB more a
/// minute after a 1,000-page publish, measured). Two arenas are enough for SQLite's few
/// threads. Must run before any thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn cap_c_arenas() {
    // SAFETY: mallopt only sets a glibc tunable; nothing else runs yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn cap_c_arenas() {}
