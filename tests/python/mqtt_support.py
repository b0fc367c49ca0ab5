"""MQTT clients for the tests: paho-mqtt (MQTT 5 and 3.1.1, TCP and WebSocket) with the
callbacks turned into queues one can wait on."""
import contextlib
import os
import queue
import socket
import subprocess
import time
import urllib.parse

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def host_port(url):
    u = urllib.parse.urlparse(url)
    return u.hostname, u.port


class Client:
    """A paho client connected to `url` (mqtt:// or ws://); messages and disconnects queue up."""

    def __init__(self, url, client_id="", v5=True, clean_start=True, session_expiry=None, username=None, password=None,
                 will=None, receive_maximum=None, properties=None, connect=True, keepalive=60):
        self.host, self.port = host_port(url)
        transport = "websockets" if url.startswith("ws") else "tcp"
        self.v5 = v5
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, transport=transport,
                                  protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
                                  clean_session=None if v5 else clean_start)
        self.messages = queue.Queue()
        self.connacks = queue.Queue()
        self.disconnects = queue.Queue()
        self.subacks = queue.Queue()
        c = self.client
        c.on_message = lambda cl, u, m: self.messages.put(m)
        c.on_connect = lambda cl, u, flags, rc, props: self.connacks.put((rc, flags, props))
        c.on_disconnect = lambda cl, u, flags, rc, props: self.disconnects.put(rc)
        c.on_subscribe = lambda cl, u, mid, rcs, props: self.subacks.put(rcs)
        self.acks = {}
        c.on_publish = lambda cl, u, mid, rc, props: self.acks.__setitem__(mid, rc)
        if username is not None:
            c.username_pw_set(username, password)
        if will:
            c.will_set(*will)
        if connect:
            self.connect(clean_start=clean_start, session_expiry=session_expiry, receive_maximum=receive_maximum,
                         properties=properties, keepalive=keepalive)

    def connect(self, clean_start=True, session_expiry=None, receive_maximum=None, properties=None, keepalive=60, expect_ok=True):
        props = properties
        if self.v5 and (session_expiry is not None or receive_maximum is not None):
            props = props or Properties(PacketTypes.CONNECT)
            if session_expiry is not None:
                props.SessionExpiryInterval = session_expiry
            if receive_maximum is not None:
                props.ReceiveMaximum = receive_maximum
        if self.v5:
            self.client.connect(self.host, self.port, keepalive=keepalive, clean_start=clean_start, properties=props)
        else:
            self.client.connect(self.host, self.port, keepalive=keepalive)
        self.client.loop_start()
        rc, flags, props = self.connacks.get(timeout=10)
        self.connack_properties = props
        self.session_present = flags.session_present
        if expect_ok:
            assert not rc.is_failure, f"CONNACK {rc}"
        self.reason = rc
        return rc

    def subscribe(self, topic, qos=1, **options):
        if self.v5:
            from paho.mqtt.subscribeoptions import SubscribeOptions
            props = options.pop("properties", None)
            self.client.subscribe(topic, options=SubscribeOptions(qos=qos, **options), properties=props)
        else:
            self.client.subscribe(topic, qos)
        codes = self.subacks.get(timeout=10)
        return [c.value if hasattr(c, "value") else c for c in codes]

    def publish(self, topic, payload, qos=1, retain=False, properties=None):
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        if qos > 0:
            info.wait_for_publish(timeout=10)
        return info

    def publish_code(self, topic, payload, qos=1, properties=None):
        """Publishes and returns the acknowledgement's reason code (MQTT 5)."""
        info = self.publish(topic, payload, qos=qos, properties=properties)
        rc = self.acks.get(info.mid)
        return rc.value if hasattr(rc, "value") else rc

    def receive(self, count=1, timeout=10):
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            out.append(self.messages.get(timeout=max(0.01, deadline - time.monotonic())))
        return out

    def nothing(self, wait=0.5):
        try:
            m = self.messages.get(timeout=wait)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected message on {m.topic}: {m.payload!r}")

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()

    def drop(self):
        """Closes the socket without DISCONNECT (the will is published)."""
        self.client.loop_stop()
        self.client.socket().close()


def raw_connect(url, packet, read=True):
    """Sends raw bytes; returns what the server answered before closing (or within 2 s)."""
    host, port = host_port(url)
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(packet)
        s.settimeout(2)
        data = b""
        try:
            while read:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
        return data


@contextlib.contextmanager
def plain_mosquitto(tmp_path):
    """A real mosquitto 2 (Debian's) allowing anonymous clients on a free loopback port, which
    checks nothing a Kramaa node checks: yields (url, port)."""
    binary = "/usr/sbin/mosquitto"
    assert os.access(binary, os.X_OK), "mosquitto is missing: install Debian's mosquitto package (apt-get install mosquitto)"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / f"mosquitto-{port}.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "mosquitto did not start"
                time.sleep(0.05)
        yield f"mqtt://127.0.0.1:{port}", port
    finally:
        proc.kill()
        proc.wait()


def mosquitto(tool, url, *args, timeout=15):
    host, port = host_port(url)
    return subprocess.run([tool, "-h", host, "-p", str(port), *args], capture_output=True, text=True, timeout=timeout)


# -- raw MQTT 5 packets, for what clients do not do (enhanced authentication)

def varint(n):
    out = b""
    while True:
        byte, n = n % 128, n // 128
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def mqtt_string(b):
    b = b.encode() if isinstance(b, str) else b
    return len(b).to_bytes(2, "big") + b


def packet(first_byte, body):
    return bytes([first_byte]) + varint(len(body)) + body


def auth_properties(method, data):
    props = b"\x15" + mqtt_string(method) + b"\x16" + mqtt_string(data)
    return varint(len(props)) + props


def read_packet(sock):
    """(first byte, body) of the next packet."""
    first = sock.recv(1)
    if not first:
        return None, b""
    length, shift = 0, 0
    while True:
        b = sock.recv(1)[0]
        length |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    body = b""
    while len(body) < length:
        body += sock.recv(length - len(body))
    return first[0], body


def property_value(body, at, identifier):
    """The value of binary property `identifier` in the property block at `at`."""
    length, i, shift = 0, at, 0
    while True:
        b = body[i]; i += 1
        length |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    end = i + length
    while i < end:
        pid = body[i]; i += 1
        if pid in (0x15, 0x16, 0x1F):
            n = int.from_bytes(body[i:i + 2], "big")
            value = body[i + 2:i + 2 + n]
            i += 2 + n
            if pid == identifier:
                return value
        else:
            raise AssertionError(f"unexpected property {pid}")
    return None
