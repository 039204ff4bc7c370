#!/usr/bin/env bash
# The whole test suite. Installs the system packages the tests need (Debian), then runs every
# test of the workspace. Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
for cmd_pkg in sox:sox ffmpeg:ffmpeg chromium:chromium; do
  cmd=${cmd_pkg%%:*}; pkg=${cmd_pkg##*:}
  command -v "$cmd" >/dev/null 2>&1 || need_pkgs+=("$pkg")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "== installing system packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

echo "== cargo test (workspace)"
cargo test --workspace --release --locked
./tests/run-host-tests.sh
