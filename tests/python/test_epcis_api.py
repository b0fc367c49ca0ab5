"""The EPCIS 2.0 interface (/epcis) on a real node: every example document of the GS1 suite
(`$KRAMAA_VECTORS/epcis/examples/json`) is captured through POST /epcis/capture, goes on chain
by its CBV 2.0 event hashes, and queries back equivalent to what went in; capture jobs follow
the error behaviour (rollback, proceed); invalid documents and bad query parameters get clear
problems and change nothing."""
import json
import os
import pathlib
import urllib.error
import urllib.request
import uuid

import pytest

VECTORS = pathlib.Path(os.environ.get("KRAMAA_VECTORS") or pathlib.Path(__file__).parents[2] / ".." / "shared" / "vectors")
EPCIS = VECTORS / "epcis"
SCHEMA = EPCIS / "schema" / "EPCIS-JSON-Schema.json"


def http(port, method, path, body=None, headers=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def all_pages(node, path):
    """Every page of a query, following each answer's `Link: <…>; rel="next"` header."""
    pages = []
    while path:
        status, headers, result = http(node.port, "GET", path)
        assert status == 200 and result["type"] == "EPCISQueryDocument", result
        headers = {k.lower(): v for k, v in headers.items()}
        assert headers.get("gs1-epcis-version") == "2.0.0" and headers.get("gs1-cbv-version") == "2.0.0", headers
        pages.append(result)
        link = headers.get("link")
        path = link.split(">")[0].lstrip("<") if link else None
        assert len(pages) < 1000
    return pages


def own_ids(document):
    """The document with illustrative hash eventIDs (GS1's examples carry ones that are not the
    events' hashes, which capture refuses) replaced by UUID URNs derived from them."""
    document = json.loads(json.dumps(document))
    for event in event_list(document):
        if event.get("eventID", "").startswith("ni:///"):
            event["eventID"] = "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, event["eventID"]))
    return document


def event_list(document):
    body = document["epcisBody"]
    return body["eventList"] if "eventList" in body else body["queryResults"]["resultsBody"]["eventList"]


def canonical(event):
    """The event as compared: `recordTime` is the repository's (a captured one is replaced)."""
    return json.dumps({k: v for k, v in event.items() if k != "recordTime"}, sort_keys=True)


@pytest.fixture
def node(node_factory, monkeypatch):
    assert SCHEMA.is_file(), f"EPCIS vectors missing at {EPCIS}: set KRAMAA_VECTORS"
    monkeypatch.setenv("KRAMAA_EPCIS_SCHEMA", str(SCHEMA))
    node = node_factory("devnet", ["--accounts", "3"], fresh=True)
    brand = node.rpc("eth_accounts")[0]
    status, _, _ = http(node.port, "POST", "/api/v1/organizations", json.dumps({"from": brand, "name": "Brand"}).encode(),
                        {"Content-Type": "application/json"})
    assert status == 201
    return node, brand


def capture(node, account, document, behaviour=None, org=1):
    headers = {"Content-Type": "application/ld+json", "Kramaa-From": account, "Kramaa-Organization": str(org)}
    if behaviour:
        headers["GS1-Capture-Error-Behaviour"] = behaviour
    return http(node.port, "POST", "/epcis/capture", document if isinstance(document, bytes) else json.dumps(document).encode(), headers)


def test_every_example_document_captures_and_queries_back(node):
    node, brand = node
    files = sorted((EPCIS / "examples" / "json").rglob("*.json*"))
    assert files, f"no example documents under {EPCIS / 'examples' / 'json'}"
    captured, refused = [], 0
    illustrative = 0
    # A refusal may only be for an event captured from another example already (same CBV hash),
    # an eventID that already names another example's event, or a hash eventID that is not the
    # event's own hash (GS1's examples carry illustrative ones: such a document is captured again
    # with UUID eventIDs; one whose hash IDs are right is captured as it is).
    reasons = ("recorded already", "is not this event's hash", "already names another event")
    for path in files:
        document = json.loads(path.read_text())
        status, headers, job = capture(node, brand, path.read_bytes())
        if not job.get("success") and any("is not this event's hash" in e.get("detail", "") for e in job.get("errors", [])):
            illustrative += 1
            document = own_ids(document)
            status, headers, job = capture(node, brand, document)
        assert status == 202, f"{path.name}: {status} {job}"
        assert headers["location"] == f"/epcis/capture/{job['captureID']}"
        assert http(node.port, "GET", headers["location"])[2] == job
        if not job["success"]:
            assert all(any(r in e.get("detail", "") for r in reasons) for e in job["errors"]), f"{path.name}: {job}"
            refused += len(event_list(document))  # rollback: the whole document was refused
        else:
            captured += event_list(document)
    pages = all_pages(node, "/epcis/events?perPage=7")
    assert all(len(event_list(page)) == 7 for page in pages[:-1]) and len(event_list(pages[-1])) <= 7
    assert len(pages) > 1, "more than one page of 7"
    assert sum(len(event_list(p)) for p in all_pages(node, "/epcis/events")) == sum(len(event_list(p)) for p in pages)
    returned = {canonical(e) for page in pages for e in event_list(page)}
    missing = [e for e in captured if canonical(e) not in returned]
    assert not missing, f"{len(missing)} captured events not queried back, e.g. {missing[0]}"
    assert len(returned) == len({canonical(e) for e in captured})
    print(f"\n{len(files)} example documents ({illustrative} refused until their illustrative hash eventIDs were replaced), "
          f"{len(captured)} events captured and queried back, {refused} refused as already recorded")


def test_queries_filter_by_the_standard_parameters(node):
    node, brand = node
    document = own_ids(json.loads((EPCIS / "examples" / "json" / "Example_9.6.2-ObjectEvent.jsonld").read_text()))
    assert capture(node, brand, document)[2]["success"]
    event = event_list(document)[0]
    for query, expected in [("eventType=ObjectEvent", 1), ("eventType=AggregationEvent", 0), ("EQ_bizStep=receiving", 1),
                            ("EQ_bizStep=urn:epcglobal:cbv:bizstep:receiving", 1), ("EQ_bizStep=shipping", 0),
                            (f"EQ_readPoint={event['readPoint']['id']}", 1), ("GE_eventTime=2013-06-08T14:58:56.591Z", 1),
                            ("LT_eventTime=2013-06-08T14:58:56.591Z", 0)]:
        status, _, result = http(node.port, "GET", "/epcis/events?" + query)
        assert status == 200, f"{query}: {result}"
        assert len(event_list(result)) == expected, f"{query}: {event_list(result)}"
    status, _, problem = http(node.port, "GET", "/epcis/events?EQ_nonsense=1")
    assert status == 400 and problem["type"] == "epcisException:QueryParameterException", problem


def test_capture_error_behaviour_rollback_and_proceed(node):
    node, brand = node
    good = {"type": "ObjectEvent", "eventTime": "2026-11-25T09:00:00Z", "eventTimeZoneOffset": "+00:00", "action": "OBSERVE",
            "epcList": ["urn:epc:id:sgtin:0614141.107346.2018"], "bizStep": "inspecting"}
    bad = {"type": "ObjectEvent", "eventTimeZoneOffset": "+00:00", "action": "OBSERVE", "epcList": []}
    document = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
                "schemaVersion": "2.0", "creationDate": "2026-11-25T10:00:00Z", "epcisBody": {"eventList": [good, bad]}}
    status, _, job = capture(node, brand, document)  # rollback by default: nothing stored
    assert status == 202 and job["success"] is False and job["captureErrorBehaviour"] == "rollback" and len(job["errors"]) == 1
    assert event_list(http(node.port, "GET", "/epcis/events")[2]) == []
    status, _, job = capture(node, brand, document, behaviour="proceed")
    assert job["success"] is False and job["captureErrorBehaviour"] == "proceed" and len(job["errors"]) == 1
    assert [canonical(e) for e in event_list(http(node.port, "GET", "/epcis/events")[2])] == [canonical(good)]
    # Not JSON, not a document, an outsider, a wrong header: refused with a problem; nothing stored.
    assert capture(node, brand, b"{not json")[0] == 400
    assert capture(node, brand, {"type": "Nothing"})[0] == 400
    assert capture(node, brand, document, behaviour="sometimes")[0] == 400
    outsider = node.rpc("eth_accounts")[2]
    status, _, job = capture(node, outsider, {**document, "epcisBody": {"eventList": [{**good, "bizStep": "shipping"}]}})
    assert job["success"] is False and "is not a member of organisation 1" in job["errors"][0]["detail"]
    assert len(event_list(http(node.port, "GET", "/epcis/events")[2])) == 1


