#!/usr/bin/env bash
# The simulator against the real system on this machine: calibrate the CPU step profile
# before and after measuring a 1P+1D `small` cluster with `ppd bench compare` (one profile
# fitted to both calibrations), simulate the same cluster and
# workload with the profile, and compare turn 1 and turn 2+ mean TTFT and TPOT. Then split
# the error: check the profile against the steps the measured nodes logged (the machine's
# drift since calibration), and simulate again with a profile fitted to those logged steps
# (what remains is the simulator's own error: batching, queueing, transfers, routing).
# Run from the repository root after a release build, on an otherwise idle machine; takes
# about twenty minutes.
set -euo pipefail
PPD=${PPD:-./build/release/ppd}
OUT=${OUT:-docs/results/sim-vs-measured}
RATES=${RATES:-0.3,0.8}
POLICIES=${POLICIES:-pd,ppd}
WORKLOAD=(--scale 0.25 --num-conversations 60 --warmup 2 --seed 0)
LINK=27e6  # bytes/s of the decode node's emulated KV link, as in docs/results/compare-small-1p1d
# Tokens the router's chat template (chatml) adds to each user message with this tokenizer: the
# measured turn-1 prompts hold 12 tokens per request more than the messages (results.json,
# summary.turn1.prompt_tokens / num_requests against the workload's nominal lengths).
TEMPLATE_TOKENS=12
# Per-pull overhead of the real remote path beyond the link's bytes/bandwidth (HTTP hops, the
# import calls): five warm, isolated 329-347-token requests on this cluster took 2-18 ms
# (median 10 ms) longer to their first token than the profile's prefill plus the pull at 27 MB/s.
PULL_OVERHEAD_US=10000
# The calibration grid spans the shapes this workload gives the nodes: prompts of 44-537 new
# tokens, appends of 33-281 tokens on up to 553 cached, 1-8 decoding sequences at 100-1,300
# tokens of context. Each context sets a lone prefill of that many tokens, decode batches at
# that context, and decode + full prefill and decode + append (a quarter of it on it) steps.
GRID=(--contexts 128,256,512,1024 --batches 1,2,4,8)
mkdir -p "$OUT"

simulate() {  # simulate PROFILE SUFFIX: one simulated JSON per policy, compared with the measured run
  for policy in ${POLICIES//,/ }; do
    "$PPD" sim --model small --profile "$1" --prefill 1 --decode 1 --kv-cache-mib 1024 --link-bytes-per-s "$LINK" \
      --link-latency-us "$PULL_OVERHEAD_US" --policy "$policy" --rate "$RATES" "${WORKLOAD[@]}" \
      --template-tokens "$TEMPLATE_TOKENS" --json "$OUT/simulated$2-$policy.json" > /dev/null
    "$PPD" sim validate --measured "$OUT/measured/results.json" --simulated "$OUT/simulated$2-$policy.json" || true
  done
}

# Calibrations right before and right after the measurement, fitted together: the machine's
# speed moves over minutes, and the profile should stand for the measurement's window.
"$PPD" sim calibrate --model small --threads 1 "${GRID[@]}" --out "$OUT/profile-before.json" > "$OUT/calibrate-before.txt"
# Debug logs hold each node's steps, which the profiles are checked against and fitted to.
PPD_LOG_LEVEL=debug "$PPD" bench compare --model small --policies "$POLICIES" --rate "$RATES" "${WORKLOAD[@]}" \
  --link-bytes-per-s "$LINK" --out "$OUT/measured" --no-progress
"$PPD" sim calibrate --model small --threads 1 "${GRID[@]}" --out "$OUT/profile-after.json" > "$OUT/calibrate-after.txt"
"$PPD" sim calibrate --refit "$OUT/profile-before.json" --refit "$OUT/profile-after.json" \
  --out "$OUT/profile-cpu-small.json" | tee "$OUT/calibrate.txt"
logs=()
for dir in "$OUT"/measured/logs/*/; do logs+=(--node-log "$dir/prefill-0.log" --node-log "$dir/decode-0.log"); done

simulate "$OUT/profile-cpu-small.json" "" | tee "$OUT/validate.txt"
echo "== the calibrated profile against the steps the measured nodes ran" | tee -a "$OUT/validate.txt"
"$PPD" sim validate --profile "$OUT/profile-cpu-small.json" "${logs[@]}" | sed "s|$OUT/measured/logs/||" \
  | tee -a "$OUT/validate.txt" || true

"$PPD" sim calibrate --model small "${logs[@]//--node-log/--from-node-log}" --out "$OUT/profile-from-nodes.json" \
  | sed "s|$OUT/measured/logs/||" > "$OUT/calibrate-from-nodes.txt"
echo "== simulated with the profile fitted to the measured nodes' own steps" | tee "$OUT/validate-from-nodes.txt"
simulate "$OUT/profile-from-nodes.json" "-from-nodes" | tee -a "$OUT/validate-from-nodes.txt"

# Each policy and rate with a profile fitted to its own run's node steps: what remains is the
# simulator's own error on that run (batching, queueing, transfers, routing).
echo "== each policy and rate simulated with a profile fitted to its own run's node steps" | tee "$OUT/validate-per-run.txt"
for dir in "$OUT"/measured/logs/*/; do
  run=$(basename "$dir")
  policy=${run%-rate*} rate=${run#*-rate}
  "$PPD" sim calibrate --model small --from-node-log "$dir/prefill-0.log" --from-node-log "$dir/decode-0.log" \
    --out "$OUT/profile-$run.json" | grep -E "^step_us|lone prefill|decode step per sequence|mean \|error" \
    | sed "s|$OUT/||; s|^|$run fit: |" | tee -a "$OUT/validate-per-run.txt"
  POLICIES=$policy RATES=$rate simulate "$OUT/profile-$run.json" "-$run" | tee -a "$OUT/validate-per-run.txt"
done
# Several MB of debug lines; the tables above keep what they showed. KEEP_LOGS=1 keeps them.
[ "${KEEP_LOGS:-0}" = 1 ] || rm -rf "$OUT/measured/logs"
