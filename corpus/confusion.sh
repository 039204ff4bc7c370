#!/usr/bin/env bash
# Renders the diagnosis corpus (corpus/render.sh) and prints the confusion table: injected fault
# against the findings `stemcheck check` reports, with pass/fail against issue 3's targets. The
# table is written into BENCHMARKS.md (section "Diagnosis confusion table").
#
#   corpus/confusion.sh [--no-render] [CORPUS_DIR]     (default target/corpus)
set -euo pipefail
cd "$(dirname "$0")/.."
render=1
if [ "${1:-}" = "--no-render" ]; then render=0; shift; fi
dir=${1:-target/corpus}
if [ $render -eq 1 ] || [ ! -d "$dir" ]; then corpus/render.sh "$dir"; fi
cargo run --release -q -p stemcheck-cli --example confusion -- "$dir" --markdown BENCHMARKS.md
