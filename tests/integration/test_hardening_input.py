"""Issue 16, F2 (bodies), F11 and F12: hostile input answers 4xx, quickly, never echoed.

Each test runs on SQLite and on PostgreSQL (a NUL in a text breaks only PostgreSQL).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api_site import PASSWORD, Site, build_site
from facegate.app import create_app
from facegate.domain.errors import ValidationError
from facegate.services.imports import import_people_csv

JSON = {"content-type": "application/json"}


@pytest.fixture
def db_site(db_url: str) -> Iterator[Site]:
    yield from build_site(db_url)


def _staff(site: Site) -> TestClient:
    client = site.client("admin")
    client.headers["content-type"] = "application/json"
    return client


def _anonymous(site: Site) -> TestClient:
    return TestClient(
        create_app(site.deps), base_url="https://testserver", raise_server_exceptions=False
    )


def _no_sql(text: str) -> None:
    for marker in ("SELECT", "INSERT", "[SQL", "sqlite:", "postgresql"):
        assert marker not in text


def test_login_body_over_its_limit_is_refused_before_it_is_read(db_site: Site) -> None:
    client = _anonymous(db_site)
    huge = b'{"username": "admin", "password": "' + b"x" * 5_000_000 + b'"}'
    started = time.perf_counter()
    answer = client.post("/api/v1/auth/login", content=huge, headers=JSON)
    assert answer.status_code == 413
    assert len(answer.content) < 1000
    assert time.perf_counter() - started < 2.0


def test_streamed_body_without_a_length_is_cut_at_the_limit(db_site: Site) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"username": "admin", "password": "'
        for _ in range(100):
            yield b"x" * 65536
        yield b'"}'

    answer = _anonymous(db_site).post("/api/v1/auth/login", content=chunks(), headers=JSON)
    assert answer.status_code == 413


def test_validation_errors_never_echo_the_input(db_site: Site) -> None:
    long_name = "z" * 3000
    answer = _anonymous(db_site).post(
        "/api/v1/auth/login", json={"username": long_name, "password": "p"}
    )
    assert answer.status_code == 422
    assert long_name not in answer.text
    assert all("input" not in problem for problem in answer.json()["detail"])


@pytest.mark.parametrize(
    "body",
    [b'{"username": "\\ud800", "password": "x"}', b'{"username": "a\\u0000", "password": "x"}'],
)
def test_lone_surrogate_or_nul_in_an_anonymous_login_is_422(db_site: Site, body: bytes) -> None:
    answer = _anonymous(db_site).post("/api/v1/auth/login", content=body, headers=JSON)
    assert answer.status_code == 422


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/people", b'{"name": "\\ud800"}'),
        ("/api/v1/people", b'{"name": "Ann\\u0000Lee"}'),
        ("/api/v1/alerts", b'{"person_id": "p", "reason": "r", "legal_basis": "b", "days": NaN}'),
        ("/api/v1/people/{resident}/passes", b'{"visitor_name": "V", "hours": Infinity}'),
        ("/api/v1/people/{resident}/passes", b'{"visitor_name": "V", "hours": -Infinity}'),
    ],
)
def test_json_a_store_cannot_hold_is_422(db_site: Site, path: str, body: bytes) -> None:
    client = _staff(db_site)
    client.headers["content-type"] = "application/json"
    answer = client.post(path.format(resident=db_site.resident_id), content=body)
    assert answer.status_code == 422, answer.text
    _no_sql(answer.text)


def test_event_dates_without_a_time_zone_are_422_without_sql(db_site: Site) -> None:
    client = _staff(db_site)
    for path in ("/api/v1/events?since=2026-01-01", "/api/v1/events/stream?since=2026-01-01"):
        answer = client.get(path)
        assert answer.status_code == 422, answer.text
        _no_sql(answer.text)
    assert client.get("/api/v1/events?since=2026-01-01T00:00:00Z").status_code == 200


def test_console_events_far_in_the_future_is_4xx(db_site: Site) -> None:
    client = db_site.client()
    form = client.get("/login").text
    token = re.search(r'name="login_csrf" value="([^"]+)"', form)
    assert token is not None
    login = {"username": "admin", "password": PASSWORD, "login_csrf": token.group(1)}
    assert client.post("/login", data=login, follow_redirects=False).status_code == 303
    answer = client.get("/console/events?until=9999-12-31")
    assert answer.status_code == 422


@pytest.mark.parametrize(
    "csv_text",
    [
        "name,unit,floor\nAnn,1A,100000000000000000000000\n",
        "name\n" + "N" * 131_073 + "\n",
        "name\n" + "N" * 100_000 + "\n",
        "name\nAnn\x00Lee\n",
        "name,unit,building\nAnn,1A," + "B" * 5000 + "\n",
    ],
    ids=["floor-1e23", "field-over-csv-limit", "name-100k", "nul", "long-building"],
)
def test_csv_import_refuses_what_the_api_refuses(db_site: Site, csv_text: str) -> None:
    with pytest.raises(ValidationError):
        import_people_csv(db_site.context, csv_text)


@pytest.mark.parametrize("field", ["person_id", "pass_id"])
def test_an_object_as_an_id_in_a_gate_event_is_422(db_site: Site, field: str) -> None:
    admin = _staff(db_site)
    door = admin.post("/api/v1/doors", json={"name": "Gate", "accepted": ["card"]}).json()
    key = admin.post("/api/v1/devices/keys", json={"gate_id": door["id"]}).json()["secret"]
    event = {
        "key": "k1",
        "gate_id": door["id"],
        "kind": "decision",
        "door_id": door["id"],
        "occurred_at": "2026-01-01T00:00:00+00:00",
        "granted": False,
        "reason": "unknown_credential",
        "person_id": None,
        "pass_id": None,
        "floors": [],
        "scores": {},
        "note": "",
    }
    event[field] = {"$ne": 1}
    answer = _anonymous(db_site).post(
        f"/api/v1/gates/{door['id']}/events",
        json={"events": [event]},
        headers={"X-Device-Key": key},
    )
    assert answer.status_code == 422, answer.text
    _no_sql(answer.text)
