"""The agreement templates of contracts/ (docs/AGREEMENTS.md) on the session devnet: for each,
the happy path and the refusals (each refusal mined, its revert reason read back with
debug_traceTransaction, and the state and the other parties' balances checked unchanged).

Organisations, devices and assets are registered through REST /api/v1; custody moves by a
receiving EPCIS event recorded on chain (the provenance contract's captureEvents, sent by the
receiver's account or by a device transaction); device readings and voucher signatures go
through the device readings system contract (0x…4b520018). The tests that need that contract
are skipped when the node under test does not have it (eth_getCode empty there).

The gas of each template's main operations is measured from the receipts and printed at the
end (run with -s to see it; docs/AGREEMENTS.md has the figures)."""
import json
import pathlib
import random
import time

import pytest
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from web3.logs import DISCARD

from device_tx import ED25519, P256, DeviceKey, DeviceTx
from rpc_helpers import CONTRACTS, compile_vyper, http_json, qty, send_signed, transact, wait_receipt
from conftest import own_devnet


@pytest.fixture(scope="module")
def devnet(kramaa_bin, tmp_path_factory):
    """This module's own devnet: the templates make a few hundred blocks (conftest.own_devnet)."""
    yield from own_devnet(kramaa_bin, tmp_path_factory, "agreements")

ASSETS = "0x000000000000000000000000000000004B520012"
PROVENANCE = "0x000000000000000000000000000000004b520013"
READINGS = "0x000000000000000000000000000000004b520018"
ETHER = 10**18
ZERO_ADDRESS = "0x" + "00" * 20
GAS = {}  # (template, operation) -> gas used, printed by the last test

ASSETS_ABI = [
    {"type": "function", "name": "getAsset", "stateMutability": "view", "inputs": [{"name": "tokenId", "type": "uint256"}],
     "outputs": [{"name": "epc", "type": "string"}, {"name": "org", "type": "uint256"}, {"name": "owner", "type": "address"},
                 {"name": "custodian", "type": "address"}, {"name": "metadataHash", "type": "bytes32"},
                 {"name": "status", "type": "uint8"}, {"name": "mintedAt", "type": "uint256"}]},
    {"type": "function", "name": "ownerOf", "stateMutability": "view", "inputs": [{"name": "tokenId", "type": "uint256"}],
     "outputs": [{"name": "", "type": "address"}]},
    {"type": "function", "name": "approve", "stateMutability": "nonpayable",
     "inputs": [{"name": "to", "type": "address"}, {"name": "tokenId", "type": "uint256"}], "outputs": []},
]
PROVENANCE_ABI = [
    {"type": "function", "name": "captureEvents", "stateMutability": "nonpayable",
     "inputs": [{"name": "org", "type": "uint256"}, {"name": "document", "type": "bytes"}],
     "outputs": [{"name": "", "type": "bytes32[]"}]},
]
READINGS_ABI = [
    {"type": "function", "name": "verifyDeviceSignature", "stateMutability": "view",
     "inputs": [{"name": "device", "type": "address"}, {"name": "digest", "type": "bytes32"}, {"name": "signature", "type": "bytes"}],
     "outputs": [{"name": "", "type": "bool"}]},
    {"type": "function", "name": "readingDigest", "stateMutability": "view",
     "inputs": [{"name": "device", "type": "address"}, {"name": "kind", "type": "bytes32"}, {"name": "value", "type": "int256"},
                {"name": "observedAt", "type": "uint64"}, {"name": "sequence", "type": "uint64"}],
     "outputs": [{"name": "", "type": "bytes32"}]},
    {"type": "function", "name": "submitReading", "stateMutability": "nonpayable",
     "inputs": [{"name": "device", "type": "address"}, {"name": "kind", "type": "bytes32"}, {"name": "value", "type": "int256"},
                {"name": "observedAt", "type": "uint64"}, {"name": "sequence", "type": "uint64"}, {"name": "signature", "type": "bytes"}],
     "outputs": []},
    {"type": "function", "name": "latestReading", "stateMutability": "view",
     "inputs": [{"name": "device", "type": "address"}, {"name": "kind", "type": "bytes32"}],
     "outputs": [{"name": "value", "type": "int256"}, {"name": "observedAt", "type": "uint64"},
                 {"name": "sequence", "type": "uint64"}, {"name": "blockNumber", "type": "uint256"}]},
]


# ---------------------------------------------------------------------------------------------
# Every template compiles (a broken one fails here first)


@pytest.mark.parametrize("path", sorted(CONTRACTS.glob("*.vy")), ids=lambda p: p.name)
def test_every_contract_compiles(path):
    abi, bytecode = compile_vyper(path.name)
    assert abi and bytecode.startswith("0x") and len(bytecode) > 2


# ---------------------------------------------------------------------------------------------
# The platform: REST, custody by receiving events, readings, device transactions


