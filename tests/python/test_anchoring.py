"""Issue 17's base on real processes: every header commits to the chain's history (a Merkle
mountain range of the block hashes before it) and to the validators of the next block, as
computed independently in anchoring_support.py; a validator-set change is followed in
test_governance.py with the same check."""
from anchoring_support import check_header_commitments
from rpc_helpers import send_signed


def test_every_header_commits_to_the_history_before_it_and_the_next_validators(devnet):
    w3 = devnet.web3()
    for i in range(5):  # blocks of our own, whatever ran before
        send_signed(w3, devnet.keys[1], {"to": "0x" + "33" * 20, "value": 1, "gas": 21_000})
    head = w3.eth.block_number
    assert head >= 5
    assert check_header_commitments(devnet.rpc, head) == head
