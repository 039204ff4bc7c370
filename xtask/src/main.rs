//! `cargo xtask bundle stemcheck-plugin --release` builds the plugin and writes
//! `StemCheck.vst3` and `StemCheck.clap` into `<target dir>/bundled/` (names from `bundler.toml`).

fn main() -> anyhow::Result<()> {
    nice_plug_xtask::main()
}
