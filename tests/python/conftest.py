"""Shared fixtures: the kramaa binary under test, and devnets of it serving JSON-RPC."""
import json
import os
import pathlib
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def kramaa_binary():
    return os.environ.get("KRAMAA_BIN") or str(ROOT / ".build" / "release" / "kramaa")


@pytest.fixture(scope="session")
def kramaa_bin():
    path = kramaa_binary()
    if not os.access(path, os.X_OK):
        pytest.fail(f"kramaa binary not found at {path}: build it (swift build -c release) or set KRAMAA_BIN")
    return path


@pytest.fixture(scope="session")
def kramaa(kramaa_bin):
    def run(*args, check=True):
        proc = subprocess.run([kramaa_bin, *args], capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"kramaa {' '.join(args)} exited {proc.returncode}: {proc.stderr}{proc.stdout}")
        return proc
    return run


# ---------------------------------------------------------------------------------------------
# A node process serving JSON-RPC


class RPCError(Exception):
    """A JSON-RPC error answer."""

    def __init__(self, error):
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")
        self.message = error.get("message") or ""
        self.data = error.get("data")


def stop_process(proc, sig, timeout, name):
    """Sends `sig` to `proc` (None: nothing to stop) and returns its exit code (negative: the
    signal); kills it and fails when it has not exited within `timeout` seconds."""
    if proc is None:
        return None
    proc.send_signal(sig)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"{name} did not stop within {timeout} s of signal {sig}")


class NodeProcess:
    """`kramaa devnet` or `kramaa node` as a child process, on a free port (--rpc-port 0 and the
    port read back from its output), with stdout and stderr kept in files of its directory."""

    def __init__(self, binary, command, datadir, extra_args=(), log_dir=None):
        self.binary = binary
        self.command = command
        self.datadir = pathlib.Path(datadir)
        self.extra_args = list(extra_args)
        self.log_dir = pathlib.Path(log_dir or self.datadir.parent)
        self.proc = None
        self.port = None
        self.accounts = []
        self.keys = []
        self.starts = 0

    # -- life cycle

    def start(self, fresh=False, port=0, timeout=20):
        assert self.proc is None, "already running"
        self.starts += 1
        self.stdout_path = self.log_dir / f"{self.datadir.name}-{self.starts}.out"
        self.stderr_path = self.log_dir / f"{self.datadir.name}-{self.starts}.err"
        args = [self.binary, self.command, "--datadir", str(self.datadir), "--rpc-port", str(port), "--quiet"]
        if fresh:
            args.append("--fresh")
        if self.command == "devnet":
            args += ["--validators", "1"]  # these tests restart and kill one process: the single-node devnet
        args += self.extra_args
        if "--no-mqtt" not in args and "--mqtt-port" not in args:
            args += ["--mqtt-port", "0", "--mqtt-ws-port", "0"]  # free ports, read back below
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            text = self.stdout_path.read_text(errors="replace")
            m = re.search(r"JSON-RPC \(HTTP and WebSocket\) on http://[^:\s]+:(\d+)", text)
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                raise AssertionError(f"kramaa {self.command} exited {self.proc.returncode} at start:\n{text}\n{self.stderr()}")
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"kramaa {self.command} printed no JSON-RPC address in {timeout} s:\n{text}")
            time.sleep(0.02)
        self.accounts, self.keys = parse_dev_accounts(text)
        m = re.search(r"^MQTT on (\S+?)(?:, |;|$)(?:(ws://\S+?)(?:, |;|$))?", text, re.M)
        self.mqtt_url = m.group(1) if m else None
        self.mqtt_ws_url = m.group(2) if m else None
        while True:
            try:
                self.rpc("eth_blockNumber")
                return self
            except RPCError:
                return self  # it answers (a node with closed reads answers with an error)
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Sends `sig` and waits; returns the exit code."""
        proc, self.proc = self.proc, None
        return stop_process(proc, sig, timeout, f"kramaa {self.command}")

    def kill(self):
        return self.stop(signal.SIGKILL)

    def restart(self, **kwargs):
        code = self.stop()
        assert code == 0, f"exit code {code} on SIGTERM: {self.stderr()}"
        return self.start(**kwargs)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stdout(self):
        return self.stdout_path.read_text(errors="replace")

    def stderr(self):
        return self.stderr_path.read_text(errors="replace")

    # -- JSON-RPC

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/"

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/"

    def post(self, body, content_type="application/json", timeout=20):
        """POSTs raw bytes (or a JSON-encodable object); returns (HTTP status, parsed body or None)."""
        if not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body).encode()
        req = urllib.request.Request(self.url, data=body, headers={"Content-Type": content_type}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, data = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, data = e.code, e.read()
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data

    def call(self, method, *params):
        """The whole answer object of one call."""
        status, answer = self.post({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        assert status == 200, f"{method}: HTTP {status}: {answer}"
        return answer

    def rpc(self, method, *params):
        """The result of one call; raises RPCError on an error answer."""
        answer = self.call(method, *params)
        if "error" in answer:
            raise RPCError(answer["error"])
        return answer["result"]

    def web3(self):
        from web3 import Web3
        return Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 20}))


def parse_dev_accounts(text):
    """The dev accounts' addresses and private keys from the devnet's start-up output."""
    def section(title):
        part = text.split(title, 1)
        if len(part) < 2:
            return []
        out = []
        for line in part[1].splitlines()[2:]:
            m = re.match(r"\((\d+)\) (0x[0-9a-fA-F]+)$", line.strip())
            if not m:
                break
            out.append(m.group(2))
        return out
    return section("Available accounts"), section("Private keys")


@pytest.fixture
def node_factory(kramaa_bin, tmp_path):
    """Makes node processes in this test's temporary directory; stops the ones still running at
    teardown with SIGTERM and asserts that they exit 0."""
    made = []

    def make(command="devnet", extra_args=(), name=None, start=True, **start_kwargs):
        name = name or f"{command}{len(made)}"
        node = NodeProcess(kramaa_bin, command, tmp_path / name, extra_args, log_dir=tmp_path)
        made.append(node)
        if start:
            node.start(**start_kwargs)
        return node

    yield make
    failures = []
    for node in made:
        if node.proc is not None:
            code = node.stop()
            if code != 0:
                failures.append(f"{node.command} in {node.datadir} exited {code} on SIGTERM: {node.stderr()}")
    assert not failures, "\n".join(failures)


def own_devnet(kramaa_bin, tmp_path_factory, name):
    """A module's own single-node devnet like the session's (10 funded dev accounts), for
    modules that make many blocks: on the session devnet they would push its genesis out of the
    128 recent states that other modules' tests read at block 0. Yields it; stops it after."""
    directory = tmp_path_factory.mktemp(name)
    node = NodeProcess(kramaa_bin, "devnet", directory / "chain", ["--accounts", "10"], log_dir=directory)
    node.start(fresh=True)
    yield node
    if node.proc is not None:
        assert node.stop() == 0, node.stderr()


@pytest.fixture(scope="session")
def devnet(kramaa_bin, tmp_path_factory):
    """One devnet for the whole session (most tests share it and read their own nonces):
    10 funded dev accounts, chain id 1337, blocks sealed as soon as transactions arrive.
    Stopped with SIGTERM at the end, which must exit 0."""
    directory = tmp_path_factory.mktemp("devnet")
    node = NodeProcess(kramaa_bin, "devnet", directory / "chain", ["--accounts", "10"], log_dir=directory)
    node.start(fresh=True)
    yield node
    if node.proc is not None:
        code = node.stop()
        assert code == 0, f"devnet exited {code} on SIGTERM: {node.stderr()}"
