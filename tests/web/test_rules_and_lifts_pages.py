"""The console lists access rules and adds lifts (issue 7)."""

from __future__ import annotations

import re
from datetime import time

from pages import log_in

from api_site import Site
from facegate.domain.access import TimeWindow
from facegate.domain.people import Role
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.services import activity, places


def rule_row(html: str, rule_id: str) -> str:
    found = re.search(rf'<tr data-rule="{rule_id}">(.*?)</tr>', html, re.S)
    assert found is not None, f"no row for rule {rule_id}"
    return found.group(1)


def test_the_rules_page_lists_rules_with_doors_days_and_times(site: Site) -> None:
    lobby = places.add_door(
        site.context, "Lobby <b>", DoorKind.ENTRANCE, CredentialMode.ANY_OF, [CredentialKind.CARD]
    )
    window = TimeWindow(frozenset({0, 4}), time(7), time(22, 30))
    by_role = places.add_access_rule(
        site.context, [window], role=Role.RESIDENT, door_ids=[lobby.id]
    )
    by_person = places.add_access_rule(
        site.context, [window], person_id=site.other_id, door_ids=[lobby.id]
    )
    client, _ = log_in(site, "auditor")
    html = client.get("/console/rules").text
    role_row = rule_row(html, by_role.id)
    assert "Resident" in role_row
    assert "Lobby &lt;b&gt;" in role_row
    assert "Mon Fri 07:00–22:30" in role_row
    assert "Europe/Berlin" in role_row
    assert f'href="/console/people/{site.other_id}">Bo Chen</a>' in rule_row(html, by_person.id)
    assert "Lobby <b>" not in html
    zh = client.get("/console/rules", headers={"Accept-Language": "zh"}).text
    assert "一 五 07:00–22:30" in rule_row(zh, by_role.id)
    audit = activity.read_audit(site.context, 0, 500)
    assert any(r.action == "rule.list" for r in audit)


def test_the_rules_page_says_when_there_are_none(site: Site) -> None:
    client, _ = log_in(site, "admin")
    assert "No rules yet." in client.get("/console/rules").text


def test_an_operator_adds_a_lift_on_the_doors_page(site: Site) -> None:
    tower = places.add_building(site.context, "Tower A")
    client, csrf = log_in(site, "operator")
    page = client.get("/console/doors").text
    assert 'action="/console/lifts"' in page
    assert f'<option value="{tower.id}">Tower A</option>' in page
    answer = client.post(
        "/console/lifts",
        data={
            "building_id": tower.id,
            "name": "Lift 1",
            "floors": "2, -1,0 ,1,",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/doors?done=lift"
    assert "Lift 1: -1, 0, 1, 2" in client.get("/console/doors").text


def test_bad_floors_get_an_error_page_and_add_nothing(site: Site) -> None:
    tower = places.add_building(site.context, "Tower A")
    client, csrf = log_in(site, "admin")
    for floors in ("1, two, 3", " , ", "1.5"):
        bad = client.post(
            "/console/lifts",
            data={"building_id": tower.id, "name": "Lift 1", "floors": floors, "csrf_token": csrf},
        )
        assert bad.status_code == 422, floors
        assert "floor" in bad.text
        assert "<html" in bad.text
    unknown = client.post(
        "/console/lifts",
        data={"building_id": "nope", "name": "Lift 1", "floors": "1", "csrf_token": csrf},
    )
    assert unknown.status_code == 404
    assert "No lifts." in client.get("/console/doors").text


def test_adding_a_lift_needs_csrf_and_a_staff_role(site: Site) -> None:
    tower = places.add_building(site.context, "Tower A")
    form = {"building_id": tower.id, "name": "Lift 1", "floors": "1"}
    client, _ = log_in(site, "admin")
    assert client.post("/console/lifts", data=form).status_code == 403
    auditor, auditor_csrf = log_in(site, "auditor")
    assert 'action="/console/lifts"' not in auditor.get("/console/doors").text
    refused = auditor.post("/console/lifts", data=form | {"csrf_token": auditor_csrf})
    assert refused.status_code == 403
    assert "No lifts." in client.get("/console/doors").text


def test_without_a_building_the_lift_form_says_to_add_one(site: Site) -> None:
    client, _ = log_in(site, "admin")
    assert "Add a building first" in client.get("/console/doors").text
