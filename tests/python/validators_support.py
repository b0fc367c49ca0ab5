"""Validator networks for the fault tests (test_validators.py): four `kramaa node` validator
processes on loopback that a test starts, stops (SIGTERM) and kills (SIGKILL) one by one; a
steady load of locally signed transfers; and the end-of-run consistency checks.

The data folders are made by `kramaa devnet --validators 4` itself (run until its four
validators answer, then stopped with SIGTERM); the validators are then started with the same
command line the devnet gives its children, so each is a process of the test."""
import json
import os
import pathlib
import random
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

from eth_account import Account
from eth_utils import keccak

from conftest import RPCError, parse_dev_accounts, stop_process

CHAIN_ID = 1337
GWEI = 10**9


def rpc(port, method, *params, timeout=5):
    """One JSON-RPC call to 127.0.0.1:port; raises OSError (URLError) when nothing answers."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        answer = json.loads(resp.read())
    if "error" in answer:
        raise RPCError(answer["error"])
    return answer["result"]


def rpc_batch(port, calls, timeout=30, chunk=200):
    """Results of [(method, params), ...] in order, in batches; an error answer raises."""
    results = []
    for start in range(0, len(calls), chunk):
        part = calls[start:start + chunk]
        body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": m, "params": list(p)} for i, (m, p) in enumerate(part)]).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            answers = {a["id"]: a for a in json.loads(resp.read())}
        for i in range(len(part)):
            if "error" in answers[i]:
                raise RPCError(answers[i]["error"])
            results.append(answers[i]["result"])
    return results


def wait_until(predicate, timeout, interval=0.05, message="condition"):
    """Polls `predicate` (errors count as false) until it returns a truthy value; returns it."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except (OSError, RPCError, ValueError) as e:
            last_error = e
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}" + (f" (last error: {last_error})" if last_error else ""))
        time.sleep(interval)


def port_block(count, low=20000, high=32000):
    """A base port such that base .. base+count-1 are all free on loopback (below Linux's
    ephemeral range, so outgoing connections do not take them meanwhile)."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(low, high - count)
        sockets = []
        try:
            for p in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sockets.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise AssertionError("no block of free ports found")


def children_of(pid):
    """PIDs (with their start times) of the processes whose parent is `pid`, from /proc."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = pathlib.Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, ...
        if int(fields[1]) == pid:
            out[int(entry)] = int(fields[19])  # field 22 of stat: start time
    return out


def process_alive(pid, start_time):
    """Whether the process `pid` that started at `start_time` still exists (and is no zombie)."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[19]) == start_time and fields[0] != "Z"


def cmdline(pid):
    try:
        return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


# ---------------------------------------------------------------------------------------------
# The network


class Validator:
    def __init__(self, cluster, index):
        self.cluster = cluster
        self.index = index
        self.datadir = cluster.directory / f"validator-{index}"
        self.rpc_port = cluster.rpc_base + index
        self.p2p_port = cluster.p2p_base + index
        self.proc = None
        self.starts = 0
        self.exit_codes = []
        self.extra_args = []  # more `kramaa node` options for this validator

    def command(self):
        c = self.cluster
        args = [c.binary, "node", "--datadir", str(self.datadir), "--rpc-port", str(self.rpc_port),
                "--p2p-port", str(self.p2p_port), "--key", str(self.datadir / "node-key.json"), "--no-mqtt"]
        for j in range(c.count):
            if j != self.index:
                args += ["--bootnode", f"{c.addresses[j]}@127.0.0.1:{c.p2p_base + j}"]
        return args + ["--dev-accounts", str(c.accounts), "--dev-open-writes"] + self.extra_args

    def start(self, timeout=20):
        assert self.proc is None, f"validator {self.index} is already running"
        self.starts += 1
        self.log = self.cluster.logs / f"validator-{self.index}-{self.starts}.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            try:
                rpc(self.rpc_port, "eth_blockNumber", timeout=1)
                return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                code, self.proc = self.proc.returncode, None
                raise AssertionError(f"validator {self.index} exited {code} at start:\n{self.log.read_text(errors='replace')[-3000:]}")
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                self.proc = None
                raise AssertionError(f"validator {self.index} did not answer on {self.rpc_port} in {timeout} s")
            time.sleep(0.02)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Sends `sig`, waits and returns the exit code (negative: the signal)."""
        proc, self.proc = self.proc, None
        code = stop_process(proc, sig, timeout, f"validator {self.index}")
        if code is not None:
            self.exit_codes.append(code)
        return code

    def kill(self):
        return self.stop(signal.SIGKILL)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def rpc(self, method, *params, timeout=5):
        return rpc(self.rpc_port, method, *params, timeout=timeout)

    def head(self):
        block = self.rpc("eth_getBlockByNumber", "latest", False)
        return int(block["number"], 16), block["hash"], block["stateRoot"]

    def number(self):
        return int(self.rpc("eth_blockNumber"), 16)

    def block_hash(self, number):
        block = self.rpc("eth_getBlockByNumber", hex(number), False)
        return block and block["hash"]

    def logs_tail(self, chars=3000):
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except (OSError, AttributeError):
            return ""


