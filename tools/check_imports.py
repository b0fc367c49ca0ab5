#!/usr/bin/env python3
"""Checks that every target's imports of the package's own modules are declared in
Package.swift (no module reached through another's dependencies) and prints the layers:
each module's layer is one more than the highest layer it imports. Exit 1 on an
undeclared import or a cycle."""
import json, os, re, subprocess, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
desc = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=root, capture_output=True, text=True, check=True).stdout)
targets = {t["name"]: t for t in desc["targets"]}
def path_of(t):
    if t.get("path"): return os.path.join(root, t["path"])
    return os.path.join(root, "Tests" if t["type"] == "test" else "Sources", t["name"])
def declared(t):
    out = set()
    for d in t.get("dependencies", []):
        for kind in ("byName", "target"):
            if kind in d: out.add(d[kind][0])
    return out
ours = set(targets)
failures, imports = [], {}
for name, t in targets.items():
    if t["type"] == "system": imports[name] = set(); continue
    found = set()
    for dirpath, _, files in os.walk(path_of(t)):
        for f in files:
            if f.endswith(".swift"):
                for m in re.finditer(r"^(?:@testable |@_exported )?import (\w+)", open(os.path.join(dirpath, f)).read(), re.M):
                    if m.group(1) in ours: found.add(m.group(1))
    imports[name] = found
    missing = found - declared(t)
    if missing: failures.append(f"{name} imports {sorted(missing)} without declaring them")
layer = {}
def depth(n, seen=()):
    if n in layer: return layer[n]
    if n in seen: failures.append(f"cycle through {n}"); return 0
    deps = declared(targets[n]) & ours
    layer[n] = 1 + max((depth(d, seen + (n,)) for d in deps), default=-1)
    return layer[n]
for n in targets: depth(n)
if "--layers" in sys.argv:
    for n in sorted((n for n in targets if targets[n]["type"] in ("regular", "system", "executable")), key=lambda n: (layer[n], n)):
        print(f"{layer[n]:2d} {n}")
for f in failures: print("error:", f)
sys.exit(1 if failures else 0)
