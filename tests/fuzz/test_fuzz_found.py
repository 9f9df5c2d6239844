"""Server errors the fuzzers found, each pinned by the request that caused it."""

from __future__ import annotations

import pytest

from api_site import PASSWORD
from facegate.domain.errors import ValidationError
from facegate.domain.events import EventQuery
from facegate.services import activity, imports, people
from facegate.web.auth import LOGIN_CSRF_COOKIE
from fuzz_site import FuzzSite

pytestmark = pytest.mark.fuzz


@pytest.mark.parametrize(("granted", "reason"), [(False, "granted"), ({}, "granted")])
def test_gate_event_refused_but_granted_is_422(
    fuzz_site: FuzzSite, granted: object, reason: str
) -> None:
    """Was 500: ``ValueError`` from ``Event`` when the server stored a gate's event whose
    ``granted`` was false (``{}`` reads as false) while its reason was ``granted``."""
    event = fuzz_site.event_json() | {"granted": granted, "reason": reason}
    client = fuzz_site.site.client()
    answer = client.post(
        f"/api/v1/gates/{fuzz_site.edge_gate_id}/events",
        json={"events": [event]},
        headers={"X-Device-Key": fuzz_site.edge_secret},
    )
    assert answer.status_code == 422, answer.text
    stored = activity.search_events(fuzz_site.site.context, EventQuery(limit=10))
    assert stored == []


@pytest.mark.parametrize(
    ("cookie", "form"),
    [
        (None, "\u00e9t\u00e9"),  # the login page's own cookie, a form token not ASCII
        ("\u00e9t\u00e9.x", "\u00e9t\u00e9.x"),  # cookie and form agree, neither ASCII
    ],
)
def test_login_form_with_a_non_ascii_token_is_stale(
    fuzz_site: FuzzSite, cookie: str | None, form: str
) -> None:
    """Was 500 (anonymous): ``TypeError`` from ``compare_digest`` on non-ASCII text."""
    client = fuzz_site.site.client()
    assert client.get("/login").status_code == 200
    headers: dict[str, bytes] = {}
    if cookie is not None:  # raw header bytes, which the server reads as Latin-1
        client.cookies.clear()
        headers["Cookie"] = f"{LOGIN_CSRF_COOKIE}={cookie}".encode("latin-1")
    answer = client.post(
        "/login",
        data={"username": "admin", "password": PASSWORD, "login_csrf": form},
        headers=headers,
        follow_redirects=False,
    )
    assert answer.status_code == 403, answer.text


@pytest.mark.parametrize("text", ["name\n\ud800\n", "name,unit\nAnn,\udfff\n"])
def test_csv_import_with_a_lone_surrogate_is_bad_input(fuzz_site: FuzzSite, text: str) -> None:
    """Was ``UnicodeEncodeError`` from the database driver: the service's callers (the
    console decodes uploads strictly) never pass such text, but the service promises a
    ``ValidationError`` for anything it refuses, and adds nothing."""
    context = fuzz_site.site.context
    before = len(people.list_people(context))
    with pytest.raises(ValidationError):
        imports.import_people_csv(context, text)
    assert len(people.list_people(context)) == before
