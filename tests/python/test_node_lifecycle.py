"""The node across stops: a clean restart (SIGTERM) and a crash (SIGKILL) keep the chain, the
state, receipts and logs; and a permissioned chain from `kramaa init` + `kramaa node` with the
zero-fee policy and an allow-list."""
import json
import urllib.request
import signal

import pytest
from eth_account import Account

from rpc_helpers import deploy, mapping_slot, send_signed, storage_layout, transact, wait_receipt


def snapshot(node, w3, addresses, token):
    """Everything a restart must keep, as the node answers it."""
    head = node.rpc("eth_getBlockByNumber", "latest", True)
    n = int(head["number"], 16)
    balance_slot = mapping_slot(storage_layout("ERC20.vy")["balanceOf"], addresses[0])
    return {
        "head": head,
        "blocks": [node.rpc("eth_getBlockByNumber", hex(i), True) for i in range(n + 1)],
        "receipts": [node.rpc("eth_getBlockReceipts", hex(i)) for i in range(n + 1)],
        "balances": {a: node.rpc("eth_getBalance", a, "latest") for a in addresses},
        "nonces": {a: node.rpc("eth_getTransactionCount", a, "latest") for a in addresses},
        "code": node.rpc("eth_getCode", token.address, "latest"),
        "storage": node.rpc("eth_getStorageAt", token.address, balance_slot, "latest"),
        "token_balance": token.functions.balanceOf(addresses[0]).call(),
        "logs": node.rpc("eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest", "address": token.address}),
        "proof": node.rpc("eth_getProof", token.address, [balance_slot], "latest"),
    }


def activity(node, w3):
    """A token with transfers and some value transfers; returns (token, recipients)."""
    keys = node.keys
    token = deploy(w3, keys[0], "ERC20.vy", "Persist", "PST", 10**6)
    recipients = [Account.create().address for _ in range(3)]
    for i, r in enumerate(recipients):
        assert transact(w3, keys[0], token.functions.transfer(r, 100 + i))["status"] == 1
        send_signed(w3, keys[1 + i % 3], {"to": r, "value": 10**15 + i, "gas": 21000})
    return token, recipients


def test_restart_keeps_everything(node_factory):
    node = node_factory("devnet", ["--accounts", "4"], fresh=True)
    w3 = node.web3()
    token, recipients = activity(node, w3)
    addresses = [node.accounts[0], *recipients, node.accounts[1]]
    before = snapshot(node, w3, addresses, token)
    assert before["logs"] and len(before["blocks"]) > 5

    node.restart(port=node.port)  # SIGTERM (exit code 0 asserted), then the same data directory
    assert "continuing the devnet" in node.stdout()
    w3 = node.web3()
    token = w3.eth.contract(address=token.address, abi=token.abi)
    after = snapshot(node, w3, addresses, token)
    assert after == before
    for block in before["blocks"]:
        for tx in block["transactions"]:
            assert node.rpc("eth_getTransactionByHash", tx["hash"]) == tx
            assert node.rpc("eth_getTransactionReceipt", tx["hash"]) is not None

    # the chain goes on from where it stopped
    _, receipt = send_signed(w3, node.keys[0], {"to": recipients[0], "value": 1, "gas": 21000})
    assert receipt["blockNumber"] == int(before["head"]["number"], 16) + 1
    assert w3.eth.get_block(receipt["blockNumber"])["parentHash"].to_0x_hex() == before["head"]["hash"]
    assert int(node.rpc("eth_getTransactionCount", node.accounts[0], "latest"), 16) == int(before["nonces"][node.accounts[0]], 16) + 1
    # --fresh starts over
    node.restart(fresh=True)
    assert node.rpc("eth_blockNumber") == "0x0"
    assert node.rpc("eth_getCode", token.address, "latest") == "0x"


def test_sigkill_loses_nothing_receipted(node_factory):
    node = node_factory("devnet", ["--accounts", "6"], fresh=True)
    w3 = node.web3()
    token = deploy(w3, node.keys[0], "ERC20.vy", "Crash", "CR", 10**6)
    hashes = []
    for round_ in range(4):
        for i, key in enumerate(node.keys[1:]):
            tx_hash, _ = send_signed(w3, key, {"to": Account.create().address, "value": round_ * 10 + i, "gas": 21000}, wait=False)
            hashes.append(tx_hash)
        hashes.append(send_signed(w3, node.keys[0], token.functions.transfer(Account.create().address, 5).build_transaction(
            {"from": node.accounts[0], "nonce": w3.eth.get_transaction_count(node.accounts[0], "pending"), "gas": 100_000,
             "maxFeePerGas": 10 * 10**9, "maxPriorityFeePerGas": 10**9}), wait=False)[0])
    receipts = {h: dict(wait_receipt(w3, h)) for h in hashes}
    assert all(r["status"] == 1 for r in receipts.values())
    raw_receipts = {h.to_0x_hex(): node.rpc("eth_getTransactionReceipt", h.to_0x_hex()) for h in hashes}
    head = node.rpc("eth_getBlockByNumber", "latest", False)
    balances = {a: node.rpc("eth_getBalance", a, "latest") for a in node.accounts}

    code = node.kill()
    assert code == -signal.SIGKILL
    node.start()  # same data directory, no --fresh
    assert node.rpc("eth_getBlockByNumber", "latest", False) == head
    assert node.rpc("eth_getBlockByNumber", head["number"], False)["stateRoot"] == head["stateRoot"]
    for h, receipt in raw_receipts.items():
        assert node.rpc("eth_getTransactionReceipt", h) == receipt
        assert node.rpc("eth_getTransactionByHash", h)["blockHash"] == receipt["blockHash"]
    assert {a: node.rpc("eth_getBalance", a, "latest") for a in node.accounts} == balances
    # and it still makes blocks on top
    w3 = node.web3()
    _, receipt = send_signed(w3, node.keys[1], {"to": node.accounts[2], "value": 1, "gas": 21000})
    assert w3.eth.get_block(receipt["blockNumber"])["parentHash"].to_0x_hex() == head["hash"]


