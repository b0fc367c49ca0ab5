"""Devices send each other envelopes through the node with `kramaa msg send` and receive them
with `kramaa msg listen` (the device-side library, KramaaDeviceMessaging): signed by the sender's
key with a persisted sequence, optionally sealed to the recipient's registered agreement key;
the listener verifies against the registry and refuses forged and replayed envelopes."""
import json
import os
import subprocess
import time

import pytest

from mqtt_support import Client, plain_mosquitto


@pytest.fixture(scope="module")
def pair(kramaa, devnet, tmp_path_factory):
    """Two devices of one organisation: alice (Ed25519) and bob (P-256, with an X25519 agreement key)."""
    tmp = tmp_path_factory.mktemp("device-messages")
    url = ["--rpc", f"http://127.0.0.1:{devnet.port}"]

    def cli(*args):
        return json.loads(kramaa(*args, *url).stdout)

    admin = devnet.accounts[7]
    org = cli("org", "create", "--name", f"Messages {time.time_ns()}", "--from", admin)["id"]
    devices = {}
    for name, kind in [("alice", "ed25519"), ("bob", "p256")]:
        key = tmp / f"{name}.json"
        kramaa("keys", "new", "--type", kind, "--out", str(key))
        record = cli("device", "register", "--org", str(org), "--key", str(key), "--model", "sensor", "--from", admin)
        devices[name] = {"address": record["device"].lower(), "key": str(key)}
    agreement = tmp / "bob-agreement.json"
    kramaa("keys", "new", "--type", "x25519", "--out", str(agreement))
    cli("device", "agreement-key", "set", devices["bob"]["address"], "--agreement-key", str(agreement),
        "--key", devices["bob"]["key"], "--from", admin)
    devices["bob"]["agreement"] = str(agreement)

    def token(name):
        return kramaa("device", "mqtt-token", "--key", devices[name]["key"], "--ttl", "600", *url).stdout.strip().splitlines()[-1]

    return {"devices": devices, "url": url, "token": token}


def session(devnet, pair, name):
    return ["--key", pair["devices"][name]["key"], "--mqtt", devnet.mqtt_url, *pair["url"]]


class Listener:
    """`kramaa msg listen` in the background, started once it says it is subscribed."""

    def __init__(self, kramaa_bin, args, tmp_path):
        self.err_path = tmp_path / f"listen-{os.urandom(3).hex()}.err"
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([kramaa_bin, "msg", "listen", *args], stdout=subprocess.PIPE, stderr=self.err)
        deadline = time.monotonic() + 20
        while "listening on" not in self.stderr():
            assert self.proc.poll() is None, f"msg listen exited {self.proc.returncode}: {self.stderr()}"
            assert time.monotonic() < deadline, f"msg listen did not subscribe: {self.stderr()}"
            time.sleep(0.05)

    def stderr(self):
        return self.err_path.read_text(errors="replace")

    def lines(self, timeout=20):
        out, _ = self.proc.communicate(timeout=timeout)
        self.err.close()
        assert self.proc.returncode == 0, self.stderr()
        return [json.loads(line) for line in out.decode().splitlines() if line.strip()]


def send(kramaa, devnet, pair, sender, recipient, *args):
    result = kramaa("msg", "send", *session(devnet, pair, sender), "--to", pair["devices"][recipient]["address"], *args)
    return result.stdout.strip().splitlines()


def test_a_signed_message_goes_from_one_device_to_another_and_is_verified(kramaa, kramaa_bin, devnet, pair, tmp_path):
    listener = Listener(kramaa_bin, [*session(devnet, pair, "bob"), "--count", "2"], tmp_path)
    first = send(kramaa, devnet, pair, "alice", "bob", "valve 3 open")
    second = send(kramaa, devnet, pair, "alice", "bob", "valve 3 closed")
    got = listener.lines()
    assert [m["payload"] for m in got] == ["valve 3 open", "valve 3 closed"]
    assert all(m["sender"].lower() == pair["devices"]["alice"]["address"] and m["sealed"] is False for m in got)
    assert got[0]["contentType"] == "text/plain"
    # The hash printed by the sender (last line) names the envelope the listener verified.
    assert [m["envelopeHash"] for m in got] == [first[-1], second[-1]]
    # Sequence numbers strictly increase and are kept beside the key (0600).
    assert got[1]["sequence"] > got[0]["sequence"] == json.loads(first[0])["sequence"]
    state = pair["devices"]["alice"]["key"] + ".state"
    assert oct(os.stat(state).st_mode & 0o777) == "0o600"
    assert json.load(open(state))["sequence"] == got[1]["sequence"]


