"""`kramaa demo irrigation|oil-platform|spare-part|fleet` (docs/DEMOS.md) on a devnet of 4
validator processes: each scenario runs on its own (device agents, contracts, triggers), exits 0
only when every step went as the scenario requires, including the refusals it provokes. Here
each step's transaction is checked on another validator than the one the demo used (same block,
succeeded), and the end state of each scenario is read back from the chain independently."""
import json
import re
import signal
import socket
import subprocess
import urllib.request

import pytest
from eth_utils import keccak

from validators_support import port_block, rpc, wait_until

READINGS = "0x000000000000000000000000000000004b520018"


@pytest.fixture(scope="module")
def network(kramaa_bin, tmp_path_factory):
    directory = tmp_path_factory.mktemp("demos")
    base = port_block(16)
    out_path = directory / "devnet.out"
    args = [kramaa_bin, "devnet", "--validators", "4", "--datadir", str(directory / "net"), "--rpc-port", str(base),
            "--p2p-port", str(base + 4), "--mqtt-port", str(base + 8), "--mqtt-ws-port", str(base + 12), "--quiet"]
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    wait_until(lambda: "==== kramaa devnet ready" in out_path.read_text(errors="replace"), 60, message="the devnet's ready block")
    yield {"rpc": base, "mqtt": f"mqtt://127.0.0.1:{base + 8}", "directory": directory}
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0, out_path.read_text(errors="replace")[-3000:]


def run_demo(kramaa_bin, network, scenario, tmp_path, timeout=240):
    """Runs the demo with --json; returns its steps (one JSON object per line)."""
    result = subprocess.run([kramaa_bin, "demo", scenario, "--json", "--rpc", f"http://127.0.0.1:{network['rpc']}",
                             "--mqtt", network["mqtt"], "--workdir", str(tmp_path / scenario)],
                            capture_output=True, text=True, timeout=timeout)
    steps = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-3000:]}\n{result.stdout[-6000:]}"
    assert steps[-1].get("section", "").startswith("done"), steps[-3:]
    check_on_another_validator(network, steps)
    return steps


def check_on_another_validator(network, steps):
    """Every narrated transaction succeeded, in the block the demo said, on validator 2."""
    port = network["rpc"] + 2
    txs = [s for s in steps if "transactionHash" in s]
    assert txs, "no transaction was narrated"
    head = max(s["blockNumber"] for s in txs)
    wait_until(lambda: int(rpc(port, "eth_blockNumber"), 16) >= head, 30, message=f"block {head} on validator 2")
    for step in txs:
        receipt = rpc(port, "eth_getTransactionReceipt", step["transactionHash"])
        assert receipt is not None, step
        assert int(receipt["status"], 16) == 1, step
        assert int(receipt["blockNumber"], 16) == step["blockNumber"], step


def call(network, to, signature, *words):
    data = "0x" + keccak(text=signature)[:4].hex() + "".join(w.rjust(64, "0") for w in words)
    return int(rpc(network["rpc"] + 1, "eth_call", {"to": to, "data": data}, "latest")[2:66] or "0", 16)


def address_word(address):
    return address[2:].lower()


def named(steps, name):
    return next(s for s in steps if s.get("name") == name)["device"]


def deployed(steps, contract):
    return next(s for s in steps if s.get("contract") == contract)["address"]


def refusals(steps):
    return [(s["actor"], s["refused"]) for s in steps if "refused" in s]


