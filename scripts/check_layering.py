#!/usr/bin/env python3
"""Checks that ppd's libraries include each other only the way their CMake DEPS and the layer
rules in scripts/layering.toml allow (issue 22, item 3). Standard library only (Python 3.11).

What it reads:
  * every CMakeLists.txt under src/ppd/<folder>/ (and under the config's scan_dirs, e.g. apps/,
    fuzz/, tests/): ppd_add_library(<name> SOURCES ... DEPS ...) defines library ppd_<name>,
    which must live in src/ppd/<name>/; ppd_add_test / ppd_add_benchmark / ppd_add_fuzzer /
    add_executable / add_library (+ target_link_libraries) define the other targets and their
    DEPS; cmake/*.cmake are read for helper targets such as ppd_boost;
  * every `#include "ppd/<folder>/<file>"` in the .h/.cc files of those folders.

What it reports (exit 1 when any error is found):
  undeclared     a file of target T includes a header of library B, and B is neither T's own
                 library nor reachable from T through declared DEPS (transitively: PUBLIC link
                 dependencies propagate in CMake). A test source may include its own library
                 and whatever its test target's DEPS give transitively.
  layer          a file in layer i includes a folder of a layer above i.
  no-layer       a folder (src/ppd/<folder> or a scan dir) that is in no layer of the config.
  pure           a file of a `pure` folder includes a socket/clock/randomness header or calls
                 a clock or a random source (regexes over the text with comments removed).
  forbidden      a folder listed under [forbidden] depends (directly or through DEPS) on, or
                 includes, a library it must stay independent of.
  cycle          a cycle in the declared DEPS graph.
  name           ppd_add_library(<name>) in a folder whose name is not <name>.
  unknown        an include of "ppd/<x>/..." where src/ppd/<x> is no library folder.
And, as warnings (exit code unaffected unless --strict-unused):
  unused         a library declares a direct DEPS entry whose headers none of its files
                 include (ppd_* libraries, and the external targets mapped in
                 [external_headers]).
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

SOURCE_EXTS = (".h", ".cc", ".hpp", ".cpp")
CMAKE_TARGET_COMMANDS = {
    "ppd_add_library": ("library", ["SOURCES", "DEPS", "AVX2_SOURCES"], []),
    "ppd_add_test": ("test", ["SOURCES", "DEPS", "LABELS"], ["BLAS_MAIN"]),
    "ppd_add_benchmark": ("benchmark", ["SOURCES", "DEPS"], []),
    "ppd_add_fuzzer": ("fuzzer", ["SOURCES", "DEPS"], []),
}
LINK_KEYWORDS = {"PUBLIC", "PRIVATE", "INTERFACE", "LINK_PUBLIC", "LINK_PRIVATE", "LINK_INTERFACE_LIBRARIES"}
ADD_LIBRARY_KEYWORDS = {"STATIC", "SHARED", "MODULE", "OBJECT", "INTERFACE", "IMPORTED", "ALIAS", "GLOBAL",
                        "EXCLUDE_FROM_ALL"}


# ----------------------------------------------------------------------------------------------
# Data model


@dataclass
class Target:
    name: str
    kind: str  # library (ppd_add_library), test, benchmark, fuzzer, executable, helper
    cmake_file: Path
    line: int
    folder: str | None  # the layering folder whose CMakeLists defines it (None for cmake/)
    sources: list[Path] = field(default_factory=list)
    deps: list[str] = field(default_factory=list)  # direct, in declaration order
    public_deps: set[str] = field(default_factory=set)  # the ones that propagate to consumers


@dataclass
class Include:
    file: Path
    line: int
    text: str  # as written, with its delimiters: "ppd/kv/block.h" or <chrono>


@dataclass
class Finding:
    where: str  # file:line
    rule: str
    message: str

    def format(self, severity: str) -> str:
        return f"{self.where}: {severity}: {self.message} [{self.rule}]"


# ----------------------------------------------------------------------------------------------
# Text helpers

_CXX_TOKEN = re.compile(
    r"""(?P<comment>//[^\n]*|/\*.*?\*/)"""
    r"""|(?P<raw>(?:\bu8|\bu|\bU|\bL|\b)R"(?P<delim>[^()\\\s"]{0,16})\(.*?\)(?P=delim)")"""
    r"""|(?P<string>"(?:\\.|[^"\\\n])*")"""
    r"""|(?P<char>'(?:\\.|[^'\\\n])+')""",
    re.S,
)


