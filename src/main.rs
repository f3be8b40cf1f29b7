/// mimalloc rather than glibc's allocator: glibc gives each thread that allocates its own arena
/// and keeps what is freed there, so after a burst of photo uploads (decoded on blocking threads)
/// the server's private memory stayed at 750 MiB with nothing in use. See docs/PERFORMANCE.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    outreach::app::cli::main()
}
