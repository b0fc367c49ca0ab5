"""The KZG point evaluation precompile (0x0a, EIP-4844) against c-kzg, Ethereum's reference library.

Proofs are made by c-kzg with the Ethereum ceremony's setup (scripts/setup.sh takes
trusted_setup.txt out of the ckzg source distribution). Each input goes to the precompile
through `kramaa evm batch`; it must succeed (50,000 gas, FIELD_ELEMENTS_PER_BLOB ‖ BLS_MODULUS)
exactly when c-kzg's verify_kzg_proof accepts it and the versioned hash matches: valid proofs,
wrong values and points, proofs of other polynomials, flipped bits, random bytes, values out
of range.
"""
import hashlib
import json
import random
import re
import subprocess
import sys
from pathlib import Path

import ckzg
import pytest

ROOT = Path(__file__).resolve().parents[2]
SETUP = Path(sys.prefix) / "kzg" / "trusted_setup.txt"
BLS_MODULUS = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
SUCCESS_OUTPUT = "0x" + (4096).to_bytes(32, "big").hex() + BLS_MODULUS.to_bytes(32, "big").hex()
POINT_EVALUATION = "0x" + "00" * 19 + "0a"
SEED = 4844


@pytest.fixture(scope="module")
def setup():
    if not SETUP.is_file():
        pytest.fail(f"{SETUP} is missing: scripts/setup.sh (ensure_kzg_setup) fetches it")
    return ckzg.load_trusted_setup(str(SETUP), 0)


def versioned_hash(commitment):
    return b"\x01" + hashlib.sha256(commitment).digest()[1:]


def reference(setup, commitment, z, y, proof):
    """c-kzg's verdict; an input it cannot parse (bad point or field element) is a rejection."""
    try:
        return ckzg.verify_kzg_proof(commitment, z, y, proof, setup)
    except Exception:
        return False


def run_precompile(kramaa_bin, inputs):
    lines = [json.dumps({"id": i, "message": {"to": POINT_EVALUATION, "data": "0x" + data.hex(), "gas": 100_000}})
             for i, data in enumerate(inputs)]
    proc = subprocess.run([kramaa_bin, "evm", "batch"], input="\n".join(lines) + "\n", capture_output=True,
                          text=True, timeout=600, check=True)
    return [json.loads(line) for line in proc.stdout.splitlines()]


def random_blob(rng):
    return b"".join(rng.randrange(BLS_MODULUS).to_bytes(32, "big") for _ in range(4096))


