"""The node's JSON-RPC API through real clients (web3.py, eth-account, rlp, py-trie): signed
transactions of every type, receipts, balances, block hashes and roots, fees, calls with
overrides and block tags, dev-account signing, and EIP-1186 proofs checked against stateRoot.

Contracts, logs, filters, subscriptions and reverts: test_node_contracts.py; bad input:
test_node_errors.py; restarts, crashes and permissioned chains: test_node_lifecycle.py."""
import time

import eth_bloom
import pytest
import rlp
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import big_endian_to_int, keccak, to_checksum_address
from trie import HexaryTrie

from conftest import RPCError
from rpc_helpers import (EMPTY_CODE_HASH, EMPTY_TRIE_ROOT, EMPTY_UNCLES, deploy, fee_fields, header_hash,
                         hexbytes, mapping_slot, qty, send_signed, storage_layout, transact, wait_receipt)


@pytest.fixture(scope="module")
def w3(devnet):
    return devnet.web3()


def block_json(devnet, number_or_hash, full=False):
    if isinstance(number_or_hash, str) and len(number_or_hash) == 66:
        return devnet.rpc("eth_getBlockByHash", number_or_hash, full)
    tag = number_or_hash if isinstance(number_or_hash, str) else hex(number_or_hash)
    return devnet.rpc("eth_getBlockByNumber", tag, full)


def ordered_trie_root(items):
    """The root of the trie of rlp(index) -> item, as transactionsRoot and receiptsRoot are built."""
    t = HexaryTrie({})
    for i, item in enumerate(items):
        t[rlp.encode(i)] = item
    return t.root_hash


def receipt_encoding(r):
    """A receipt's consensus encoding (EIP-2718) from its JSON."""
    logs = [[hexbytes(l["address"]), [hexbytes(t) for t in l["topics"]], hexbytes(l["data"])] for l in r["logs"]]
    payload = rlp.encode([qty(r["status"]), qty(r["cumulativeGasUsed"]), hexbytes(r["logsBloom"]), logs])
    kind = qty(r["type"])
    return payload if kind == 0 else bytes([kind]) + payload


def check_block(devnet, number):
    """A stored block is consistent: its hash is keccak(rlp(header)), it links to its parent,
    its transactionsRoot and receiptsRoot are the ordered tries of its transactions and
    receipts, its logsBloom is the union of the receipts' blooms, gasUsed adds up."""
    block = block_json(devnet, number, True)
    assert block is not None
    assert header_hash(block) == block["hash"]
    assert block_json(devnet, block["hash"])["hash"] == block["hash"]
    if number > 0:
        assert block["parentHash"] == block_json(devnet, number - 1)["hash"]
    assert hexbytes(block["sha3Uncles"]) == EMPTY_UNCLES and block["uncles"] == []
    raws = [hexbytes(devnet.rpc("eth_getRawTransactionByHash", tx["hash"])) for tx in block["transactions"]]
    for tx, raw in zip(block["transactions"], raws):
        assert "0x" + keccak(raw).hex() == tx["hash"]
        assert tx["blockHash"] == block["hash"] and qty(tx["blockNumber"]) == number
    assert hexbytes(block["transactionsRoot"]) == ordered_trie_root(raws)
    receipts = devnet.rpc("eth_getBlockReceipts", hex(number))
    assert [r["transactionHash"] for r in receipts] == [tx["hash"] for tx in block["transactions"]]
    assert hexbytes(block["receiptsRoot"]) == ordered_trie_root([receipt_encoding(r) for r in receipts])
    bloom = 0
    for r in receipts:
        b = eth_bloom.BloomFilter()
        for log in r["logs"]:
            b.add(hexbytes(log["address"]))
            for t in log["topics"]:
                b.add(hexbytes(t))
        assert int(r["logsBloom"], 16) == int(b), "receipt bloom is not the bloom of its logs"
        bloom |= int(b)
    assert int(block["logsBloom"], 16) == bloom
    assert qty(block["gasUsed"]) == (qty(receipts[-1]["cumulativeGasUsed"]) if receipts else 0)
    if not receipts:
        assert hexbytes(block["transactionsRoot"]) == EMPTY_TRIE_ROOT == hexbytes(block["receiptsRoot"])
    return block, receipts


