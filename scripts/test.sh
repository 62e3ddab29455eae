#!/usr/bin/env bash
# Builds the release and the ASan/UBSan presets and runs every test in both.
# Tests that need ../shared read it through PPD_SHARED_DIR (unset: they skip, saying why).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
presets=("${@:-release}")
if (($# == 0)); then presets=(release asan); fi
for preset in "${presets[@]}"; do
  echo "== ${preset}: configure, build, test"
  cmake --preset "${preset}" >/dev/null
  cmake --build --preset "${preset}" -j "${jobs}"
  ctest --preset "${preset}" -j "${jobs}" --timeout 900
done
