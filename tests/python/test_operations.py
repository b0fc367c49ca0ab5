"""Operations (docs/OPERATIONS.md) on a devnet of 4 validator processes: `/metrics` in
Prometheus' text format (parsed by the reference client library) with consensus, chain, pool,
JSON-RPC, HTTP and storage metrics that follow what happens; `/livez` and `/readyz` with their
checks; JSON logs. (`/metrics` closed with reads while the probes stay open: OperationsEndpointsTests.)"""
import json
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from bench_support import bench_binary, bench_smoke
from prometheus_client.parser import text_string_to_metric_families

from validators_support import Cluster, wait_until


@pytest.fixture(scope="module")
def cluster(kramaa_bin, tmp_path_factory):
    cluster = Cluster(kramaa_bin, tmp_path_factory.mktemp("operations") / "net", count=4, accounts=2).create()
    cluster.start_all()
    yield cluster
    cluster.shutdown()


def get(port, path, headers=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("content-type"), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type"), error.read().decode()


def metrics(port):
    status, content_type, text = get(port, "/metrics")
    assert status == 200 and content_type.startswith("text/plain; version=0.0.4"), (status, content_type)
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


def transfers(cluster, count):
    v = cluster.validators
    sender = v[0].rpc("eth_accounts")[0]
    hashes = [v[0].rpc("eth_sendTransaction", {"from": sender, "to": "0x" + "44" * 20, "value": "0x1", "gas": "0x5208"}) for _ in range(count)]
    for h in hashes:
        wait_until(lambda: v[0].rpc("eth_getTransactionReceipt", h), 20, message="a transfer")
    return int(v[0].rpc("eth_blockNumber"), 16)


def test_metrics_follow_blocks_transactions_and_calls(cluster):
    v = cluster.validators
    before = metrics(v[1].rpc_port)
    head = transfers(cluster, 5)
    wait_until(lambda: v[1].number() >= head, 20, message="validator 1 at the head")
    for _ in range(7):
        v[1].rpc("eth_chainId")
    after = metrics(v[1].rpc_port)
    height = int(v[1].rpc("eth_blockNumber"), 16)
    assert value(after, "kramaa_consensus_height") >= head and value(after, "ethereum_blockchain_height") == value(after, "kramaa_consensus_height")
    assert value(after, "ethereum_best_known_block_number") >= value(after, "ethereum_blockchain_height")
    assert value(after, "kramaa_consensus_validators") == 4 and value(after, "kramaa_p2p_peers") == 3 == value(after, "ethereum_peer_count")
    assert int(v[1].rpc("net_peerCount"), 16) == 3 and v[1].rpc("eth_syncing") is False  # JSON-RPC agrees with the metrics
    assert value(after, "kramaa_consensus_total_txs") - (value(before, "kramaa_consensus_total_txs") or 0) >= 5
    assert value(after, "kramaa_chain_gas_used_total") - (value(before, "kramaa_chain_gas_used_total") or 0) >= 5 * 21000
    assert value(after, "kramaa_consensus_rounds_per_height_count") >= 1
    assert value(after, "kramaa_consensus_block_interval_seconds_count") >= 1
    # The height being decided: the next one, or the head's while idle (nothing to decide).
    assert value(after, "kramaa_consensus_height") <= value(after, "kramaa_consensus_current_height") <= height + 1
    assert value(after, "kramaa_consensus_step") in (0, 1, 2)
    calls = value(after, "kramaa_rpc_requests_total", method="eth_chainId") - (value(before, "kramaa_rpc_requests_total", method="eth_chainId") or 0)
    assert calls == 7
    assert value(after, "kramaa_rpc_request_duration_seconds_count", method="eth_chainId") >= 7
    assert value(after, "kramaa_storage_database_bytes") > 0 and value(after, "kramaa_mempool_size", state="pending") is not None
    assert value(after, "kramaa_epcis_indexed_events") == 0
    # Where the time went: validator 1 took the 5 transfers from its peer (admission), executed
    # blocks (proposal or validation), voted (consensus) and stored them; validator 0, which the
    # transfers were sent to, waited for its journal before answering each.
    def grew(samples, old, name, phase):
        return (value(samples, name, phase=phase) or 0) - (value(old, name, phase=phase) or 0)
    assert grew(after, before, "kramaa_node_phase_runs_total", "admission") >= 5
    assert grew(after, before, "kramaa_node_phase_seconds_total", "admission") > 0
    executed = grew(after, before, "kramaa_node_phase_runs_total", "proposal") + grew(after, before, "kramaa_node_phase_runs_total", "validation")
    assert executed >= 1 and grew(after, before, "kramaa_node_phase_runs_total", "consensus") >= 1
    assert grew(after, before, "kramaa_node_phase_runs_total", "storage") >= 1 and grew(after, before, "kramaa_node_phase_seconds_total", "storage") > 0
    assert value(metrics(v[0].rpc_port), "kramaa_node_phase_runs_total", phase="journal") >= 5

    # A refused transaction is counted by reason; an unknown method under "other", not by its name.
    refuse_and_misname(v[1].rpc_port)
    refused = metrics(v[1].rpc_port)
    assert value(refused, "kramaa_mempool_failed_txs_total", reason="undecodable") >= 1
    assert value(refused, "kramaa_rpc_errors_total", method="other") >= 1
    assert not any(name == "kramaa_rpc_requests_total" and ("method", "made_up_method") in labels for name, labels in refused)


def refuse_and_misname(port):
    """An undecodable transaction and a call of a method that does not exist, in one batch."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", method="POST", headers={"content-type": "application/json"},
                                     data=json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": ["0x02"]},
                                                      {"jsonrpc": "2.0", "id": 2, "method": "made_up_method"}]).encode())
    urllib.request.urlopen(request, timeout=10).read()


def test_a_stopped_validator_shows_as_missing_and_missed(cluster):
    v = cluster.validators
    v[3].stop()
    try:
        head = transfers(cluster, 2)
        wait_until(lambda: value(metrics(v[0].rpc_port), "kramaa_consensus_height") >= head, 20, message="the blocks counted")
        samples = metrics(v[0].rpc_port)
        assert value(samples, "kramaa_consensus_missing_validators") == 1
        missed = value(samples, "kramaa_consensus_missed_blocks_total", validator=cluster_address(cluster, 3))
        assert missed is not None and missed >= 1
        assert value(samples, "kramaa_p2p_peers") == 2
    finally:
        v[3].start()


def cluster_address(cluster, i):
    from eth_utils import to_checksum_address
    return to_checksum_address(cluster.addresses[i])


def test_livez_and_readyz_answer_with_their_checks(cluster):
    v = cluster.validators
    status, _, body = get(v[0].rpc_port, "/livez")
    assert status == 200 and json.loads(body)["status"] == "live"
    wait_until(lambda: get(v[0].rpc_port, "/readyz")[0] == 200, 20, message="validator 0 ready")
    ready = json.loads(get(v[0].rpc_port, "/readyz")[2])
    assert ready["ready"] is True and set(ready["checks"]) == {"consensus", "synced", "peers", "storage"}
    assert all(check["ok"] for check in ready["checks"].values())
    assert "connected (at least 1)" in ready["checks"]["peers"]["detail"]


def test_not_ready_when_a_check_fails(cluster):
    v = cluster.validators
    v[2].stop()
    v[2].extra_args = ["--ready-min-peers", "5"]
    try:
        v[2].start()
        status, _, body = get(v[2].rpc_port, "/readyz")
        answer = json.loads(body)
        assert status == 503 and answer["ready"] is False
        assert answer["checks"]["peers"]["ok"] is False and "(at least 5)" in answer["checks"]["peers"]["detail"]
        assert answer["checks"]["storage"]["ok"] is True
        assert get(v[2].rpc_port, "/livez")[0] == 200
    finally:
        v[2].stop()
        v[2].extra_args = []
        v[2].start()


def test_json_logs_are_one_object_per_line(cluster):
    v = cluster.validators
    v[1].stop()
    v[1].extra_args = ["--log-format", "json"]
    try:
        v[1].start()
        wait_until(lambda: "chain " in v[1].log.read_text(errors="replace"), 20, message="the start-up lines")
        lines = [line for line in v[1].log.read_text(errors="replace").splitlines() if line.strip()]
        records = [json.loads(line) for line in lines]
        assert all({"ts", "level", "label", "message"} <= set(r) for r in records)
        assert any(r["message"].startswith("chain ") and r["level"] == "info" for r in records)
    finally:
        v[1].stop()
        v[1].extra_args = []
        v[1].start()


def test_a_scrape_is_quick(cluster):
    v = cluster.validators
    times = []
    for _ in range(30):
        start = time.perf_counter()
        get(v[0].rpc_port, "/metrics")
        times.append(time.perf_counter() - start)
    times.sort()
    assert times[len(times) // 2] < 0.05, times


def test_the_grafana_dashboard_reads_only_metrics_the_node_serves(cluster):
    """docs/grafana/kramaa-node.json: every metric its queries name is in a scrape of a validator."""
    import pathlib
    import re
    dashboard = json.loads((pathlib.Path(__file__).parents[2] / "docs" / "grafana" / "kramaa-node.json").read_text())
    names = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            names |= set(re.findall(r"\b((?:kramaa|ethereum)_[a-z0-9_]+)", target["expr"]))
    assert len(names) >= 20
    refuse_and_misname(cluster.validators[0].rpc_port)  # counters with labels exist from their first event
    status, _, text = get(cluster.validators[0].rpc_port, "/metrics")
    served = set(re.findall(r"^([a-z_][a-z0-9_]*)", text, re.M))
    missing = {n for n in names if n not in served}
    assert not missing, missing


def test_the_ops_benchmark_runs_small(kramaa_bin, tmp_path):
    """scripts/bench.sh ops's measurements at 20,000 events and accounts (the real run: 1,000,000)."""
    bench_smoke(kramaa_bin, tmp_path, "ops", ("EPCIS query by EPC", "by bizLocation and a 1-hour eventTime window", "by parent", "reopened",
                                             "/metrics scrape", "State snapshot written at", "New node joined from it"))


def test_kramaa_bench_refuses_what_it_does_not_know_and_runs_nothing(kramaa_bin, tmp_path):
    """A misspelt section or `--help` must not fall through to running every section (each
    rewrites its part of BENCHMARKS.md; all of them take a quarter of an hour)."""
    bench = bench_binary(kramaa_bin)
    out = tmp_path / "BENCHMARKS.md"
    for args, code in ((["--help"], 0), (["valdators"], 64), (["verify", "--qick"], 64)):
        run = subprocess.run([bench, *args, "--out", str(out)], capture_output=True, text=True, timeout=30)
        assert run.returncode == code, (args, run.returncode, run.stdout[-500:], run.stderr[-500:])
        assert "usage: kramaa-bench" in run.stdout + run.stderr
        if code:
            assert f"unknown {args[-1]}" in run.stderr, run.stderr
        assert not out.exists(), f"{args} wrote {out}"
