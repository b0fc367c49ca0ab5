"""Validator-set changes on real processes, through the public interface only (`kramaa
validators ...` against JSON-RPC): four validators add a fifth, which then has to vote for the
chain to go on; then they remove one, after which the chain goes on without it. Every change
needs approvals from more than two thirds of the current validators and takes effect two blocks
after it was approved."""
import re
import shutil
import subprocess

from eth_utils import keccak

from anchoring_support import Accumulator, check_header_commitments, validators_hash
from validators_support import Cluster, port_block, rpc, wait_until

ACTIVATION_DELAY = 2


def send_transfer(validator, sender, value=1):
    """A dev-account transfer through `validator`; returns its receipt once included."""
    tx_hash = validator.rpc("eth_sendTransaction", {"from": sender, "to": "0x" + "22" * 20, "value": hex(value), "gas": "0x5208"})
    return wait_until(lambda: validator.rpc("eth_getTransactionReceipt", tx_hash), 20, message=f"transfer {tx_hash} included")


def advance(cluster_nodes, sender, blocks):
    """Makes `blocks` blocks by sending transfers (the devnet makes no empty blocks)."""
    for _ in range(blocks):
        send_transfer(cluster_nodes[0], sender)


class NodeRPC:
    """The newcomer: a `kramaa node` process outside the cluster."""

    def __init__(self, port, proc):
        self.rpc_port, self.proc = port, proc

    def rpc(self, method, *params, timeout=5):
        return rpc(self.rpc_port, method, *params, timeout=timeout)

    def number(self):
        return int(self.rpc("eth_blockNumber"), 16)

    def head(self):
        block = self.rpc("eth_getBlockByNumber", "latest", False)
        return int(block["number"], 16), block["hash"], block["stateRoot"]


