"""The benchmarks' smoke runs: a benchmark section at its --quick size, run by the kramaa-bench
built beside the binary under test, must write every row it promises."""
import os
import subprocess

import pytest


def bench_binary(kramaa_bin):
    """The kramaa-bench beside the binary under test (the test is skipped without one)."""
    bench = os.path.join(os.path.dirname(kramaa_bin), "kramaa-bench")
    if not os.path.exists(bench):
        pytest.skip("kramaa-bench is not built beside the kramaa binary")
    return bench


def bench_smoke(kramaa_bin, tmp_path, section, rows, timeout=600):
    bench = bench_binary(kramaa_bin)
    out = tmp_path / f"{section}.md"
    run = subprocess.run([bench, section, "--quick", "--out", str(out)], capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    text = out.read_text()
    for row in rows:
        assert row in text, row
    return text
