#!/bin/sh
# Makes the README pictures of the StemCheck editor, both from the standalone application under
# Xvfb with music really playing into it through JACK's dummy driver (no sound card needed):
#
#   plugin/docs/editor-playing.png  a stem instance while the demo song's mix plays: meters,
#                                   loudness, the spectrum analyser (L/R) with peak hold
#   plugin/docs/editor.png          the mix instance after a bounce (1300 x 1050, wide layout):
#                                   the demo song (`stemcheck
#                                   demo --keep`: five stems and a mix, the keys stem exported
#                                   10 ms late) checked as a bounce folder (STEMCHECK_SHOW_FOLDER,
#                                   standalone builds only), with the mix playing on
#
# The JACK transport stays stopped (jack-play plays without it), so the panel's verdict stays the
# current bounce's. Needs: xvfb, x11-apps (xwd), netpbm, libgl1-mesa-dri, jackd2, jack-tools
# (jack-play); libasound2-dev and libjack-jackd2-dev to build the standalone.
# SCREENSHOT_MIX_WAIT_S: seconds the check of the demo gets (an unoptimised build needs ~60).
# SCREENSHOT_PROFILE=dev builds without optimisation of the workspace crates (faster to build).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here/.."
profile="${SCREENSHOT_PROFILE:-release}"
case "$profile" in
    dev) dir=debug ;;
    *) dir="$profile" ;;
esac
cargo build -p stemcheck-cli --bin stemcheck --profile "$profile" -j2
cargo build -p stemcheck-plugin --features standalone --bin stemcheck-standalone \
    --profile "$profile" -j2
target="${CARGO_TARGET_DIR:-target}/$dir"
mkdir -p "$here/docs"
work=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
"$target/stemcheck" demo --keep "$work/demo" >/dev/null 2>&1
mix=$(ls "$work"/demo/*[Mm]ix*.wav | head -1)

display=:97
Xvfb "$display" -screen 0 1400x1100x24 >/dev/null 2>&1 &
pids="$pids $!"
export JACK_NO_AUDIO_RESERVATION=1
export JACK_DEFAULT_SERVER="stemcheck-shot-$$"
jackd --no-realtime -d dummy -r 48000 -p 512 >/dev/null 2>&1 &
pids="$pids $!"
sleep 2

# Runs the standalone (extra environment in $1), plays the mix into it in a loop, waits for
# $2 seconds and grabs the editor's $3 x $4 top-left corner (its window; the default size is
# params::EDITOR_WIDTH x EDITOR_HEIGHT) into $5.
shoot() {
    env DISPLAY=$display STEMCHECK_CAPTURE_DIR="$work/captures" LIBGL_ALWAYS_SOFTWARE=1 $1 \
        "$target/stemcheck-standalone" --backend jack >"$work/app.log" 2>&1 &
    app=$!
    sleep 3
    # jack-play stops at the end of the file: replay it (each new player connected to the
    # plugin's inputs under the names JACK gave them) until the picture is taken.
    ( while :; do
        jack-play "$mix" >/dev/null 2>&1 &
        p=$!
        sleep 0.5
        connect
        wait "$p"
    done ) &
    player=$!
    sleep "$2"
    DISPLAY=$display xwd -root -silent | xwdtopnm 2>/dev/null \
        | pnmcut -left 0 -top 0 -width "$3" -height "$4" 2>/dev/null | pnmtopng >"$5"
    stop_loop "$player"
    kill "$app" 2>/dev/null || true
    wait "$app" 2>/dev/null || true
    echo "wrote $5"
}

# Connects the running jack-play's two outputs to the standalone's two inputs.
connect() {
    outs=$(jack_lsp | grep -i '^jack-play.*out' | head -2)
    ins=$(jack_lsp | grep -i 'stemcheck.*in' | head -2)
    i=1
    for o in $outs; do
        inp=$(echo "$ins" | sed -n "${i}p")
        [ -n "$inp" ] && jack_connect "$o" "$inp" 2>/dev/null || true
        i=$((i + 1))
    done
}

# Ends the replay loop with process id $1 and the jack-play it started (only those).
stop_loop() {
    children=$(ps -o pid= --ppid "$1" 2>/dev/null || true)
    kill "$1" 2>/dev/null || true
    for c in $children; do kill "$c" 2>/dev/null || true; done
}

shoot "" "${SCREENSHOT_WAIT_S:-8}" 860 860 "$here/docs/editor-playing.png"
# The mix instance opens at 1300 x 1050 (STEMCHECK_EDITOR_SIZE, standalone builds only): the wide
# layout, where the verdict, the findings and the stem table fit above the fold.
shoot "STEMCHECK_SHOW_FOLDER=$work/demo STEMCHECK_EDITOR_SIZE=1300x1050" \
    "${SCREENSHOT_MIX_WAIT_S:-20}" 1300 1050 "$here/docs/editor.png"
