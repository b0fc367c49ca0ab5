"""Bad input to the node's JSON-RPC server: malformed JSON, wrong parameters, unknown methods,
oversized requests and batches, and transactions the pool must refuse. Each answer is the
JSON-RPC error geth gives (codes and messages), and the node keeps serving afterwards."""
import json

import pytest
import rlp
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction

from rpc_helpers import fee_fields, send_signed, wait_receipt

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.fixture(scope="module")
def w3(devnet):
    return devnet.web3()


@pytest.fixture
def serving(devnet):
    """After the test, the node still answers a plain call."""
    yield
    assert int(devnet.rpc("eth_blockNumber"), 16) >= 0
    assert devnet.rpc("eth_chainId") == hex(1337)


def error_of(devnet, method, *params):
    answer = devnet.call(method, *params)
    assert "error" in answer, f"{method} {params}: expected an error, got {answer}"
    assert answer["id"] == 1
    return answer["error"]


def send_raw_error(devnet, raw):
    return error_of(devnet, "eth_sendRawTransaction", "0x" + bytes(raw).hex())


# ---------------------------------------------------------------------------------------------
# The request layer


def test_malformed_json(devnet, serving):
    for body in (b'{"jsonrpc":"2.0","id":1,', b"{not json}", b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"} trailing'):
        status, answer = devnet.post(body)
        assert status == 200
        assert answer["error"]["code"] == -32700, (body, answer)
        assert answer["id"] is None


def test_invalid_requests(devnet, serving):
    status, answer = devnet.post({"jsonrpc": "2.0", "id": 7, "params": []})  # no method
    assert answer["error"]["code"] == -32600 and answer["id"] == 7
    status, answer = devnet.post([])
    assert answer["error"] == {"code": -32600, "message": "empty batch"}
    status, answer = devnet.post([1, {"jsonrpc": "2.0", "id": 2, "method": "eth_chainId"}])
    assert answer[0]["error"]["code"] == -32600 and answer[1]["result"] == hex(1337)
    status, answer = devnet.post(b"{}", content_type="text/plain")
    assert status == 415


def test_unknown_method(devnet, serving):
    err = error_of(devnet, "eth_noSuchMethod")
    assert err == {"code": -32601, "message": "the method eth_noSuchMethod does not exist/is not available"}
    # subscriptions need a connection that can carry notifications
    err = error_of(devnet, "eth_subscribe", "newHeads")
    assert err == {"code": -32601, "message": "notifications not supported"}


GETH_PARAM_ERRORS = [
    # (method, params, geth's message)
    ("eth_getBalance", [123], "invalid argument 0: json: cannot unmarshal non-string into Go value of type common.Address"),
    ("eth_getBalance", ["0x12"], "invalid argument 0: hex string has length 2, want 40 for common.Address"),
    ("eth_getBalance", [], "missing value for required argument 0"),
    ("eth_getBalance", ["0x" + "11" * 20, "latest", 1], "too many arguments, want at most 2"),
    ("eth_getTransactionCount", ["0x" + "11" * 20, "bogus"], "invalid argument 1: hex string without 0x prefix"),
    ("eth_getBlockByNumber", ["latest", "yes"], "invalid argument 1: json: cannot unmarshal string into Go value of type bool"),
    ("eth_getBlockByNumber", ["0x01", False], "invalid argument 0: hex number with leading zero digits"),
    ("eth_getBlockByHash", ["0x1234", False], "invalid argument 0: hex string has length 4, want 64 for common.Hash"),
    ("eth_sendRawTransaction", [42], "invalid argument 0: json: cannot unmarshal non-string into Go value of type hexutil.Bytes"),
    ("eth_call", ["0x00"], "invalid argument 0: json: cannot unmarshal string into Go value of type ethapi.TransactionArgs"),
]


@pytest.mark.parametrize("method,params,message", GETH_PARAM_ERRORS, ids=[f"{m}-{i}" for i, (m, _, _) in enumerate(GETH_PARAM_ERRORS)])
def test_wrong_parameters(devnet, serving, method, params, message):
    assert error_of(devnet, method, *params) == {"code": -32602, "message": message}


GETH_WRAPPED_HEX_ERRORS = [
    # hexutil wraps its own decoding errors in json.UnmarshalTypeError, naming the Go type
    ("eth_getBalance", ["11" * 20],
     "invalid argument 0: json: cannot unmarshal hex string without 0x prefix into Go value of type common.Address"),
    ("eth_sendRawTransaction", ["0xzz"],
     "invalid argument 0: json: cannot unmarshal invalid hex string into Go value of type hexutil.Bytes"),
    ("eth_getTransactionByBlockNumberAndIndex", ["0x0", "5"],
     "invalid argument 1: json: cannot unmarshal hex string without 0x prefix into Go value of type hexutil.Uint"),
    # geth checks the length before the digits: `0xzz` is 2 hex characters, not 64
    ("eth_getBlockByHash", ["0xzz", False], "invalid argument 0: hex string has length 2, want 64 for common.Hash"),
]


@pytest.mark.parametrize("method,params,message", GETH_WRAPPED_HEX_ERRORS, ids=["address-without-0x", "bytes-bad-hex", "uint-without-0x", "hash-length-first"])
def test_wrong_parameters_wrapped_hex(devnet, serving, method, params, message):
    assert error_of(devnet, method, *params) == {"code": -32602, "message": message}


def test_oversized_request(devnet, serving):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_call",
                       "params": [{"data": "0x" + "00" * (3 * 1024 * 1024)}]}).encode()
    assert len(body) > 5 * 1024 * 1024
    status, answer = devnet.post(body)
    assert status == 413
    # just under the limit is served
    status, answer = devnet.post({"jsonrpc": "2.0", "id": 1, "method": "web3_sha3", "params": ["0x" + "ab" * (1024 * 1024)]})
    assert status == 200 and answer["result"].startswith("0x")


