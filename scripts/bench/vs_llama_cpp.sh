#!/usr/bin/env bash
# Same-run comparison of ppd's engine with llama.cpp on the same synthetic model shapes
# (issue 23). Outside CI: it builds llama.cpp and runs for tens of minutes.
#
#   scripts/bench/vs_llama_cpp.sh [--models small,medium] [--threads 1,2] [--types f32,f16,q8_0]
#                                 [--rounds 3] [--out DIR]
#
# 1. Builds llama-bench and llama-batched-bench from the npm package node-llama-cpp (the
#    llama.cpp source it bundles as llama/gitRelease.bundle), native, under $PPD_LLAMA_DIR
#    (default ~/.cache/ppd/llama.cpp-<version>); nothing of llama.cpp enters the repository.
# 2. Writes each preset as GGUF with `ppd model gguf` (our writer) in each type.
# 3. Runs interleaved rounds: per round, model, threads and type, llama.cpp then ppd, each
#    measuring prefill of 512 tokens, decode at batch 1 and aggregate decode at batch 32, both
#    at a context of 512. KV values are F16 in both engines (llama.cpp's default; llama-bench
#    cannot keep an F32 cache).
#    llama.cpp: llama-bench -p 512 (prefill), llama-bench -n 32 -d 512 (batch 1),
#    llama-batched-bench -npp 512 -ntg 32 -npl 32 (batch 32), each with flash attention on
#    and off, keeping the faster (on this kind of machine off decodes faster at depth, on
#    prefills faster; llama.cpp's default, auto, is on). q8_0 runs all three through
#    llama-batched-bench --no-repack (npl 1 and 32): on CPUs with AMX llama.cpp repacks Q8_0
#    for it and crashes on batches of more than one token (ggml-org/llama.cpp#20824), and
#    llama-bench cannot turn the repacking off.
#    ppd: ppd bench engine --no-probe (work back to back, as llama.cpp's benchmarks run).
# 4. Prints ppd/llama.cpp per row as the median over the rounds with the range, and the
#    machine; writes raw.jsonl, summary.md and summary.json to --out.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
models=small,medium
threads=1,2
types=f32,f16,q8_0
rounds=3
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --models) models=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --types) types=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n 2,27p "$0"; exit 0 ;;
    *) echo "vs_llama_cpp: unknown argument \"$1\"; see --help" >&2; exit 2 ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "vs_llama_cpp: --rounds: must be a positive integer; got \"$rounds\"" >&2; exit 2; }

npm_version=${PPD_LLAMA_NPM_VERSION:-3.22.1}
llama_dir=${PPD_LLAMA_DIR:-$HOME/.cache/ppd/llama.cpp-$npm_version}
ppd=${PPD_BIN:-$root/build/release/ppd}
out=${out:-$(mktemp -d "${TMPDIR:-/tmp}/vs-llama-cpp-XXXXXX")}
mkdir -p "$out" "$llama_dir"
log() { echo "[vs_llama_cpp $(date +%H:%M:%S)] $*" >&2; }

[[ -x "$ppd" ]] || { echo "vs_llama_cpp: $ppd: not built; run cmake --build --preset release" >&2; exit 1; }

build_llama() {
  local bin=$llama_dir/src/build/bin
  if [[ -x $bin/llama-bench && -x $bin/llama-batched-bench ]]; then return; fi
  log "building llama.cpp from node-llama-cpp@$npm_version into $llama_dir (minutes)"
  (cd "$llama_dir" && npm pack --silent "node-llama-cpp@$npm_version" >/dev/null)
  tar -xzf "$llama_dir/node-llama-cpp-$npm_version.tgz" -C "$llama_dir"
  rm -rf "$llama_dir/src"
  git clone -q "$llama_dir/package/llama/gitRelease.bundle" "$llama_dir/src"
  cmake -S "$llama_dir/src" -B "$llama_dir/src/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_SERVER=OFF >"$out/llama-build.log"
  cmake --build "$llama_dir/src/build" -j "$(nproc)" --target llama-bench llama-batched-bench >>"$out/llama-build.log"
}

build_llama
bin=$llama_dir/src/build/bin
llama_tag=$(cd "$llama_dir" && python3 -c "import json; print(json.load(open('package/llama/llama.cpp.info.json'))['tag'])")

IFS=, read -ra model_list <<<"$models"
IFS=, read -ra thread_list <<<"$threads"
IFS=, read -ra type_list <<<"$types"
for m in "${model_list[@]}"; do
  for t in "${type_list[@]}"; do
    gguf=$llama_dir/gguf/$m-$t.gguf
    if [[ ! -f $gguf ]]; then
      mkdir -p "$llama_dir/gguf"
      log "writing $gguf"
      "$ppd" model gguf --model "$m" --type "$t" --out "$gguf.tmp" >&2 && mv "$gguf.tmp" "$gguf"
    fi
  done
done

raw=$out/raw.jsonl
: >"$raw"
# One measurement line: round, model, threads, type, engine, test, tokens/s.
record() {
  printf '{"round": %s, "model": "%s", "threads": %s, "type": "%s", "engine": "%s", "test": "%s", "tokens_per_s": %s}\n' \
    "$1" "$2" "$3" "$4" "$5" "$6" "$7" >>"$raw"
}

