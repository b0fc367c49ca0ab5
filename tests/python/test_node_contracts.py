"""Contracts on the node through web3.py: ERC-20 and ERC-721 (Vyper, compiled during the test),
their events seen by eth_getLogs, filters and WebSocket subscriptions, revert reasons, and
the debug_trace* methods."""
import asyncio

import pytest
import rlp
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from web3 import AsyncWeb3, WebSocketProvider
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from rpc_helpers import ZERO_ADDRESS, deploy, hexbytes, qty, transact

RECEIVER = """# pragma version ~=0.4.3
event Received:
    operator: indexed(address)
    sender: indexed(address)
    token_id: uint256
    data: Bytes[1024]

@external
def onERC721Received(_operator: address, _from: address, _tokenId: uint256, _data: Bytes[1024]) -> bytes4:
    log Received(operator=_operator, sender=_from, token_id=_tokenId, data=_data)
    return 0x150b7a02
"""

TRANSFER_TOPIC = "0x" + keccak(b"Transfer(address,address,uint256)").hex()
APPROVAL_TOPIC = "0x" + keccak(b"Approval(address,address,uint256)").hex()
APPROVAL_FOR_ALL_TOPIC = "0x" + keccak(b"ApprovalForAll(address,address,bool)").hex()
ERROR_SELECTOR = "0x08c379a0"


@pytest.fixture(scope="module")
def w3(devnet):
    return devnet.web3()


def topic_address(address):
    return "0x" + "00" * 12 + address[2:].lower()


def topic_uint(n):
    return "0x" + n.to_bytes(32, "big").hex()


def strip_removed(log):
    return {k: v for k, v in log.items() if k != "removed"}


# ---------------------------------------------------------------------------------------------
# ERC-20: transfers and their events through every log API


