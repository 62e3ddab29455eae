#!/usr/bin/env bash
# Experiment: calibrate, pd, calibrate, ppd, calibrate; each policy simulated with the profile
# of the two calibrations around it, and with the outer two (as run.sh does).
set -euo pipefail
PPD=${PPD:-./build/release/ppd}
OUT=${OUT:-docs/results/sim-vs-measured/third-run}
mkdir -p "$OUT"
WORKLOAD=(--scale 0.25 --num-conversations 60 --warmup 2 --seed 0)
GRID=(--contexts 128,256,512,1024 --batches 1,2,4,8)
cal() { "$PPD" sim calibrate --model small --threads 1 "${GRID[@]}" --out "$OUT/c$1.json" > "$OUT/c$1.txt" 2>/dev/null; }
meas() { PPD_LOG_LEVEL=debug "$PPD" bench compare --model small --policies "$1" --rate 0.3,0.8 "${WORKLOAD[@]}" \
  --link-bytes-per-s 27e6 --out "$OUT/measured-$1" --no-progress > "$OUT/measured-$1.log" 2>&1; }
sim() {  # policy profile suffix
  "$PPD" sim --model small --profile "$2" --prefill 1 --decode 1 --kv-cache-mib 1024 --link-bytes-per-s 27e6 \
    --link-latency-us 10000 --policy "$1" --rate 0.3,0.8 "${WORKLOAD[@]}" --template-tokens 12 \
    --json "$OUT/sim-$1-$3.json" > /dev/null
  "$PPD" sim validate --measured "$OUT/measured-$1/results.json" --simulated "$OUT/sim-$1-$3.json" || true
}
date; cal 0; date; meas pd; date; cal 1; date; meas ppd; date; cal 2; date
"$PPD" sim calibrate --refit "$OUT/c0.json" --refit "$OUT/c1.json" --out "$OUT/p-pd.json" > /dev/null
"$PPD" sim calibrate --refit "$OUT/c1.json" --refit "$OUT/c2.json" --out "$OUT/p-ppd.json" > /dev/null
"$PPD" sim calibrate --refit "$OUT/c0.json" --refit "$OUT/c2.json" --out "$OUT/p-outer.json" > /dev/null
echo "== bracketing"; sim pd "$OUT/p-pd.json" bracket; sim ppd "$OUT/p-ppd.json" bracket
echo "== outer calibrations only"; sim pd "$OUT/p-outer.json" outer; sim ppd "$OUT/p-outer.json" outer
for i in 0 1 2; do echo "c$i: $(grep -E '^1 decodes at 146 |^256 on 0 ' "$OUT/c$i.txt" | tr -s ' ' | tr '\n' ';')"; done
rm -rf "$OUT"/measured-*/logs  # the nodes' debug lines (several MB)
