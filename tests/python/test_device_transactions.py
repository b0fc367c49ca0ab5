"""Device transactions (type 0x4b) against a real single-node devnet: built and signed in
Python (device_tx.py, independent of the node), sent with eth_sendRawTransaction, then checked
through JSON-RPC: inclusion, receipt and roots, exact balances of device, sponsor and coinbase,
msg.sender and tx.origin seen by the EVM, nonces, and refusals with clear errors."""
import time

import pytest
from eth_account import Account
from eth_utils import to_checksum_address

from conftest import RPCError
from device_tx import ED25519, P256, P256_N, DeviceKey, DeviceTx
from rpc_helpers import hexbytes, qty, send_signed
from test_node_rpc import check_block

# Runtime: CALLER PUSH1 0 MSTORE ORIGIN PUSH1 32 MSTORE PUSH1 64 PUSH1 0 LOG0 STOP
# (logs msg.sender ‖ tx.origin); init code copies it out and returns it.
RECORDER_RUNTIME = bytes.fromhex("33600052326020526040" + "6000a000")
RECORDER_INIT = bytes.fromhex("600e600c600039600e6000f3") + RECORDER_RUNTIME
# Gas of one call: CALLER 2, PUSH1 3, MSTORE 3 + 3 memory, ORIGIN 2, PUSH1 3, MSTORE 3 + 3 memory,
# PUSH1 3, PUSH1 3, LOG0 375 + 8 × 64.
RECORDER_GAS = 2 + 3 + 6 + 2 + 3 + 6 + 3 + 3 + 375 + 8 * 64
SURCHARGE = {P256: 3_450, ED25519: 2_000}
SPONSOR_SURCHARGE = 3_000


@pytest.fixture(scope="module")
def recorder(devnet):
    """The address of the recorder contract, deployed on the session's devnet."""
    _, receipt = send_signed(devnet.web3(), devnet.keys[0], {"data": RECORDER_INIT, "value": 0})
    assert receipt["status"] == 1
    assert hexbytes(devnet.rpc("eth_getCode", receipt["contractAddress"], "latest")) == RECORDER_RUNTIME
    return receipt["contractAddress"]


def fees(node, tip=2 * 10**9):
    base = qty(node.rpc("eth_getBlockByNumber", "latest", False)["baseFeePerGas"])
    return {"tip": tip, "max_fee": 2 * base + tip}


def new_tx(node, device, *, to, gas, value=0, data=b"", sponsor=None, nonce=None, **extra):
    chain_id = qty(node.rpc("eth_chainId"))
    if nonce is None:
        nonce = qty(node.rpc("eth_getTransactionCount", device.address, "pending"))
    return DeviceTx(device, chain_id=chain_id, nonce=nonce, gas=gas, to=to, value=value, data=data, sponsor=sponsor,
                    **fees(node), **extra)