def test_erc20_events_everywhere(devnet, w3):
    owner_key, spender_key = devnet.keys[1], devnet.keys[2]
    owner, spender = devnet.accounts[1], devnet.accounts[2]
    alice, bob = Account.create().address, Account.create().address
    start = w3.eth.block_number

    async def scenario():
        async with AsyncWeb3(WebSocketProvider(devnet.ws_url)) as aw3:
            heads_id = await aw3.eth.subscribe("newHeads")
            # filters and subscriptions installed before the contract exists, for the address
            # it will have (CREATE: keccak(rlp([sender, nonce]))[12:])
            nonce = w3.eth.get_transaction_count(owner, "pending")
            predicted = to_checksum_address(keccak(rlp.encode([hexbytes(owner), nonce]))[12:])
            transfer_filter = devnet.rpc("eth_newFilter", {"address": predicted, "topics": [TRANSFER_TOPIC]})
            block_filter = devnet.rpc("eth_newBlockFilter")
            logs_id = await aw3.eth.subscribe("logs", {"address": predicted, "topics": [TRANSFER_TOPIC]})

            def transactions():
                token = deploy(w3, owner_key, "ERC20.vy", "Kramaa Test", "KTT", 10**21)
                receipts = [
                    transact(w3, owner_key, token.functions.transfer(alice, 1000)),
                    transact(w3, owner_key, token.functions.approve(spender, 500)),
                    transact(w3, spender_key, token.functions.transferFrom(owner, bob, 300)),
                ]
                return token, receipts

            token, receipts = await asyncio.to_thread(transactions)
            assert token.address == predicted
            assert all(r["status"] == 1 for r in receipts)
            end = receipts[-1]["blockNumber"]
            heads, logs = [], []

            async def collect():
                async for message in aw3.socket.process_subscriptions():
                    if message["subscription"] == heads_id:
                        heads.append(message["result"])
                    elif message["subscription"] == logs_id:
                        logs.append(message["result"])
                    if heads and heads[-1]["number"] >= end and len(logs) >= 3:
                        return

            await asyncio.wait_for(collect(), timeout=10)
            assert await aw3.eth.unsubscribe(heads_id) is True
            assert await aw3.eth.unsubscribe(logs_id) is True
            return token, receipts, transfer_filter, block_filter, heads, logs

    token, receipts, transfer_filter, block_filter, heads, ws_logs = asyncio.run(scenario())
    deployed_block = receipts[0]["blockNumber"] - 1
    end = receipts[-1]["blockNumber"]

    # the events as web3 decodes them from receipts
    (t1,) = token.events.Transfer().process_receipt(receipts[0])
    assert (t1.args.sender, t1.args.receiver, t1.args.value) == (owner, alice, 1000)
    (a1,) = token.events.Approval().process_receipt(receipts[1])
    assert (a1.args.owner, a1.args.spender, a1.args.value) == (owner, spender, 500)
    (t2,) = token.events.Transfer().process_receipt(receipts[2])
    assert (t2.args.sender, t2.args.receiver, t2.args.value) == (owner, bob, 300)
    assert token.functions.balanceOf(alice).call() == 1000
    assert token.functions.balanceOf(bob).call() == 300
    assert token.functions.allowance(owner, spender).call() == 200
    assert token.functions.balanceOf(owner).call() == 10**21 - 1300

    # eth_getLogs: by address over the range (mint, 2 transfers, approval), by topics, by block hash
    by_address = devnet.rpc("eth_getLogs", {"fromBlock": hex(start), "toBlock": "latest", "address": token.address})
    assert [l["topics"][0] for l in by_address] == [TRANSFER_TOPIC, TRANSFER_TOPIC, APPROVAL_TOPIC, TRANSFER_TOPIC]
    mint = by_address[0]
    assert mint["topics"][1] == topic_address(ZERO_ADDRESS) and mint["topics"][2] == topic_address(owner)
    assert qty(mint["blockNumber"]) == deployed_block
    for log in by_address:  # each log is the one in its receipt
        receipt_logs = devnet.rpc("eth_getTransactionReceipt", log["transactionHash"])["logs"]
        assert strip_removed(log) in [strip_removed(l) for l in receipt_logs]
    to_bob = devnet.rpc("eth_getLogs", {"fromBlock": hex(start), "address": [token.address],
                                        "topics": [TRANSFER_TOPIC, None, topic_address(bob)]})
    assert len(to_bob) == 1 and qty(to_bob[0]["data"]) == 300
    either = devnet.rpc("eth_getLogs", {"fromBlock": hex(start), "address": token.address,
                                        "topics": [[TRANSFER_TOPIC, APPROVAL_TOPIC], topic_address(owner)]})
    assert len(either) == 3  # the mint's sender is the zero address
    at_hash = devnet.rpc("eth_getLogs", {"blockHash": receipts[1]["blockHash"].to_0x_hex()})
    assert [l["topics"][0] for l in at_hash if l["address"].lower() == token.address.lower()] == [APPROVAL_TOPIC]
    web3_logs = token.events.Transfer.get_logs(from_block=start)
    assert [(e.args.receiver, e.args.value) for e in web3_logs] == [(owner, 10**21), (alice, 1000), (bob, 300)]

    # the filter saw the three transfers since it was installed, once
    ours = devnet.rpc("eth_getFilterChanges", transfer_filter)
    assert all(l["address"].lower() == token.address.lower() for l in ours)
    assert [qty(l["data"]) for l in ours] == [10**21, 1000, 300]
    assert devnet.rpc("eth_getFilterChanges", transfer_filter) == []
    filter_logs = devnet.rpc("eth_getFilterLogs", transfer_filter)
    # eth_getFilterLogs runs the filter's criteria over stored blocks: without fromBlock that is
    # the latest block only (as in geth); with a range, every matching log in it
    assert [strip_removed(l) for l in filter_logs] == [strip_removed(l) for l in ours if qty(l["blockNumber"]) == end]
    ranged = devnet.rpc("eth_newFilter", {"fromBlock": hex(start), "topics": [TRANSFER_TOPIC]})
    ranged_logs = devnet.rpc("eth_getFilterLogs", ranged)
    assert [strip_removed(l) for l in ranged_logs if l["address"].lower() == token.address.lower()] == [strip_removed(l) for l in ours]
    assert devnet.rpc("eth_getFilterChanges", ranged) == []  # nothing new since it was installed
    devnet.rpc("eth_uninstallFilter", ranged)
    blocks = devnet.rpc("eth_getFilterChanges", block_filter)
    assert blocks[-len(receipts) - 1:] == [w3.eth.get_block(n)["hash"].to_0x_hex() for n in range(deployed_block, end + 1)]
    assert devnet.rpc("eth_uninstallFilter", transfer_filter) is True
    assert devnet.rpc("eth_uninstallFilter", transfer_filter) is False
    err = devnet.call("eth_getFilterChanges", transfer_filter)["error"]
    assert err["code"] == -32000 and err["message"] == "filter not found"
    devnet.rpc("eth_uninstallFilter", block_filter)

    # the WebSocket subscriptions saw the same
    ws_ours = ws_logs
    assert all(l["address"] == token.address for l in ws_ours)
    assert [int.from_bytes(l["data"], "big") for l in ws_ours] == [10**21, 1000, 300]
    assert [l["transactionHash"].to_0x_hex() for l in ws_ours] == [l["transactionHash"] for l in by_address if l["topics"][0] == TRANSFER_TOPIC]
    head_numbers = [h["number"] for h in heads]
    assert head_numbers == sorted(head_numbers)
    assert set(range(deployed_block, end + 1)) <= set(head_numbers)
    for h in heads:
        assert h["hash"] == w3.eth.get_block(h["number"])["hash"]


