"""EPCIS 2.0 named queries and query subscriptions (docs/EPCIS.md) on a real node: queries
kept and run with paging; webhooks (a subscriber served by this test) signed with HMAC-SHA-256
under the subscriber's token, sent once per event after failures and retries, scheduled ones
with reportIfEmpty; a subscriber that hangs does not hold up the node; everything survives a
restart; bad definitions are refused and change nothing."""
import hashlib
import hmac
import http.server as http_server
import json
import socket
import threading
import time

import pytest

import urllib.error
import urllib.request

from test_epcis_api import SCHEMA, capture, event_list
from validators_support import wait_until


def http(port, method, path, body=None, headers=None):
    """(status, lower-cased headers, JSON answer or None when empty)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, head, payload = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, head, payload = error.code, error.headers, error.read()
    return status, {k.lower(): v for k, v in head.items()}, json.loads(payload) if payload else None


class Subscriber:
    """An HTTP server recording each POST (headers and JSON body); answers with `statuses` in
    turn (then 200), or never answers when `hang` is set."""

    def __init__(self, statuses=(), hang=False):
        self.posts, self.statuses, self.hang = [], list(statuses), hang
        outer = self

        class Handler(http_server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.hang:
                    time.sleep(30)
                    return
                status = outer.statuses.pop(0) if outer.statuses else 200
                outer.posts.append({"status": status, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http_server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self):
        """Events of the notifications answered 2xx, in order."""
        return [e for p in self.posts if 200 <= p["status"] < 300 for e in event_list(json.loads(p["body"]))]

    def close(self):
        self.server.shutdown()


@pytest.fixture
def node(node_factory, monkeypatch):
    monkeypatch.setenv("KRAMAA_EPCIS_SCHEMA", str(SCHEMA))
    node = node_factory("devnet", ["--accounts", "3"], fresh=True)
    brand = node.rpc("eth_accounts")[0]
    assert http(node.port, "POST", "/api/v1/organizations", json.dumps({"from": brand, "name": "Brand"}).encode(),
                {"Content-Type": "application/json"})[0] == 201
    return node, brand


def post(node, path, body):
    return http(node.port, "POST", "/epcis" + path, json.dumps(body).encode(), {"Content-Type": "application/json"})


def events(step, count, start=0):
    return [{"type": "ObjectEvent", "eventTime": f"2026-12-05T10:{(start + i) % 60:02d}:00.000Z", "eventTimeZoneOffset": "+00:00",
             "epcList": [f"urn:epc:id:sgtin:0614141.107346.{start + i}"], "action": "OBSERVE", "bizStep": step} for i in range(count)]


def captured(node, brand, evs):
    document = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
                "schemaVersion": "2.0", "creationDate": "2026-12-05T10:00:00Z", "epcisBody": {"eventList": evs}}
    status, _, job = capture(node, brand, document)
    assert status == 202 and job["success"], job


def test_named_queries_are_kept_run_and_paged(node):
    node, brand = node
    status, headers, made = post(node, "/queries", {"name": "shipments", "query": {"EQ_bizStep": ["shipping"], "eventType": ["ObjectEvent"]}})
    assert status == 201 and headers["location"] == "/epcis/queries/shipments", made
    assert post(node, "/queries", {"name": "shipments", "query": {}})[0] == 409
    status, _, problem = post(node, "/queries", {"name": "bad", "query": {"EQ_nonsense": ["x"]}})
    assert status == 400 and problem["type"] == "epcisException:QueryParameterException"
    assert post(node, "/queries", {"name": "no spaces please", "query": {}})[0] == 400
    captured(node, brand, events("shipping", 5) + events("receiving", 3, start=10))
    status, headers, page = http(node.port, "GET", "/epcis/queries/shipments/events?perPage=2")
    assert status == 200 and page["epcisBody"]["queryResults"]["queryName"] == "shipments" and len(event_list(page)) == 2
    assert "nextPageToken=" in headers["link"]
    everything = event_list(http(node.port, "GET", "/epcis/queries/shipments/events")[2])
    assert len(everything) == 5 and all(e["bizStep"] == "shipping" for e in everything)
    listed = http(node.port, "GET", "/epcis/queries")[2]
    assert [q["name"] for q in listed] == ["shipments"] and http(node.port, "GET", "/epcis/queries/shipments")[2]["query"]["EQ_bizStep"] == ["shipping"]
    assert http(node.port, "DELETE", "/epcis/queries/shipments")[0] == 204
    assert http(node.port, "GET", "/epcis/queries/shipments")[0] == 404


def test_a_webhook_gets_each_new_matching_event_once_signed_even_after_failures(node):
    node, brand = node
    assert post(node, "/queries", {"name": "shipments", "query": {"EQ_bizStep": ["shipping"]}})[0] == 201
    captured(node, brand, events("shipping", 2, start=40))  # before the subscription: not sent
    subscriber = Subscriber(statuses=[500, 503])
    try:
        status, headers, sub = post(node, "/queries/shipments/subscriptions", {"dest": subscriber.url, "signatureToken": "s3cret", "stream": True})
        assert status == 201 and sub["stream"] is True and sub["signed"] is True and "signatureToken" not in sub
        captured(node, brand, events("shipping", 3) + events("receiving", 2, start=20))
        wait_until(lambda: subscriber.delivered(), 20, message="the notification after two failed attempts")
        first_success = next(p for p in subscriber.posts if p["status"] == 200)
        assert [p["status"] for p in subscriber.posts[:3]] == [500, 503, 200]
        assert [e["epcList"][0] for e in subscriber.delivered()] == [f"urn:epc:id:sgtin:0614141.107346.{i}" for i in range(3)]
        expected = "sha256=" + hmac.new(b"s3cret", first_success["body"], hashlib.sha256).hexdigest()
        assert first_success["headers"]["gs1-signature"] == expected
        assert first_success["headers"]["gs1-epcis-version"] == "2.0.0"
        document = json.loads(first_success["body"])
        assert document["type"] == "EPCISQueryDocument" and document["epcisBody"]["queryResults"]["subscriptionID"] == sub["subscriptionID"]
        captured(node, brand, events("shipping", 1, start=30))
        wait_until(lambda: len(subscriber.delivered()) == 4, 20, message="the next event")
        time.sleep(1.5)
        assert len(subscriber.delivered()) == 4, "nothing is sent twice"
        listed = http(node.port, "GET", "/epcis/queries/shipments/subscriptions")[2]
        assert listed[0]["subscriptionID"] == sub["subscriptionID"] and "lastNotifiedAt" in listed[0]
        assert http(node.port, "DELETE", f"/epcis/queries/shipments/subscriptions/{sub['subscriptionID']}")[0] == 204
        captured(node, brand, events("shipping", 1, start=31))
        time.sleep(1.5)
        assert len(subscriber.delivered()) == 4, "a removed subscription is not notified"
    finally:
        subscriber.close()


def test_scheduled_subscriptions_report_even_when_empty(node):
    node, _ = node
    assert post(node, "/queries", {"name": "all-events", "query": {}})[0] == 201
    subscriber = Subscriber()
    try:
        status, _, sub = post(node, "/queries/all-events/subscriptions",
                              {"dest": subscriber.url, "schedule": {"second": "*/2"}, "reportIfEmpty": True})
        assert status == 201 and sub["schedule"] == {"second": "*/2"}
        wait_until(lambda: len(subscriber.posts) >= 2, 10, message="two scheduled notifications")
        assert all(event_list(json.loads(p["body"])) == [] for p in subscriber.posts)
        assert "gs1-signature" not in subscriber.posts[0]["headers"]
    finally:
        subscriber.close()


def test_a_hanging_or_absent_subscriber_does_not_hold_up_the_node(node):
    node, brand = node
    assert post(node, "/queries", {"name": "q", "query": {}})[0] == 201
    hanging = Subscriber(hang=True)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    try:
        for dest in (hanging.url, f"http://127.0.0.1:{port}/gone"):
            assert post(node, "/queries/q/subscriptions", {"dest": dest, "stream": True})[0] == 201
        captured(node, brand, events("shipping", 2))
        start = time.monotonic()
        for _ in range(5):
            assert http(node.port, "GET", "/epcis/events")[0] == 200
        assert time.monotonic() - start < 2, "queries are answered while a subscriber hangs"
        def gone_has_error():
            subs = http(node.port, "GET", "/epcis/queries/q/subscriptions")[2]
            return any("did not answer" in s.get("lastError", "") for s in subs if "gone" in s["dest"])
        wait_until(gone_has_error, 15, message="the absent subscriber's failure recorded")
    finally:
        hanging.close()


def test_queries_and_subscriptions_survive_a_restart_without_resending(node):
    node, brand = node
    assert post(node, "/queries", {"name": "shipments", "query": {"EQ_bizStep": ["shipping"]}})[0] == 201
    subscriber = Subscriber()
    try:
        sub = post(node, "/queries/shipments/subscriptions", {"dest": subscriber.url, "stream": True})[2]
        captured(node, brand, events("shipping", 2))
        wait_until(lambda: len(subscriber.delivered()) == 2, 20, message="the first notification")
        node.restart()
        assert http(node.port, "GET", f"/epcis/queries/shipments/subscriptions/{sub['subscriptionID']}")[0] == 200
        captured(node, brand, events("shipping", 1, start=50))
        wait_until(lambda: len(subscriber.delivered()) == 3, 20, message="the notification after the restart")
        time.sleep(1.5)
        assert [e["epcList"][0][-2:] for e in subscriber.delivered()] == [".0", ".1", "50"]
    finally:
        subscriber.close()


def test_bad_subscriptions_are_refused_and_change_nothing(node):
    node, _ = node
    assert post(node, "/queries", {"name": "q", "query": {}})[0] == 201
    for body, reason in [({"dest": "http://127.0.0.1:9/x"}, "not both and not neither"),
                         ({"dest": "http://127.0.0.1:9/x", "stream": True, "schedule": {"minute": "5"}}, "not both"),
                         ({"dest": "ftp://127.0.0.1/x", "stream": True}, "http or https"),
                         ({"dest": "http://127.0.0.1:9/x", "schedule": {"minute": "61"}}, "schedule.minute"),
                         ({"dest": "http://127.0.0.1:9/x", "stream": True, "signatureToken": ""}, "signatureToken"),
                         ({"dest": "http://127.0.0.1:9/x", "stream": True, "initialRecordTime": "yesterday"}, "initialRecordTime")]:
        status, _, problem = post(node, "/queries/q/subscriptions", body)
        assert status == 400 and reason in problem["detail"], (body, problem)
    assert http(node.port, "GET", "/epcis/queries/q/subscriptions")[2] == []
    assert post(node, "/queries/nope/subscriptions", {"dest": "http://127.0.0.1:9/x", "stream": True})[0] == 404


def test_a_websocket_subscription_streams_query_documents(node):
    from websockets.sync.client import connect
    node, brand = node
    assert post(node, "/queries", {"name": "shipments", "query": {"EQ_bizStep": ["shipping"]}})[0] == 201
    captured(node, brand, events("shipping", 2, start=5))
    url = f"ws://127.0.0.1:{node.port}/epcis/queries/shipments/subscriptions?stream=true"
    with connect(url, open_timeout=10) as live, connect(url + "&initialRecordTime=2000-01-01T00:00:00Z", open_timeout=10) as history:
        # With initialRecordTime: what was recorded before, at once.
        earlier = json.loads(history.recv(timeout=10))
        assert [e["epcList"][0][-2:] for e in event_list(earlier)] == [".5", ".6"]
        captured(node, brand, events("receiving", 1, start=20) + events("shipping", 1, start=7))
        for ws in (live, history):
            document = json.loads(ws.recv(timeout=10))
            assert document["type"] == "EPCISQueryDocument" and document["epcisBody"]["queryResults"]["queryName"] == "shipments"
            assert [e["epcList"][0][-2:] for e in event_list(document)] == [".7"]
    # Without stream=true, or for an unknown query, there is no upgrade: a plain answer.
    status, _, listed = http(node.port, "GET", "/epcis/queries/shipments/subscriptions")
    assert status == 200 and listed == []
    with pytest.raises(Exception):
        connect(f"ws://127.0.0.1:{node.port}/epcis/queries/nope/subscriptions?stream=true", open_timeout=5)
