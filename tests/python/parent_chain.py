"""A parent EVM chain for the anchoring tests: py-evm through eth-tester behind a small JSON-RPC
server on loopback, so `kramaa anchor` talks to it as to any Ethereum node. Every transaction is
mined at once; `mine(n)` adds empty blocks (confirmations)."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from eth_account import Account
from web3 import EthereumTesterProvider, Web3


def wire(value):
    """A web3-formatted value as JSON-RPC writes it."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [wire(v) for v in value]
    return value


class ParentChain:
    def __init__(self, legacy=False):
        self.legacy = legacy  # answer blocks without baseFeePerGas, as a pre-London chain does
        self.provider = EthereumTesterProvider()
        self.w3 = Web3(self.provider)
        self.lock = threading.Lock()
        self.methods = []  # every method asked, in order
        chain = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                answer = chain.answer(request)
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, request):
        """One JSON-RPC request through web3's formatting, its result put back on the wire
        (quantities and bytes as 0x-hex), an exception as a JSON-RPC error with its message."""
        method, params = request["method"], request.get("params", [])
        self.methods.append(method)
        out = {"jsonrpc": "2.0", "id": request.get("id")}
        if method == "eth_maxPriorityFeePerGas":
            return {**out, "result": hex(10**9)}
        if method == "debug_getRawHeader":  # geth's method, from py-evm's own header (eth-tester's JSON pads an empty extraData)
            import rlp
            with self.lock:
                chain = self.provider.ethereum_tester.backend.chain
                number = chain.get_canonical_head().block_number if params[0] == "latest" else int(params[0], 16)
                return {**out, "result": "0x" + rlp.encode(chain.get_canonical_block_header_by_number(number)).hex()}
        if method in ("eth_estimateGas", "eth_call", "eth_getTransactionCount") and len(params) > 1 and params[1] == "pending":
            params = [params[0], "latest"] + params[2:]  # every transaction is mined at once: pending is latest
        try:
            with self.lock:
                if method == "eth_getLogs":  # through web3's own method: its raw request path mis-formats a filter's topics
                    result = self.w3.eth.get_logs(params[0])
                else:
                    result = self.w3.manager.request_blocking(method, params)
        except Exception as error:  # the message is what the client shows
            return {**out, "error": {"code": -32000, "message": str(error.args[0] if error.args else error)}}
        if self.legacy and method.startswith("eth_getBlockBy") and result:
            result = {k: v for k, v in result.items() if k != "baseFeePerGas"}
        result = wire(result)
        if isinstance(result, dict) and isinstance(result.get("logsBloom"), str):  # web3 gives the bloom as a number: 256 bytes on the wire
            result["logsBloom"] = "0x" + int(result["logsBloom"], 16).to_bytes(256, "big").hex()
        return {**out, "result": result}

    def funded_key(self, ether=10):
        account = Account.create()
        with self.lock:
            tx = self.w3.eth.send_transaction({"from": self.w3.eth.accounts[0], "to": account.address, "value": ether * 10**18})
            self.w3.eth.wait_for_transaction_receipt(tx)
        return account

    def mine(self, blocks=1):
        with self.lock:
            self.provider.make_request("evm_mine", [blocks])

    def snapshot(self):
        """The chain as it is now, to go back to (a reorganisation dropping every later block)."""
        with self.lock:
            return self.provider.ethereum_tester.take_snapshot()

    def revert(self, snapshot):
        with self.lock:
            self.provider.ethereum_tester.revert_to_snapshot(snapshot)

    def close(self):
        self.server.shutdown()