class Cluster:
    """Four validators made by `kramaa devnet --validators 4`, run as separate processes."""

    def __init__(self, binary, directory, count=4, accounts=6, devnet_args=()):
        self.binary = binary
        self.devnet_args = list(devnet_args)  # more `kramaa devnet` options for the genesis (e.g. --files-heartbeat-timeout)
        self.directory = pathlib.Path(directory)
        self.logs = self.directory.parent
        self.count = count
        self.accounts = accounts
        base = port_block(2 * count)
        self.rpc_base, self.p2p_base = base, base + count
        self.addresses = []
        self.keys = []
        self.validators = []

    def create(self, timeout=30):
        """Runs the devnet until its validators answer, stops it (SIGTERM, exit 0), and reads the
        validator addresses and dev keys from its output."""
        out_path = self.logs / "devnet-create.log"
        args = [self.binary, "devnet", "--validators", str(self.count), "--datadir", str(self.directory),
                "--rpc-port", str(self.rpc_base), "--p2p-port", str(self.p2p_base), "--accounts", str(self.accounts), "--quiet", "--no-mqtt",
                *self.devnet_args]
        with open(out_path, "wb") as out:
            devnet = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_until(lambda: all(rpc(self.rpc_base + i, "eth_blockNumber", timeout=1) == "0x0" for i in range(self.count)),
                       timeout, message="the devnet's validators to answer")
            wait_until(lambda: "==== kramaa devnet ready" in out_path.read_text(errors="replace"), timeout,
                       message="the devnet's ready block")
        finally:
            devnet.send_signal(signal.SIGTERM)
            try:
                code = devnet.wait(20)
            except subprocess.TimeoutExpired:
                devnet.kill()
                devnet.wait()
                raise
        text = out_path.read_text(errors="replace")
        assert code == 0, f"devnet exited {code} on SIGTERM:\n{text}"
        found = dict(re.findall(r"validator (\d+) (0x[0-9a-fA-F]{40}): JSON-RPC", text))
        self.addresses = [found[str(i)] for i in range(self.count)]
        _, self.keys = parse_dev_accounts(text)
        assert len(self.keys) == self.accounts
        self.validators = [Validator(self, i) for i in range(self.count)]
        return self

    def __getitem__(self, i):
        return self.validators[i]

    def __iter__(self):
        return iter(self.validators)

    def start_all(self):
        for v in self.validators:
            v.start()
        return self

    def running(self):
        return [v for v in self.validators if v.running]

    def kill_all(self):
        """SIGKILL to every running validator at once, then waits for them."""
        running = [v for v in self.validators if v.proc is not None]
        for v in running:
            v.proc.send_signal(signal.SIGKILL)
        return {v.index: v.kill() for v in running}

    def shutdown(self):
        """SIGTERM to every running validator; returns {index: exit code}."""
        return {v.index: v.stop() for v in self.validators if v.proc is not None}

    # -- observations

    def heads(self, validators=None):
        return {v.index: v.number() for v in (validators or self.running())}

    def wait_progress(self, validators, blocks=2, timeout=30):
        """Waits until every one of `validators` has a head at least `blocks` above the highest
        head among them now; returns the new heads."""
        start = max(v.number() for v in validators)
        target = start + blocks
        return wait_until(lambda: (h := {v.index: v.number() for v in validators}) and min(h.values()) >= target and h,
                          timeout, message=f"validators {[v.index for v in validators]} to pass block {target} (from {start})")

    def wait_caught_up(self, laggard, others, timeout=30):
        """Waits until `laggard` has the block the highest of `others` had when called, with the
        same hash; returns (number, hash)."""
        number = max(v.number() for v in others)
        reference = next(v for v in others if v.number() >= number).block_hash(number)
        wait_until(lambda: laggard.number() >= number, timeout,
                   message=f"validator {laggard.index} to catch up to block {number}")
        assert laggard.block_hash(number) == reference, f"validator {laggard.index} has another block at {number}"
        return number, reference

    def wait_same_head(self, validators=None, timeout=30):
        validators = validators or self.running()

        def same():
            heads = [v.head() for v in validators]
            return heads if len(set(heads)) == 1 else None
        return wait_until(same, timeout, message="the same head (number, hash, stateRoot) on every validator")[0]