# KV values in both engines: F16, llama.cpp's default (llama-bench takes no F32 cache).
kv_type() { echo f16; }

# Prints "<test>\t<tokens/s>" lines from llama-batched-bench's jsonl on stdin: prefill and
# decode at batch 1 from npl 1, decode at batch 32 from npl 32.
batched_rows() {
  python3 -c '
import json, sys
for line in sys.stdin:
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    if r["pl"] == 1:
        print("prefill 512\t%s" % r["speed_pp"]); print("decode b=1 ctx=512\t%s" % r["speed_tg"])
    else:
        print("decode b=%d ctx=512\t%s" % (r["pl"], r["speed_tg"]))'
}

# Prints "<test>\t<tokens/s>" from llama-bench's json on stdin, one line per record.
bench_rows() {
  python3 -c '
import json, sys
for r in json.load(sys.stdin):
    test = "prefill 512" if r["n_gen"] == 0 else "decode b=1 ctx=512"
    print("%s\t%s" % (test, r["avg_ts"]))'
}

# llama.cpp measured with flash attention on and off; each row keeps its faster run (on this
# kind of machine off decodes faster at depth, on prefills faster).
run_llama() {  # round model threads type
  local r=$1 m=$2 t=$3 ty=$4 gguf=$llama_dir/gguf/$2-$4.gguf kv fa
  kv=$(kv_type "$ty")
  : >"$out/.rows"
  for fa in on off; do
    if [[ $ty == q8_0 ]]; then
      "$bin/llama-batched-bench" -m "$gguf" -t "$t" -c 18432 -b 2048 -ub 512 -npp 512 -ntg 32 -npl 1,32 -fa "$fa" \
        -ctk "$kv" -ctv "$kv" --no-repack --output-format jsonl 2>>"$out/llama.log" | batched_rows >>"$out/.rows"
    else
      "$bin/llama-batched-bench" -m "$gguf" -t "$t" -c 18432 -b 2048 -ub 512 -npp 512 -ntg 32 -npl 32 -fa "$fa" \
        -ctk "$kv" -ctv "$kv" --output-format jsonl 2>>"$out/llama.log" | batched_rows >>"$out/.rows"
    fi
  done
  if [[ $ty != q8_0 ]]; then
    "$bin/llama-bench" -m "$gguf" -t "$t" -p 512 -n 0 -r 3 -fa 0,1 -ctk "$kv" -ctv "$kv" -o json 2>>"$out/llama.log" |
      bench_rows >>"$out/.rows"
    "$bin/llama-bench" -m "$gguf" -t "$t" -p 0 -n 32 -d 512 -r 3 -fa 0,1 -ctk "$kv" -ctv "$kv" -o json \
      2>>"$out/llama.log" | bench_rows >>"$out/.rows"
  fi
  sort -t$'\t' -k1,1 -k2,2gr "$out/.rows" | sort -t$'\t' -u -k1,1 >"$out/.best"
  while IFS=$'\t' read -r test tps; do record "$r" "$m" "$t" "$ty" llama.cpp "$test" "$tps"; done <"$out/.best"
}

run_ppd() {  # round model threads type
  local r=$1 m=$2 t=$3 ty=$4 precision
  if [[ $ty == q8_0 ]]; then precision=(--quantize q8_0 --kv-dtype f16); else precision=(--dtype "$ty" --kv-dtype "$(kv_type "$ty")"); fi
  "$ppd" bench engine --models "$m" --threads "$t" --batches 1,32 --prompt-tokens 512 --context-tokens 512 \
    --decode-steps 32 --repeats 3 --no-probe "${precision[@]}" --json "$out/.ppd.json" >>"$out/ppd.log" 2>&1
  python3 - "$out/.ppd.json" <<'PY' >"$out/.rows"
import json, sys
for row in json.load(open(sys.argv[1]))["rows"]:
    print(row["test"] + "\t" + str(row["tokens_per_s"]))
PY
  while IFS=$'\t' read -r test tps; do record "$r" "$m" "$t" "$ty" ppd "$test" "$tps"; done <"$out/.rows"
}

for ((r = 1; r <= rounds; r++)); do
  for m in "${model_list[@]}"; do
    for t in "${thread_list[@]}"; do
      for ty in "${type_list[@]}"; do
        log "round $r/$rounds: $m, $t thread(s), $ty: llama.cpp"
        run_llama "$r" "$m" "$t" "$ty"
        log "round $r/$rounds: $m, $t thread(s), $ty: ppd"
        run_ppd "$r" "$m" "$t" "$ty"
      done
    done
  done
done
rm -f "$out/.rows" "$out/.best" "$out/.ppd.json"

machine=$("$ppd" bench engine --help >/dev/null 2>&1; python3 -c '
import os, re
name = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
print(f"{name}, {os.cpu_count()} logical cores")')
python3 "$root/scripts/bench/vs_llama_cpp_report.py" --raw "$raw" --machine "$machine" \
  --llama "llama.cpp $llama_tag (node-llama-cpp@$npm_version), native build" \
  --ppd "ppd $(git -C "$root" rev-parse --short HEAD)" --out "$out"
log "wrote $out/summary.md, $out/summary.json, $out/raw.jsonl"
