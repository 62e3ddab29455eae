#!/usr/bin/env bash
# Checks that every C++ source of the repository is formatted as .clang-format says
# (clang-format 14, Debian 12's `clang-format` package): `clang-format --dry-run --Werror`.
#   scripts/check_format.sh          check; exit 1 naming the files that differ
#   scripts/check_format.sh --fix    reformat them in place
# Run by CTest as the `clang_format` test.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null; then
  echo "check_format: clang-format not found; install it with scripts/setup.sh" >&2
  exit 1
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.h' '*.cc')
else
  mapfile -t files < <(find src apps tests fuzz -name '*.h' -o -name '*.cc' | sort)
fi
if [[ "${1:-}" == "--fix" ]]; then
  clang-format -i "${files[@]}"
  echo "check_format: ${#files[@]} files formatted"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]} > 0)); then
  printf 'check_format: not formatted as .clang-format says: %s\n' "${bad[@]}" >&2
  echo "check_format: run scripts/check_format.sh --fix" >&2
  exit 1
fi
echo "check_format: ${#files[@]} files formatted as .clang-format says"