# ---------------------------------------------------------------------------------------------
# Load


class Load(threading.Thread):
    """Signed transfers from several dev accounts, round-robin over the validators marked as
    targets, with explicit nonces per sender. A transaction counts as accepted when
    eth_sendRawTransaction answered its hash. When a call gets no answer (the validator was
    killed), the same signed bytes are sent to the next validator until an answer settles it:
    its hash, or "already known" / "nonce too low" (the first attempt did arrive); any other
    refusal is retried with the same nonce."""

    def __init__(self, cluster, senders=4, rate=40.0, max_outstanding=40):
        super().__init__(daemon=True, name="load")
        self.cluster = cluster
        self.senders = [Account.from_key(k) for k in cluster.keys[:senders]]
        self.interval = 1.0 / rate
        self.max_outstanding = max_outstanding
        self.targets = set(range(cluster.count))
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.next_nonce = {a.address: 0 for a in self.senders}
        self.included_nonce = {a.address: 0 for a in self.senders}
        self.accepted = {}  # hash -> (sender, nonce): eth_sendRawTransaction answered the hash
        self.settled = {}   # hash -> (sender, nonce, message): a resend answered already known / nonce too low
        self.by_nonce = {}  # (sender, nonce) -> hash
        self.raw = {}       # (sender, nonce) -> the signed bytes
        self.resubmitted = 0
        self.refusals = []  # (validator, sender, nonce, message) of refusals later retried
        self.no_answer = 0
        self.error = None
        self.recipients = [Account.create().address for _ in range(8)]
        self._rr = 0

    # -- control from the test

    def pause_target(self, index, settle=0.5):
        """Stops sending to validator `index`, then waits `settle` seconds so what it accepted
        reaches its peers (transactions are gossiped in batches within milliseconds)."""
        with self.lock:
            self.targets.discard(index)
        time.sleep(settle)

    def pause_all(self):
        with self.lock:
            self.targets.clear()

    def resubmit(self, validators):
        """Sends again (same signed bytes, so the same hashes) every transaction not yet in a
        block, as a wallet does after the nodes holding its pending transactions crashed: what
        was acknowledged is back from the pool journals ("already known"), but a call that got
        no answer may never have arrived. Call with the load paused."""
        for a in self.senders:
            latest = int(validators[0].rpc("eth_getTransactionCount", a.address, "latest"), 16)
            for n in range(latest, self.next_nonce[a.address]):
                v = validators[n % len(validators)]
                try:
                    v.rpc("eth_sendRawTransaction", self.raw[(a.address, n)])
                    self.resubmitted += 1
                except RPCError as e:
                    if e.message.startswith("nonce too low"):
                        # A block took it between reading the nonce and sending: it must be this very
                        # transaction (same bytes, same hash), not another with its nonce.
                        tx_hash = "0x" + keccak(bytes.fromhex(self.raw[(a.address, n)].removeprefix("0x"))).hex()
                        found = v.rpc("eth_getTransactionByHash", tx_hash)
                        assert found and found.get("blockNumber"), f"nonce {n} of {a.address} was taken by another transaction than {tx_hash}"
                        continue
                    assert e.message == "already known", f"resubmitting {a.address} nonce {n} to validator {v.index}: {e.message}"

    def resume_all(self):
        with self.lock:
            self.targets = set(range(self.cluster.count))

    def resume_target(self, index):
        with self.lock:
            self.targets.add(index)

    def stop(self, timeout=30):
        self.stopping.set()
        self.join(timeout)
        assert not self.is_alive(), "the load thread did not stop"
        if self.error:
            raise self.error

    def sent(self):
        with self.lock:
            return len(self.accepted) + len(self.settled)

    # -- the thread

    def _pick(self):
        with self.lock:
            targets = sorted(self.targets)
        if not targets:
            return None
        self._rr += 1
        return self.cluster[targets[self._rr % len(targets)]]

    def _refresh_included(self):
        with self.lock:
            targets = sorted(self.targets)
        for i in targets:
            try:
                for a in self.senders:
                    n = int(rpc(self.cluster[i].rpc_port, "eth_getTransactionCount", a.address, "latest", timeout=2), 16)
                    self.included_nonce[a.address] = max(self.included_nonce[a.address], n)
                return
            except (OSError, RPCError):
                continue

    def run(self):
        try:
            self._run()
        except BaseException as e:  # reported by stop()
            self.error = e

    def _run(self):
        last_refresh = 0.0
        k = 0
        while not self.stopping.is_set():
            if time.monotonic() - last_refresh > 0.5:
                self._refresh_included()
                last_refresh = time.monotonic()
            sender = self.senders[k % len(self.senders)]
            k += 1
            nonce = self.next_nonce[sender.address]
            if nonce - self.included_nonce[sender.address] >= self.max_outstanding:
                time.sleep(self.interval / len(self.senders))
                continue
            tx = {"chainId": CHAIN_ID, "nonce": nonce, "to": self.recipients[nonce % len(self.recipients)],
                  "value": 1000 + nonce, "gas": 21000, "maxFeePerGas": 200 * GWEI, "maxPriorityFeePerGas": GWEI}
            signed = Account.sign_transaction(tx, sender.key)
            raw, tx_hash = "0x" + signed.raw_transaction.hex(), signed.hash.to_0x_hex()
            self.raw[(sender.address, nonce)] = raw
            self._send(sender.address, nonce, raw, tx_hash)
            self.stopping.wait(self.interval)

    def _send(self, sender, nonce, raw, tx_hash):
        """Sends until settled (or the load stops with the outcome unknown, which the final
        check reports)."""
        uncertain = False
        while True:
            target = self._pick()
            if target is None:
                if self.stopping.wait(0.05):
                    raise AssertionError(f"load stopped with transaction {tx_hash} ({sender} nonce {nonce}) unsettled")
                continue
            try:
                answer = rpc(target.rpc_port, "eth_sendRawTransaction", raw, timeout=5)
            except RPCError as e:
                if uncertain and (e.message == "already known" or e.message.startswith("nonce too low")):
                    with self.lock:
                        self.settled[tx_hash] = (sender, nonce, e.message)
                        self.by_nonce[(sender, nonce)] = tx_hash
                        self.next_nonce[sender] = nonce + 1
                    return
                self.refusals.append((target.index, sender, nonce, e.message))
                if len(self.refusals) > 5000:
                    raise AssertionError(f"too many refusals, last: {self.refusals[-5:]}")
                time.sleep(0.05)
                continue
            except OSError:
                self.no_answer += 1
                uncertain = True
                time.sleep(0.02)
                continue
            assert answer == tx_hash, f"eth_sendRawTransaction answered {answer} for {tx_hash}"
            with self.lock:
                self.accepted[tx_hash] = (sender, nonce)
                self.by_nonce[(sender, nonce)] = tx_hash
                self.next_nonce[sender] = nonce + 1
            self._acknowledged(target, tx_hash)
            return

    def _acknowledged(self, target, tx_hash):
        """Called right after `target` answered `tx_hash` (chaos_support kills it there)."""