class Platform:
    """The devnet as the templates see it: accounts with organisations, devices, assets."""

    def __init__(self, devnet):
        self.devnet = devnet
        self.w3 = devnet.web3()
        self.chain_id = self.w3.eth.chain_id
        self.assets = self.w3.eth.contract(address=to_checksum_address(ASSETS), abi=ASSETS_ABI)
        self.provenance = self.w3.eth.contract(address=to_checksum_address(PROVENANCE), abi=PROVENANCE_ABI)
        self.readings = self.w3.eth.contract(address=to_checksum_address(READINGS), abi=READINGS_ABI)
        self.has_readings = devnet.rpc("eth_getCode", READINGS, "latest") not in ("0x", "0x0", "")
        self.orgs = {}
        self.tag = "%06x" % random.getrandbits(24)

    # -- REST /api/v1

    def rest(self, method, path, body=None):
        return http_json(self.devnet.port, method, "/" + path.lstrip("/"), body)

    def ok(self, method, path, body=None):
        status, answer = self.rest(method, path, body)
        assert status in (200, 201, 202), f"{method} {path}: HTTP {status}: {answer}"
        return answer

    def org(self, account):
        """The organisation `account` founded (founded on first use; the founder is its admin)."""
        if account not in self.orgs:
            answer = self.ok("POST", "/api/v1/organizations", {"from": account, "name": f"Agreements {self.tag} {account[-6:]}"})
            self.orgs[account] = answer["id"]
        return self.orgs[account]

    def device(self, account, key_type=P256, model="Agreement device"):
        """A new device key registered in `account`'s organisation."""
        key = DeviceKey(key_type)
        answer = self.ok("POST", "/api/v1/devices", {"from": account, "organization": self.org(account),
                                                     "keyType": "p256" if key_type == P256 else "ed25519",
                                                     "publicKey": "0x" + key.public_key().hex(), "model": model})
        assert answer["device"].lower() == key.address.lower()
        return key

    def asset(self, account, owner=None):
        """A new asset minted by `account`'s organisation, owned by `owner` (default `account`);
        its custodian is the minter. Returns (token id, EPC)."""
        epc = f"urn:epc:id:sgtin:0614141.107346.{random.randrange(10**9, 10**10)}"
        answer = self.ok("POST", "/api/v1/assets", {"from": account, "organization": self.org(account), "epc": epc,
                                                    "owner": owner or account})
        return int(answer["tokenId"], 16), epc

    def custodian(self, token):
        return self.assets.functions.getAsset(token).call()[3]

    # -- custody: a receiving event recorded on chain

    @staticmethod
    def receiving_document(epc):
        moment = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".%03d+00:00" % random.randrange(1000)
        event = {"type": "ObjectEvent", "eventTime": moment, "eventTimeZoneOffset": "+00:00", "epcList": [epc],
                 "action": "OBSERVE", "bizStep": "receiving", "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"}}
        return json.dumps({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
                           "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": moment,
                           "epcisBody": {"eventList": [event]}}).encode()

    def receive(self, key, account, token, epc):
        """`account` (a member of its organisation) records a receiving event: custody moves to it."""
        receipt = transact(self.w3, key, self.provenance.functions.captureEvents(self.org(account), self.receiving_document(epc)))
        assert receipt["status"] == 1, receipt
        assert self.custodian(token) == account

    # -- device readings

    def reading_digest(self, device, kind, value, observed_at, sequence):
        """The reading digest computed here, independently of the node."""
        return keccak(b"kramaa:reading" + self.chain_id.to_bytes(8, "big") + bytes.fromhex(device.address[2:]) + kind
                      + (value % 2**256).to_bytes(32, "big") + observed_at.to_bytes(8, "big") + sequence.to_bytes(8, "big"))

    def submit_reading(self, key, device, kind, value, sequence, observed_at=None):
        observed_at = observed_at or int(time.time())
        digest = self.reading_digest(device, kind, value, observed_at, sequence)
        assert self.readings.functions.readingDigest(device.address, kind, value, observed_at, sequence).call() == digest
        signature = device.sign(digest)
        assert len(signature) == 64
        receipt = transact(self.w3, key, self.readings.functions.submitReading(device.address, kind, value, observed_at, sequence, signature))
        assert receipt["status"] == 1, receipt
        return receipt

    # -- device transactions (the device pays its own gas)

    def fund(self, key, address, amount):
        receipt = transact(self.w3, key, _Transfer(address), value=amount)
        assert receipt["status"] == 1

    def device_send(self, device, fn, value=0, gas=None):
        """Sends `fn` (a contract function call) as a device transaction of `device`; returns the receipt (raw JSON)."""
        data = fn._encode_transaction_data()
        call = {"from": device.address, "to": fn.address, "data": data, "value": hex(value)}
        if gas is None:
            gas = qty(self.devnet.rpc("eth_estimateGas", call)) * 5 // 4 + 10_000
        base_fee = self.w3.eth.get_block("latest")["baseFeePerGas"]
        tx = DeviceTx(device, chain_id=self.chain_id, nonce=self.w3.eth.get_transaction_count(device.address, "pending"),
                      tip=10**9, max_fee=2 * base_fee + 10**9, gas=gas, to=fn.address, value=value,
                      data=bytes.fromhex(data[2:])).sign()
        tx_hash = self.devnet.rpc("eth_sendRawTransaction", "0x" + tx.raw.hex())
        return wait_receipt(self.w3, tx_hash)

    # -- refusals

    def reason(self, receipt):
        trace = self.devnet.rpc("debug_traceTransaction", receipt["transactionHash"].to_0x_hex(), {"tracer": "callTracer"})
        return trace.get("revertReason")

    def refused(self, reason, sender, fn, value=0, state=None, device=None):
        """Sends `fn` from `sender` (a private key, or a DeviceKey for a device transaction) with a
        fixed gas limit, checks it is mined and reverted for `reason`, and that `state()` (see
        snapshot: the contract's state and balances) and the sender's balance (but for the fee)
        did not change."""
        before = state() if state else None
        address = sender.address if isinstance(sender, DeviceKey) else Account.from_key(sender).address
        balance = self.w3.eth.get_balance(address)
        if isinstance(sender, DeviceKey):
            receipt = self.device_send(sender, fn, value=value, gas=400_000)
        else:
            receipt = transact(self.w3, sender, fn, value=value, gas=400_000)
        assert receipt["status"] == 0, f"expected a refusal ({reason}), got success"
        assert self.reason(receipt) == reason
        assert self.w3.eth.get_balance(address) == balance - receipt["gasUsed"] * receipt["effectiveGasPrice"]
        if state:
            after = state()
            if address in before[1]:  # the sender's balance is checked above
                before[1][address] -= fee(receipt)
            assert after == before, "a refused call changed the state"
        return receipt

    def wait_past(self, moment):
        """Sleeps until the wall clock (which the chain's time follows) is past `moment`."""
        while time.time() <= moment + 1:
            time.sleep(0.2)


class _Transfer:
    """A plain value transfer in the shape `transact` expects of a contract function."""

    def __init__(self, to):
        self.to = to

    def build_transaction(self, params):
        return {**params, "to": to_checksum_address(self.to), "gas": 21_000}


@pytest.fixture(scope="module")
def platform(devnet):
    return Platform(devnet)


@pytest.fixture(scope="module")
def readings(platform):
    if not platform.has_readings:
        pytest.skip("the node under test has no device readings system contract: eth_getCode at 0x…4b520018 is empty")
    return platform


def snapshot(w3, view, *accounts):
    """A state function for Platform.refused: (view(), {account: balance})."""
    return lambda: (view(), {to_checksum_address(a): w3.eth.get_balance(a) for a in accounts})


def fee(receipt):
    return receipt["gasUsed"] * receipt["effectiveGasPrice"]


def succeed(receipt, gas_key=None):
    assert receipt["status"] == 1, receipt
    if gas_key:
        GAS[gas_key] = receipt["gasUsed"]
    return receipt


def deploy_measured(w3, key, source, *args, value=0, gas_key=None):
    """Deploys a template like rpc_helpers.deploy, recording its gas under `gas_key`."""
    abi, bytecode = compile_vyper(source)
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    sender = Account.from_key(key).address
    tx = factory.constructor(*args).build_transaction({"from": sender, "value": value,
                                                       "nonce": w3.eth.get_transaction_count(sender, "pending")})
    _, receipt = send_signed(w3, key, tx)
    succeed(receipt, gas_key)
    return w3.eth.contract(address=receipt["contractAddress"], abi=abi)


def now():
    return int(time.time())


def voucher_digest(platform, contract, channel_id, cumulative):
    return keccak(b"kramaa:voucher" + platform.chain_id.to_bytes(8, "big") + bytes.fromhex(contract.address[2:])
                  + channel_id.to_bytes(32, "big") + cumulative.to_bytes(32, "big"))


def channel_id_of(contract, receipt):
    return contract.events.ChannelOpened().process_receipt(errors=DISCARD, txn_receipt=receipt)[0]["args"]["channelId"]


# ---------------------------------------------------------------------------------------------
# PaymentChannel: device-signed cumulative vouchers