def test_irrigation_the_controller_opens_valves_on_signed_readings_and_pays_per_use_by_voucher(kramaa_bin, network, tmp_path):
    steps = run_demo(kramaa_bin, network, "irrigation", tmp_path)
    valves, channels = deployed(steps, "Equipment"), deployed(steps, "PaymentChannel")
    sensor, controller, meter = named(steps, "soil sensor"), named(steps, "irrigation controller"), named(steps, "meter gateway")
    valve = keccak(text="valve.1").hex()
    assert call(network, valves, "adjustmentsOf(bytes32)", valve) == 4 and call(network, valves, "levelOf(bytes32)", valve) == 0
    # Two irrigations paid by two vouchers the meter gateway settled itself; its account holds exactly that.
    per_use = 5 * 10**16
    data = "0x" + keccak(text="channels(uint256)")[:4].hex() + "1".rjust(64, "0")
    channel = rpc(network["rpc"] + 3, "eth_call", {"to": channels, "data": data}, "latest")[2:]
    assert int(channel[64 * 3:64 * 4], 16) == 4 * per_use and int(channel[64 * 4:64 * 5], 16) == 2 * per_use
    assert int(channel[64 * 2 + 24:64 * 3], 16) == int(controller, 16), "vouchers are signed by the controller"
    assert int(rpc(network["rpc"] + 2, "eth_getBalance", meter, "latest"), 16) == 2 * per_use
    settled = rpc(network["rpc"] + 1, "eth_getLogs", {"address": channels, "fromBlock": "0x0", "toBlock": "latest",
                                                      "topics": ["0x" + keccak(text="ChannelSettled(uint256,uint256,uint256)").hex()]})
    assert [int(log["data"][2:66], 16) for log in settled] == [per_use, 2 * per_use]
    for log in settled:  # the gateway's own (sponsored) device transactions
        assert rpc(network["rpc"], "eth_getTransactionReceipt", log["transactionHash"])["from"].lower() == meter.lower()
    vouchers = [s for s in steps if s.get("agent") == "voucher"]
    assert [s["cumulative"] for s in vouchers] == [str(per_use), str(2 * per_use)]
    # Every valve change names one of the sensor's readings as its cause.
    logs = rpc(network["rpc"] + 3, "eth_getLogs", {"address": valves, "fromBlock": "0x0", "toBlock": "latest",
                                                   "topics": ["0x" + keccak(text="Adjusted(bytes32,address,int256,int256,address,uint64)").hex()]})
    assert len(logs) == 4 and all(log["data"][2 + 64 * 2 + 24:2 + 64 * 3] == address_word(sensor) for log in logs)
    refused = refusals(steps)
    assert any(a == "irrigation controller" and "not signed by its device's current key" in r for a, r in refused), refused
    assert any(a == "meter gateway" and "a replay or out of order" in r for a, r in refused), refused
    assert any(a == "meter gateway" and "voucher above the deposit" in r for a, r in refused), refused


def test_oil_platform_pumps_and_crane_follow_the_weather_stations_signed_readings(kramaa_bin, network, tmp_path):
    steps = run_demo(kramaa_bin, network, "oil-platform", tmp_path)
    equipment, station = deployed(steps, "Equipment"), named(steps, "weather station")
    pump, crane = named(steps, "pump controller"), named(steps, "crane controller")
    # Read back from the chain: 3 adjustments each (calm, storm, calm), ending at normal operation.
    setting = lambda text: keccak(text=text).hex()
    assert call(network, equipment, "adjustmentsOf(bytes32)", setting("pump.rate")) == 3
    assert call(network, equipment, "adjustmentsOf(bytes32)", setting("crane.mode")) == 3
    assert call(network, equipment, "levelOf(bytes32)", setting("pump.rate")) == 100
    assert call(network, equipment, "levelOf(bytes32)", setting("crane.mode")) == 1
    # Each adjustment was the controller's own device transaction, caused by one of the station's readings.
    actions = [s for s in steps if s.get("agent") == "action"]
    assert sorted(s["actor"] for s in actions) == ["crane controller"] * 3 + ["pump controller"] * 3
    logs = rpc(network["rpc"] + 3, "eth_getLogs", {"address": equipment, "fromBlock": "0x0", "toBlock": "latest",
                                                   "topics": ["0x" + keccak(text="Adjusted(bytes32,address,int256,int256,address,uint64)").hex()]})
    assert len(logs) == 6
    assert {log["topics"][2][-40:] for log in logs} == {address_word(pump), address_word(crane)}
    assert all(log["data"][2 + 64 * 2 + 24:2 + 64 * 3] == address_word(station) for log in logs)
    # The last storm reading the station signed is on chain; the forged one is not.
    kind = keccak(text="wind.speed").hex()
    assert call(network, READINGS, "latestReading(address,bytes32)", address_word(station), kind) == 16
    refused = refusals(steps)
    assert any(actor == "met service" and "signature" in reason for actor, reason in refused), refused
    assert any(actor == "pump controller" and "not signed by its device's current key" in reason for actor, reason in refused), refused
    assert any(actor == "leaked crane key" and "fees to be sponsored" in reason for actor, reason in refused), refused


def order_state(network, agreement, order_id):
    data = "0x" + keccak(text="orders(uint256)")[:4].hex() + hex(order_id)[2:].rjust(64, "0")
    out = rpc(network["rpc"] + 1, "eth_call", {"to": agreement, "data": data}, "latest")[2:]
    return int(out[64 * 6:64 * 7], 16)


