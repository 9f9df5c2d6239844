"""Residents' erasure and export requests as work: filed from the portal or the API with
a due date, worked through from the console's queue, the state shown back to the
resident, every step audited; consent withdrawal never queues."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from pages import log_in

from api_site import Site
from facegate.config import Settings


def _actions(site: Site) -> list[str]:
    records = site.client("auditor").get("/api/v1/audit", params={"limit": 1000}).json()
    return [r["action"] for r in records]


def test_an_erasure_request_waits_in_the_queue_until_an_administrator_erases(
    site: Site,
) -> None:
    ann = site.client("ann")
    filed = ann.post("/api/v1/me/erasure-request")
    assert filed.status_code == 202, filed.text
    request = filed.json()
    assert request["state"] == "open"
    due = datetime.fromisoformat(request["due_at"]) - datetime.fromisoformat(
        request["requested_at"]
    )
    assert due == timedelta(days=30)
    assert ann.post("/api/v1/me/erasure-request").json()["id"] == request["id"]  # not twice
    assert [r["id"] for r in ann.get("/api/v1/me/requests").json()] == [request["id"]]
    operator = site.client("operator")
    assert [r["id"] for r in operator.get("/api/v1/requests").json()] == [request["id"]]
    denied = operator.post(f"/api/v1/requests/{request['id']}/complete", json={})
    assert denied.status_code == 403
    admin = site.client("admin")
    assert admin.get(f"/api/v1/people/{site.resident_id}/export").status_code == 200
    done = admin.post(f"/api/v1/requests/{request['id']}/complete", json={"note": "erased"})
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "done"
    assert admin.get(f"/api/v1/people/{site.resident_id}/export").status_code == 404
    again = admin.post(f"/api/v1/requests/{request['id']}/complete", json={})
    assert again.status_code == 409
    assert operator.get("/api/v1/requests").json() == []
    closed = operator.get("/api/v1/requests", params={"state": "done"}).json()
    assert [(r["person_id"], r["handled_by"]) for r in closed] == [(site.resident_id, "web:admin")]
    actions = _actions(site)
    assert actions.count("person.erasure_requested") == 1
    for action in ("request.list", "person.erase", "request.done"):
        assert action in actions


def test_a_refused_export_request_shows_its_reason_to_the_resident(site: Site) -> None:
    site.deps.settings = Settings(server=site.deps.settings.server, request_due_days=7)
    bo = site.client("bo")
    request = bo.post("/api/v1/me/export-request").json()
    assert request["kind"] == "export"
    requested = datetime.fromisoformat(request["requested_at"])
    assert datetime.fromisoformat(request["due_at"]) - requested == timedelta(days=7)
    operator = site.client("operator")
    path = f"/api/v1/requests/{request['id']}/refuse"
    assert operator.post(path, json={"note": "  "}).status_code == 422  # a reason is needed
    refused = operator.post(path, json={"note": "Copy already handed over on 2026-11-20"})
    assert refused.json()["state"] == "refused"
    (mine,) = bo.get("/api/v1/me/requests").json()
    assert (mine["state"], mine["note"]) == ("refused", "Copy already handed over on 2026-11-20")
    assert "request.refuse" in _actions(site)
    assert site.client("auditor").get("/api/v1/requests").status_code == 403
    assert bo.get("/api/v1/requests").status_code == 403


def test_overdue_requests_are_flagged(site: Site) -> None:
    request = site.client("bo").post("/api/v1/me/export-request").json()
    site.deps.clock.advance(days=31)  # type: ignore[attr-defined]
    (listed,) = site.client("operator").get("/api/v1/requests").json()
    assert listed["id"] == request["id"]
    assert listed["overdue"] is True


def test_withdrawing_consent_is_immediate_and_never_queued(site: Site) -> None:
    ann = site.client("ann")
    assert ann.post("/api/v1/me/consents", json={"text_version": "v1"}).status_code == 201
    withdrawn = ann.delete("/api/v1/me/consents/face_access").json()
    assert withdrawn["withdrawn_at"] is not None
    assert ann.get("/api/v1/me/requests").json() == []


def test_the_queue_is_worked_from_the_console_and_the_portal_shows_the_state(
    site: Site,
) -> None:
    ann, ann_csrf = log_in(site, "ann")
    filed = ann.post("/portal/export-request", data={"csrf_token": ann_csrf})
    assert filed.status_code == 200
    portal = filed.text
    assert "Copy of my data" in portal
    assert "due " in portal
    ann.post("/portal/erasure", data={"csrf_token": ann_csrf})
    admin, admin_csrf = log_in(site, "admin")
    queue = admin.get("/console/requests").text
    assert queue.count("Ann Lee") == 2
    assert site.resident_id not in re.sub(r'(href|action)="[^"]*"', "", queue)  # links only
    export_id = _request_id(admin, "export")
    handed = admin.post(
        f"/console/requests/{export_id}/complete",
        data={"csrf_token": admin_csrf, "note": "given at the desk"},
        follow_redirects=False,
    )
    assert handed.status_code == 303
    page = ann.get("/portal").text
    assert "Done" in page
    assert "given at the desk" in page
    erasure_id = _request_id(admin, "erasure")
    forged = admin.post(f"/console/requests/{erasure_id}/complete", data={"note": "x"})
    assert forged.status_code == 403
    erased = admin.post(
        f"/console/requests/{erasure_id}/complete",
        data={"csrf_token": admin_csrf},
        follow_redirects=False,
    )
    assert erased.status_code == 303
    assert "No requests waiting." in admin.get("/console/requests").text
    history = admin.get("/console/requests", params={"everything": "true"}).text
    assert "(erased)" in history
    assert "Ann Lee" not in history


def _request_id(client: object, kind: str) -> str:
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    found = [r["id"] for r in client.get("/api/v1/requests").json() if r["kind"] == kind]
    assert len(found) == 1
    return found[0]


def test_the_work_pages_in_chinese_leave_no_raw_enum(site: Site) -> None:
    site.client("ann").post("/api/v1/me/erasure-request")
    client, _ = log_in(site, "admin")
    client.headers["Accept-Language"] = "zh-CN"
    for path in ("/console/requests", "/console/alarms"):
        page = client.get(path).text
        assert "删除" in page or "报警" in page
        for raw in ("request_kind.", "request_state.", "alarm_type.", "channel.", "erasure<"):
            assert raw not in page, (path, raw)
