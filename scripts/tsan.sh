#!/usr/bin/env bash
# ThreadSanitizer over the threaded serving paths: builds the `tsan` preset and runs the node,
# routing, router, transfer, net and common tests, the in-process node tests and the node and
# router e2e tests (whose `ppd` children are TSan builds too: a report makes a child exit 66,
# which fails its test). Too slow for CI's 30 minutes on 2 cores (about 12 min to build); run it
# before every change to threads, coroutines or the transfer plane. Exits non-zero on a report.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset tsan > /dev/null
cmake --build --preset tsan -j"$(nproc)"
# The e2e tests skip without the shared models: default to ../shared, as .ci/run does.
export PPD_SHARED_DIR="${PPD_SHARED_DIR:-$(cd .. && pwd)/shared}"
export OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
ctest --preset tsan -j"$(nproc)" --timeout 1500 \
  -R '^(Node|Router|Frontend|Dispatch|NodeClient|NodeStream|ClusterMonitor|Tcp|Transfer|Kv|Emulated|Fault|Http|Metrics|ThreadPool|Conversation|Cli|Up|ChildProcess|BenchServe)'
