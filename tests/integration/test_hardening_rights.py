"""Issue 16, F4: the site's disclosure policy holds for every export, on both stores."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from api_site import PASSWORD, Site, build_site
from facegate.config import ServerSettings, Settings
from facegate.domain.disclosure import DataClass
from facegate.services import disclosures
from facegate.services.disclosures import DisclosureRequest


@pytest.fixture
def db_site(migrated_db_url: str) -> Iterator[Site]:
    yield from build_site(migrated_db_url)


def _disclose(site: Site) -> None:
    request = DisclosureRequest(
        "City Police",
        "StPO s.94",
        (site.resident_id,),
        frozenset({DataClass.EVENTS}),
        date(2026, 2, 1),
        date(2026, 2, 28),
        "Dana Ortiz",
    )
    disclosures.record_disclosure(site.context, request)


def _set_policy(site: Site, visible: bool) -> None:
    server = ServerSettings(environment="development")
    site.deps.settings = Settings(server=server, disclosures_visible_to_person=visible)


def _portal_export(site: Site) -> dict[str, object]:
    client: TestClient = site.client()
    token = re.search(r'name="login_csrf" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    form = {"username": "ann", "password": PASSWORD, "login_csrf": token.group(1)}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    answer = client.get("/portal/export")
    assert answer.status_code == 200
    document: dict[str, object] = answer.json()
    return document


def _exports(site: Site) -> list[dict[str, object]]:
    staff = site.client("admin").get(f"/api/v1/people/{site.resident_id}/export").json()
    own = site.client("ann").get("/api/v1/me/export").json()
    return [staff, own, _portal_export(site)]


def test_hidden_disclosures_are_left_out_of_every_export(db_site: Site) -> None:
    _disclose(db_site)
    _set_policy(db_site, visible=False)
    for document in _exports(db_site):
        assert "disclosures" not in document
        assert "City Police" not in str(document)


def test_visible_disclosures_are_in_every_export(db_site: Site) -> None:
    _disclose(db_site)
    _set_policy(db_site, visible=True)
    for document in _exports(db_site):
        listed = document["disclosures"]
        assert isinstance(listed, list)
        assert [d["requesting_body"] for d in listed] == ["City Police"]
