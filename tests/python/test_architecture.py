"""The map matches the code: every import of one of the package's modules is declared in
Package.swift, and the layer numbers README.md and Package.swift give each module are the
ones its dependency edges give it (one more than the highest layer it depends on)."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def computed_layers():
    run = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "check_imports.py"), "--layers"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return {name: int(layer) for layer, name in (line.split() for line in run.stdout.splitlines() if line.strip())}


def test_imports_are_declared_and_layers_follow_the_edges():
    layers = computed_layers()
    assert layers["KramaaPrimitives"] < layers["KramaaChain"] < layers["KramaaNode"] < layers["KramaaAPI"] < layers["KramaaCLI"]
    assert layers["KramaaTags"] < layers["KramaaNode"], "the tag service reads the chain through ChainProvider, not the node"
    readme = open(os.path.join(ROOT, "README.md")).read()
    in_readme = {m.group(1): int(m.group(2)) for m in re.finditer(r"^\| `(\w+)` \| (\d+) \|", readme, re.M)}
    package = open(os.path.join(ROOT, "Package.swift")).read()
    in_package = {m.group(2): int(m.group(1)) for m in re.finditer(r"^//\s+(\d+)\s+(\w+)\b", package, re.M)}
    libraries = {name for name in layers if name != "CSecp256k1"} | {"CSecp256k1"}
    for where, table in (("README.md", in_readme), ("Package.swift", in_package)):
        assert set(table) == libraries, f"{where} lists {sorted(set(table) ^ libraries)} differently from Package.swift's targets"
        wrong = {name: (table[name], layers[name]) for name in table if table[name] != layers[name]}
        assert not wrong, f"{where}: (written, computed) layers differ: {wrong}"
