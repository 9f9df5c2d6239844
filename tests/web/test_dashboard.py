"""The dashboard at /console: door states, gates, today's counts, alarms, the live panel."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from pages import log_in
from populated import populate

from api_site import Site
from facegate.domain.gate import GateEvent, GateEventKind, GateReport
from facegate.domain.reasons import Reason
from facegate.services.alarm_log import alarm_recorder
from facegate.services.alarms import AlarmFeed, AlarmService
from facegate.services.gate_health import BOARD
from facegate.services.gate_sync import receive_events
from facegate.web.i18n import translator
from fakes import FakeClock

UNLOCK_S = 5.0
"""The default unlock duration (GateSettings.unlock_duration_s)."""


@pytest.fixture
def alarmed(site: Site) -> Iterator[Site]:
    site.deps.alarms = AlarmService([], AlarmFeed(), record=alarm_recorder(site.context))
    BOARD.clear()
    yield site
    BOARD.clear()


def door_row(html: str, door_id: str) -> str:
    found = re.search(rf'<tr data-door="{door_id}" data-state="(\w+)">(.*?)</tr>', html, re.S)
    assert found is not None, f"no row for door {door_id}"
    return found.group(0)


def state_of(html: str, door_id: str) -> str:
    found = re.search(rf'data-door="{door_id}" data-state="(\w+)"', html)
    assert found is not None
    return found.group(1)


def grant(site: Site, door_id: str) -> None:
    event = GateEvent(
        str(uuid.uuid4()),
        "north-1",
        GateEventKind.DECISION,
        door_id,
        site.deps.clock.now(),
        granted=True,
        reason=Reason.GRANTED,
        person_id=site.resident_id,
    )
    receive_events(site.context, [event])


def test_staff_land_on_the_dashboard(alarmed: Site) -> None:
    client, _ = log_in(alarmed, "operator")
    answer = client.get("/", follow_redirects=False)
    assert answer.headers["location"] == "/console"


def test_a_grant_unlocks_the_door_then_it_locks_again(alarmed: Site) -> None:
    clock = alarmed.deps.clock
    assert isinstance(clock, FakeClock)
    made = populate(alarmed)  # its own grant is at the clock's now
    client, _ = log_in(alarmed, "operator")
    assert state_of(client.get("/console/panel").text, made.entrance_id) == "unlocked"
    clock.advance(seconds=UNLOCK_S + 1)
    assert state_of(client.get("/console/panel").text, made.entrance_id) == "locked"
    grant(alarmed, made.entrance_id)
    panel = client.get("/console/panel").text
    assert state_of(panel, made.entrance_id) == "unlocked"
    assert state_of(panel, made.building_door_id) == "locked"
    clock.advance(seconds=UNLOCK_S + 1)
    assert state_of(client.get("/console/panel").text, made.entrance_id) == "locked"


def test_counts_gates_and_a_forced_door_alarm(alarmed: Site) -> None:
    made = populate(alarmed)  # today: 1 entry, 3 refusals at the entrance
    clock = alarmed.deps.clock
    assert isinstance(clock, FakeClock)
    clock.advance(seconds=UNLOCK_S + 1)
    now = clock.now()
    report = GateReport("v1", now - timedelta(seconds=4), 2, "ok")
    BOARD.record("north-1", now - timedelta(seconds=3), report)
    forced = GateEvent(
        str(uuid.uuid4()), "north-1", GateEventKind.DOOR_FORCED_OPEN, made.entrance_id, now
    )
    assert alarmed.deps.alarms is not None
    alarmed.deps.alarms.raise_event(forced)
    client, _ = log_in(alarmed, "operator")
    html = client.get("/console").text
    assert 'src="/static/dashboard.js"' in html
    row = door_row(html, made.entrance_id)
    assert 'data-state="forced"' in row
    assert "forced open" in row
    assert '<td class="entries">1</td>' in row
    assert "unknown face: 1" in row
    assert "online" in row
    assert "synced 4 s ago" in row
    assert "2 events waiting" in row
    assert "camera: working" in row
    assert re.search(r'<strong id="entries">1</strong>', html)
    assert re.search(r'<strong id="denials">3</strong>', html)
    assert 'data-alarm="door_forced_open"' in html
    assert "Lift 1" in html
    kiosk = door_row(html, made.building_door_id)
    assert "offline" in kiosk  # never heard since this server started
    mode = alarmed.deps.settings.gate.liveness  # the server decides kiosk frames
    assert f"liveness: {translator('en')('liveness.' + mode)}" in kiosk


def test_an_open_contact_shows_the_door_open_in_the_page_s_language(alarmed: Site) -> None:
    made = populate(alarmed)
    clock = alarmed.deps.clock
    assert isinstance(clock, FakeClock)
    clock.advance(seconds=UNLOCK_S + 1)
    now = clock.now()
    report = GateReport("v1", now, 0, "failed", "motion", "open")
    BOARD.record("north-1", now, report)
    client, _ = log_in(alarmed, "operator")
    row = door_row(client.get("/console/panel").text, made.entrance_id)
    assert 'data-state="open"' in row
    assert "camera: failed" in row
    assert f"liveness: {translator('en')('liveness.motion')}" in row  # the edge gate's own
    client.cookies.set("facegate_lang", "zh")
    zh = door_row(client.get("/console/panel").text, made.entrance_id)
    assert translator("zh")("door_state.open") in zh
    assert translator("zh")("liveness.motion") in zh
    BOARD.record("north-1", now, GateReport("v1", now, 0, "ok", "motion", "closed"))
    assert state_of(client.get("/console/panel").text, made.entrance_id) == "locked"
    clock.advance(seconds=120)  # a gate gone silent: its last contact report no longer counts
    BOARD.record("north-1", now, report)
    assert state_of(client.get("/console/panel").text, made.entrance_id) == "locked"


def test_opening_the_dashboard_is_audited_its_refreshes_are_not(alarmed: Site) -> None:
    from facegate.services import activity

    client, _ = log_in(alarmed, "auditor")
    client.get("/console")
    for _ in range(3):
        client.get("/console/panel")
    actions = [r.action for r in activity.read_audit(alarmed.context, 0, 1000)]
    assert actions.count("dashboard.open") == 1


def test_residents_may_not_see_the_dashboard(alarmed: Site) -> None:
    client, _ = log_in(alarmed, "ann")
    assert client.get("/console/panel").status_code == 403


def test_the_site_icon_is_served_where_browsers_ask(site: Site) -> None:
    answer = site.client().get("/favicon.ico")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert answer.content.startswith(b"<svg")
    assert site.client().get("/static/favicon.svg").status_code == 200


def test_an_alarm_acknowledged_on_the_dashboard_leaves_it(alarmed: Site) -> None:
    made = populate(alarmed)
    clock = alarmed.deps.clock
    assert isinstance(clock, FakeClock)
    clock.advance(seconds=UNLOCK_S + 1)
    key = str(uuid.uuid4())
    held = GateEvent(key, "north-1", GateEventKind.DOOR_HELD_OPEN, made.entrance_id, clock.now())
    assert alarmed.deps.alarms is not None
    alarmed.deps.alarms.raise_event(held)
    client, csrf = log_in(alarmed, "operator")
    panel = client.get("/console/panel").text
    assert state_of(panel, made.entrance_id) == "held"
    assert f'action="/console/alarms/{key}/ack"' in panel
    done = client.post(
        f"/console/alarms/{key}/ack",
        data={"note": "propped by movers", "back": "/console", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/console"
    panel = client.get("/console/panel").text
    assert f'data-key="{key}"' not in panel
    assert state_of(panel, made.entrance_id) == "locked"
