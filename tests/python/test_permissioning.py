"""Permissioning (docs/PERMISSIONING.md) on a devnet of 4 validator processes: the senders,
deployers and nodes lists change only through proposals more than two thirds of the validators
approve (`kramaa permissions`); a restricted list refuses with the reason in the pool and
every block; a follower that the nodes list no longer admits is disconnected and refused, and
let back in when allowed."""
import json
import subprocess
import time

import pytest

from consensus_observer import ConsensusObserver
from validators_support import Cluster, wait_until
from conftest import RPCError

# A contract that returns a 1-byte runtime (STOP): the simplest deployment.
INIT_CODE = "0x600160008160098239f300"


@pytest.fixture(scope="module")
def cluster(kramaa_bin, tmp_path_factory):
    cluster = Cluster(kramaa_bin, tmp_path_factory.mktemp("permissions") / "net", count=4, accounts=4).create()
    cluster.start_all()
    yield cluster
    cluster.shutdown()


def permissions(kramaa_bin, cluster, *args, validator=0, check=True):
    v = cluster.validators[validator]
    run = subprocess.run([kramaa_bin, "permissions", *args, "--rpc", f"http://127.0.0.1:{v.rpc_port}",
                          *(["--key", str(v.datadir / "node-key.json")] if args[0] in ("allow", "restrict", "approve") else [])],
                         capture_output=True, text=True, timeout=60)
    if check:
        assert run.returncode == 0, run.stderr + run.stdout
    return run


def passed(kramaa_bin, cluster, *proposal):
    """Proposes with validator 0 and approves with 1 and 2 (3 of 4: more than two thirds)."""
    made = permissions(kramaa_bin, cluster, *proposal)
    pid = made.stdout.split()[-1]
    assert "2 approval(s), open" in permissions(kramaa_bin, cluster, "approve", pid, validator=1).stdout
    assert "executed" in permissions(kramaa_bin, cluster, "approve", pid, validator=2).stdout
    return pid


def send(node, tx):
    hash_ = node.rpc("eth_sendTransaction", tx)
    receipt = wait_until(lambda: node.rpc("eth_getTransactionReceipt", hash_), 20, message="inclusion")
    return receipt


def refused(node, tx):
    with pytest.raises(RPCError) as error:
        node.rpc("eth_sendTransaction", tx)
    return str(error.value)


def show(kramaa_bin, cluster, account=None):
    out = permissions(kramaa_bin, cluster, "show", *(["--account", account] if account else [])).stdout
    return dict(line.split(": ", 1) for line in out.splitlines())


def test_deployers_and_senders_lists_follow_validator_governance(kramaa_bin, cluster):
    v = cluster.validators
    dev = v[0].rpc("eth_accounts")
    assert all(state.startswith("open") for state in show(kramaa_bin, cluster).values())
    deploy = {"from": dev[0], "data": INIT_CODE, "gas": "0x30000"}
    transfer = {"from": dev[1], "to": "0x" + "55" * 20, "value": "0x1", "gas": "0x5208"}

    # Restricting deployers takes three approvals of four; until then deployments go through.
    made = permissions(kramaa_bin, cluster, "restrict", "deployers").stdout.split()[-1]
    permissions(kramaa_bin, cluster, "approve", made, validator=1)
    assert show(kramaa_bin, cluster)["deployers"] == "open"
    assert send(v[0], deploy)["contractAddress"]
    assert "executed" in permissions(kramaa_bin, cluster, "approve", made, validator=2).stdout
    assert show(kramaa_bin, cluster)["deployers"] == "restricted"
    reason = refused(v[1], deploy)
    assert "deployment not allowed" in reason and "deployers list" in reason
    assert send(v[1], {**transfer, "from": dev[0]})["status"] == "0x1", "sending is still open"
    passed(kramaa_bin, cluster, "allow", "deployers", dev[0])
    assert show(kramaa_bin, cluster, dev[0])["deployers"].endswith("allowed") and "not allowed" not in show(kramaa_bin, cluster, dev[0])["deployers"]
    assert send(v[2], deploy)["contractAddress"]

    # Senders restricted to dev 2 (and the validators).
    passed(kramaa_bin, cluster, "allow", "senders", dev[2])
    assert show(kramaa_bin, cluster)["senders"] == "restricted"
    assert "sender not allowed" in refused(v[3], transfer)
    assert send(v[3], {**transfer, "from": dev[2]})["status"] == "0x1"
    passed(kramaa_bin, cluster, "restrict", "senders", "--open")
    assert send(v[3], transfer)["status"] == "0x1"


def test_proposals_from_outsiders_and_double_approvals_are_refused(kramaa_bin, cluster, tmp_path):
    outsider = tmp_path / "outsider.json"
    subprocess.run([kramaa_bin, "keys", "new", "--type", "secp256k1", "--out", str(outsider)], check=True, capture_output=True)
    v = cluster.validators[0]
    run = subprocess.run([kramaa_bin, "permissions", "restrict", "nodes", "--rpc", f"http://127.0.0.1:{v.rpc_port}", "--key", str(outsider)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "only a current validator may propose a permission change" in run.stderr + run.stdout
    made = permissions(kramaa_bin, cluster, "restrict", "nodes").stdout.split()[-1]
    again = permissions(kramaa_bin, cluster, "approve", made, check=False)
    assert again.returncode != 0 and "has already approved" in again.stderr + again.stdout
    assert show(kramaa_bin, cluster)["nodes"] == "open"
    bad = permissions(kramaa_bin, cluster, "restrict", "everyone", check=False)
    assert bad.returncode != 0


def test_the_nodes_list_disconnects_and_refuses_a_follower_until_allowed(kramaa_bin, cluster):
    observer = ConsensusObserver(cluster).start()
    try:
        wait_until(lambda: all(n >= 1 for n in observer.summary()["connections"].values()), 20, message="the follower connected")
        passed(kramaa_bin, cluster, "restrict", "nodes")
        time.sleep(1)
        before = observer.summary()["connections"]
        time.sleep(2)
        assert observer.summary()["connections"] == before, "the follower is refused (it keeps redialling)"
        # The validators still reach each other.
        head = int(cluster.validators[0].rpc("eth_blockNumber"), 16)
        sender = cluster.validators[0].rpc("eth_accounts")[3]
        send(cluster.validators[1], {"from": sender, "to": "0x" + "66" * 20, "value": "0x1", "gas": "0x5208"})
        assert int(cluster.validators[3].rpc("eth_blockNumber"), 16) > head or wait_until(
            lambda: int(cluster.validators[3].rpc("eth_blockNumber"), 16) > head, 10, message="blocks")
        passed(kramaa_bin, cluster, "allow", "nodes", observer.address)
        wait_until(lambda: sum(observer.summary()["connections"].values()) > sum(before.values()), 20, message="the follower let back in")
    finally:
        observer.stop()
