"""Every command the README shows is run by a test.

README.md's fenced ```sh blocks hold concrete, runnable commands; usage synopses (placeholders such
as FILE, DIR, 0xADDRESS, `[--option]`, `a|b`, `...`) live in ```text blocks. This file

* parses the ```sh blocks (backslash-continued lines joined, trailing `# comments` outside quotes
  split off) and classifies every command: run here, or listed in MAPPED with the test or script
  that runs it. A command that is neither fails `test_every_readme_command_is_run_or_mapped`,
  naming it and its README line, so a new README command needs a test;
* checks every MAPPED claim (the named file contains the command, and CI reaches that file);
* checks that every `kramaa <subcommand>` (and every script) named in a ```text usage block is
  run by some ```sh command here or by a MAPPED test;
* runs the walkthrough for real (`test_readme_walkthrough`): a `kramaa devnet` (4 validator
  processes, what `scripts/run.sh` execs) on free ports in a scratch folder with a `docs` symlink
  to the repository's docs, then every walkthrough command with bash, in README order, each
  expected to exit 0 unless its README comment says it is `refused` (then: non-zero with a
  message, not usage text); `127.0.0.1:8545`/`8545` and `30303` are rewritten to the chosen
  ports, and the CLI's default `$KRAMAA_RPC` is the chosen port too. Commands that start a chain
  (`kramaa devnet`, `kramaa node`) are run in the background until they answer. At the end the
  chain is stopped with SIGINT and must exit 0;
* runs bare `scripts/run.sh` for real (`test_run_sh`: release build, default ports, the
  repository's `.kramaa/devnet`) until the chain answers, then SIGINT, exit 0;
* runs the README's `scripts/bench.sh` commands as `--quick` smoke runs into a temporary file
  only when asked (`test_bench_smoke`, KRAMAA_BENCH_SMOKE=1): together they take longer than
  this suite's budget.
"""
import os
import pathlib
import re
import shlex
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, stop_process
from validators_support import port_block, wait_until

README = ROOT / "README.md"

# Programs the walkthrough runs itself (with bash, in the scratch folder). Anything else in a
# ```sh block must be run by a dedicated test here or be listed in MAPPED.
WALKTHROUGH_PROGRAMS = {"kramaa", "export", "echo", "printf", "cat", "curl", "jq", "head", "tail", "cp", "mkdir", "ls"}
# Commands that run a chain until stopped: started in the background, waited for, stopped at the end.
SERVER_SUBCOMMANDS = {"devnet", "node"}
VALIDATORS = 4          # `kramaa devnet` default: validator processes, consecutive ports each
COMMAND_TIMEOUT = 90    # seconds for one walkthrough command
READY_TIMEOUT = 90      # seconds for a chain to answer
PORTS_TIMEOUT = 60      # seconds for the default ports to be let go of (a devnet still stopping)
RUN_SH_TIMEOUT = 1800   # scripts/run.sh builds release first (a no-op after scripts/test.sh's build)