def test_spare_part_a_worn_machine_orders_pays_on_custody_and_is_refunded_when_nothing_comes(kramaa_bin, network, tmp_path):
    steps = run_demo(kramaa_bin, network, "spare-part", tmp_path)
    agreement = deployed(steps, "ServiceOrder")
    machine, desk = named(steps, "milling machine"), named(steps, "order desk")
    # Two orders: the first delivered and paid, the second refunded; the third never placed.
    assert call(network, agreement, "orderCount()") == 2
    assert order_state(network, agreement, 1) == 3 and order_state(network, agreement, 2) == 4
    paid = next(s for s in steps if "paid" in s)
    assert int(paid["paid"]) == 5 * 10**17
    # The machine placed both orders itself (device transactions from its own account) and the desk accepted them.
    placed = rpc(network["rpc"] + 2, "eth_getLogs", {"address": agreement, "fromBlock": "0x0", "toBlock": "latest",
                                                     "topics": ["0x" + keccak(text="OrderPlaced(uint256,address,bytes32,uint256)").hex()]})
    assert [log["topics"][2][-40:] for log in placed] == [address_word(machine)] * 2
    accepted = [s for s in steps if s.get("agent") == "action" and s["actor"] == "order desk"]
    assert len(accepted) == 2
    receipts = [rpc(network["rpc"] + 3, "eth_getTransactionReceipt", s["transactionHash"]) for s in accepted]
    assert {r["from"].lower() for r in receipts} == {desk.lower()}
    refused = refusals(steps)
    assert any("not delivered" in reason for _, reason in refused), refused
    assert any("the delivery window is still open" in reason for _, reason in refused), refused
    assert any(actor == "milling machine" and "policy allows" in reason for actor, reason in refused), refused


def test_fleet_the_workshop_reads_the_trucks_private_report_once_it_holds_the_truck(kramaa_bin, network, tmp_path):
    steps = run_demo(kramaa_bin, network, "fleet", tmp_path)
    agreement = deployed(steps, "ServiceOrder")
    truck = named(steps, "truck T-17")
    cid = next(s for s in steps if "cid" in s)["cid"]
    # The work order: placed by the truck on arrival, opened by the workshop, paid on confirmation.
    assert call(network, agreement, "orderCount()") == 1 and order_state(network, agreement, 1) == 3
    order = next(s for s in steps if s.get("agent") == "action" and s["actor"] == "truck T-17")
    assert rpc(network["rpc"] + 1, "eth_getTransactionReceipt", order["transactionHash"])["from"].lower() == truck.lower()
    assert int(next(s for s in steps if "paid" in s)["paid"]) == 3 * 10**17
    assert [s["mayRead"] for s in steps if "mayRead" in s] == [False, True]
    # What any node serves for the CID is ciphertext: the report's words are not in it.
    with urllib.request.urlopen(f"http://127.0.0.1:{network['rpc'] + 2}/ipfs/{cid}", timeout=20) as response:
        stored = response.read()
    assert b"brake" not in stored and b"parts" not in stored and len(stored) > 100
    assert any(actor == "truck T-17" and "no file key" in reason for actor, reason in refusals(steps))


def test_the_demo_starts_and_stops_its_own_devnet_without_rpc(kramaa_bin, tmp_path):
    base = port_block(16)
    result = subprocess.run([kramaa_bin, "demo", "oil-platform", "--workdir", str(tmp_path / "own"), "--rpc-port", str(base),
                             "--p2p-port", str(base + 4), "--mqtt-port", str(base + 8), "--mqtt-ws-port", str(base + 12)],
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    assert "starting a devnet of 4 validator processes" in result.stdout
    assert re.search(r"\[block +\d+\] +0x[0-9a-f]{8}… +pump controller +rule 'storm: pumps to 40 %'", result.stdout), result.stdout[-4000:]
    assert "done: oil-platform ran on its own" in result.stdout
    assert (tmp_path / "own" / "devnet.log").is_file()
    with pytest.raises(OSError):  # the devnet is gone: neither JSON-RPC nor MQTT answers
        rpc(base, "eth_chainId", timeout=2)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", base + 8), timeout=2)


def test_a_demo_refuses_bad_options_and_changes_nothing(kramaa_bin, tmp_path):
    result = subprocess.run([kramaa_bin, "demo", "oil-platform", "--rpc", "http://127.0.0.1:1"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "give --rpc and --mqtt together" in result.stderr
    result = subprocess.run([kramaa_bin, "demo", "harbour"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "irrigation" in result.stderr
