use std::process::ExitCode;

/// mimalloc rather than glibc's malloc: glibc kept ~0.5 GB in per-thread arenas after a
/// 1,000-page publish while ~12 MB was live (issue 12); mimalloc returns freed pages to the
/// system shortly after they are freed. `scripts/bench.sh` (a) prints the figures.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    edgepub::cli::main()
}
