"""Buildings, access rules and disclosures in the API: shapes, paging, role checks."""

from __future__ import annotations

from api_site import Site

WEEK = [{"weekdays": [0, 1, 2, 3, 4], "start": "07:00", "end": "22:30"}]


def _door(site: Site) -> str:
    answer = site.client("admin").post(
        "/api/v1/doors", json={"name": "Lobby", "accepted": ["card", "face"]}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_staff_add_buildings_readers_list_them_residents_may_not(site: Site) -> None:
    added = site.client("operator").post("/api/v1/buildings", json={"name": "Tower B"})
    assert added.status_code == 201, added.text
    listed = site.client("auditor").get("/api/v1/buildings").json()
    assert {"id": added.json()["id"], "name": "Tower B"} in listed
    assert site.client("auditor").post("/api/v1/buildings", json={"name": "X"}).status_code == 403
    assert site.client("ann").get("/api/v1/buildings").status_code == 403


def test_rules_are_added_and_listed_a_page_at_a_time(site: Site) -> None:
    door = _door(site)
    operator = site.client("operator")
    by_role = operator.post(
        "/api/v1/rules", json={"role": "resident", "door_ids": [door], "windows": WEEK}
    )
    assert by_role.status_code == 201, by_role.text
    body = {"person_id": site.other_id, "door_ids": [door], "windows": WEEK}
    assert operator.post("/api/v1/rules", json=body).status_code == 201
    listed = site.client("auditor").get("/api/v1/rules")
    assert listed.status_code == 200
    assert listed.headers["x-total-count"] == "2"
    rule = next(r for r in listed.json() if r["id"] == by_role.json()["id"])
    assert rule["windows"] == WEEK
    assert rule["door_ids"] == [door]
    assert rule["time_zone"] == "Europe/Berlin"
    assert site.client("auditor").get("/api/v1/rules?page=2").json() == []


def test_a_rule_names_one_subject_and_real_doors(site: Site) -> None:
    door = _door(site)
    operator = site.client("operator")
    both = {"role": "resident", "person_id": site.other_id, "door_ids": [door], "windows": WEEK}
    assert operator.post("/api/v1/rules", json=both).status_code == 422
    nowhere = {"role": "resident", "windows": WEEK}
    assert operator.post("/api/v1/rules", json=nowhere).status_code == 422
    bad_time = {"role": "resident", "door_ids": [door], "windows": [{**WEEK[0], "end": "25:00"}]}
    assert operator.post("/api/v1/rules", json=bad_time).status_code == 422
    ghost = {"role": "resident", "door_ids": ["no-such-door"], "windows": WEEK}
    assert operator.post("/api/v1/rules", json=ghost).status_code == 404
    assert site.client("ann").post("/api/v1/rules", json=nowhere).status_code == 403


def test_disclosures_are_recorded_by_admins_and_read_by_auditors(site: Site) -> None:
    body = {
        "requesting_body": "City Police",
        "legal_basis": "warrant 7",
        "person_ids": [site.resident_id],
        "data_classes": ["events"],
        "start": "2026-03-01",
        "end": "2026-03-01",
        "approved_by": "Site manager",
    }
    assert site.client("operator").post("/api/v1/disclosures", json=body).status_code == 403
    added = site.client("admin").post("/api/v1/disclosures", json=body)
    assert added.status_code == 201, added.text
    assert added.json()["person_ids"] == [site.resident_id]
    assert len(added.json()["digest"]) == 64
    listed = site.client("auditor").get("/api/v1/disclosures", params={"person_id": site.other_id})
    assert listed.json() == []
    assert [d["id"] for d in site.client("auditor").get("/api/v1/disclosures").json()] == [
        added.json()["id"]
    ]
    assert site.client("operator").get("/api/v1/disclosures").status_code == 403
    ghost = {**body, "person_ids": ["nobody"]}
    assert site.client("admin").post("/api/v1/disclosures", json=ghost).status_code == 404


def test_people_are_searched_by_name_a_page_at_a_time(site: Site) -> None:
    reader = site.client("auditor")
    everyone = reader.get("/api/v1/people")
    assert "x-total-count" not in everyone.headers  # the whole list, as before
    found = reader.get("/api/v1/people", params={"q": "chen"})
    assert found.headers["x-total-count"] == "1"
    assert [p["name"] for p in found.json()] == ["Bo Chen"]
    first = reader.get("/api/v1/people", params={"page": 1})
    assert first.headers["x-total-count"] == str(len(everyone.json()))
    assert reader.get("/api/v1/people", params={"page": 2}).json() == []
    assert reader.get("/api/v1/people", params={"q": "x" * 201}).status_code == 422


def test_a_doors_liveness_mode_is_set_by_staff_audited_and_listed(site: Site) -> None:
    door = _door(site)
    listed = site.client("auditor").get("/api/v1/doors").json()
    assert next(d for d in listed if d["id"] == door)["liveness"] == "default"
    path = f"/api/v1/doors/{door}/liveness"
    assert site.client("auditor").put(path, json={"liveness": "passive"}).status_code == 403
    assert site.client("operator").put(path, json={"liveness": "maybe"}).status_code == 422
    changed = site.client("operator").put(path, json={"liveness": "challenge"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["liveness"] == "challenge"
    listed = site.client("auditor").get("/api/v1/doors").json()
    assert next(d for d in listed if d["id"] == door)["liveness"] == "challenge"
    missing = site.client("operator").put(
        "/api/v1/doors/nope/liveness", json={"liveness": "passive"}
    )
    assert missing.status_code == 404
    records = site.client("admin").get("/api/v1/audit").json()
    assert any(r["action"] == "door.liveness" and r["subject_id"] == door for r in records)