# Commands shown in ```sh (or usage) blocks that other tests or scripts run, by program prefix
# (the command's first words). Each claim is checked: `where` must contain every `needle`
# (regular expressions), and `reached` says how CI gets there (checked too, see test_mapped_claims_hold).
MAPPED = [
    {"prefix": "scripts/test.sh", "where": ".ci/run", "needles": [r"scripts/test\.sh"], "reached": "ci",
     "why": "CI's entry point execs it; it is the test command, so a test cannot run it again"},
    {"prefix": "swift build -c release --product kramaa-statetest", "where": "scripts/test.sh",
     "needles": [r"swift build -c release --product kramaa-statetest"], "reached": "test.sh",
     "why": "release build before the state tests"},
    {"prefix": ".build/release/kramaa-statetest", "where": "scripts/test.sh",
     "needles": [r'\.build/release/kramaa-statetest"', r"ethereum/GeneralStateTests"], "reached": "test.sh",
     "why": "every Cancun GeneralStateTests case (with the known failures listed): minutes, so run once, by the test command"},
    {"prefix": ".build/debug/kramaa-evmfuzz", "where": "scripts/test.sh",
     "needles": [r'\.build/debug/kramaa-evmfuzz" --seconds'], "reached": "test.sh",
     "why": "the test command fuzzes for $KRAMAA_FUZZ_SECONDS (30 s)"},
    {"prefix": "scripts/evm-diff.sh", "where": "tests/python/test_evm_diff.py",
     "needles": [r"from evmdiff import|import evmdiff|evmdiff\.", r"scripts/evm-diff\.sh"], "reached": "pytest",
     "why": "evm-diff.sh is `python -m evmdiff` (tools/evmdiff) after a release build; test_evm_diff.py runs "
            "the same comparison (hand cases, 1,200 random programs) against the binary under test",
     "also": [("scripts/evm-diff.sh", r"-m evmdiff")]},
    {"prefix": "kramaa init", "where": "tests/python/test_node_lifecycle.py", "needles": [r'kramaa\("init", "--genesis"'],
     "reached": "pytest", "why": "a chain from a genesis file, then `kramaa node` on it"},
    {"prefix": "kramaa node", "where": "tests/python/test_node_lifecycle.py", "needles": [r'node_factory\("node"'],
     "reached": "pytest", "why": "`kramaa node` on an init'ed data directory (validators: test_validators.py)"},
    {"prefix": "kramaa validators propose-remove", "where": "tests/python/test_governance.py",
     "needles": [r'cli\("propose-remove"'], "reached": "pytest", "why": "removes a validator on a 4-validator chain"},
    {"prefix": "mosquitto_sub", "where": "tests/python/test_mqtt_devices.py",
     "needles": [r'"mosquitto_sub"', r'"-u", d\["address"\], "-P", token'], "reached": "pytest",
     "why": "a registered device subscribes with mosquitto_sub, its address as user name and its token as password"},
    {"prefix": "kramaa demo", "where": "tests/python/test_demos.py",
     "needles": [r'"demo", scenario, "--json", "--rpc"', r'"demo", "oil-platform", "--workdir"'], "reached": "pytest",
     "why": "every scenario with --json on a shared 4-validator devnet (--rpc/--mqtt), and one run that starts and stops its own devnet"},
    {"prefix": "scripts/bench.sh", "where": "tests/python/test_readme.py", "needles": [r"def test_bench_smoke\("],
     "reached": "opt-in",
     "why": "benchmarks never run in the suite at full size; test_bench_smoke runs every README bench command "
            "with --quick into a temporary file (KRAMAA_BENCH_OUT) when KRAMAA_BENCH_SMOKE=1: together they "
            "take minutes (py-evm references, 4 validators), over this suite's budget"},
    {"prefix": "tools/bench/pyevm_gas_rate.py", "where": "Sources/KramaaBench/EVMBench.swift",
     "needles": [r"tools/bench/pyevm_gas_rate\.py"], "reached": "opt-in",
     "why": "kramaa-bench's evm section runs it for its py-evm reference rows (scripts/bench.sh evm; bench smoke)"},
]


# ---------------------------------------------------------------------------------------------
# Parsing README.md


def split_comment(line):
    """(command, comment) of one shell line: a `#` that starts a word outside quotes starts the comment."""
    single = double = escaped = False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\" and not single:
            escaped = True
        elif ch == "'" and not double:
            single = not single
        elif ch == '"' and not single:
            double = not double
        elif ch == "#" and not single and not double and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ""


class Command:
    def __init__(self, text, comment, line, block_lang, section):
        self.text = text            # the command, continuation lines joined, without its comment
        self.comment = comment
        self.line = line            # README line number of its first line
        self.lang = block_lang
        self.section = section      # the heading it sits under

    @property
    def words(self):
        try:
            return shlex.split(self.text)
        except ValueError:
            return self.text.split()

    @property
    def program(self):
        """The first word that is not a VAR=value assignment."""
        for w in self.words:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w):
                return w
        return ""

    @property
    def refused(self):
        """The README says this command is refused: it must fail, with a message."""
        return re.search(r"\brefused\b", self.comment, re.IGNORECASE) is not None

    def subcommand(self):
        """`kramaa a b ...` -> ("a", "b"): up to two lower-case words before any option or argument."""
        words = self.words
        if not words or words[0] != "kramaa":
            return ()
        path = []
        for w in words[1:3]:
            if not re.fullmatch(r"[a-z][a-z0-9-]*", w):
                break
            path.append(w)
        return tuple(path)

    def starts_with(self, prefix):
        words, want = self.words, prefix.split()
        return words[:len(want)] == want

    def __repr__(self):
        return f"README.md:{self.line} `{self.text}`"


