"""The console sets and shows lift floors: a person's unit and extra floors, role grants."""

from __future__ import annotations

import re

from pages import log_in

from api_site import Site
from facegate.services import lift_floors, places


def reach(html: str, lift_id: str) -> str:
    found = re.search(rf'<tr data-lift="{lift_id}">(.*?)</tr>', html, re.S)
    assert found is not None, f"no row for lift {lift_id}"
    return found.group(1)


def test_an_operator_sets_a_unit_and_extra_floors_and_sees_each_lift(site: Site) -> None:
    tower = places.add_building(site.context, "Tower <A>")
    lift = places.add_lift(site.context, tower.id, "A1", range(-1, 9))
    unit = lift_floors.add_unit(site.context, tower.id, "4C", 4)
    ann = site.resident_id
    client, csrf = log_in(site, "operator")
    assert f'href="/console/people/{ann}/floors"' in client.get(f"/console/people/{ann}").text
    page = client.get(f"/console/people/{ann}/floors").text
    assert "no floor" in reach(page, lift.id)
    moved_in = client.post(
        f"/console/people/{ann}/unit",
        data={"unit_id": unit.id, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert moved_in.status_code == 303
    granted = client.post(
        f"/console/people/{ann}/floors",
        data={"floors": "7, -1", "building_id": tower.id, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert granted.status_code == 303
    page = client.get(f"/console/people/{ann}/floors").text
    assert "Tower &lt;A&gt; · 4C · floor 4" in page
    assert "-1, 4, 7" in reach(page, lift.id)
    bad = client.post(f"/console/people/{ann}/floors", data={"floors": "seven", "csrf_token": csrf})
    assert bad.status_code == 422
    zh = client.get(f"/console/people/{ann}/floors", headers={"Accept-Language": "zh"}).text
    assert "额外楼层" in zh


def test_role_grants_are_listed_and_only_staff_may_add_them(site: Site) -> None:
    tower = places.add_building(site.context, "Tower A")
    lift = places.add_lift(site.context, tower.id, "A1", range(0, 4))
    client, csrf = log_in(site, "admin")
    answer = client.post(
        "/console/floors",
        data={"role": "resident", "floors": "0", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "Resident: 0 · every building" in client.get("/console/floors").text
    page = client.get(f"/console/people/{site.other_id}/floors").text
    assert ">0<" in reach(page, lift.id)
    auditor, auditor_csrf = log_in(site, "auditor")
    assert 'id="grant-role-floors"' not in auditor.get("/console/floors").text
    form = {"role": "staff", "floors": "1", "csrf_token": auditor_csrf}
    assert auditor.post("/console/floors", data=form).status_code == 403
    assert 'id="grant-floors"' not in auditor.get(f"/console/people/{site.other_id}/floors").text
