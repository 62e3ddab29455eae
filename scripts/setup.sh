#!/usr/bin/env bash
# Installs the Debian 12 packages ppd builds with. Idempotent: packages already present are
# skipped, so a second run does nothing but check.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-url1.81-dev
  nlohmann-json3-dev libopenblas-dev libcli11-dev
  libspdlog-dev libfmt-dev libxxhash-dev libicu-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  gnuplot-nox python3 clang-format
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
