//! `cargo xtask bundle stemcheck-plugin --release` builds the plugin and writes
//! `StemCheck.vst3` and `StemCheck.clap` into `<target dir>/bundled/` (names from `bundler.toml`).
//!
//! `cargo xtask bench [--long] [--no-ffmpeg] [--runs N] [--dir DIR]` generates a 12-stem + mix
//! delivery and compares `stemcheck check` with `cat` of the same files (the page-cache floor)
//! and with an ffmpeg pipeline, and our meter with the `ebur128` crate
//! and ffmpeg's `ebur128` filter (see `bench.rs`), then measures one plugin instance's
//! audio-thread cost and the 13-instance CLAP bounce (`bench_plugin.rs`); `--only check|plugin`
//! runs one half.

mod bench;
mod bench_plugin;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("bench") {
        return bench::run(&args[1..]);
    }
    nice_plug_xtask::main()
}
