"""Devices connect to the node's MQTT server with their on-chain identity: the device address
as user name and a token signed by its registered key (`kramaa device mqtt-token`), or MQTT 5
enhanced authentication. Topics: a device's own namespace, its organisation's devices; other
organisations refused; a device revoked on chain is disconnected within the block."""
import json
import time

import pytest

from eth_utils import keccak

from envelope_support import Signer, signed_envelope
import socket
import subprocess

from envelope_support import domain
from mqtt_support import Client, auth_properties, host_port, mqtt_string, packet, property_value, read_packet


@pytest.fixture(scope="module")
def platform(kramaa, devnet, tmp_path_factory):
    """Two organisations with devices (secp256k1, P-256, Ed25519 keys) on the shared devnet."""
    tmp = tmp_path_factory.mktemp("mqtt-devices")
    url = ["--rpc", f"http://127.0.0.1:{devnet.port}"]

    def cli(*args):
        return json.loads(kramaa(*args, *url).stdout)

    cli.__wrapped__ = lambda *args: kramaa(*args, *url, check=False)

    a, b = devnet.accounts[5], devnet.accounts[6]
    org_a = cli("org", "create", "--name", f"Fleet A {time.time_ns()}", "--from", a)["id"]
    org_b = cli("org", "create", "--name", f"Fleet B {time.time_ns()}", "--from", b)["id"]
    devices = {}
    for name, org, owner, kind in [("a1", org_a, a, "secp256k1"), ("a2", org_a, a, "p256"), ("b1", org_b, b, "ed25519"), ("b2", org_b, b, "p256")]:
        key = tmp / f"{name}.json"
        kramaa("keys", "new", "--type", kind, "--out", str(key))
        record = cli("device", "register", "--org", str(org), "--key", str(key), "--model", "sensor", "--from", owner)
        devices[name] = {"address": record["device"].lower(), "key": str(key), "owner": owner}

    def token(name, ttl=600):
        return kramaa("device", "mqtt-token", "--key", devices[name]["key"], "--ttl", str(ttl), *url).stdout.strip().splitlines()[-1]

    return {"devices": devices, "token": token, "cli": cli, "orgs": (org_a, org_b), "admins": (a, b)}


def connect(devnet, platform, name, **kw):
    d = platform["devices"][name]
    return Client(devnet.mqtt_url, client_id=f"{name}-{time.time_ns()}", username=d["address"], password=platform["token"](name), **kw)


def test_a_device_connects_with_its_token_and_talks_within_its_organisation(devnet, platform):
    a1, a2 = platform["devices"]["a1"], platform["devices"]["a2"]
    first, second = connect(devnet, platform, "a1"), connect(devnet, platform, "a2")
    assert second.subscribe(f"devices/{a2['address']}/#", qos=1) == [1]
    first.publish(f"devices/{a2['address']}/in/cmd", b"open valve", qos=1)  # to a device of its organisation
    assert second.receive()[0].payload == b"open valve"
    assert first.subscribe(f"devices/{a1['address']}/telemetry", qos=1) == [1]
    first.close(); second.close()


