#!/usr/bin/env bash
# Renders StemCheck's diagnosis corpus: real music rendered by third-party tools, with faults
# applied by third-party tools, so the diagnosis is never judged on our own DSP.
#
#   corpus/render.sh [OUT_DIR]        (default: target/corpus; large audio never goes into git)
#
# Songs: MIDI files of the Debian package planetblupi-music-midi, cut to CORPUS_SECONDS (default
# 30) and split by General MIDI program family into instrument groups (corpus/midi_group.py).
# fluidsynth renders every group dry (reverb and chorus off) with the FluidR3 General MIDI
# soundfont, the full song dry (the mix the stems sum to), the full song with the synth's reverb
# and chorus (a mix whose FX returns no stem carries), and every group wet (stems that carry
# their FX). sox and ffmpeg then apply one fault per case to copies.
#
# Every case is a folder OUT_DIR/<song>/<case>/ with <Song>_Mix.wav, the stems, and case.json:
#   {"song": .., "case": .., "fault": "<what was done>", "expect": "<finding code or none>",
#    "stem": "<the stem the fault concerns, or empty>"}
# corpus/confusion.sh (cargo run -p stemcheck-cli --example confusion) checks every case.
#
# Runs non-interactively as root (CI=true, no stdin): installs fluidsynth, fluid-soundfont-gm,
# planetblupi-music-midi, python3-mido, sox and ffmpeg with apt-get when they are missing.
# Environment: CORPUS_SECONDS (song length), CORPUS_SONGS (space-separated MIDI base names).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-target/corpus}
SECONDS_PER_SONG=${CORPUS_SECONDS:-30}
SONGS=${CORPUS_SONGS:-"music001 music005 music007"}
MIDI_DIR=/usr/share/planetblupi/music
SF2=/usr/share/sounds/sf2/FluidR3_GM.sf2
RATE=48000
PY=/usr/bin/python3 # Debian's python, where python3-mido installs

need=()
command -v fluidsynth >/dev/null 2>&1 || need+=(fluidsynth)
[ -f "$SF2" ] || need+=(fluid-soundfont-gm)
[ -d "$MIDI_DIR" ] || need+=(planetblupi-music-midi)
command -v sox >/dev/null 2>&1 || need+=(sox)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
{ [ -x "$PY" ] && "$PY" -c 'import mido' >/dev/null 2>&1; } || need+=(python3 python3-mido)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "== corpus: installing ${need[*]}" >&2
  $SUDO apt-get update -qq </dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null >/dev/null
fi

SOX="sox -V1"
# Float output keeps faults (boosts, reverb tails) from clipping; the files are what a DAW
# exporting 32-bit float would deliver.
F32=(-e floating-point -b 32)

render() { # render MIDI OUT.wav dry|wet
  local fx=(-R 0 -C 0)
  [ "$3" = wet ] && fx=(-R 1 -C 1)
  fluidsynth -ni -q "${fx[@]}" -g 0.12 -r $RATE -O float -T wav -F "$2" "$SF2" "$1" </dev/null >/dev/null 2>&1
}

fit_len() { # fit_len IN OUT FRAMES: pad with silence or cut to exactly FRAMES
  local n; n=$(soxi -s "$1" 2>/dev/null)
  if [ "$n" -lt "$3" ]; then $SOX "$1" "${F32[@]}" "$2" pad 0 "$(($3 - n))s"
  else $SOX "$1" "${F32[@]}" "$2" trim 0 "$3s"; fi
}

peak_of() { $SOX "$1" -n stat 2>&1 | awk '/Maximum amplitude/ {print $3}'; }

width_of() { # RMS of the side (L-R) over RMS of the mid (L+R) of a stereo file
  local s m
  s=$($SOX "$1" -n remix 1,2v-1 stat 2>&1 | awk '/RMS     amplitude/ {print $3}')
  m=$($SOX "$1" -n remix 1,2 stat 2>&1 | awk '/RMS     amplitude/ {print $3}')
  awk -v s="$s" -v m="$m" 'BEGIN { if (m > 0) printf "%.3f", s / m; else print 0 }'
}

write_case() { # write_case DIR FAULT EXPECT STEM [ALSO] [TRUE]: ALSO = a second injected cause,
  # TRUE = space-separated codes that are true of the case without being a fault of the stems'
  # sum (a 16-bit export under the mastering profile is low_bit_depth)
  printf '{"song": "%s", "case": "%s", "fault": "%s", "expect": "%s", "stem": "%s", "also": "%s", "true_codes": "%s"}\n' \
    "$(basename "$(dirname "$1")")" "$(basename "$1")" "$2" "$3" "$4" "${5:-}" "${6:-}" >"$1/case.json"
}