# ---------------------------------------------------------------------------------------------
# ERC-721


@pytest.fixture(scope="module")
def nft(devnet, w3):
    return deploy(w3, devnet.keys[3], "ERC721.vy", "Kramaa Assets", "KAS", "https://assets.example/")


def test_erc721(devnet, w3, nft):
    minter_key, minter = devnet.keys[3], devnet.accounts[3]
    approved_key, approved = devnet.keys[4], devnet.accounts[4]
    operator_key, operator = devnet.keys[5], devnet.accounts[5]
    carol = Account.create().address
    receiver = deploy(w3, devnet.keys[6], RECEIVER)
    start = w3.eth.block_number

    assert nft.functions.supportsInterface("0x80ac58cd").call() is True
    assert nft.functions.supportsInterface("0x01ffc9a7").call() is True
    assert nft.functions.supportsInterface("0x5b5e139f").call() is True
    assert nft.functions.supportsInterface("0xffffffff").call() is False
    assert nft.functions.name().call() == "Kramaa Assets" and nft.functions.symbol().call() == "KAS"

    for token_id in (1, 2, 3):
        r = transact(w3, minter_key, nft.functions.mint(minter, token_id))
        assert r["status"] == 1
        (ev,) = nft.events.Transfer().process_receipt(r)
        assert (ev.args.sender, ev.args.receiver, ev.args.token_id) == (ZERO_ADDRESS, minter, token_id)
    assert nft.functions.balanceOf(minter).call() == 3
    assert nft.functions.ownerOf(2).call() == minter
    assert nft.functions.tokenURI(2).call() == "https://assets.example/2"
    assert nft.functions.totalSupply().call() == 3

    # approve one token, the approved account moves it
    r = transact(w3, minter_key, nft.functions.approve(approved, 1))
    (ev,) = nft.events.Approval().process_receipt(r)
    assert (ev.args.owner, ev.args.approved, ev.args.token_id) == (minter, approved, 1)
    assert nft.functions.getApproved(1).call() == approved
    r = transact(w3, approved_key, nft.functions.transferFrom(minter, carol, 1))
    assert r["status"] == 1
    assert nft.functions.ownerOf(1).call() == carol
    assert nft.functions.getApproved(1).call() == ZERO_ADDRESS  # cleared by the transfer

    # an operator for all of the minter's tokens
    r = transact(w3, minter_key, nft.functions.setApprovalForAll(operator, True))
    (ev,) = nft.events.ApprovalForAll().process_receipt(r)
    assert (ev.args.owner, ev.args.operator, ev.args.approved) == (minter, operator, True)
    assert nft.functions.isApprovedForAll(minter, operator).call() is True

    # safe transfer to a receiving contract: onERC721Received is called with the data
    r = transact(w3, operator_key, nft.functions.safeTransferFrom(minter, receiver.address, 2, b"hello"))
    assert r["status"] == 1
    (got,) = receiver.events.Received().process_receipt(r, errors=DISCARD)
    assert (got.args.operator, got.args.sender, got.args.token_id, got.args.data) == (operator, minter, 2, b"hello")
    assert nft.functions.ownerOf(2).call() == receiver.address
    # safe transfer to an EOA needs no receiver
    r = transact(w3, operator_key, nft.functions.safeTransferFrom(minter, carol, 3))
    assert r["status"] == 1 and nft.functions.balanceOf(carol).call() == 2

    # safe transfer to a contract without onERC721Received fails, and the token stays
    token = deploy(w3, minter_key, "ERC20.vy", "Not a receiver", "NR", 1)
    transact(w3, minter_key, nft.functions.mint(minter, 4))
    fn = nft.functions.safeTransferFrom(minter, token.address, 4)
    with pytest.raises(ContractLogicError):
        fn.call({"from": minter})
    r = transact(w3, minter_key, fn, gas=200_000)
    assert r["status"] == 0 and r["logs"] == []
    assert nft.functions.ownerOf(4).call() == minter

    # the reasons of Vyper asserts reach web3.py
    with pytest.raises(ContractLogicError, match="ERC721: only the minter may mint"):
        nft.functions.mint(carol, 9).call({"from": approved})
    with pytest.raises(ContractLogicError, match="ERC721: token does not exist"):
        nft.functions.ownerOf(99).call()
    with pytest.raises(ContractLogicError, match="ERC721: caller is not owner nor approved"):
        nft.functions.transferFrom(carol, minter, 1).call({"from": minter})

    # logs: all transfers of token 2 by indexed token id
    logs = devnet.rpc("eth_getLogs", {"fromBlock": hex(start), "address": nft.address,
                                      "topics": [TRANSFER_TOPIC, None, None, topic_uint(2)]})
    assert [(l["topics"][1], l["topics"][2]) for l in logs] == [
        (topic_address(ZERO_ADDRESS), topic_address(minter)), (topic_address(minter), topic_address(receiver.address))]
    kinds = devnet.rpc("eth_getLogs", {"fromBlock": hex(start), "address": nft.address,
                                       "topics": [[APPROVAL_TOPIC, APPROVAL_FOR_ALL_TOPIC]]})
    assert [l["topics"][0] for l in kinds] == [APPROVAL_TOPIC, APPROVAL_FOR_ALL_TOPIC]
    assert qty(kinds[1]["data"]) == 1  # approved = true, not indexed


