#!/usr/bin/env bash
# The plugin validators on the built bundles: free-audio's clap-validator on StemCheck.clap and
# Steinberg's VST3 validator on StemCheck.vst3 (issue 19, item 7). Called by run-host-tests.sh
# after the bundles are built; by hand: `tests/run-validators.sh` (builds nothing but the
# validator).
#
# Neither validator is on a package registry: clap-validator is a GitHub repository (not on
# crates.io) and the VST3 validator comes with the VST3 SDK (GitHub). So each runs when it can
# be found, and is skipped with a message saying how to provide it otherwise (CI has only the
# package registries):
#   clap-validator:  $CLAP_VALIDATOR (a binary), `clap-validator` on PATH, or $CLAP_VALIDATOR_SRC
#                    (a checkout of https://github.com/free-audio/clap-validator, tag 0.4.1),
#                    built here with cargo (its dependencies come from crates.io; the two test
#                    plugins of its workspace need git dependencies and are left out).
#   VST3 validator:  $VST3_VALIDATOR (the SDK's `validator` binary, vst3sdk 3.7.14 tested).
# A validator that runs and reports a failure fails this script.
set -euo pipefail
cd "$(dirname "$0")/.."

CLAP_BUNDLE=target/bundled/StemCheck.clap
VST3_BUNDLE=target/bundled/StemCheck.vst3
status=0

find_clap_validator() {
  if [ -n "${CLAP_VALIDATOR:-}" ] && [ -x "$CLAP_VALIDATOR" ]; then
    echo "$CLAP_VALIDATOR"; return
  fi
  if command -v clap-validator >/dev/null 2>&1; then
    command -v clap-validator; return
  fi
  if [ -n "${CLAP_VALIDATOR_SRC:-}" ] && [ -f "$CLAP_VALIDATOR_SRC/Cargo.toml" ]; then
    # Build a copy: the checkout stays as it was (its workspace lists the test plugins).
    local work=target/clap-validator-src
    rm -rf "$work" && mkdir -p target && cp -r "$CLAP_VALIDATOR_SRC" "$work"
    sed -i '/"tests\/clack-synth",/d; /"tests\/clack-effect",/d' "$work/Cargo.toml"
    echo "== building clap-validator from $CLAP_VALIDATOR_SRC" >&2
    if CARGO_TARGET_DIR=target/clap-validator cargo build --release \
        --manifest-path "$work/Cargo.toml" --bin clap-validator >&2; then
      echo target/clap-validator/release/clap-validator; return
    fi
    echo "   clap-validator did not build (see above)" >&2
  fi
}

echo "== clap-validator on $CLAP_BUNDLE"
validator=$(find_clap_validator || true)
if [ -z "$validator" ]; then
  echo "SKIP clap-validator: not found. Set CLAP_VALIDATOR to a binary or CLAP_VALIDATOR_SRC to a"
  echo "     checkout of https://github.com/free-audio/clap-validator (0.4.1); results by hand"
  echo "     are in tests/README.md."
elif [ ! -e "$CLAP_BUNDLE" ]; then
  echo "FAIL: $CLAP_BUNDLE missing (cargo xtask bundle stemcheck-plugin --release)"; status=1
else
  "$validator" --version || true
  # Exit status 1 on any failed test; warnings (none expected) are printed.
  if "$validator" validate "$CLAP_BUNDLE" --only-failed; then
    echo "clap-validator: no test failed"
  else
    echo "FAIL: clap-validator reported failures"; status=1
  fi
fi

echo "== VST3 validator on $VST3_BUNDLE"
if [ -z "${VST3_VALIDATOR:-}" ] || [ ! -x "${VST3_VALIDATOR}" ]; then
  echo "SKIP VST3 validator: set VST3_VALIDATOR to the VST3 SDK's validator binary (built from"
  echo "     https://github.com/steinbergmedia/vst3sdk); results by hand are in tests/README.md."
elif [ ! -e "$VST3_BUNDLE" ]; then
  echo "FAIL: $VST3_BUNDLE missing"; status=1
elif "$VST3_VALIDATOR" "$VST3_BUNDLE"; then
  echo "VST3 validator: passed"
else
  echo "FAIL: VST3 validator reported failures"; status=1
fi
exit $status