# ---------------------------------------------------------------------------------------------
# Transactions signed locally, of each type


def test_chain_identity(devnet, w3):
    assert w3.is_connected()
    assert w3.eth.chain_id == 1337
    assert devnet.rpc("net_version") == "1337"
    assert devnet.rpc("web3_clientVersion").startswith("kramaa/")
    assert devnet.rpc("web3_sha3", "0x68656c6c6f") == "0x" + keccak(b"hello").hex()
    assert [a.lower() for a in w3.eth.accounts] == [a.lower() for a in devnet.accounts]
    assert len(devnet.keys) == 10
    for address, key in zip(devnet.accounts, devnet.keys):
        assert Account.from_key(key).address == to_checksum_address(address)
        assert w3.eth.get_balance(address, 0) == 10_000 * 10**18
    genesis = block_json(devnet, 0)
    assert header_hash(genesis) == genesis["hash"]
    assert qty(genesis["baseFeePerGas"]) == 10**9


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_signed_transaction_types(devnet, w3, kind):
    """A value transfer of type 0 (EIP-155), 1 (EIP-2930) or 2 (EIP-1559), signed by
    eth-account and sent raw: the receipt's fields, exact balance changes, and the block."""
    key = devnet.keys[1 + kind]
    sender = Account.from_key(key).address
    recipient = Account.create().address
    value = 12345 + kind
    base = w3.eth.get_block("latest")["baseFeePerGas"]
    tx = {"to": recipient, "value": value, "gas": 21000 if kind != 1 else 30000}
    if kind == 0:
        tx["gasPrice"] = 3 * base
    elif kind == 1:
        tx["gasPrice"] = 3 * base
        tx["accessList"] = [{"address": recipient, "storageKeys": ["0x" + "00" * 31 + "01"]}]
        tx["type"] = 1
    else:
        tx.update(maxFeePerGas=3 * base + 10**9, maxPriorityFeePerGas=10**9)
    before = w3.eth.get_balance(sender)
    nonce = w3.eth.get_transaction_count(sender)
    tx_hash, receipt = send_signed(w3, key, tx)

    assert receipt["status"] == 1
    assert receipt["type"] == kind
    assert receipt["from"] == sender and receipt["to"] == recipient
    assert receipt["contractAddress"] is None
    block = w3.eth.get_block(receipt["blockNumber"])
    expected_gas = 21000 + (2400 + 1900 if kind == 1 else 0)  # access list: one address, one key
    assert receipt["gasUsed"] == expected_gas
    assert receipt["cumulativeGasUsed"] >= receipt["gasUsed"]
    assert len(receipt["logsBloom"]) == 256 and receipt["logs"] == []
    if kind == 2:
        price = min(tx["maxFeePerGas"], block["baseFeePerGas"] + tx["maxPriorityFeePerGas"])
    else:
        price = tx["gasPrice"]
    assert receipt["effectiveGasPrice"] == price

    cost = value + receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert w3.eth.get_balance(sender) == before - cost
    assert w3.eth.get_balance(recipient) == value
    # The state at the block before still has the old balance.
    assert w3.eth.get_balance(sender, receipt["blockNumber"] - 1) == before
    assert w3.eth.get_balance(recipient, receipt["blockNumber"] - 1) == 0
    assert w3.eth.get_transaction_count(sender) == nonce + 1

    got = w3.eth.get_transaction(tx_hash)
    assert got["type"] == kind and got["nonce"] == nonce and got["value"] == value and got["from"] == sender
    assert got["chainId"] == 1337
    if kind == 0:
        assert got["v"] in (1337 * 2 + 35, 1337 * 2 + 36)
    else:
        assert got["v"] in (0, 1) and got["yParity"] == got["v"]
    if kind == 1:
        assert [dict(e) for e in got["accessList"]] == [{"address": recipient, "storageKeys": ["0x" + "00" * 31 + "01"]}]
    check_block(devnet, receipt["blockNumber"])


