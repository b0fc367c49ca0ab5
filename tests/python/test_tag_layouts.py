"""Every SUN configuration in the public vectors verifies through a node's /verify: each tag is
registered with the URL layout it is programmed with (`--url-layout`, fields read by position) and
where its SDMMACInputOffset points, and the node rebuilds the MAC input from the raw tap URL.
Vectors with a URL are tapped as given; the others get a URL built around their MAC input (a MAC
right after the file data, MAC input with a separator, UID and counter in plain, counter only).
Valid vectors must come out genuine, tampered ones tampered; cases are found at run time."""
import hashlib
import json
import os
import pathlib
import urllib.parse

import pytest
from eth_account import Account

from conftest import ROOT
from rpc_helpers import send_signed
from test_tags import ORG_ABI, ORGS, get, transact

FIELD_HEX = {"uid": 14, "ctr": 6, "mac": 16}


def sun_vectors():
    root = pathlib.Path(os.environ.get("KRAMAA_VECTORS") or ROOT / ".." / "shared" / "vectors")
    path = root / "ntag424" / "sun_vectors.json"
    if not path.exists():
        pytest.fail(f"SUN vectors not found at {path}: set KRAMAA_VECTORS to the shared vectors folder")
    # Only vectors that carry a MAC and a verdict are taps; the others test decryption alone.
    return [v for v in json.loads(path.read_text())["vectors"] if v.get("expected_valid") is not None and v.get("sdmmac")]


def tag_uid(v):
    """The UID the tag is registered under: the mirrored one, or (counter-only tags, which mirror
    none) one derived from the vector so that its layout is its alone."""
    return v["derived"].get("uid") or v.get("uid") or hashlib.sha256(v["id"].encode()).hexdigest()[:14].upper()


def template_from_url(v):
    """The tapped URL with its mirrored values replaced by placeholders, and where the MAC input starts."""
    url = v["url"]
    values = {"picc": v.get("picc_data_encrypted"), "enc": v.get("enc_file_data"), "mac": v["sdmmac"],
              "uid": v.get("uid"), "ctr": v.get("read_counter_hex_be")}
    mac_at = url.rindex(v["sdmmac"])
    start = mac_at - len(v["mac_input_ascii"])
    assert url[start:mac_at] == v["mac_input_ascii"], f"{v['id']}: MAC input does not end at the MAC in the URL"
    template, position = "", 0
    spans = sorted((url.index(value, 0 if name != "mac" else mac_at), name, value) for name, value in values.items() if value)
    for at, name, value in spans:
        template += url[position:at] + ("{enc:%d}" % len(value) if name == "enc" else "{%s}" % name)
        position = at + len(value)
    return url, template + url[position:], start


def template_built(v, index):
    """A URL for a vector without one: mirrored data as parameters, then the MAC input text with the
    file data in it, then the MAC; the MAC input starts where its text does."""
    head = f"https://tags.example/{index}/{tag_uid(v)}?"
    fields, values = [], {}
    if v.get("picc_data_encrypted"):
        fields.append("p={picc}")
        values["picc"] = v["picc_data_encrypted"]
    else:
        fields += [f"{name}={{{name}}}" for name, key in (("uid", "uid"), ("ctr", "read_counter_hex_be")) if v.get(key)]
        values.update({name: v[key] for name, key in (("uid", "uid"), ("ctr", "read_counter_hex_be")) if v.get(key)})
    macin = v["mac_input_ascii"]
    enc = v.get("enc_file_data")
    if enc and macin:
        assert enc in macin, f"{v['id']}: MAC input without its file data"
        macin_template = macin.replace(enc, "{enc:%d}" % len(enc))
    else:
        macin_template = macin
        if enc:
            fields.append("e={enc:%d}" % len(enc))
    values["enc"] = enc
    template = head + "&".join(fields) + "&m=" + macin_template + "{mac}"
    url = template.replace("{mac}", v["sdmmac"])
    for name, value in values.items():
        if value:
            url = url.replace("{enc:%d}" % len(value) if name == "enc" else "{%s}" % name, value)
    start = len(url.encode()) - len(v["sdmmac"]) - len(macin.encode())
    return url, template, start


