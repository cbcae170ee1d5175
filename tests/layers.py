#!/usr/bin/env python3
"""Checks that the modules of each crate depend on each other in one direction.

Reads every `crate::...` and `super::...` path in the Rust files of a crate and
finds, for every module, the dependencies between its children (a child
counts with all of its descendants). A cycle among the children of any module
fails the check; a module and its own children may use each other. For the
server crate the top-level modules must also follow the order in LAYERS:
each may use only the ones after it (see ARCHITECTURE.md).

    tests/layers.py                 check server/, planner/ and connectors/
    tests/layers.py --self-test     plant a cycle in a copy of server/src and expect a failure
"""
import os
import re
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRATES = ["server/src", "planner/src", "connectors/src"]
# The server's layers, top first: a module may use the ones after it, never before.
LAYERS = {"server/src": ["cli", "frontend", "session", "engine", "dataflow", "storage"]}

PATH = re.compile(r"\b(crate|super)((?:::(?:super\b|[A-Za-z_][A-Za-z0-9_]*|\{[^}]*\}))+)")


def module_of(rel):
    """The module path of a file relative to src/: main.rs -> (), a/mod.rs -> (a,), a/b.rs -> (a, b)."""
    parts = rel[:-3].split(os.sep)
    if parts[-1] in ("main", "lib", "mod"):
        parts = parts[:-1]
    return tuple(parts)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def references(src):
    """(from module, to module, file) for every path that names another module."""
    files = {}
    for d, _, names in os.walk(src):
        for n in names:
            if n.endswith(".rs"):
                rel = os.path.relpath(os.path.join(d, n), src)
                files[module_of(rel)] = rel
    modules = set(files)
    out = []
    for mod, rel in files.items():
        text = strip_comments(open(os.path.join(src, rel), encoding="utf-8").read())
        for m in PATH.finditer(text):
            base = [] if m.group(1) == "crate" else list(mod[:-1])
            segments = [s for s in m.group(2).split("::") if s]
            while segments and segments[0] == "super":
                base = base[:-1]
                segments.pop(0)
            heads = []
            if segments and segments[0].startswith("{"):
                heads = [h.strip().split("::") for h in segments[0][1:-1].split(",") if h.strip()]
            else:
                heads = [segments]
            for head in heads:
                path = tuple(base + [s for s in head if s and s != "self"])
                # The longest prefix that is a module file.
                while path and path not in modules:
                    path = path[:-1]
                if path != mod:
                    out.append((mod, path, rel))
    return modules, out


def child_under(parent, mod):
    if len(mod) > len(parent) and mod[: len(parent)] == parent:
        return mod[len(parent)]
    return None


def find_cycle(graph):
    """A cycle in {node: set(nodes)} as a list of nodes, or None."""
    state = {}
    stack = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def check(src, layers=None):
    """Problems found in one crate's src folder, as lines of text."""
    modules, refs = references(src)
    problems = []
    for parent in sorted(modules):
        graph, why = {}, {}
        for a, b, rel in refs:
            ca, cb = child_under(parent, a), child_under(parent, b)
            if ca and cb and ca != cb:
                graph.setdefault(ca, set()).add(cb)
                why.setdefault((ca, cb), f"{rel} uses {'::'.join(b) or 'crate'}")
        cycle = find_cycle(graph)
        if cycle:
            name = "::".join(parent) or "crate"
            steps = "; ".join(why[(x, y)] for x, y in zip(cycle, cycle[1:]))
            problems.append(f"cycle among the modules of {name}: {' -> '.join(cycle)} ({steps})")
    for a, b, rel in refs:
        if layers and a and b and a[0] in layers and b[0] in layers and layers.index(a[0]) > layers.index(b[0]):
            problems.append(f"{rel} uses {'::'.join(b)}: layer {a[0]} may use only {', '.join(layers[layers.index(a[0]) + 1:]) or 'nothing'}")
    return sorted(set(problems))


def main():
    if sys.argv[1:] == ["--self-test"]:
        with tempfile.TemporaryDirectory() as tmp:
            copy = os.path.join(tmp, "src")
            shutil.copytree(os.path.join(ROOT, "server/src"), copy)
            assert not check(copy, LAYERS["server/src"]), "the real tree must pass before a cycle is planted"
            with open(os.path.join(copy, "dataflow", "ops.rs"), "a", encoding="utf-8") as f:
                f.write("\nfn planted() { let _ = crate::dataflow::join::JoinConfig::default; }\n")
            with open(os.path.join(copy, "dataflow", "join.rs"), "a", encoding="utf-8") as f:
                f.write("\nfn planted() { let _ = crate::dataflow::ops::Filter::new; }\n")
            found = check(copy)
            assert any("cycle among the modules of dataflow" in p for p in found), found
            with open(os.path.join(copy, "storage", "codec.rs"), "a", encoding="utf-8") as f:
                f.write("\nuse crate::engine::Engine;\n")
            found = check(copy, LAYERS["server/src"])
            assert any("layer storage may use only nothing" in p for p in found), found
        print("[layers] self-test: planted cycles and an upward use were found")
        return 0
    problems = []
    for crate in CRATES:
        problems += [f"{crate}: {p}" for p in check(os.path.join(ROOT, crate), LAYERS.get(crate))]
    for p in problems:
        print(f"[layers] {p}", file=sys.stderr)
    if problems:
        print("[layers] see ARCHITECTURE.md for the direction of dependencies", file=sys.stderr)
        return 1
    print("[layers] no cycles; the server's layers go one way")
    return 0


if __name__ == "__main__":
    sys.exit(main())
