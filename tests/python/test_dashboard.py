"""The dashboard (issue 19, docs/DASHBOARD.md) in a real browser: a single-node devnet gets an
organisation, an asset and EPCIS events through the REST and EPCIS interfaces (the
organisation's name and an EPCIS extension field carry markup); headless Chromium then loads
every page (no console errors), finds each kind of thing with the search box, reads the asset's
timeline and the consumer page, sees new blocks arrive live, and fits a 360 px wide screen.
Screenshots are kept in the test's temporary directory (and in $KRAMAA_DASHBOARD_SHOTS when set,
which is how docs/dashboard/ was made)."""
import json
import os
import pathlib
import shutil
import urllib.error
import urllib.parse
import urllib.request

import pytest

from bench_support import bench_smoke
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait


VECTORS = pathlib.Path(os.environ.get("KRAMAA_VECTORS") or pathlib.Path(__file__).parents[2] / ".." / "shared" / "vectors")
EPC = "urn:epc:id:sgtin:0614141.107346.2018"
DIGITAL_LINK = "https://id.gs1.org/01/10614141073464/21/2018"
EVIL = "<script>window.__pwned=1</script><b id=\"injected\">x</b>'\""


def http(port, method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def ok_json(result):
    status, _, body = result
    assert status in (200, 201, 202), f"HTTP {status}: {body[:500]}"
    return json.loads(body)


def event(biz_step, time, **extra):
    return {"type": "ObjectEvent", "eventTime": time, "eventTimeZoneOffset": "+01:00", "epcList": [EPC],
            "action": "ADD" if biz_step == "commissioning" else "OBSERVE", "bizStep": biz_step,
            "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"}, "bizLocation": {"id": "urn:epc:id:sgln:0614141.00888.0"}, **extra}


def document(*events):
    return {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"example": "https://example.com/epcis/"}],
            "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-25T10:00:00Z", "epcisBody": {"eventList": list(events)}}


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


class Pages:
    """Loads pages in the browser, checks each for console errors and keeps its screenshot."""

    def __init__(self, driver, port, shots):
        self.driver, self.port, self.shots = driver, port, shots
        self.kept = os.environ.get("KRAMAA_DASHBOARD_SHOTS")
        self.error_pages = set()  # URLs answered 4xx on purpose: the browser logs their status

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def load(self, path, shot=None, error=False):
        if error:
            self.error_pages.add(self.url(path))
        self.driver.get(self.url(path))
        return self.checked(shot)

    def checked(self, shot=None):
        errors = [entry for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"
                  and not (entry["source"] == "network" and entry["message"].split(" ")[0] in self.error_pages)]
        assert not errors, f"console errors on {self.driver.current_url}: {errors}"
        assert self.driver.execute_script("return window.__pwned === undefined"), "injected script ran"
        assert not self.driver.find_elements(By.ID, "injected"), "injected markup became an element"
        if shot:
            self.driver.save_screenshot(str(self.shots / f"{shot}.png"))
            if self.kept:
                pathlib.Path(self.kept).mkdir(parents=True, exist_ok=True)
                self.driver.save_screenshot(str(pathlib.Path(self.kept) / f"{shot}.png"))
        return self.driver.find_element(By.TAG_NAME, "main").text

    def search(self, term, error=False):
        if error:
            self.error_pages.add(self.url("/dashboard/search?" + urllib.parse.urlencode({"q": term})))
        box = self.driver.find_element(By.ID, "q")
        box.clear()
        box.send_keys(term)
        # The page the search leaves is marked: until it is gone, its URL can already pass the
        # check below (a search from a provenance page for the same item lands on that page
        # again), and its elements go stale under the reader while the next page loads. A new
        # document has a new window, without the mark; while it loads, Chrome may refuse a
        # script or a lookup, which the wait retries.
        self.driver.execute_script("window.__leaving = true")
        self.driver.find_element(By.CSS_SELECTOR, "form[role=search] button").click()
        WebDriverWait(self.driver, 10, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.execute_script("return window.__leaving === undefined && document.readyState === 'complete'")
            and ("/search" not in d.current_url or d.find_elements(By.CSS_SELECTOR, "[role=alert]")))
        return self.checked()


