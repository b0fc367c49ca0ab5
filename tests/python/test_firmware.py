"""The firmware (docs/FIRMWARE.md) end to end: the image built with Embedded Swift and Debian's
arm-none-eabi toolchain runs on an emulated Cortex-M4 (QEMU mps2-an386), provisions its own key,
and prints signed frames on its UART; `kramaa device bridge` reads them and forwards them to a
devnet, where they land on chain (a signed reading, a reading and an EPCIS event sent as device
transactions) and in the MQTT server (an envelope published with the device's own token).
Malformed frames and frames whose signature does not verify are refused by the bridge with
nothing forwarded; a revoked device's transactions are refused by the node.

Skipped, saying why, when qemu-system-arm or the arm toolchain is missing (scripts/setup.sh's
ensure_system_packages installs both)."""
import json
import os
import pathlib
import shutil
import subprocess
import time

import pytest
from eth_utils import keccak

from conftest import own_devnet
from mqtt_support import Client
from rpc_helpers import qty, send_signed

ROOT = pathlib.Path(__file__).resolve().parents[2]
EPC = "urn:epc:id:sgtin:0614141.107346.2018"
KIND = "0x" + keccak(b"air.temperature.centi-celsius").hex()

missing = [tool for tool in ("qemu-system-arm", "arm-none-eabi-gcc") if shutil.which(tool) is None]
if missing:
    pytest.skip(f"firmware test skipped: {', '.join(missing)} not installed (scripts/setup.sh ensure_system_packages installs "
                "gcc-arm-none-eabi and qemu-system-arm)", allow_module_level=True)
