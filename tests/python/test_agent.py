"""Device agents (`kramaa agent`, docs/AGENT.md) on a real devnet, with no human in the loop: a
soil sensor's agent signs its readings, submits them to the readings contract and sends them to
the irrigation controller's agent over MQTT; the controller's rules open a valve contract when
the soil is dry and close it when wet, with its own (sponsored) device transactions. A reading
the sensor did not sign is refused and acts on nothing. A pump's agent pays per use with
vouchers on a payment channel, which the service's agent settles; a supplier's agent reacts to
events on chain."""
import json
import os
import subprocess
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from eth_keys import keys as eth_keys
from eth_utils import keccak

from device_tx import ED25519, DeviceKey
from conftest import own_devnet
from rpc_helpers import deploy, send_signed, transact

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


@pytest.fixture(scope="module")
def devnet(kramaa_bin, tmp_path_factory):
    """This module's own devnet: its agents make many blocks (conftest.own_devnet)."""
    yield from own_devnet(kramaa_bin, tmp_path_factory, "agents")


class Agent:
    """A `kramaa agent` process whose JSON lines are read as they come."""

    def __init__(self, kramaa_bin, args, tmp_path, name):
        self.out_path, self.err_path = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
        self.proc = subprocess.Popen([kramaa_bin, "agent", *args], stdout=open(self.out_path, "wb"), stderr=open(self.err_path, "wb"))

    def lines(self):
        return [json.loads(line) for line in self.out_path.read_text().splitlines() if line.strip()]

    def wait_for(self, predicate, timeout, what):
        """Waits for a line matching `predicate`."""
        self.wait_until(lambda lines: any(predicate(line) for line in lines), timeout, what)

    def wait_until(self, condition, timeout, what):
        """Waits until `condition` holds for all the lines so far."""
        deadline = time.monotonic() + timeout
        while not condition(self.lines()):
            assert time.monotonic() < deadline, f"{what}: {self.lines()} {self.err_path.read_text()[-2000:]}"
            assert self.proc.poll() is None or condition(self.lines()), \
                f"agent exited {self.proc.returncode}: {self.err_path.read_text()[-2000:]}"
            time.sleep(0.1)

    def events(self, *names):
        return [line for line in self.lines() if line["event"] in names]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


class Org:
    """An organisation (created by dev account 8) with devices registered under it, and a new
    funded account of its own that pays their gas (`--sponsor-key`)."""

    def __init__(self, kramaa, devnet, tmp_path, name, devices):
        self.w3, self.url = devnet.web3(), ["--rpc", f"http://127.0.0.1:{devnet.port}"]
        self.kramaa, self.admin = kramaa, devnet.accounts[8]
        self.id = self.cli("org", "create", "--name", f"{name} {time.time_ns()}", "--from", self.admin)["id"]
        self.keys, self.devices = {}, {}
        for device, (kind, model) in devices.items():
            self.keys[device] = tmp_path / f"{device}.json"
            kramaa("keys", "new", "--type", kind, "--out", str(self.keys[device]))
            if model:
                self.devices[device] = self.cli("device", "register", "--org", str(self.id), "--key", str(self.keys[device]),
                                                "--model", model, "--from", self.admin)["device"]
        self.sponsor_key = tmp_path / "org.json"
        made = kramaa("keys", "new", "--type", "secp256k1", "--out", str(self.sponsor_key)).stdout
        self.account = self.w3.to_checksum_address(next(line.split()[-1] for line in made.splitlines() if line.startswith("address:")))
        send_signed(self.w3, devnet.keys[8], {"to": self.account, "value": 10**18, "gas": 21_000})
        self.agent_args = ["--mqtt", devnet.mqtt_url, "--sponsor-key", str(self.sponsor_key), *self.url]

    def cli(self, *args):
        return json.loads(self.kramaa(*args, *self.url).stdout)

    def agent(self, kramaa_bin, tmp_path, device, config, *extra):
        (tmp_path / f"{device}-agent.json").write_text(json.dumps(config))
        return Agent(kramaa_bin, ["--config", str(tmp_path / f"{device}-agent.json"), "--key", str(self.keys[device]), *extra, *self.agent_args],
                     tmp_path, device)

    def send_message(self, device, to, content_type, payload, tmp_path):
        (tmp_path / "payload.json").write_text(json.dumps(payload))
        self.kramaa("msg", "send", "--key", str(self.keys[device]), "--to", to, "--content-type", content_type,
                    "--file", str(tmp_path / "payload.json"), *self.agent_args[:2], *self.url)


