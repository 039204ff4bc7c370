#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time (FUZZ_SECONDS each, default 60),
# starting from the committed seed corpus. Works with stable Rust (cargo-fuzz needs -Z flags;
# RUSTC_BOOTSTRAP=1 lets stable accept them). Installs cargo-fuzz from crates.io when missing
# (~4 min). A crash leaves its input in fuzz/artifacts/<target>/ and fails the script: turn it
# into a regression test in analyzer-core/tests/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${FUZZ_SECONDS:-60}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for target in wav_reader decoded_reader sidecar check_folder; do
  echo "== fuzz $target for ${seconds} s"
  mkdir -p "corpus/$target" "work/$target"
  # New inputs go to work/ (not committed); corpus/ holds the small seeds.
  cargo fuzz run "$target" "work/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 -timeout=20
done
