#!/usr/bin/env bash
# Host tests: the built StemCheck bundles in real hosts (a clack-host CLAP host and Ardour 7,
# headless; the CLAP editor in an X11 window on Xvfb). Installs Ardour (Debian package, ~30 s)
# and Xvfb when missing, builds the bundles and the CLI,
# scans the VST3 into Ardour's cache (the tests do that step), and runs the ignored tests of the
# host-tests crate. Called by scripts/test.sh; runs without a display, stdin or network (besides
# apt), as root in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
APT_UPDATED=""
apt_install() {
  [ -n "$APT_UPDATED" ] || { $SUDO apt-get update -qq; APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
if ! command -v ardour7-lua >/dev/null 2>&1; then
  echo "== installing ardour (headless Lua host for the VST3 tests)"
  apt_install ardour
fi
# The GUI test embeds the editor in an X11 window; without DISPLAY it starts Xvfb itself. The
# editor draws with OpenGL: Mesa's software driver (llvmpipe) when there is no GPU.
if ! command -v Xvfb >/dev/null 2>&1 || ! dpkg -s libgl1-mesa-dri >/dev/null 2>&1; then
  echo "== installing xvfb and Mesa's GL drivers (X server for the editor test)"
  apt_install xvfb libgl1-mesa-dri libglx-mesa0
fi

echo "== [$(date +%T)] building StemCheck.clap / StemCheck.vst3 and the stemcheck CLI"
cargo xtask bundle stemcheck-plugin --release
cargo build --release --locked -p stemcheck-cli

echo "== [$(date +%T)] host tests (clack-host CLAP harness, Ardour 7 headless)"
start=$(date +%s)
# One test at a time: the in-process CLAP tests share one process environment, the Ardour ones
# share Ardour's config and plugin cache; the instances inside a test still run in parallel.
cargo test --release --locked --no-fail-fast -p host-tests -- --ignored --test-threads=1
echo "== [$(date +%T)] host tests took $(( $(date +%s) - start )) s"

echo "== [$(date +%T)] fault table (issue 7; the analyzer's malformed-file cases ran with the workspace tests)"
cargo run --release --locked -q -p host-tests --bin fault-table -- --no-analyzer

echo "== [$(date +%T)] plugin validators (clap-validator, VST3 validator; skipped when not available)"
tests/run-validators.sh
