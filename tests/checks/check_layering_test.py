#!/usr/bin/env python3
"""Tests scripts/check_layering.py on the fixture tree beside this file: the clean fixture
passes; each planted violation, planted alone into a fresh copy, fails with its rule's message.

Usage: check_layering_test.py [--checker PATH]   (default: ../../scripts/check_layering.py)
Exit 0 when every case behaves, 1 otherwise. Standard library only (Python 3.11)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "fixture"


def run(checker: Path, root: Path, *extra: str) -> tuple[int, str]:
    p = subprocess.run([sys.executable, str(checker), "--root", str(root), *extra],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def append(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def replace(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise AssertionError(f"fixture changed: {old!r} not in {rel}")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# (name, plant(root), expected substrings of the output, expected number of error lines)
CASES = [
    ("a: undeclared include (same layer, not in DEPS)",
     lambda r: append(r, "src/ppd/low/low.cc", '#include "ppd/net/net.h"\n'),
     ['src/ppd/low/low.cc:6: error: #include "ppd/net/net.h": ppd_low', "does not declare ppd_net",
      "[undeclared]"], 1),
    ("b: include of a higher layer (declared, so only the layer rule fires)",
     lambda r: (append(r, "src/ppd/net/net.cc", '#include "ppd/pure/policy.h"\n'),
                replace(r, "src/ppd/net/CMakeLists.txt", "DEPS ppd_base", "DEPS ppd_base ppd_pure")),
     ['src/ppd/net/net.cc:8: error: #include "ppd/pure/policy.h": net (layer 1, low) may not include pure '
      '(layer 2, pure), a higher layer [layer]'], 1),
    ("c1: <chrono> in the pure folder",
     lambda r: replace(r, "src/ppd/pure/policy.cc", '#include "ppd/low/low.h"\n',
                       '#include "ppd/low/low.h"\n#include <chrono>\n'),
     ["src/ppd/pure/policy.cc:4: error: #include <chrono>: folder pure is pure", "[pure]"], 1),
    ("c2: a clock call in the pure folder",
     lambda r: append(r, "src/ppd/pure/policy.cc",
                      "namespace ppd::pure {\nlong now() { return std::chrono::steady_clock::now()"
                      ".time_since_epoch().count(); }\n}  // namespace ppd::pure\n"),
     ["src/ppd/pure/policy.cc:15: error: 'std::chrono::': folder pure is pure", "[pure]"], 1),
    ("c3: rand() and time() in a pure header",
     lambda r: append(r, "src/ppd/pure/policy.h",
                      "inline int noise() { return rand() % 2; }\ninline long stamp() { return time(nullptr); }\n"),
     ["src/ppd/pure/policy.h:16: error: 'rand(':", "src/ppd/pure/policy.h:17: error: 'time(':"], 2),
    ("d: the sim folder reaches a forbidden library through DEPS",
     lambda r: replace(r, "src/ppd/sim/CMakeLists.txt", "DEPS ppd_pure", "DEPS ppd_pure ppd_high"),
     ["src/ppd/sim/CMakeLists.txt:1: error: ppd_sim depends on ppd_net (ppd_sim -> ppd_high -> ppd_net); "
      "sim must not depend on ppd_net [forbidden]"], 1),
    ("d2: the sim folder includes a forbidden library's header",
     lambda r: append(r, "src/ppd/sim/sim.cc", '#include "ppd/net/net.h"\n'),
     ['src/ppd/sim/sim.cc:8: error: #include "ppd/net/net.h": sim must not depend on ppd_net [forbidden]',
      "does not declare ppd_net"], 2),
    ("e: a cycle in DEPS",
     lambda r: replace(r, "src/ppd/base/CMakeLists.txt", "DEPS fmt::fmt", "DEPS fmt::fmt ppd_low"),
     ["src/ppd/base/CMakeLists.txt:1: error: cycle in declared DEPS: ppd_base -> ppd_low -> ppd_base [cycle]"], 1),
    ("f: a folder in no layer",
     lambda r: (write(r, "src/ppd/extra/CMakeLists.txt", "ppd_add_library(extra SOURCES extra.cc DEPS ppd_base)\n"),
                write(r, "src/ppd/extra/extra.cc", '#include "ppd/base/base.h"\n')),
     ["src/ppd/extra: error: folder extra is in no layer", "[no-layer]"], 1),
    ("g: a program (scan dir apps/) includes a library its target does not link",
     lambda r: replace(r, "apps/CMakeLists.txt", "PRIVATE ppd_high ppd_sim", "PRIVATE ppd_sim"),
     ['apps/main.cc:1: error: #include "ppd/high/high.h": app (apps/CMakeLists.txt:1) does not declare ppd_high'],
     1),
    ("h: a library outside the folder of its name",
     lambda r: replace(r, "src/ppd/net/CMakeLists.txt", "ppd_add_library(net", "ppd_add_library(network"),
     ["error: library ppd_network is defined in src/ppd/net/; it must live in src/ppd/network/", "[name]"], None),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checker", type=Path, default=HERE.parent.parent / "scripts" / "check_layering.py")
    args = ap.parse_args()
    failures = 0

    def expect(name: str, ok: bool, out: str) -> None:
        nonlocal failures
        print(f"{'ok' if ok else 'FAIL'}: {name}")
        if not ok:
            failures += 1
            print("  output was:\n" + "\n".join("    " + line for line in out.splitlines()))

    rc, out = run(args.checker, FIXTURE)
    expect("clean fixture passes (one unused-deps warning)",
           rc == 0 and "0 violations" in out and "[unused]" in out and "warning:" in out, out)
    rc, out = run(args.checker, FIXTURE, "--strict-unused")
    expect("--strict-unused turns the unused dep into a failure",
           rc == 1 and "error: ppd_high declares ppd_base in its DEPS but none of its files includes its headers"
           " [unused]" in out, out)
    rc, out = run(args.checker, FIXTURE, "--help")
    expect("--help names every flag", rc == 0 and all(f in out for f in ("--root", "--config", "--strict-unused")),
           out)

    for name, plant, wanted, n_errors in CASES:
        with tempfile.TemporaryDirectory(prefix="layering_") as tmp:
            root = Path(tmp) / "tree"
            shutil.copytree(FIXTURE, root)
            plant(root)
            rc, out = run(args.checker, root)
            errors = [line for line in out.splitlines() if ": error: " in line]
            ok = rc == 1 and all(w in out for w in wanted) and (n_errors is None or len(errors) == n_errors)
            expect(name, ok, out)

    print(f"check_layering_test: {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
