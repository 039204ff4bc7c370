#!/bin/sh
# Renders the StemCheck editor to plugin/docs/editor.png: builds the standalone application,
# runs it under Xvfb with nice-plug's dummy audio backend (no audio device needed) and grabs the
# screen. Needs: xvfb, x11-apps (xwd), libgl1-mesa-dri, netpbm.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here/.."
cargo build -p stemcheck-plugin --features standalone --bin stemcheck-standalone --release -j2
bin="${CARGO_TARGET_DIR:-target}/release/stemcheck-standalone"
out="$here/docs/editor.png"
mkdir -p "$here/docs"
captures=$(mktemp -d)
display=:97
Xvfb "$display" -screen 0 1000x700x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $app $xvfb 2>/dev/null || true; rm -rf "$captures"' EXIT
sleep 1
DISPLAY=$display STEMCHECK_CAPTURE_DIR="$captures" LIBGL_ALWAYS_SOFTWARE=1 \
    "$bin" --backend dummy >/dev/null 2>&1 &
app=$!
sleep "${SCREENSHOT_WAIT_S:-6}"
DISPLAY=$display xwd -root -silent | xwdtopnm 2>/dev/null | pnmcut -left 0 -top 0 -width 760 -height 560 2>/dev/null | pnmtopng > "$out"
echo "wrote $out"