def wait_receipt(node, tx_hash, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        receipt = node.rpc("eth_getTransactionReceipt", tx_hash)
        if receipt is not None:
            return receipt
        time.sleep(0.02)
    raise AssertionError(f"{tx_hash} not included within {timeout} s")


def balance(node, address, block):
    return qty(node.rpc("eth_getBalance", address, hex(block)))


def send_raw(node, tx):
    return node.rpc("eth_sendRawTransaction", "0x" + tx.raw.hex())


def refusal(node, raw):
    with pytest.raises(RPCError) as e:
        node.rpc("eth_sendRawTransaction", "0x" + raw.hex())
    assert e.value.code == -32000, e.value
    return e.value.message


@pytest.mark.parametrize("key_type", [P256, ED25519])
def test_sponsored_device_without_funds(devnet, recorder, key_type):
    """A device with no balance calls the recorder; its organisation's account pays the gas."""
    sponsor_key = devnet.keys[1]
    sponsor = Account.from_key(sponsor_key).address
    device = DeviceKey(key_type)
    assert qty(devnet.rpc("eth_getBalance", device.address, "latest")) == 0
    sponsor_nonce = qty(devnet.rpc("eth_getTransactionCount", sponsor, "latest"))
    tx = new_tx(devnet, device, to=recorder, gas=100_000, sponsor=sponsor).sign().sponsor_sign(sponsor_key)
    assert send_raw(devnet, tx) == tx.hash

    receipt = wait_receipt(devnet, tx.hash)
    assert receipt["status"] == "0x1" and receipt["type"] == "0x4b"
    assert receipt["from"] == device.address.lower() and receipt["to"] == recorder.lower()
    assert receipt["sponsor"] == sponsor.lower()
    gas_used = 21_000 + SURCHARGE[key_type] + SPONSOR_SURCHARGE + RECORDER_GAS
    assert qty(receipt["gasUsed"]) == gas_used
    # The EVM saw the device as msg.sender and as tx.origin.
    [log] = receipt["logs"]
    assert log["address"] == recorder.lower()
    data = hexbytes(log["data"])
    assert data == bytes(12) + hexbytes(device.address) + bytes(12) + hexbytes(device.address)

    number = qty(receipt["blockNumber"])
    block, _ = check_block(devnet, number)
    assert [t["hash"] for t in block["transactions"]] == [tx.hash]
    price, base = qty(receipt["effectiveGasPrice"]), qty(block["baseFeePerGas"])
    assert price == min(tx.max_fee, base + tx.tip)
    miner = block["miner"]
    assert balance(devnet, sponsor, number - 1) - balance(devnet, sponsor, number) == gas_used * price
    assert balance(devnet, device.address, number) == 0
    assert balance(devnet, miner, number) - balance(devnet, miner, number - 1) == gas_used * (price - base)
    assert qty(devnet.rpc("eth_getTransactionCount", device.address, "latest")) == 1
    assert qty(devnet.rpc("eth_getTransactionCount", sponsor, "latest")) == sponsor_nonce

    got = devnet.rpc("eth_getTransactionByHash", tx.hash)
    assert got["type"] == "0x4b" and got["from"] == device.address.lower() and got["hash"] == tx.hash
    assert qty(got["nonce"]) == 0 and qty(got["chainId"]) == tx.chain_id and qty(got["gas"]) == 100_000
    assert qty(got["maxFeePerGas"]) == tx.max_fee and qty(got["maxPriorityFeePerGas"]) == tx.tip
    assert got["deviceKeyType"] == ("p256" if key_type == P256 else "ed25519")
    assert hexbytes(got["devicePublicKey"]) == tx.public_key and hexbytes(got["deviceSignature"]) == tx.signature
    assert got["sponsor"] == sponsor.lower()
    v, r, s = tx.sponsor_signature
    assert {k: qty(x) for k, x in got["sponsorSignature"].items()} == {"yParity": v, "r": r, "s": s}
    assert "v" not in got and "r" not in got
    assert hexbytes(devnet.rpc("eth_getRawTransactionByHash", tx.hash)) == tx.raw
    assert devnet.rpc("eth_getTransactionByBlockNumberAndIndex", hex(number), "0x0") == got
    # web3.py reads it like any typed transaction.
    w3 = devnet.web3()
    assert w3.eth.get_transaction(tx.hash)["from"] == device.address
    assert w3.eth.get_block(number, True)["transactions"][0]["type"] == 0x4B
    assert w3.eth.get_transaction_receipt(tx.hash)["status"] == 1


def test_unsponsored_device_pays_its_own_gas_and_value(devnet, recorder):
    """An Ed25519 device funded by a dev account sends value and pays for itself; a P-256 device
    presenting its key uncompressed has the same address and nonce sequence."""
    w3 = devnet.web3()
    device = DeviceKey(ED25519)
    send_signed(w3, devnet.keys[0], {"to": device.address, "value": 10**18})
    recipient = to_checksum_address("0x" + "42" * 20)
    before_recipient = qty(devnet.rpc("eth_getBalance", recipient, "latest"))
    tx = new_tx(devnet, device, to=recipient, gas=30_000, value=12_345).sign()
    assert send_raw(devnet, tx) == tx.hash
    receipt = wait_receipt(devnet, tx.hash)
    assert receipt["status"] == "0x1" and receipt["sponsor"] is None
    gas_used = 21_000 + SURCHARGE[ED25519]
    assert qty(receipt["gasUsed"]) == gas_used
    number, price = qty(receipt["blockNumber"]), qty(receipt["effectiveGasPrice"])
    assert balance(devnet, device.address, number - 1) - balance(devnet, device.address, number) == 12_345 + gas_used * price
    assert qty(devnet.rpc("eth_getBalance", recipient, "latest")) == before_recipient + 12_345
    got = devnet.rpc("eth_getTransactionByHash", tx.hash)
    assert got["sponsor"] is None and got["sponsorSignature"] is None
    check_block(devnet, number)

    p256 = DeviceKey(P256)
    send_signed(w3, devnet.keys[0], {"to": p256.address, "value": 10**18})
    for nonce, uncompressed in [(0, False), (1, True)]:
        tx = new_tx(devnet, p256, to=recorder, gas=60_000, nonce=nonce, uncompressed_key=uncompressed).sign()
        assert len(tx.public_key) == (65 if uncompressed else 33)
        send_raw(devnet, tx)
        receipt = wait_receipt(devnet, tx.hash)
        assert receipt["status"] == "0x1" and receipt["from"] == p256.address.lower()
    assert qty(devnet.rpc("eth_getTransactionCount", p256.address, "latest")) == 2


def test_refusals_have_clear_errors(devnet, recorder):
    sponsor_key = devnet.keys[1]
    sponsor = Account.from_key(sponsor_key).address
    device = DeviceKey(P256)

    def sponsored(**kw):
        return new_tx(devnet, device, to=recorder, gas=100_000, sponsor=sponsor, **kw).sign().sponsor_sign(sponsor_key)

    # A tampered device signature (one bit of r).
    tx = sponsored()
    tx.signature = bytes([tx.signature[0] ^ 0x01]) + tx.signature[1:]
    assert "invalid device signature" in refusal(devnet, tx.raw)
    # A field changed after signing.
    tx = sponsored()
    tx.value = 1
    assert "invalid device signature" in refusal(devnet, tx.raw)
    # The high-s twin of a valid P-256 signature.
    tx = sponsored()
    r, s = int.from_bytes(tx.signature[:32], "big"), int.from_bytes(tx.signature[32:], "big")
    tx.signature = r.to_bytes(32, "big") + (P256_N - s).to_bytes(32, "big")
    assert "high s" in refusal(devnet, tx.raw)
    # A sponsor signature made for another transaction (nonce + 1).
    tx, other = sponsored(), sponsored(nonce=1)
    tx.sponsor_signature = other.sponsor_signature
    assert "not by the sponsor" in refusal(devnet, tx.raw)
    # A sponsor without funds.
    poor = Account.create()
    tx = new_tx(devnet, device, to=recorder, gas=100_000, sponsor=poor.address).sign()
    tx.sponsor_sign("0x" + bytes(poor.key).hex())
    assert "insufficient funds of sponsor" in refusal(devnet, tx.raw)
    # No sponsor and no balance.
    tx = new_tx(devnet, device, to=recorder, gas=100_000).sign()
    assert "insufficient funds" in refusal(devnet, tx.raw)
    # Another chain id.
    tx = sponsored()
    tx.chain_id += 1
    tx.sign().sponsor_sign(sponsor_key)
    assert "invalid chain id" in refusal(devnet, tx.raw)
    # A malformed envelope: an unknown key type.
    tx = sponsored()
    tx.device = DeviceKey(P256, device.private_key)
    tx.device.key_type = 7
    assert "key type 7 is not known" in refusal(devnet, tx.raw)
    # Nothing of it reached the devnet.
    assert qty(devnet.rpc("eth_getTransactionCount", device.address, "pending")) == 0


def test_the_documented_example_is_what_an_independent_implementation_builds():
    """docs/DEVICE-TRANSACTIONS.md's example (key type 3, Ed25519, sponsored), rebuilt here with
    cryptography, rlp and eth_keys: every hash and the wire form are the document's."""
    import pathlib
    import re
    from cryptography.hazmat.primitives.asymmetric import ed25519
    doc = (pathlib.Path(__file__).parents[2] / "docs" / "DEVICE-TRANSACTIONS.md").read_text()
    example = doc[doc.index("### Example"):]
    table = dict(re.findall(r"^\| ([a-zA-Z ()`]+?) \| `(0x[0-9a-fA-F]+|[0-9a-f]+)` \|$", example, re.M))
    wire = "".join(re.search(r"```\n(0x4b[0-9a-f\s]+)```", example).group(1).split())
    device = DeviceKey(ED25519, ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
    tx = DeviceTx(device, chain_id=1337, nonce=0, tip=10**9, max_fee=3 * 10**9, gas=100_000, to="0x" + "42" * 20,
                  data=bytes.fromhex("c0ffee"), sponsor=table["sponsor"])
    tx.sign().sponsor_sign("0x" + "00" * 31 + "01")
    assert "0x" + tx.signing_hash.hex() == table["signingHash"]
    assert "0x" + tx.sponsor_hash.hex() == table["sponsorHash"]
    assert "0x" + tx.raw.hex() == wire
    assert tx.raw[1 + 2 + 1 + 2 + 1 + 5 + 5 + 4 + 21 + 1 + 4 + 1] == 3, "key type 3: Ed25519, the device registry's code"
    assert tx.hash == table["transaction hash"] or "0x" + bytes(tx.hash).hex() == table["transaction hash"]
    assert device.address == table["device address (`from`)"]
