from __future__ import annotations

import json

from pages import log_in

from api_site import Site


def test_resident_gives_and_withdraws_consent(site: Site) -> None:
    client, csrf = log_in(site, "ann")
    page = client.get("/portal").text
    assert "Ann Lee" in page
    assert 'id="give-consent"' in page
    given = client.post("/portal/consent", data={"csrf_token": csrf}, follow_redirects=False)
    assert given.headers["location"] == "/portal?done=consent"
    page = client.get("/portal?done=consent").text
    assert "Consent to face access given" in page
    assert 'id="withdraw-consent"' in page
    client.post("/portal/consent/withdraw", data={"csrf_token": csrf})
    page = client.get("/portal").text
    assert "No consent to face access is in force." in page


def test_resident_downloads_own_data_invites_and_asks_erasure(site: Site) -> None:
    client, csrf = log_in(site, "ann")
    export = client.get("/portal/export")
    assert "attachment" in export.headers["content-disposition"]
    assert json.loads(export.text)["person"]["name"] == "Ann Lee"
    invited = client.post("/portal/passes", data={"visitor_name": "Mum", "csrf_token": csrf})
    assert "<svg" in invited.text
    assert "Mum" in invited.text
    assert "Mum" in client.get("/portal").text
    erasure = client.post("/portal/erasure", data={"csrf_token": csrf}, follow_redirects=False)
    assert erasure.headers["location"] == "/portal?done=erasure"


def test_kiosk_page_has_camera_fallback_and_words(site: Site) -> None:
    html = site.client().get("/kiosk/door-1", headers={"Accept-Language": "zh-CN"}).text
    assert 'data-door="door-1"' in html
    assert "/static/kiosk.js" in html
    assert 'id="fallback"' in html
    assert "门卡" in html
    assert "请看摄像头" in html
    assert site.client().get("/static/kiosk.js").status_code == 200


def test_kiosk_credentials_endpoint_is_503_until_wired_and_bound_to_its_door(site: Site) -> None:
    admin = site.client("admin")
    door = admin.post("/api/v1/doors", json={"name": "Gate", "accepted": ["card"]}).json()
    key = admin.post("/api/v1/devices/keys", json={"gate_id": door["id"]}).json()["secret"]
    kiosk = site.client()
    body = {"kind": "card", "value": "1234"}
    mine = kiosk.post(
        f"/api/v1/doors/{door['id']}/credentials", json=body, headers={"X-Device-Key": key}
    )
    assert mine.status_code == 503
    other = kiosk.post("/api/v1/doors/else/credentials", json=body, headers={"X-Device-Key": key})
    assert other.status_code == 403
    assert kiosk.post(f"/api/v1/doors/{door['id']}/credentials", json=body).status_code == 401