def test_oversized_batch(devnet, serving):
    batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_blockNumber"} for i in range(1001)]
    status, answer = devnet.post(batch)
    assert status == 200
    assert answer == [{"jsonrpc": "2.0", "id": 0, "error": {"code": -32600, "message": "batch too large"}}]
    status, answer = devnet.post(batch[:1000])
    assert len(answer) == 1000 and all("result" in a for a in answer)
    assert sorted(a["id"] for a in answer) == list(range(1000))


# ---------------------------------------------------------------------------------------------
# Transactions the pool refuses


def signed_raw(w3, key, **overrides):
    account = Account.from_key(key)
    tx = {"to": Account.create().address, "value": 1, "gas": 21000, "chainId": 1337,
          "nonce": w3.eth.get_transaction_count(account.address, "pending"), **fee_fields(w3)}
    tx.update(overrides)
    return Account.sign_transaction(tx, key).raw_transaction


def with_signature(raw, r=None, s=None, y=None):
    """A signed type-2 transaction with its signature values replaced."""
    assert raw[0] == 2
    fields = rlp.decode(raw[1:])
    if y is not None:
        fields[-3] = bytes([y]) if y else b""
    if r is not None:
        fields[-2] = r.to_bytes(32, "big").lstrip(b"\0")
    if s is not None:
        fields[-1] = s.to_bytes(32, "big").lstrip(b"\0")
    return b"\x02" + rlp.encode(fields)