class Deployment:
    """A devnet node with one organisation whose member registers tags; a UID can be registered only
    once per node, so vectors that share a UID with a different set-up go to another node."""

    def __init__(self, node_factory, kramaa, key_file):
        self.node = node_factory("devnet")
        self.kramaa = kramaa
        self.rpc = self.node.url.rstrip("/")
        w3 = self.node.web3()
        brand_key = json.loads(key_file.read_text())["privateKey"]
        self.brand = Account.from_key(brand_key).address
        send_signed(w3, self.node.keys[0], {"to": self.brand, "value": 10**19, "gas": 21000})
        orgs = w3.eth.contract(address=w3.to_checksum_address(ORGS), abi=ORG_ABI)
        transact(w3, brand_key, orgs, "registerOrganization", "Layout Test Brand")
        self.org = orgs.functions.organizationCount().call()
        transact(w3, brand_key, orgs, "setMemberRoles", self.org, self.brand, 0b11)
        self.registered = {}

    def accepts(self, uid, setup):
        return self.registered.get(uid, setup) == setup

    def register(self, uid, setup):
        if uid in self.registered:
            return
        mode, meta, file_key, template, start = setup
        args = ["tag", "register", "--uid", uid, "--mode", mode.lower(), "--file-key", file_key,
                "--mac-input-start", str(start), "--url-layout", template,
                "--organisation", str(self.org), "--from", self.brand, "--rpc", self.rpc]
        if meta:
            args += ["--meta-key", meta]
        shown = json.loads(self.kramaa(*args).stdout)
        assert shown["urlLayout"] == template and shown["macInputStart"] == str(start)
        self.registered[uid] = setup


def test_every_sun_vector_verifies_through_the_node_with_its_url_layout(node_factory, kramaa, tmp_path):
    vectors = sun_vectors()
    assert vectors, "no SUN tap vectors found"
    key_file = tmp_path / "brand.json"
    kramaa("keys", "new", "--type", "secp256k1", "--out", str(key_file))
    deployments = []
    # Valid taps of one tag in counter order (a lower counter after a higher one is a replay).
    ordered = sorted(enumerate(vectors), key=lambda iv: (not iv[1]["expected_valid"], iv[1]["derived"].get("read_counter", 0)))
    seen = {}
    for index, v in ordered:
        url, template, start = template_from_url(v) if v.get("url") else template_built(v, index)
        uid = tag_uid(v)
        setup = (v["mode"], v["keys"].get("sdm_meta_read_key"), v["keys"]["sdm_file_read_key"], template, start)
        deployment = next((d for d in deployments if d.accepts(uid, setup)), None)
        if deployment is None:
            deployment = Deployment(node_factory, kramaa, key_file)
            deployments.append(deployment)
        deployment.register(uid, setup)
        status, _, body = get(deployment.node, "/verify?url=" + urllib.parse.quote(url, safe=""))
        assert status == 200, f"{v['id']}: HTTP {status}: {body}"
        answer = json.loads(body)
        expected = "genuine" if v["expected_valid"] else "tampered"
        if v["expected_valid"] and (uid, v["derived"].get("read_counter")) in seen:
            expected = "replayed"  # the same tap twice (two vectors of one tag and counter)
        assert answer["verdict"] == expected, f"{v['id']} ({url} as {template}, MAC input from {start}): {answer}"
        assert answer["uid"] == uid
        seen[(uid, v["derived"].get("read_counter"))] = True


def test_a_layout_reads_a_mac_written_right_after_the_file_data_and_refuses_what_does_not_fit(node_factory, kramaa, tmp_path):
    """The layout the parameter reader cannot do (no separator before the MAC); a malformed layout is
    refused with the reason and registers nothing; a tap that does not fit any layout is read by names."""
    v = next(v for v in sun_vectors() if v.get("enc_file_data") and v["mac_input_ascii"] == v["enc_file_data"])
    key_file = tmp_path / "brand.json"
    kramaa("keys", "new", "--type", "secp256k1", "--out", str(key_file))
    d = Deployment(node_factory, kramaa, key_file)
    uid = tag_uid(v)
    bad = kramaa("tag", "register", "--uid", uid, "--mode", v["mode"].lower(), "--file-key", v["keys"]["sdm_file_read_key"],
                 "--meta-key", v["keys"]["sdm_meta_read_key"], "--url-layout", "https://b.example/t?e={picc}&d={enc:31}{mac}",
                 "--organisation", str(d.org), "--from", d.brand, "--rpc", d.rpc, check=False)
    assert bad.returncode != 0 and "urlLayout" in bad.stderr and "multiple of 32" in bad.stderr, bad.stderr
    missing = kramaa("tag", "show", uid, "--rpc", d.rpc, check=False)
    assert missing.returncode != 0, "a refused registration must store nothing"
    template = "https://b.example/t?e={picc}&d={enc:%d}{mac}" % len(v["enc_file_data"])
    start = len("https://b.example/t?e=" + v["picc_data_encrypted"] + "&d=")
    d.register(uid, (v["mode"], v["keys"]["sdm_meta_read_key"], v["keys"]["sdm_file_read_key"], template, start))
    url = f"https://b.example/t?e={v['picc_data_encrypted']}&d={v['enc_file_data']}{v['sdmmac']}"
    status, _, body = get(d.node, "/verify?url=" + urllib.parse.quote(url, safe=""))
    assert status == 200 and json.loads(body)["verdict"] == "genuine", body
    # One hex digit more and the URL no longer fits the layout: it is read by parameter names,
    # where it is not a SUN URL at all.
    status, _, body = get(d.node, "/verify?url=" + urllib.parse.quote(url + "0", safe=""))
    assert status == 400 and "MAC" in json.loads(body)["detail"], body