def test_dashboard_pages_in_chromium(node_factory, browser, tmp_path, monkeypatch):
    schema = VECTORS / "epcis" / "schema" / "EPCIS-JSON-Schema.json"
    assert schema.is_file(), f"vectors missing at {VECTORS}: set KRAMAA_VECTORS"
    monkeypatch.setenv("KRAMAA_EPCIS_SCHEMA", str(schema))
    node = node_factory("devnet", extra_args=["--accounts", "3"], start=True, fresh=True)
    port = node.port
    brand, factory = node.accounts[0], node.accounts[1]

    # The data, through the public write interfaces (the devnet opens them to loopback).
    org = ok_json(http(port, "POST", "/api/v1/organizations", {"from": brand, "name": "Acme " + EVIL}))
    ok_json(http(port, "PUT", f"/api/v1/organizations/{org['id']}/members/{factory}", {"from": brand, "roles": ["manufacturer"]}))
    asset = ok_json(http(port, "POST", "/api/v1/assets", {"from": factory, "organization": org["id"], "epc": EPC, "owner": brand,
                                                        "tokenURI": "data:application/json,{\"name\":\"Trail shoe\"}"}))
    for doc in (document(event("commissioning", "2026-11-25T08:00:00.000+01:00")),
                document(event("shipping", "2026-11-25T09:00:00.000+01:00", **{"example:note": EVIL}))):
        job = ok_json(http(port, "POST", "/epcis/capture", doc, {"Kramaa-From": brand, "Kramaa-Organization": str(org["id"])}))
        assert job["success"], job
    tx_hash = org["transactionHash"]
    head = int(node.rpc("eth_blockNumber"), 16)

    # GET / : the health check for programs, the dashboard for browsers; JSON-RPC stays POST /.
    status, headers, body = http(port, "GET", "/")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    status, headers, body = http(port, "GET", "/", headers={"Accept": "text/html"})
    assert status == 200 and headers["content-type"].startswith("text/html") and b"Latest blocks" in body
    status, headers, body = http(port, "GET", "/dashboard/assets/0x1234")
    assert status == 404 and headers["content-type"].startswith("text/html")
    assert http(port, "POST", "/dashboard", {})[0] == 405

    pages = Pages(browser, port, tmp_path)
    text = pages.load("/", shot="explorer-home")
    assert "Latest blocks" in text and str(head) in text

    # The search box finds each kind of thing, and says what is wrong with a malformed term.
    assert f"Block {head}" in pages.search(str(head))
    block_hash = node.rpc("eth_getBlockByNumber", hex(head), False)["hash"]
    assert f"Block {head}" in pages.search(block_hash)
    text = pages.search(tx_hash)
    assert "Transaction" in text and "registerOrganization(string)" in text and "success" in text
    assert "OrganizationRegistered" in text and "MemberRolesChanged" in text, "system contracts' events by name"
    assert "Acme " + EVIL in text, "the call's decoded argument, as text"
    assert "Balance" in pages.search(brand)
    assert "Provenance" in pages.search(EPC)
    assert "Provenance" in pages.search(DIGITAL_LINK)
    assert "is not a block number" in pages.search("not-a-thing", error=True)
    assert "No block or transaction" in pages.search("0x" + "ab" * 32, error=True)

    text = pages.load(f"/dashboard/blocks/{head}", shot="block")
    assert "Commit certificate" in text
    pages.load(f"/dashboard/tx/{tx_hash}")
    pages.load(f"/dashboard/address/{brand}")
    assert "Validators" in pages.load("/dashboard/validators")
    assert "Set changes" in pages.load("/dashboard/validators") and "has not changed since genesis" in pages.load("/dashboard/validators")
    assert "precommits over the last 3 blocks" in pages.load("/dashboard/validators?blocks=3")
    text = pages.load("/dashboard/address/0x000000000000000000000000000000004b520010?slot=0")
    assert "Slot 0 at block" in browser.find_element(By.ID, "slot-value").text
    assert "is not a slot number" in pages.load("/dashboard/address/0x000000000000000000000000000000004b520010?slot=zz")
    assert "The pool is empty" in pages.load("/dashboard/pool")
    assert "Anchors" in pages.load("/dashboard/anchors")
    assert "Acme " + EVIL in pages.load(f"/dashboard/organizations/{org['id']}"), "the organisation's name is shown as text"
    assert "Block not found" in pages.load("/dashboard/blocks/99999", error=True)

    # The asset's timeline: both events, who recorded them, finalised; markup shown as text.
    text = pages.load(f"/dashboard/assets/{asset['tokenId']}", shot="asset")
    assert text.index("commissioning") < text.index("shipping"), text
    assert text.count("finalised") == 2 and "Trail shoe" in text
    assert "Acme " + EVIL in text, "the organisation name is shown as text"
    assert EVIL in text, "the EPCIS extension field is shown as text"

    # The consumer's page: the verdict first, then the product and its journey.
    text = pages.load("/01/10614141073464/21/2018", shot="consumer")
    assert text.startswith("Registered by Acme"), text
    assert "Trail shoe" in text and "shipping" in text
    browser.set_window_size(360, 800)
    for path in ("/01/10614141073464/21/2018", f"/dashboard/assets/{asset['tokenId']}", "/"):
        pages.load(path)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        inner = browser.execute_script("return window.innerWidth")
        assert width <= inner, f"{path} overflows a {inner} px wide screen ({width} px)"
    pages.load("/01/10614141073464/21/2018", shot="consumer-360")
    ok_json(http(port, "POST", f"/api/v1/assets/{asset['tokenId']}/status", {"from": factory, "status": "recalled"}))
    assert pages.load("/01/10614141073464/21/2018").startswith("Recalled")
    assert "Unknown item" in pages.load("/01/10614141073464/21/9999", error=True)

    # Live: a new block appears on the open home page without a reload.
    browser.set_window_size(1280, 900)
    pages.load("/")
    before = int(browser.find_element(By.ID, "head").text)
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.body.getAttribute('data-live')") == "1")  # subscribed
    ok_json(http(port, "POST", "/api/v1/organizations", {"from": factory, "name": "Second"}))
    WebDriverWait(browser, 15).until(lambda d: int(d.find_element(By.ID, "head").text) > before)
    pages.checked()


