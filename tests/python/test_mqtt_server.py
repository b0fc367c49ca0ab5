"""The node's MQTT server against real clients: mosquitto_pub/mosquitto_sub (Debian's
mosquitto-clients) and paho-mqtt, MQTT 5 and 3.1.1, over TCP and WebSocket; anonymous clients
(allowed on this devnet with --mqtt-allow-anonymous) live under sandbox/."""
import re
import struct
import subprocess
import threading
import time
import uuid

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from conftest import NodeProcess
from mqtt_support import Client, mosquitto, raw_connect


@pytest.fixture(scope="module")
def node(kramaa_bin, tmp_path_factory):
    directory = tmp_path_factory.mktemp("mqtt")
    n = NodeProcess(kramaa_bin, "devnet", directory / "chain", ["--accounts", "2", "--mqtt-allow-anonymous"], log_dir=directory)
    n.start(fresh=True)
    assert n.mqtt_url and n.mqtt_ws_url, n.stdout_path.read_text()
    yield n
    if n.proc is not None:
        assert n.stop() == 0, n.stderr()


def topic(prefix="t"):
    return f"{prefix}/{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("version", ["mqttv311", "mqttv5"])
@pytest.mark.parametrize("qos", [0, 1, 2])
def test_mosquitto_clients_publish_and_subscribe_at_every_qos(node, version, qos):
    t = topic()
    sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", node.mqtt_url.rsplit(":", 1)[1], "-t", t + "/#", "-q", str(qos),
                            "-V", version, "-C", "3", "-v", "-W", "15"], stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    for i in range(3):
        r = mosquitto("mosquitto_pub", node.mqtt_url, "-t", f"{t}/{i}", "-m", f"m{i}", "-q", str(qos), "-V", version)
        assert r.returncode == 0, r.stderr
    out, _ = sub.communicate(timeout=20)
    assert out.splitlines() == [f"{t}/{i} m{i}" for i in range(3)]


def test_paho_over_websocket_reaches_a_tcp_subscriber(node):
    t = topic()
    tcp = Client(node.mqtt_url)
    ws = Client(node.mqtt_ws_url)
    assert tcp.subscribe(t, qos=1) == [1]
    ws.publish(t, b"over websocket", qos=1)
    assert tcp.receive()[0].payload == b"over websocket"
    tcp.close(); ws.close()


def test_retained_messages_reach_later_subscribers_and_clear_with_an_empty_payload(node):
    t = topic("status")
    pub = Client(node.mqtt_url)
    pub.publish(t, b"on", qos=1, retain=True)
    late = Client(node.mqtt_url)
    late.subscribe(t, qos=1)
    m = late.receive()[0]
    assert (m.payload, m.retain) == (b"on", True)
    pub.publish(t, b"", qos=1, retain=True)
    later = Client(node.mqtt_url)
    later.subscribe(t, qos=1)
    assert later.nothing()
    for c in (pub, late, later):
        c.close()


def test_a_will_is_published_when_a_client_vanishes(node):
    t = topic("wills")
    watcher = Client(node.mqtt_url)
    watcher.subscribe(t, qos=1)
    dying = Client(node.mqtt_url, will=(t, b"gone", 1, False))
    dying.drop()
    assert watcher.receive()[0].payload == b"gone"
    watcher.close()


def test_a_persistent_session_gets_what_was_published_while_it_was_away(node):
    t = topic()
    cid = "persistent-" + uuid.uuid4().hex[:6]
    sub = Client(node.mqtt_url, client_id=cid, clean_start=True, session_expiry=300)
    sub.subscribe(t, qos=1)
    sub.close()
    pub = Client(node.mqtt_url)
    for i in range(5):
        pub.publish(t, f"{i}".encode(), qos=1)
    back = Client(node.mqtt_url, client_id=cid, clean_start=False, session_expiry=300, connect=False)
    back.connect(clean_start=False, session_expiry=300)
    assert back.session_present
    assert [m.payload for m in back.receive(5)] == [b"0", b"1", b"2", b"3", b"4"]
    back.close(); pub.close()


def test_shared_subscriptions_split_the_messages_between_members(node):
    t = topic("jobs")
    a, b, pub = Client(node.mqtt_url), Client(node.mqtt_url), Client(node.mqtt_url)
    a.subscribe(f"$share/workers/{t}", qos=1)
    b.subscribe(f"$share/workers/{t}", qos=1)
    for i in range(10):
        pub.publish(t, str(i).encode(), qos=1)
    time.sleep(1)
    got_a = [a.messages.get().payload for _ in range(a.messages.qsize())]
    got_b = [b.messages.get().payload for _ in range(b.messages.qsize())]
    assert len(got_a) == 5 and len(got_b) == 5
    assert sorted(got_a + got_b) == sorted(str(i).encode() for i in range(10))
    for c in (a, b, pub):
        c.close()


def test_request_response_and_user_properties_and_subscription_identifiers_arrive(node):
    t = topic("req")
    sub, pub = Client(node.mqtt_url), Client(node.mqtt_url)
    sp = Properties(PacketTypes.SUBSCRIBE)
    sp.SubscriptionIdentifier = 42
    sub.subscribe(t, qos=1, properties=sp)
    p = Properties(PacketTypes.PUBLISH)
    p.ResponseTopic = "resp/1"
    p.CorrelationData = b"\x01\x02"
    p.UserProperty = [("k", "v")]
    p.ContentType = "application/json"
    p.MessageExpiryInterval = 60
    pub.publish(t, b"{}", qos=1, properties=p)
    m = sub.receive()[0]
    assert m.properties.ResponseTopic == "resp/1"
    assert m.properties.CorrelationData == b"\x01\x02"
    assert m.properties.UserProperty == [("k", "v")]
    assert m.properties.ContentType == "application/json"
    assert m.properties.SubscriptionIdentifier == [42]
    assert 0 < m.properties.MessageExpiryInterval <= 60
    sub.close(); pub.close()


