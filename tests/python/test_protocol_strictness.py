"""Protocol strictness of the REST, EPCIS and tag interfaces on a real node: write bodies only as
JSON or JSON-LD by their content type (a browser can send text/plain or a form cross-origin
without a preflight), 405/413/404 in one application/problem+json form, EPCIS record times set
by the repository, event IDs that name one event, and a malformed Kramaa-Organization refused.
Every refusal names what was wrong and changes nothing on chain."""
import calendar
import json
import time
import urllib.error
import urllib.request

import pytest

from test_epcis_api import node  # noqa: F401  (the fixture: a devnet with an EPCIS schema and organisation 1)

TAG = {"uid": "04DE5F1EACC041", "mode": "aes", "fileReadKey": "00" * 16, "metaReadKey": "11" * 16, "organisation": 1}


def http(port, method, path, body=None, headers=None):
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def problem(answer):
    status, headers, body = answer
    assert headers.get("Content-Type") == "application/problem+json", (status, dict(headers), body)
    document = json.loads(body)
    assert document["status"] == status and document["title"] and document["detail"], document
    return status, document["detail"], headers


def document(*events):
    return {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
            "schemaVersion": "2.0", "creationDate": "2026-11-25T10:00:00Z", "epcisBody": {"eventList": list(events)}}


def event(serial, **extra):
    return {"type": "ObjectEvent", "eventTime": "2026-11-25T09:00:00Z", "eventTimeZoneOffset": "+00:00", "action": "OBSERVE",
            "epcList": [f"urn:epc:id:sgtin:0614141.107346.{serial}"], "bizStep": "inspecting", **extra}


def capture(node, account, body, org="1", content_type="application/ld+json"):
    headers = {"Content-Type": content_type, "Kramaa-From": account}
    if org is not None:
        headers["Kramaa-Organization"] = org
    status, _, answer = http(node.port, "POST", "/epcis/capture", body, headers)
    return status, json.loads(answer)


def stored_events(node):
    status, _, body = http(node.port, "GET", "/epcis/events")
    assert status == 200
    return json.loads(body)["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def test_writes_take_only_json_bodies(node):
    node, brand = node
    head = node.rpc("eth_blockNumber")
    for content_type in ("text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded"):
        org = http(node.port, "POST", "/api/v1/organizations", {"from": brand, "name": "Forged"}, {"Content-Type": content_type})
        status, detail, _ = problem(org)
        assert status == 415 and detail.endswith("send it as application/json or application/ld+json"), detail
        epcis = http(node.port, "POST", "/epcis/capture", document(event(1)), {"Content-Type": content_type, "Kramaa-From": brand,
                                                                              "Kramaa-Organization": "1"})
        assert problem(epcis)[0] == 415
        tag = http(node.port, "POST", "/api/v1/tags", {**TAG, "from": brand}, {"Content-Type": content_type})
        assert problem(tag)[0] == 415
    # Nothing was written: no second organisation, no event, no tag, no block.
    assert http(node.port, "GET", "/api/v1/organizations/2")[0] == 404
    assert stored_events(node) == []
    assert http(node.port, "GET", "/api/v1/tags/" + TAG["uid"])[0] == 404
    assert node.rpc("eth_blockNumber") == head
    # The same writes as JSON are served.
    assert http(node.port, "POST", "/api/v1/tags", {**TAG, "from": brand}, {"Content-Type": "application/json"})[0] == 201


def test_refusals_share_the_problem_form(node):
    node, brand = node
    # Allow lists what the resource itself takes (RFC 9110 §10.2.1), from the interfaces' route tables.
    for method, path, allow in (("DELETE", "/api/v1/organizations/1", "GET, HEAD"), ("DELETE", "/epcis/events", "GET, HEAD, POST"),
                                ("PATCH", "/epcis/capture", "GET, HEAD, POST"), ("POST", "/verify", "GET, HEAD"),
                                ("GET", "/api/v1/organizations", "POST"), ("POST", "/api/v1/organizations/1/members/" + brand, "GET, HEAD, PUT"),
                                ("DELETE", "/api/v1/tags/" + TAG["uid"], "GET, HEAD")):
        status, detail, headers = problem(http(node.port, method, path, {}, {"Content-Type": "application/json"}))
        assert status == 405 and headers["Allow"] == allow and detail.startswith(f"{method} is not served at {path}"), (path, detail)
    status, detail, _ = problem(http(node.port, "GET", "/no/such/thing"))
    assert status == 404 and detail == "no resource at /no/such/thing: JSON-RPC is served at /"
    big = b"{" + b" " * (6 * 1024 * 1024) + b"}"
    status, detail, _ = problem(http(node.port, "POST", "/api/v1/organizations", big, {"Content-Type": "application/json"}))
    assert status == 413 and detail.startswith("the body is 6291458 bytes; at most 5242880 are taken")
    # JSON-RPC at / keeps JSON-RPC errors.
    status, headers, body = http(node.port, "POST", "/", big, {"Content-Type": "application/json"})
    assert status == 413 and headers["Content-Type"] == "application/json" and json.loads(body)["error"]["code"] == -32600


def test_record_time_is_the_repositorys(node):
    node, brand = node
    before = time.time()
    status, job = capture(node, brand, document(event(2, recordTime="2000-01-01T00:00:00Z")))
    assert status == 202 and job["success"], job
    [stored] = stored_events(node)
    recorded = calendar.timegm(time.strptime(stored["recordTime"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert before - 5 <= recorded <= time.time() + 5, stored["recordTime"]
    status, _, body = http(node.port, "GET", "/epcis/events?LT_recordTime=2001-01-01T00:00:00Z")
    assert json.loads(body)["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []


def test_event_ids_name_one_event(node):
    node, brand = node
    wrong = "ni:///sha-256;" + "ab" * 32 + "?ver=CBV2.0"
    head = node.rpc("eth_blockNumber")
    status, job = capture(node, brand, document(event(3, eventID=wrong)))
    assert status == 202 and job["success"] is False
    assert job["errors"][0]["detail"].startswith(f"eventID {wrong} is not this event's hash: the event's hash ID is ni:///sha-256;")
    assert stored_events(node) == [] and node.rpc("eth_blockNumber") == head
    shared = "urn:uuid:3a0c5c8e-7b9f-4c55-9f2e-111111111111"
    status, job = capture(node, brand, document(event(4, eventID=shared)))
    assert job["success"], job
    head = node.rpc("eth_blockNumber")
    status, job = capture(node, brand, document(event(5, eventID=shared)))
    assert job["success"] is False and f"eventID {shared} already names another event" in job["errors"][0]["detail"], job
    status, job = capture(node, brand, document(event(6, eventID="urn:uuid:3a0c5c8e-7b9f-4c55-9f2e-222222222222"),
                                                event(7, eventID="urn:uuid:3a0c5c8e-7b9f-4c55-9f2e-222222222222")))
    assert job["success"] is False and "already names another event" in job["errors"][0]["detail"], job
    assert [e["epcList"] for e in stored_events(node)] == [["urn:epc:id:sgtin:0614141.107346.4"]]
    assert node.rpc("eth_blockNumber") == head


def test_malformed_organization_header_is_refused(node):
    node, brand = node
    head = node.rpc("eth_blockNumber")
    for value in ("1x", "-1", "one", "18446744073709551616"):
        status, answer = capture(node, brand, document(event(8)), org=value)
        assert status == 400 and answer["detail"] == f'the Kramaa-Organization header "{value}" is not an organisation id: give the decimal id (e.g. 1)'
    assert stored_events(node) == [] and node.rpc("eth_blockNumber") == head
