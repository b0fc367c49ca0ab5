"""Private files (docs/FILES.md): encrypted before import, so the node stores and serves only
ciphertext; pinned for an organisation with the file key wrapped (HPKE) for each reader device's
registered agreement key; `kramaa file get --key` opens it for a reader and for nobody else."""
import json
import os
import urllib.request

import pytest


@pytest.fixture(scope="module")
def setup(devnet, kramaa, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("private-files")
    node = devnet  # the session's devnet; its last two dev accounts
    url = ["--rpc", f"http://127.0.0.1:{node.port}"]
    admin, storage = node.rpc("eth_accounts")[8:10]

    def rest(method, path, body):
        request = urllib.request.Request(f"http://127.0.0.1:{node.port}/api/v1{path}", data=json.dumps(body).encode(), method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

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
                          (["--private", "--for", setup["devices"]["reader"]["address"]], "needs --org N"),
                          (["--for", setup["devices"]["reader"]["address"]], "--for and --org go with --private")]:
        result = kramaa("file", "add", str(source), *args, *setup["url"], check=False)
        assert result.returncode != 0 and message in result.stderr, (args, result.stderr)