def readme_blocks(text=None):
    """[(lang, first line number of its content, section heading, [lines])] of the fenced blocks."""
    lines = (text if text is not None else README.read_text()).splitlines()
    blocks, section, i = [], "", 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^(\s*)(```+|~~~+)\s*([\w+-]*)", line)
        if m:
            fence, lang, start, body = m.group(2), m.group(3), i + 2, []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                body.append(lines[i])
                i += 1
            blocks.append((lang, start, section, body))
        elif line.startswith("#"):
            section = line.lstrip("#").strip()
        i += 1
    return blocks


def block_commands(lang, start, section, body):
    """The commands of one block: continuation lines joined, comments split off, blank lines skipped."""
    out, pending, first = [], [], None
    for offset, raw in enumerate(body):
        command, comment = split_comment(raw)
        if not pending and not command.strip():
            continue
        if first is None:
            first = start + offset
        if command.endswith("\\"):
            pending.append((command[:-1].strip(), comment))
            continue
        pending.append((command.strip(), comment))
        text = " ".join(c for c, _ in pending if c)
        note = " ".join(n for _, n in pending if n)
        out.append(Command(text, note, first, lang, section))
        pending, first = [], None
    if pending:
        out.append(Command(" ".join(c for c, _ in pending if c), "", first, lang, section))
    return out


def sh_commands(text=None):
    return [c for b in readme_blocks(text) if b[0] in ("sh", "bash", "shell", "console") for c in block_commands(*b)]


def usage_lines(text=None):
    """The synopses of ```text blocks: lines naming `kramaa` or a repository program (a path)."""
    out = []
    for b in readme_blocks(text):
        if b[0] != "text":
            continue
        for c in block_commands(*b):
            prog = c.words[0] if c.words else ""
            if prog == "kramaa" or re.match(r"^\.?[\w.-]+/[\w./-]+$", prog):
                out.append(c)
    return out


# ---------------------------------------------------------------------------------------------
# Classification: who runs each command


def mapped_entry(command):
    for entry in MAPPED:
        if command.starts_with(entry["prefix"]):
            return entry
    return None


def is_run_sh(command):
    return command.program == "scripts/run.sh"


def is_walkthrough(command):
    return command.program in WALKTHROUGH_PROGRAMS


def is_server(command):
    return command.program == "kramaa" and command.subcommand()[:1] and command.subcommand()[0] in SERVER_SUBCOMMANDS \
        and not {"-h", "--help"} & set(command.words)


def runner_of(command):
    """Who runs this README command, or None."""
    entry = mapped_entry(command)
    if entry is not None:
        return f"{entry['where']} ({entry['prefix']})"
    if is_run_sh(command):
        return "test_readme.py::test_run_sh"
    if is_walkthrough(command):
        return "test_readme.py::test_readme_walkthrough"
    return None


# ---------------------------------------------------------------------------------------------
# Static checks: fast, no processes


def test_readme_parser_handles_shell_lines():
    text = "\n".join([
        "# A", "```sh",
        'kramaa org create --name "Acme # 1" --from dev0   # a comment',
        "kramaa tag register --uid 04 \\",
        "       --mode aes --org 1   # joined",
        "kramaa x \"$(cat t.txt)\"  # the same again: refused, recorded",
        "```", "```text", "kramaa devnet [--fresh] [--datadir DIR]", "```"])
    cmds = sh_commands(text)
    assert [c.text for c in cmds] == ['kramaa org create --name "Acme # 1" --from dev0',
                                      "kramaa tag register --uid 04 --mode aes --org 1",
                                      'kramaa x "$(cat t.txt)"']
    assert [c.line for c in cmds] == [3, 4, 6]
    assert [c.refused for c in cmds] == [False, False, True]
    assert cmds[0].subcommand() == ("org", "create")
    assert [u.subcommand() for u in usage_lines(text)] == [("devnet",)]


def test_every_readme_command_is_run_or_mapped():
    commands = sh_commands()
    assert commands, "no ```sh blocks found in README.md"
    orphans = [f"{c}: not run by test_readme.py and not in its MAPPED table (add a test, or map it to the test that runs it)"
               for c in commands if runner_of(c) is None]
    assert not orphans, "\n".join(orphans)


# `[--option]`, `...`, a capitalised word (FILE, DIR, N), `0xADDRESS`, `a|b` between words
PLACEHOLDER = re.compile(r"\[|\]|\.\.\.|…|(?<![\w$-])[A-Z][A-Z_]*(?![\w])|\b0x[A-Z]{2,}\b|(?<=\w)\|(?=[\w-])")


def test_sh_blocks_hold_no_usage_synopses():
    """```sh blocks are concrete: placeholders belong in ```text usage blocks."""
    bad = []
    for c in sh_commands():
        # $VARS, "quoted" and 'quoted' text may hold capitals legitimately
        bare = re.sub(r"\$\{?\w+\}?|\"[^\"]*\"|'[^']*'|(?<!\S)[A-Za-z_]\w*=", "", c.text)
        bare = re.sub(r"<[^>]*>", "", bare)
        m = PLACEHOLDER.search(bare)
        if m:
            bad.append(f"{c}: `{m.group(0)}` looks like a placeholder; move the synopsis into a ```text usage block")
    assert not bad, "\n".join(bad)


def test_usage_blocks_name_only_commands_that_run():
    """Every `kramaa <subcommand>` and repository program in a usage block is run by a ```sh command
    here or by a MAPPED test."""
    ran = [c.subcommand() for c in sh_commands() if c.program == "kramaa" and runner_of(c)]
    ran.append(("devnet",))  # the walkthrough's chain: what scripts/run.sh execs
    programs = {c.program for c in sh_commands() if runner_of(c)}
    missing = []
    for u in usage_lines():
        if u.program == "kramaa":
            path = u.subcommand()
            if not path:
                continue
            if any(r[:len(path)] == path for r in ran) or mapped_entry(u):
                continue
            missing.append(f"{u}: `kramaa {' '.join(path)}` is run by no ```sh command and no MAPPED test")
        elif u.program not in programs and not mapped_entry(u):
            missing.append(f"{u}: `{u.program}` is run by no ```sh command and no MAPPED test")
    assert not missing, "\n".join(missing)


def test_mapped_claims_hold():
    test_sh = (ROOT / "scripts" / "test.sh").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci, ".ci/run does not run scripts/test.sh"
    assert re.search(r"pytest.*tests/python", test_sh), "scripts/test.sh does not run pytest on tests/python"
    for entry in MAPPED:
        where = ROOT / entry["where"]
        assert where.is_file(), f"MAPPED {entry['prefix']!r}: {entry['where']} does not exist"
        text = where.read_text()
        for needle in entry["needles"]:
            assert re.search(needle, text), f"MAPPED {entry['prefix']!r}: {entry['where']} does not contain /{needle}/"
        for other, needle in entry.get("also", []):
            assert re.search(needle, (ROOT / other).read_text()), f"MAPPED {entry['prefix']!r}: {other} does not contain /{needle}/"
        reached = entry["reached"]
        if reached == "pytest":
            assert entry["where"].startswith("tests/python/test_"), f"{entry['where']} is not collected by pytest"
        elif reached == "test.sh":
            assert entry["where"] == "scripts/test.sh"
        elif reached == "ci":
            assert entry["where"] == ".ci/run"
        else:
            assert reached == "opt-in" and entry["why"], f"MAPPED {entry['prefix']!r}: say why it is not run by CI"


def test_bench_script_honours_an_output_path():
    """Tests may run benchmarks only into a temporary file: scripts/bench.sh takes KRAMAA_BENCH_OUT."""
    text = (ROOT / "scripts" / "bench.sh").read_text()
    assert "KRAMAA_BENCH_OUT" in text and re.search(r'--out "\$\{?out', text), text


# ---------------------------------------------------------------------------------------------
# Running commands


def rewrite_ports(text, rpc_port, p2p_port):
    text = re.sub(r"\b8545\b", str(rpc_port), text)
    return re.sub(r"\b30303\b", str(p2p_port), text)


def output_of(*paths):
    return "".join(pathlib.Path(p).read_text(errors="replace") for p in paths if pathlib.Path(p).exists())


def answers(port):
    body = b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}'
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=2) as resp:
            return resp.status == 200
    except urllib.error.HTTPError:
        return True  # it answers (closed reads: 401)
    except OSError:
        return False


