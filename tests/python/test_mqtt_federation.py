"""MQTT across the consortium: a 4-validator devnet whose nodes relay publications over their
peer network, so clients connected to different validators talk as through one broker."""
import re
import signal
import subprocess
import sys
import time
import uuid

import pytest

from conftest import ROOT
from mqtt_support import Client, mosquitto
from validators_support import port_block, wait_until


@pytest.fixture(scope="module")
def network(kramaa_bin, tmp_path_factory):
    directory = tmp_path_factory.mktemp("mqtt-federation")
    base = port_block(16)
    out_path = directory / "devnet.out"
    args = [kramaa_bin, "devnet", "--validators", "4", "--datadir", str(directory / "net"), "--rpc-port", str(base),
            "--p2p-port", str(base + 4), "--mqtt-port", str(base + 8), "--mqtt-ws-port", str(base + 12),
            "--mqtt-allow-anonymous", "--accounts", "2", "--quiet"]
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    wait_until(lambda: "==== kramaa devnet ready" in out_path.read_text(errors="replace"), 60, message="the devnet's ready block")
    text = out_path.read_text(errors="replace")
    urls = dict(re.findall(r"^validator (\d) 0x[0-9a-fA-F]{40}: JSON-RPC \S+, MQTT (mqtt://\S+) ws://", text, re.M))
    assert len(urls) == 4, text
    time.sleep(1.5)  # the validators' peer connections and first interest announcements
    yield {"urls": [urls[str(i)] for i in range(4)], "proc": proc, "out": out_path}
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0, out_path.read_text(errors="replace")[-3000:]


def fresh(prefix="fed"):
    return f"{prefix}/{uuid.uuid4().hex[:8]}"


def settle():
    time.sleep(0.3)  # interest announcements are debounced by 50 ms and cross one peer connection


def test_a_publication_reaches_subscribers_on_every_other_validator_once(network):
    urls = network["urls"]
    t = fresh()
    subs = [Client(urls[i]) for i in range(3)]
    for s in subs:
        assert s.subscribe(t + "/#", qos=1) == [1]
    settle()
    pub = Client(urls[3])
    for i in range(20):
        pub.publish(f"{t}/{i}", f"m{i}".encode(), qos=1)
    for s in subs:
        assert [m.payload for m in s.receive(20)] == [f"m{i}".encode() for i in range(20)]
        assert s.nothing(0.3)  # once each: no duplicates
    for c in subs + [pub]:
        c.close()


def test_mosquitto_clients_on_two_validators_talk_at_qos_2(network):
    urls = network["urls"]
    t = fresh()
    port = urls[1].rsplit(":", 1)[1]
    sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", t, "-q", "2", "-C", "2", "-W", "15", "-V", "mqttv5"],
                           stdout=subprocess.PIPE, text=True)
    time.sleep(0.8)
    for text in ("first", "second"):
        assert mosquitto("mosquitto_pub", urls[2], "-t", t, "-m", text, "-q", "2").returncode == 0
    out, _ = sub.communicate(timeout=20)
    assert out.splitlines() == ["first", "second"]


def test_a_retained_message_set_on_one_validator_is_seen_by_a_later_subscriber_on_another(network):
    urls = network["urls"]
    t = fresh("status")
    Client(urls[0]).publish(t, b"door open", qos=1, retain=True)
    time.sleep(0.3)
    late = Client(urls[2])
    late.subscribe(t, qos=1)
    m = late.receive()[0]
    assert (m.payload, m.retain) == (b"door open", True)
    late.close()


def test_a_will_from_one_validator_reaches_a_subscriber_on_another(network):
    urls = network["urls"]
    t = fresh("wills")
    watcher = Client(urls[3])
    watcher.subscribe(t, qos=1)
    settle()
    dying = Client(urls[1], will=(t, b"lost", 1, False))
    dying.drop()
    assert watcher.receive()[0].payload == b"lost"
    watcher.close()


def test_a_session_follows_its_client_to_another_validator_with_what_was_queued(network):
    urls = network["urls"]
    t = fresh("cmd")
    cid = "roaming-" + uuid.uuid4().hex[:6]
    first = Client(urls[0], client_id=cid, clean_start=True, session_expiry=600)
    first.subscribe(t, qos=1)
    first.close()
    settle()
    pub = Client(urls[2])
    for i in range(5):
        pub.publish(t, f"queued {i}".encode(), qos=1)
    time.sleep(0.3)
    back = Client(urls[3], client_id=cid, connect=False)
    back.connect(clean_start=False, session_expiry=600)
    assert back.session_present
    assert [m.payload for m in back.receive(5)] == [f"queued {i}".encode() for i in range(5)]
    settle()
    pub.publish(t, b"after the move", qos=1)  # now relayed to the new node only
    assert back.receive()[0].payload == b"after the move"
    assert back.nothing(0.3)
    back.close(); pub.close()


def test_the_messaging_benchmark_runs_small(kramaa_bin, tmp_path):
    """The smoke version of `scripts/bench.sh messaging` (tools/bench/mqtt_bench.py): every row
    measured against a real mosquitto, a single node and a 4-validator devnet, written to a
    temporary file, never BENCHMARKS.md."""
    out = tmp_path / "bench.md"
    proc = subprocess.run([sys.executable, str(ROOT / "tools/bench/mqtt_bench.py"), "--binary", kramaa_bin, "--out", str(out),
                           "--messages", "400", "--idle", "100"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = out.read_text()
    assert "## Messaging (MQTT)" in text and "mosquitto version 2" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "k msg/s" in line]
    assert len(rows) >= 3, text