def cases(setup, rng, blobs):
    """(label, commitment, z, y, proof, versioned hash) tuples: valid ones and their damaged kin."""
    made = []
    for blob in blobs:
        commitment = ckzg.blob_to_kzg_commitment(blob, setup)
        z = rng.randrange(BLS_MODULUS).to_bytes(32, "big")
        proof, y = ckzg.compute_kzg_proof(blob, z, setup)
        made.append((commitment, z, y, proof))
    out = []
    for k, (commitment, z, y, proof) in enumerate(made):
        vh = versioned_hash(commitment)
        out.append(("valid", commitment, z, y, proof, vh))
        other_y = ((int.from_bytes(y, "big") + 1) % BLS_MODULUS).to_bytes(32, "big")
        out.append(("wrong y", commitment, z, other_y, proof, vh))
        other_z = ((int.from_bytes(z, "big") + 1) % BLS_MODULUS).to_bytes(32, "big")
        out.append(("wrong z", commitment, other_z, y, proof, vh))
        other = made[(k + 1) % len(made)]
        out.append(("another polynomial's proof", commitment, z, y, other[3], vh))
        out.append(("another commitment", other[0], z, y, proof, versioned_hash(other[0])))
        out.append(("wrong versioned hash", commitment, z, y, proof, b"\x02" + vh[1:]))
        for name, value in (("z", z), ("y", y)):
            high = (int.from_bytes(value, "big") + BLS_MODULUS).to_bytes(32, "big") if int.from_bytes(value, "big") < 2**256 - BLS_MODULUS else value
            damaged = (commitment, high, y, proof) if name == "z" else (commitment, z, high, proof)
            out.append((f"{name} + r", *damaged, vh))
        for _ in range(3):
            bit = rng.randrange(48 * 8)
            flipped = bytearray(commitment)
            flipped[bit // 8] ^= 1 << (bit % 8)
            out.append((f"commitment bit {bit} flipped", bytes(flipped), z, y, proof, versioned_hash(bytes(flipped))))
            bit = rng.randrange(48 * 8)
            flipped = bytearray(proof)
            flipped[bit // 8] ^= 1 << (bit % 8)
            out.append((f"proof bit {bit} flipped", commitment, z, y, bytes(flipped), vh))
        noise = bytes([0x80 | rng.randrange(0x20)]) + rng.randbytes(47)
        out.append(("random compressed-flagged proof", commitment, z, y, noise, vh))
    return out


def test_the_setup_point_in_the_code_is_the_ceremonys():
    lines = SETUP.read_text().split()
    g1_count, g2_count = int(lines[0]), int(lines[1])
    g2 = lines[2 + g1_count: 2 + g1_count + g2_count]
    source = (ROOT / "Sources/KramaaEVM/Precompiles/BLS12381Curve.swift").read_text()
    declaration = source[source.index("static let setupG2"):]
    constant = "".join(re.findall(r'"([0-9a-f]+)"', declaration[:declaration.index(")[...])")]))
    assert constant == g2[1], "setupG2 is KZG_SETUP_G2_MONOMIAL[1] of the ceremony"
    assert g2[0].startswith("93e02b6052719f607dacd3a088274f65"), "the file's first G2 point is the generator"


def test_the_precompile_agrees_with_c_kzg_on_valid_and_damaged_proofs(kramaa_bin, setup):
    rng = random.Random(SEED)
    blobs = [random_blob(rng) for _ in range(6)]
    made = cases(setup, rng, blobs)
    inputs = [vh + z + y + c + p for (_, c, z, y, p, vh) in made]
    results = run_precompile(kramaa_bin, inputs)
    assert len(results) == len(made)
    verdicts = {"valid": 0, "refused": 0}
    disagreements = []
    for (label, c, z, y, p, vh), result in zip(made, results):
        expected = reference(setup, c, z, y, p) and vh == versioned_hash(c)
        ok = result["status"] == "success"
        verdicts["valid" if expected else "refused"] += 1
        if ok != expected:
            disagreements.append(f"{label}: kramaa {result['status']} {result.get('reason', '')}, c-kzg {expected}")
        elif ok:
            assert result["output"] == SUCCESS_OUTPUT and result["gasUsed"] == 50_000, result
        else:
            assert result["status"] == "failure" and result["gasUsed"] == 100_000, result
    assert disagreements == []
    assert verdicts["valid"] >= len(blobs) and verdicts["refused"] > len(blobs), verdicts


def test_constant_and_zero_polynomials_and_the_point_at_infinity(kramaa_bin, setup):
    """Edge cases of the encoding: the zero blob commits to the point at infinity, whose proof is
    also infinity; a constant blob's proof is infinity with y the constant."""
    zero = bytes(131072)
    constant = (7).to_bytes(32, "big") * 4096
    inputs, expectations = [], []
    for blob in (zero, constant):
        commitment = ckzg.blob_to_kzg_commitment(blob, setup)
        for z in (0, 1, BLS_MODULUS - 1):
            zb = z.to_bytes(32, "big")
            proof, y = ckzg.compute_kzg_proof(blob, zb, setup)
            inputs.append(versioned_hash(commitment) + zb + y + commitment + proof)
            expectations.append(reference(setup, commitment, zb, y, proof))
    results = run_precompile(kramaa_bin, inputs)
    assert all(expectations)
    assert [r["status"] for r in results] == ["success"] * len(inputs), results