def test_blocks_chain_and_hash(devnet, w3):
    """Every block from genesis to head: keccak(rlp(header)) is the hash, parents link, roots
    and blooms match the transactions and receipts recomputed in Python."""
    # make sure at least one block holds two transactions of different types
    keys = devnet.keys[4:6]
    hashes = [send_signed(w3, k, {"to": Account.create().address, "value": 1, "gas": 21000}, wait=False)[0] for k in keys]
    receipts = [wait_receipt(w3, h) for h in hashes]
    assert all(r["status"] == 1 for r in receipts)
    head = w3.eth.block_number
    for n in range(0, head + 1):
        check_block(devnet, n)
    latest = block_json(devnet, "latest")
    assert qty(latest["number"]) == head
    assert block_json(devnet, head + 1) is None
    assert devnet.rpc("eth_getBlockByHash", "0x" + "ab" * 32, False) is None


def test_transaction_by_block_and_index(devnet, w3):
    tx_hash, receipt = send_signed(w3, devnet.keys[6], {"to": Account.create().address, "value": 5, "gas": 21000})
    n = receipt["blockNumber"]
    index = receipt["transactionIndex"]
    by_number = devnet.rpc("eth_getTransactionByBlockNumberAndIndex", hex(n), hex(index))
    by_hash = devnet.rpc("eth_getTransactionByBlockHashAndIndex", receipt["blockHash"].to_0x_hex(), hex(index))
    by_tx = devnet.rpc("eth_getTransactionByHash", tx_hash.to_0x_hex())
    assert by_number == by_hash == by_tx
    assert by_number["hash"] == tx_hash.to_0x_hex()
    assert devnet.rpc("eth_getTransactionByBlockNumberAndIndex", hex(n), hex(index + 100)) is None
    assert devnet.rpc("eth_getBlockTransactionCountByNumber", hex(n)) == hex(len(w3.eth.get_block(n)["transactions"]))
    assert devnet.rpc("eth_getBlockTransactionCountByHash", receipt["blockHash"].to_0x_hex()) == \
        devnet.rpc("eth_getBlockTransactionCountByNumber", hex(n))


def test_block_receipts(devnet, w3):
    tx_hash, receipt = send_signed(w3, devnet.keys[6], {"to": Account.create().address, "value": 7, "gas": 21000})
    by_number = devnet.rpc("eth_getBlockReceipts", hex(receipt["blockNumber"]))
    by_hash = devnet.rpc("eth_getBlockReceipts", {"blockHash": receipt["blockHash"].to_0x_hex()})
    assert by_number == by_hash
    one = devnet.rpc("eth_getTransactionReceipt", tx_hash.to_0x_hex())
    assert one in by_number
    for field in ("status", "cumulativeGasUsed", "gasUsed", "effectiveGasPrice", "logsBloom", "type",
                  "transactionHash", "transactionIndex", "blockHash", "blockNumber", "from", "to", "logs"):
        assert field in one, field
    assert devnet.rpc("eth_getBlockReceipts", "latest") == devnet.rpc("eth_getBlockReceipts", hex(w3.eth.block_number))
    assert devnet.rpc("eth_getBlockReceipts", hex(w3.eth.block_number + 10)) is None
    assert devnet.rpc("eth_getTransactionReceipt", "0x" + "12" * 32) is None


# ---------------------------------------------------------------------------------------------
# Dev accounts: the node signs


