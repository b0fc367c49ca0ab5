"""NFC tag authentication against a real single-node devnet: register a tag from the public SUN
vectors, bind it to an asset on chain, tap it (genuine), tap again (replayed), tamper with the MAC
(tampered), restart the node and replay (still replayed), and look at the browser page. Then a
signed QR code for an item without a tag."""
import json
import pathlib
import urllib.error
import urllib.request

import pytest
from eth_account import Account

from conftest import ROOT
from rpc_helpers import send_signed

ORGS = "0x000000000000000000000000000000004b520010"
ASSETS = "0x000000000000000000000000000000004b520012"
ORG_ABI = [
    {"type": "function", "name": "registerOrganization", "stateMutability": "nonpayable",
     "inputs": [{"name": "name", "type": "string"}], "outputs": [{"name": "id", "type": "uint256"}]},
    {"type": "function", "name": "setMemberRoles", "stateMutability": "nonpayable",
     "inputs": [{"name": "org", "type": "uint256"}, {"name": "member", "type": "address"}, {"name": "roles", "type": "uint256"}],
     "outputs": []},
    {"type": "function", "name": "organizationCount", "stateMutability": "view", "inputs": [], "outputs": [{"name": "", "type": "uint256"}]},
]
ASSET_ABI = [
    {"type": "function", "name": "mintAsset", "stateMutability": "nonpayable",
     "inputs": [{"name": "org", "type": "uint256"}, {"name": "epc", "type": "string"}, {"name": "owner", "type": "address"},
                {"name": "metadataHash", "type": "bytes32"}, {"name": "uri", "type": "string"}],
     "outputs": [{"name": "tokenId", "type": "uint256"}]},
    {"type": "function", "name": "assetOfTag", "stateMutability": "view",
     "inputs": [{"name": "uid", "type": "bytes7"}], "outputs": [{"name": "", "type": "uint256"}]},
]
EPC = "urn:epc:id:sgtin:0614141.107346.2017"
QR_EPC = "urn:epc:id:sgtin:0614141.107346.2018"


def vectors():
    import os
    root = pathlib.Path(os.environ.get("KRAMAA_VECTORS") or ROOT / ".." / "shared" / "vectors")
    path = root / "ntag424" / "sun_vectors.json"
    if not path.exists():
        pytest.fail(f"SUN vectors not found at {path}: set KRAMAA_VECTORS to the shared vectors folder")
    return {v["id"]: v for v in json.loads(path.read_text())["vectors"]}


def get(node, target, accept="application/json"):
    req = urllib.request.Request(f"http://127.0.0.1:{node.port}{target}", headers={"Accept": accept})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, resp.headers.get("Content-Type"), resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def verdict(node, target):
    status, kind, body = get(node, target)
    assert status == 200, f"{target}: HTTP {status}: {body}"
    return json.loads(body)


def transact(w3, key, contract, fn, *args):
    account = Account.from_key(key)
    tx = getattr(contract.functions, fn)(*args).build_transaction({"from": account.address, "nonce": w3.eth.get_transaction_count(account.address, "pending")})
    _, receipt = send_signed(w3, key, tx)
    assert receipt["status"] == 1, f"{fn} failed: {receipt}"
    return receipt


