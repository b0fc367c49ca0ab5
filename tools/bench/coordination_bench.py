#!/usr/bin/env python3
"""Coordination benchmark (scripts/bench.sh coordination). Writes the "Coordination" section of
BENCHMARKS.md (or of --out) with three measurements and the reference each is compared to:

1. signed device readings accepted by the readings contract per second on 4 validator processes
   (16 registered P-256 devices; the readings signed here and submitted by dev accounts, sent to
   the four validators in turn), against P-256 verifications per second with OpenSSL on all of
   this machine's cores (`cryptography`, one process per core);
2. device signatures checked per second through `eth_call` of `verifyDeviceSignature` (what a
   payment channel does for each voucher), against the same reference;
3. the block-time cost of 1,000 active triggers: the receipt latency of sequential transfers on
   a single-node devnet with no trigger, then with 1,000 registered (checked at every block).
"""
import argparse
import concurrent.futures
import json
import multiprocessing
import os
import pathlib
import statistics
import sys
import tempfile
import time
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "python"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchmarks_md import write_section  # noqa: E402
from conftest import NodeProcess  # noqa: E402
from validators_support import Cluster, wait_until  # noqa: E402

TITLE = "## Coordination (device readings, signature checks, triggers)"
READINGS = "0x000000000000000000000000000000004b520018"
TRIGGERS = "0x000000000000000000000000000000004b520019"
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
KIND = keccak(b"bench.level")


def rpc(port, method, *params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise RuntimeError(answer["error"])
    return answer["result"]


def rest(port, method, path, body):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1{path}", data=json.dumps(body).encode(), method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def p256_sign(key, digest):
    r, s = decode_dss_signature(key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))))
    return r.to_bytes(32, "big") + min(s, N - s).to_bytes(32, "big")


def reading_digest(chain_id, device, value, observed, sequence):
    return keccak(b"kramaa:reading" + chain_id.to_bytes(8, "big") + bytes.fromhex(device[2:]) + KIND
                  + value.to_bytes(32, "big") + observed.to_bytes(8, "big") + sequence.to_bytes(8, "big"))


def register_devices(port, admin, count):
    org = rest(port, "POST", "/organizations", {"from": admin, "name": f"Bench {time.time_ns()}"})["id"]
    devices = []
    for _ in range(count):
        key = ec.generate_private_key(ec.SECP256R1())
        public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
        record = rest(port, "POST", "/devices", {"from": admin, "organization": org, "keyType": "p256", "publicKey": "0x" + public.hex(), "model": "bench"})
        devices.append((key, record["device"]))
    return devices


def fees(port):
    base = int(rpc(port, "eth_getBlockByNumber", "latest", False)["baseFeePerGas"], 16)
    return {"maxPriorityFeePerGas": 10**9, "maxFeePerGas": 4 * base + 10**9}


def signed_tx(key, nonce, to, data, fee, chain_id=1337, gas=200_000, value=0):
    tx = {"chainId": chain_id, "nonce": nonce, "to": to_checksum_address(to), "data": data, "gas": gas, "value": value, **fee}
    return "0x" + Account.sign_transaction(tx, key).raw_transaction.hex()


def send_all(ports, raws):
    """Sends the raw transactions to the validators in turn (8 threads); returns their hashes."""
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda ir: rpc(ports[ir[0] % len(ports)], "eth_sendRawTransaction", ir[1]), enumerate(raws)))


def wait_receipts(port, hashes, timeout=600):
    receipts, pending, deadline = {}, list(hashes), time.monotonic() + timeout
    while pending:
        still = []
        for h in pending:
            r = rpc(port, "eth_getTransactionReceipt", h)
            if r is None:
                still.append(h)
            else:
                receipts[h] = r
        pending = still
        if pending:
            assert time.monotonic() < deadline, f"{len(pending)} transactions not included within {timeout} s"
            time.sleep(0.05)
    return receipts


def readings(binary, work, total):
    (work / "readings").mkdir(parents=True, exist_ok=True)
    cluster = Cluster(binary, work / "readings" / "net", count=4, accounts=8).create().start_all()
    try:
        ports = [v.rpc_port for v in cluster]
        time.sleep(1.5)
        accounts = [Account.from_key(k).address for k in cluster.keys]
        devices = register_devices(ports[0], accounts[0], 16)
        fee, now = fees(ports[0]), int(time.time())
        nonces = {a: int(rpc(ports[0], "eth_getTransactionCount", a, "pending"), 16) for a in accounts}
        raws = []
        for i in range(total):
            d = i % len(devices)
            key, device = devices[d]
            sender = d % len(accounts)  # one sender per device: its readings are included in sequence order
            sequence = i // len(devices) + 1
            sig = p256_sign(key, reading_digest(1337, device, i, now, sequence))
            data = keccak(b"submitReading(address,bytes32,int256,uint64,uint64,bytes)")[:4] + encode(
                ["address", "bytes32", "int256", "uint64", "uint64", "bytes"], [device, KIND, i, now, sequence, sig])
            raws.append(signed_tx(cluster.keys[sender], nonces[accounts[sender]], READINGS, data, fee))
            nonces[accounts[sender]] += 1
        start = time.monotonic()
        hashes = send_all(ports, raws)
        receipts = wait_receipts(ports[0], hashes)
        elapsed = time.monotonic() - start
        accepted = sum(1 for r in receipts.values() if r["status"] == "0x1")
        # Signature checks through eth_call: what a payment channel's settle does per voucher.
        key, device = devices[0]
        digest = keccak(b"voucher")
        call = {"to": READINGS, "data": "0x" + (keccak(b"verifyDeviceSignature(address,bytes32,bytes)")[:4]
                                               + encode(["address", "bytes32", "bytes"], [device, digest, p256_sign(key, digest)])).hex()}
        assert int(rpc(ports[0], "eth_call", call, "latest"), 16) == 1
        calls, stop = 0, time.monotonic() + 10

        def caller(i):
            n = 0
            while time.monotonic() < stop:
                rpc(ports[i % 4], "eth_call", call, "latest")
                n += 1
            return n
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            calls = sum(pool.map(caller, range(8)))
        return {"accepted": accepted, "total": total, "seconds": elapsed, "rate": accepted / elapsed, "checks": calls / 10}
    finally:
        cluster.kill_all()