def test_payment_channel(devnet, readings):
    platform, w3 = readings, readings.w3
    payer_key, payee_key, other_key = devnet.keys[1], devnet.keys[2], devnet.keys[3]
    payer, payee = devnet.accounts[1], devnet.accounts[2]
    compressor = platform.device(payer, P256, "Metered compressor")
    pump = platform.device(payer, ED25519, "Metered pump")
    channels = deploy_measured(w3, payer_key, "PaymentChannel.vy", 4, gas_key=("PaymentChannel", "deploy"))
    bal = w3.eth.get_balance

    # Opening: the deposit, the expiry and the parties are checked.
    platform.refused("a channel needs a deposit", payer_key, channels.functions.open(payee, compressor.address, now() + 3600))
    platform.refused("the expiry must be in the future", payer_key, channels.functions.open(payee, compressor.address, now() - 10), value=1)
    platform.refused("the payer cannot pay itself", payer_key, channels.functions.open(payer, compressor.address, now() + 3600), value=1)
    opened = succeed(transact(w3, payer_key, channels.functions.open(payee, compressor.address, now() + 3600), value=ETHER),
                     ("PaymentChannel", "open"))
    one = channel_id_of(channels, opened)
    short_expiry = now() + 8
    two = channel_id_of(channels, succeed(transact(w3, payer_key, channels.functions.open(payee, pump.address, short_expiry), value=ETHER)))
    assert (one, two) == (1, 2) and channels.functions.channelCount().call() == 2
    assert bal(channels.address) == 2 * ETHER

    def voucher(channel, cumulative, device=compressor):
        digest = voucher_digest(platform, channels, channel, cumulative)
        assert channels.functions.voucherDigest(channel, cumulative).call() == digest  # the layout of docs/AGREEMENTS.md
        signature = device.sign(digest)
        assert len(signature) == 64
        return signature

    def state(channel):
        return snapshot(w3, channels.functions.channels(channel).call, channels.address, payee, payer)

    # The system contract accepts the device's signature of the voucher digest, and only that.
    digest = voucher_digest(platform, channels, one, 5)
    assert platform.readings.functions.verifyDeviceSignature(compressor.address, digest, compressor.sign(digest)).call()
    assert not platform.readings.functions.verifyDeviceSignature(compressor.address, digest, pump.sign(digest)).call()

    # Settling: the payee is paid the voucher's increase.
    before = bal(payee)
    settled = succeed(transact(w3, payee_key, channels.functions.settle(one, 3 * ETHER // 10, voucher(one, 3 * ETHER // 10))),
                      ("PaymentChannel", "settle"))
    assert bal(payee) == before + 3 * ETHER // 10 - fee(settled)
    assert channels.events.ChannelSettled().process_receipt(errors=DISCARD, txn_receipt=settled)[0]["args"]["amount"] == 3 * ETHER // 10

    # Refusals, none of which changes anything.
    forger = DeviceKey(P256)  # not registered
    platform.refused("invalid voucher: not signed by the channel's device", payee_key,
                     channels.functions.settle(one, 9 * ETHER // 10, forger.sign(voucher_digest(platform, channels, one, 9 * ETHER // 10))), state=state(one))
    platform.refused("invalid voucher: not signed by the channel's device", payee_key,  # a real signature of another amount
                     channels.functions.settle(one, 9 * ETHER // 10, voucher(one, 4 * ETHER // 10)), state=state(one))
    platform.refused("invalid voucher: not signed by the channel's device", payee_key,  # another channel's voucher
                     channels.functions.settle(one, 9 * ETHER // 10, voucher(two, 9 * ETHER // 10)), state=state(one))
    platform.refused("invalid voucher: not signed by the channel's device", payee_key,  # the other device of the payer
                     channels.functions.settle(one, 9 * ETHER // 10, voucher(one, 9 * ETHER // 10, device=pump)), state=state(one))
    platform.refused("voucher above the deposit", payee_key, channels.functions.settle(one, 2 * ETHER, voucher(one, 2 * ETHER)), state=state(one))
    platform.refused("out of order: the voucher does not exceed what was paid", payee_key,
                     channels.functions.settle(one, 2 * ETHER // 10, voucher(one, 2 * ETHER // 10)), state=state(one))
    platform.refused("out of order: the voucher does not exceed what was paid", payee_key,  # the same voucher again
                     channels.functions.settle(one, 3 * ETHER // 10, voucher(one, 3 * ETHER // 10)), state=state(one))
    platform.refused("only the payee may settle", payer_key,
                     channels.functions.settle(one, 4 * ETHER // 10, voucher(one, 4 * ETHER // 10)), state=state(one))
    platform.refused("no such channel", payee_key, channels.functions.settle(9, 1, voucher(9, 1)))
    platform.refused("only the payer may top up", payee_key, channels.functions.topUp(one), value=ETHER, state=state(one))
    platform.refused("only the payer may close", payee_key, channels.functions.startClose(one), state=state(one))
    platform.refused("start the close first", payer_key, channels.functions.withdraw(one), state=state(one))
    platform.refused("the channel has not expired", payer_key, channels.functions.refund(one), state=state(one))

    # Top-up, then a voucher above the first deposit.
    succeed(transact(w3, payer_key, channels.functions.topUp(one), value=5 * ETHER // 10), ("PaymentChannel", "topUp"))
    assert channels.functions.channels(one).call()[3] == 15 * ETHER // 10
    succeed(transact(w3, payee_key, channels.functions.settle(one, 12 * ETHER // 10, voucher(one, 12 * ETHER // 10))))

    # The Ed25519 device's channel.
    succeed(transact(w3, payee_key, channels.functions.settle(two, 2 * ETHER // 10, voucher(two, 2 * ETHER // 10, device=pump))))

    # Closing: the dispute window, during which the payee still settles.
    started = succeed(transact(w3, payer_key, channels.functions.startClose(one)), ("PaymentChannel", "startClose"))
    closes_at = channels.events.ChannelCloseStarted().process_receipt(errors=DISCARD, txn_receipt=started)[0]["args"]["closesAt"]
    platform.refused("a close is under way already", payer_key, channels.functions.startClose(one), state=state(one))
    platform.refused("a close is under way", payer_key, channels.functions.topUp(one), value=1, state=state(one))
    platform.refused("the dispute window is still open", payer_key, channels.functions.withdraw(one), state=state(one))
    platform.refused("a close is under way: withdraw after the dispute window", payer_key, channels.functions.refund(one), state=state(one))
    succeed(transact(w3, payee_key, channels.functions.settle(one, 14 * ETHER // 10, voucher(one, 14 * ETHER // 10))))

    platform.wait_past(max(closes_at, short_expiry))
    platform.refused("the dispute window is over", payee_key,
                     channels.functions.settle(one, 15 * ETHER // 10, voucher(one, 15 * ETHER // 10)), state=state(one))
    platform.refused("only the payer may withdraw", payee_key, channels.functions.withdraw(one), state=state(one))
    before = bal(payer)
    withdrawn = succeed(transact(w3, payer_key, channels.functions.withdraw(one)), ("PaymentChannel", "withdraw"))
    assert bal(payer) == before + ETHER // 10 - fee(withdrawn)
    platform.refused("the channel is closed: its rest went back to the payer", payee_key,  # settle after withdrawal
                     channels.functions.settle(one, 15 * ETHER // 10, voucher(one, 15 * ETHER // 10)), state=state(one))
    platform.refused("the channel is closed already", payer_key, channels.functions.withdraw(one), state=state(one))

    # Expiry without a close: no more settling; the payer refunds the rest.
    platform.refused("the channel has expired", payee_key,
                     channels.functions.settle(two, 3 * ETHER // 10, voucher(two, 3 * ETHER // 10, device=pump)), state=state(two))
    platform.refused("only the payer may refund", other_key, channels.functions.refund(two), state=state(two))
    before = bal(payer)
    refunded = succeed(transact(w3, payer_key, channels.functions.refund(two)), ("PaymentChannel", "refund"))
    assert bal(payer) == before + 8 * ETHER // 10 - fee(refunded)
    platform.refused("the channel is closed already", payer_key, channels.functions.refund(two), state=state(two))
    assert bal(channels.address) == 0


# ---------------------------------------------------------------------------------------------
# ConditionalEscrow: custody or a reading, or a refund after the deadline


NO_DEVICE = "0x" + "00" * 20
NO_KIND = b"\0" * 32


def escrow_state(w3, escrow, *accounts):
    return snapshot(w3, lambda: (escrow.functions.funded().call(), escrow.functions.released().call(), escrow.functions.refunded().call()),
                    escrow.address, *accounts)


def test_conditional_escrow_on_custody(devnet, platform):
    w3 = platform.w3
    seller_key, buyer_key, anyone_key = devnet.keys[3], devnet.keys[4], devnet.keys[5]
    seller, buyer = devnet.accounts[3], devnet.accounts[4]
    bal = w3.eth.get_balance
    token, epc = platform.asset(seller)
    late_token, _ = platform.asset(seller)
    platform.org(buyer)

    escrow = deploy_measured(w3, buyer_key, "ConditionalEscrow.vy", buyer, seller, ETHER, now() + 3600, 1, token, NO_DEVICE, NO_KIND, 0,
                             value=ETHER, gas_key=("ConditionalEscrow", "deploy+fund"))
    state = escrow_state(w3, escrow, seller, buyer)
    assert escrow.functions.funded().call() and bal(escrow.address) == ETHER
    assert not escrow.functions.conditionHolds().call()
    platform.refused("condition not met: the asset is not in the buyer's custody", anyone_key, escrow.functions.release(), state=state)
    platform.refused("the deadline has not passed", buyer_key, escrow.functions.refund(), state=state)
    platform.refused("funded already", buyer_key, escrow.functions.fund(), value=ETHER, state=state)

    # The buyer's receiving event moves custody: anyone may release to the seller.
    platform.receive(buyer_key, buyer, token, epc)
    assert escrow.functions.conditionHolds().call()
    before = bal(seller)
    released = succeed(transact(w3, anyone_key, escrow.functions.release()), ("ConditionalEscrow", "release"))
    assert bal(seller) == before + ETHER and bal(escrow.address) == 0
    assert escrow.events.Released().process_receipt(errors=DISCARD, txn_receipt=released)[0]["args"]["amount"] == ETHER
    platform.refused("released already", anyone_key, escrow.functions.release(), state=state)
    platform.refused("released already", buyer_key, escrow.functions.refund(), state=state)

    # Funded later; never delivered: after the deadline only a refund, to the buyer.
    deadline = now() + 5
    late = deploy_measured(w3, anyone_key, "ConditionalEscrow.vy", buyer, seller, ETHER, deadline, 1, late_token, NO_DEVICE, NO_KIND, 0)
    state = escrow_state(w3, late, seller, buyer)
    platform.refused("not funded yet", anyone_key, late.functions.release(), state=state)
    platform.refused("nothing to refund: never funded", anyone_key, late.functions.refund(), state=state)
    platform.refused("only the buyer deposits", anyone_key, late.functions.fund(), value=ETHER, state=state)
    platform.refused("deposit exactly the amount", buyer_key, late.functions.fund(), value=ETHER // 2, state=state)
    succeed(transact(w3, buyer_key, late.functions.fund(), value=ETHER), ("ConditionalEscrow", "fund"))
    platform.wait_past(deadline)
    platform.refused("the deadline has passed: only a refund is possible", anyone_key, late.functions.release(), state=state)
    before = bal(buyer)
    succeed(transact(w3, anyone_key, late.functions.refund()), ("ConditionalEscrow", "refund"))
    assert bal(buyer) == before + ETHER and bal(late.address) == 0
    platform.refused("refunded already", anyone_key, late.functions.refund(), state=state)
    platform.refused("refunded already", anyone_key, late.functions.release(), state=state)


def test_conditional_escrow_on_readings(devnet, readings):
    platform, w3 = readings, readings.w3
    seller_key, buyer_key, relay_key = devnet.keys[3], devnet.keys[4], devnet.keys[6]
    seller, buyer = devnet.accounts[3], devnet.accounts[4]
    bal = w3.eth.get_balance
    sensor = platform.device(buyer, ED25519, "Soil moisture probe")
    kind = keccak(b"soil.moisture.pct")
    platform.submit_reading(relay_key, sensor, kind, 80, 1)  # before the escrow: does not count

    # Condition 2: the latest reading, accepted after creation, at least 50.
    at_least = deploy_measured(w3, buyer_key, "ConditionalEscrow.vy", buyer, seller, ETHER, now() + 3600, 2, 0, sensor.address, kind, 50,
                               value=ETHER)
    state = escrow_state(w3, at_least, seller, buyer)
    platform.refused("condition not met: no reading since the escrow was created", relay_key, at_least.functions.release(), state=state)
    platform.submit_reading(relay_key, sensor, kind, 30, 2)
    platform.refused("condition not met: the latest reading is below the threshold", relay_key, at_least.functions.release(), state=state)
    platform.submit_reading(relay_key, sensor, kind, 60, 3)
    before = bal(seller)
    succeed(transact(w3, relay_key, at_least.functions.release()), ("ConditionalEscrow", "release (reading)"))
    assert bal(seller) == before + ETHER

    # Condition 3: at most 40 (negative values compare as signed).
    at_most = deploy_measured(w3, buyer_key, "ConditionalEscrow.vy", buyer, seller, ETHER, now() + 3600, 3, 0, sensor.address, kind, -5,
                              value=ETHER)
    state = escrow_state(w3, at_most, seller, buyer)
    platform.submit_reading(relay_key, sensor, kind, 45, 4)
    platform.refused("condition not met: the latest reading is above the threshold", relay_key, at_most.functions.release(), state=state)
    platform.submit_reading(relay_key, sensor, kind, -7, 5)
    value, _, sequence, _ = platform.readings.functions.latestReading(sensor.address, kind).call()
    assert (value, sequence) == (-7, 5)
    before = bal(seller)
    succeed(transact(w3, relay_key, at_most.functions.release()))
    assert bal(seller) == before + ETHER
    platform.refused("released already", relay_key, at_most.functions.release(), state=state)


# ---------------------------------------------------------------------------------------------
# AssetSale: the token and the price in escrow until the buyer holds the asset


def test_asset_sale(devnet, platform):
    w3 = platform.w3
    seller_key, buyer_key, anyone_key = devnet.keys[3], devnet.keys[7], devnet.keys[5]
    seller, buyer = devnet.accounts[3], devnet.accounts[7]
    bal = w3.eth.get_balance
    owner_of = platform.assets.functions.ownerOf
    price = 3 * ETHER // 2
    shop = deploy_measured(w3, seller_key, "AssetSale.vy", gas_key=("AssetSale", "deploy"))
    sold, sold_epc = platform.asset(seller)
    lost, _ = platform.asset(seller)
    unsold, _ = platform.asset(seller)
    platform.org(buyer)

    def state(listing):
        return snapshot(w3, lambda: (shop.functions.listings(listing).call(), owner_of(shop.functions.listings(listing).call()[1]).call()),
                        shop.address, seller, buyer)

    # Listing moves the token into the contract (approved first); only the owner lists.
    platform.refused("only the asset's owner may list it", buyer_key, shop.functions.list(sold, price, 3600))
    for token in (sold, lost, unsold):
        succeed(transact(w3, seller_key, platform.assets.functions.approve(shop.address, token)))
    succeed(transact(w3, seller_key, shop.functions.list(sold, price, 3600)), ("AssetSale", "list"))
    assert owner_of(sold).call() == shop.address
    succeed(transact(w3, seller_key, shop.functions.list(lost, price, 5)))
    succeed(transact(w3, seller_key, shop.functions.list(unsold, price, 3600)))

    platform.refused("send exactly the price", buyer_key, shop.functions.buy(1), value=price - 1, state=state(1))
    platform.refused("the seller cannot buy its own listing", seller_key, shop.functions.buy(1), value=price, state=state(1))
    platform.refused("no such listing", buyer_key, shop.functions.buy(42), value=price)
    platform.refused("not awaiting delivery", anyone_key, shop.functions.complete(1), state=state(1))
    succeed(transact(w3, buyer_key, shop.functions.buy(1), value=price), ("AssetSale", "buy"))
    platform.refused("not for sale", anyone_key, shop.functions.buy(1), value=price, state=state(1))
    platform.refused("not received: the buyer does not hold the asset", anyone_key, shop.functions.complete(1), state=state(1))
    platform.refused("the deadline has not passed", anyone_key, shop.functions.refund(1), state=state(1))
    platform.refused("not for sale", seller_key, shop.functions.cancel(1), state=state(1))

    # The buyer receives it: the sale completes, token to the buyer, price to the seller.
    platform.receive(buyer_key, buyer, sold, sold_epc)
    before = bal(seller)
    succeed(transact(w3, anyone_key, shop.functions.complete(1)), ("AssetSale", "complete"))
    assert owner_of(sold).call() == buyer and bal(seller) == before + price
    platform.refused("not awaiting delivery", anyone_key, shop.functions.complete(1), state=state(1))
    platform.refused("not awaiting delivery", anyone_key, shop.functions.refund(1), state=state(1))

    # Never received: after the deadline the buyer gets its money back and the seller its token.
    bought = succeed(transact(w3, buyer_key, shop.functions.buy(2), value=price))
    deadline = shop.events.Bought().process_receipt(errors=DISCARD, txn_receipt=bought)[0]["args"]["deadline"]
    platform.refused("only the seller may cancel", buyer_key, shop.functions.cancel(3), state=state(3))
    succeed(transact(w3, seller_key, shop.functions.cancel(3)), ("AssetSale", "cancel"))
    assert owner_of(unsold).call() == seller
    platform.wait_past(deadline)
    platform.refused("the deadline has passed: only a refund is possible", anyone_key, shop.functions.complete(2), state=state(2))
    before = bal(buyer)
    succeed(transact(w3, anyone_key, shop.functions.refund(2)), ("AssetSale", "refund"))
    assert bal(buyer) == before + price and owner_of(lost).call() == seller
    assert bal(shop.address) == 0


# ---------------------------------------------------------------------------------------------
# ServiceOrder: a machine orders, the supplier's device accepts, delivery pays


def test_service_order(devnet, platform):
    w3 = platform.w3
    buyer_key, supplier_key, anyone_key = devnet.keys[5], devnet.keys[6], devnet.keys[8]
    buyer, supplier = devnet.accounts[5], devnet.accounts[6]
    bal = w3.eth.get_balance
    machine = platform.device(buyer, P256, "Bottling line 3")
    stranger = platform.device(buyer, P256, "Unlisted machine")
    desk = platform.device(supplier, ED25519, "Supplier order desk")
    for device in (machine, stranger, desk):
        platform.fund(buyer_key if device is not desk else supplier_key, device.address, 4 * ETHER if device is machine else ETHER)
    seal, visit = keccak(b"part:PUMP-SEAL-42"), keccak(b"service:REPAIR-VISIT")
    seal_price, visit_price = ETHER // 5, ETHER // 2
    part, part_epc = platform.asset(supplier)
    other_part, _ = platform.asset(supplier)
    window = 10
    agreement = deploy_measured(w3, buyer_key, "ServiceOrder.vy", supplier, desk.address, [seal, visit], [seal_price, visit_price],
                                window, window, gas_key=("ServiceOrder", "deploy"))

    def state(order):
        return snapshot(w3, agreement.functions.orders(order).call, agreement.address, buyer, supplier, machine.address)

    platform.refused("not a machine the buyer allows to order", stranger, agreement.functions.order(seal), value=seal_price)
    platform.refused("only the buyer may allow machines", supplier_key, agreement.functions.setMachine(machine.address, True))
    succeed(transact(w3, buyer_key, agreement.functions.setMachine(machine.address, True)))
    platform.refused("not in the catalogue", machine, agreement.functions.order(keccak(b"part:UNKNOWN")), value=seal_price)
    platform.refused("send exactly the item's price", machine, agreement.functions.order(seal), value=seal_price + 1)

    # Order 1: the machine orders a part (a device transaction), the supplier's device accepts
    # naming the asset it ships, and the machine's own receiving event releases the payment.
    placed = succeed(platform.device_send(machine, agreement.functions.order(seal), value=seal_price), ("ServiceOrder", "order"))
    assert agreement.events.OrderPlaced().process_receipt(errors=DISCARD, txn_receipt=placed)[0]["args"]["orderId"] == 1
    for _ in range(4):  # orders 2 (confirmed by hand), 3 (never accepted), 4 (never delivered), 5 (declined)
        succeed(platform.device_send(machine, agreement.functions.order(visit), value=visit_price))
    assert bal(agreement.address) == seal_price + 4 * visit_price
    platform.refused("only the supplier's device may accept", supplier_key, agreement.functions.accept(1, part), state=state(1))
    succeed(platform.device_send(desk, agreement.functions.accept(1, part)), ("ServiceOrder", "accept"))
    platform.refused("not awaiting acceptance", desk, agreement.functions.accept(1, part), state=state(1))
    platform.refused("not delivered: the buyer does not hold the asset", anyone_key, agreement.functions.release(1), state=state(1))
    platform.refused("the delivery window is still open", anyone_key, agreement.functions.refund(1), state=state(1))
    receipt = platform.device_send(machine, platform.provenance.functions.captureEvents(0, platform.receiving_document(part_epc)))
    assert receipt["status"] == 1 and platform.custodian(part) == machine.address
    before = bal(supplier)
    succeed(transact(w3, anyone_key, agreement.functions.release(1)), ("ServiceOrder", "release"))
    assert bal(supplier) == before + seal_price
    platform.refused("the order is settled already", anyone_key, agreement.functions.refund(1), state=state(1))
    platform.refused("not awaiting delivery", anyone_key, agreement.functions.release(1), state=state(1))

    # Order 2: a repair visit, no asset to track: the buyer confirms receipt.
    succeed(platform.device_send(desk, agreement.functions.accept(2, 0)))
    platform.refused("no asset tracks this order: the buyer or the machine confirms receipt", anyone_key,
                     agreement.functions.release(2), state=state(2))
    platform.refused("only the buyer or the ordering machine may confirm receipt", supplier_key,
                     agreement.functions.confirmReceipt(2), state=state(2))
    before = bal(supplier)
    succeed(transact(w3, buyer_key, agreement.functions.confirmReceipt(2)), ("ServiceOrder", "confirmReceipt"))
    assert bal(supplier) == before + visit_price

    # Order 4 accepted (never delivered), order 5 declined, order 3 left alone.
    accepted = succeed(platform.device_send(desk, agreement.functions.accept(4, other_part)))
    platform.refused("only the supplier may decline", buyer_key, agreement.functions.decline(5), state=state(5))
    before = bal(buyer)
    succeed(transact(w3, supplier_key, agreement.functions.decline(5)))
    assert bal(buyer) == before + visit_price
    platform.refused("the accept window is still open", anyone_key, agreement.functions.refund(3), state=state(3))
    platform.refused("the delivery window is still open", anyone_key, agreement.functions.refund(4), state=state(4))

    # The supplier never delivers: after the windows, refunds to the buyer (not to the machine).
    platform.wait_past(w3.eth.get_block(accepted["blockNumber"])["timestamp"] + window)
    platform.refused("too late to accept: the accept window is over", desk, agreement.functions.accept(3, 0), state=state(3))
    platform.refused("the delivery window is over: only a refund is possible", anyone_key, agreement.functions.release(4), state=state(4))
    machine_balance, before = bal(machine.address), bal(buyer)
    succeed(transact(w3, anyone_key, agreement.functions.refund(3)), ("ServiceOrder", "refund"))
    succeed(transact(w3, anyone_key, agreement.functions.refund(4)))
    assert bal(buyer) == before + 2 * visit_price and bal(machine.address) == machine_balance
    assert [agreement.functions.orders(i).call()[6] for i in range(1, 6)] == [3, 3, 4, 4, 4]
    assert bal(agreement.address) == 0


# ---------------------------------------------------------------------------------------------
# SLADelivery: penalties from a cold-chain logger's readings


REJECTER = """# pragma version ~=0.4.3
accepting: public(bool)

interface Claimable:
    def claim(): nonpayable

@payable
@external
def __default__():
    assert self.accepting, "this recipient refuses payments"

@external
def claimFrom(agreement: address):
    self.accepting = True
    extcall Claimable(agreement).claim()
"""


def test_sla_delivery(devnet, readings):
    platform, w3 = readings, readings.w3
    shipper_key, carrier_key, receiver_key, anyone_key = devnet.keys[3], devnet.keys[6], devnet.keys[4], devnet.keys[8]
    shipper, carrier, receiver = devnet.accounts[3], devnet.accounts[6], devnet.accounts[4]
    bal = w3.eth.get_balance
    logger = platform.device(carrier, ED25519, "Cold-chain logger")
    kind = keccak(b"temperature.c10")  # tenths of a degree Celsius
    price, penalty, cap = ETHER, ETHER // 10, ETHER // 4
    token, epc = platform.asset(shipper)
    platform.org(receiver)
    platform.submit_reading(anyone_key, logger, kind, 90, 1)  # before the delivery: never counts

    sla = deploy_measured(w3, receiver_key, "SLADelivery.vy", carrier, receiver, token, logger.address, kind, 20, 80, penalty, cap,
                          now() + 3600, value=price, gas_key=("SLADelivery", "deploy"))
    started = sla.functions.startedAt().call()

    def state():
        return snapshot(w3, lambda: (sla.functions.penalties().call(), sla.functions.breaches().call(), sla.functions.lastBreachSequence().call(),
                                     sla.functions.settled().call(), sla.functions.refunded().call()), sla.address, carrier, receiver)()

    platform.refused("no reading from the logger since the delivery started", anyone_key, sla.functions.report(), state=state)
    platform.receive(carrier_key, carrier, token, epc)  # the carrier picks it up
    platform.submit_reading(anyone_key, logger, kind, 50, 2)
    platform.refused("the latest reading is within bounds: no breach", anyone_key, sla.functions.report(), state=state)
    platform.submit_reading(anyone_key, logger, kind, 95, 3)
    succeed(transact(w3, anyone_key, sla.functions.report()), ("SLADelivery", "report"))
    platform.refused("this breach was reported already", anyone_key, sla.functions.report(), state=state)
    platform.submit_reading(anyone_key, logger, kind, 10, 4)
    succeed(transact(w3, anyone_key, sla.functions.report()))
    platform.submit_reading(anyone_key, logger, kind, 100, 5, observed_at=started - 60)
    platform.refused("the reading was observed before the delivery started", anyone_key, sla.functions.report(), state=state)
    platform.submit_reading(anyone_key, logger, kind, -30, 6)
    reported = succeed(transact(w3, anyone_key, sla.functions.report()))
    assert sla.events.BreachReported().process_receipt(errors=DISCARD, txn_receipt=reported)[0]["args"]["penalty"] == cap - 2 * penalty  # capped
    platform.submit_reading(anyone_key, logger, kind, 99, 7)
    platform.refused("the penalty cap is reached", anyone_key, sla.functions.report(), state=state)
    assert (sla.functions.penalties().call(), sla.functions.breaches().call()) == (cap, 3)

    platform.refused("not delivered: the receiver does not hold the asset", anyone_key, sla.functions.settle(), state=state)
    platform.refused("the deadline has not passed", anyone_key, sla.functions.refund(), state=state)
    platform.receive(receiver_key, receiver, token, epc)
    platform.submit_reading(anyone_key, logger, kind, 120, 8)
    platform.refused("delivered: the delivery window is over", anyone_key, sla.functions.report(), state=state)
    carrier_before, receiver_before = bal(carrier), bal(receiver)
    succeed(transact(w3, anyone_key, sla.functions.settle()), ("SLADelivery", "settle"))
    assert bal(carrier) == carrier_before + price - cap and bal(receiver) == receiver_before + cap
    platform.refused("settled already", anyone_key, sla.functions.settle(), state=state)
    platform.refused("settled already", anyone_key, sla.functions.refund(), state=state)
    platform.refused("nothing is owed to the caller", anyone_key, sla.functions.claim(), state=state)

    # A carrier that refuses payments cannot block the receiver's; its share waits for claim().
    rejecter = deploy_measured(w3, anyone_key, REJECTER)
    second, second_epc = platform.asset(shipper)
    sla2 = deploy_measured(w3, receiver_key, "SLADelivery.vy", rejecter.address, receiver, second, logger.address, kind, 20, 80, penalty, cap,
                           now() + 3600, value=price)
    platform.submit_reading(anyone_key, logger, kind, 130, 9)
    succeed(transact(w3, anyone_key, sla2.functions.report()))
    platform.receive(receiver_key, receiver, second, second_epc)
    receiver_before = bal(receiver)
    settled = succeed(transact(w3, anyone_key, sla2.functions.settle()))
    assert bal(receiver) == receiver_before + penalty
    assert sla2.events.PaymentKept().process_receipt(errors=DISCARD, txn_receipt=settled)[0]["args"]["amount"] == price - penalty
    assert sla2.functions.owed(rejecter.address).call() == price - penalty
    succeed(transact(w3, anyone_key, rejecter.functions.claimFrom(sla2.address)))
    assert bal(rejecter.address) == price - penalty and sla2.functions.owed(rejecter.address).call() == 0

    # Never delivered: the whole price back to the payer after the deadline.
    third, _ = platform.asset(shipper)
    deadline = now() + 5
    sla3 = deploy_measured(w3, receiver_key, "SLADelivery.vy", carrier, receiver, third, logger.address, kind, 20, 80, penalty, cap,
                           deadline, value=price)
    platform.wait_past(deadline)
    state3 = snapshot(w3, lambda: (sla3.functions.settled().call(), sla3.functions.refunded().call()), sla3.address, carrier, receiver)
    platform.refused("the deadline has passed: only a refund is possible", anyone_key, sla3.functions.settle(), state=state3)
    platform.refused("the deadline has passed", anyone_key, sla3.functions.report(), state=state3)
    before = bal(receiver)
    succeed(transact(w3, anyone_key, sla3.functions.refund()), ("SLADelivery", "refund"))
    assert bal(receiver) == before + price and bal(sla3.address) == 0


# ---------------------------------------------------------------------------------------------
# Metering: a cumulative meter billed from a deposit


def test_metering(devnet, readings):
    platform, w3 = readings, readings.w3
    supplier_key, consumer_key, anyone_key = devnet.keys[6], devnet.keys[7], devnet.keys[8]
    supplier, consumer = devnet.accounts[6], devnet.accounts[7]
    bal = w3.eth.get_balance
    meter = platform.device(supplier, P256, "Water meter")
    litres, unit = keccak(b"water.litres"), 10**15
    platform.submit_reading(anyone_key, meter, litres, 1000, 1)  # the baseline
    metering = deploy_measured(w3, consumer_key, "Metering.vy", supplier, consumer, meter.address, litres, unit, 4,
                               value=50 * unit, gas_key=("Metering", "deploy+deposit"))
    assert (metering.functions.lastValue().call(), metering.functions.lastSequence().call()) == (1000, 1)
    state = snapshot(w3, lambda: (metering.functions.deposit().call(), metering.functions.lastValue().call(),
                                  metering.functions.lastSequence().call(), metering.functions.closesAt().call(),
                                  metering.functions.withdrawn().call()), metering.address, supplier, consumer)

    platform.refused("nothing to bill: the latest reading was billed already", anyone_key, metering.functions.bill(), state=state)
    platform.submit_reading(anyone_key, meter, litres, 1020, 2)
    before = bal(supplier)
    succeed(transact(w3, anyone_key, metering.functions.bill()), ("Metering", "bill"))
    assert bal(supplier) == before + 20 * unit
    platform.refused("nothing to bill: the latest reading was billed already", anyone_key, metering.functions.bill(), state=state)

    # More than the deposit covers: what it covers now, the rest after a top-up.
    platform.submit_reading(anyone_key, meter, litres, 1100, 3)
    before = bal(supplier)
    succeed(transact(w3, anyone_key, metering.functions.bill()))
    assert bal(supplier) == before + 30 * unit and metering.functions.lastValue().call() == 1050
    platform.refused("the deposit does not cover one unit: the consumer must top up", anyone_key, metering.functions.bill(), state=state)
    platform.refused("only the consumer deposits", supplier_key, metering.functions.topUp(), value=ETHER, state=state)
    succeed(transact(w3, consumer_key, metering.functions.topUp(), value=100 * unit), ("Metering", "topUp"))
    succeed(transact(w3, anyone_key, metering.functions.bill()))
    assert metering.functions.lastValue().call() == 1100 and metering.functions.deposit().call() == 50 * unit
    platform.submit_reading(anyone_key, meter, litres, 1090, 4)
    platform.refused("the meter's counter went backwards", anyone_key, metering.functions.bill(), state=state)
    platform.submit_reading(anyone_key, meter, litres, 1110, 5)
    succeed(transact(w3, anyone_key, metering.functions.bill()))

    # Closing: the notice period for the last bills, then the consumer withdraws the rest.
    platform.refused("close the agreement first", consumer_key, metering.functions.withdraw(), state=state)
    platform.refused("only the consumer or the supplier may close", anyone_key, metering.functions.close(), state=state)
    closing = succeed(transact(w3, consumer_key, metering.functions.close()), ("Metering", "close"))
    closes_at = metering.events.Closing().process_receipt(errors=DISCARD, txn_receipt=closing)[0]["args"]["closesAt"]
    platform.refused("closing already", supplier_key, metering.functions.close(), state=state)
    platform.refused("the notice period is not over", consumer_key, metering.functions.withdraw(), state=state)
    platform.refused("the agreement is closing", consumer_key, metering.functions.topUp(), value=unit, state=state)
    platform.submit_reading(anyone_key, meter, litres, 1115, 6)
    succeed(transact(w3, anyone_key, metering.functions.bill()))
    platform.wait_past(closes_at)
    platform.submit_reading(anyone_key, meter, litres, 1130, 7)
    platform.refused("the notice period is over", anyone_key, metering.functions.bill(), state=state)
    platform.refused("only the consumer may withdraw", supplier_key, metering.functions.withdraw(), state=state)
    before = bal(consumer)
    withdrawn = succeed(transact(w3, consumer_key, metering.functions.withdraw()), ("Metering", "withdraw"))
    assert bal(consumer) == before + 35 * unit - fee(withdrawn) and bal(metering.address) == 0
    platform.refused("withdrawn already", consumer_key, metering.functions.withdraw(), state=state)
    platform.refused("the agreement is closed", anyone_key, metering.functions.bill(), state=state)

    # A meter that never reported.
    silent = deploy_measured(w3, consumer_key, "Metering.vy", supplier, consumer, meter.address, keccak(b"gas.m3"), unit, 4, value=unit)
    platform.refused("the meter has no reading yet", anyone_key, silent.functions.bill())


# ---------------------------------------------------------------------------------------------
# Equipment: settings changed by controller devices, each with its cause


def test_equipment(devnet, platform):
    w3 = platform.w3
    operator_key, anyone_key = devnet.keys[5], devnet.keys[8]
    operator = devnet.accounts[5]
    controller = platform.device(operator, ED25519, "Valve controller")
    stranger = platform.device(operator, P256, "Not a controller")
    for device in (controller, stranger):
        platform.fund(operator_key, device.address, ETHER // 10)
    sensor = platform.device(operator, P256, "Soil sensor").address
    equipment = deploy_measured(w3, operator_key, "Equipment.vy", [controller.address], gas_key=("Equipment", "deploy"))
    valve = keccak(b"valve.1")
    state = snapshot(w3, lambda: (equipment.functions.levelOf(valve).call(), equipment.functions.adjustments().call(),
                                  equipment.functions.adjustmentsOf(valve).call(), equipment.functions.lastController(valve).call(),
                                  equipment.functions.controllerAllowed(stranger.address).call(),
                                  equipment.functions.controllerAllowed(controller.address).call()), equipment.address, operator)

    opened = succeed(platform.device_send(controller, equipment.functions.adjust(valve, 1, sensor, 7)), ("Equipment", "adjust"))
    event = equipment.events.Adjusted().process_receipt(errors=DISCARD, txn_receipt=opened)[0]["args"]
    assert (event["setting"], event["controller"], event["level"], event["previous"]) == (valve, controller.address, 1, 0)
    assert (event["causeDevice"], event["causeSequence"]) == (sensor, 7)
    closed = succeed(platform.device_send(controller, equipment.functions.adjust(valve, -5, sensor, 8)))
    assert equipment.events.Adjusted().process_receipt(errors=DISCARD, txn_receipt=closed)[0]["args"]["previous"] == 1
    assert (equipment.functions.levelOf(valve).call(), equipment.functions.adjustments().call(),
            equipment.functions.adjustmentsOf(valve).call()) == (-5, 2, 2)
    assert equipment.functions.lastController(valve).call() == controller.address

    platform.refused("not a controller the operator allows", stranger, equipment.functions.adjust(valve, 9, sensor, 9), state=state)
    platform.refused("only the operator may allow controllers", anyone_key, equipment.functions.allow(stranger.address, True), state=state)
    platform.refused("the controller is the zero address", operator_key, equipment.functions.allow(ZERO_ADDRESS, True), state=state)
    succeed(transact(w3, operator_key, equipment.functions.allow(stranger.address, True)), ("Equipment", "allow"))
    succeed(transact(w3, operator_key, equipment.functions.allow(controller.address, False)))
    succeed(platform.device_send(stranger, equipment.functions.adjust(valve, 3, ZERO_ADDRESS, 0)))
    platform.refused("not a controller the operator allows", controller, equipment.functions.adjust(valve, 1, sensor, 10), state=state)
    assert equipment.functions.levelOf(valve).call() == 3


# ---------------------------------------------------------------------------------------------
# DataSharing: paid entitlements to a device's topics


def test_data_sharing(devnet, platform):
    w3 = platform.w3
    owner_key, subscriber_key, outsider_key = devnet.keys[6], devnet.keys[9], devnet.keys[8]
    owner, subscriber, outsider = devnet.accounts[6], devnet.accounts[9], devnet.accounts[8]
    bal = w3.eth.get_balance
    station = platform.device(owner, P256, "Weather station")
    wind, rain = keccak(b"kramaa/weather/wind"), keccak(b"kramaa/weather/rain")
    price = ETHER // 100
    sharing = deploy_measured(w3, owner_key, "DataSharing.vy", gas_key=("DataSharing", "deploy"))

    platform.refused("only a device manager of the device's organisation may offer its data", outsider_key,
                     sharing.functions.offer(station.address, wind, price, 3600))
    unknown = DeviceKey(P256).address
    platform.refused(f"no device {unknown}", owner_key, sharing.functions.offer(unknown, wind, price, 3600))  # the device registry's refusal
    platform.refused("the price must be above zero", owner_key, sharing.functions.offer(station.address, wind, 0, 3600))
    succeed(transact(w3, owner_key, sharing.functions.offer(station.address, wind, price, 3600)), ("DataSharing", "offer"))
    succeed(transact(w3, owner_key, sharing.functions.offer(station.address, rain, price, 3)))

    def state(offer):
        return snapshot(w3, lambda: (sharing.functions.offers(offer).call(), sharing.functions.proceeds(owner).call(),
                                     sharing.functions.entitledUntil(subscriber, station.address, wind).call()),
                        sharing.address, owner)

    assert not sharing.functions.isEntitled(subscriber, station.address, wind).call()
    platform.refused("send exactly the price of the periods", subscriber_key, sharing.functions.subscribe(1, 2), value=price, state=state(1))
    platform.refused("subscribe for 1 to 1000 periods", subscriber_key, sharing.functions.subscribe(1, 0), state=state(1))
    platform.refused("no such offer", subscriber_key, sharing.functions.subscribe(7, 1), value=price)
    subscribed = succeed(transact(w3, subscriber_key, sharing.functions.subscribe(1, 2), value=2 * price), ("DataSharing", "subscribe"))
    until = sharing.events.Subscribed().process_receipt(errors=DISCARD, txn_receipt=subscribed)[0]["args"]["entitledUntil"]
    assert until == w3.eth.get_block(subscribed["blockNumber"])["timestamp"] + 7200
    assert sharing.functions.isEntitled(subscriber, station.address, wind).call()
    assert not sharing.functions.isEntitled(subscriber, station.address, rain).call()
    assert not sharing.functions.isEntitled(outsider, station.address, wind).call()
    succeed(transact(w3, subscriber_key, sharing.functions.subscribe(1, 1), value=price))  # extends from the current end
    assert sharing.functions.entitledUntil(subscriber, station.address, wind).call() == until + 3600

    platform.refused("only the offer's owner may change it", subscriber_key, sharing.functions.setActive(1, False), state=state(1))
    succeed(transact(w3, owner_key, sharing.functions.setActive(1, False)))
    platform.refused("the offer is paused", subscriber_key, sharing.functions.subscribe(1, 1), value=price, state=state(1))
    assert sharing.functions.isEntitled(subscriber, station.address, wind).call()  # paid entitlements stay

    # A short period runs out.
    rained = succeed(transact(w3, subscriber_key, sharing.functions.subscribe(2, 1), value=price))
    assert sharing.functions.isEntitled(subscriber, station.address, rain).call()
    platform.wait_past(sharing.events.Subscribed().process_receipt(errors=DISCARD, txn_receipt=rained)[0]["args"]["entitledUntil"])

    platform.refused("no proceeds to withdraw", subscriber_key, sharing.functions.withdraw(), state=state(1))
    before = bal(owner)
    withdrawn = succeed(transact(w3, owner_key, sharing.functions.withdraw()), ("DataSharing", "withdraw"))  # a block after the period
    assert bal(owner) == before + 4 * price - fee(withdrawn) and bal(sharing.address) == 0
    assert not sharing.functions.isEntitled(subscriber, station.address, rain).call()
    assert sharing.functions.isEntitled(subscriber, station.address, wind).call()


# ---------------------------------------------------------------------------------------------
# Gas


def test_gas_table():
    """Prints the gas measured above (run with -s); docs/AGREEMENTS.md quotes these figures."""
    assert GAS, "no template ran"
    width = max(len(f"{t} {o}") for t, o in GAS)
    lines = [f"{'template operation':<{width}}  gas"] + [f"{t + ' ' + o:<{width}}  {g:>9,}" for (t, o), g in sorted(GAS.items())]
    print("\n" + "\n".join(lines))