def sun_vector(name):
    path = VECTORS / "ntag424" / "sun_vectors.json"
    assert path.is_file(), f"vectors missing at {VECTORS}: set KRAMAA_VECTORS"
    return {v["id"]: v for v in json.loads(path.read_text())["vectors"]}[name]


def test_journey_map_sensor_limits_operations_and_the_consumers_tap(node_factory, browser, tmp_path, monkeypatch):
    """Pictures and the consumer's tap: an asset whose events carry geo: locations and temperature
    readings (one above the brand's limit) gets a journey map and a chart with the breach marked;
    the operations page draws the blocks and says what /readyz says; the consumer page judges a
    tap of the item's tag itself (genuine, then replayed), speaks German when asked, and answers
    the resolver's link types."""
    schema = VECTORS / "epcis" / "schema" / "EPCIS-JSON-Schema.json"
    monkeypatch.setenv("KRAMAA_EPCIS_SCHEMA", str(schema))
    node = node_factory("devnet", extra_args=["--accounts", "3"], start=True, fresh=True)
    port = node.port
    brand, factory = node.accounts[0], node.accounts[1]
    org = ok_json(http(port, "POST", "/api/v1/organizations", {"from": brand, "name": "Coldchain Co"}))
    ok_json(http(port, "PUT", f"/api/v1/organizations/{org['id']}/members/{factory}", {"from": brand, "roles": ["manufacturer", "deviceManager"]}))
    metadata = {"name": "Vaccine box", "sensorLimits": {"Temperature": {"min": 2, "max": 8}}}
    asset = ok_json(http(port, "POST", "/api/v1/assets", {"from": factory, "organization": org["id"], "epc": EPC, "owner": brand,
                                                        "tokenURI": "data:application/json," + urllib.parse.quote(json.dumps(metadata))}))
    stops = [("commissioning", "2026-11-25T08:00:00.000+01:00", "geo:48.1374,11.5755", 4.0),
             ("shipping", "2026-11-25T12:00:00.000+01:00", "geo:50.1109,8.6821", 9.5),
             ("receiving", "2026-11-26T09:00:00.000+01:00", "geo:52.5200,13.4050", 5.0)]
    for step, time, geo, celsius in stops:
        e = event(step, time, bizLocation={"id": geo},
                  sensorElementList=[{"sensorReport": [{"type": "gs1:Temperature", "value": celsius, "uom": "CEL", "time": time}]}])
        if step == "commissioning":
            e["certificationInfo"] = "ipfs://bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
        job = ok_json(http(port, "POST", "/epcis/capture", document(e), {"Kramaa-From": brand, "Kramaa-Organization": str(org["id"])}))
        assert job["success"], job

    pages = Pages(browser, port, tmp_path)
    text = pages.load(f"/dashboard/assets/{asset['tokenId']}", shot="asset-pictures")
    assert "Journey map" in text and "3 stops" in text
    assert browser.find_elements(By.CSS_SELECTOR, 'a[href="/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"]'), "the certificate named by the event"
    assert len(browser.find_elements(By.CSS_SELECTOR, "figure.chart g.stop")) == 3
    assert "Temperature" in text and "1 outside the limits" in text
    assert len(browser.find_elements(By.CSS_SELECTOR, "path.breach")) == 1 and len(browser.find_elements(By.CSS_SELECTOR, "line.limit")) == 2

    text = pages.load("/dashboard/operations", shot="operations")
    assert browser.find_element(By.ID, "ready").text in ("Ready", "Not ready")
    assert "synced" in text and "storage" in text and "Block interval" in text and "Transactions per block" in text
    assert "kramaa_chain_blocks_total" in text or "kramaa_mempool_size" in text
    assert len(browser.find_elements(By.CSS_SELECTOR, "figure.chart rect")) > 0

    # The item's tag: registered and bound through the API, then tapped onto the consumer page.
    v = sun_vector("boltcard-style-counter0")
    ok_json(http(port, "POST", "/api/v1/tags", {"from": brand, "uid": v["derived"]["uid"], "mode": "aes", "organization": org["id"],
                                                "metaReadKey": v["keys"]["sdm_meta_read_key"], "fileReadKey": v["keys"]["sdm_file_read_key"],
                                                "macInputStart": "empty"}))
    ok_json(http(port, "POST", f"/api/v1/assets/{asset['tokenId']}/tags", {"from": factory, "uid": v["derived"]["uid"]}))
    tap = f"/01/10614141073464/21/2018?p={v['picc_data_encrypted']}&c={v['sdmmac']}"
    assert pages.load(tap, shot="consumer-tap").startswith("Genuine"), "the tap's own verdict comes first"
    assert pages.load(tap).startswith("Replayed")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    text = pages.load("/01/10614141073464/21/2018?lang=de")
    assert text.startswith("Registriert von Coldchain Co") and "Selbst prüfen" in text
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"
    status, headers, body = http(port, "GET", "/01/10614141073464/21/2018", headers={"Accept-Language": "fr-FR,fr;q=0.9", "Accept": "text/html"})
    assert status == 200 and b"Enregistr" in body
    status, headers, body = http(port, "GET", "/01/10614141073464/21/2018?linkType=linkset")
    assert status == 200 and headers["content-type"].startswith("application/linkset+json")
    links = json.loads(body)["linkset"][0]
    assert links["anchor"] == DIGITAL_LINK and links["https://gs1.org/voc/verificationService"][0]["href"].startswith("/verify")
    request = urllib.request.Request(f"http://127.0.0.1:{port}/01/10614141073464/21/2018?linkType=gs1:verificationService", method="GET")
    opener = urllib.request.build_opener(type("NoRedirect", (urllib.request.HTTPRedirectHandler,), {"redirect_request": lambda *a, **k: None}))
    try:
        opener.open(request, timeout=10)
        raise AssertionError("expected a redirect")
    except urllib.error.HTTPError as e:
        assert e.code == 307 and e.headers["location"].startswith("/verify"), (e.code, e.headers)
    # Registry pages: a device with its history, the organisation's members, custody as steps, an event page.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    public = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    device = ok_json(http(port, "POST", "/api/v1/devices", {"from": factory, "organization": org["id"], "keyType": "p256", "publicKey": "0x" + public.hex(),
                                                           "model": "Logger " + EVIL, "firmwareHash": "0x" + "ab" * 32}))["device"]
    text = pages.load(f"/dashboard/devices/{device}", shot="device")
    assert ("Device Logger " + EVIL) in text and "registered by organisation" in text and "p256" in text
    text = pages.load(f"/dashboard/organizations/{org['id']}")
    assert "Members" in text and "manufacturer" in text and "admin" in text
    ok_json(http(port, "POST", f"/api/v1/assets/{asset['tokenId']}/custody", {"from": brand, "to": factory}))
    text = pages.load(f"/dashboard/assets/{asset['tokenId']}")
    assert "Custody and ownership" in text and "minted to" in text and "custody to" in text
    # Live: an event captured while the asset page is open appears on it without a reload.
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.body.getAttribute('data-live')") == "1")
    late = event("inspecting", "2026-11-26T10:00:00.000+01:00")
    assert ok_json(http(port, "POST", "/epcis/capture", document(late), {"Kramaa-From": brand, "Kramaa-Organization": str(org["id"])}))["success"]
    WebDriverWait(browser, 20).until(lambda d: "inspecting" in d.find_element(By.ID, "history").text)
    browser.find_element(By.CSS_SELECTOR, "ol.timeline h3 a").click()
    WebDriverWait(browser, 10).until(lambda d: "/dashboard/events/" in d.current_url)
    text = pages.checked(shot="event")
    assert "As captured" in text and "commissioning" in text and "finalised" in text
    assert "Event not found" in pages.load("/dashboard/events/0x" + "00" * 32, error=True)
    # A Digital Link with a lot before the serial names the same item.
    assert "Vaccine box" in pages.load("/01/10614141073464/10/LOT1/21/2018")
    # Recalled matters more than a genuine tap: it stays first, the tap's verdict after it.
    ok_json(http(port, "POST", f"/api/v1/assets/{asset['tokenId']}/status", {"from": factory, "status": "recalled"}))
    assert pages.load("/01/10614141073464/21/2018").startswith("Recalled")


def test_the_dashboard_benchmark_runs(kramaa_bin, tmp_path):
    """scripts/bench.sh dashboard's measurements at 50 events (the real run: 1,000)."""
    bench_smoke(kramaa_bin, tmp_path, "dashboard", ("Asset page of an item with 50 events", "Consumer page", "Explorer home"), timeout=300)
