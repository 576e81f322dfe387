#!/usr/bin/env python3
"""Keeps the layers of src/ as the README's architecture section draws them.

    python3 scripts/layers.py              (scripts/test.sh runs it; exit 1 on a violation)
    python3 scripts/layers.py --self-test  (builds a small tree with upward imports, a peer
                                            import, a circle and a room with no floor, and fails
                                            unless each is reported and nothing else is)

Reads every `crate::…` path in src/ (use lines and inline paths, tests included) and fails on
  - an upward import: a room importing a room on a higher floor of LAYERS, or a room of its
    own floor (rooms of one floor are peers and know nothing of each other);
  - an import circle between two source files (a module graph cycle, inside a room or across);
  - a room (a top-level module of src/) missing from LAYERS, whose imports could not be judged.
Module paths are resolved to files: `crate::cache::keys::page_key` is src/cache/keys.rs.
"""
import os
import re
import sys
import tempfile

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


def module_files(root):
    """Maps a module path ('cache::keys') to its file, for every file under src/."""
    mods = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".rs"):
                continue
            parts = os.path.relpath(os.path.join(dirpath, f), root)[:-3].split(os.sep)
            if parts[-1] in ("mod", "lib", "main"):
                parts = parts[:-1]
            mods["::".join(parts)] = os.path.join(dirpath, f)
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


def check(root):
    """Every violation under `root` (a src/ directory), and the number of imports and files."""
    mods = module_files(root)
    edges = {m: set() for m in mods}
    problems = []
    unplaced = set()
    for mod, file in sorted(mods.items()):
        if mod == "":  # lib.rs declares the rooms; it imports nothing
            continue
        if file.startswith(os.path.join(root, "bin")):
            mod_room = "bin"
        else:
            mod_room = room(mod)
        if mod_room not in FLOOR and mod_room not in unplaced:
            # A new room must be given a floor, or nothing it imports would be checked.
            unplaced.add(mod_room)
            problems.append(f"{rel(root, file)}: room {mod_room} has no floor in LAYERS")
        with open(file, encoding="utf-8") as fh:
            text = COMMENT.sub("", fh.read())
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
                kind = "a peer of" if FLOOR[to_room] == FLOOR[mod_room] else "a higher floor than"
                problems.append(
                    f"{rel(root, file)} imports crate::{p} ({to_room}, {kind} {mod_room})"
                )
    problems += cycles(root, edges, mods)
    return problems, sum(len(e) for e in edges.values()), len(mods)


def readme_layers(readme):
    """The floors written in the README's `<!-- layers -->` block, one floor a line."""
    with open(readme, encoding="utf-8") as fh:
        text = fh.read()
    marker = text.find("<!-- layers -->")
    if marker < 0:
        return None
    block = re.search(r"```[a-z]*\n(.*?)```", text[marker:], re.S)
    if block is None:
        return None
    return [[r.strip() for r in line.split(",")] for line in block.group(1).splitlines() if line.strip()]


def main():
    problems, imports, files = check(ROOT)
    # The README is what a reader trusts; it must say the order this script enforces.
    readme = os.path.join(ROOT, "..", "README.md")
    if readme_layers(readme) != LAYERS:
        problems.append("README.md's `<!-- layers -->` block does not list LAYERS, one floor a line")
    for p in problems:
        print(f"layers: {p}")
    if problems:
        print(f"layers: {len(problems)} violation(s); the order is in scripts/layers.py and the README")
        return 1
    print(f"layers: {imports} imports between {files} files, no upward import, no circle")
    return 0


# A tree with one of each violation, and the line each must produce. Built fresh on every run so
# the checker cannot silently stop seeing what it exists to see.
SELF_TEST_TREE = {
    "lib.rs": "pub mod api;\npub mod store;\npub mod cache;\npub mod webhooks;\n",
    "api/mod.rs": "pub mod a;\npub mod b;\n",
    "api/a.rs": "use super::b::Thing;\n",
    "api/b.rs": "use crate::api::a::Other;\n",
    "store/mod.rs": "// use crate::api::ignored_in_a_comment;\nuse crate::api::{a::X, b};\n",
    "cache/mod.rs": "use crate::store::Store;\n",
    "webhooks/mod.rs": "fn f() { crate::cache::purge(); }\n",
    "attic/mod.rs": "",
}
SELF_TEST_EXPECTED = [
    "src/store/mod.rs imports crate::api (api, a higher floor than store)",
    "src/store/mod.rs imports crate::api::a::X (api, a higher floor than store)",
    "src/store/mod.rs imports crate::api::b (api, a higher floor than store)",
    "src/webhooks/mod.rs imports crate::cache::purge (cache, a higher floor than webhooks)",
    "import circle: src/api/a.rs <-> src/api/b.rs",
    "src/attic/mod.rs: room attic has no floor in LAYERS",
]


def self_test():
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "src")
        for name, text in SELF_TEST_TREE.items():
            path = os.path.join(root, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        problems, _, _ = check(root)
        # A peer on one floor: move webhooks next to cache for a second pass.
        saved = FLOOR["webhooks"]
        FLOOR["webhooks"] = FLOOR["cache"]
        try:
            peer, _, _ = check(root)
        finally:
            FLOOR["webhooks"] = saved
    missing = [e for e in SELF_TEST_EXPECTED if e not in problems]
    extra = [p for p in problems if p not in SELF_TEST_EXPECTED]
    peer_line = "src/webhooks/mod.rs imports crate::cache::purge (cache, a peer of webhooks)"
    if peer_line not in peer:
        missing.append(peer_line)
    for m in missing:
        print(f"layers self-test: not reported: {m}")
    for x in extra:
        print(f"layers self-test: reported but not planted: {x}")
    if missing or extra:
        return 1
    print(f"layers self-test: {len(SELF_TEST_EXPECTED) + 1} planted violations reported, nothing else")
    return 0


def rel(root, file):
    return os.path.relpath(file, os.path.join(root, ".."))


def cycles(root, edges, mods):
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
                files = sorted(rel(root, mods[g]) for g in group)
                out.append("import circle: " + " <-> ".join(files))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    if sys.argv[1:]:
        print("usage: layers.py [--self-test]", file=sys.stderr)
        sys.exit(2)
    sys.exit(main())