# ---------------------------------------------------------------------------------------------
# Reverts


@pytest.fixture(scope="module")
def erc20(devnet, w3):
    return deploy(w3, devnet.keys[7], "ERC20.vy", "Revert Token", "REV", 100)


def test_revert_reason_in_call_and_estimate(devnet, w3, erc20):
    poor = devnet.accounts[8]
    fn = erc20.functions.transfer(devnet.accounts[7], 5)
    with pytest.raises(ContractLogicError) as info:
        fn.call({"from": poor})
    assert info.value.message == "execution reverted: ERC20: insufficient balance"
    assert info.value.data.startswith(ERROR_SELECTOR)
    with pytest.raises(ContractLogicError) as info:
        fn.estimate_gas({"from": poor})
    assert info.value.message == "execution reverted: ERC20: insufficient balance"
    # the raw answer is geth's: code 3, the message, the revert data
    data = erc20.encode_abi("transfer", [devnet.accounts[7], 5])
    for method in ("eth_call", "eth_estimateGas"):
        err = devnet.call(method, {"from": poor, "to": erc20.address, "data": data})["error"]
        assert err["code"] == 3 and err["message"] == "execution reverted: ERC20: insufficient balance", (method, err)
        reason = hexbytes(err["data"])
        assert reason[:4] == hexbytes(ERROR_SELECTOR) and b"ERC20: insufficient balance" in reason
    # the minter check
    with pytest.raises(ContractLogicError, match="ERC20: only the minter may mint"):
        erc20.functions.mint(poor, 1).call({"from": poor})


def test_mined_revert(devnet, w3, erc20):
    poor_key, poor = devnet.keys[8], devnet.accounts[8]
    before = w3.eth.get_balance(poor)
    fn = erc20.functions.transfer(devnet.accounts[7], 5)
    receipt = transact(w3, poor_key, fn, gas=100_000)
    assert receipt["status"] == 0
    assert receipt["logs"] == [] and receipt["logsBloom"] == b"\0" * 256
    assert 21000 < receipt["gasUsed"] < 100_000
    assert w3.eth.get_balance(poor) == before - receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert erc20.functions.balanceOf(devnet.accounts[7]).call() == 100
    # the failed transaction is in its block like any other
    block = w3.eth.get_block(receipt["blockNumber"])
    assert receipt["transactionHash"] in block["transactions"]


# ---------------------------------------------------------------------------------------------
# Tracing (debug_traceTransaction / debug_traceCall): run once the methods exist


@pytest.fixture(scope="module")
def traced(devnet, w3, erc20):
    """A successful transfer and a reverted one."""
    ok = transact(w3, devnet.keys[7], erc20.functions.transfer(devnet.accounts[6], 1))
    failed = transact(w3, devnet.keys[8], erc20.functions.transfer(devnet.accounts[7], 5), gas=100_000)
    assert ok["status"] == 1 and failed["status"] == 0
    return ok, failed


