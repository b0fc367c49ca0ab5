"""Private files (docs/FILES.md): encrypted before import, so the node stores and serves only
ciphertext; pinned for an organisation with the file key wrapped (HPKE) for each reader device's
registered agreement key; `kramaa file get --key` opens it for a reader and for nobody else."""
import json
import os
import urllib.request

import pytest

from rpc_helpers import http_json


@pytest.fixture(scope="module")
def setup(devnet, kramaa, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("private-files")
    node = devnet  # the session's devnet; its last two dev accounts
    url = ["--rpc", f"http://127.0.0.1:{node.port}"]
    admin, storage = node.rpc("eth_accounts")[8:10]

    def rest(method, path, body):
        status, answer = http_json(node.port, method, "/api/v1" + path, body)
        assert status < 400, (method, path, status, answer)
        return answer

    org = json.loads(kramaa("org", "create", "--name", f"Calibration Lab {os.getpid()}", "--from", admin, *url).stdout)["id"]
    # One storage node (a dev account of this single-node devnet), so the registry can allocate the pin.
    rest("POST", "/storage-nodes", {"from": admin, "organization": org, "node": storage, "capacity": 1 << 30})
    rest("POST", f"/storage-nodes/{storage}/heartbeat", {"from": storage, "freeBytes": 1 << 30})
    devices = {}
    for name in ("reader", "outsider"):
        key, agreement = tmp / f"{name}.json", tmp / f"{name}-agreement.json"
        kramaa("keys", "new", "--type", "p256", "--out", str(key))
        kramaa("keys", "new", "--type", "x25519", "--out", str(agreement))
        address = json.loads(kramaa("device", "register", "--org", str(org), "--key", str(key), "--model", "meter", "--from", admin, *url).stdout)["device"]
        kramaa("device", "agreement-key", "set", address, "--agreement-key", str(agreement), "--key", str(key), "--from", admin, *url)
        devices[name] = {"address": address, "agreement": str(agreement)}
    plaintext = b"Certificate of calibration, meter 7: within 0.2 %. " * 3000  # 150 KB: several segments
    source = tmp / "certificate.txt"
    source.write_bytes(plaintext)
    added = kramaa("file", "add", str(source), "--private", "--for", devices["reader"]["address"], "--org", str(org), "--from", admin, *url)
    return {"node": node, "url": url, "cid": added.stdout.strip().splitlines()[-1], "plaintext": plaintext, "devices": devices,
            "tmp": tmp, "org": org}


def test_the_node_holds_and_serves_only_ciphertext(setup):
    with urllib.request.urlopen(f"http://127.0.0.1:{setup['node'].port}/ipfs/{setup['cid']}", timeout=30) as response:
        served = response.read()
    assert served[:4] == b"KRPF" and b"calibration" not in served
    assert len(served) == 25 + len(setup["plaintext"]) + 16 * 3  # header, plaintext, a tag per 64 KiB segment


def test_a_reader_opens_it_with_its_agreement_key(setup, kramaa):
    out = setup["tmp"] / "opened.txt"
    kramaa("file", "get", setup["cid"], "--key", setup["devices"]["reader"]["agreement"], "--out", str(out), *setup["url"])
    assert out.read_bytes() == setup["plaintext"]


def test_another_device_gets_nothing_and_no_file_is_written(setup, kramaa):
    out = setup["tmp"] / "stolen.txt"
    result = kramaa("file", "get", setup["cid"], "--key", setup["devices"]["outsider"]["agreement"], "--out", str(out), *setup["url"], check=False)
    assert result.returncode != 0 and "no file key" in result.stderr
    assert not out.exists() and not (setup["tmp"] / "stolen.txt.partial").exists()


def test_the_pin_names_the_organisation_and_its_readers(setup):
    with urllib.request.urlopen(f"http://127.0.0.1:{setup['node'].port}/api/v1/files/{setup['cid']}", timeout=30) as response:
        pin = json.loads(response.read())
    assert pin["owner"] == {"organization": setup["org"]} and pin["readers"]["policy"] == "members"


def test_private_needs_readers_and_an_owner_and_changes_nothing_without_them(setup, kramaa):
    source = setup["tmp"] / "certificate.txt"
    for args, message in [(["--private", "--org", str(setup["org"])], "at least one --for DEVICE"),
                          (["--private", "--for", setup["devices"]["reader"]["address"]], "needs --org N or --asset TOKEN"),
                          (["--for", setup["devices"]["reader"]["address"]], "--for, --org and --asset go with --private")]:
        result = kramaa("file", "add", str(source), *args, *setup["url"], check=False)
        assert result.returncode != 0 and message in result.stderr, (args, result.stderr)


def test_an_asset_owned_private_file_follows_the_asset_and_a_reader_grants_its_new_owner(setup, kramaa, devnet):
    """Readers by the asset's holder: after a transfer the registry says the new owner may read and
    the old one may not; the old owner can no longer store keys, the new one grants its device."""
    node, url, tmp = setup["node"], setup["url"], setup["tmp"]
    admin, buyer = devnet.rpc("eth_accounts")[8], devnet.rpc("eth_accounts")[6]
    def rest(method, path, body=None, expect=200):
        status, answer = http_json(node.port, method, "/api/v1" + path, body)
        assert status == expect, (method, path, status, answer)
        return answer

    token = rest("POST", "/assets", {"from": admin, "organization": setup["org"], "epc": f"urn:epc:id:sgtin:0614141.107346.{os.getpid()}"}, 201)["tokenId"]
    source = tmp / "passport.txt"
    source.write_bytes(b"Digital product passport of the pallet. " * 100)
    reader, outsider = setup["devices"]["reader"], setup["devices"]["outsider"]
    cid = kramaa("file", "add", str(source), "--private", "--asset", token, "--for", reader["address"], "--from", admin, *url).stdout.strip().splitlines()[-1]
    assert rest("GET", f"/files/{cid}")["readers"]["policy"] == "assetHolder"
    assert rest("GET", f"/files/{cid}/readers/{admin}")["mayRead"] is True
    assert rest("GET", f"/files/{cid}/readers/{buyer}")["mayRead"] is False

    # Sold: custody and ownership both move to the buyer (an asset's holder is its owner or its custodian).
    rest("POST", f"/assets/{token}/custody", {"from": admin, "to": buyer})
    rest("POST", f"/assets/{token}/transfer", {"from": admin, "to": buyer})
    assert rest("GET", f"/files/{cid}/readers/{buyer}")["mayRead"] is True
    assert rest("GET", f"/files/{cid}/readers/{admin}")["mayRead"] is False
    refused = kramaa("file", "grant", cid, "--key", reader["agreement"], "--for", outsider["address"], "--from", admin, *url, check=False)
    assert refused.returncode != 0 and "422" in refused.stderr
    assert kramaa("file", "get", cid, "--key", outsider["agreement"], "--out", str(tmp / "x"), *url, check=False).returncode != 0

    kramaa("file", "grant", cid, "--key", reader["agreement"], "--for", outsider["address"], "--from", buyer, *url)
    out = tmp / "passport-opened.txt"
    kramaa("file", "get", cid, "--key", outsider["agreement"], "--out", str(out), *url)
    assert out.read_bytes() == source.read_bytes()


def test_pin_requests_beyond_the_specs_limits_are_refused_and_nothing_is_kept(setup):
    base = "/pins"

    def call(method, path, body=None):
        return http_json(setup["node"].port, method, path, body)

    before = call("GET", base + "?status=queued,pinning,pinned,failed")[1]["count"]
    for body, reason in [({"cid": setup["cid"], "name": "x" * 256}, "longer than 255"),
                         ({"cid": setup["cid"], "origins": ["/ip4/127.0.0.1/tcp/1"] * 21}, "more than 20 origins"),
                         ({"cid": setup["cid"], "meta": {str(i): "v" for i in range(1001)}}, "more than 1000 meta entries")]:
        status, answer = call("POST", base, body)
        assert status == 400 and reason in answer["error"]["details"], answer
    assert call("GET", base + "?status=queued,pinning,pinned,failed")[1]["count"] == before
