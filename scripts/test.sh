#!/usr/bin/env bash
# The whole test suite. Installs the system packages the tests need (Debian), then runs every
# test of the workspace. Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
# Every step prints the seconds since the suite started: CI has a 90-minute limit, and the log
# shows which step to trim when the suite nears it.
SUITE_START=$(date +%s)
# It also prints the disk left: CI's disk is small (session 17's CI ran out of it building the
# fuzz targets, the last step).
step() { echo "== [$(( $(date +%s) - SUITE_START )) s, $(df -h --output=avail . | tail -1 | tr -d ' ') free] $*"; }
# The suite's release builds skip link-time optimisation. The release profile's thin LTO is
# for what ships (the bundles, the CLI); on the ~45 test binaries it cost most of the suite:
# one analyzer-core test binary took 40 s to build with it and 1.5 s without (same machine,
# deps built), and the whole suite had reached 84 of CI's 90 minutes. What the tests check does
# not depend on it; BENCHMARKS.md's numbers come from real release builds (cargo xtask bench).
export CARGO_PROFILE_RELEASE_LTO=false
# Disk. The debug build of the plugin tests was 4.2 GB, 0.9 GB of it incremental state and most
# of the rest full debug info: a one-off build needs neither (line tables keep panics' file and
# line). Under CI (CI=true) each build directory is also removed once no later step needs it,
# so the fuzz build (its own target, sanitizer flags) does not find the disk full; a developer's
# run keeps them for the next run.
export CARGO_INCREMENTAL=0
export CARGO_PROFILE_DEV_DEBUG=line-tables-only
export CARGO_PROFILE_TEST_DEBUG=line-tables-only
in_ci() { [ -n "${CI:-}" ] && [ "${CI}" != "false" ]; }

need_pkgs=()
for cmd_pkg in sox:sox ffmpeg:ffmpeg chromium:chromium pdftotext:poppler-utils; do
  cmd=${cmd_pkg%%:*}; pkg=${cmd_pkg##*:}
  command -v "$cmd" >/dev/null 2>&1 || need_pkgs+=("$pkg")
done
# libFuzzer (cargo-fuzz, scripts/fuzz.sh) builds C++.
command -v g++ >/dev/null 2>&1 || need_pkgs+=(g++)
# The diagnosis corpus test (analyzer-core/tests/diagnose_corpus.rs, corpus/render.sh).
command -v fluidsynth >/dev/null 2>&1 || need_pkgs+=(fluidsynth)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || need_pkgs+=(fluid-soundfont-gm)
[ -d /usr/share/planetblupi/music ] || need_pkgs+=(planetblupi-music-midi)
/usr/bin/python3 -c 'import mido' >/dev/null 2>&1 || need_pkgs+=(python3 python3-mido)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  step "installing system packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# The corpus test must not skip itself here: the packages above are installed.
# Lints first: they fail fast. rustup's default profile ships clippy and rustfmt; a minimal
# toolchain without them skips this step (and says so) rather than failing the suite.
if cargo clippy --version >/dev/null 2>&1; then
  step "cargo clippy (workspace, all targets, -D warnings)"
  cargo clippy --workspace --all-targets --release --locked -- -D warnings
else
  step "cargo clippy not installed: lint step skipped"
fi
if cargo fmt --version >/dev/null 2>&1; then
  step "cargo fmt --check"
  cargo fmt --all -- --check
fi

# Documentation: dead intra-doc links and ambiguous links fail the suite.
step "cargo doc (workspace, no deps, -D warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --release -q

export STEMCHECK_REQUIRE_CORPUS=1
step "cargo test (workspace)"
cargo test --workspace --release --locked
# The real-time rule: nice-plug's assert_process_allocs only checks with debug assertions on,
# so the plugin's allocation tests run in a debug build (plugin/README.md, Tests).
step "cargo test (plugin, debug: assert_process_allocs)"
cargo test --locked -p stemcheck-plugin
# The host tests and fuzz build in release / their own target: the debug build is done.
in_ci && rm -rf target/debug
step "host tests, fault table, validators (tests/run-host-tests.sh)"
./tests/run-host-tests.sh
# Fuzz the WAV reader, the sidecar reader and the whole check for a bounded time (issue 7).
in_ci && rm -rf target/release
step "fuzz (scripts/fuzz.sh)"
FUZZ_SECONDS=60 ./scripts/fuzz.sh
step "suite done"