def test_a_sealed_message_is_opened_only_with_the_recipients_agreement_key(kramaa, kramaa_bin, devnet, pair, tmp_path):
    bob = pair["devices"]["bob"]
    listener = Listener(kramaa_bin, [*session(devnet, pair, "bob"), "--agreement-key", bob["agreement"], "--count", "1"], tmp_path)
    # A subscriber of the inbox (the node, anyone in between) sees only ciphertext.
    spy = Client(devnet.mqtt_url, username=bob["address"], password=pair["token"]("bob"))
    spy.subscribe(f"devices/{bob['address']}/inbox", qos=1)
    (tmp_path / "reading.json").write_bytes(b'{"temperature": 21.5}')
    sent = send(kramaa, devnet, pair, "alice", "bob", "--seal", "--file", str(tmp_path / "reading.json"), "--content-type", "application/json")
    got = listener.lines()
    assert got[0]["sealed"] is True and got[0]["payload"] == '{"temperature": 21.5}' and got[0]["envelopeHash"] == sent[-1]
    wire = spy.receive()[0].payload
    assert wire[:1] == b"E" and b"temperature" not in wire
    spy.close()


def test_the_node_refuses_forged_replayed_and_plain_payloads_on_an_inbox(kramaa, kramaa_bin, devnet, pair, tmp_path):
    alice, bob = pair["devices"]["alice"], pair["devices"]["bob"]
    inbox = f"devices/{bob['address']}/inbox"
    spy = Client(devnet.mqtt_url, username=bob["address"], password=pair["token"]("bob"))
    spy.subscribe(inbox, qos=1)
    listener = Listener(kramaa_bin, [*session(devnet, pair, "bob"), "--count", "2"], tmp_path)
    send(kramaa, devnet, pair, "alice", "bob", "hello bob")
    genuine = spy.receive()[0].payload
    mallory = Client(devnet.mqtt_url, username=alice["address"], password=pair["token"]("alice"))
    for bad in [genuine.replace(b"hello bob", b"jello bob"), genuine, b"not an envelope"]:  # altered, replayed, plain
        assert mallory.publish_code(inbox, bad, qos=1) >= 0x80
    send(kramaa, devnet, pair, "alice", "bob", "still here")
    assert [m["payload"] for m in listener.lines()] == ["hello bob", "still here"]
    assert spy.receive()[0].payload != genuine and spy.nothing(0.3)
    mallory.close()
    spy.close()


def test_the_listener_checks_what_a_broker_that_checks_nothing_hands_it(kramaa, kramaa_bin, devnet, pair, tmp_path):
    """Through a plain mosquitto (no node in between) forged, replayed and plain payloads reach
    the device: the device-side library refuses and skips them itself."""
    bob = pair["devices"]["bob"]
    inbox = f"devices/{bob['address']}/inbox"
    with plain_mosquitto(tmp_path) as (site, port):
        spy = Client(site)
        spy.subscribe(inbox, qos=1)
        listener = Listener(kramaa_bin, ["--key", bob["key"], "--mqtt", site, *pair["url"], "--count", "2"], tmp_path)
        kramaa("msg", "send", "--key", pair["devices"]["alice"]["key"], "--mqtt", site, *pair["url"], "--to", bob["address"], "hello bob")
        genuine = spy.receive()[0].payload
        for bad in [genuine.replace(b"hello bob", b"jello bob"), genuine, b"not an envelope"]:
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", inbox, "-q", "1", "-s"], input=bad, check=True)
        time.sleep(0.5)
        kramaa("msg", "send", "--key", pair["devices"]["alice"]["key"], "--mqtt", site, *pair["url"], "--to", bob["address"], "still here")
        assert [m["payload"] for m in listener.lines()] == ["hello bob", "still here"]
        err = listener.stderr()
        assert "forged or altered" in err and "replayed" in err and "not a Kramaa envelope" in err
        spy.close()


def test_sealing_to_a_device_without_an_agreement_key_is_refused_before_sending(kramaa, devnet, pair):
    result = kramaa("msg", "send", *session(devnet, pair, "bob"), "--to", pair["devices"]["alice"]["address"], "--seal", "secret", check=False)
    assert result.returncode != 0
    assert "has no usable agreement key" in result.stderr
    assert result.stdout == ""


def test_send_needs_text_or_a_file(kramaa, devnet, pair):
    result = kramaa("msg", "send", *session(devnet, pair, "alice"), "--to", pair["devices"]["bob"]["address"], check=False)
    assert result.returncode != 0 and "give either TEXT or --file" in result.stderr
