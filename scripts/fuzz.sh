#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS (default 60) with ASan and UBSan:
# scripts/fuzz.sh TARGET [SECONDS]. TARGET is one of fuzz_http_openai, fuzz_node_api,
# fuzz_kv_wire, fuzz_tokenizer_text, fuzz_model_files, fuzz_traces. Builds the `fuzz` preset
# (clang++-16 when installed, else clang++; clang 14 cannot build the coroutines with ASan) into
# build/fuzz the first time. Corpora: the seeds in fuzz/corpus/<name>/ and the minimized corpus
# of earlier runs in fuzz/corpora.tar.xz, unpacked into build/fuzz/corpus/<name>/, where new
# inputs go too. To keep them: merge (-merge=1) each build/fuzz/corpus/<name> into a fresh
# directory and pack those as fuzz/corpora.tar.xz. A crash is written to
# build/fuzz/artifacts/<name>/ and the script exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

targets="fuzz_http_openai fuzz_node_api fuzz_kv_wire fuzz_tokenizer_text fuzz_model_files fuzz_traces"
target=${1:-}
seconds=${2:-60}
if [[ -z "$target" || " $targets " != *" $target "* ]]; then
  echo "usage: scripts/fuzz.sh TARGET [SECONDS]; TARGET: ${targets// /, }" >&2
  exit 2
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || (( seconds < 1 )); then
  echo "fuzz.sh: SECONDS must be a positive integer; got \"$seconds\"" >&2
  exit 2
fi
cxx=$(command -v clang++-16 || command -v clang++ || true)
if [[ -z "$cxx" ]]; then
  echo "fuzz.sh: needs clang with libFuzzer: apt-get install -y --no-install-recommends clang-16 libclang-rt-16-dev" >&2
  exit 1
fi
if [[ ! -f build/fuzz/build.ninja ]]; then
  cmake --preset fuzz -DCMAKE_CXX_COMPILER="$cxx" > /dev/null
fi
cmake --build build/fuzz --target "$target"

name=${target#fuzz_}
work=build/fuzz/corpus/$name
artifacts=build/fuzz/artifacts/$name
mkdir -p "$work" "$artifacts"
if [[ -z "$(ls -A "$work")" && -f fuzz/corpora.tar.xz ]]; then
  tar -C build/fuzz/corpus -xJf fuzz/corpora.tar.xz "./$name"
fi
echo "fuzz.sh: $target for ${seconds}s on $(nproc) cores of $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
# -timeout: one input taking longer than 10 s is a finding; -rss_limit_mb: so is 2 GiB.
exec "build/fuzz/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" "fuzz/corpus/$name"