# ---------------------------------------------------------------------------------------------
# End-of-run checks


def check_final_consistency(cluster, load, timeout=60, by_hash=None):
    """After the load stopped: the pools drain (every sender's nonce reaches the load's next
    nonce on every validator), all validators on the same head (number, hash, stateRoot), every
    block the same on all, every accepted transaction included exactly once with a receipt on
    every validator in the same block, and each sender's nonces contiguous. Returns a summary."""
    validators = cluster.running()
    assert len(validators) == cluster.count, "check with every validator running"
    expected = dict(load.next_nonce)
    t0 = time.monotonic()

    def drained():
        return all(int(v.rpc("eth_getTransactionCount", s, "latest"), 16) == n for v in validators for s, n in expected.items())
    try:
        wait_until(drained, timeout, interval=0.2, message="every accepted transaction to be included on every validator")
    except AssertionError:
        state = {v.index: {s[:10]: (int(v.rpc("eth_getTransactionCount", s, "latest"), 16), int(v.rpc("eth_getTransactionCount", s, "pending"), 16))
                           for s in expected} for v in validators}
        raise AssertionError(f"not drained in {timeout} s: expected next nonces {expected}; (latest, pending) per validator: {state}")
    number, head_hash, state_root = cluster.wait_same_head(validators, timeout=20)

    # every block, on every validator
    chains = {}
    for v in validators:
        chains[v.index] = rpc_batch(v.rpc_port, [("eth_getBlockByNumber", [hex(i), True]) for i in range(number + 1)])
    reference = chains[validators[0].index]
    for v in validators[1:]:
        for i, (a, b) in enumerate(zip(reference, chains[v.index])):
            assert a["hash"] == b["hash"] and a["stateRoot"] == b["stateRoot"], \
                f"block {i}: validator {validators[0].index} has {a['hash']}, validator {v.index} has {b['hash']}"
    where = {}
    for block in reference:
        assert int(block["number"], 16) == 0 or block["parentHash"] == reference[int(block["number"], 16) - 1]["hash"]
        for tx in block["transactions"]:
            assert tx["hash"] not in where, f"transaction {tx['hash']} in blocks {where[tx['hash']]} and {block['number']}"
            where[tx["hash"]] = block["number"]

    # every accepted transaction, exactly once, with the same receipt everywhere
    wanted = {**{h: v for h, v in load.accepted.items()}, **{h: (s, n) for h, (s, n, _) in load.settled.items()}}
    missing = [h for h in wanted if h not in where]
    assert not missing, f"{len(missing)} accepted transactions in no block, e.g. {missing[:5]}"
    # receipts: every block's on every validator (eth_getBlockReceipts), and by hash
    # (eth_getTransactionReceipt) for `by_hash` of them spread over the validators (it costs
    # a whole block's receipts each on the node)
    tx_blocks = sorted({int(n, 16) for n in where.values()})
    receipts = {}
    for v in validators:
        for rs in rpc_batch(v.rpc_port, [("eth_getBlockReceipts", [hex(n)]) for n in tx_blocks]):
            for r in rs:
                assert r["status"] == "0x1", f"{r['transactionHash']} failed on validator {v.index}: {r}"
                key = (r["blockHash"], r["blockNumber"], r["transactionIndex"], r["cumulativeGasUsed"])
                assert receipts.setdefault(r["transactionHash"], key) == key, f"{r['transactionHash']}: validator {v.index} has another receipt"
    hashes = sorted(wanted)
    for h in hashes:
        assert h in receipts and receipts[h][1] == where[h], f"no receipt for {h} in block {where[h]}"
    sample = hashes if by_hash is None else random.Random(1).sample(hashes, min(by_hash, len(hashes)))
    for k, v in enumerate(validators):
        part = sample[k::len(validators)]
        for h, r in zip(part, rpc_batch(v.rpc_port, [("eth_getTransactionReceipt", [h]) for h in part])):
            assert r is not None, f"eth_getTransactionReceipt {h} on validator {v.index}: null"
            assert (r["blockHash"], r["blockNumber"], r["transactionIndex"], r["cumulativeGasUsed"]) == receipts[h]
    # per sender: the included nonces are 0 .. next-1, each our transaction
    senders = {s for s, _ in wanted.values()}
    by_sender = {s: {} for s in senders}
    for block in reference:
        for tx in block["transactions"]:
            s = tx["from"]
            match = next((x for x in senders if x.lower() == s.lower()), None)
            if match is not None:
                n = int(tx["nonce"], 16)
                assert n not in by_sender[match], f"{match} nonce {n} included twice"
                by_sender[match][n] = tx["hash"]
    for s in senders:
        assert sorted(by_sender[s]) == list(range(expected[s])), f"{s}: nonces not contiguous 0..{expected[s] - 1}"
        for n, h in by_sender[s].items():
            assert load.by_nonce[(s, n)] == h, f"{s} nonce {n}: included {h}, the load sent {load.by_nonce[(s, n)]}"
    return {"head": number, "hash": head_hash, "stateRoot": state_root, "transactions": len(wanted),
            "settled_by_resend": len(load.settled), "resubmitted": load.resubmitted, "refusals": len(load.refusals), "no_answer": load.no_answer,
            "blocks_with_txs": len({b for b in where.values()}), "check_seconds": round(time.monotonic() - t0, 1)}