def wait_ready(proc, out_path, err_path, timeout, what):
    """Waits until `proc` printed its JSON-RPC address(es) and each answers; returns the ports."""
    deadline = time.monotonic() + timeout
    while True:
        text = output_of(out_path)
        # The devnet's own lines (its ready block), not its validators' start-up lines ([vN] ...),
        # which come one by one before every validator answers.
        own = "\n".join(line for line in text.splitlines() if not re.match(r"\[v\d+\]", line))
        ports = sorted({int(p) for p in re.findall(r"JSON-RPC[^\n]*?http://[^:\s/]+:(\d+)", own)})
        if ports and all(answers(p) for p in ports):
            return ports
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited {proc.returncode} before its chain answered:\n{output_of(out_path, err_path)[-4000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: no answering JSON-RPC address within {timeout} s:\n{output_of(out_path, err_path)[-4000:]}")
        time.sleep(0.1)


def stop(proc, what, out_path, err_path, sig=signal.SIGINT):
    code = stop_process(proc, sig, 30, what)
    assert code == 0, f"{what} exited {code} on {signal.Signals(sig).name}:\n{output_of(out_path, err_path)[-4000:]}"


class Scratch:
    """A scratch folder where README commands run with bash, one after the other, with exports
    carried from one command to the next."""

    def __init__(self, directory, kramaa_bin, rpc_port, p2p_port):
        self.dir = pathlib.Path(directory)
        self.rpc_port, self.p2p_port = rpc_port, p2p_port
        self.dir.mkdir(parents=True)
        (self.dir / "docs").symlink_to(ROOT / "docs")
        bin_dir = self.dir / ".bin"
        bin_dir.mkdir()
        (bin_dir / "kramaa").symlink_to(pathlib.Path(kramaa_bin).resolve())
        env = {k: v for k, v in os.environ.items() if not k.startswith("KRAMAA_")}
        env["PATH"] = f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}"
        env["KRAMAA_RPC"] = f"http://127.0.0.1:{rpc_port}"  # the CLI's default, 127.0.0.1:8545, rewritten
        vectors = pathlib.Path(os.environ.get("KRAMAA_VECTORS") or ROOT.parent / "shared" / "vectors")
        schema = vectors / "epcis" / "schema" / "EPCIS-JSON-Schema.json"
        if os.environ.get("KRAMAA_EPCIS_SCHEMA"):
            env["KRAMAA_EPCIS_SCHEMA"] = os.environ["KRAMAA_EPCIS_SCHEMA"]
        elif schema.is_file():
            env["KRAMAA_EPCIS_SCHEMA"] = str(schema)  # as scripts/run.sh does
        self.env = env
        self.state = self.dir / ".exports.sh"
        self.state.write_text("")
        self.servers = []   # (proc, what, out, err)
        self.count = 0

    def script(self, text, keep_exports):
        self.count += 1
        path = self.dir / f".cmd-{self.count}.sh"
        body = f"set -o pipefail\nsource {shlex.quote(str(self.state))}\n"
        if keep_exports:
            body += f"{text}\n__rc=$?\nexport -p > {shlex.quote(str(self.state))}\nexit $__rc\n"
        else:
            body += f"exec {text}\n"
        path.write_text(body)
        return path

    def run(self, text):
        script = self.script(text, keep_exports=True)
        return subprocess.run(["bash", str(script)], cwd=self.dir, env=self.env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=COMMAND_TIMEOUT)

    def start_server(self, text, what):
        script = self.script(text, keep_exports=False)
        out, err = self.dir / f".server-{self.count}.out", self.dir / f".server-{self.count}.err"
        with open(out, "wb") as o, open(err, "wb") as e:
            proc = subprocess.Popen(["bash", str(script)], cwd=self.dir, env=self.env, stdout=o, stderr=e,
                                    stdin=subprocess.DEVNULL)
        self.servers.append((proc, what, out, err))
        wait_ready(proc, out, err, READY_TIMEOUT, what)
        return proc

    def stop_devnets(self):
        for server in [s for s in self.servers if " devnet" in s[1]]:
            self.servers.remove(server)
            stop(server[0], server[1], server[2], server[3])

    def stop_all(self):
        failures = []
        while self.servers:
            proc, what, out, err = self.servers.pop()
            try:
                stop(proc, what, out, err)
            except AssertionError as e:
                failures.append(str(e))
        return failures


def server_command(command, scratch):
    """A README chain command made to run here: the walkthrough's ports for a devnet, fresh ones for a node."""
    text = rewrite_ports(command.text, scratch.rpc_port, scratch.p2p_port)
    words = command.words
    if command.subcommand()[0] == "devnet":
        rpc, p2p = scratch.rpc_port, scratch.p2p_port
    else:
        base = port_block(2)
        rpc, p2p = base, base + 1
    if "--rpc-port" not in words:
        text += f" --rpc-port {rpc}"
    if "--p2p-port" not in words:
        text += f" --p2p-port {p2p}"
    if command.subcommand()[0] != "devnet" and "--mqtt-port" not in words and "--no-mqtt" not in words:
        text += " --mqtt-port 0"  # the walkthrough's devnet holds the default MQTT ports
    return text


def test_readme_walkthrough(kramaa_bin, tmp_path):
    """Every walkthrough command of the README, in order, against a devnet of 4 validator processes."""
    commands = [c for c in sh_commands() if mapped_entry(c) is None and not is_run_sh(c) and is_walkthrough(c)]
    assert commands, "no walkthrough commands found in README.md"
    base = port_block(2 * VALIDATORS)
    scratch = Scratch(tmp_path / "scratch", kramaa_bin, base, base + VALIDATORS)
    failures = []
    try:
        # What `scripts/run.sh` execs after its release build: the default `kramaa devnet`, by the
        # binary's absolute path as run.sh gives it (the devnet starts its validators from argv[0]).
        binary = shlex.quote(str(pathlib.Path(kramaa_bin).resolve()))
        scratch.start_server(f"{binary} devnet --rpc-port {scratch.rpc_port} --p2p-port {scratch.p2p_port} --quiet",
                             "kramaa devnet (as scripts/run.sh runs it)")
        for c in commands:
            if is_server(c):
                if c.subcommand()[0] == "devnet":
                    scratch.stop_devnets()
                scratch.start_server(server_command(c, scratch), str(c))
                continue
            text = rewrite_ports(c.text, scratch.rpc_port, scratch.p2p_port)
            try:
                proc = scratch.run(text)
            except subprocess.TimeoutExpired:
                failures.append(f"{c}: no exit within {COMMAND_TIMEOUT} s")
                break
            out = proc.stdout + proc.stderr
            if c.refused:
                if proc.returncode == 0:
                    failures.append(f"{c}: the README says it is refused, but it exited 0:\n{out}")
                elif not out.strip():
                    failures.append(f"{c}: refused (exit {proc.returncode}) without a message")
                elif re.search(r"^\s*usage:", out, re.IGNORECASE | re.MULTILINE):
                    failures.append(f"{c}: refused with usage text instead of a clear message:\n{out}")
            elif proc.returncode != 0:
                failures.append(f"{c}: exited {proc.returncode} (ran `{text}` in {scratch.dir}):\n{out}")
            if failures:
                break  # later commands build on this one
    finally:
        failures += scratch.stop_all()
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------------------------------------
# scripts/run.sh and scripts/bench.sh


def port_busy(port):
    """Whether `kramaa` could not listen on 127.0.0.1:`port`: bound as its servers bind (SO_REUSEADDR),
    so a port held only by connections in TIME_WAIT (a devnet stopped within the last minute leaves
    its peer ports so) counts as free, as it is for the devnet, and a port something listens on does not."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return False
        except OSError:
            return True


def test_run_sh():
    """`scripts/run.sh` as the README shows it: release build, `kramaa devnet` on 127.0.0.1:8545 with
    the repository's .kramaa/devnet, until the chain answers; Ctrl-C (SIGINT) stops it with exit 0."""
    commands = [c for c in sh_commands() if is_run_sh(c)]
    if not commands:
        pytest.skip("README.md shows no scripts/run.sh command")
    release = ROOT / ".build" / "release" / "kramaa"
    if not release.exists() and not os.environ.get("KRAMAA_RUN_SH_BUILD"):
        pytest.skip(f"{release} is not built: scripts/test.sh builds it before the Python tests (CI); "
                    "set KRAMAA_RUN_SH_BUILD=1 to let scripts/run.sh build it here")
    ports = [*range(8545, 8545 + VALIDATORS), *range(30303, 30303 + VALIDATORS)]
    try:  # a devnet stopped just before may still be letting go of them
        wait_until(lambda: not any(port_busy(p) for p in ports), PORTS_TIMEOUT, interval=0.5, message="the default ports")
    except AssertionError:
        pass  # named below
    busy = [p for p in ports if port_busy(p)]
    assert not busy, (f"scripts/run.sh serves on the README's default ports, but {busy} are in use on 127.0.0.1: "
                      "stop what listens there (another devnet?) and run again")
    env = {k: v for k, v in os.environ.items() if k not in ("KRAMAA_RPC", "KRAMAA_TOKEN")}
    logs = ROOT / ".build" / "test-readme"
    logs.mkdir(parents=True, exist_ok=True)
    for c in commands:
        words = c.words
        out, err = logs / "run-sh.out", logs / "run-sh.err"
        with open(out, "wb") as o, open(err, "wb") as e:
            proc = subprocess.Popen(words, cwd=ROOT, env=env, stdout=o, stderr=e, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        try:
            if len(words) == 1 or words[1] in SERVER_SUBCOMMANDS:
                ports = wait_ready(proc, out, err, RUN_SH_TIMEOUT, str(c))
                assert 8545 in ports, f"{c}: JSON-RPC not on 127.0.0.1:8545 as the README says: {ports}"
                stop(proc, str(c), out, err)  # run.sh execs kramaa: the signal reaches the devnet
            else:
                code = proc.wait(RUN_SH_TIMEOUT)
                assert code == 0, f"{c}: exited {code}:\n{output_of(out, err)[-4000:]}"
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_bench_smoke(tmp_path):
    """The README's `scripts/bench.sh` commands, each with --quick, writing to a temporary file
    (KRAMAA_BENCH_OUT), never to BENCHMARKS.md. Opt-in (KRAMAA_BENCH_SMOKE=1): minutes in total."""
    commands = [c for c in sh_commands() if c.program == "scripts/bench.sh"]
    if not commands:
        pytest.skip("README.md shows no scripts/bench.sh command")
    if os.environ.get("KRAMAA_BENCH_SMOKE") != "1":
        pytest.skip("benchmark smoke runs take minutes: set KRAMAA_BENCH_SMOKE=1 to run "
                    + ", ".join(c.text for c in commands) + " with --quick")
    benchmarks = ROOT / "BENCHMARKS.md"
    before = benchmarks.read_bytes() if benchmarks.exists() else None
    env = {k: v for k, v in os.environ.items() if k not in ("KRAMAA_RPC", "KRAMAA_TOKEN")}
    for i, c in enumerate(commands):
        out_file = tmp_path / f"bench-{i}.md"
        words = c.words + ([] if "--quick" in c.words else ["--quick"])
        proc = subprocess.run(words, cwd=ROOT, env={**env, "KRAMAA_BENCH_OUT": str(out_file)}, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=1800)
        assert proc.returncode == 0, f"{c} --quick exited {proc.returncode}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        assert out_file.is_file() and "|" in out_file.read_text(), f"{c} --quick wrote no table to {out_file}"
    after = benchmarks.read_bytes() if benchmarks.exists() else None
    assert after == before, "a benchmark smoke run rewrote BENCHMARKS.md"