def test_cli_captures_and_queries(node, kramaa, tmp_path):
    node, brand = node
    path = tmp_path / "Example_9.6.2-ObjectEvent.jsonld"
    path.write_text(json.dumps(own_ids(json.loads((EPCIS / "examples" / "json" / path.name).read_text()))))
    url = ["--rpc", f"http://127.0.0.1:{node.port}"]
    job = json.loads(kramaa("event", "capture", str(path), "--org", "1", "--from", brand, *url).stdout)
    assert job["success"] is True
    assert json.loads(kramaa("event", "job", job["captureID"], *url).stdout) == job
    result = json.loads(kramaa("event", "query", "EQ_bizStep=receiving", "eventType=ObjectEvent", *url).stdout)
    assert [canonical(e) for e in event_list(result)] == [canonical(e) for e in event_list(json.loads(path.read_text()))]
    assert event_list(json.loads(kramaa("event", "query", "EQ_bizStep=shipping", *url).stdout)) == []
    again = kramaa("event", "capture", str(path), "--org", "1", "--from", brand, *url, check=False)
    assert again.returncode == 1 and "recorded already" in again.stdout
    bad = kramaa("event", "query", "EQ_nothing=1", *url, check=False)
    assert bad.returncode != 0 and "Invalid query" in bad.stderr and "EQ_nothing" in bad.stderr


