"""An independent Open311 client against a running wangge.

The PyPI package `georeport` lists services, reads a service definition and
reads requests (in JSON and in XML); `requests` posts a request as a
resident app would; the grid leader, through wangge's own API, accepts it;
the update feed then tells the client so.

WANGGE_URL        the running server
WANGGE_API_KEY    an Open311 key (wangge apikey add)
WANGGE_ACCOUNTS   the demo's accounts file (for the grid leader)
"""

import json
import os
import sys

import requests
from georeport import GeoReport

base = os.environ["WANGGE_URL"]
root = f"{base}/open311/v2"
key = os.environ["WANGGE_API_KEY"]
accounts = json.load(open(os.environ["WANGGE_ACCOUNTS"], encoding="utf-8"))
passed = failed = 0


def step(name, fn):
    global passed, failed
    try:
        fn()
        passed += 1
        print(f"ok   {name}")
    except Exception as e:  # noqa: BLE001 - report every failure and go on
        failed += 1
        print(f"FAIL {name}: {e!r}")


state = {}


def services():
    for fmt in ("json", "xml"):
        listed = GeoReport(root, api_key=key, output_format=fmt).get_service_list()
        codes = {s["service_code"]: s for s in listed}
        assert "0103" in codes, f"{fmt}: no 0103 in {list(codes)[:5]}"
        assert codes["0103"]["service_name"] == "雨水井盖", codes["0103"]
        assert str(codes["0103"]["metadata"]).lower() == "true", codes["0103"]


def definition():
    for fmt in ("json", "xml"):
        d = GeoReport(root, output_format=fmt).get_service_definition("0103")
        attrs = d["attributes"]
        attr = attrs[0] if fmt == "json" else attrs["attribute"]
        assert attr["code"] == "traffic", attr
        assert attr["datatype"] == "singlevaluelist", attr
        assert str(attr["required"]).lower() == "true", attr


def post():
    r = requests.post(
        f"{root}/requests.json",
        data={
            "api_key": key,
            "service_code": "0103",
            "lat": "31.8438",
            "long": "117.2543",
            "attribute[traffic]": "大",
            "description": "13栋门前雨水井盖缺失，人车流量大",
            "first_name": "王",
            "email": "wang@example.org",
        },
        timeout=10,
    )
    assert r.status_code == 201, (r.status_code, r.text)
    state["id"] = r.json()[0]["service_request_id"]
    bad = requests.post(f"{root}/requests.json", data={"service_code": "0103"}, timeout=10)
    assert bad.status_code == 403 and bad.json()[0]["code"] == 403, bad.text


def read_back():
    for fmt in ("json", "xml"):
        client = GeoReport(root, output_format=fmt)
        got = client.get_service_request(state["id"])
        one = got[0] if isinstance(got, list) else got
        assert one["service_request_id"] == state["id"], one
        assert one["status"] == "open", one
        assert one["agency_responsible"] == "市政道路", one
        assert "王" not in json.dumps(one, ensure_ascii=False), "no reporter"
        listed = client.get_service_requests(service_code="0103", status="open")
        ids = [r["service_request_id"] for r in (listed if isinstance(listed, list) else [listed])]
        assert state["id"] in ids, ids


def follow_update():
    leader = next(a for a in accounts if a["username"] == "wanggezhang.heping")
    login = requests.post(
        f"{base}/api/v1/auth/login",
        json={"username": leader["username"], "password": leader["password"]},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    token = login.json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    cases = requests.get(f"{base}/api/v1/cases?state=reported", headers=auth, timeout=10).json()
    case = next(c for c in cases if c["public_code"] == state["id"])
    done = requests.post(
        f"{base}/api/v1/cases/{case['id']}/actions",
        json={"action": "accept"},
        headers=auth,
        timeout=10,
    )
    assert done.status_code == 200, done.text
    feed = requests.get(f"{root}/servicerequestupdates.json", timeout=10).json()
    mine = [u["status"] for u in feed if u["service_request_id"] == state["id"]]
    assert mine[-2:] == ["OPEN", "INVESTIGATING"], mine


step("georeport lists the services (JSON and XML)", services)
step("georeport reads the drain cover's definition", definition)
step("a resident app posts a request with its key", post)
step("georeport reads it back, public facts only", read_back)
step("the grid leader accepts it; the update feed says so", follow_update)
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
