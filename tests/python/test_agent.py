"""Device agents (`kramaa agent`, docs/AGENT.md) on a real devnet, with no human in the loop: a
soil sensor's agent signs its readings, submits them to the readings contract and sends them to
the irrigation controller's agent over MQTT; the controller's rules open a valve contract when
the soil is dry and close it when wet, with its own (sponsored) device transactions. A reading
the sensor did not sign is refused and acts on nothing."""
import json
import os
import subprocess
import time

import pytest
from eth_utils import keccak

from rpc_helpers import deploy, send_signed

VALVES = """
# pragma version ~=0.4.3
is_open: public(bool)
opened: public(uint256)
last_level: public(int256)
last_caller: public(address)

@external
def open(valve: uint8, level: int256):
    self.is_open = True
    self.opened += 1
    self.last_level = level
    self.last_caller = msg.sender

@external
def close(valve: uint8):
    self.is_open = False
    self.last_caller = msg.sender
"""
READINGS = "0x000000000000000000000000000000004b520018"


class Agent:
    """A `kramaa agent` process whose JSON lines are read as they come."""

    def __init__(self, kramaa_bin, args, tmp_path, name):
        self.out_path, self.err_path = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
        self.proc = subprocess.Popen([kramaa_bin, "agent", *args], stdout=open(self.out_path, "wb"), stderr=open(self.err_path, "wb"))

    def lines(self):
        return [json.loads(line) for line in self.out_path.read_text().splitlines() if line.strip()]

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while not any(predicate(line) for line in self.lines()):
            assert time.monotonic() < deadline, f"{what}: {self.lines()} {self.err_path.read_text()[-2000:]}"
            assert self.proc.poll() is None or any(predicate(line) for line in self.lines()), \
                f"agent exited {self.proc.returncode}: {self.err_path.read_text()[-2000:]}"
            time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def test_a_sensor_and_a_controller_agent_run_an_irrigation_rule_on_their_own(kramaa, kramaa_bin, devnet, tmp_path):
    w3 = devnet.web3()
    url = ["--rpc", f"http://127.0.0.1:{devnet.port}"]

    def cli(*args):
        return json.loads(kramaa(*args, *url).stdout)

    admin = devnet.accounts[8]
    org = cli("org", "create", "--name", f"Irrigation {time.time_ns()}", "--from", admin)["id"]
    keys = {}
    for name, kind in [("sensor", "p256"), ("controller", "ed25519"), ("impostor", "p256")]:
        keys[name] = tmp_path / f"{name}.json"
        kramaa("keys", "new", "--type", kind, "--out", str(keys[name]))
    sensor = cli("device", "register", "--org", str(org), "--key", str(keys["sensor"]), "--model", "soil probe", "--from", admin)["device"]
    controller = cli("device", "register", "--org", str(org), "--key", str(keys["controller"]), "--model", "valve controller", "--from", admin)["device"]
    # The organisation's account pays its devices' gas (a new key, funded here).
    made = kramaa("keys", "new", "--type", "secp256k1", "--out", str(tmp_path / "org.json")).stdout
    org_account = next(line.split()[-1] for line in made.splitlines() if line.startswith("address:"))
    send_signed(w3, devnet.keys[8], {"to": w3.to_checksum_address(org_account), "value": 10**18, "gas": 21_000})
    source = tmp_path / "Valves.vy"
    source.write_text(VALVES)
    valves = deploy(w3, devnet.keys[8], str(source))

    (tmp_path / "controller-agent.json").write_text(json.dumps({"rules": [
        {"name": "open when dry", "when": {"reading": {"from": sensor, "kind": "soil.moisture", "below": 30}},
         "do": [{"call": {"to": valves.address, "function": "open(uint8,int256)", "args": [1, "${value}"]}}]},
        {"name": "close when wet", "when": {"reading": {"from": sensor, "kind": "soil.moisture", "above": 35}},
         "do": [{"call": {"to": valves.address, "function": "close(uint8)", "args": [1]}}]},
        # The sensor does not submit its temperature itself: the controller relays it (anyone may; the signature counts).
        {"name": "relay temperature", "when": {"reading": {"from": sensor, "kind": "soil.temperature", "above": -100}},
         "do": [{"submit": {}}]},
    ]}))
    (tmp_path / "sensor-agent.json").write_text(json.dumps({"readings": [
        {"kind": "soil.moisture", "values": [33, 28, 25, 37], "interval": 1, "submit": True, "sendTo": [controller]},
        {"kind": "soil.temperature", "values": [-4], "interval": 1, "submit": False, "sendTo": [controller]}]}))
    common = ["--mqtt", devnet.mqtt_url, "--sponsor-key", str(tmp_path / "org.json"), *url]
    control = Agent(kramaa_bin, ["--config", str(tmp_path / "controller-agent.json"), "--key", str(keys["controller"]), *common], tmp_path, "controller")
    try:
        control.wait_for(lambda line: line["event"] == "listening", 20, "the controller did not subscribe")
        probe = Agent(kramaa_bin, ["--config", str(tmp_path / "sensor-agent.json"), "--key", str(keys["sensor"]), "--duration", "12", *common],
                      tmp_path, "sensor")
        probe.proc.wait(timeout=60)
        assert probe.proc.returncode == 0, probe.err_path.read_text()
        submitted = [line for line in probe.lines() if line["event"] == "submitted"]
        assert [line["value"] for line in submitted] == ["33", "28", "25", "37"], probe.lines()
        control.wait_for(lambda line: line["event"] == "action" and line["rule"] == "close when wet", 30, "the valve was not closed")
        control.wait_for(lambda line: line["event"] == "action" and line["rule"] == "relay temperature", 30, "the temperature was not relayed")
        actions = [(line["rule"], line["call"]) for line in control.lines() if line["event"].startswith("action")]
        assert [a for a in actions if a[0] != "relay temperature"] == [("open when dry", "open(uint8,int256)"), ("close when wet", "close(uint8)")], actions
        assert ("relay temperature", "submitReading(address,bytes32,int256,uint64,uint64,bytes)") in actions
        assert valves.functions.opened().call() == 1 and valves.functions.is_open().call() is False
        assert valves.functions.last_level().call() == 28
        assert valves.functions.last_caller().call().lower() == controller.lower(), "the controller's own transaction"
        # The chain has the sensor's last reading, which any contract can read.
        latest = w3.eth.call({"to": w3.to_checksum_address(READINGS), "data": "0x" + (keccak(b"latestReading(address,bytes32)")[:4]
                              + bytes(12) + bytes.fromhex(sensor[2:]) + keccak(b"soil.moisture")).hex()})
        assert int.from_bytes(latest[:32], "big") == 37
        # The temperature, which only the controller submitted, is the sensor's reading on chain.
        relayed = w3.eth.call({"to": w3.to_checksum_address(READINGS), "data": "0x" + (keccak(b"latestReading(address,bytes32)")[:4]
                               + bytes(12) + bytes.fromhex(sensor[2:]) + keccak(b"soil.temperature")).hex()})
        assert int.from_bytes(relayed[:32], "big", signed=True) == -4

        # A reading of the sensor signed by another key, sent to the controller: refused, nothing done.
        forged = {"device": sensor, "kind": "0x" + keccak(b"soil.moisture").hex(), "value": "5", "observedAt": int(time.time()),
                  "sequence": 2**40, "signature": "0x" + "11" * 64}
        payload = tmp_path / "forged.json"
        payload.write_text(json.dumps(forged))
        kramaa("msg", "send", "--key", str(keys["sensor"]), "--to", controller, "--content-type", "application/vnd.kramaa.reading+json",
               "--file", str(payload), "--mqtt", devnet.mqtt_url, *url)
        control.wait_for(lambda line: line["event"] == "refused", 20, "the forged reading was not refused")
        refused = [line for line in control.lines() if line["event"] == "refused"]
        assert "not signed by its device's current key" in refused[-1]["error"]
        time.sleep(1)
        assert valves.functions.opened().call() == 1
    finally:
        control.stop()