def test_a_tag_is_genuine_once_then_replayed_tampered_and_still_replayed_after_a_restart(node_factory, kramaa, tmp_path):
    node = node_factory("devnet")
    w3 = node.web3()
    rpc = node.url.rstrip("/")
    # A manufacturer key of our own (a key file, as the CLI signs with), funded by a dev account.
    key_file = tmp_path / "brand.json"
    kramaa("keys", "new", "--type", "secp256k1", "--out", str(key_file))
    brand_key = json.loads(key_file.read_text())["privateKey"]
    brand = Account.from_key(brand_key).address
    send_signed(w3, node.keys[0], {"to": brand, "value": 10**19, "gas": 21000})
    orgs = w3.eth.contract(address=w3.to_checksum_address(ORGS), abi=ORG_ABI)
    assets = w3.eth.contract(address=w3.to_checksum_address(ASSETS), abi=ASSET_ABI)
    transact(w3, brand_key, orgs, "registerOrganization", "Tag Test Brand")
    org = orgs.functions.organizationCount().call()
    transact(w3, brand_key, orgs, "setMemberRoles", org, brand, 0b11)  # admin + manufacturer
    transact(w3, brand_key, assets, "mintAsset", org, EPC, brand, b"\x11" * 32, "")

    # A Bolt Card style tap (p/c parameters, MAC over an empty input) with non-zero keys, so the
    # check that the keys are not stored in clear means something.
    v = vectors()["boltcard-style-counter0"]
    uid = v["derived"]["uid"]
    out = kramaa("tag", "register", "--uid", uid, "--mode", "aes", "--meta-key", v["keys"]["sdm_meta_read_key"],
                 "--file-key", v["keys"]["sdm_file_read_key"], "--mac-input-start", "empty",
                 "--organisation", str(org), "--from", brand, "--rpc", rpc).stdout
    assert json.loads(out)["uid"] == uid
    again = kramaa("tag", "register", "--uid", uid, "--file-key", "00" * 16, "--organisation", str(org), "--from", brand, "--rpc", rpc,
                   check=False)
    assert again.returncode != 0 and "409" in again.stderr
    kramaa("tag", "bind", "--uid", uid, "--epc", EPC, "--key", str(key_file), "--rpc", rpc)
    assert assets.functions.assetOfTag(bytes.fromhex(uid)).call() != 0

    query = f"p={v['picc_data_encrypted']}&c={v['sdmmac']}"
    target = "/verify?" + query
    first = verdict(node, target)
    assert first["verdict"] == "genuine", first
    assert first["uid"] == uid and first["readCounter"] == v["derived"]["read_counter"]
    assert first["asset"]["epc"] == EPC and first["asset"]["owner"].lower() == brand.lower()
    assert first["asset"]["status"] == "active"
    assert verdict(node, target)["verdict"] == "replayed"
    tampered = target[:-1] + ("0" if target[-1] != "0" else "1")
    assert verdict(node, tampered)["verdict"] == "tampered"
    # The CLI verifies a tag URL and exits 1 for anything but genuine.
    cli = kramaa("tag", "verify", f"{rpc}{target}", check=False)
    assert cli.returncode == 1 and json.loads(cli.stdout)["verdict"] == "replayed"
    # Malformed input: 400 with a problem body, nothing stored changes.
    status, kind, body = get(node, "/verify?picc_data=XYZ&cmac=00")
    assert status == 400 and kind.startswith("application/problem+json") and "PICC data" in json.loads(body)["detail"]
    # Every verdict is counted for the operator's metrics (docs/OPERATIONS.md).
    _, _, scraped = get(node, "/metrics", accept="text/plain")
    counts = {}
    for line in scraped.splitlines():
        if line.startswith("kramaa_tag_verifications_total{"):
            labels, value = line.rsplit(" ", 1)
            counts[labels] = float(value)
    def counted(verdict):
        return sum(v for k, v in counts.items() if 'kind="nfc"' in k and f'verdict="{verdict}"' in k)
    assert counted("genuine") == 1 and counted("replayed") == 2 and counted("tampered") == 1 and counted("malformed") == 1, counts
    assert any(line.startswith("kramaa_tags_registered ") and float(line.split()[1]) == 1 for line in scraped.splitlines()), scraped

    node.restart()
    after = verdict(node, target)
    assert after["verdict"] == "replayed", after
    assert after["lastReadCounter"] == v["derived"]["read_counter"]
    shown = json.loads(kramaa("tag", "show", uid, "--rpc", node.url.rstrip("/")).stdout)
    assert shown["lastReadCounter"] == v["derived"]["read_counter"] and "fileReadKey" not in shown
    # The keys are sealed in the data directory; the key-encryption key file is private.
    kek = node.datadir / "tag-keys.kek"
    assert kek.stat().st_mode & 0o777 == 0o600
    stored = b"".join(p.read_bytes() for p in node.datadir.glob("tags.sqlite*"))
    assert stored and uid.encode() in stored
    for name in ("sdm_meta_read_key", "sdm_file_read_key"):
        key = v["keys"][name]
        assert bytes.fromhex(key) not in stored and key.encode() not in stored and key.lower().encode() not in stored

    status, kind, page = get(node, target, accept="text/html,application/xhtml+xml,*/*;q=0.8")
    assert status == 200 and kind.startswith("text/html")
    assert 'data-verdict="replayed"' in page and "Tag Test Brand" in page and "<script" not in page
    assert "GTIN 10614141073464, serial 2017" in page, page  # the item by name, not by its EPC or token id


def test_signed_qr_codes_for_items_without_a_tag(node_factory, kramaa, tmp_path):
    node = node_factory("devnet")
    w3 = node.web3()
    rpc = node.url.rstrip("/")
    brand_file, stranger_file = tmp_path / "brand.json", tmp_path / "stranger.json"
    kramaa("keys", "new", "--type", "secp256k1", "--out", str(brand_file))
    kramaa("keys", "new", "--type", "p256", "--out", str(stranger_file))
    brand_key = json.loads(brand_file.read_text())["privateKey"]
    brand = Account.from_key(brand_key).address
    send_signed(w3, node.keys[0], {"to": brand, "value": 10**19, "gas": 21000})
    orgs = w3.eth.contract(address=w3.to_checksum_address(ORGS), abi=ORG_ABI)
    assets = w3.eth.contract(address=w3.to_checksum_address(ASSETS), abi=ASSET_ABI)
    transact(w3, brand_key, orgs, "registerOrganization", "QR Test Brand")
    org = orgs.functions.organizationCount().call()
    transact(w3, brand_key, orgs, "setMemberRoles", org, brand, 0b11)
    transact(w3, brand_key, assets, "mintAsset", org, QR_EPC, brand, b"\x22" * 32, "")

    url = kramaa("tag", "qr", "--epc", QR_EPC, "--key", str(brand_file), "--base", rpc).stdout.strip()
    assert url.startswith(rpc + "/verify?qr=")
    ok = kramaa("tag", "verify", url)
    answer = json.loads(ok.stdout)
    assert answer["verdict"] == "genuine" and answer["asset"]["epc"] == QR_EPC
    assert answer["qr"]["signer"]["address"].lower() == brand.lower()
    stranger = kramaa("tag", "qr", "--epc", QR_EPC, "--key", str(stranger_file), "--base", rpc).stdout.strip()
    assert verdict(node, stranger[len(rpc):])["verdict"] == "unknownSigner"
    payload = url.split("qr=", 1)[1]
    flipped = payload[:-20] + ("A" if payload[-20] != "A" else "B") + payload[-19:]
    assert verdict(node, "/verify?qr=" + flipped)["verdict"] == "tampered"
