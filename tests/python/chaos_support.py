"""Chaos on real processes: four `kramaa node` validators (made as in test_validators.py) under a
steady load from several senders, one validator killed -9 every few seconds and restarted, and at
the end every acknowledged transaction included on every node, no fork, the same state root.

Half the kills are timed by the load itself: the validator is killed right after it answered a
transaction's hash (`Load.kill_after_ack`), before its batched gossip to the peers leaves it, so
that the transaction survives only if the acknowledgement was durable (the pool journal,
docs/DATA.md). The other half fall at random moments.

Used by tests/python/test_pool_journal.py (short form) and tools/chaos.py (minutes long,
`scripts/bench.sh chaos`)."""
import random
import signal
import threading
import time

from validators_support import Cluster, Load, check_final_consistency


class KillingLoad(Load):
    """The validators' load, able to kill a validator the moment it acknowledged a transaction."""

    def __init__(self, cluster, **kwargs):
        super().__init__(cluster, **kwargs)
        self.kill_index = None
        self.killed = threading.Event()
        self.killed_after = None  # the hash the victim answered just before its kill

    def kill_after_ack(self, index):
        """Arms a kill: the next time validator `index` answers a hash, it is sent SIGKILL at once."""
        with self.lock:
            self.killed.clear()
            self.kill_index = index

    def _acknowledged(self, target, tx_hash):
        with self.lock:
            armed = self.kill_index == target.index
            if armed:
                self.kill_index = None
        if armed:
            target.proc.send_signal(signal.SIGKILL)
            self.killed_after = tx_hash
            self.killed.set()


def stalled(load, cluster):
    """What holds the load up: per sender, acknowledged nonces that no validator has included."""
    live = cluster.running()
    out = []
    for a in load.senders:
        included = max(int(v.rpc("eth_getTransactionCount", a.address, "latest"), 16) for v in live)
        if included < load.next_nonce[a.address]:
            h = load.by_nonce.get((a.address, included))
            out.append(f"{a.address[:10]} nonce {included} ({h}) acknowledged but in no block, "
                       f"{load.next_nonce[a.address] - included - 1} later ones wait behind it")
    return "stalled: " + ("; ".join(out) if out else "nothing")


def run_chaos(binary, directory, seconds, interval=(3.0, 6.0), senders=4, rate=120.0, seed=None, log=print):
    """Runs the chaos for about `seconds` in `directory`; returns a summary (raises AssertionError
    on a lost transaction, a fork or a differing state)."""
    rng = random.Random(seed)
    cluster = Cluster(binary, directory, count=4, accounts=max(6, senders)).create()
    cluster.start_all()
    started = time.monotonic()
    kills = {"after_ack": 0, "random": 0}
    load = KillingLoad(cluster, senders=senders, rate=rate, max_outstanding=200)
    load.start()
    try:
        cluster.wait_progress(list(cluster), blocks=2, timeout=30)
        round_ = 0
        while time.monotonic() - started < seconds:
            time.sleep(rng.uniform(*interval))
            victim = cluster[rng.randrange(cluster.count)]
            if round_ % 2 == 0:
                load.kill_after_ack(victim.index)
                if not load.killed.wait(10):
                    raise AssertionError(f"validator {victim.index} acknowledged nothing in 10 s; {stalled(load, cluster)}")
                code = victim.stop(sig=signal.SIGKILL)  # already killed by the load: reaps it
                kills["after_ack"] += 1
                how = f"right after acknowledging {load.killed_after}"
            else:
                code = victim.kill()
                kills["random"] += 1
                how = "at a random moment"
            assert code == -signal.SIGKILL, f"validator {victim.index} exited {code}"
            log(f"  [{time.monotonic() - started:5.1f} s] kill -9 validator {victim.index} {how}; heads {cluster.heads()}")
            time.sleep(rng.uniform(0.0, 1.0))
            victim.start()
            others = [v for v in cluster if v is not victim]
            cluster.wait_caught_up(victim, others, timeout=60)
            round_ += 1
    finally:
        load.stop()
    log(f"  [{time.monotonic() - started:5.1f} s] load stopped after {load.sent()} transactions; checking")
    summary = check_final_consistency(cluster, load, timeout=120, by_hash=300)
    summary["kills"] = kills
    summary["seconds"] = round(time.monotonic() - started, 1)
    codes = cluster.shutdown()
    assert codes == {i: 0 for i in range(cluster.count)}, f"exit codes on SIGTERM: {codes}"
    return summary
