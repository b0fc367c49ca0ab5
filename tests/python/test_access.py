"""Authentication of writes on a real `kramaa node`: without a token every write interface
answers 401 (problem+json over HTTP, a JSON-RPC error for signing methods) and the chain and
tag store are unchanged; tokens made with `kramaa token create` act as their account with their
roles only (--token, KRAMAA_TOKEN, KRAMAA_RPC); revocation takes effect at the next request;
the token file holds no secret. The devnet prints a development token that works everywhere."""
import json
import os
import re
import stat
import subprocess
import urllib.request



def http(port, method, path, body=None, token=None, content_type="application/json"):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, dict(r.headers), json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"null")


def rpc(port, method, params, token=None):
    status, _, body = http(port, "POST", "/", {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, token=token)
    return body


def start_node(node_factory, kramaa, tmp_path):
    """A chain of one validator holding three dev accounts, run as `kramaa node` (not the devnet):
    nothing is open without a token."""
    devnet = node_factory("devnet", ["--validators", "1", "--accounts", "3"], name="seed", fresh=True)
    dev = devnet.accounts
    devnet.stop()
    node = node_factory("node", ["--dev-accounts", "3", "--debug-api"], name="node", start=False)
    node.datadir = devnet.datadir
    node.start()
    return node, dev


def test_writes_need_a_token_and_a_token_acts_as_its_account_with_its_roles(node_factory, kramaa, kramaa_bin, tmp_path):
    node, dev = start_node(node_factory, kramaa, tmp_path)
    port = node.port
    head = node.rpc("eth_blockNumber")
    assert "bearer token required" in node.stdout()

    # Without a token: every write interface refuses, and nothing changes.
    for method, path, body in [("POST", "/api/v1/organizations", {"from": dev[0], "name": "Nobody"}),
                               ("PUT", f"/api/v1/organizations/1/members/{dev[1]}", {"from": dev[0], "roles": ["admin"]}),
                               ("POST", "/api/v1/tags", {"uid": "04DE5F1EACC040", "mode": "aes", "fileReadKey": "00" * 16, "organisation": 1}),
                               ("POST", "/epcis/capture", {"type": "EPCISDocument"})]:
        status, headers, answer = http(port, method, path, body)
        assert status == 401, (path, status, answer)
        assert headers["content-type"] == "application/problem+json", path
        assert headers.get("www-authenticate", "").startswith("Bearer"), path
        assert "kramaa token create" in answer["detail"], answer
    for method, params in [("eth_sendTransaction", [{"from": dev[0], "to": dev[1], "value": "0x1"}]),
                           ("eth_sign", [dev[0], "0x00"]), ("personal_sign", ["0x00", dev[0]])]:
        err = rpc(port, method, params)["error"]
        assert err["code"] == -32401 and "bearer token" in err["message"], err
    assert node.rpc("eth_blockNumber") == head
    assert node.rpc("eth_getTransactionCount", dev[0], "pending") == "0x0"
    status, _, _ = http(port, "GET", "/api/v1/tags/04DE5F1EACC040")
    assert status == 404

    # A forged token is refused the same way.
    forged = "kramaa_" + "1" * 16 + "_" + "2" * 64
    assert http(port, "POST", "/api/v1/organizations", {"name": "Forged"}, token=forged)[0] == 401

    # Tokens: made offline in the data directory while the node runs; the secret is printed once.
    made = kramaa("token", "create", "--datadir", str(node.datadir), "--account", "dev0", "--roles", "platform,sign", "--label", "brand ERP")
    token = made.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"kramaa_[0-9a-f]{16}_[0-9a-f]{64}", token), made.stdout
    token_file = node.datadir / "access-tokens.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert token.split("_")[-1] not in token_file.read_text()
    listed = [json.loads(line) for line in kramaa("token", "list", "--datadir", str(node.datadir), "--json").stdout.splitlines()]
    listed = [t for t in listed if t["label"] != "devnet"]  # the seeding devnet's own token is there too
    assert [(t["account"], t["roles"], t["label"]) for t in listed] == [(dev[0], ["platform", "sign"], "brand ERP")]
    token_id = listed[0]["id"]

    # With the token, the CLI writes as dev0 (the token's account; --from may be left out).
    env = dict(os.environ, KRAMAA_RPC=f"http://127.0.0.1:{port}")
    out = subprocess.run([kramaa_bin, "org", "create", "--name", "Acme", "--token", token], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    org = json.loads(out.stdout)
    assert org["founder"].lower() == dev[0].lower()
    env["KRAMAA_TOKEN"] = token
    out = subprocess.run([kramaa_bin, "org", "member", "1", "dev1", "--roles", "manufacturer"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    # Acting as another account, or using a role the token lacks, is refused (403) and changes nothing.
    status, _, answer = http(port, "POST", "/api/v1/organizations", {"from": dev[1], "name": "Impostor"}, token=token)
    assert status == 403 and dev[0].lower() in answer["detail"].lower(), answer
    status, _, answer = http(port, "POST", "/api/v1/tags", {"uid": "04DE5F1EACC040", "mode": "aes", "fileReadKey": "00" * 16,
                                                            "organisation": 1}, token=token)
    assert status == 403 and "'tags'" in answer["detail"], answer
    err = rpc(port, "eth_sendTransaction", [{"from": dev[1], "to": dev[2], "value": "0x1"}], token=token)["error"]
    assert err["code"] == -32403, err
    assert rpc(port, "eth_sendTransaction", [{"from": dev[0], "to": dev[2], "value": "0x1"}], token=token)["result"].startswith("0x")
    status, _, answer = http(port, "GET", "/api/v1/organizations/2")
    assert status == 404, answer  # the impostor's organisation was never made

    # The debug API, when served, needs the admin role.
    call = [{"from": dev[0], "to": dev[1], "value": "0x1"}, "latest"]
    assert rpc(port, "debug_traceCall", call)["error"]["code"] == -32401
    assert rpc(port, "debug_traceCall", call, token=token)["error"]["code"] == -32403
    admin = kramaa("token", "create", "--datadir", str(node.datadir), "--account", "dev2", "--roles", "admin").stdout.split()[-1]
    assert "structLogs" in rpc(port, "debug_traceCall", call, token=admin)["result"]

    # Revoked while the node runs: refused from the next request on.
    out = kramaa("token", "revoke", token_id, "--datadir", str(node.datadir))
    assert "revoked" in out.stdout
    status, _, answer = http(port, "POST", "/api/v1/organizations", {"name": "After revocation"}, token=token)
    assert status == 401 and "revoked" in answer["detail"], answer
    bad = kramaa("token", "revoke", "ffffffffffffffff", "--datadir", str(node.datadir), check=False)
    assert bad.returncode == 1 and "no token" in bad.stderr and "Usage" not in bad.stderr


def test_the_devnet_prints_a_development_token_that_every_validator_accepts(node_factory):
    devnet = node_factory("devnet", ["--validators", "1", "--accounts", "2"], fresh=True)
    m = re.search(r"Development token \(acts as dev0[^)]*\): (kramaa_\S+)", devnet.stdout())
    assert m, devnet.stdout()
    token = m.group(1)
    status, _, answer = http(devnet.port, "POST", "/api/v1/organizations", {"name": "With the dev token"}, token=token)
    assert status == 201, answer
    assert answer["founder"].lower() == devnet.accounts[0].lower()
    # Loopback writes stay open on the devnet, as it says.
    status, _, answer = http(devnet.port, "POST", "/api/v1/organizations", {"from": devnet.accounts[1], "name": "Open loopback"})
    assert status == 201, answer


def test_an_operator_can_close_reads_but_consumers_still_verify_tags(node_factory, kramaa, tmp_path):
    devnet = node_factory("devnet", ["--validators", "1", "--accounts", "2"], name="seed", fresh=True)
    devnet.stop()
    made = kramaa("token", "create", "--datadir", str(devnet.datadir), "--account", "dev0", "--roles", "read")
    reader = made.stdout.strip().splitlines()[-1]
    writer = kramaa("token", "create", "--datadir", str(devnet.datadir), "--account", "dev0", "--roles", "platform").stdout.strip().splitlines()[-1]
    node = node_factory("node", ["--closed-reads"], name="node", start=False)
    node.datadir = devnet.datadir
    node.start()
    assert rpc(node.port, "eth_blockNumber", [])["error"]["code"] == -32401
    assert rpc(node.port, "eth_blockNumber", [], token=writer)["error"]["code"] == -32403  # no read role
    assert rpc(node.port, "eth_blockNumber", [], token=reader)["result"].startswith("0x")
    assert http(node.port, "GET", "/api/v1/organizations/1")[0] == 401
    assert http(node.port, "GET", "/api/v1/organizations/1", token=reader)[0] == 404  # read, and there is none
    assert http(node.port, "GET", "/epcis/events")[0] == 401
    status, _, answer = http(node.port, "GET", "/verify?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086")
    assert status == 200 and answer["verdict"] == "unknown", answer  # consumers need no token