if shutil.which("swiftc") is None and not pathlib.Path("/opt/swift/usr/bin/swiftc").exists():
    pytest.skip("firmware test skipped: no Swift toolchain (swiftc) to build the Embedded Swift image", allow_module_level=True)


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """The firmware image, built by firmware/build.sh (never committed)."""
    out = tmp_path_factory.mktemp("firmware-image")
    built = subprocess.run(["bash", str(ROOT / "firmware" / "build.sh"), str(out)], capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stdout + built.stderr
    elf = out / "kramaa-firmware.elf"
    text, data, bss = (int(x) for x in built.stdout.strip().splitlines()[-1].split()[:3])
    assert text + data <= 256 * 1024 and data + bss <= 64 * 1024, f"the image does not fit 256 KiB flash / 64 KiB RAM: {built.stdout}"
    return elf


@pytest.fixture(scope="module")
def devnet(kramaa_bin, tmp_path_factory):
    yield from own_devnet(kramaa_bin, tmp_path_factory, "firmware-devnet")


def rest(devnet, method, path, body=None):
    import urllib.request
    request = urllib.request.Request(f"http://127.0.0.1:{devnet.port}{path}", method=method, headers={"Content-Type": "application/json"},
                                     data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def run_device(image, *args, timeout=300):
    """Runs the image in QEMU with the semihosting command line `args`; returns its serial output."""
    run = subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "stdio",
                          "-semihosting-config", "enable=on,target=native," + ",".join("arg=" + a for a in ("kramaa-firmware", *args)),
                          "-kernel", str(image)], capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, f"the device exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    return run.stdout


def bridge(kramaa_bin, devnet, serial_text, tmp_path, owner):
    """`kramaa device bridge` over a capture of the serial output: (exit code, JSON lines, stderr)."""
    path = tmp_path / f"serial-{time.time_ns()}.txt"
    path.write_text(serial_text)
    run = subprocess.run([kramaa_bin, "device", "bridge", "--serial", str(path), "--rpc", f"http://127.0.0.1:{devnet.port}",
                          "--mqtt", devnet.mqtt_url, "--from", owner], capture_output=True, text=True, timeout=300)
    return run.returncode, [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")], run.stderr


def frames(serial_text):
    return [line for line in serial_text.splitlines() if line.startswith("kramaa-frame ")]


def frame_line(kind, data):
    """A well-formed frame line (its check computed) around any bytes."""
    check = keccak(kind.encode() + bytes([0]) + data)[:4].hex()
    return f"kramaa-frame {kind} {data.hex()} {check}"


class Device:
    """A device running the firmware: its key in a storage file, registered for `org`, funded."""

    def __init__(self, image, devnet, tmp_path, org, owner, key_type, kramaa_bin):
        self.image, self.devnet, self.tmp_path, self.owner, self.kramaa_bin = image, devnet, tmp_path, owner, kramaa_bin
        self.storage = tmp_path / f"device-{key_type}-{time.time_ns()}.key"
        out = run_device(image, "provision", str(self.storage), str(key_type))
        identity = frames(out)
        assert len(identity) == 1 and identity[0].split()[1] == "identity", out
        raw = bytes.fromhex(identity[0].split()[2])
        assert raw[0] == key_type and self.storage.stat().st_size == 33
        self.public_key = raw[1:]
        prefix = {2: b"\x80\x24", 3: b"\xed\x01"}[key_type]
        self.address = "0x" + keccak(prefix + self.public_key)[12:].hex()
        status, record = rest(devnet, "POST", "/api/v1/devices", {"from": owner, "organization": org, "keyType": {2: "p256", 3: "ed25519"}[key_type],
                                                                  "publicKey": "0x" + self.public_key.hex(), "model": "QEMU mps2-an386"})
        assert status in (200, 201), record
        assert record["device"].lower() == self.address
        send_signed(devnet.web3(), devnet.keys[0], {"to": devnet.web3().to_checksum_address(self.address), "value": 10**18})

    def run(self, *seal_to):
        """Runs the device once; `seal_to` (a recipient address and its X25519 agreement public key in
        hex) makes it send a sealed envelope to that device's inbox too."""
        nonce = qty(self.devnet.rpc("eth_getTransactionCount", self.address, "pending"))
        base = qty(self.devnet.rpc("eth_getBlockByNumber", "latest", False)["baseFeePerGas"])
        return run_device(self.image, "run", str(self.storage), str(qty(self.devnet.rpc("eth_chainId"))), str(nonce), str(2 * base + 10**9), EPC,
                          *seal_to)

    def bridge(self, serial_text):
        return bridge(self.kramaa_bin, self.devnet, serial_text, self.tmp_path, self.owner)


@pytest.fixture(scope="module")
def organisation(kramaa, devnet):
    owner = devnet.accounts[1]
    org = json.loads(kramaa("org", "create", "--name", f"Firmware makers {time.time_ns()}", "--from", owner,
                            "--rpc", f"http://127.0.0.1:{devnet.port}").stdout)["id"]
    return org, owner


def subscriber(kramaa, devnet, tmp_path, org, owner, topic=None, agreement=None):
    """A device of the same organisation (a key made by the CLI) subscribed to `topic` (by default
    its own inbox); with `agreement` (a key file) it registers that X25519 agreement key first.
    Returns the client, or (client, address) when no topic is given."""
    url = ["--rpc", f"http://127.0.0.1:{devnet.port}"]
    key = tmp_path / f"listener-{time.time_ns()}.json"
    kramaa("keys", "new", "--type", "ed25519", "--out", str(key))
    record = json.loads(kramaa("device", "register", "--org", str(org), "--key", str(key), "--from", owner, *url).stdout)
    address = record["device"].lower()
    if agreement is not None:
        kramaa("device", "agreement-key", "set", address, "--agreement-key", str(agreement), "--key", str(key), "--from", owner, *url)
    token = kramaa("device", "mqtt-token", "--key", str(key), *url).stdout.strip().splitlines()[-1]
    client = Client(devnet.mqtt_url, client_id=f"listener-{time.time_ns()}", username=address, password=token)
    assert client.subscribe(topic or f"devices/{address}/inbox", qos=1) == [1]
    return client if topic else (client, address)


@pytest.mark.parametrize("key_type", [2, 3], ids=["p256", "ed25519"])
def test_a_device_in_qemu_signs_readings_and_an_epcis_event_that_land_on_chain(image, devnet, organisation, kramaa, kramaa_bin, tmp_path, key_type):
    org, owner = organisation
    device = Device(image, devnet, tmp_path, org, owner, key_type, kramaa_bin)
    listener = subscriber(kramaa, devnet, tmp_path, org, owner, f"devices/{device.address}/telemetry")
    serial = device.run()
    sent = frames(serial)
    assert [line.split()[1] for line in sent] == ["identity", "reading", "tx", "tx", "mqtt-connect", "mqtt-publish"], serial
    assert "kramaa-bench reading-frame" in serial and " allocations=0" in serial

    code, answers, stderr = device.bridge(serial)
    assert code == 0, stderr
    by_frame = {}
    for answer in answers:
        by_frame.setdefault(answer["frame"], []).append(answer)
    assert by_frame["identity"][0]["device"].lower() == device.address
    first_reading = by_frame["reading"][0]

    # The reading frame went to the oracle; the device's own transaction then submitted the next one.
    reading_tx, epcis_tx = by_frame["tx"]
    for tx in (reading_tx, epcis_tx):
        receipt = devnet.rpc("eth_getTransactionReceipt", tx["hash"])
        assert receipt["status"] == "0x1" and receipt["type"] == "0x4b" and receipt["from"] == device.address
    status, latest = rest(devnet, "GET", f"/api/v1/devices/{device.address}/readings/{KIND}")
    assert status == 200, latest
    assert int(latest["sequence"]) == first_reading["sequence"] + 1, "the transaction's reading came after the bridged one"
    assert latest["acceptedAtBlock"] == qty(reading_tx["blockNumber"])

    # The EPCIS event is on chain, recorded by the device.
    status, events = rest(devnet, "GET", f"/epcis/events?MATCH_epc={EPC}")
    assert status == 200, events
    mine = [e for e in events["epcisBody"]["queryResults"]["resultsBody"]["eventList"] if e.get("bizStep", "").endswith("inspecting")]
    assert mine, events
    chain = qty(devnet.rpc("eth_chainId"))
    assert any(e["sensorElementList"][0]["sensorMetadata"]["deviceID"] == f"did:pkh:eip155:{chain}:{device.address}" for e in mine), mine

    # The envelope was published under the device's own MQTT session and delivered.
    assert by_frame["mqtt-publish"][0]["reasonCode"] == 0, by_frame["mqtt-publish"]
    (message,) = listener.receive()
    assert message.payload[0] == 0x53 and b'"kind":"air.temperature.centi-celsius"' in message.payload
    listener.close()
    assert by_frame["mqtt-publish"][0]["topic"] == f"devices/{device.address}/telemetry"


@pytest.mark.parametrize("key_type", [2, 3], ids=["p256", "ed25519"])
def test_a_device_in_qemu_seals_an_envelope_that_only_its_recipient_opens(image, devnet, organisation, kramaa, kramaa_bin, tmp_path, key_type):
    """The firmware seals the reading with HPKE (X25519, HKDF-SHA256, ChaCha20-Poly1305) to another
    device's registered agreement key; the bridge checks the outer signature and forwards it; the
    node admits it to the recipient's inbox; the recipient opens it with `kramaa msg open`."""
    org, owner = organisation
    device = Device(image, devnet, tmp_path, org, owner, key_type, kramaa_bin)
    agreement = tmp_path / f"agreement-{time.time_ns()}.json"
    kramaa("keys", "new", "--type", "x25519", "--out", str(agreement))
    public = json.loads(agreement.read_text())["publicKey"].removeprefix("0x")
    inbox, recipient = subscriber(kramaa, devnet, tmp_path, org, owner, agreement=agreement)
    serial = device.run(recipient, public)
    assert [line.split()[1] for line in frames(serial)][-2:] == ["mqtt-publish", "mqtt-publish"], serial
    assert "kramaa-bench mqtt-publish-sealed" in serial and serial.count(" allocations=0") == serial.count("kramaa-bench ") - 1

    code, answers, stderr = device.bridge(serial)
    assert code == 0, stderr
    signed, sealed = [a for a in answers if a["frame"] == "mqtt-publish"]
    assert signed["sealed"] is False and sealed["sealed"] is True
    assert sealed["reasonCode"] == 0 and sealed["topic"] == f"devices/{recipient}/inbox", sealed
    (message,) = inbox.receive()
    inbox.close()
    assert message.payload[0] == 0x45 and b"air.temperature" not in message.payload, "sealed: the reading is not readable on the way"
    assert "0x" + keccak(message.payload).hex() == sealed["envelopeHash"]

    envelope = tmp_path / "sealed-envelope"
    envelope.write_bytes(message.payload)
    chain = str(qty(devnet.rpc("eth_chainId")))
    kind = {2: "p256", 3: "ed25519"}[key_type]
    opened = json.loads(kramaa("msg", "open", "--agreement-key", str(agreement), "--in", str(envelope), "--chain-id", chain,
                               "--sender-key", f"{kind}:{device.public_key.hex()}").stdout)
    payload = bytes.fromhex(opened["payload"].removeprefix("0x"))
    assert opened["sealed"] is True and b'"kind":"air.temperature.centi-celsius"' in payload, opened
    assert opened["sequence"] == sealed["sequence"] == signed["sequence"] + 1
    # Another agreement key does not open it.
    other = tmp_path / f"other-{time.time_ns()}.json"
    kramaa("keys", "new", "--type", "x25519", "--out", str(other))
    refused = kramaa("msg", "open", "--agreement-key", str(other), "--in", str(envelope), "--chain-id", chain,
                     "--sender-key", f"{kind}:{device.public_key.hex()}", check=False)
    assert refused.returncode != 0

    # Sealed to a key the recipient never registered: the node refuses the PUBLISH (0x87).
    unregistered = json.loads(other.read_text())["publicKey"].removeprefix("0x")
    code, answers, stderr = device.bridge(device.run(recipient, unregistered))
    assert code == 1 and [a["sealed"] for a in answers if a["frame"] == "mqtt-publish"] == [False], stderr
    # (the reading, signed again within the same second of the device's clock, may be a replay too)
    failures = [line for line in stderr.splitlines() if line.startswith("failed") and "PUBLISH" in line]
    assert len(failures) == 1 and "refused the PUBLISH: reason 0x87" in failures[0], stderr


def test_the_bridge_refuses_malformed_and_forged_frames_and_forwards_nothing(image, devnet, organisation, kramaa_bin, tmp_path):
    org, owner = organisation
    device = Device(image, devnet, tmp_path, org, owner, 3, kramaa_bin)
    serial = device.run()
    lines = frames(serial)
    identity, reading, tx = lines[0], lines[1], lines[2]
    nonce = qty(devnet.rpc("eth_getTransactionCount", device.address, "latest"))

    reading_bytes = bytearray(bytes.fromhex(reading.split()[2]))
    reading_bytes[105] ^= 1                       # the value changed after signing
    tx_bytes = bytearray(bytes.fromhex(tx.split()[2]))
    tx_bytes[-40] ^= 1                            # inside the device signature (then three empty sponsor fields)
    damaged = tx[:-12] + ("0" if tx[-12] != "0" else "1") + tx[-11:]
    bad = "\n".join([
        "kramaa-frame tx zz 00000000",            # not hex
        damaged,                                  # its check no longer matches
        frame_line("tx", bytes(tx_bytes)),        # before any identity
        identity,
        frame_line("reading", bytes(reading_bytes[:100])),  # too short
        frame_line("reading", bytes(reading_bytes)),        # the value changed after signing
        frame_line("tx", bytes(tx_bytes)),        # a signature that does not verify
        frame_line("firmware-update", b"\x00"),   # unknown kind
    ]) + "\n"
    code, answers, stderr = device.bridge(bad)
    assert code == 1
    assert [a["frame"] for a in answers] == ["identity"], "nothing but the identity was taken"
    refusals = [line for line in stderr.splitlines() if line.startswith("refused")]
    assert len(refusals) == 7, stderr
    expected = ["not hex", "does not match its bytes", "before the device's identity", "122-byte", "signature is not",
                "invalid device signature", "unknown frame kind"]
    for refusal, words in zip(refusals, expected):
        assert words in refusal, (words, refusal)
    assert qty(devnet.rpc("eth_getTransactionCount", device.address, "latest")) == nonce, "no transaction reached the node"
    status, _ = rest(devnet, "GET", f"/api/v1/devices/{device.address}/readings/{KIND}")
    assert status == 404, "no reading reached the oracle"


def test_a_revoked_devices_firmware_transactions_are_refused_by_the_node(image, devnet, organisation, kramaa_bin, tmp_path):
    org, owner = organisation
    device = Device(image, devnet, tmp_path, org, owner, 2, kramaa_bin)
    status, answer = rest(devnet, "POST", f"/api/v1/devices/{device.address}/status", {"from": owner, "status": "revoked"})
    assert status in (200, 201), answer
    serial = device.run()
    code, answers, stderr = device.bridge(serial)
    assert code == 1
    failures = [line for line in stderr.splitlines() if line.startswith("failed")]
    assert len(failures) == 4, stderr      # the reading, both transactions, the MQTT session
    assert all("revoked" in f or "0x8a" in f.lower() or "not authorized" in f.lower() for f in failures), stderr
    status, _ = rest(devnet, "GET", f"/api/v1/devices/{device.address}/readings/{KIND}")
    assert status == 404
