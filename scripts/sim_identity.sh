#!/usr/bin/env bash
# Runs a fixed set of simulator commands and writes their result files into OUT, so that two
# builds can be compared byte for byte (`cmp`) across a refactor that must not change the
# simulator's behaviour:
#   scripts/sim_identity.sh PPD_BINARY OUT
#   cmp -s OUT_before/x OUT_after/x for every x  (or: diff -r OUT_before OUT_after)
# The scorecard's report.md names the machine, so it is left out; its scorecard.json is kept.
# Needs PPD_SHARED_DIR for the Mooncake and Azure traces. About 3 minutes on 2 cores.
set -euo pipefail
ppd=$(realpath "$1")
out=$2
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(realpath "$out")
# The profile is copied in and named relatively, so result files name the same path wherever
# the repository or the output folder is.
cp "${here}/tests/data/gpu-profiles/profile-h100.json" "${out}/input-profile-h100.json"
cd "$out"
h100=input-profile-h100.json
run() { local name=$1; shift; echo "sim_identity: ${name}"; "$ppd" sim "$@" --json "${out}/${name}.json" --records >/dev/null; }
for policy in pd pd-full local split threshold ppd; do
  run "paper-${policy}" --policy "$policy" --rate 2 8 --seed 5
done
run paper-ppd-slo --policy ppd --guard-ttft-ms 400 --guard-tpot-ms 40 --rate 4 --seed 1
run paper-ppd-profile --policy ppd --profile "$h100" --rate 4 --seed 2
run distribution-ppd --workload distribution --policy ppd --num-conversations 60 --think-time-s 2 --rate 3 --seed 7
run distribution-threshold --workload distribution --policy threshold --threshold-prefill-queue-tokens 4096 \
  --threshold-decode-running 64 --num-conversations 60 --rate 3 --seed 7
run mooncake-ppd --workload mooncake --policy ppd --num-conversations 200 --rate 6 --prefill 2 --decode 2
run azure-pd --workload azure --policy pd --num-conversations 200 --rate 6 --max-turns 4
"$ppd" sim interference >"${out}/interference-roofline.txt"
"$ppd" sim interference --profile "$h100" >"${out}/interference-h100.txt"
"$ppd" sim sweep --splits 1P3D 2P2D --rate 2 6 --policies pd ppd local --num-conversations 40 --jobs 2 \
  --json "${out}/sweep.json" >/dev/null 2>&1
"$ppd" sim scorecard --profiles "$h100" --links 150e9 10e9 --splits 1P1D --rate 4 --workloads paper \
  --paper-contexts small large --paper-types tiny mid_bal huge_paste --num-conversations 30 --jobs 2 \
  --out "${out}/scorecard" >/dev/null 2>&1
rm -f "${out}/scorecard/report.md"
echo "sim_identity: wrote $(find "$out" -type f | wc -l) files to ${out}"
