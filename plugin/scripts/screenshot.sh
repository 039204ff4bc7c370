#!/bin/sh
# Renders the StemCheck editor to plugin/docs/editor.png, with the reconciliation panel showing
# a real check: renders the demo song (`stemcheck demo --keep`: five stems and a mix, the keys
# stem exported 10 ms late), starts the standalone application with STEMCHECK_SHOW_FOLDER set
# to it (the standalone checks that folder on a background thread and shows the result as the
# mix instance would after a bounce), runs it under Xvfb with nice-plug's dummy audio backend
# (no audio device needed) and grabs the screen.
# Needs: xvfb, x11-apps (xwd), libgl1-mesa-dri, netpbm; libasound2-dev and libjack-jackd2-dev
# to build the standalone.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here/.."
cargo build -p stemcheck-cli --bin stemcheck --release -j2
cargo build -p stemcheck-plugin --features standalone --bin stemcheck-standalone --release -j2
target="${CARGO_TARGET_DIR:-target}"
out="$here/docs/editor.png"
mkdir -p "$here/docs"
work=$(mktemp -d)
app=""
xvfb=""
trap 'kill $app $xvfb 2>/dev/null || true; rm -rf "$work"' EXIT
"$target/release/stemcheck" demo --keep "$work/demo" >/dev/null 2>&1
display=:97
Xvfb "$display" -screen 0 1000x1000x24 >/dev/null 2>&1 &
xvfb=$!
sleep 1
DISPLAY=$display STEMCHECK_CAPTURE_DIR="$work/captures" STEMCHECK_SHOW_FOLDER="$work/demo" \
    LIBGL_ALWAYS_SOFTWARE=1 "$target/release/stemcheck-standalone" --backend dummy >/dev/null 2>&1 &
app=$!
# The check of the 12 s demo takes a few seconds; the editor repaints continuously.
sleep "${SCREENSHOT_WAIT_S:-15}"
# The editor's default size (params::EDITOR_WIDTH x EDITOR_HEIGHT) at the top left corner.
DISPLAY=$display xwd -root -silent | xwdtopnm 2>/dev/null \
    | pnmcut -left 0 -top 0 -width 860 -height 860 2>/dev/null | pnmtopng > "$out"
echo "wrote $out"
