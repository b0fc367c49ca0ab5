"""`kramaa devnet --mqtt-bridge`: a site keeps its mosquitto during a migration. What is published
there on the bridged filters reaches the node's clients under `bridges/{host}_{port}/` (a device's
signed envelope, verified, under that device's namespace instead; a forged one refused), and
local topics matching `--bridge-out` reach the site's broker. mosquitto (Debian) is started here."""
import json
import os
import shutil
import socket
import subprocess
import time

import pytest

from mqtt_support import Client, mosquitto, plain_mosquitto


@pytest.fixture
def site_broker(tmp_path):
    """A real mosquitto with anonymous clients on a free port."""
    with plain_mosquitto(tmp_path) as broker:
        yield broker


def wait_for(predicate, what, timeout=15):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def bridged(node_factory, kramaa, site_broker, tmp_path):
    """A devnet bridged to the site broker, with a registered device connected to it."""
    site_url, port = site_broker
    node = node_factory("devnet", extra_args=["--mqtt-bridge", site_url, "--bridge-topic", "site/#", "--bridge-topic", "devices/+/inbox",
                                              "--bridge-out", "devices/+/outbound/#", "--bridge-readers", "1"])
    wait_for(lambda: f"mqtt bridge mqtt://127.0.0.1:{port}: connected" in node.stderr(), "the bridge to connect")
    url = ["--rpc", f"http://127.0.0.1:{node.port}"]
    admin = node.accounts[1]
    org = json.loads(kramaa("org", "create", "--name", "Site", "--from", admin, *url).stdout)["id"]
    assert str(org) == "1", "the first organisation of a fresh devnet is the bridge's reader, organisation 1"
    key = tmp_path / "device.json"
    kramaa("keys", "new", "--type", "ed25519", "--out", str(key))
    device = json.loads(kramaa("device", "register", "--org", str(org), "--key", str(key), "--model", "gateway", "--from", admin, *url).stdout)
    address = device["device"].lower()
    token = kramaa("device", "mqtt-token", "--key", str(key), *url).stdout.strip().splitlines()[-1]
    client = Client(node.mqtt_url, username=address, password=token)
    yield {"node": node, "site": site_url, "port": port, "device": address, "key": str(key), "client": client, "url": url}
    client.close()


def test_a_site_publication_reaches_a_node_client_under_the_bridge_mount(bridged):
    c, port = bridged["client"], bridged["port"]
    assert c.subscribe(f"bridges/127.0.0.1_{port}/site/#", qos=1) == [1]
    assert mosquitto("mosquitto_pub", bridged["site"], "-t", "site/line1/temperature", "-m", "21.5", "-q", "1").returncode == 0
    got = c.receive()[0]
    assert got.topic == f"bridges/127.0.0.1_{port}/site/line1/temperature" and got.payload == b"21.5"
    assert "relayed site/line1/temperature in" in bridged["node"].stderr()


def test_only_the_named_organisations_devices_read_the_bridge_mount(bridged, kramaa, tmp_path):
    port, url, admin = bridged["port"], bridged["url"], bridged["node"].accounts[2]
    other = json.loads(kramaa("org", "create", "--name", "Elsewhere", "--from", admin, *url).stdout)["id"]
    key = tmp_path / "outsider.json"
    kramaa("keys", "new", "--type", "ed25519", "--out", str(key))
    outsider = json.loads(kramaa("device", "register", "--org", str(other), "--key", str(key), "--model", "probe", "--from", admin, *url).stdout)["device"].lower()
    token = kramaa("device", "mqtt-token", "--key", str(key), *url).stdout.strip().splitlines()[-1]
    c = Client(bridged["node"].mqtt_url, username=outsider, password=token)
    try:
        assert c.subscribe(f"bridges/127.0.0.1_{port}/site/#", qos=1) == [0x87]
        assert f"may not subscribe to bridges/127.0.0.1_{port}/site/#" in bridged["node"].stderr()
        mosquitto("mosquitto_pub", bridged["site"], "-t", "site/line2/pressure", "-m", "7", "-q", "1")
        assert c.nothing(1.0)
    finally:
        c.close()


def test_a_site_cannot_publish_into_a_device_namespace_nor_may_a_device_write_the_bridge_mount(bridged):
    c, port, device = bridged["client"], bridged["port"], bridged["device"]
    c.subscribe(f"devices/{device}/#", qos=1)
    # A plain payload on a device inbox topic of the site stays under the mount.
    mosquitto("mosquitto_pub", bridged["site"], "-t", f"devices/{device}/inbox", "-m", "spoof", "-q", "1")
    assert c.nothing(1.0)
    c.publish(f"bridges/127.0.0.1_{port}/site/fake", b"x", qos=1)
    assert f"may not publish to bridges/127.0.0.1_{port}/site/fake" in bridged["node"].stderr()


def test_a_devices_signed_envelope_lands_in_its_namespace_and_a_forged_one_is_refused(bridged, kramaa):
    c, device = bridged["client"], bridged["device"]
    c.subscribe(f"devices/{device}/bridge/#", qos=1)
    spy = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(bridged["port"]), "-t", f"devices/{device}/inbox", "-C", "1", "-W", "15", "-N"],
                           stdout=subprocess.PIPE)
    time.sleep(0.3)
    # The device sends through the site's broker (which accepts anyone), to itself.
    sent = kramaa("msg", "send", "--key", bridged["key"], "--mqtt", bridged["site"], *bridged["url"], "--to", device, "from the site")
    got = c.receive()[0]
    assert got.topic == f"devices/{device}/bridge/devices/{device}/inbox"
    assert b"from the site" in got.payload and sent.stdout.strip().splitlines()[-1]
    genuine, _ = spy.communicate(timeout=20)
    forged = genuine.replace(b"from the site", b"from the fake")
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(bridged["port"]), "-t", f"devices/{device}/inbox", "-s"], input=forged, check=True)
    wait_for(lambda: "refused an envelope on devices/" in bridged["node"].stderr(), "the forged envelope's refusal")
    assert c.nothing(0.5)


def test_local_publications_matching_bridge_out_reach_the_site_broker(bridged):
    c, device = bridged["client"], bridged["device"]
    topic = f"devices/{device}/outbound/valve"
    sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(bridged["port"]), "-t", "devices/+/outbound/#", "-C", "1", "-W", "15", "-v"],
                           stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    c.publish(topic, b"close", qos=1)
    out, _ = sub.communicate(timeout=20)
    assert out.strip() == f"{topic} close"


def test_bridge_options_are_checked_before_the_node_starts(kramaa, tmp_path):
    for args, message in [(["--mqtt-bridge", "http://x:1", "--bridge-topic", "a"], "not mqtt (TCP) or mqtts"),
                          (["--mqtt-bridge", "mqtt://127.0.0.1:1"], "at least one --bridge-topic"),
                          (["--bridge-topic", "a/#"], "--bridge-topic needs --mqtt-bridge"),
                          (["--mqtt-bridge", "mqtt://127.0.0.1:1", "--bridge-topic", "a/#/b"], "'#' must be a whole level and the last")]:
        result = kramaa("devnet", "--datadir", str(tmp_path / "d"), *args, check=False)
        assert result.returncode != 0 and message in result.stderr, (args, result.stderr)
        assert not (tmp_path / "d").exists()
