"""Shared fixtures: the kramaa binary under test."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def kramaa_bin():
    path = os.environ.get("KRAMAA_BIN") or str(ROOT / ".build" / "release" / "kramaa")
    if not os.access(path, os.X_OK):
        pytest.fail(f"kramaa binary not found at {path}: build it (swift build -c release) or set KRAMAA_BIN")
    return path


@pytest.fixture
def kramaa(kramaa_bin):
    def run(*args, check=True):
        proc = subprocess.run([kramaa_bin, *args], capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"kramaa {' '.join(args)} exited {proc.returncode}: {proc.stderr}{proc.stdout}")
        return proc
    return run