def test_a_sensor_and_a_controller_agent_run_an_irrigation_rule_on_their_own(kramaa, kramaa_bin, devnet, tmp_path):
    org = Org(kramaa, devnet, tmp_path, "Irrigation", {"sensor": ("p256", "soil probe"), "controller": ("ed25519", "valve controller")})
    w3 = org.w3
    sensor, controller = org.devices["sensor"], org.devices["controller"]
    source = tmp_path / "Valves.vy"
    source.write_text(VALVES)
    valves = deploy(w3, devnet.keys[8], str(source))

    control_rules = {"rules": [
        {"name": "open when dry", "when": {"reading": {"from": sensor, "kind": "soil.moisture", "below": 30}},
         "do": [{"call": {"to": valves.address, "function": "open(uint8,int256)", "args": [1, "${value}"]}}]},
        {"name": "close when wet", "when": {"reading": {"from": sensor, "kind": "soil.moisture", "above": 35}},
         "do": [{"call": {"to": valves.address, "function": "close(uint8)", "args": [1]}}]},
        # The sensor does not submit its temperature itself: the controller relays it (anyone may; the signature counts).
        {"name": "relay temperature", "when": {"reading": {"from": sensor, "kind": "soil.temperature", "above": -100}},
         "do": [{"submit": {}}]},
    ]}
    control = org.agent(kramaa_bin, tmp_path, "controller", control_rules)
    try:
        control.wait_for(lambda line: line["event"] == "listening", 20, "the controller did not subscribe")
        probe = org.agent(kramaa_bin, tmp_path, "sensor", {"readings": [
            {"kind": "soil.moisture", "values": [33, 28, 25, 37], "interval": 1, "submit": True, "sendTo": [controller]},
            {"kind": "soil.temperature", "values": [-4], "interval": 1, "submit": False, "sendTo": [controller]}]}, "--duration", "12")
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
        org.send_message("sensor", controller, "application/vnd.kramaa.reading+json", forged, tmp_path)
        control.wait_for(lambda line: line["event"] == "refused", 20, "the forged reading was not refused")
        refused = [line for line in control.lines() if line["event"] == "refused"]
        assert "not signed by its device's current key" in refused[-1]["error"]
        time.sleep(1)
        assert valves.functions.opened().call() == 1
    finally:
        control.stop()


VOUCHER = "application/vnd.kramaa.voucher+json"
FINNEY = 10**15


def voucher_digest(chain_id, contract, channel, cumulative):
    """contracts/PaymentChannel.vy's voucher digest, computed here independently of the node."""
    return keccak(b"kramaa:voucher" + chain_id.to_bytes(8, "big") + bytes.fromhex(contract[2:]) + channel.to_bytes(32, "big")
                  + cumulative.to_bytes(32, "big"))


def test_a_pump_pays_per_use_with_vouchers_that_the_service_agent_settles(kramaa, kramaa_bin, devnet, tmp_path):
    org = Org(kramaa, devnet, tmp_path, "Pay per use", {"pump": ("ed25519", "metered pump"), "service": ("p256", "service meter")})
    w3, pump, service = org.w3, org.devices["pump"], org.devices["service"]
    channels = deploy(w3, devnet.keys[8], "PaymentChannel.vy", 60)
    # The pump's owner opens a channel to the service's device, with the pump's key signing vouchers.
    transact(w3, devnet.keys[8], channels.functions.open(service, pump, w3.eth.get_block("latest")["timestamp"] + 3600), value=10 * FINNEY)
    channel = channels.functions.channelCount().call()
    before = w3.eth.get_balance(service)

    payee = org.agent(kramaa_bin, tmp_path, "service", {"rules": [
        {"name": "settle", "when": {"voucher": {"from": pump, "contract": channels.address}}, "do": [{"settle": {}}]}]})
    try:
        payee.wait_for(lambda line: line["event"] == "listening", 20, "the service's agent did not subscribe")
        # Each run of the pump (a reading going above 0) pays one finney more, in total, on the channel.
        payer = org.agent(kramaa_bin, tmp_path, "pump", {
            "readings": [{"kind": "pump.run", "values": [1, 0, 1, 0, 1], "interval": 0.4, "submit": False}],
            "rules": [{"name": "pay", "when": {"reading": {"kind": "pump.run", "above": 0}},
                       "do": [{"voucher": {"contract": channels.address, "channel": channel, "add": str(FINNEY), "to": service}}]}]},
            "--duration", "4")
        payer.proc.wait(timeout=30)
        assert payer.proc.returncode == 0, payer.err_path.read_text()
        assert [line["cumulative"] for line in payer.lines() if line["event"] == "voucher"] == [str(n * FINNEY) for n in (1, 2, 3)], payer.lines()
        ledger = tmp_path / "pump.json.vouchers"
        assert os.stat(ledger).st_mode & 0o777 == 0o600
        assert json.loads(ledger.read_text())["signed"][0]["cumulative"] == str(3 * FINNEY), "remembered for the next run"
        payee.wait_for(lambda line: line["event"] == "accepted" and line["cumulative"] == str(3 * FINNEY), 20, "the last voucher was not accepted")
        payee.wait_until(lambda lines: len([l for l in lines if l["event"] == "action"]) == 3, 30, "the vouchers were not all settled")
        assert [l["call"] for l in payee.events("action", "action-failed")] == ["settle(uint256,uint256,bytes)"] * 3
        assert channels.functions.channels(channel).call()[4] == 3 * FINNEY, "paid"
        assert w3.eth.get_balance(service) - before == 3 * FINNEY, "the service's device was paid exactly, its gas sponsored"

        # A voucher for more, signed by another key than the pump's: refused, nothing paid.
        cumulative = 5 * FINNEY
        forger = eth_keys.PrivateKey(os.urandom(32))
        digest = voucher_digest(w3.eth.chain_id, channels.address, channel, cumulative)
        assert digest == channels.functions.voucherDigest(channel, cumulative).call()
        forged = {"contract": channels.address, "channel": str(channel), "cumulative": str(cumulative), "device": pump,
                  "signature": "0x" + forger.sign_msg_hash(digest).to_bytes().hex()}
        org.send_message("pump", service, VOUCHER, forged, tmp_path)
        payee.wait_for(lambda line: line["event"] == "refused", 20, "the forged voucher was not refused")
        assert "the voucher is not signed by its device's current key" in payee.events("refused")[-1]["error"]

        # An older voucher and the last one again, well signed by the pump's key (read here from its key file): refused.
        private = bytes.fromhex(json.loads(org.keys["pump"].read_text())["privateKey"][2:])
        pump_key = DeviceKey(ED25519, ed25519.Ed25519PrivateKey.from_private_bytes(private))
        for cumulative in (2 * FINNEY, 3 * FINNEY):
            replayed = {"contract": channels.address, "channel": str(channel), "cumulative": str(cumulative), "device": pump,
                        "signature": "0x" + pump_key.sign(voucher_digest(w3.eth.chain_id, channels.address, channel, cumulative)).hex()}
            org.send_message("pump", service, VOUCHER, replayed, tmp_path)
        payee.wait_until(lambda lines: len([l for l in lines if l["event"] == "refused" and "a replay or out of order" in l["error"]]) == 2, 20,
                         "the older and the replayed voucher were not both refused")
        time.sleep(1)
        assert channels.functions.channels(channel).call()[4] == 3 * FINNEY and w3.eth.get_balance(service) - before == 3 * FINNEY
        assert len(payee.events("action", "action-failed")) == 3, "nothing more was settled"
    finally:
        payee.stop()