def test_top_level_resources_and_event_by_id(node):
    node, brand = node
    document = own_ids(json.loads((EPCIS / "examples" / "json" / "Example_9.6.2-ObjectEvent.jsonld").read_text()))
    assert capture(node, brand, document)[2]["success"]
    event = event_list(document)[0]
    quote = lambda text: urllib.request.quote(text, safe="")
    status, _, types = http(node.port, "GET", "/epcis/eventTypes")
    assert status == 200 and types["type"] == "Collection"
    assert set(types["member"]) >= {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"}
    steps = http(node.port, "GET", "/epcis/bizSteps")[2]["member"]
    assert steps == ["https://ref.gs1.org/cbv/BizStep-receiving"]
    assert http(node.port, "GET", "/epcis/readPoints")[2]["member"] == [event["readPoint"]["id"]]
    assert http(node.port, "GET", "/epcis/bizSteps/" + quote(steps[0]))[2]["member"] == ["events"]
    for resource, value, expected in [("bizSteps", "receiving", 1), ("bizSteps", "shipping", 0), ("eventTypes", "ObjectEvent", 1),
                                      ("eventTypes", "AggregationEvent", 0), ("readPoints", event["readPoint"]["id"], 1),
                                      ("bizLocations", event["bizLocation"]["id"], 1), ("dispositions", "in_progress", 1)]:
        status, _, result = http(node.port, "GET", f"/epcis/{resource}/{quote(value)}/events")
        assert status == 200 and len(event_list(result)) == expected, f"{resource}/{value}: {result}"
    epcs = http(node.port, "GET", "/epcis/epcs")[2]["member"]
    assert epcs == event.get("epcList", []) + [], epcs
    status, _, by_id = http(node.port, "GET", "/epcis/events/" + quote(event["eventID"]))
    assert status == 200 and [canonical(e) for e in event_list(by_id)] == [canonical(event)]
    status, headers, missing = http(node.port, "GET", "/epcis/events/" + quote("ni:///sha-256;" + "0" * 64 + "?ver=CBV2.0"))
    assert status == 404 and "no event with eventID" in missing["detail"], missing
