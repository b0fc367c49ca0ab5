"""Backup and restore (docs/OPERATIONS.md) on a devnet of 4 validator processes under load:
`kramaa backup create` copies a running validator's data directory; the copy verifies and is
restored into a new data directory, from which the validator rejoins and signs again. A backup
killed with -9 leaves nothing that passes for a backup; a node killed with -9 while it is backed
up leaves a backup that restores. Truncated or altered backups are refused with the reason, and
a refused restore writes nothing."""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import time

import pytest

from validators_support import Cluster, Load, wait_until


@pytest.fixture(scope="module")
def cluster(kramaa_bin, tmp_path_factory):
    cluster = Cluster(kramaa_bin, tmp_path_factory.mktemp("backup") / "net", count=4, accounts=4).create()
    cluster.start_all()
    load = Load(cluster, senders=2, rate=15)
    load.start()
    yield cluster
    load.stop()
    cluster.shutdown()


def backup(kramaa_bin, *args, check=True):
    run = subprocess.run([kramaa_bin, "backup", *args], capture_output=True, text=True, timeout=120)
    if check:
        assert run.returncode == 0, run.stderr + run.stdout
    return run


def signers(node, number):
    certificate = node.rpc("kramaa_getCommitCertificate", hex(number))
    return {p["validator"].lower() for p in certificate["precommits"]}


def test_an_online_backup_restores_into_a_validator_that_rejoins(kramaa_bin, cluster, tmp_path):
    v = cluster.validators
    wait_until(lambda: v[1].number() >= 5, 30, message="a few blocks")
    out = tmp_path / "backup-1"
    made = backup(kramaa_bin, "create", "--datadir", str(v[1].datadir), "--out", str(out))
    head = int(made.stdout.split("head block ")[1].split()[0])
    assert head >= 5 and out.is_dir() and not (tmp_path / "backup-1.partial").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    paths = {f["path"] for f in manifest["files"]}
    assert {"chain.sqlite", "node-key.json", "access-tokens.json"} <= paths
    assert not any(p.endswith((".lock", "-wal", "-shm")) for p in paths)
    key_mode = next(f["mode"] for f in manifest["files"] if f["path"] == "node-key.json")
    assert key_mode & 0o077 == 0
    assert "ok: " in backup(kramaa_bin, "verify", str(out)).stdout

    # The validator's disk is lost: restore on a new data directory, and it rejoins.
    v[1].kill()
    shutil.rmtree(v[1].datadir)
    restored = backup(kramaa_bin, "restore", str(out), "--datadir", str(v[1].datadir))
    assert f"opens at block {head}" in restored.stdout
    assert (pathlib.Path(v[1].datadir) / "node-key.json").stat().st_mode & 0o077 == 0
    v[1].start()
    wait_until(lambda: v[1].number() >= v[0].number() - 1 > head, 60, message="the restored validator catching up")
    # A certificate holds the first 2f+1 precommits its node saw (3 of 4), so one validator is
    # left out of many; the restored one must be in some certificate validator 0 keeps from now on.
    me = cluster.addresses[1].lower()
    first, checked = v[0].number() + 1, set()

    def signed_again():
        for n in range(first, v[0].number() + 1):
            if n not in checked:
                if me in signers(v[0], n):
                    return True
                checked.add(n)
        return False

    wait_until(signed_again, 60, message="the restored validator's precommit in a certificate of validator 0")


def test_a_killed_backup_leaves_nothing_that_passes_for_one(kramaa_bin, cluster, tmp_path):
    v = cluster.validators
    out = tmp_path / "cut-short"
    proc = subprocess.Popen([kramaa_bin, "backup", "create", "--datadir", str(v[2].datadir), "--out", str(out), "--pause-ms", "300"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: (tmp_path / "cut-short.partial" / "chain.sqlite").exists(), 20, message="the backup under way")
    time.sleep(0.4)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    partial = tmp_path / "cut-short.partial"
    refused = backup(kramaa_bin, "verify", str(partial), check=False)
    assert refused.returncode != 0 and "incomplete backup" in refused.stderr
    target = tmp_path / "restored-from-partial"
    refused = backup(kramaa_bin, "restore", str(partial), "--datadir", str(target), check=False)
    assert refused.returncode != 0 and "incomplete backup" in refused.stderr and not target.exists()


def test_a_node_killed_during_its_backup_leaves_a_backup_that_restores(kramaa_bin, cluster, tmp_path):
    v = cluster.validators
    out = tmp_path / "during-crash"
    proc = subprocess.Popen([kramaa_bin, "backup", "create", "--datadir", str(v[3].datadir), "--out", str(out), "--pause-ms", "150"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: (tmp_path / "during-crash.partial" / "chain.sqlite").exists(), 20, message="the backup under way")
    v[3].kill()
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    try:
        assert "ok: " in backup(kramaa_bin, "verify", str(out)).stdout
        target = tmp_path / "restored-after-crash"
        assert "the node opens at block" in backup(kramaa_bin, "restore", str(out), "--datadir", str(target)).stdout
    finally:
        v[3].start()
    wait_until(lambda: v[3].number() >= v[0].number() - 1, 60, message="validator 3 back")


def test_truncated_altered_and_misplaced_restores_are_refused_and_write_nothing(kramaa_bin, cluster, tmp_path):
    v = cluster.validators
    good = tmp_path / "good"
    backup(kramaa_bin, "create", "--datadir", str(v[0].datadir), "--out", str(good))
    again = backup(kramaa_bin, "create", "--datadir", str(v[0].datadir), "--out", str(good), check=False)
    assert again.returncode != 0 and "exists already" in again.stderr

    def damaged(name, change):
        copy = tmp_path / name
        shutil.copytree(good, copy)
        change(copy)
        return copy

    def truncate(copy):
        path = copy / "chain.sqlite"
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) // 2)

    def flip(copy):
        path = copy / "node-key.json"
        data = bytearray(path.read_bytes())
        data[10] ^= 0x01
        path.write_bytes(bytes(data))

    def forge_head(copy):
        manifest = json.loads((copy / "manifest.json").read_text())
        manifest["headNumber"] += 1
        (copy / "manifest.json").write_text(json.dumps(manifest))

    for name, change, reason in [("truncated", truncate, "(truncated?)"), ("flipped", flip, "node-key.json does not match its SHA-256"),
                                 ("forged", forge_head, "the manifest says")]:
        copy = damaged(name, change)
        target = tmp_path / f"restore-{name}"
        refused = backup(kramaa_bin, "restore", str(copy), "--datadir", str(target), check=False)
        assert refused.returncode != 0 and reason in refused.stderr, (name, refused.stderr)
        assert not target.exists() and not pathlib.Path(str(target) + ".partial").exists()

    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "something").write_text("x")
    refused = backup(kramaa_bin, "restore", str(good), "--datadir", str(occupied), check=False)
    assert refused.returncode != 0 and "is not empty" in refused.stderr
    assert sorted(p.name for p in occupied.iterdir()) == ["something"]
    not_a_node = backup(kramaa_bin, "create", "--datadir", str(occupied), "--out", str(tmp_path / "x"), check=False)
    assert not_a_node.returncode != 0 and "not a node's data directory" in not_a_node.stderr
