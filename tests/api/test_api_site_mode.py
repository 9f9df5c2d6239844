"""The site mode over the API: role-checked, audited, in OpenAPI."""

from __future__ import annotations

from api_site import Site
from facegate.domain.policy import SiteMode
from facegate.services import activity
from facegate.services.site_mode import show_mode


def test_staff_set_the_mode_readers_see_it_residents_do_not(site: Site) -> None:
    operator = site.client("operator")
    answer = operator.put(
        "/api/v1/site/mode",
        json={"mode": "lockdown", "reason": "police request", "until": "2030-01-01T00:00:00Z"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["mode"], body["source"], body["reason"]) == (
        "lockdown",
        "operator",
        "police request",
    )
    assert body["set_by"].endswith("operator")
    assert site.client("auditor").get("/api/v1/site/mode").json()["mode"] == "lockdown"
    refused = site.client("auditor").put(
        "/api/v1/site/mode", json={"mode": "normal", "reason": "x"}
    )
    assert refused.status_code == 403
    assert site.client("ann").get("/api/v1/site/mode").status_code == 403
    assert site.client().get("/api/v1/site/mode").status_code == 401
    records = activity.read_audit(site.context, 0, 500)
    assert [r.details["mode"] for r in records if r.action == "site.mode"] == ["lockdown"]


def test_a_bad_mode_change_is_a_422_and_changes_nothing(site: Site) -> None:
    admin = site.client("admin")
    for body in (
        {"mode": "party", "reason": "x"},
        {"mode": "lockdown", "reason": ""},
        {"mode": "lockdown", "reason": "x", "until": "2030-01-01T00:00:00"},  # no zone
        {"mode": "lockdown", "reason": "x", "until": "2001-01-01T00:00:00Z"},  # past
    ):
        assert admin.put("/api/v1/site/mode", json=body).status_code == 422, body
    assert show_mode(site.context).mode is SiteMode.NORMAL


def test_the_mode_routes_are_in_openapi(site: Site) -> None:
    paths = site.client().get("/openapi.json").json()["paths"]
    assert set(paths["/api/v1/site/mode"]) == {"get", "put"}