def test_mosquitto_clients_log_in_as_devices_with_their_tokens(devnet, platform):
    d = platform["devices"]["a1"]
    token = platform["token"]("a1")
    host, port = devnet.mqtt_url.rsplit("//", 1)[1].split(":")
    topic = f"devices/{d['address']}/status"
    sub = subprocess.Popen(["mosquitto_sub", "-h", host, "-p", port, "-u", d["address"], "-P", token, "-t", topic, "-C", "1", "-W", "15",
                            "-V", "mqttv5", "-i", "a1-mosquitto-sub"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.8)
    pub = subprocess.run(["mosquitto_pub", "-h", host, "-p", port, "-u", d["address"], "-P", token, "-t", topic, "-m", "online",
                          "-q", "1", "-i", "a1-mosquitto-pub"], capture_output=True, text=True, timeout=15)
    assert pub.returncode == 0, pub.stderr
    out, err = sub.communicate(timeout=20)
    assert out.strip() == "online", err


def test_topics_outside_the_devices_rights_are_refused_with_0x87_and_not_delivered(devnet, platform):
    a1, b1 = platform["devices"]["a1"], platform["devices"]["b1"]
    outsider, target = connect(devnet, platform, "a1"), connect(devnet, platform, "b1")
    target.subscribe(f"devices/{b1['address']}/#", qos=1)
    assert outsider.subscribe(f"devices/{b1['address']}/#", qos=1) == [0x87]
    assert outsider.subscribe("#", qos=1) == [0x87]
    assert outsider.subscribe("devices/+/telemetry", qos=1) == [0x87]
    assert outsider.publish_code(f"devices/{b1['address']}/in", b"intrusion") == 0x87
    assert target.nothing()
    outsider.close(); target.close()
    assert f"may not publish to devices/{b1['address']}/in" in devnet.stderr()


def test_an_organisation_grants_another_organisations_devices_rights_on_chain_and_revokes_them(devnet, platform):
    a1, b2 = platform["devices"]["a1"], platform["devices"]["b2"]
    org_a, org_b = platform["orgs"]
    admin_b = platform["admins"][1]
    telemetry = f"devices/{b2['address']}/telemetry"
    reader, source = connect(devnet, platform, "a1"), connect(devnet, platform, "b2")
    assert reader.subscribe(telemetry, qos=1) == [0x87]
    granted = platform["cli"]("org", "messaging", str(org_b), str(org_a), "--rights", "subscribe", "--from", admin_b)
    assert granted["rights"] == ["subscribe"]
    assert platform["cli"]("org", "messaging", str(org_b), str(org_a))["rights"] == ["subscribe"]
    assert reader.subscribe(telemetry, qos=1) == [1]
    source.publish(telemetry, b"21.5 C", qos=1)
    assert reader.receive()[0].payload == b"21.5 C"
    assert reader.publish_code(f"devices/{b2['address']}/inbox/x", b"no publish right") == 0x87
    # Only organisation B's admins may grant on B's topics.
    refused = platform["cli"].__wrapped__("org", "messaging", str(org_b), str(org_a), "--rights", "publish", "--from", platform["admins"][0])
    assert refused.returncode != 0 and "admin" in refused.stderr.lower(), refused.stderr
    assert platform["cli"]("org", "messaging", str(org_b), str(org_a), "--rights", "none", "--from", admin_b)["rights"] == []
    time.sleep(0.5)  # the node re-reads the policy in the block that changed it
    source.publish(telemetry, b"22.0 C", qos=1)
    assert reader.nothing()
    reader.close(); source.close()


def test_a_devices_inbox_takes_only_its_senders_genuine_new_envelopes(devnet, platform):
    a1, a2 = platform["devices"]["a1"], platform["devices"]["a2"]
    inbox = f"devices/{a1['address']}/inbox"
    recipient = bytes.fromhex(a1["address"][2:])
    signer = Signer.from_key_file(a2["key"])
    sender, receiver = connect(devnet, platform, "a2"), connect(devnet, platform, "a1")
    receiver.subscribe(inbox, qos=1)
    now = int(time.time() * 1000)
    genuine = signed_envelope(signer, recipient, 1, now, "text/plain", b"valve 3 closed")
    assert sender.publish_code(inbox, genuine) == 0
    assert receiver.receive()[0].payload == genuine
    forged = bytearray(signed_envelope(signer, recipient, 2, now, "text/plain", b"open all valves"))
    forged[-1] ^= 1
    assert sender.publish_code(inbox, bytes(forged)) == 0x87
    assert sender.publish_code(inbox, genuine) == 0x87  # a replay
    assert sender.publish_code(inbox, b"plain text") == 0x99
    other = signed_envelope(signer, bytes.fromhex(a2["address"][2:]), 3, now, "text/plain", b"not for a1")
    assert sender.publish_code(inbox, other) == 0x99  # addressed to another device
    relayed = signed_envelope(signer, recipient, 4, now, "text/plain", b"relayed by a1")
    assert receiver.publish_code(inbox, relayed) == 0x87  # only its sender publishes it
    assert receiver.nothing()
    after_refusals = signed_envelope(signer, recipient, 2, now, "text/plain", b"next")  # refusals moved no sequence
    assert sender.publish_code(inbox, after_refusals) == 0
    assert receiver.receive()[0].payload == after_refusals
    stderr = devnet.stderr()
    assert "envelope refused" in stderr and "not an envelope" in stderr
    sender.close(); receiver.close()


def test_a_delivered_envelope_can_be_proven_against_the_chain_and_a_tampered_proof_cannot(devnet, platform, kramaa, tmp_path):
    a1, a2 = platform["devices"]["a1"], platform["devices"]["a2"]
    inbox = f"devices/{a1['address']}/inbox"
    signer = Signer.from_key_file(a2["key"])
    sender, receiver = connect(devnet, platform, "a2"), connect(devnet, platform, "a1")
    receiver.subscribe(inbox, qos=1)
    envelope = signed_envelope(signer, bytes.fromhex(a1["address"][2:]), int(time.time() * 1000), int(time.time() * 1000),
                               "text/plain", b"pallet 17 received")
    assert sender.publish_code(inbox, envelope) == 0
    assert receiver.receive()[0].payload == envelope  # paho acknowledged it: delivered
    envelope_hash = "0x" + keccak(envelope).hex()
    url = ["--rpc", f"http://127.0.0.1:{devnet.port}"]
    deadline = time.monotonic() + 20
    while True:
        proc = kramaa("msg", "prove", envelope_hash, *url, check=False)
        answer = json.loads(proc.stdout) if proc.returncode == 0 else None
        if answer and answer["deliveries"][0]["verified"]["valid"]:
            break
        assert time.monotonic() < deadline, proc.stdout + proc.stderr
        time.sleep(0.5)
    delivery = answer["deliveries"][0]
    assert delivery["recipient"] == a1["address"] and delivery["committed"]["blockNumber"] > 0
    assert delivery["verified"]["committer"] == devnet.accounts[0].lower()
    proof = tmp_path / "proof.json"
    proof.write_text(json.dumps(delivery))
    verdict = json.loads(kramaa("msg", "verify", str(proof), *url).stdout)
    assert verdict[0]["valid"] is True
    delivery["recipient"] = a2["address"]  # claims delivery to another device
    proof.write_text(json.dumps(delivery))
    refused = kramaa("msg", "verify", str(proof), *url, check=False)
    assert refused.returncode == 1 and json.loads(refused.stdout)[0]["valid"] is False
    unknown = kramaa("msg", "prove", "0x" + "00" * 32, *url, check=False)
    assert unknown.returncode != 0 and "no delivery of envelope" in unknown.stderr
    sender.close(); receiver.close()


def enhanced_connect(devnet, device, sign):
    """MQTT 5 enhanced authentication (kramaa-device-v1) over a raw socket: CONNECT with the hello,
    the server's challenge, the signed answer; returns the reason code of CONNACK."""
    address = bytes.fromhex(device["address"][2:])
    key_address = bytes.fromhex(device.get("key_address", device["address"])[2:])
    hello = b"\x01" + address + key_address
    variable = mqtt_string("MQTT") + b"\x05" + b"\x82" + (60).to_bytes(2, "big") + auth_properties("kramaa-device-v1", hello)
    connect = packet(0x10, variable + mqtt_string("enhanced-" + device["address"][-6:]) + mqtt_string(device["address"]))
    with socket.create_connection(host_port(devnet.mqtt_url), timeout=5) as s:
        s.sendall(connect)
        kind, body = read_packet(s)
        assert kind == 0xF0 and body[0] == 0x18, (kind, body)
        challenge = property_value(body, 1, 0x16)
        assert len(challenge) == 32
        answer = sign(domain("mqtt-challenge", challenge + address))
        s.sendall(packet(0xF0, b"\x18" + auth_properties("kramaa-device-v1", answer)))
        kind, body = read_packet(s)
        assert kind == 0x20, (kind, body)
        return body[1]


def test_mqtt5_enhanced_authentication_signs_the_servers_challenge(devnet, platform):
    a2 = platform["devices"]["a2"]
    signer = Signer.from_key_file(a2["key"])
    assert enhanced_connect(devnet, a2, signer.sign) == 0x00
    impostor = Signer("p256")
    assert enhanced_connect(devnet, a2, impostor.sign) == 0x86


@pytest.mark.parametrize("password, reason", [
    (b"not-a-token", "not a Kramaa device token"),
    (None, "no device token"),
])
def test_bad_credentials_are_refused_with_0x86(devnet, platform, password, reason):
    d = platform["devices"]["a1"]
    c = Client(devnet.mqtt_url, username=d["address"], password=password, connect=False)
    rc = c.connect(expect_ok=False)
    assert rc.value == 0x86, rc
    assert reason in devnet.stderr()


def test_a_token_of_another_device_is_refused(devnet, platform):
    a1, a2 = platform["devices"]["a1"], platform["devices"]["a2"]
    c = Client(devnet.mqtt_url, username=a2["address"], password=platform["token"]("a1"), connect=False)
    assert c.connect(expect_ok=False).value == 0x86


def test_a_suspended_device_is_disconnected_within_a_block_and_refused_until_reactivated(devnet, platform):
    d = platform["devices"]["a2"]
    token = platform["token"]("a2")
    c = Client(devnet.mqtt_url, client_id="a2-suspend", username=d["address"], password=token)
    platform["cli"]("device", "status", d["address"], "suspended", "--from", d["owner"])
    rc = c.disconnects.get(timeout=10)
    assert rc.value == 0x87, rc
    again = Client(devnet.mqtt_url, username=d["address"], password=token, connect=False)
    assert again.connect(expect_ok=False).value == 0x87
    platform["cli"]("device", "status", d["address"], "active", "--from", d["owner"])
    assert not Client(devnet.mqtt_url, username=d["address"], password=token).reason.is_failure


def test_a_revoked_device_is_banned(devnet, platform):
    d = platform["devices"]["b1"]
    token = platform["token"]("b1")
    platform["cli"]("device", "status", d["address"], "revoked", "--from", d["owner"])
    c = Client(devnet.mqtt_url, username=d["address"], password=token, connect=False)
    assert c.connect(expect_ok=False).value == 0x8A


def device_page(devnet, address):
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{devnet.port}/dashboard/devices/{address}", timeout=30) as response:
        return response.read().decode()


def test_the_dashboard_shows_when_a_device_was_last_seen_and_how_many_messages_it_sent(devnet, platform, kramaa, tmp_path):
    """The device page reports this node's MQTT server's view: nothing before the device connects;
    then its connection and the publications the server took (a refused one is not counted)."""
    key = tmp_path / "seen.json"
    kramaa("keys", "new", "--type", "p256", "--out", str(key))
    org_a, _ = platform["orgs"]
    address = platform["cli"]("device", "register", "--org", str(org_a), "--key", str(key), "--model", "sensor",
                              "--from", platform["admins"][0])["device"].lower()
    assert "not connected to this node" in device_page(devnet, address)
    token = kramaa("device", "mqtt-token", "--key", str(key), "--rpc", f"http://127.0.0.1:{devnet.port}").stdout.strip().splitlines()[-1]
    client = Client(devnet.mqtt_url, client_id=f"seen-{time.time_ns()}", username=address, password=token)
    for reading in (b"21.5", b"21.6", b"21.7"):
        assert client.publish_code(f"devices/{address}/telemetry", reading) == 0
    b1 = platform["devices"]["b1"]
    assert client.publish_code(f"devices/{b1['address']}/in", b"not yours") == 0x87
    client.close()
    page = device_page(devnet, address)
    assert "3 published in 1 connection to this node since" in page, page
    assert "<dt>Last seen</dt><dd>20" in page, "an ISO time"