def test_send_transaction_from_dev_account(devnet, w3):
    sender = devnet.accounts[7]
    recipient = Account.create().address
    before = w3.eth.get_balance(sender)
    tx_hash = w3.eth.send_transaction({"from": sender, "to": recipient, "value": 10**15})
    receipt = wait_receipt(w3, tx_hash)
    assert receipt["status"] == 1 and receipt["type"] == 2
    assert receipt["from"].lower() == sender.lower()
    assert w3.eth.get_balance(recipient) == 10**15
    assert w3.eth.get_balance(sender) == before - 10**15 - receipt["gasUsed"] * receipt["effectiveGasPrice"]
    # a legacy one when gasPrice is given
    price = 2 * w3.eth.get_block("latest")["baseFeePerGas"]
    tx_hash = w3.eth.send_transaction({"from": sender, "to": recipient, "value": 1, "gasPrice": price})
    receipt = wait_receipt(w3, tx_hash)
    assert receipt["type"] == 0 and receipt["effectiveGasPrice"] == price
    err = devnet.call("eth_sendTransaction", {"from": Account.create().address, "to": recipient, "gas": "0x5208"})["error"]
    assert err == {"code": -32000, "message": "unknown account"}


def test_eth_sign_and_personal_sign_recover(devnet):
    account = devnet.accounts[3]
    message = b"Kramaa signs this"
    for sig in (devnet.rpc("eth_sign", account, "0x" + message.hex()),
                devnet.rpc("personal_sign", "0x" + message.hex(), account)):
        assert len(hexbytes(sig)) == 65 and hexbytes(sig)[64] in (27, 28)
        recovered = Account.recover_message(encode_defunct(primitive=message), signature=sig)
        assert recovered.lower() == account.lower()
    # the signature is the one eth-account makes with the printed key
    local = Account.sign_message(encode_defunct(primitive=message), devnet.keys[3])
    assert devnet.rpc("eth_sign", account, "0x" + message.hex()) == local.signature.to_0x_hex()
    err = devnet.call("eth_sign", Account.create().address, "0x00")["error"]
    assert err["message"] == "unknown account"


# ---------------------------------------------------------------------------------------------
# Fees


def test_fee_methods(devnet, w3):
    latest = w3.eth.get_block("latest")
    gas_price = w3.eth.gas_price
    tip = w3.eth.max_priority_fee
    assert tip >= 0
    assert gas_price >= latest["baseFeePerGas"] // 2  # next base fee + tip; base fee moves at most 12.5%
    assert gas_price == int(devnet.rpc("eth_gasPrice"), 16)
    history = devnet.rpc("eth_feeHistory", "0x4", "latest", [10, 50, 90])
    head = w3.eth.block_number
    count = min(4, head + 1)
    assert qty(history["oldestBlock"]) == head - count + 1
    assert len(history["baseFeePerGas"]) == count + 1
    assert len(history["gasUsedRatio"]) == count
    assert len(history["reward"]) == count and all(len(row) == 3 for row in history["reward"])
    for i, ratio in enumerate(history["gasUsedRatio"]):
        block = w3.eth.get_block(head - count + 1 + i)
        assert qty(history["baseFeePerGas"][i]) == block["baseFeePerGas"]
        assert ratio == pytest.approx(block["gasUsed"] / block["gasLimit"])
        row = [qty(x) for x in history["reward"][i]]
        assert row == sorted(row)
    # web3's own parsing of the answer
    parsed = w3.eth.fee_history(2, "latest", [25, 75])
    assert len(parsed["baseFeePerGas"]) == 3 and len(parsed["reward"]) == 2
    no_percentiles = devnet.rpc("eth_feeHistory", "0x1", "latest")
    assert "reward" not in no_percentiles


def test_gas_price_suggestion_is_usable(node_factory):
    """eth_gasPrice is the tip plus the head's base fee (geth); a transaction priced with it
    passes eth_estimateGas and eth_sendTransaction even while the base fee is falling."""
    node = node_factory("devnet", ["--accounts", "2"], fresh=True)
    w3 = node.web3()
    # a block well under its gas target, paying no tip: the base fee falls, the suggested tip is 0
    base = w3.eth.get_block("latest")["baseFeePerGas"]
    send_signed(w3, node.keys[1], {"to": node.accounts[0], "value": 1, "gas": 21000,
                                   "maxFeePerGas": 2 * base, "maxPriorityFeePerGas": 0})
    assert w3.eth.max_priority_fee == 0
    head = w3.eth.get_block("latest")
    price = w3.eth.gas_price
    assert price >= head["baseFeePerGas"]
    call = {"from": node.accounts[1], "to": node.accounts[0], "value": 1, "gasPrice": price}
    assert w3.eth.estimate_gas(call) == 21000
    assert wait_receipt(w3, w3.eth.send_transaction(call))["status"] == 1