def _blank(text: str) -> str:
    """Same line structure, no content."""
    return re.sub(r"[^\n]", " ", text)


def strip_cxx(text: str) -> tuple[str, str]:
    """Returns (text without comments, text without comments and string/char literal contents).
    Both keep every newline so that line numbers stay right."""
    no_comments: list[str] = []
    no_literals: list[str] = []
    pos = 0
    for m in _CXX_TOKEN.finditer(text):
        no_comments.append(text[pos:m.start()])
        no_literals.append(text[pos:m.start()])
        tok = m.group(0)
        if m.group("comment") is not None:
            no_comments.append(_blank(tok))
            no_literals.append(_blank(tok))
        else:
            no_comments.append(tok)
            no_literals.append(tok[0] + _blank(tok[1:-1]) + tok[-1] if len(tok) >= 2 else tok)
        pos = m.end()
    no_comments.append(text[pos:])
    no_literals.append(text[pos:])
    return "".join(no_comments), "".join(no_literals)


_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*(<[^>\n]+>|"[^"\n]+")', re.M)
_PPD_INCLUDE = re.compile(r'^"ppd/([^/"]+)/[^"]+"$')


_TYPE_BEFORE = re.compile(r"\b([A-Za-z_][\w:]*)(?:<[^<>;{}()]*>)?[\s&*]+$")
_NOT_TYPES = {"return", "co_return", "co_yield", "co_await", "else", "case", "throw", "new", "delete", "do",
              "sizeof", "decltype", "noexcept", "and", "or", "not"}


def looks_like_declaration(text: str, m: re.Match) -> bool:
    """True when a call-like match `name(` is the declaration of a function of that name (a type
    before it: `double time() const`), not a call (`return time(nullptr)`, `x = rand()`)."""
    if not m.group(0).rstrip().endswith("("):
        return False
    before = text[text.rfind("\n", 0, m.start()) + 1:m.start()]
    t = _TYPE_BEFORE.search(before)
    return bool(t) and t.group(1) not in _NOT_TYPES


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# ----------------------------------------------------------------------------------------------
# CMake parsing (just enough for this project's CMakeLists: commands, comments, quoted args)