def test_trace_transaction_struct_logger(devnet, traced):
    ok, failed = traced
    trace = devnet.rpc("debug_traceTransaction", ok["transactionHash"].to_0x_hex())
    assert trace["failed"] is False
    assert trace["gas"] == ok["gasUsed"]
    assert isinstance(trace["returnValue"], str)
    assert qty("0x" + trace["returnValue"].removeprefix("0x")) == 1  # transfer returns true
    logs = trace["structLogs"]
    assert logs and logs[0]["pc"] == 0 and logs[0]["depth"] == 1
    for entry in logs:
        for field in ("pc", "op", "gas", "gasCost", "depth", "stack"):
            assert field in entry, (field, entry)
    ops = [e["op"] for e in logs]
    assert "SSTORE" in ops and "LOG3" in ops and ops[-1] == "RETURN"
    assert all(a["gas"] >= b["gas"] for a, b in zip(logs, logs[1:]) if a["depth"] == b["depth"] == 1)
    bad = devnet.rpc("debug_traceTransaction", failed["transactionHash"].to_0x_hex())
    assert bad["failed"] is True and bad["structLogs"][-1]["op"] == "REVERT"
    assert bad["gas"] == failed["gasUsed"]
    # options: no stack, memory enabled
    slim = devnet.rpc("debug_traceTransaction", ok["transactionHash"].to_0x_hex(), {"disableStack": True, "enableMemory": True})
    assert all("stack" not in e for e in slim["structLogs"])
    assert any("memory" in e for e in slim["structLogs"])
    err = devnet.call("debug_traceTransaction", "0x" + "00" * 32)["error"]
    assert err["code"] == -32000 and "not found" in err["message"]


def test_trace_transaction_call_tracer(devnet, w3, nft, traced):
    ok, failed = traced
    trace = devnet.rpc("debug_traceTransaction", ok["transactionHash"].to_0x_hex(), {"tracer": "callTracer"})
    assert trace["type"] == "CALL"
    assert trace["from"].lower() == devnet.accounts[7].lower()
    assert trace["to"].lower() == ok["to"].lower()
    assert qty(trace["gasUsed"]) == ok["gasUsed"]
    assert trace["input"] == w3.eth.get_transaction(ok["transactionHash"])["input"].to_0x_hex()
    assert qty(trace["output"]) == 1
    assert "error" not in trace
    bad = devnet.rpc("debug_traceTransaction", failed["transactionHash"].to_0x_hex(), {"tracer": "callTracer"})
    assert bad["error"] == "execution reverted"
    assert bad["revertReason"] == "ERC20: insufficient balance"
    # nested calls: a safe transfer into a receiving contract
    receiver = deploy(w3, devnet.keys[6], RECEIVER)
    transact(w3, devnet.keys[3], nft.functions.mint(devnet.accounts[3], 100))
    r = transact(w3, devnet.keys[3], nft.functions.safeTransferFrom(devnet.accounts[3], receiver.address, 100))
    tree = devnet.rpc("debug_traceTransaction", r["transactionHash"].to_0x_hex(), {"tracer": "callTracer"})
    assert tree["to"].lower() == nft.address.lower()
    (inner,) = tree["calls"]
    assert inner["type"] == "CALL" and inner["to"].lower() == receiver.address.lower()
    assert inner["input"].startswith("0x150b7a02")
    assert qty(inner["output"][:10]) == 0x150b7a02
    with_logs = devnet.rpc("debug_traceTransaction", r["transactionHash"].to_0x_hex(),
                           {"tracer": "callTracer", "tracerConfig": {"withLog": True}})
    assert with_logs["calls"][0]["logs"][0]["address"].lower() == receiver.address.lower()
    top = devnet.rpc("debug_traceTransaction", r["transactionHash"].to_0x_hex(),
                     {"tracer": "callTracer", "tracerConfig": {"onlyTopCall": True}})
    assert "calls" not in top or top["calls"] == []


def test_trace_call(devnet, w3, erc20):
    data = erc20.encode_abi("balanceOf", [devnet.accounts[7]])
    call = {"from": devnet.accounts[7], "to": erc20.address, "data": data}
    expected = devnet.rpc("eth_call", call, "latest")
    plain = devnet.rpc("debug_traceCall", call, "latest")
    assert plain["failed"] is False and plain["structLogs"]
    assert qty("0x" + plain["returnValue"].removeprefix("0x")) == qty(expected)
    tree = devnet.rpc("debug_traceCall", call, "latest", {"tracer": "callTracer"})
    assert tree["type"] == "CALL" and tree["output"] == expected
    assert tree["to"].lower() == erc20.address.lower()
    reverted = devnet.rpc("debug_traceCall", {"from": devnet.accounts[8], "to": erc20.address,
                                              "data": erc20.encode_abi("transfer", [devnet.accounts[7], 5])},
                          "latest", {"tracer": "callTracer"})
    assert reverted["error"] == "execution reverted" and reverted["revertReason"] == "ERC20: insufficient balance"