def test_topic_aliases_are_accepted(node):
    t = topic("alias")
    sub, pub = Client(node.mqtt_url), Client(node.mqtt_url)
    sub.subscribe(t, qos=0)
    first = Properties(PacketTypes.PUBLISH)
    first.TopicAlias = 3
    pub.publish(t, b"one", qos=1, properties=first)
    pub.publish("", b"two", qos=1, properties=first)  # the alias alone names the topic
    assert [m.payload for m in sub.receive(2)] == [b"one", b"two"]
    sub.close(); pub.close()


def test_connack_tells_the_client_the_brokers_limits(node):
    c = Client(node.mqtt_url)
    p = c.connack_properties
    assert p.ReceiveMaximum == 1024 and p.TopicAliasMaximum == 64
    assert p.SharedSubscriptionAvailable == 1 and p.SubscriptionIdentifierAvailable == 1
    c.close()


def test_anonymous_clients_are_confined_to_the_sandbox(node):
    c = Client(node.mqtt_url)
    assert c.subscribe("$SYS/#", qos=0) == [0]
    c.publish("$SYS/fake", b"x", qos=1)  # refused (topics starting with $ are the broker's)
    assert c.nothing()
    c.close()


def test_malformed_packets_close_the_connection_and_others_carry_on(node):
    t = topic()
    good = Client(node.mqtt_url)
    good.subscribe(t, qos=1)
    # A reserved packet type 0, a CONNECT of an unknown protocol level, and a packet larger than the broker takes.
    assert raw_connect(node.mqtt_url, b"\x00\x00") == b""
    assert raw_connect(node.mqtt_url, b"\x10\x0c\x00\x04MQTT\x07\x02\x00\x3c\x00\x00")[:4] == b"\x20\x02\x00\x01"  # 3.1.1 CONNACK 1
    connect = b"\x10\x10\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x03abc"
    huge = b"\x30" + bytes([0xff, 0xff, 0xff, 0x7f])  # PUBLISH of 268 MB
    answer = raw_connect(node.mqtt_url, connect + huge)
    assert answer[:1] == b"\x20" and b"\xe0" in answer and b"\x95" in answer[answer.index(b"\xe0"):], answer
    pub = Client(node.mqtt_url)
    pub.publish(t, b"still serving", qos=1)
    assert good.receive()[0].payload == b"still serving"
    good.close(); pub.close()


def test_a_node_without_anonymous_access_refuses_clients_without_credentials(devnet):
    c = Client(devnet.mqtt_url, connect=False)
    rc = c.connect(expect_ok=False)
    assert rc.is_failure and rc.value == 0x87, rc
    r = mosquitto("mosquitto_pub", devnet.mqtt_url, "-t", "a", "-m", "x", "-V", "mqttv311")
    assert r.returncode != 0 and "not authorised" in (r.stderr + r.stdout).lower(), r
    assert "anonymous clients are not allowed" in devnet.stderr()


def test_mqtt_over_tls_with_the_operators_certificate(node_factory, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    n = node_factory("devnet", ["--accounts", "1", "--mqtt-allow-anonymous", "--mqtt-tls-port", "0",
                                "--mqtt-tls-cert", str(cert), "--mqtt-tls-key", str(key)], fresh=True)
    text = n.stdout_path.read_text()
    port = re.search(r"mqtts://127\.0\.0\.1:(\d+)", text).group(1)
    t = topic("secure")
    sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", port, "--cafile", str(cert), "-t", t, "-C", "1", "-W", "15"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.8)
    pub = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "--cafile", str(cert), "-t", t, "-m", "over tls", "-q", "1"],
                         capture_output=True, text=True, timeout=15)
    assert pub.returncode == 0, pub.stderr
    out, err = sub.communicate(timeout=20)
    assert out.strip() == "over tls", err
    # Plain MQTT on the TLS port is not understood: the TLS handshake fails, nothing is served.
    plain = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-t", t, "-m", "x"], capture_output=True, text=True, timeout=15)
    assert plain.returncode != 0


def test_the_server_uses_topic_aliases_when_paho_allows_them(node):
    t = topic("alias-out")
    p = Properties(PacketTypes.CONNECT)
    p.TopicAliasMaximum = 1
    c = Client(node.mqtt_url, properties=p)
    c.subscribe(t, qos=2)
    for qos in range(3):
        c.publish(t, b"aliased", qos=qos)
    got = c.receive(3)
    assert got[0].topic == t and got[0].properties.TopicAlias > 0
    assert [m.topic for m in got[1:]] == ["", ""] and {m.properties.TopicAlias for m in got} == {got[0].properties.TopicAlias}
    c.close()


def test_a_delayed_will_arrives_after_its_delay(node):
    t = topic("late-will")
    watcher = Client(node.mqtt_url)
    watcher.subscribe(t, qos=1)
    will = Properties(PacketTypes.WILLMESSAGE)
    will.WillDelayInterval = 3
    dying = Client(node.mqtt_url, session_expiry=5, connect=False)
    dying.client.will_set(t, b"three seconds later", 1, properties=will)
    dying.connect(session_expiry=5)
    dying.drop()
    start = time.monotonic()
    m = watcher.receive(timeout=10)[0]
    assert m.payload == b"three seconds later"
    assert 3 <= time.monotonic() - start <= 5
    watcher.close()
