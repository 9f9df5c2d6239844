"""Lifts, units and extra floors through the API: role-checked, in OpenAPI (issue 14 #2)."""

from __future__ import annotations

from api_site import Site
from facegate.services import places


def test_floors_are_set_and_read_through_the_api_by_role(site: Site) -> None:
    tower = places.add_building(site.context, "Tower A").id
    paths = site.client().get("/openapi.json").json()["paths"]
    for path in ("/api/v1/lifts", "/api/v1/units", "/api/v1/floor-grants"):
        assert path in paths
    assert "/api/v1/people/{person_id}/floors" in paths
    operator, auditor = site.client("operator"), site.client("auditor")
    lift = operator.post(
        "/api/v1/lifts", json={"building_id": tower, "name": "A1", "floors": [3, 0, 1, 2]}
    )
    assert lift.status_code == 201, lift.text
    assert lift.json()["floors"] == [0, 1, 2, 3]
    unit = operator.post("/api/v1/units", json={"building_id": tower, "label": "2A", "floor": 2})
    assert unit.status_code == 201
    ann = site.resident_id
    moved_in = operator.put(f"/api/v1/people/{ann}/unit", json={"unit_id": unit.json()["id"]})
    assert moved_in.json() == {"unit_id": unit.json()["id"]}
    grant = {"floors": [3], "person_id": ann, "building_id": tower}
    assert operator.post("/api/v1/floor-grants", json=grant).status_code == 201
    floors = auditor.get(f"/api/v1/people/{ann}/floors").json()
    assert floors["home_floor"] == 2
    assert [e["floors"] for e in floors["extra"]] == [[3]]
    assert [(x["name"], x["reason"], x["floors"]) for x in floors["lifts"]] == [
        ("A1", "granted", [2, 3])
    ]
    # An auditor reads but does not change; a resident does neither.
    assert auditor.post("/api/v1/floor-grants", json=grant).status_code == 403
    resident = site.client("ann")
    assert resident.get(f"/api/v1/people/{ann}/floors").status_code == 403
    assert resident.post("/api/v1/units", json=unit.json()).status_code == 403


def test_bad_floor_requests_are_refused_with_a_reason(site: Site) -> None:
    operator = site.client("operator")
    both = {"floors": [1], "person_id": site.resident_id, "role": "staff"}
    assert operator.post("/api/v1/floor-grants", json=both).status_code == 422
    out_of_range = {"floors": [1000], "role": "staff"}
    assert operator.post("/api/v1/floor-grants", json=out_of_range).status_code == 422
    none = {"floors": [], "role": "staff"}
    assert operator.post("/api/v1/floor-grants", json=none).status_code == 422
    nowhere = {"floors": [1], "role": "staff", "building_id": "nope"}
    assert operator.post("/api/v1/floor-grants", json=nowhere).status_code == 404
    assert operator.get("/api/v1/people/nope/floors").status_code == 404
    no_unit = operator.put(f"/api/v1/people/{site.resident_id}/unit", json={"unit_id": "nope"})
    assert no_unit.status_code == 404