def test_invalid_signature(devnet, w3, serving):
    raw = signed_raw(w3, devnet.keys[1])
    fields = rlp.decode(raw[1:])
    s = int.from_bytes(fields[-1], "big")
    for bad in (with_signature(raw, r=0), with_signature(raw, s=0), with_signature(raw, s=SECP256K1_N - s if s <= SECP256K1_N // 2 else s)):
        err = send_raw_error(devnet, bad)
        assert err["code"] == -32000
        assert "invalid transaction v, r, s values" in err["message"] or err["message"].startswith("invalid sender"), err
    # a parity that is neither 0 nor 1
    err = send_raw_error(devnet, with_signature(raw, y=5))
    assert err["code"] == -32000 and ("invalid transaction v, r, s values" in err["message"] or "invalid sender" in err["message"]), err
    # garbage
    err = send_raw_error(devnet, b"\x02\xc0")
    assert err["code"] == -32000 and "rlp" in err["message"]
    # the untouched one is accepted
    tx_hash = w3.eth.send_raw_transaction(raw)
    assert wait_receipt(w3, tx_hash)["status"] == 1


def test_unprotected_legacy_refused(devnet, w3, serving):
    account = Account.from_key(devnet.keys[1])
    tx = {"to": Account.create().address, "value": 1, "gas": 21000, "gasPrice": 3 * 10**9,
          "nonce": w3.eth.get_transaction_count(account.address, "pending")}
    raw = Account.sign_transaction(tx, devnet.keys[1]).raw_transaction  # no chainId: pre-EIP-155
    err = send_raw_error(devnet, raw)
    assert err == {"code": -32000, "message": "only replay-protected (EIP-155) transactions allowed over RPC"}


def test_wrong_chain_id(devnet, w3, serving):
    account = Account.from_key(devnet.keys[1])
    legacy = Account.sign_transaction({"to": account.address, "value": 1, "gas": 21000, "gasPrice": 3 * 10**9, "chainId": 1,
                                       "nonce": w3.eth.get_transaction_count(account.address, "pending")},
                                      devnet.keys[1]).raw_transaction
    for raw in (signed_raw(w3, devnet.keys[1], chainId=1), legacy):
        err = send_raw_error(devnet, raw)
        assert err["code"] == -32000
        # geth: "invalid chain id for signer: have 1 want 1337", wrapped in "invalid sender: " by newer pools
        assert "invalid chain id for signer: have 1 want 1337" in err["message"], err


def test_nonce_too_low(devnet, w3, serving):
    key = devnet.keys[2]
    _, receipt = send_signed(w3, key, {"to": Account.create().address, "value": 1, "gas": 21000})
    nonce = w3.eth.get_transaction_count(receipt["from"])
    err = send_raw_error(devnet, signed_raw(w3, key, nonce=nonce - 1, value=2))
    assert err == {"code": -32000, "message": f"nonce too low: next nonce {nonce}, tx nonce {nonce - 1}"}


def test_insufficient_funds(devnet, w3, serving):
    poor = Account.create()
    raw = signed_raw(w3, poor.key, nonce=0, value=5)
    tx = TypedTransaction.from_bytes(raw).as_dict()
    cost = tx["gas"] * tx["maxFeePerGas"] + 5
    err = send_raw_error(devnet, raw)
    assert err == {"code": -32000, "message": f"insufficient funds for gas * price + value: balance 0, tx cost {cost}, overshot {cost}"}
    # web3.py raises it too
    with pytest.raises(Exception, match="insufficient funds"):
        w3.eth.send_raw_transaction(raw)


def test_underpriced(devnet, w3, serving):
    key = devnet.keys[2]
    base = w3.eth.get_block("latest")["baseFeePerGas"]
    assert base > 1
    raw = signed_raw(w3, key, maxFeePerGas=base - 1, maxPriorityFeePerGas=0)
    err = send_raw_error(devnet, raw)
    assert err["code"] == -32000 and err["message"].startswith("transaction underpriced"), err
    account = Account.from_key(key)
    legacy = Account.sign_transaction({"to": account.address, "value": 0, "gas": 21000, "gasPrice": base - 1, "chainId": 1337,
                                       "nonce": w3.eth.get_transaction_count(account.address, "pending")}, key).raw_transaction
    err = send_raw_error(devnet, legacy)
    assert err["code"] == -32000 and err["message"].startswith("transaction underpriced"), err


def test_replacement_underpriced_and_already_known(devnet, w3, serving):
    """A transaction with a nonce gap waits in the pool; sending it again is `already known`, a
    different one with the same nonce and price is `replacement transaction underpriced`, and
    one paying 10 % more replaces it."""
    key = devnet.keys[2]
    account = Account.from_key(key)
    future = w3.eth.get_transaction_count(account.address, "pending") + 1
    fees = fee_fields(w3)
    first = signed_raw(w3, key, nonce=future, value=1, **fees)
    w3.eth.send_raw_transaction(first)
    assert send_raw_error(devnet, first) == {"code": -32000, "message": "already known"}
    same_price = signed_raw(w3, key, nonce=future, value=2, **fees)
    assert send_raw_error(devnet, same_price) == {"code": -32000, "message": "replacement transaction underpriced"}
    bumped = {k: v * 11 // 10 + 1 for k, v in fees.items()}
    replacement = signed_raw(w3, key, nonce=future, value=3, **bumped)
    replacement_hash = w3.eth.send_raw_transaction(replacement)
    # fill the gap: both are mined, the replacement in place of the first
    gap = signed_raw(w3, key, nonce=future - 1, value=4)
    wait_receipt(w3, w3.eth.send_raw_transaction(gap))
    receipt = wait_receipt(w3, replacement_hash)
    assert receipt["status"] == 1 and w3.eth.get_transaction(replacement_hash)["value"] == 3


def test_intrinsic_gas_and_block_gas_limit(devnet, w3, serving):
    key = devnet.keys[2]
    err = send_raw_error(devnet, signed_raw(w3, key, gas=20000))
    assert err == {"code": -32000, "message": "intrinsic gas too low: gas 20000, minimum needed 21000"}
    limit = w3.eth.get_block("latest")["gasLimit"]
    err = send_raw_error(devnet, signed_raw(w3, key, gas=limit + 1))
    assert err["code"] == -32000 and err["message"].startswith("exceeds block gas limit"), err