def test_restart_keeps_recent_state_history(node_factory):
    """The node serves the state of its 128 most recent blocks (eth_getBalance, eth_call, ... at
    a block number); a clean restart should not make the blocks before it unreadable."""
    node = node_factory("devnet", ["--accounts", "2"], fresh=True)
    w3 = node.web3()
    recipient = Account.create().address
    _, first = send_signed(w3, node.keys[1], {"to": recipient, "value": 1, "gas": 21000})
    _, second = send_signed(w3, node.keys[1], {"to": recipient, "value": 2, "gas": 21000})
    n = first["blockNumber"]
    assert w3.eth.get_balance(recipient, n) == 1 and w3.eth.get_balance(recipient, 0) == 0
    node.restart(port=node.port)
    assert node.rpc("eth_getBalance", recipient, hex(n)) == hex(1)
    assert node.rpc("eth_getBalance", recipient, "0x0") == hex(0)


# ---------------------------------------------------------------------------------------------
# kramaa init + kramaa node: zero fees and an allow-list


def test_permissioned_zero_fee_chain(node_factory, kramaa, tmp_path):
    validator, allowed, outsider = Account.create(), Account.create(), Account.create()
    genesis = {
        "config": {"chainId": 4242, "kramaa": {
            "blockPeriodSeconds": 0, "emptyBlocks": False, "validators": [validator.address],
            "feePolicy": "zero", "allowList": [validator.address, allowed.address]}},
        "gasLimit": hex(30_000_000),
        "alloc": {a.address: {"balance": hex(10**18)} for a in (validator, allowed, outsider)},
    }
    genesis_file = tmp_path / "genesis.json"
    genesis_file.write_text(json.dumps(genesis))
    datadir = tmp_path / "permissioned"
    out = kramaa("init", "--genesis", str(genesis_file), "--datadir", str(datadir))
    assert "4242" in out.stdout
    node = node_factory("node", name="permissioned", start=False)
    node.datadir = datadir
    node.start()
    w3 = node.web3()
    assert w3.eth.chain_id == 4242
    assert w3.eth.get_block("latest")["baseFeePerGas"] == 0
    assert w3.eth.gas_price == 0 and w3.eth.max_priority_fee == 0
    assert w3.eth.accounts == []

    # an allowed sender's zero-price transactions are included, legacy and EIP-1559
    recipient = Account.create().address
    _, r1 = send_signed(w3, allowed.key, {"to": recipient, "value": 7, "gas": 21000, "gasPrice": 0})
    _, r2 = send_signed(w3, allowed.key, {"to": recipient, "value": 8, "gas": 21000, "maxFeePerGas": 0, "maxPriorityFeePerGas": 0})
    for r in (r1, r2):
        assert r["status"] == 1 and r["effectiveGasPrice"] == 0
    assert w3.eth.get_balance(allowed.address) == 10**18 - 15
    assert w3.eth.get_balance(recipient) == 15
    token = deploy(w3, validator.key, "ERC20.vy", "Permissioned", "PRM", 1000)
    assert token.functions.totalSupply().call() == 1000

    # a sender not on the list is refused, funded or not; so is its contract creation
    recipient_before = w3.eth.get_balance(recipient)
    raw = Account.sign_transaction({"to": recipient, "value": 1, "gas": 21000, "gasPrice": 0, "nonce": 0, "chainId": 4242},
                                   outsider.key).raw_transaction
    err = node.call("eth_sendRawTransaction", "0x" + raw.hex())["error"]
    assert err["code"] == -32000
    assert err["message"] == f"sender not allowed: {outsider.address} is not on the chain's senders list (docs/PERMISSIONING.md)"
    stranger = Account.create()
    raw = Account.sign_transaction({"data": "0x00", "value": 0, "gas": 100_000, "gasPrice": 0, "nonce": 0, "chainId": 4242},
                                   stranger.key).raw_transaction
    err = node.call("eth_sendRawTransaction", "0x" + raw.hex())["error"]
    assert err["message"].startswith("sender not allowed")
    assert w3.eth.get_balance(recipient) == recipient_before
    assert w3.eth.get_transaction_count(outsider.address, "pending") == 0
    # the refusal did not stop the node: the allowed sender goes on
    _, r3 = send_signed(w3, allowed.key, {"to": recipient, "value": 1, "gas": 21000, "gasPrice": 0})
    assert r3["status"] == 1
    # signing with held keys needs a token on a real node, and a real node holds no dev accounts
    err = node.call("eth_sendTransaction", {"from": allowed.address, "to": recipient, "gas": "0x5208"})["error"]
    assert err["code"] == -32401, err
    token = kramaa("token", "create", "--datadir", str(datadir), "--account", allowed.address, "--roles", "sign").stdout.split()[-1]
    answer = json.loads(urllib.request.urlopen(urllib.request.Request(
        node.url, data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_sendTransaction",
                                   "params": [{"from": allowed.address, "to": recipient, "gas": "0x5208"}]}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})).read())
    assert answer["error"]["message"] == "unknown account", answer
