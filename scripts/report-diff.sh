#!/usr/bin/env bash
# Proves a refactor: the JSON report of every corpus case and of the demo, from two builds of
# `stemcheck`, must be byte-identical.
#
#   scripts/report-diff.sh save   OUT_DIR   [--bin STEMCHECK] [--corpus DIR]
#   scripts/report-diff.sh compare BASE_DIR [--bin STEMCHECK] [--corpus DIR]
#   scripts/report-diff.sh OLD NEW          [--corpus DIR]
#
# `save` writes one JSON report per corpus case (`<song>__<case>.json`) and `demo.json` into
# OUT_DIR; `compare` writes the same into a temporary folder and `cmp`s every file against
# BASE_DIR (a missing or extra file is a difference too). The two-argument form compares two
# builds directly: OLD and NEW are each a `stemcheck` binary or a git revision, which is built
# (release) in a worktree under target/report-diff/ with its own target directory.
#
# STEMCHECK defaults to target/release/stemcheck (build it first); the corpus to target/corpus
# (corpus/render.sh renders it). Relative paths are taken from the folder the script is called
# from. The demo is rendered by each binary into the same fixed folder (target/report-diff-demo),
# so the paths in its report are equal. Exit status: 0 identical, 1 a difference (listed, with
# the first differing lines), 2 could not run.
set -euo pipefail
caller=$(pwd)
cd "$(dirname "$0")/.."
root=$(pwd)

# A path given on the command line, relative to where the script was called from.
from_caller() { case "$1" in /*) echo "$1" ;; *) echo "$caller/$1" ;; esac; }

bin=target/release/stemcheck
corpus=target/corpus
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$(from_caller "$2"); shift 2 ;;
    --corpus) corpus=$(from_caller "$2"); shift 2 ;;
    -h|--help) sed -n 2,18p "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -eq 2 ] || { echo "usage: see scripts/report-diff.sh --help" >&2; exit 2; }
case "${args[0]}" in
  save|compare) args[1]=$(from_caller "${args[1]}") ;;
  # OLD and NEW: a binary that exists from the caller's folder, else a git revision.
  *) for i in 0 1; do
       if [ -e "$(from_caller "${args[$i]}")" ]; then args[i]=$(from_caller "${args[$i]}"); fi
     done ;;
esac
[ -d "$corpus" ] || { echo "report-diff: no corpus at $corpus (run corpus/render.sh)" >&2; exit 2; }
corpus=$(cd "$corpus" && pwd)

# build_rev REV: prints the path of a release `stemcheck` built from git revision REV.
build_rev() {
  local rev sha wt
  rev=$1
  sha=$(git rev-parse --verify "$rev^{commit}") || { echo "report-diff: $rev is neither a file nor a revision" >&2; exit 2; }
  wt="$root/target/report-diff/$sha"
  if [ ! -x "$wt/target/release/stemcheck" ]; then
    [ -d "$wt/src" ] || [ -d "$wt/cli" ] || git worktree add --detach "$wt" "$sha" >&2
    (cd "$wt" && cargo build --release --locked -q -p stemcheck-cli >&2)
  fi
  echo "$wt/target/release/stemcheck"
}

resolve_bin() {
  if [ -f "$1" ]; then (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); else build_rev "$1"; fi
}

# save_reports BIN OUT: one JSON per case plus the demo's.
save_reports() {
  local b out case_json case_dir name status
  b=$1; out=$2
  # resolve_bin runs in a subshell: its failure leaves an empty path here, not an exit.
  [ -n "$b" ] && [ -x "$b" ] || { echo "report-diff: no stemcheck binary to run ('$b')" >&2; exit 2; }
  mkdir -p "$out"
  while IFS= read -r case_json; do
    case_dir=$(dirname "$case_json")
    name="$(basename "$(dirname "$case_dir")")__$(basename "$case_dir")"
    status=0
    "$b" check "$case_dir" --json - --fail-on never >"$out/$name.json" 2>/dev/null || status=$?
    [ $status -eq 0 ] || echo "exit $status" >>"$out/$name.json"
  done < <(find "$corpus" -name case.json -not -path '*/.render/*' | LC_ALL=C sort)
  local demo_dir="$root/target/report-diff-demo"
  rm -rf "$demo_dir"
  status=0
  "$b" demo --keep "$demo_dir" --json "$out/demo.json" >/dev/null 2>&1 || status=$?
  [ $status -eq 0 ] || echo "exit $status" >>"$out/demo.json"
}

# compare_dirs BASE NEW
compare_dirs() {
  local base new f differ=0 n=0
  base=$1; new=$2
  for f in "$base"/*.json "$new"/*.json; do basename "$f"; done | LC_ALL=C sort -u | while IFS= read -r f; do
    if [ ! -f "$base/$f" ] || [ ! -f "$new/$f" ]; then
      echo "DIFFERS $f: only in $([ -f "$base/$f" ] && echo base || echo new)"
    elif ! cmp -s "$base/$f" "$new/$f"; then
      echo "DIFFERS $f"
      # diff exits 1 on a difference: under pipefail that would end the loop (and, with
      # set -e, the script) at the first differing report, before anything is printed.
      { diff <(tr ',' '\n' <"$base/$f") <(tr ',' '\n' <"$new/$f") || true; } | head -8 | sed 's/^/    /'
    fi
  done >"$new.diff" || true
  n=$(find "$new" -name '*.json' | wc -l)
  if [ -s "$new.diff" ]; then
    cat "$new.diff"
    differ=$(grep -c '^DIFFERS' "$new.diff")
    echo "report-diff: $differ of $n reports differ"
    return 1
  fi
  echo "report-diff: all $n reports byte-identical"
}

case "${args[0]}" in
  save)
    save_reports "$(resolve_bin "$bin")" "${args[1]}"
    echo "report-diff: saved $(find "${args[1]}" -name '*.json' | wc -l) reports to ${args[1]}"
    ;;
  compare)
    tmp=$(mktemp -d)
    save_reports "$(resolve_bin "$bin")" "$tmp/new"
    compare_dirs "${args[1]}" "$tmp/new"
    ;;
  *)
    old=$(resolve_bin "${args[0]}"); new=$(resolve_bin "${args[1]}")
    tmp=$(mktemp -d)
    save_reports "$old" "$tmp/old"
    save_reports "$new" "$tmp/new"
    compare_dirs "$tmp/old" "$tmp/new"
    ;;
esac