link_stems() { # link_stems FROM_DIR TO_DIR [EXCEPT_NAME]
  for f in "$1"/*.wav; do
    [ "$(basename "$f")" = "${3:-}" ] && continue
    ln -f "$f" "$2/"
  done
}

song_index=0
for song in $SONGS; do
  midi="$MIDI_DIR/$song.mid"
  Song="Song${song#music}"
  base="$OUT/$song"
  work="$base/.render"
  rm -rf "$base"
  mkdir -p "$work/dry" "$work/wet"
  echo "== corpus: $song ($SECONDS_PER_SONG s)" >&2

  "$PY" corpus/midi_group.py "$midi" "$work/all.mid" "$SECONDS_PER_SONG" all
  render "$work/all.mid" "$work/all_dry_raw.wav" dry
  render "$work/all.mid" "$work/all_wet_raw.wav" wet
  groups=()
  while read -r name chans; do
    groups+=("$name")
    "$PY" corpus/midi_group.py "$midi" "$work/$name.mid" "$SECONDS_PER_SONG" "$chans"
    render "$work/$name.mid" "$work/${name}_dry_raw.wav" dry
    render "$work/$name.mid" "$work/${name}_wet_raw.wav" wet
  done < <("$PY" corpus/midi_group.py --groups "$midi")

  # One length for every file: the song plus a short release tail.
  frames=$(( (SECONDS_PER_SONG + 2) * RATE ))
  fit_len "$work/all_dry_raw.wav" "$work/mix_dry.wav" $frames
  fit_len "$work/all_wet_raw.wav" "$work/mix_wet.wav" $frames
  playing=()
  for g in "${groups[@]}"; do
    # A group that stays silent in the excerpt is not a stem of this song.
    if [ "$(peak_of "$work/${g}_dry_raw.wav")" = "0.000000" ]; then continue; fi
    playing+=("$g")
    fit_len "$work/${g}_dry_raw.wav" "$work/dry/${Song}_$g.wav" $frames
    fit_len "$work/${g}_wet_raw.wav" "$work/wet/${Song}_$g.wav" $frames
  done
  groups=("${playing[@]}")
  rm -f "$work"/*_raw.wav "$work"/*.mid
  mix="${Song}_Mix.wav"
  n_groups=${#groups[@]}
  # The stem each stem-level fault is applied to rotates with the song.
  target=${groups[$((song_index % n_groups))]}
  dropped=${groups[$(((song_index + 2) % n_groups))]}
  song_index=$((song_index + 1))
  peak=$(peak_of "$work/mix_dry.wav")

  newcase() { # newcase NAME: fresh case folder with the dry stems linked
    local d="$base/$1"; mkdir -p "$d"; link_stems "$work/dry" "$d"; echo "$d"
  }

  d=$(newcase clean_dry); ln -f "$work/mix_dry.wav" "$d/$mix"
  write_case "$d" "none: dry stems, dry mix (float)" none ""

  d="$base/clean_wet"; mkdir -p "$d"; link_stems "$work/wet" "$d"; ln -f "$work/mix_wet.wav" "$d/$mix"
  write_case "$d" "none: stems and mix both with the synth's reverb and chorus" none ""

  d="$base/clean_16bit"; mkdir -p "$d"
  for f in "$work"/dry/*.wav "$work/mix_dry.wav"; do
    o="$d/$(basename "$f")"; [ "$f" = "$work/mix_dry.wav" ] && o="$d/$mix"
    $SOX "$f" -b 16 -e signed-integer "$o"   # sox dithers (TPDF) when reducing bit depth
  done
  write_case "$d" "none: every file exported as 16-bit (sox, TPDF dither)" none "" "" low_bit_depth

  d="$base/clean_16bit_undithered"; mkdir -p "$d"
  for f in "$work"/dry/*.wav "$work/mix_dry.wav"; do
    o="$d/$(basename "$f")"; [ "$f" = "$work/mix_dry.wav" ] && o="$d/$mix"
    $SOX -D "$f" -b 16 -e signed-integer "$o"
  done
  write_case "$d" "none: every file exported as 16-bit, rounded without dither" none "" "" low_bit_depth

  d="$base/clean_24bit_dither"; mkdir -p "$d"
  for f in "$work"/dry/*.wav "$work/mix_dry.wav"; do
    o="$d/$(basename "$f")"; [ "$f" = "$work/mix_dry.wav" ] && o="$d/$mix"
    $SOX "$f" -b 24 -e signed-integer "$o" dither -s
  done
  write_case "$d" "none: every file exported as 24-bit with noise-shaped dither" none ""

  d=$(newcase fx_return_synth); ln -f "$work/mix_wet.wav" "$d/$mix"
  write_case "$d" "mix rendered with fluidsynth reverb and chorus, stems dry" missing_fx_return ""

  d=$(newcase reverb_mix)
  $SOX "$work/mix_dry.wav" "${F32[@]}" "$d/$mix" reverb 40 50 80 trim 0 "${frames}s"
  write_case "$d" "sox reverb 40 50 80 on the mix only" missing_fx_return ""

  d=$(newcase compand_mix)
  $SOX "$work/mix_dry.wav" "${F32[@]}" "$d/$mix" compand 0.005,0.15 6:-60,-60,-36,-36,0,-18 0 -90 0
  write_case "$d" "sox compand (2:1 above -36 dBFS, 5 ms attack) on the mix only" missing_bus_processing ""

  d=$(newcase acompressor_mix)
  ffmpeg -nostdin -v error -y -i "$work/mix_dry.wav" \
    -af "acompressor=threshold=0.03:ratio=4:attack=5:release=100:makeup=1" -c:a pcm_f32le "$d/$mix"
  write_case "$d" "ffmpeg acompressor (4:1 above -30 dBFS) on the mix only" missing_bus_processing ""

  # Heavy mix-bus compression (an Ardour ACE Compressor at -26 dB threshold took ~10 dB off a
  # real session): every stem then reads cold, and a flat EQ fits part of it.
  d=$(newcase acompressor_heavy)
  ffmpeg -nostdin -v error -y -i "$work/mix_dry.wav" \
    -af "acompressor=threshold=-26dB:ratio=4:attack=5:release=100" -c:a pcm_f32le "$d/$mix"
  write_case "$d" "ffmpeg acompressor (4:1 above -26 dB, 5 ms attack, no make-up) on the mix only" missing_bus_processing ""

  d=$(newcase acompressor_heavy_makeup)
  ffmpeg -nostdin -v error -y -i "$work/mix_dry.wav" \
    -af "acompressor=threshold=-36dB:ratio=8:attack=5:release=100:makeup=4:knee=4" -c:a pcm_f32le "$d/$mix"
  write_case "$d" "ffmpeg acompressor (8:1 above -36 dB, soft knee, +12 dB make-up) on the mix only" missing_bus_processing ""

  d=$(newcase alimiter_mix)
  limit=$(awk -v p="$peak" 'BEGIN { l = p * 0.4; if (l < 0.0625) l = 0.0625; printf "%.4f", l }')
  ffmpeg -nostdin -v error -y -i "$work/mix_dry.wav" \
    -af "alimiter=limit=$limit:attack=2:release=30:level=disabled:latency=1" -c:a pcm_f32le "$d/$mix"
  write_case "$d" "ffmpeg alimiter (latency compensated, as a DAW does), ceiling 8 dB under the mix peak, on the mix only" missing_bus_processing ""

  d=$(newcase eq_mix)
  $SOX "$work/mix_dry.wav" "${F32[@]}" "$d/$mix" bass +4 150 equalizer 2500 1q -5
  write_case "$d" "sox bass +4 dB shelf at 150 Hz and -5 dB bell at 2.5 kHz on the mix only" bus_eq ""

  d="$base/drop_stem"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_$dropped.wav"
  ln -f "$work/mix_dry.wav" "$d/$mix"
  write_case "$d" "stem ${Song}_$dropped.wav left out of the delivery" missing_element "${Song}_$dropped.wav"

  # A part left out while its reverb stays in the delivered FX return (the wet mix minus the
  # dry one: every group's reverb and chorus, the dropped part's included). Only the part is
  # missing: the fit may turn the return up where the part plays, but its level is right.
  d="$base/drop_stem_fx_return"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_$dropped.wav"
  $SOX -m -v 1 "$work/mix_wet.wav" -v -1 "$work/mix_dry.wav" "${F32[@]}" "$d/${Song}_FX_Return.wav"
  ln -f "$work/mix_wet.wav" "$d/$mix"
  write_case "$d" "stem ${Song}_$dropped.wav left out, the wet mix's FX return (wet minus dry mix) delivered as a stem" missing_element "${Song}_$dropped.wav"

  d="$base/hot_stem"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_$target.wav"
  $SOX "$work/dry/${Song}_$target.wav" "${F32[@]}" "$d/${Song}_$target.wav" vol 3dB
  ln -f "$work/mix_dry.wav" "$d/$mix"
  write_case "$d" "stem ${Song}_$target.wav delivered 3 dB hot" gain_mismatch "${Song}_$target.wav"

  d="$base/inverted_stem"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_$target.wav"
  $SOX "$work/dry/${Song}_$target.wav" "${F32[@]}" "$d/${Song}_$target.wav" vol -1
  ln -f "$work/mix_dry.wav" "$d/$mix"
  write_case "$d" "stem ${Song}_$target.wav polarity inverted" polarity_inverted "${Song}_$target.wav"

  for off in 1 37 480; do
    d="$base/offset_$off"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_$target.wav"
    $SOX "$work/dry/${Song}_$target.wav" "${F32[@]}" "$d/${Song}_$target.wav" pad "${off}s" trim 0 "${frames}s"
    ln -f "$work/mix_dry.wav" "$d/$mix"
    write_case "$d" "stem ${Song}_$target.wav starts $off samples late" start_offset "${Song}_$target.wav"
  done

  # Two causes at once: the stronger one is the primary, the other should be reported too.
  d=$(newcase eq_and_reverb_mix)
  $SOX "$work/mix_dry.wav" "${F32[@]}" "$d/$mix" bass +4 150 equalizer 2500 1q -5 reverb 40 50 80 trim 0 "${frames}s"
  write_case "$d" "sox EQ (as eq_mix) then reverb (as reverb_mix) on the mix only" missing_fx_return "" bus_eq

  d="$base/compand_and_drop"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_$dropped.wav"
  $SOX "$work/mix_dry.wav" "${F32[@]}" "$d/$mix" compand 0.005,0.15 6:-60,-60,-36,-36,0,-18 0 -90 0
  write_case "$d" "sox compand on the mix (as compand_mix) and stem ${Song}_$dropped.wav left out" missing_bus_processing "${Song}_$dropped.wav" missing_element

  # The everyday two-cause delivery: the reverb return was not exported and the mix-bus
  # compressor squeezes the mix, reverb included.
  d=$(newcase reverb_and_compand_mix)
  $SOX "$work/mix_dry.wav" "${F32[@]}" "$d/$mix" reverb 40 50 80 trim 0 "${frames}s" compand 0.005,0.15 6:-60,-60,-36,-36,0,-18 0 -90 0
  write_case "$d" "sox reverb (as reverb_mix) then compand (as compand_mix) on the mix only" missing_fx_return "" missing_bus_processing

  # A fader ride the stem export did not print (pre-fader export, automation bypassed): in the
  # mix the stem dips 8 dB from 30 % of the song to 60 % (2 s ramps); the stem is delivered flat.
  d="$base/automation_not_printed"; mkdir -p "$d"; link_stems "$work/dry" "$d"
  t1=$(awk -v s="$SECONDS_PER_SONG" 'BEGIN { printf "%.2f", s * 0.3 }')
  t2=$(awk -v s="$SECONDS_PER_SONG" 'BEGIN { printf "%.2f", s * 0.6 }')
  ffmpeg -nostdin -v error -y -i "$work/dry/${Song}_$target.wav" -af "volume='1-0.6*min(max((t-$t1)/2,0),1)+0.6*min(max((t-$t2)/2,0),1)':eval=frame" -c:a pcm_f32le "$work/ridden.wav"
  $SOX -m -v 1 "$work/mix_dry.wav" -v -1 "$work/dry/${Song}_$target.wav" -v 1 "$work/ridden.wav" "${F32[@]}" "$d/$mix"
  rm -f "$work/ridden.wav"
  write_case "$d" "stem ${Song}_$target.wav ridden 8 dB down in the mix from ${t1} s to ${t2} s (volume automation), delivered without the ride" gain_mismatch "${Song}_$target.wav"

  # A mute the stem export did not print: in the mix the stem is muted from 30 % to 60 % of the
  # song (its part there reads as content the stems hold and the mix does not).
  d="$base/mute_not_printed"; mkdir -p "$d"; link_stems "$work/dry" "$d"
  ffmpeg -nostdin -v error -y -i "$work/dry/${Song}_$target.wav" -af "volume='if(between(t,$t1,$t2),0,1)':eval=frame" -c:a pcm_f32le "$work/muted.wav"
  $SOX -m -v 1 "$work/mix_dry.wav" -v -1 "$work/dry/${Song}_$target.wav" -v 1 "$work/muted.wav" "${F32[@]}" "$d/$mix"
  rm -f "$work/muted.wav"
  write_case "$d" "stem ${Song}_$target.wav muted in the mix from ${t1} s to ${t2} s (mute automation), delivered without the mute" gain_mismatch "${Song}_$target.wav"

  # An export range that stopped short: the stem ends at 60 % of the song while its part plays
  # on in the mix (its last samples may well be a rest between notes).
  d="$base/short_export"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_$target.wav"
  $SOX "$work/dry/${Song}_$target.wav" "${F32[@]}" "$d/${Song}_$target.wav" trim 0 "$t2"
  ln -f "$work/mix_dry.wav" "$d/$mix"
  write_case "$d" "stem ${Song}_$target.wav exported up to ${t2} s only (its part plays on in the mix)" length_mismatch "${Song}_$target.wav"

  # A stem that also carries another stem's part (an output or a send routed to two stem
  # buses): summed, that part plays twice. Whole, and through a send at -6 dB.
  d="$base/bleed_stem"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_$target.wav"
  $SOX -m -v 1 "$work/dry/${Song}_$target.wav" -v 1 "$work/dry/${Song}_$dropped.wav" "${F32[@]}" "$d/${Song}_$target.wav"
  ln -f "$work/mix_dry.wav" "$d/$mix"
  write_case "$d" "stem ${Song}_$target.wav also carries ${Song}_$dropped.wav's part whole (routed to both stem buses)" duplicate_stem "${Song}_$target.wav"
  d="$base/bleed_send"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_$target.wav"
  $SOX -m -v 1 "$work/dry/${Song}_$target.wav" -v 0.5 "$work/dry/${Song}_$dropped.wav" "${F32[@]}" "$d/${Song}_$target.wav"
  ln -f "$work/mix_dry.wav" "$d/$mix"
  write_case "$d" "stem ${Song}_$target.wav also carries ${Song}_$dropped.wav's part at -6 dB (a send to its bus)" duplicate_stem "${Song}_$target.wav"

  # A stereo width control on the mix bus (mid/side: the side 1.4x, +2.9 dB), the stems
  # exported without it; and an imager's "mono lows": the side below 300 Hz taken out.
  d=$(newcase width_mix)
  $SOX "$work/mix_dry.wav" "${F32[@]}" "$d/$mix" remix 1v1.2,2v-0.2 1v-0.2,2v1.2
  write_case "$d" "mix through a stereo width control (side +2.9 dB against the mid, sox remix) on the mix only" missing_bus_processing ""
  # The same width, then the compander of compand_mix (a mix-bus chain: imager, compressor).
  d=$(newcase width_and_compand_mix)
  $SOX "$work/mix_dry.wav" "${F32[@]}" "$d/$mix" remix 1v1.2,2v-0.2 1v-0.2,2v1.2 \
    compand 0.005,0.15 6:-60,-60,-36,-36,0,-18 0 -90 0
  write_case "$d" "mix through a stereo width control (as width_mix) then a compander (as compand_mix) on the mix only" missing_bus_processing ""
  d=$(newcase mono_lows_mix)
  $SOX "$work/mix_dry.wav" "${F32[@]}" "$work/lows.wav" sinc -300
  $SOX "$work/mix_dry.wav" "${F32[@]}" "$work/highs.wav" sinc 300
  $SOX "$work/lows.wav" "${F32[@]}" "$work/lows_mono.wav" remix 1v0.5,2v0.5 1v0.5,2v0.5
  $SOX -m -v 1 "$work/lows_mono.wav" -v 1 "$work/highs.wav" "${F32[@]}" "$d/$mix"
  rm -f "$work/lows.wav" "$work/highs.wav" "$work/lows_mono.wav"
  write_case "$d" "mix with its lows made mono below 300 Hz (an imager's mono bass, sox sinc and remix) on the mix only" missing_bus_processing ""

  # A stem whose export lost 50 ms of audio at 40 % of the song (a real-time bounce that
  # glitched): digital silence where the mix has its part.
  d="$base/dropout_stem"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_$target.wav"
  t0=$(awk -v s="$SECONDS_PER_SONG" 'BEGIN { printf "%.3f", s * 0.4 }')
  ffmpeg -nostdin -v error -y -i "$work/dry/${Song}_$target.wav" -af "aeval=exprs='val(ch)*(1-between(t,$t0,$t0+0.05))':c=same" -c:a pcm_f32le "$d/${Song}_$target.wav"
  ln -f "$work/mix_dry.wav" "$d/$mix"
  write_case "$d" "stem ${Song}_$target.wav lost 50 ms of audio at ${t0} s (a glitch in a real-time export)" dropout "${Song}_$target.wav"

  # A stem bus 3 dB over full scale (its fader pushed, the master pulled back), exported to a
  # 24-bit file, which cuts the peaks; the mix, printed as float, keeps them.
  d="$base/clipped_stem"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_$target.wav"
  tpk=$(peak_of "$work/dry/${Song}_$target.wav")
  hot=$(awk -v p="$tpk" 'BEGIN { printf "%.6f", 10 ^ (3 / 20) / p }')
  ffmpeg -nostdin -v error -y -i "$work/dry/${Song}_$target.wav" -af "volume=$hot" -c:a pcm_s24le "$d/${Song}_$target.wav"
  ffmpeg -nostdin -v error -y -i "$work/mix_dry.wav" -i "$work/dry/${Song}_$target.wav" \
    -filter_complex "[1]volume=$(awk -v h="$hot" 'BEGIN { printf "%.6f", h - 1 }')[s];[0][s]amix=inputs=2:normalize=0" \
    -c:a pcm_f32le "$d/$mix"
  write_case "$d" "stem ${Song}_$target.wav raised to peak at +3 dBFS and exported as 24-bit (clipped), the mix (float) with its peaks" clipping "${Song}_$target.wav" "" "bit_depth_mismatch true_peak_over low_headroom float_over dc_offset"

  # The bass ducked in the mix by a compressor keyed from the drums (sidechain pumping), the
  # stems exported one by one with the others muted: the key never reached the compressor, so
  # the bass stem is not ducked.
  if [ -f "$work/dry/${Song}_Bass.wav" ] && [ -f "$work/dry/${Song}_Drums.wav" ]; then
    d="$base/sidechain_lost"; mkdir -p "$d"; link_stems "$work/dry" "$d"
    rest=(); for f in "$work"/dry/*.wav; do
      case "$(basename "$f")" in "${Song}_Bass.wav"|"${Song}_Drums.wav") ;; *) rest+=(-i "$f") ;; esac
    done
    n_rest=$(( ${#rest[@]} / 2 ))
    pads=""; for i in $(seq 2 $((n_rest + 1))); do pads="$pads[$i]"; done
    ffmpeg -nostdin -v error -y -i "$work/dry/${Song}_Bass.wav" -i "$work/dry/${Song}_Drums.wav" "${rest[@]}" \
      -filter_complex "[1]asplit[key][drums];[0][key]sidechaincompress=threshold=0.02:ratio=8:attack=5:release=150:makeup=1[bass];[bass][drums]${pads}amix=inputs=$((n_rest + 2)):normalize=0" \
      -c:a pcm_f32le "$d/$mix"
    write_case "$d" "${Song}_Bass.wav ducked in the mix by a sidechain compressor keyed from ${Song}_Drums.wav (ffmpeg sidechaincompress 8:1, 150 ms release), the stems exported without it" missing_bus_processing "${Song}_Bass.wav"
  fi

  # The keys (a stereo stem) bounced to a mono file, the mix with them in stereo.
  if [ -f "$work/dry/${Song}_Keys.wav" ]; then
    d="$base/mono_export"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_Keys.wav"
    $SOX "$work/dry/${Song}_Keys.wav" "${F32[@]}" "$d/${Song}_Keys.wav" remix 1v0.5,2v0.5
    ln -f "$work/mix_dry.wav" "$d/$mix"
    write_case "$d" "stem ${Song}_Keys.wav (stereo) exported as a mono file (L+R)/2, the mix with it in stereo" channel_layout "${Song}_Keys.wav"
  fi

  # A DC offset on the bass's path (+0.003, -50 dBFS, sox dcshift): the mix without it (a DC
  # filter on the mix bus the stem export bypassed), then the mix carrying it (its sum).
  if [ -f "$work/dry/${Song}_Bass.wav" ]; then
    d="$base/dc_stem"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_Bass.wav"
    $SOX "$work/dry/${Song}_Bass.wav" "${F32[@]}" "$d/${Song}_Bass.wav" dcshift 0.003
    ln -f "$work/mix_dry.wav" "$d/$mix"
    write_case "$d" "stem ${Song}_Bass.wav with a DC offset of -50 dBFS (sox dcshift 0.003) that the mix does not carry" dc_offset "${Song}_Bass.wav"
    d="$base/dc_carried"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_Bass.wav"
    $SOX "$work/dry/${Song}_Bass.wav" "${F32[@]}" "$d/${Song}_Bass.wav" dcshift 0.02
    $SOX "$work/mix_dry.wav" "${F32[@]}" "$d/$mix" dcshift 0.02
    write_case "$d" "stem ${Song}_Bass.wav with a DC offset of -34 dBFS (sox dcshift 0.02), the mix carrying it (the same shift)" dc_offset "${Song}_Bass.wav"
  fi

  # The bass through a compressor on its own bus in the mix (sox compand, 4:1 from 12 dB under
  # its peak, 5 ms attack, 100 ms release, no make-up), its stem exported pre-insert.
  if [ -f "$work/dry/${Song}_Bass.wav" ]; then
    d="$base/stem_compressed"; mkdir -p "$d"; link_stems "$work/dry" "$d"
    t=$(awk -v p="$(peak_of "$work/dry/${Song}_Bass.wav")" 'BEGIN { printf "%.1f", 20 * log(p) / log(10) - 12 }')
    o=$(awk -v t="$t" 'BEGIN { printf "%.1f", 0.75 * t }')
    $SOX "$work/dry/${Song}_Bass.wav" "${F32[@]}" "$work/bass_comp.wav" compand 0.005,0.1 "6:-90,-90,$t,$t,0,$o" 0 -90 0
    $SOX -m -v 1 "$work/mix_dry.wav" -v -1 "$work/dry/${Song}_Bass.wav" -v 1 "$work/bass_comp.wav" "${F32[@]}" "$d/$mix"
    rm -f "$work/bass_comp.wav"
    write_case "$d" "stem ${Song}_Bass.wav compressed on its own bus in the mix (sox compand 4:1 from ${t} dBFS), exported pre-insert" missing_bus_processing "${Song}_Bass.wav"
  fi

  # A fade-out on the master bus over the last 20 % of the song, the stems exported without it
  # (pre-master, or the master automation bypassed).
  d=$(newcase master_fade_mix)
  t0=$(awk -v s="$SECONDS_PER_SONG" 'BEGIN { printf "%.3f", s * 0.8 }')
  tl=$(awk -v s="$SECONDS_PER_SONG" 'BEGIN { printf "%.3f", s * 0.2 }')
  ffmpeg -nostdin -v error -y -i "$work/mix_dry.wav" -af "afade=t=out:st=$t0:d=$tl" -c:a pcm_f32le "$d/$mix"
  write_case "$d" "mix faded out from ${t0} s on the master bus (ffmpeg afade), the stems without the fade" gain_mismatch ""

  # A soft clipper on the mix bus (tanh, 12 dB of drive and 12 dB back down), the stems
  # exported without it: distortion that no gain, filter or compressor model explains.
  d=$(newcase softclip_mix)
  ffmpeg -nostdin -v error -y -i "$work/mix_dry.wav" -af "volume=12dB,asoftclip=type=tanh,volume=-12dB" -c:a pcm_f32le "$d/$mix"
  write_case "$d" "ffmpeg asoftclip (tanh, +12 dB in, -12 dB out) on the mix only" missing_bus_processing ""

  # The mix sent as an MP3 (192 kbit/s, LAME), decoded back to WAV: its coding noise is all
  # the stems leave. Decoded to float, so that the only fault is the codec's.
  d=$(newcase lossy_mix)
  ffmpeg -nostdin -v error -y -i "$work/mix_dry.wav" -c:a libmp3lame -b:a 192k "$work/mix.mp3"
  ffmpeg -nostdin -v error -y -i "$work/mix.mp3" -c:a pcm_f32le "$d/$mix"
  rm -f "$work/mix.mp3"
  write_case "$d" "mix encoded as MP3 (192 kbit/s) and decoded back to WAV" lossy_codec ""

  d=$(newcase master_gain)
  $SOX "$work/mix_dry.wav" "${F32[@]}" "$d/$mix" vol -2dB
  write_case "$d" "mix 2 dB lower than the stems' sum (master fader)" gain_mismatch ""

  # ---- the common real faults of issue 16 ----
  # The widest stem (most side signal against its mid): a swap only shows on a wide stem.
  wide=$target; best=0
  for g in "${groups[@]}"; do
    w=$(width_of "$work/dry/${Song}_$g.wav")
    if awk -v a="$w" -v b="$best" 'BEGIN { exit !(a > b) }'; then best=$w; wide=$g; fi
  done
  d="$base/swapped_channels"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_$wide.wav"
  $SOX "$work/dry/${Song}_$wide.wav" "${F32[@]}" "$d/${Song}_$wide.wav" remix 2 1
  ln -f "$work/mix_dry.wav" "$d/$mix"
  write_case "$d" "stem ${Song}_$wide.wav (the widest, side/mid $best) with left and right swapped" channels_swapped "${Song}_$wide.wav"

  d="$base/inverted_channel"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_$target.wav"
  $SOX "$work/dry/${Song}_$target.wav" "${F32[@]}" "$d/${Song}_$target.wav" remix 1 2v-1
  ln -f "$work/mix_dry.wav" "$d/$mix"
  write_case "$d" "stem ${Song}_$target.wav with its right channel polarity-inverted" channel_polarity_inverted "${Song}_$target.wav"

  # 100 ppm: sox speed resamples the stem as if its clock ran 100 ppm fast.
  d="$base/clock_drift"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_$target.wav"
  $SOX "$work/dry/${Song}_$target.wav" "${F32[@]}" "$work/drift.wav" speed 1.0001
  fit_len "$work/drift.wav" "$d/${Song}_$target.wav" $frames; rm -f "$work/drift.wav"
  ln -f "$work/mix_dry.wav" "$d/$mix"
  write_case "$d" "stem ${Song}_$target.wav on a clock 100 ppm fast (sox speed 1.0001)" clock_drift "${Song}_$target.wav"

  # A slow clock on a low stem: 20 ppm is 19 samples over 20 s, and the bass stays so well
  # correlated with the mix (0.993) that it read as an offset plus a missing part.
  d="$base/clock_drift_slow_bass"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_Bass.wav"
  $SOX "$work/dry/${Song}_Bass.wav" "${F32[@]}" "$work/drift.wav" speed 1.00002
  fit_len "$work/drift.wav" "$d/${Song}_Bass.wav" $frames; rm -f "$work/drift.wav"
  ln -f "$work/mix_dry.wav" "$d/$mix"
  write_case "$d" "stem ${Song}_Bass.wav on a clock 20 ppm fast (sox speed 1.00002)" clock_drift "${Song}_Bass.wav"

  # A drifting drum stem and a bus compressor: the lag's line scatters a few samples more under
  # the compressor, and no one offset keeps the drums in the fit.
  d="$base/clock_drift_and_compand"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_Drums.wav"
  $SOX "$work/dry/${Song}_Drums.wav" "${F32[@]}" "$work/drift.wav" speed 1.0001
  fit_len "$work/drift.wav" "$d/${Song}_Drums.wav" $frames; rm -f "$work/drift.wav"
  $SOX "$work/mix_dry.wav" "${F32[@]}" "$d/$mix" compand 0.005,0.15 6:-60,-60,-36,-36,0,-18 0 -90 0
  write_case "$d" "stem ${Song}_Drums.wav on a clock 100 ppm fast, and sox compand (as compand_mix) on the mix only" clock_drift "${Song}_Drums.wav" missing_bus_processing

  # The mix on another clock than every stem (printed through outboard into another converter):
  # every stem drifts alike, one cause, the mix's.
  d="$base/mix_clock_drift"; mkdir -p "$d"; link_stems "$work/dry" "$d"
  $SOX "$work/mix_dry.wav" "${F32[@]}" "$work/drift.wav" speed 1.00005
  fit_len "$work/drift.wav" "$d/$mix" $frames; rm -f "$work/drift.wav"
  write_case "$d" "mix on a clock 50 ppm fast (sox speed 1.00005), the stems as exported" clock_drift "$mix"

  d="$base/nan_samples"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_$target.wav"
  cp "$work/dry/${Song}_$target.wav" "$d/${Song}_$target.wav"
  "$PY" - "$d/${Song}_$target.wav" <<'PYEOF'
import struct, sys
path = sys.argv[1]
b = bytearray(open(path, "rb").read())
i, channels, data = 12, 2, None
while i + 8 <= len(b):
    cid, size = b[i:i + 4], struct.unpack("<I", b[i + 4:i + 8])[0]
    if cid == b"fmt ":
        channels = struct.unpack("<H", b[i + 10:i + 12])[0]
    if cid == b"data":
        data = i + 8
        break
    i += 8 + size + (size & 1)
# Three NaN samples (left channel) 10 s in: a float export of a plug-in that blew up.
for k in range(3):
    o = data + ((10 * 48000 + k * 1000) * channels) * 4
    b[o:o + 4] = struct.pack("<f", float("nan"))
open(path, "wb").write(b)
PYEOF
  ln -f "$work/mix_dry.wav" "$d/$mix"
  write_case "$d" "stem ${Song}_$target.wav with three NaN samples 10 s in (float)" non_finite_samples "${Song}_$target.wav"

  # Every file (stems and mix) 6 dB above full scale at the mix peak: legal in float files.
  d="$base/float_over"; mkdir -p "$d"
  boost=$(awk -v p="$peak" 'BEGIN { printf "%.4f", 6 - 20 * log(p) / log(10) }')
  for f in "$work"/dry/*.wav "$work/mix_dry.wav"; do
    o="$d/$(basename "$f")"; [ "$f" = "$work/mix_dry.wav" ] && o="$d/$mix"
    # ffmpeg, not sox: sox works in fixed point and would clip the overs.
    ffmpeg -nostdin -v error -y -i "$f" -af "volume=${boost}dB" -c:a pcm_f32le "$o"
  done
  write_case "$d" "every file raised so the mix peaks at +6 dBFS (float, not clipped)" float_over "" "" "true_peak_over low_headroom dc_offset"

  d=$(newcase master_reference); ln -f "$work/mix_dry.wav" "$d/$mix"
  ffmpeg -nostdin -v error -y -i "$work/mix_dry.wav" \
    -af "alimiter=level_in=4:limit=0.7:attack=2:release=30:level=disabled:latency=1" -c:a pcm_f32le "$d/${Song}_Master.wav"
  write_case "$d" "none: a mastered reference (+12 dB into a limiter) beside the mix" none ""

  d="$base/normalised_stems"; mkdir -p "$d"
  for f in "$work"/dry/*.wav; do $SOX "$f" "${F32[@]}" "$d/$(basename "$f")" gain -n -1; done
  ln -f "$work/mix_dry.wav" "$d/$mix"
  write_case "$d" "every stem peak-normalised to -1 dBFS (sox gain -n -1)" gain_mismatch "" "" "true_peak_over low_headroom dc_offset"

  # REAPER's "stems via master": every stem and the mix through the same master limiter.
  d="$base/master_chain_on_stems"; mkdir -p "$d"
  for f in "$work"/dry/*.wav "$work/mix_dry.wav"; do
    o="$d/$(basename "$f")"; [ "$f" = "$work/mix_dry.wav" ] && o="$d/$mix"
    ffmpeg -nostdin -v error -y -i "$f" \
      -af "alimiter=level_in=8:limit=0.5:attack=2:release=30:level=disabled:latency=1" -c:a pcm_f32le "$o"
  done
  write_case "$d" "every stem and the mix through the same limiter (+18 dB in, -6 dBFS ceiling)" master_processing_on_stems "" "" "dc_offset"

  d="$base/other_rate_stem"; mkdir -p "$d"; link_stems "$work/dry" "$d" "${Song}_$target.wav"
  $SOX "$work/dry/${Song}_$target.wav" "${F32[@]}" "$d/${Song}_$target.wav" rate -v 44100
  ln -f "$work/mix_dry.wav" "$d/$mix"
  write_case "$d" "stem ${Song}_$target.wav exported at 44.1 kHz (sox rate -v)" sample_rate_mismatch "${Song}_$target.wav"

  # Every stem exported from the session's start, 1.5 s before the song, the mix from the
  # song's: the stems line up with each other, 72000 samples late against the mix, and are
  # as much longer.
  d="$base/stems_from_session_start"; mkdir -p "$d"
  for f in "$work"/dry/*.wav; do $SOX "$f" "${F32[@]}" "$d/$(basename "$f")" pad 1.5 0; done
  ln -f "$work/mix_dry.wav" "$d/$mix"
  write_case "$d" "every stem padded with 1.5 s of silence at its start (sox pad 1.5), the mix as it is" start_offset ""

  # A multi-mono export (Pro Tools "Multiple Mono", Logic "Split"): every stereo stem as two
  # mono files, <name>.L.wav and <name>.R.wav; then the same with the keys' two files named
  # the wrong way round (the left file holds the right channel).
  split_stereo() { # split_stereo IN DIR [swapped]
    local b; b=$(basename "$1" .wav)
    if [ "$(soxi -c "$1" 2>/dev/null)" != 2 ]; then ln -f "$1" "$2/"; return; fi
    local l=1 r=2; [ "${3:-}" = swapped ] && { l=2; r=1; }
    $SOX "$1" "${F32[@]}" "$2/$b.L.wav" remix $l
    $SOX "$1" "${F32[@]}" "$2/$b.R.wav" remix $r
  }
  d="$base/split_stereo_export"; mkdir -p "$d"
  for f in "$work"/dry/*.wav; do split_stereo "$f" "$d"; done
  ln -f "$work/mix_dry.wav" "$d/$mix"
  write_case "$d" "none: every stereo stem exported as two mono files (.L, .R), as a multi-mono export writes them" none ""
  if [ -f "$work/dry/${Song}_Keys.wav" ]; then
    d="$base/split_stereo_swapped"; mkdir -p "$d"
    for f in "$work"/dry/*.wav; do
      if [ "$(basename "$f")" = "${Song}_Keys.wav" ]; then split_stereo "$f" "$d" swapped
      else split_stereo "$f" "$d"; fi
    done
    ln -f "$work/mix_dry.wav" "$d/$mix"
    write_case "$d" "every stereo stem as two mono files (.L, .R), the keys' left file holding the right channel and the right file the left" channels_swapped "${Song}_Keys.L.wav"
  fi
done
echo "== corpus: written to $OUT" >&2
