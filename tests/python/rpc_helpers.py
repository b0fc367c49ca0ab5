"""Helpers for the tests against a running node: compiling Vyper, signing and sending
transactions with eth-account, and checking headers with the `rlp` package."""
import functools
import json
import pathlib
import urllib.error
import urllib.request

import rlp
from eth_account import Account
from eth_utils import keccak, to_checksum_address

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
ZERO_ADDRESS = "0x" + "00" * 20
EMPTY_TRIE_ROOT = bytes.fromhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
EMPTY_UNCLES = bytes.fromhex("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347")
EMPTY_CODE_HASH = keccak(b"")


@functools.lru_cache(maxsize=None)
def compile_vyper(source):
    """(abi, bytecode hex) of Vyper source (a file under contracts/ by name, or the source itself),
    compiled by the vyper package for Cancun."""
    import vyper
    from vyper.compiler.settings import Settings
    if source.endswith(".vy") and "\n" not in source:
        source = (CONTRACTS / source).read_text()
    out = vyper.compile_code(source, output_formats=["abi", "bytecode"], settings=Settings(evm_version="cancun"))
    return out["abi"], out["bytecode"]


@functools.lru_cache(maxsize=None)
def storage_layout(source):
    """{variable: slot} of a contract under contracts/, from the Vyper compiler's layout."""
    import vyper
    out = vyper.compile_code((CONTRACTS / source).read_text(), output_formats=["layout"])
    return {name: entry["slot"] for name, entry in out["layout"]["storage_layout"].items()}


def mapping_slot(slot, key):
    """The slot of `mapping[key]` for a mapping at `slot` (Vyper: keccak(slot ‖ key)), as 0x hex."""
    key_bytes = hexbytes(key).rjust(32, b"\0") if isinstance(key, str) else key.to_bytes(32, "big")
    return "0x" + keccak(slot.to_bytes(32, "big") + key_bytes).hex()


def hexbytes(value):
    return bytes.fromhex(value[2:] if value.startswith("0x") else value)


def qty(value):
    return int(value, 16) if isinstance(value, str) else int(value)


def wait_receipt(w3, tx_hash, timeout=15):
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=0.02)


def fee_fields(w3, tip=2 * 10**9):
    """EIP-1559 fields that pay `tip` above any base fee the next few blocks can reach."""
    base = w3.eth.get_block("latest")["baseFeePerGas"]
    return {"maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * base + tip}


def send_signed(w3, key, tx, wait=True):
    """Signs `tx` locally with `key` (filling chainId, nonce and gas where missing), sends it
    with eth_sendRawTransaction and returns (hash, receipt or None)."""
    account = Account.from_key(key)
    tx = dict(tx)
    tx.setdefault("chainId", w3.eth.chain_id)
    if "gasPrice" not in tx and "maxFeePerGas" not in tx:
        tx.update(fee_fields(w3))
    if "gas" not in tx:
        tx["gas"] = w3.eth.estimate_gas({k: v for k, v in tx.items() if k not in ("nonce", "chainId")} | {"from": account.address})
    # The devnet's node sends from its first account too (the MQTT delivery log commits its roots
    # with it), so a nonce read here can be taken before the transaction arrives: read it again.
    chosen = "nonce" in tx
    for attempt in range(5):
        if not chosen:
            tx["nonce"] = w3.eth.get_transaction_count(account.address, "pending")
        signed = Account.sign_transaction(tx, key)
        try:
            tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
            break
        except Exception as error:  # web3's RPC error
            if chosen or "nonce too low" not in str(error) or attempt == 4:
                raise
    assert tx_hash == signed.hash
    return tx_hash, (wait_receipt(w3, tx_hash) if wait else None)


def deploy(w3, key, source, *args, value=0):
    """Deploys a Vyper contract signed by `key` (sending `value` wei to its constructor); returns
    the web3 contract object."""
    abi, bytecode = compile_vyper(source)
    account = Account.from_key(key)
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    tx = factory.constructor(*args).build_transaction({"from": account.address, "value": value,
                                                       "nonce": w3.eth.get_transaction_count(account.address, "pending")})
    _, receipt = send_signed(w3, key, tx)
    assert receipt["status"] == 1, receipt
    return w3.eth.contract(address=receipt["contractAddress"], abi=abi)


def transact(w3, key, fn, value=0, **extra):
    """Calls a contract function in a transaction signed by `key`; returns the receipt."""
    account = Account.from_key(key)
    params = {"from": account.address, "value": value, "nonce": w3.eth.get_transaction_count(account.address, "pending")}
    params.update(extra)
    tx = fn.build_transaction(params)
    _, receipt = send_signed(w3, key, tx)
    return receipt


HEADER_FIELDS = [
    ("parentHash", "hash"), ("sha3Uncles", "hash"), ("miner", "address"), ("stateRoot", "hash"),
    ("transactionsRoot", "hash"), ("receiptsRoot", "hash"), ("logsBloom", "bytes"), ("difficulty", "int"),
    ("number", "int"), ("gasLimit", "int"), ("gasUsed", "int"), ("timestamp", "int"), ("extraData", "bytes"),
    ("mixHash", "hash"), ("nonce", "bytes"), ("baseFeePerGas", "int"), ("withdrawalsRoot", "hash"),
    ("blobGasUsed", "int"), ("excessBlobGas", "int"), ("parentBeaconBlockRoot", "hash"),
]


def header_hash(block):
    """keccak(rlp(header)) from a block as eth_getBlockBy* returns it (raw JSON, hex strings),
    with Cancun's field order."""
    return "0x" + keccak(header_rlp(block)).hex()


def header_rlp(block):
    """The header's RLP from a block as eth_getBlockBy* returns it (Cancun's field order)."""
    fields = []
    for name, kind in HEADER_FIELDS:
        value = block[name]
        if kind == "int":
            fields.append(qty(value))
        else:
            raw = hexbytes(value)
            if kind == "hash":
                assert len(raw) == 32, (name, value)
            elif kind == "address":
                assert len(raw) == 20, (name, value)
            fields.append(raw)
    assert len(hexbytes(block["logsBloom"])) == 256
    assert len(hexbytes(block["nonce"])) == 8
    return rlp.encode(fields)


def checksum(address):
    return to_checksum_address(address)


def http_json(port, method, path, body=None, timeout=30, headers=None):
    """One request to a node's HTTP server (REST /api/v1, /pins, …): (status, the JSON answer or
    None when empty). An error status is an answer here, not an exception."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=None if body is None else json.dumps(body).encode(),
                                     method=method, headers={"Content-Type": "application/json", "Accept": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    return status, json.loads(payload) if payload else None
