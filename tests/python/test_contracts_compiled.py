"""The contracts the `kramaa` binary carries (Sources/KramaaContracts/CompiledContracts.swift)
are what contracts/*.vy compile to with the pinned vyper: tools/compile_contracts.py --check."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_compiled_contracts_are_the_sources():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "compile_contracts.py"), "--check"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