PINGS = """
# pragma version ~=0.4.3
event Ping:
    who: indexed(uint256)
    caller: indexed(address)
    amount: uint256

handled: public(HashMap[uint256, uint256])
calls: public(uint256)
last_amount: public(uint256)

@external
def ping(who: uint256, amount: uint256):
    log Ping(who=who, caller=msg.sender, amount=amount)

@external
def handle(who: uint256, caller: address, amount: uint256):
    self.handled[who] += 1
    self.calls += 1
    self.last_amount = amount
"""


def test_an_agent_acts_once_on_each_matching_event_on_chain(kramaa, kramaa_bin, devnet, tmp_path):
    org = Org(kramaa, devnet, tmp_path, "Supplier", {"supplier": ("p256", "order desk")})
    w3, buyer = org.w3, devnet.accounts[8]
    source = tmp_path / "Pings.vy"
    source.write_text(PINGS)
    pings = deploy(w3, devnet.keys[8], str(source))
    transact(w3, devnet.keys[8], pings.functions.ping(99, 1))  # before the agent: not replayed
    agent = org.agent(kramaa_bin, tmp_path, "supplier", {"rules": [
        {"name": "handle", "when": {"event": {"contract": pings.address, "signature": "Ping(uint256,address,uint256)", "topics": {"2": buyer}}},
         "do": [{"call": {"to": pings.address, "function": "handle(uint256,address,uint256)", "args": ["${topic1}", "${topic2}", "${data0}"]}}]}]})
    try:
        agent.wait_for(lambda line: line["event"] == "watching", 20, "the agent did not start watching")
        # Another caller's ping: topic 2 differs, the rule does not fire.
        assert transact(w3, json.loads(org.sponsor_key.read_text())["privateKey"], pings.functions.ping(4, 40))["status"] == 1
        # The last ping is in the head block, which the agent reads again at its next poll: still handled once.
        for who in (1, 2, 3):
            transact(w3, devnet.keys[8], pings.functions.ping(who, 10 * who))
        agent.wait_until(lambda lines: len([l for l in lines if l["event"] == "action"]) == 3, 30, "the events were not all handled")
        time.sleep(2)  # a few more polls: each log acted on once
        assert [pings.functions.handled(who).call() for who in (1, 2, 3, 4, 99)] == [1, 1, 1, 0, 0], agent.lines()
        assert pings.functions.calls().call() == 3 and pings.functions.last_amount().call() == 30
        assert len(agent.events("action")) == 3 and not agent.events("action-failed", "error"), agent.lines()
    finally:
        agent.stop()
