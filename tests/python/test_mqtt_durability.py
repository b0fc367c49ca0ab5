"""Nothing acknowledged is lost when the node is killed with kill -9 in the middle of
delivery: persistent sessions, their queued QoS 1 messages and retained messages come back
from the session journal."""
import threading
import time

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from mqtt_support import Client


def test_acknowledged_messages_survive_kill_9_during_delivery(node_factory):
    node = node_factory("devnet", ["--accounts", "1", "--mqtt-allow-anonymous"], fresh=True)
    sub = Client(node.mqtt_url, client_id="durable-sub", clean_start=True, session_expiry=3600)
    assert sub.subscribe("load/#", qos=1) == [1]
    pub = Client(node.mqtt_url, client_id="publisher")
    pub.publish("status/last", b"retained", qos=1, retain=True)
    acked = set()
    lock = threading.Lock()
    acked_mids = set()
    pub.client.on_publish = lambda c, u, mid, rc, props: acked_mids.add(mid)  # PUBACK received
    infos = []

    def publish_forever():
        i = 0
        while i < 60_000:  # packet identifiers (mids) stay unique
            try:
                info = pub.client.publish("load/x", str(i).encode(), qos=1)
            except Exception:
                return
            infos.append((i, info))
            i += 1
            if i % 50 == 0:
                time.sleep(0.005)

    t = threading.Thread(target=publish_forever, daemon=True)
    t.start()
    time.sleep(1.0)  # the subscriber receives some while the publisher goes on
    node.kill()
    t.join(timeout=5)
    for i, info in infos:
        if info.rc == 0 and info.mid in acked_mids:
            acked.add(str(i).encode())
    received = set()
    while not sub.messages.empty():
        received.add(sub.messages.get().payload)
    assert len(acked) > 100, f"only {len(acked)} acknowledged before the kill"
    sub.client.loop_stop()
    pub.client.loop_stop()
    node.start()
    back = Client(node.mqtt_url, client_id="durable-sub", connect=False)
    back.connect(clean_start=False, session_expiry=3600)
    assert back.session_present
    deadline = time.monotonic() + 20
    while not acked <= received and time.monotonic() < deadline:
        try:
            received.add(back.messages.get(timeout=1).payload)
        except Exception:
            pass
    missing = acked - received
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged messages lost, e.g. {sorted(missing)[:5]}"
    late = Client(node.mqtt_url)
    late.subscribe("status/last", qos=1)
    assert late.receive()[0].payload == b"retained"
    back.close(); late.close()
