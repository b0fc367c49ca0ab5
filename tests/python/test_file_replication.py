"""Files replicated across the consortium on real processes (docs/FILES.md): four validators
run as separate `kramaa node` processes; a file added on one is pinned in the file registry
through the IPFS Pinning Service API, fetched by the allocated storage nodes of two
organisations over the peer network (every block checked against its CID), served by any
validator's gateway, and re-replicated when a holder is killed -9."""
import hashlib
import json
import os
import time
import urllib.request

import pytest

from rpc_helpers import http_json
from validators_support import Cluster, wait_until

TIMEOUT = 6  # seconds without a heartbeat before a holder stops counting (the devnet's genesis)


def call(port, method, path, body=None, expect=(200,)):
    status, answer = http_json(port, method, path, body)
    assert status in expect, f"{method} {path}: {status} {answer}"
    return answer


def get_bytes(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as response:
        return response.read()


@pytest.fixture(scope="module")
def cluster(kramaa_bin, tmp_path_factory):
    c = Cluster(kramaa_bin, tmp_path_factory.mktemp("files") / "net", count=4, accounts=2,
                devnet_args=["--files-heartbeat-timeout", str(TIMEOUT)]).create()
    for v in c:
        v.extra_args = ["--files-heartbeat-interval", "1", "--files-repair-interval", "1"]
    c.start_all()
    time.sleep(1.5)  # the validators' peer connections
    yield c
    c.kill_all()


def test_a_file_is_replicated_across_organisations_served_everywhere_and_repaired_after_a_kill(cluster, kramaa, tmp_path):
    v = list(cluster)
    port = v[0].rpc_port
    brand, carrier = [a for a in v[0].rpc("eth_accounts")]
    call(port, "POST", "/api/v1/organizations", {"from": brand, "name": "Brand"}, expect=(201,))
    call(port, "POST", "/api/v1/organizations", {"from": carrier, "name": "Carrier"}, expect=(201,))
    # Validators 1 and 2 store for the brand, 3 for the carrier; 0 only uploads.
    for i, (org, admin) in [(1, (1, brand)), (2, (1, brand)), (3, (2, carrier))]:
        call(port, "POST", "/api/v1/storage-nodes", {"from": admin, "organization": org, "node": cluster.addresses[i], "capacity": 1 << 30},
             expect=(201,))
    wait_until(lambda: all(call(port, "GET", f"/api/v1/storage-nodes/{cluster.addresses[i]}")["live"] for i in (1, 2, 3)), 30,
               message="the storage nodes' first heartbeats")

    content = os.urandom(3 * 262_144 + 12_345)
    path = tmp_path / "manual.pdf"
    path.write_bytes(content)
    cid = kramaa("file", "add", str(path), "--rpc", f"http://127.0.0.1:{port}").stdout.strip().splitlines()[-1]
    assert cid == kramaa("file", "add", str(path), "--only-hash").stdout.strip().splitlines()[-1]

    meta = {"kramaa.organization": "1", "kramaa.from": brand, "kramaa.minReplicas": "2", "kramaa.maxReplicas": "2"}
    status = call(port, "POST", "/pins", {"cid": cid, "name": "manual.pdf", "meta": meta}, expect=(202,))
    assert status["status"] in ("pinning", "pinned") and status["pin"]["cid"] == cid and status["delegates"]
    request = status["requestid"]
    wait_until(lambda: call(port, "GET", f"/pins/{request}")["status"] == "pinned", 60, message="the pin to be held by two nodes")
    pin = call(port, "GET", f"/api/v1/files/{cid}")
    holders = [h["node"].lower() for h in pin["holders"] if h["held"]]
    index = {a.lower(): i for i, a in enumerate(cluster.addresses)}
    assert len(holders) == 2 and index[holders[0]] != index[holders[1]]
    assert cluster.addresses[3].lower() in holders, "one replica per organisation: the carrier's node holds one"
    assert call(port, "GET", "/pins?status=pinned")["count"] >= 1
    status = json.loads(kramaa("file", "status", cid, "--rpc", f"http://127.0.0.1:{v[1].rpc_port}").stdout)
    assert status["registry"]["health"] == "healthy" and status["registry"]["liveHolders"] == 2

    # Every validator serves it: holders from their stores, the others fetch it from the holders.
    for node in v:
        assert hashlib.sha256(get_bytes(node.rpc_port, f"/ipfs/{cid}")).digest() == hashlib.sha256(content).digest(), node.index

    # The brand's holder dies; once its heartbeat is older than the timeout the file is re-allocated
    # to the brand's other node, which fetches it; the file is still served.
    victim = index[next(h for h in holders if index[h] != 3)]
    spare = ({1, 2} - {victim}).pop()
    v[victim].kill()
    wait_until(lambda: any(h["node"].lower() == cluster.addresses[spare].lower() and h["held"]
                           for h in call(port, "GET", f"/api/v1/files/{cid}")["holders"]), 90,
               message=f"validator {spare} to be allocated the file and hold it")
    assert get_bytes(v[spare].rpc_port, f"/ipfs/{cid}") == content
    # The victim returns: it counts again, and nothing is allocated for it.
    v[victim].start()
    before = call(port, "GET", f"/api/v1/files/{cid}")["holders"]
    time.sleep(TIMEOUT / 2)
    after = call(port, "GET", f"/api/v1/files/{cid}")["holders"]
    assert [h["node"] for h in after] == [h["node"] for h in before]

    call(port, "DELETE", f"/pins/{request}", {"meta": {"kramaa.from": brand}}, expect=(202,))
    call(port, "GET", f"/api/v1/files/{cid}", expect=(404,))
