#!/usr/bin/env python3
"""Keeps the layers of src/ as the README's architecture section draws them.

    python3 scripts/layers.py        (scripts/test.sh runs it; exit 1 on a violation)

Reads every `crate::…` path in src/ (use lines and inline paths, tests included) and fails on
  - an upward import: a room importing a room on a higher floor of LAYERS, or a room of its
    own floor (rooms of one floor are peers and know nothing of each other);
  - an import circle between two source files (a module graph cycle, inside a room or across).
Module paths are resolved to files: `crate::cache::keys::page_key` is src/cache/keys.rs.
"""
import os
import re
import sys

# Top to bottom: a room may import only rooms on lower floors.
LAYERS = [
    ["main", "bin"],
    ["cli"],
    ["startup", "preflight"],
    ["api"],
    ["preview", "ratelimit", "telemetry"],
    ["config"],
    ["publish"],
    ["cache", "audit"],
    ["webhooks"],
    ["worker"],
    ["store"],
    ["domain"],
    ["compile", "net", "proxy", "secrets", "clock"],
    ["pagebytes"],
]
FLOOR = {room: i for i, rooms in enumerate(LAYERS) for room in rooms}

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
PATH = re.compile(r"\b((?:crate|super|self)::(?:(?:[a-z_][a-z0-9_]*|super)::)*[a-z_][a-z0-9_]*)")
GROUP = re.compile(r"\b((?:crate|super|self)::(?:(?:[a-z_][a-z0-9_]*|super)::)*)\{([^;]*?)\}", re.S)
COMMENT = re.compile(r"//[^\n]*")


def module_files():
    """Maps a module path ('cache::keys') to its file, for every file under src/."""
    mods = {}
    for dirpath, _, files in os.walk(ROOT):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), ROOT)[:-3].split(os.sep)
            if rel[-1] in ("mod", "lib", "main"):
                rel = rel[:-1]
            mods["::".join(rel)] = os.path.join(dirpath, f)
    return mods


def resolve(mods, path):
    """The longest module prefix of a path: the file that defines what it names."""
    parts = path.split("::")
    for n in range(len(parts), 0, -1):
        cand = "::".join(parts[:n])
        if cand in mods:
            return cand
    return None


def absolute(mod, is_dir_module, path):
    """`super::x` and `self::x` written in module `mod`, as a path from the crate root."""
    parts = path.split("::")
    if parts[0] == "crate":
        return "::".join(parts[1:])
    base = mod.split("::") if mod else []
    if parts[0] == "self":
        parts = parts[1:]
    else:
        # A file module's `super` is its parent; a mod.rs module's `super` is its parent too,
        # but `self` of a mod.rs is the directory itself.
        while parts and parts[0] == "super":
            base = base[:-1]
            parts = parts[1:]
    return "::".join(base + parts)


def room(mod):
    if mod == "":
        return "main"
    return mod.split("::")[0]


def main():
    mods = module_files()
    edges = {m: set() for m in mods}
    problems = []
    for mod, file in sorted(mods.items()):
        if mod == "":  # lib.rs declares the rooms; it imports nothing
            continue
        if file.startswith(os.path.join(ROOT, "bin")):
            mod_room = "bin"
        else:
            mod_room = room(mod)
        text = COMMENT.sub("", open(file, encoding="utf-8").read())
        is_dir = os.path.basename(file) == "mod.rs"
        paths = set(PATH.findall(text))
        for prefix, inner in GROUP.findall(text):
            for item in re.split(r",", inner):
                item = item.strip().split(" as ")[0].strip()
                if item and item != "self":
                    paths.add(prefix + item.replace("{", "").replace("}", "").strip(":"))
        for p in sorted(paths):
            p = absolute(mod, is_dir, p)
            target = resolve(mods, p)
            if target is None or target == mod or target == "":
                continue
            edges[mod].add(target)
            to_room = room(target)
            if to_room == mod_room or mod_room not in FLOOR or to_room not in FLOOR:
                continue
            if FLOOR[to_room] <= FLOOR[mod_room]:
                kind = "a peer" if FLOOR[to_room] == FLOOR[mod_room] else "a higher floor"
                problems.append(f"{rel(file)} imports crate::{p} ({to_room}, {kind} than {mod_room})")
    problems += cycles(edges, mods)
    for p in problems:
        print(f"layers: {p}")
    if problems:
        print(f"layers: {len(problems)} violation(s); the order is in scripts/layers.py and the README")
        return 1
    print(f"layers: {sum(len(e) for e in edges.values())} imports between {len(mods)} files, no upward import, no circle")
    return 0


def rel(file):
    return os.path.relpath(file, os.path.join(ROOT, ".."))


def cycles(edges, mods):
    """Every strongly connected group of more than one file (Tarjan), once each. A module's
    own children (declared with `mod`) may use their parent: that is nesting, not a circle."""
    graph = {
        m: {t for t in ts if not (t.startswith(m + "::") or m.startswith(t + "::"))}
        for m, ts in edges.items()
    }
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                files = sorted(rel(mods[g]) for g in group)
                out.append("import circle: " + " <-> ".join(files))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    sys.exit(main())
