"""An organisation's tag keys and read counters on three of its nodes (validator processes
started with --tag-peer): a tag registered on one node verifies on the others, a tap accepted
through one node is a replay through every other, one node killed does not stop taps, and the
keys are sealed at rest on every node."""
import json
import pathlib
import subprocess
import urllib.error
import urllib.request

from validators_support import Cluster
from test_tags import vectors, EPC


def http(port, method, path, body=None, accept="application/json"):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json", "Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def test_tag_keys_and_counters_are_shared_by_the_organisations_nodes(kramaa_bin, tmp_path):
    cluster = Cluster(kramaa_bin, tmp_path / "net", count=3, accounts=3).create()
    keys = [subprocess.run([kramaa_bin, "tag", "node-key", "--datadir", str(v.datadir)], capture_output=True, text=True,
                           check=True).stdout.strip() for v in cluster]
    for v in cluster:
        for j, other in enumerate(cluster):
            if other is not v:
                v.extra_args += ["--tag-peer", f"{keys[j]}@http://127.0.0.1:{other.rpc_port}"]
    cluster.start_all()
    try:
        v = cluster.validators
        brand, factory = v[0].rpc("eth_accounts")[:2]
        assert http(v[0].rpc_port, "POST", "/api/v1/organizations", {"from": brand, "name": "Shared Tags"})[0] == 201
        assert http(v[0].rpc_port, "PUT", f"/api/v1/organizations/1/members/{factory}", {"from": brand, "roles": ["manufacturer"]})[0] == 200
        status, asset = http(v[1].rpc_port, "POST", "/api/v1/assets", {"from": factory, "organization": 1, "epc": EPC})
        assert status == 201, asset
        tap = vectors()["boltcard-style-counter0"]
        uid = tap["derived"]["uid"]
        assert http(v[2].rpc_port, "POST", f"/api/v1/assets/{asset['tokenId']}/tags", {"from": factory, "uid": "0x" + uid})[0] == 200

        status, tag = http(v[0].rpc_port, "POST", "/api/v1/tags", {
            "uid": uid, "mode": "aes", "metaReadKey": tap["keys"]["sdm_meta_read_key"], "fileReadKey": tap["keys"]["sdm_file_read_key"],
            "macInputStart": "empty", "organization": 1, "from": factory})
        assert status == 201 and tag["replicatedTo"] == {"peers": 2, "stored": 2}, tag
        for node in v:
            status, shown = http(node.rpc_port, "GET", f"/api/v1/tags/{uid}")
            assert status == 200 and shown["organization"] == 1, (node.index, shown)

        target = f"/verify?p={tap['picc_data_encrypted']}&c={tap['sdmmac']}"
        status, first = http(v[1].rpc_port, "GET", target)
        assert status == 200 and first["verdict"] == "genuine", first
        for node in (v[2], v[0]):
            status, again = http(node.rpc_port, "GET", target)
            assert again["verdict"] == "replayed", (node.index, again)

        # One node killed: the other two are a majority; the copied tap is still a replay.
        v[0].kill()
        status, after = http(v[2].rpc_port, "GET", target)
        assert status == 200 and after["verdict"] == "replayed", after
        # Every node keeps the keys sealed: not in clear in its tag database.
        for node in v:
            stored = b"".join(p.read_bytes() for p in pathlib.Path(node.datadir).glob("tags.sqlite*"))
            for name in ("sdm_meta_read_key", "sdm_file_read_key"):
                assert bytes.fromhex(tap["keys"][name]) not in stored and tap["keys"][name].encode() not in stored
        # A message from a key that is no peer is refused and changes nothing.
        status, refused = http(v[1].rpc_port, "POST", "/api/v1/tags/replica", {"sender": "00" * 32, "enc": "00", "ciphertext": "00"})
        assert status == 403, refused
    finally:
        cluster.shutdown()