def test_validators_add_a_fifth_then_remove_one(kramaa_bin, kramaa, tmp_path):
    cluster = Cluster(kramaa_bin, tmp_path / "net", count=4, accounts=3).create()
    # The newcomer starts from the same genesis (kept by the devnet) with a key of its own.
    folder = tmp_path / "newcomer"
    kramaa("init", "--genesis", str(tmp_path / "net" / "genesis.json"), "--datadir", str(folder))
    kramaa("keys", "new", "--type", "secp256k1", "--out", str(folder / "node-key.json"))
    newcomer_address = re.search(r"address:\s+(0x[0-9a-fA-F]{40})", kramaa("keys", "show", str(folder / "node-key.json")).stdout)[1]
    cluster.start_all()
    port = port_block(2)
    args = [kramaa_bin, "node", "--datadir", str(folder), "--rpc-port", str(port), "--p2p-port", str(port + 1),
            "--key", str(folder / "node-key.json"), "--dev-accounts", "3", "--dev-open-writes", "--no-mqtt"]
    for j in range(cluster.count):
        args += ["--bootnode", f"{cluster.addresses[j]}@127.0.0.1:{cluster.p2p_base + j}"]
    log = open(tmp_path / "newcomer.log", "wb")
    newcomer = NodeRPC(port, subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
    v = cluster.validators
    sender = v[0].rpc("eth_accounts")[0]

    def cli(*args, validator=None, check=True):
        rpc_port = validator.rpc_port if validator is not None else v[0].rpc_port
        return kramaa("validators", *args, "--rpc", f"http://127.0.0.1:{rpc_port}", check=check)

    def key(i):
        return ["--key", str(v[i].datadir / "node-key.json")]

    try:
        wait_until(lambda: newcomer.rpc("eth_chainId", timeout=1), 20, message="the newcomer's JSON-RPC")
        listed = cli("list").stdout
        assert [a.lower() for a in re.findall(r"0x[0-9a-fA-F]{40}", listed)] == [a.lower() for a in cluster.addresses]

        # Propose (validator 0 approves by proposing), then approvals 2 and 3 of 4.
        out = cli("propose-add", newcomer_address, *key(0), validator=v[0]).stdout
        assert "proposal 1: add" in out and "1 approval(s), open" in out, out
        assert "2 approval(s), open" in cli("approve", "1", *key(1), validator=v[1]).stdout
        out = cli("approve", "1", *key(2), validator=v[2]).stdout
        assert "3 approval(s), executed" in out, out
        approved_at = int(re.search(r"in block (\d+)", out)[1])
        # A second approval by the same validator is refused with the contract's reason, before sending.
        refused = cli("approve", "1", *key(2), check=False)
        assert refused.returncode != 0 and "proposal 1 is no longer open" in refused.stderr + refused.stdout

        # Effective two blocks after the approving block.
        while v[0].number() < approved_at + ACTIVATION_DELAY:
            send_transfer(v[0], sender)
        listed = cli("list").stdout
        assert newcomer_address.lower() in listed.lower(), listed
        wait_until(lambda: newcomer.number() >= approved_at + ACTIVATION_DELAY, 20, message="the newcomer to sync")

        effective = approved_at + ACTIVATION_DELAY
        five = [a.lower() for a in cluster.addresses] + [newcomer_address.lower()]
        assert v[0].rpc("kramaa_validators", hex(effective)) == five
        assert v[0].rpc("kramaa_validators", hex(effective - 1)) == five[:4]

        # With five validators a block needs four votes: stop validator 3 and the chain must
        # still finalise, which it can only with the newcomer's votes; its certificate shows them.
        v[3].stop()
        head = v[0].number()
        receipt = send_transfer(v[1], sender)
        block = int(receipt["blockNumber"], 16)
        assert block > head
        certificate = v[1].rpc("kramaa_getCommitCertificate", hex(block))
        signers = {p["validator"] for p in certificate["precommits"]}
        assert newcomer_address.lower() in signers and len(signers) >= 4, certificate
        assert cluster.addresses[3].lower() not in signers
        wait_until(lambda: newcomer.number() >= block, 20, message="the newcomer to have the block")

        # Remove the stopped validator 3: three approvals of five are not enough, four are.
        out = cli("propose-remove", cluster.addresses[3], *key(0)).stdout
        proposal = re.search(r"proposal (\d+)", out)[1]
        cli("approve", proposal, *key(1))
        assert "3 approval(s), open" in cli("approve", proposal, *key(2)).stdout
        # The newcomer pays for its approval: fund its key first.
        tx = v[0].rpc("eth_sendTransaction", {"from": sender, "to": newcomer_address, "value": hex(10**18), "gas": "0x5208"})
        wait_until(lambda: v[0].rpc("eth_getTransactionReceipt", tx), 20, message="funding the newcomer")
        out = kramaa("validators", "approve", proposal, "--key", str(folder / "node-key.json"),
                     "--rpc", f"http://127.0.0.1:{newcomer.rpc_port}").stdout
        assert "4 approval(s), executed" in out, out
        removed_at = int(re.search(r"in block (\d+)", out)[1])
        while v[0].number() < removed_at + ACTIVATION_DELAY:
            send_transfer(v[0], sender)
        listed = cli("list").stdout
        assert cluster.addresses[3].lower() not in listed.lower(), listed
        assert v[0].rpc("kramaa_validators") == [a for a in five if a != cluster.addresses[3].lower()]
        # Every header, across both changes, committed to the history and to the set of the
        # next block: the block before each change's activation names the new set.
        check_header_commitments(v[0].rpc, v[0].number())
        commits_to = lambda n, validators: v[0].rpc("eth_getBlockByNumber", hex(n), False)["extraData"] == "0x" + keccak(
            Accumulator.at(v[0].rpc, n).root() + validators_hash(validators)).hex()
        assert commits_to(effective - 1, five) and not commits_to(effective - 2, five)

        # Four validators now (0, 1, 2, newcomer): three of them finalise without the newcomer.
        newcomer.proc.terminate()
        assert newcomer.proc.wait(20) == 0
        head = v[0].number()
        receipt = send_transfer(v[2], sender)
        assert int(receipt["blockNumber"], 16) > head

        # The removed validator may no longer propose.
        refused = cli("propose-add", cluster.addresses[3], *key(3), check=False)
        assert refused.returncode != 0
        assert "only a current validator may propose a validator change" in refused.stderr + refused.stdout

        heads = {i: v[i].head() for i in range(3)}
        wait_until(lambda: len({v[i].head() for i in range(3)}) == 1, 20, message=f"the same head on 0..2: {heads}")
    finally:
        if newcomer.proc.poll() is None:
            newcomer.proc.kill()
            newcomer.proc.wait()
        log.close()
        for node in cluster:
            if node.proc is not None:
                node.stop()
