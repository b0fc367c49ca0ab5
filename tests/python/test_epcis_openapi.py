"""Every operation of GS1's EPCIS 2.0 OpenAPI ($KRAMAA_VECTORS/epcis/openapi/openapi.yaml) on a
real node, each answered with a status the specification documents for it (so none is missing,
none answers 404 or 405 for want of a route), and the discovery headers it promises. The list
grows with the specification: every path and method found there is exercised."""
import json
import urllib.parse

import pytest
import yaml

from test_epcis_api import EPCIS, capture
from test_epcis_queries import Subscriber, http, node, post  # noqa: F401 (node: the fixture)

SPEC_PATH = EPCIS / "openapi" / "openapi.yaml"


EVENT = {"type": "ObjectEvent", "eventTime": "2026-12-05T11:00:00.000Z", "eventTimeZoneOffset": "+00:00", "eventID": "urn:uuid:6a7f0c64-0d3c-4f42-a7d1-2f3d00e9b001",
         "epcList": ["urn:epc:id:sgtin:0614141.107346.4242"], "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
         "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"}, "bizLocation": {"id": "urn:epc:id:sgln:0614141.00888.0"}}


def test_every_operation_of_the_gs1_openapi_is_served(node):
    node, brand = node
    spec = yaml.safe_load(SPEC_PATH.read_text())
    document = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
                "schemaVersion": "2.0", "creationDate": "2026-12-05T11:00:00Z", "epcisBody": {"eventList": [EVENT]}}
    status, headers, job = capture(node, brand, document)
    assert status == 202 and job["success"], job
    subscriber = Subscriber()
    try:
        assert post(node, "/queries", {"name": "kept", "query": {"EQ_bizStep": ["shipping"]}})[0] == 201
        subscription = post(node, "/queries/kept/subscriptions", {"dest": subscriber.url, "stream": True})[2]["subscriptionID"]
        values = {"captureID": job["captureID"], "eventID": EVENT["eventID"], "eventType": "ObjectEvent", "epc": EVENT["epcList"][0],
                  "bizStep": "shipping", "bizLocation": EVENT["bizLocation"]["id"], "readPoint": EVENT["readPoint"]["id"],
                  "disposition": "in_transit", "queryName": "kept", "subscriptionID": subscription, "token": "o0"}
        exercised = 0
        # Deletions last, so what they delete is there for the others.
        operations = [(p, m) for p, item in spec["paths"].items() for m in item if m in ("get", "post", "delete", "options", "put", "patch")]
        operations.sort(key=lambda pm: (pm[1] == "delete", -pm[0].count("/")))
        for path, method in operations:
            concrete = path
            for name, value in values.items():
                concrete = concrete.replace("{" + name + "}", urllib.parse.quote(value, safe=""))
            assert "{" not in concrete, f"no value for a parameter of {path}"
            body, extra = None, {}
            if (path, method) == ("/capture", "post"):
                body = json.dumps({**document, "epcisBody": {"eventList": [{**EVENT, "eventID": "urn:uuid:6a7f0c64-0d3c-4f42-a7d1-2f3d00e9b002",
                                                                             "eventTime": "2026-12-05T11:00:02.000Z"}]}}).encode()
                extra = {"Content-Type": "application/ld+json", "Kramaa-From": brand, "Kramaa-Organization": "1"}
            elif (path, method) == ("/events", "post"):
                body = json.dumps({**EVENT, "eventID": "urn:uuid:6a7f0c64-0d3c-4f42-a7d1-2f3d00e9b003", "eventTime": "2026-12-05T11:00:03.000Z"}).encode()
                extra = {"Content-Type": "application/ld+json", "Kramaa-From": brand, "Kramaa-Organization": "1"}
            elif (path, method) == ("/queries", "post"):
                body = json.dumps({"name": "another", "query": {"eventType": ["ObjectEvent"]}}).encode()
                extra = {"Content-Type": "application/json"}
            elif path.endswith("/subscriptions") and method == "post":
                body = json.dumps({"dest": subscriber.url, "schedule": {"minute": "5"}}).encode()
                extra = {"Content-Type": "application/json"}
            status, answer_headers, answer = http(node.port, method.upper(), "/epcis" + ("" if concrete == "/" else concrete), body, extra)
            documented = set(spec["paths"][path][method].get("responses", {}))
            assert str(status) in documented, f"{method.upper()} {path} answered {status} ({answer}); documented: {sorted(documented)}"
            if method == "options":
                assert "OPTIONS" in answer_headers.get("allow", "") and answer_headers.get("gs1-epcis-version") == "2.0.0", (path, answer_headers)
                assert answer_headers.get("gs1-epcis-capture-limit") == "100"
            exercised += 1
        assert exercised >= 60, exercised
    finally:
        subscriber.close()
    # The single-event capture's location names the event, which is then queryable.
    single = {**EVENT, "eventID": "urn:uuid:6a7f0c64-0d3c-4f42-a7d1-2f3d00e9b004", "eventTime": "2026-12-05T11:00:04.000Z"}
    status, headers, _ = http(node.port, "POST", "/epcis/events", json.dumps(single).encode(),
                              {"Content-Type": "application/ld+json", "Kramaa-From": brand, "Kramaa-Organization": "1"})
    assert status == 201 and urllib.parse.unquote(headers["location"]) == "/epcis/events/urn:uuid:6a7f0c64-0d3c-4f42-a7d1-2f3d00e9b004"
    assert http(node.port, "GET", headers["location"])[0] == 200
    status, _, problem = http(node.port, "POST", "/epcis/events", json.dumps(single).encode(),
                              {"Content-Type": "application/ld+json", "Kramaa-From": brand, "Kramaa-Organization": "1"})
    assert status == 409 and "recorded" in json.dumps(problem), problem
