#!/usr/bin/env bash
# Runs `stemcheck fix` on every case of the rendered corpus, then `stemcheck check` on what it
# wrote, and prints one line per case: what fix did (written / refused / could not run) and the
# verdict and null of the fixed folder. Options the cases need (`--match-gains` for gain faults,
# `--residual-stem` for missing content and FX returns) are chosen from case.json's `expect`.
#
#   scripts/fix-corpus.sh [CORPUS_DIR] [STEMCHECK]   (defaults: target/corpus, target/release/stemcheck)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-target/corpus}
bin=${2:-target/release/stemcheck}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-8s %-26s %-24s %-8s %s\n' song case expect fix "check of the fixed folder"
while IFS= read -r cj; do
  dir=$(dirname "$cj")
  song=$(basename "$(dirname "$dir")"); case_name=$(basename "$dir")
  expect=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["expect"])' "$cj")
  args=()
  case "$expect" in
    gain_mismatch) args+=(--match-gains) ;;
    missing_fx_return|missing_element) args+=(--residual-stem) ;;
  esac
  dest="$out/$song-$case_name"
  status=0
  "$bin" fix "$dir" --out "$dest" "${args[@]}" >"$dest.log" 2>&1 || status=$?
  case $status in
    0) fix=written ;;
    1) fix=refused ;;
    *) fix="exit$status" ;;
  esac
  result=-
  if [ $status -eq 0 ]; then
    result=$("$bin" check "$dest" --json - --fail-on never 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
r = d.get("reconciliation") or {}
codes = sorted({f["code"] for f in d["findings"] if f["severity"] != "info"})
null = r.get("null_depth_db")
print(d["verdict"], "null %.1f dB" % null if null is not None else "no null", " ".join(codes))')
  fi
  printf '%-8s %-26s %-24s %-8s %s\n' "$song" "$case_name" "$expect" "$fix" "$result"
done < <(find "$corpus" -name case.json -not -path '*/.render/*' | LC_ALL=C sort)