_CMAKE_BRACKET_COMMENT = re.compile(r"#\[(=*)\[.*?\]\1\]", re.S)
_CMAKE_LINE_COMMENT = re.compile(r'("(?:\\.|[^"\\])*")|#[^\n]*')
_CMAKE_COMMAND = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(")
_CMAKE_ARG = re.compile(r'"((?:\\.|[^"\\])*)"|([^\s()"]+)')


def strip_cmake_comments(text: str) -> str:
    text = _CMAKE_BRACKET_COMMENT.sub(lambda m: _blank(m.group(0)), text)
    return _CMAKE_LINE_COMMENT.sub(lambda m: m.group(1) if m.group(1) else _blank(m.group(0)), text)


def cmake_commands(text: str):
    """Yields (command_name_lowercase, args, line) for every command call at any depth."""
    text = strip_cmake_comments(text)
    pos = 0
    while True:
        m = _CMAKE_COMMAND.search(text, pos)
        if not m:
            return
        depth, i = 1, m.end()
        while i < len(text) and depth:
            c = text[i]
            if c == '"':
                j = i + 1
                while j < len(text) and text[j] != '"':
                    j += 2 if text[j] == "\\" else 1
                i = j
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            i += 1
        body = text[m.end():i - 1]
        args = [a if a is not None and q is None else q for q, a in
                ((mm.group(1), mm.group(2)) for mm in _CMAKE_ARG.finditer(body))]
        yield m.group(1).lower(), args, line_of(text, m.start())
        pos = i


def split_keywords(args: list[str], multi: list[str], options: list[str]) -> tuple[dict[str, list[str]], set[str]]:
    values: dict[str, list[str]] = {k: [] for k in multi}
    opts: set[str] = set()
    current: str | None = None
    for a in args:
        if a in multi:
            current = a
        elif a in options:
            opts.add(a)
            current = None
        elif current is not None:
            values[current].append(a)
    return values, opts


# ----------------------------------------------------------------------------------------------
# The checker


class Checker:
    def __init__(self, root: Path, config: dict, strict_unused: bool):
        self.root = root.resolve()
        self.config = config
        self.strict_unused = strict_unused
        self.errors: list[Finding] = []
        self.warnings: list[Finding] = []
        self.targets: dict[str, Target] = {}
        self.library_of_folder: dict[str, str] = {}  # folder -> ppd_<folder>
        self.folder_of_library: dict[str, str] = {}
        self.includes: dict[Path, list[Include]] = {}
        self.file_text: dict[Path, tuple[str, str]] = {}
        self.n_ppd_includes = 0

        layers = config.get("layers")
        if not isinstance(layers, list) or not layers:
            raise SystemExit("layering: config has no [[layers]]")
        unknown = set(config) - {"layers", "scan_dirs", "exclude", "pure", "forbidden", "cmake", "external_headers"}
        if unknown:
            raise SystemExit(f"layering: unknown config keys {sorted(unknown)}")
        for layer in layers:
            if set(layer) - {"name", "folders"}:
                raise SystemExit(f"layering: unknown keys {sorted(set(layer) - {'name', 'folders'})} in layer "
                                 f"{layer.get('name')!r} (top-level keys must come before the first [[layers]])")
        self.layer_of: dict[str, int] = {}
        self.layer_names: list[str] = []
        for i, layer in enumerate(layers):
            self.layer_names.append(layer.get("name", f"layer {i}"))
            for folder in layer.get("folders", []):
                if folder in self.layer_of:
                    raise SystemExit(f"layering: config puts folder '{folder}' in two layers")
                self.layer_of[folder] = i
        self.scan_dirs: list[str] = list(config.get("scan_dirs", []))
        self.exclude: list[str] = list(config.get("exclude", []))
        self.pure: set[str] = set(config.get("pure", {}).get("folders", []))
        self.pure_includes = [re.compile(p) for p in config.get("pure", {}).get("forbidden_includes", [])]
        self.pure_calls = [re.compile(p) for p in config.get("pure", {}).get("forbidden_calls", [])]
        self.pure_check_tests = bool(config.get("pure", {}).get("check_tests", True))
        self.forbidden: dict[str, list[str]] = {k: list(v) for k, v in config.get("forbidden", {}).items()}
        self.external_headers: dict[str, list[str]] = {
            k: list(v) for k, v in config.get("external_headers", {}).items()}
        self.option_deps: dict[str, list[str]] = {
            k: list(v) for k, v in config.get("cmake", {}).get("option_deps", {}).items()}

    # -- helpers ---------------------------------------------------------------------------

    def rel(self, p: Path) -> str:
        try:
            return p.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return p.as_posix()

    def excluded(self, p: Path) -> bool:
        r = self.rel(p)
        return any(fnmatch.fnmatch(r, pat) or fnmatch.fnmatch(r + "/", pat) for pat in self.exclude)

    def folder_of_path(self, p: Path) -> str | None:
        """The layering folder of a file: src/ppd/<folder>/... -> folder; <scan_dir>/... -> scan_dir."""
        parts = Path(self.rel(p)).parts
        if len(parts) >= 3 and parts[0] == "src" and parts[1] == "ppd":
            return parts[2]
        for d in self.scan_dirs:
            dp = Path(d).parts
            if tuple(parts[:len(dp)]) == tuple(dp):
                return d
        return None

    def error(self, where: str, rule: str, message: str) -> None:
        self.errors.append(Finding(where, rule, message))

    def warn(self, where: str, rule: str, message: str) -> None:
        self.warnings.append(Finding(where, rule, message))

    # -- reading ---------------------------------------------------------------------------

    def walk(self, base: Path):
        if not base.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(base):
            d = Path(dirpath)
            dirnames[:] = sorted(n for n in dirnames if not self.excluded(d / n) and not n.startswith("."))
            for n in sorted(filenames):
                p = d / n
                if not self.excluded(p):
                    yield p

    def layering_dirs(self) -> list[tuple[str, Path]]:
        out = []
        src = self.root / "src" / "ppd"
        if src.is_dir():
            for d in sorted(src.iterdir()):
                if d.is_dir() and not d.name.startswith(".") and not self.excluded(d):
                    out.append((d.name, d))
        for s in self.scan_dirs:
            d = self.root / s
            if d.is_dir() and not self.excluded(d):
                out.append((s, d))
        return out

    def read_cmake(self) -> None:
        cmake_files: list[tuple[Path, str | None]] = []
        helpers = self.root / "cmake"
        if helpers.is_dir():
            cmake_files += [(p, None) for p in sorted(helpers.glob("*.cmake"))]
        for folder, d in self.layering_dirs():
            cmake_files += [(p, folder) for p in self.walk(d) if p.name == "CMakeLists.txt"]

        for path, folder in cmake_files:
            text = path.read_text(encoding="utf-8", errors="replace")
            links: list[tuple[str, list[str], int]] = []
            for cmd, args, line in cmake_commands(text):
                if cmd in CMAKE_TARGET_COMMANDS and args:
                    kind, multi, options = CMAKE_TARGET_COMMANDS[cmd]
                    if "$" in args[0]:
                        continue  # the helper's own definition in cmake/PpdHelpers.cmake
                    values, opts = split_keywords(args[1:], multi, options)
                    name = f"ppd_{args[0]}" if kind == "library" else args[0]
                    t = Target(name, kind, path, line, folder)
                    t.sources = self.resolve_sources(path.parent, values["SOURCES"] + values.get("AVX2_SOURCES", []))
                    t.deps = list(values["DEPS"])
                    for o in opts:
                        t.deps += [d for d in self.option_deps.get(o, []) if d not in t.deps]
                    t.public_deps = set(t.deps) if kind == "library" else set()
                    self.add_target(t)
                    if kind == "library":
                        where = f"{self.rel(path)}:{line}"
                        if folder is None:
                            pass
                        elif self.folder_of_path(path) != args[0] or path.parent.parent != self.root / "src" / "ppd":
                            self.error(where, "name",
                                       f"library {name} is defined in {self.rel(path.parent)}/; it must live in "
                                       f"src/ppd/{args[0]}/ (folder name == library suffix)")
                        else:
                            self.library_of_folder[args[0]] = name
                            self.folder_of_library[name] = args[0]
                elif cmd in ("add_library", "add_executable") and args:
                    if "$" in args[0] or "ALIAS" in args or "IMPORTED" in args:
                        continue
                    kind = "helper" if cmd == "add_library" else "executable"
                    t = Target(args[0], kind, path, line, folder)
                    t.sources = self.resolve_sources(path.parent, [a for a in args[1:] if a not in ADD_LIBRARY_KEYWORDS])
                    self.add_target(t)
                elif cmd == "target_link_libraries" and args:
                    links.append((args[0], args[1:], line))
            for name, largs, line in links:
                t = self.targets.get(name)
                if t is None or t.cmake_file != path:
                    continue
                visibility = "PUBLIC"
                for a in largs:
                    if a in LINK_KEYWORDS:
                        visibility = a
                        continue
                    if a not in t.deps:
                        t.deps.append(a)
                    if visibility in ("PUBLIC", "INTERFACE", "LINK_PUBLIC", "LINK_INTERFACE_LIBRARIES") or (
                            t.kind == "library"):
                        t.public_deps.add(a)

    def add_target(self, t: Target) -> None:
        if t.name in self.targets:
            prev = self.targets[t.name]
            self.error(f"{self.rel(t.cmake_file)}:{t.line}", "name",
                       f"target {t.name} is also defined at {self.rel(prev.cmake_file)}:{prev.line}")
            return
        self.targets[t.name] = t

    def resolve_sources(self, base: Path, names: list[str]) -> list[Path]:
        out = []
        for n in names:
            n = n.replace("${PROJECT_SOURCE_DIR}", str(self.root)).replace(
                "${CMAKE_SOURCE_DIR}", str(self.root)).replace("${CMAKE_CURRENT_SOURCE_DIR}", str(base))
            if "$" in n:
                continue
            p = Path(n)
            p = p if p.is_absolute() else base / p
            out.append(Path(os.path.normpath(p)))
        return out

    def read_sources(self) -> None:
        for folder, d in self.layering_dirs():
            for p in self.walk(d):
                if p.suffix not in SOURCE_EXTS:
                    continue
                text = p.read_text(encoding="utf-8", errors="replace")
                no_comments, no_literals = strip_cxx(text)
                self.file_text[p] = (no_comments, no_literals)
                incs = []
                for m in _INCLUDE.finditer(no_comments):
                    incs.append(Include(p, line_of(no_comments, m.start()), m.group(1)))
                self.includes[p] = incs

    # -- graph -----------------------------------------------------------------------------

    def closure(self, target: str) -> dict[str, list[str]]:
        """Every target reachable from `target` the way CMake propagates link dependencies: its
        own direct deps, then the PUBLIC/INTERFACE deps of those, transitively. Maps each
        reached target to one path from `target` (for messages)."""
        start = self.targets.get(target)
        if start is None:
            return {}
        reached: dict[str, list[str]] = {}
        stack = [(d, [target, d]) for d in reversed(start.deps)]
        while stack:
            name, path = stack.pop()
            if name in reached:
                continue
            reached[name] = path
            t = self.targets.get(name)
            if t is None:
                continue
            for d in reversed(t.deps):
                if d in t.public_deps and d not in reached:
                    stack.append((d, path + [d]))
        return reached

    def check_cycles(self) -> None:
        graph = {n: [d for d in t.deps if d in self.targets] for n, t in self.targets.items()}
        color: dict[str, int] = {}
        seen_cycles: set[frozenset[str]] = set()

        def visit(n: str, stack: list[str]) -> None:
            color[n] = 1
            stack.append(n)
            for d in graph[n]:
                if color.get(d, 0) == 0:
                    visit(d, stack)
                elif color[d] == 1:
                    ring = stack[stack.index(d):]
                    k = ring.index(min(ring))  # start at the smallest name: stable output
                    cyc = ring[k:] + ring[:k] + [ring[k]]
                    key = frozenset(cyc)
                    if key not in seen_cycles:
                        seen_cycles.add(key)
                        t = self.targets[cyc[0]]
                        self.error(f"{self.rel(t.cmake_file)}:{t.line}", "cycle",
                                   "cycle in declared DEPS: " + " -> ".join(cyc))
            stack.pop()
            color[n] = 2

        sys.setrecursionlimit(max(1000, 10 * len(graph) + 100))
        for n in sorted(graph):
            if color.get(n, 0) == 0:
                visit(n, [])

    # -- rules -----------------------------------------------------------------------------

    def targets_of_file(self, p: Path) -> list[Target]:
        """The targets that compile p: those whose SOURCES list it. A header belongs to the
        targets of its same-stem .cc; failing that, to its folder's library; failing that
        (apps/, tests/, fuzz/ helpers), to the targets of the sources beside it that include it.
        A source no target lists falls back to its folder's library."""
        out = [t for t in self.targets.values() if p in t.sources]
        if out:
            return out
        lib = self.library_of_folder.get(self.folder_of_path(p) or "")
        if p.suffix in (".h", ".hpp"):
            for ext in (".cc", ".cpp"):
                sib = p.with_suffix(ext)
                out = [t for t in self.targets.values() if sib in t.sources]
                if out:
                    return out
            if lib in self.targets:
                return [self.targets[lib]]
            for q, incs in self.includes.items():
                if q.parent == p.parent and q != p and q.suffix not in (".h", ".hpp") and any(
                        i.text == f'"{p.name}"' for i in incs):
                    out += [t for t in self.targets.values() if q in t.sources and t not in out]
            return out
        return [self.targets[lib]] if lib in self.targets else []

    def is_test_only(self, p: Path) -> bool:
        """True when only test/benchmark/fuzzer/executable targets compile p."""
        owners = self.targets_of_file(p)
        return bool(owners) and all(t.kind in ("test", "benchmark", "fuzzer", "executable") for t in owners)

    def pure_applies(self, p: Path) -> bool:
        return self.folder_of_path(p) in self.pure and (self.pure_check_tests or not self.is_test_only(p))

    def check(self) -> None:
        self.read_cmake()
        self.read_sources()

        # no-layer: every folder must be placed.
        for folder, d in self.layering_dirs():
            if folder not in self.layer_of:
                self.error(self.rel(d), "no-layer",
                           f"folder {folder} is in no layer: add it to one of the [[layers]] in the config")
        for folder in self.config.get("forbidden", {}):
            if folder not in self.layer_of:
                self.error("config", "no-layer", f"[forbidden] names folder {folder}, which is in no layer")

        self.check_cycles()
        closures = {name: self.closure(name) for name in self.targets}

        # Library folder -> its library deps that are reachable; test etc. likewise.
        used_direct: dict[str, set[str]] = {n: set() for n, t in self.targets.items() if t.kind == "library"}
        used_external: dict[str, set[str]] = {n: set() for n in used_direct}

        for p in sorted(self.includes):
            folder = self.folder_of_path(p)
            if folder is None:
                continue
            layer = self.layer_of.get(folder)
            owners = self.targets_of_file(p)
            own_lib = self.library_of_folder.get(folder)
            rel = self.rel(p)
            pure_file = self.pure_applies(p)
            for inc in self.includes[p]:
                where = f"{rel}:{inc.line}"
                inner = inc.text[1:-1]
                # external headers: record use for the unused-deps warning
                if own_lib in used_external and any(t.name == own_lib for t in owners):
                    for ext, prefixes in self.external_headers.items():
                        if any(inner.startswith(pre) for pre in prefixes):
                            used_external[own_lib].add(ext)
                # pure folders: forbidden headers
                if pure_file:
                    for rx in self.pure_includes:
                        if rx.search(inc.text):
                            self.error(where, "pure",
                                       f"#include {inc.text}: folder {folder} is pure (no sockets, clocks or "
                                       f"randomness); pattern {rx.pattern}")
                            break
                m = _PPD_INCLUDE.match(inc.text)
                if not m:
                    continue
                self.n_ppd_includes += 1
                dep_folder = m.group(1)
                dep_lib = self.library_of_folder.get(dep_folder)
                if dep_lib is None:
                    self.error(where, "unknown",
                               f"#include {inc.text}: src/ppd/{dep_folder}/ is no library folder "
                               f"(no ppd_add_library({dep_folder}) there)")
                    continue
                if dep_folder == folder:
                    continue
                # layers
                dep_layer = self.layer_of.get(dep_folder)
                if layer is not None and dep_layer is not None and dep_layer > layer:
                    self.error(where, "layer",
                               f"#include {inc.text}: {folder} (layer {layer}, {self.layer_names[layer]}) may not "
                               f"include {dep_folder} (layer {dep_layer}, {self.layer_names[dep_layer]}), a higher layer")
                # forbidden
                if dep_folder in self.forbidden.get(folder, []):
                    self.error(where, "forbidden",
                               f"#include {inc.text}: {folder} must not depend on {dep_lib}")
                # declared deps
                if not owners:
                    continue  # a file no target compiles (nor includes): nothing declares its deps
                for t in owners:
                    if t.name == own_lib:
                        used_direct[t.name].add(dep_lib)
                    allowed = dep_lib == t.name or dep_lib in closures[t.name] or (
                        t.kind != "library" and own_lib is not None and
                        (dep_lib == own_lib or dep_lib in closures.get(own_lib, {})))
                    if not allowed:
                        self.error(where, "undeclared",
                                   f"#include {inc.text}: {t.name} ({self.rel(t.cmake_file)}:{t.line}) does not "
                                   f"declare {dep_lib} in its DEPS, directly or transitively")

        # pure: forbidden calls, over the text without comments and literals
        for p, (_, no_literals) in sorted(self.file_text.items()):
            if not self.pure_applies(p):
                continue
            for rx in self.pure_calls:
                for m in rx.finditer(no_literals):
                    if looks_like_declaration(no_literals, m):
                        continue
                    self.error(f"{self.rel(p)}:{line_of(no_literals, m.start())}", "pure",
                               f"'{m.group(0).strip()}': folder {self.folder_of_path(p)} is pure (no clocks or "
                               f"randomness); pattern {rx.pattern}")

        # forbidden dependencies through DEPS, for every target defined in the folder
        for folder, banned in self.forbidden.items():
            banned_libs = {f"ppd_{b}" for b in banned}
            for t in sorted(self.targets.values(), key=lambda t: (str(t.cmake_file), t.line)):
                if t.folder != folder:
                    continue
                for lib, path in sorted(closures[t.name].items()):
                    if lib in banned_libs:
                        self.error(f"{self.rel(t.cmake_file)}:{t.line}", "forbidden",
                                   f"{t.name} depends on {lib} ({' -> '.join(path)}); {folder} must not depend "
                                   f"on {', '.join(sorted(banned_libs))}")

        # unused direct deps of libraries
        for name, t in sorted(self.targets.items()):
            if t.kind != "library" or name not in self.library_of_folder.values():
                continue
            for d in t.deps:
                if d in self.folder_of_library:
                    unused = d not in used_direct[name]
                elif d in self.external_headers:
                    unused = d not in used_external[name]
                else:
                    continue
                if unused:
                    f = Finding(f"{self.rel(t.cmake_file)}:{t.line}", "unused",
                                f"{name} declares {d} in its DEPS but none of its files includes "
                                f"{'its headers' if d in self.folder_of_library else 'headers ' + ', '.join(self.external_headers[d])}")
                    (self.errors if self.strict_unused else self.warnings).append(f)


    def report(self) -> int:
        for w in self.warnings:
            print(w.format("warning"))
        for e in self.errors:
            print(e.format("error"))
        n_libs = len(self.library_of_folder)
        summary = (f"layering: {n_libs} libraries, {self.n_ppd_includes} includes, {len(self.errors)} violations"
                   + (f", {len(self.warnings)} warnings" if self.warnings else ""))
        print(summary)
        return 1 if self.errors else 0


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(
        description="Check that ppd's libraries include each other only as their CMake DEPS and the "
                    "layer rules allow. Prints one line per violation (file:line, the include, the rule) "
                    "and exits 1 if there is any; prints a one-line summary otherwise.",
        epilog="Rules: undeclared (include not reachable through declared DEPS), layer (include of a "
               "higher layer), no-layer (folder missing from the config), pure (socket/clock/randomness "
               "in a pure folder), forbidden (dependency a folder must not have), cycle (cycle in DEPS), "
               "name (ppd_add_library(<name>) outside src/ppd/<name>/), unknown (include of a folder "
               "that is no library); warning: unused (declared DEPS entry no file includes).")
    ap.add_argument("--root", type=Path, default=here.parent,
                    help="root of the source tree to check (the directory holding src/ppd/); "
                         "default: the parent of this script's folder (%(default)s)")
    ap.add_argument("--config", type=Path, default=None,
                    help="TOML file with the layers and rules; default: ROOT/scripts/layering.toml")
    ap.add_argument("--strict-unused", action="store_true",
                    help="treat declared-but-unused DEPS entries as violations (exit 1) instead of warnings")
    args = ap.parse_args(argv)

    root = args.root.resolve()
    config_path = args.config or root / "scripts" / "layering.toml"
    if not (root / "src" / "ppd").is_dir():
        print(f"layering: {root} has no src/ppd/ folder", file=sys.stderr)
        return 2
    try:
        with open(config_path, "rb") as f:
            config = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        print(f"layering: cannot read config {config_path}: {e}", file=sys.stderr)
        return 2
    checker = Checker(root, config, args.strict_unused)
    checker.check()
    return checker.report()


if __name__ == "__main__":
    sys.exit(main())
