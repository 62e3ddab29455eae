#!/usr/bin/env bash
# Soak test against `ppd up` (1 prefill, 2 decode): N concurrent multi-turn streams for M minutes
# with a fault on a schedule (kill, stop and continue, drain a node). See scripts/soak.py for the
# flags and the checks: scripts/soak.sh [--streams 100] [--minutes 10] [--fault-every-s 60]
# [--out DIR]. Needs build/release/ppd (or --ppd PATH) and python3; exits 1 when a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 scripts/soak.py "$@"