def test_eip1559_effective_price_and_tip_to_coinbase(devnet, w3):
    """The sender pays baseFee + tip (capped at maxFee); the coinbase receives only the tip."""
    key = devnet.keys[8]
    base = w3.eth.get_block("latest")["baseFeePerGas"]
    tx = {"to": Account.create().address, "value": 1, "gas": 21000, "maxFeePerGas": base + base // 100, "maxPriorityFeePerGas": base}
    _, receipt = send_signed(w3, key, tx)
    block = w3.eth.get_block(receipt["blockNumber"])
    assert receipt["effectiveGasPrice"] == min(tx["maxFeePerGas"], block["baseFeePerGas"] + tx["maxPriorityFeePerGas"])
    miner = block["miner"]
    n = receipt["blockNumber"]
    paid_tips = 0
    for r in devnet.rpc("eth_getBlockReceipts", hex(n)):
        paid_tips += qty(r["gasUsed"]) * (qty(r["effectiveGasPrice"]) - block["baseFeePerGas"])
    senders = {r["from"].lower() for r in devnet.rpc("eth_getBlockReceipts", hex(n))}
    if miner.lower() not in senders:
        assert w3.eth.get_balance(miner, n) - w3.eth.get_balance(miner, n - 1) == paid_tips


# ---------------------------------------------------------------------------------------------
# Calls: block tags, state overrides, gas estimates


@pytest.fixture(scope="module")
def token(devnet, w3):
    return deploy(w3, devnet.keys[9], "ERC20.vy", "Call Token", "CALL", 1000)


def test_call_block_tags(devnet, w3, token):
    holder = devnet.accounts[9]
    deployed_at = w3.eth.block_number
    other = Account.create().address
    receipt = transact(w3, devnet.keys[9], token.functions.transfer(other, 250))
    assert receipt["status"] == 1
    n = receipt["blockNumber"]
    assert token.functions.balanceOf(holder).call() == 750
    assert token.functions.balanceOf(holder).call(block_identifier=n - 1) == 1000
    assert token.functions.balanceOf(holder).call(block_identifier="latest") == 750
    assert token.functions.balanceOf(holder).call(block_identifier="pending") == 750
    assert token.functions.balanceOf(other).call(block_identifier=n) == 250
    assert token.functions.balanceOf(holder).call(block_identifier=w3.eth.get_block(n - 1)["hash"]) == 1000
    # before the contract existed there is no code: the call returns nothing
    data = token.encode_abi("balanceOf", [holder])
    assert devnet.rpc("eth_call", {"to": token.address, "data": data}, "earliest") == "0x"
    assert devnet.rpc("eth_getCode", token.address, hex(deployed_at)) != "0x"
    assert devnet.rpc("eth_getCode", token.address, "earliest") == "0x"
    err = devnet.call("eth_call", {"to": token.address, "data": data}, hex(w3.eth.block_number + 100))["error"]
    assert err["code"] == -32000 and err["message"] == "header not found"


def test_pending_calls_run_in_the_next_blocks_context(devnet, w3):
    """`pending` runs a call as the next block would (geth's pending block): on the latest
    state, with the next number and the time of now, so a deadline that has passed counts
    before any block is made; `latest` keeps the latest block's number and time."""
    probe = Account.create().address
    # NUMBER PUSH0 MSTORE TIMESTAMP PUSH1 32 MSTORE PUSH1 64 PUSH0 RETURN
    code = {probe: {"code": "0x435f524260205260405ff3"}}

    def run(tag):
        out = devnet.rpc("eth_call", {"to": probe, "data": "0x"}, tag, code)
        return int(out[2:66], 16), int(out[66:130], 16)

    head = w3.eth.get_block("latest")
    assert run("latest") == (head["number"], head["timestamp"])
    time.sleep(2.1)
    number, timestamp = run("pending")
    assert number == head["number"] + 1
    assert max(head["timestamp"], int(time.time()) - 2) <= timestamp <= int(time.time()) + 1
    # a call that reverts until a moment after the head's time: estimateGas at `pending` passes, at `latest` not
    # PUSH4 t TIMESTAMP GT PUSH1 13 JUMPI PUSH0 PUSH0 REVERT JUMPDEST STOP: succeeds once TIMESTAMP > t
    deadline = head["timestamp"] + 1
    gate = "0x63" + deadline.to_bytes(4, "big").hex() + "4211600d575f5ffd5b00"
    with pytest.raises(RPCError):
        devnet.rpc("eth_estimateGas", {"to": probe, "data": "0x"}, "latest", {probe: {"code": gate}})
    assert qty(devnet.rpc("eth_estimateGas", {"to": probe, "data": "0x"}, "pending", {probe: {"code": gate}})) >= 21_000


def test_call_state_overrides(devnet, w3, token):
    holder = devnet.accounts[9]
    nobody = Account.create().address
    data = token.encode_abi("balanceOf", [holder])
    balance_slot = mapping_slot(storage_layout("ERC20.vy")["balanceOf"], holder)
    stored = devnet.rpc("eth_getStorageAt", token.address, balance_slot)
    assert qty(stored) == token.functions.balanceOf(holder).call()
    diff = {token.address: {"stateDiff": {balance_slot: "0x" + (777).to_bytes(32, "big").hex()}}}
    assert qty(devnet.rpc("eth_call", {"to": token.address, "data": data}, "latest", diff)) == 777
    # the override did not touch the chain
    assert token.functions.balanceOf(holder).call() == qty(stored)
    # state (full replacement) empties every other slot: the name is gone
    state = {token.address: {"state": {balance_slot: "0x" + (5).to_bytes(32, "big").hex()}}}
    assert qty(devnet.rpc("eth_call", {"to": token.address, "data": data}, "latest", state)) == 5
    # balance override, seen by BALANCE through code override at an empty address:
    # code = SELFBALANCE PUSH0 MSTORE PUSH1 32 PUSH0 RETURN
    code = "0x475f5260205ff3"
    answer = devnet.rpc("eth_call", {"to": nobody, "data": "0x"}, "latest", {nobody: {"code": code, "balance": hex(4242)}})
    assert qty(answer) == 4242
    # code override that replaces the token: returns a constant 0x2a for any call
    constant = "0x602a5f5260205ff3"
    assert qty(devnet.rpc("eth_call", {"to": token.address, "data": data}, "latest", {token.address: {"code": constant}})) == 42
    # a value transfer from an account with no money works only with a balance override
    call = {"from": nobody, "to": holder, "value": hex(10**18)}
    err = devnet.call("eth_call", call)["error"]
    assert "insufficient funds" in err["message"]
    assert devnet.rpc("eth_call", call, "latest", {nobody: {"balance": hex(2 * 10**18)}}) == "0x"
    # web3.py passes overrides too
    assert token.functions.balanceOf(holder).call(state_override=diff) == 777


def test_estimate_gas_close_to_used(devnet, w3, token):
    other = Account.create().address
    fn = token.functions.transfer(other, 3)
    estimate = fn.estimate_gas({"from": devnet.accounts[9]})
    receipt = transact(w3, devnet.keys[9], fn, gas=estimate)
    assert receipt["status"] == 1
    assert receipt["gasUsed"] <= estimate <= receipt["gasUsed"] * 1.1 + 3000
    assert w3.eth.estimate_gas({"from": devnet.accounts[9], "to": other, "value": 1}) == 21000
    # contract creation
    from rpc_helpers import compile_vyper
    abi, bytecode = compile_vyper("ERC20.vy")
    create = w3.eth.contract(abi=abi, bytecode=bytecode).constructor("A", "B", 1).build_transaction(
        {"from": devnet.accounts[9], "gas": 5_000_000, **fee_fields(w3)})
    estimate = w3.eth.estimate_gas({"from": devnet.accounts[9], "data": create["data"]})
    _, receipt = send_signed(w3, devnet.keys[9], {"data": create["data"], "gas": estimate})
    assert receipt["status"] == 1 and receipt["contractAddress"]
    assert receipt["gasUsed"] <= estimate <= receipt["gasUsed"] * 1.1 + 3000


# ---------------------------------------------------------------------------------------------
# EIP-1186 proofs, verified with py-trie against the block's stateRoot


def verify_account_proof(proof, state_root):
    address = hexbytes(proof["address"])
    nodes = [rlp.decode(hexbytes(n)) for n in proof["accountProof"]]
    found = HexaryTrie.get_from_proof(state_root, keccak(address), nodes)
    if found == b"":
        return None
    nonce, balance, storage_root, code_hash = rlp.decode(found)
    assert big_endian_to_int(nonce) == qty(proof["nonce"])
    assert big_endian_to_int(balance) == qty(proof["balance"])
    assert storage_root == hexbytes(proof["storageHash"])
    assert code_hash == hexbytes(proof["codeHash"])
    return big_endian_to_int(nonce), big_endian_to_int(balance), storage_root, code_hash


def verify_storage_proof(entry, storage_root):
    slot = qty(entry["key"]).to_bytes(32, "big")
    nodes = [rlp.decode(hexbytes(n)) for n in entry["proof"]]
    found = HexaryTrie.get_from_proof(storage_root, keccak(slot), nodes)
    value = big_endian_to_int(rlp.decode(found)) if found else 0
    assert value == qty(entry["value"])
    return value


def test_get_proof(devnet, w3, token):
    holder = devnet.accounts[9]
    missing = Account.create().address
    layout = storage_layout("ERC20.vy")
    balance_slot = mapping_slot(layout["balanceOf"], holder)
    supply_slot = hex(layout["totalSupply"])
    absent_slot = "0x" + "ee" * 32

    eoa = devnet.rpc("eth_getProof", devnet.accounts[1], [], "latest")
    contract = devnet.rpc("eth_getProof", token.address, [balance_slot, supply_slot, absent_slot], "latest")
    nobody = devnet.rpc("eth_getProof", missing, ["0x0"], "latest")
    block = block_json(devnet, "latest")
    assert qty(block["number"]) == w3.eth.block_number  # no block came in between
    root = hexbytes(block["stateRoot"])

    nonce, balance, storage_root, code_hash = verify_account_proof(eoa, root)
    assert balance == w3.eth.get_balance(devnet.accounts[1]) and nonce == w3.eth.get_transaction_count(devnet.accounts[1])
    assert storage_root == EMPTY_TRIE_ROOT and code_hash == EMPTY_CODE_HASH

    nonce, balance, storage_root, code_hash = verify_account_proof(contract, root)
    assert code_hash == keccak(w3.eth.get_code(token.address))
    assert storage_root != EMPTY_TRIE_ROOT
    values = [verify_storage_proof(e, storage_root) for e in contract["storageProof"]]
    assert values[0] == token.functions.balanceOf(holder).call() > 0
    assert values[1] == token.functions.totalSupply().call()
    assert values[2] == 0  # a missing slot: the proof shows it absent

    assert verify_account_proof(nobody, root) is None  # a missing account: proven absent
    assert qty(nobody["balance"]) == 0 and qty(nobody["nonce"]) == 0
    assert hexbytes(nobody["codeHash"]) in (EMPTY_CODE_HASH, bytes(32))
    assert hexbytes(nobody["storageHash"]) in (EMPTY_TRIE_ROOT, bytes(32))
    assert qty(nobody["storageProof"][0]["value"]) == 0

    # a proof does not verify against another root
    with pytest.raises(Exception):
        verify_account_proof(contract, hexbytes(block_json(devnet, 0)["stateRoot"]))
    # web3.py's own parsing
    parsed = w3.eth.get_proof(token.address, [int(supply_slot, 16)], "latest")
    assert big_endian_to_int(parsed["storageProof"][0]["value"]) == token.functions.totalSupply().call()
