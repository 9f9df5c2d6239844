"""Alarm acknowledgement: stored once when raised, acknowledged once (who, when, note),
audited, role-checked, in the API and on the console's alarm page."""

from __future__ import annotations

import re

from pages import log_in

from api_site import Site
from facegate.domain.gate import GateEvent, GateEventKind
from facegate.services.alarm_log import alarm_recorder
from facegate.services.alarms import AlarmFeed, AlarmService


def _raise(site: Site, key: str, kind: GateEventKind = GateEventKind.DOOR_FORCED_OPEN) -> None:
    alarms = site.deps.alarms
    assert alarms is not None
    event = GateEvent(key, "gate-1", kind, "door-1", site.deps.clock.now(), note="contact open")
    alarms.raise_event(event)


def _wire(site: Site) -> None:
    site.deps.alarms = AlarmService([], AlarmFeed(), record=alarm_recorder(site.context))


def test_an_alarm_is_stored_once_and_acknowledged_once_with_who_when_and_note(
    site: Site,
) -> None:
    _wire(site)
    key = "7c8e2b1a-0000-4000-8000-000000000001"
    _raise(site, key)
    _raise(site, key)  # redelivered: one record
    operator = site.client("operator")
    active = operator.get("/api/v1/alarms").json()
    assert [(a["key"], a["type"], a["acked_at"]) for a in active] == [
        (key, "door_forced_open", None)
    ]
    site.deps.clock.advance(minutes=3)  # type: ignore[attr-defined]
    done = operator.post(f"/api/v1/alarms/{key}/ack", json={"note": "latch broken, guard sent"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["acked_by"].endswith("operator")
    assert body["ack_note"] == "latch broken, guard sent"
    assert body["acked_at"] is not None
    again = operator.post(f"/api/v1/alarms/{key}/ack", json={"note": "me too"})
    assert again.status_code == 409
    assert operator.get("/api/v1/alarms").json() == []
    history = operator.get("/api/v1/alarms", params={"active": "false"}).json()
    assert [a["ack_note"] for a in history] == ["latch broken, guard sent"]
    auditor = site.client("auditor")
    records = auditor.get("/api/v1/audit", params={"limit": 1000}).json()
    acks = [r for r in records if r["action"] == "alarm.ack"]
    assert len(acks) == 1
    assert acks[0]["details"]["key"] == key
    assert "latch" not in str(acks[0])  # the note stays out of the audit log


def test_only_staff_acknowledge_and_unknown_alarms_are_404(site: Site) -> None:
    _wire(site)
    key = "7c8e2b1a-0000-4000-8000-000000000002"
    _raise(site, key, GateEventKind.GATE_SILENT)
    assert site.client("auditor").post(f"/api/v1/alarms/{key}/ack", json={}).status_code == 403
    assert site.client("ann").post(f"/api/v1/alarms/{key}/ack", json={}).status_code == 403
    assert site.client("ann").get("/api/v1/alarms").status_code == 403
    missing = site.client("admin").post("/api/v1/alarms/nope/ack", json={})
    assert missing.status_code == 404


def test_the_console_page_lists_and_acknowledges_alarms(site: Site) -> None:
    _wire(site)
    key = "7c8e2b1a-0000-4000-8000-000000000003"
    _raise(site, key, GateEventKind.DOOR_HELD_OPEN)
    client, csrf = log_in(site, "operator")
    page = client.get("/console/alarms")
    assert page.status_code == 200
    assert "Door held open" in page.text
    assert f"/console/alarms/{key}/ack" in page.text
    answer = client.post(
        f"/console/alarms/{key}/ack",
        data={"csrf_token": csrf, "note": "closed it", "back": "/console/alarms"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert "No alarms." in client.get("/console/alarms").text
    history = client.get("/console/alarms", params={"everything": "true"}).text
    assert "closed it" in history
    assert "operator" in history
    forged = client.post(f"/console/alarms/{key}/ack", data={"note": "x"})
    assert forged.status_code == 403
    chain = site.client("auditor").get("/api/v1/audit/verify").json()
    assert chain["intact"], chain


def test_the_alarm_page_shows_names_and_no_ids_outside_links(site: Site) -> None:
    _wire(site)
    alarms = site.deps.alarms
    assert alarms is not None
    decision = "0f1e2d3c-0000-4000-8000-00000000abcd"
    hit = GateEvent(
        "7c8e2b1a-0000-4000-8000-000000000004",
        "gate-1",
        GateEventKind.ALERT_LIST,
        "door-1",
        site.deps.clock.now(),
        person_id=site.resident_id,
        note=f"decision {decision}",
    )
    alarms.raise_event(hit)
    page = log_in(site, "operator")[0].get("/console/alarms").text
    assert "Ann Lee" in page
    assert "Alert-list hit" in page
    routing = page[page.index('id="alarm-routing"') :]
    assert "this console" in routing  # no webhook, MQTT or e-mail set on this site
    assert "e-mail" not in routing.split("<p")[0]
    text = re.sub(r'(href|action)="[^"]*"', "", page)
    assert re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", text) is None
