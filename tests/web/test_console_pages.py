from __future__ import annotations

import io
import re

from pages import csrf_of, log_in
from PIL import Image

from api_site import Site


def png(size: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (120, 100, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def row_of(html: str, person_id: str) -> str:
    found = re.search(rf'<tr data-person="{person_id}">(.*?)</tr>', html, re.S)
    assert found is not None, f"no row for {person_id}"
    return found.group(1)


def test_add_consent_enroll_then_listed_with_a_template(site: Site) -> None:
    client, csrf = log_in(site, "operator")
    added = client.post(
        "/console/people",
        data={"name": "Cy Wu", "role": "resident", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert added.status_code == 303
    person_url = added.headers["location"].split("?")[0]
    person_id = person_url.rsplit("/", 1)[1]
    page = client.get(person_url).text
    assert 'id="consent-form"' in page
    assert 'id="enroll"' not in page
    client.post(f"{person_url}/consent", data={"method": "written", "csrf_token": csrf})
    page = client.get(person_url).text
    assert 'id="enroll"' in page
    assert "face-access-v1" in page
    headers = {"X-CSRF-Token": csrf_of(page)}
    files = [("files", ("3.png", png(), "image/png")), ("files", ("blur.png", png(), "image/png"))]
    url = f"/api/v1/people/{person_id}"
    verdicts = client.post(f"{url}/photos/check", files=files, headers=headers).json()
    assert [v["accepted"] for v in verdicts] == [True, False]
    enrolled = client.post(f"{url}/enrollment", files=files[:1], headers=headers)
    assert enrolled.status_code == 201, enrolled.text
    row = row_of(client.get("/console/people").text, person_id)
    assert '<td class="templates">1</td>' in row
    assert "given" in row
    client.post(f"{person_url}/consent/withdraw", data={"csrf_token": csrf})
    row = row_of(client.get("/console/people").text, person_id)
    assert '<td class="templates">0</td>' in row
    assert "given" not in row


def test_forms_without_the_csrf_token_are_refused(site: Site) -> None:
    client, _ = log_in(site, "operator")
    answer = client.post("/console/people", data={"name": "Eve"})
    assert answer.status_code == 403
    assert "stale or forged" in answer.text


def test_user_content_is_escaped(site: Site) -> None:
    client, csrf = log_in(site, "admin")
    client.post("/console/people", data={"name": "<script>x()</script>", "csrf_token": csrf})
    html = client.get("/console/people").text
    assert "<script>x()</script>" not in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html


def test_csv_import_of_units_and_people(site: Site) -> None:
    client, csrf = log_in(site, "admin")
    text = "name,role,building,unit,floor\nDa Li,resident,A,101,1\nEr Li,household_member,A,101,1\n"
    answer = client.post(
        "/console/people/import",
        data={"csrf_token": csrf},
        files={"file": ("people.csv", text.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/console/people?imported=2/1/1"
    html = client.get(answer.headers["location"]).text
    assert "Da Li" in html
    assert "Er Li" in html
    bad = client.post(
        "/console/people/import",
        data={"csrf_token": csrf},
        files={"file": ("p.csv", b"name,role\nZed,king\n", "text/csv")},
    )
    assert bad.status_code == 422
    assert "line 2" in bad.text
    assert "Zed" not in client.get("/console/people").text


def test_visitor_pass_page_has_a_printable_qr(site: Site) -> None:
    client, csrf = log_in(site, "operator")
    answer = client.post(
        f"/console/people/{site.resident_id}/passes",
        data={"visitor_name": "Guest <b>", "hours": "4", "uses": "2", "csrf_token": csrf},
    )
    assert answer.status_code == 200
    assert "<svg" in answer.text
    assert "Guest &lt;b&gt;" in answer.text
    assert "data-print" in answer.text
    assert "/static/print.js" in answer.text


def test_doors_keys_alerts_events_retention_and_notice(site: Site) -> None:
    client, csrf = log_in(site, "admin")
    client.post(
        "/console/doors",
        data={"name": "North gate", "accepted": ["face", "card"], "csrf_token": csrf},
    )
    doors = client.get("/console/doors").text
    door_id = re.search(r'data-door="([^"]+)"', doors)
    assert door_id is not None
    assert "North gate" in doors
    key = client.post(f"/console/doors/{door_id.group(1)}/keys", data={"csrf_token": csrf})
    assert "fgk_" in key.text
    client.post(
        "/console/alerts",
        data={
            "person_id": site.other_id,
            "reason": "theft",
            "legal_basis": "court order 12",
            "days": "10",
            "csrf_token": csrf,
        },
    )
    alerts = client.get("/console/alerts").text
    assert "theft" in alerts
    assert "court order 12" in alerts
    events = client.get("/console/events?outcome=refused&reason=unknown_face&since=2026-01-01")
    assert events.status_code == 200
    assert "No events." in events.text
    assert client.get("/console/events?since=yesterday").status_code == 422
    assert "FACEGATE_RETENTION__EVENTS_DAYS" in client.get("/console/retention").text
    purge = client.post(
        "/console/retention/purge", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert purge.headers["location"].startswith("/console/retention?purged=")
    notice = site.client().get("/privacy").text
    assert "Oak Court" in notice
    assert "30 days" in notice
    assert "opt out" in notice
    assert "人脸" in site.client().get("/privacy", headers={"Accept-Language": "zh"}).text
    assert "audit" in client.get("/console/audit").text.lower()


def test_rules_form_adds_a_rule(site: Site) -> None:
    client, csrf = log_in(site, "admin")
    client.post("/console/doors", data={"name": "Lobby", "accepted": ["card"], "csrf_token": csrf})
    door_id = re.search(r'data-door="([^"]+)"', client.get("/console/doors").text)
    assert door_id is not None
    answer = client.post(
        "/console/rules",
        data={
            "role": "resident",
            "door_ids": [door_id.group(1)],
            "days": ["0", "1"],
            "start": "07:00",
            "end": "22:00",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "added=" in answer.headers["location"]
    bad = client.post(
        "/console/rules",
        data={
            "role": "resident",
            "door_ids": [door_id.group(1)],
            "days": ["0"],
            "start": "7 am",
            "end": "22:00",
            "csrf_token": csrf,
        },
    )
    assert bad.status_code == 422


def test_an_invitation_link_lets_the_resident_choose_a_password(site: Site) -> None:
    client, csrf = log_in(site, "admin")
    added = client.post(
        "/console/people",
        data={"name": "Ida Lo", "role": "resident", "csrf_token": csrf},
        follow_redirects=False,
    )
    person_url = added.headers["location"].split("?")[0]
    page = client.post(
        f"{person_url}/account", data={"username": "ida", "password": "", "csrf_token": csrf}
    )
    assert page.status_code == 200
    found = re.search(r'id="reset-link">[^<]*?(/reset\?token=[\w-]+)<', page.text)
    assert found is not None, page.text
    anon = site.client()
    chosen = "ida's own long secret"
    data = {"token": found.group(1).split("=", 1)[1], "password": chosen, "confirm": chosen}
    assert anon.post("/reset", data=data).status_code == 200
    login = {"username": "ida", "password": chosen}
    assert site.client().post("/api/v1/auth/login", json=login).status_code == 200
    again = client.post(f"{person_url}/reset-link", data={"csrf_token": csrf})
    assert 'id="reset-link"' in again.text


def test_a_reset_link_needs_a_portal_login(site: Site) -> None:
    client, csrf = log_in(site, "admin")
    added = client.post(
        "/console/people",
        data={"name": "No Login", "role": "resident", "csrf_token": csrf},
        follow_redirects=False,
    )
    person_url = added.headers["location"].split("?")[0]
    answer = client.post(f"{person_url}/reset-link", data={"csrf_token": csrf})
    assert answer.status_code == 404
    assert 'id="form-error"' in answer.text  # said on the person's page, at the form


def test_doors_page_issues_kiosk_and_edge_keys_bound_to_the_door(site: Site) -> None:
    client, csrf = log_in(site, "admin")
    client.post(
        "/console/doors",
        data={"name": "North gate", "accepted": ["face", "card"], "csrf_token": csrf},
    )
    page = client.get("/console/doors").text
    found = re.search(r'data-door="([^"]+)"', page)
    assert found is not None
    door_id = found.group(1)
    # A browser sends the first option: the form's choice must default to a kiosk, as
    # the route does (an edge key on a kiosk tablet would be watched as a silent gate).
    choice = re.search(r'<select name="kind" title=[^>]*>\s*<option value="(\w+)"', page)
    assert choice is not None
    assert choice.group(1) == "kiosk"
    kiosk = client.post(f"/console/doors/{door_id}/keys", data={"csrf_token": csrf})
    assert f"/kiosk/{door_id}" in kiosk.text
    edge = client.post(
        f"/console/doors/{door_id}/keys",
        data={"csrf_token": csrf, "kind": "edge", "gate_id": "north-1", "label": "pole"},
    )
    assert edge.status_code == 200, edge.text
    assert 'id="gate-id" value="north-1"' in edge.text
    assert "/kiosk/" not in edge.text
    keys = client.get("/console/doors").text
    table = re.search(r'<table id="keys">(.*?)</table>', keys, re.S)
    assert table is not None
    assert "north-1" in table.group(1)
    assert "North gate" in table.group(1)
    assert "edge gate" in table.group(1)
    assert "kiosk" in table.group(1)
    bad = client.post(
        f"/console/doors/{door_id}/keys",
        data={"csrf_token": csrf, "kind": "edge", "gate_id": "no spaces"},
    )
    assert bad.status_code == 422