def _verify_for(seconds):
    key = ec.generate_private_key(ec.SECP256R1())
    digest = keccak(b"x")
    der = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    public, algorithm, n, stop = key.public_key(), ec.ECDSA(Prehashed(hashes.SHA256())), 0, time.monotonic() + seconds
    while time.monotonic() < stop:
        public.verify(der, digest, algorithm)
        n += 1
    return n / seconds


def p256_reference(seconds=5):
    with multiprocessing.Pool(os.cpu_count()) as pool:
        return sum(pool.map(_verify_for, [seconds] * os.cpu_count()))


def triggers(binary, work, count, transfers):
    node = NodeProcess(binary, "devnet", work / "triggers" / "chain", ["--accounts", "4"], log_dir=work)
    node.start(fresh=True)
    try:
        port, key = node.port, node.keys[0]
        sender = Account.from_key(key).address

        def latency():
            out = []
            for _ in range(transfers):
                fee = fees(port)
                raw = signed_tx(key, int(rpc(port, "eth_getTransactionCount", sender, "pending"), 16), node.accounts[1], b"", fee, gas=21_000, value=1)
                start = time.monotonic()
                h = rpc(port, "eth_sendRawTransaction", raw)
                while rpc(port, "eth_getTransactionReceipt", h) is None:
                    time.sleep(0.001)
                out.append(time.monotonic() - start)
            return statistics.median(out) * 1000
        before = latency()
        device = register_devices(port, sender, 1)[0][1]
        fee = fees(port)
        nonce = int(rpc(port, "eth_getTransactionCount", sender, "pending"), 16)
        register = keccak(b"registerTrigger(address,bytes,uint64,uint64,address,bytes32,int256,bool,bool)")[:4]
        raws = []
        for i in range(count):
            data = register + encode(["address", "bytes", "uint64", "uint64", "address", "bytes32", "int256", "bool", "bool"],
                                     [node.accounts[1], b"", 50_000, 0, device, keccak(b"kind %d" % i), 0, True, True])
            raws.append(signed_tx(key, nonce + i, TRIGGERS, data, fee, gas=400_000, value=10**15))
        receipts = wait_receipts(port, send_all([port], raws))
        assert all(r["status"] == "0x1" for r in receipts.values()), "a trigger registration failed"
        after = latency()
        return {"count": count, "before": before, "after": after}
    finally:
        node.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true", help="a short run (the tests' smoke run)")
    args = parser.parse_args()
    total, count, transfers = (200, 50, 10) if args.quick else (4_000, 1_000, 100)
    with tempfile.TemporaryDirectory(prefix="kramaa-coordination-") as tmp:
        work = pathlib.Path(tmp)
        reference = p256_reference(2 if args.quick else 5)
        r = readings(args.binary, work, total)
        t = triggers(args.binary, work, count, transfers)
    cores = os.cpu_count()
    text = f"""{TITLE}

`scripts/bench.sh coordination{' --quick' if args.quick else ''}` (tools/bench/coordination_bench.py), release build, {cores} cores, {time.strftime('%Y-%m-%d')}.

| measure | Kramaa | reference (same run) | ratio |
|---|---|---|---|
| signed P-256 readings accepted by the readings contract, 4 validator processes ({r['accepted']} of {r['total']} in {r['seconds']:.1f} s) | {r['rate']:,.0f} /s | P-256 verifications with OpenSSL on {cores} cores: {reference:,.0f} /s | {r['rate'] / reference:.3f} |
| device signatures checked through `eth_call` of `verifyDeviceSignature` (a channel's voucher check), 8 clients on 4 validators | {r['checks']:,.0f} /s | the same OpenSSL figure | {r['checks'] / reference:.3f} |
| median receipt latency of a transfer on a single-node devnet, with {t['count']:,} active triggers checked at every block | {t['after']:.1f} ms | with none: {t['before']:.1f} ms | {t['after'] / t['before']:.2f} |

Each reading is one transaction (submitted by a dev account; the contract verifies the device's
P-256 signature, checks the device's standing and the sequence, and stores it), so the first row
is bounded by block execution and consensus as much as by verification. The triggers are reading
triggers that are not due; their cost is the hook's walk over them when each block is built and
checked.
"""
    write_section(args.out, TITLE, text)
    print(text)


if __name__ == "__main__":
    main()
