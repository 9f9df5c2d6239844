"""Issue 16, F2 (bodies), F11 and F12: hostile input answers 4xx, unread, never echoed.

Each test runs on SQLite and on PostgreSQL (a NUL in a text breaks only PostgreSQL).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api_site import PASSWORD, Site, build_site
from facegate.app import create_app
from facegate.domain.errors import ValidationError
from facegate.services.imports import import_people_csv

JSON = {"content-type": "application/json"}


@pytest.fixture
def db_site(migrated_db_url: str) -> Iterator[Site]:
    """The site on SQLite and on PostgreSQL (where the store meets the input)."""
    yield from build_site(migrated_db_url)


@pytest.fixture
def sqlite_site(tmp_path: Path) -> Iterator[Site]:
    """The site on SQLite (the input is refused before any store is reached)."""
    yield from build_site(f"sqlite:///{tmp_path / 'facegate.db'}")


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


def test_login_body_over_its_limit_is_refused_before_it_is_read(sqlite_site: Site) -> None:
    """A 5 MB login body is refused from its Content-Length: not one chunk is pulled."""
    parts = [b'{"username": "admin", "password": "', *[b"x" * 50_000] * 100, b'"}']
    pulled: list[int] = []

    def chunks() -> Iterator[bytes]:  # the test client pulls these only when the app reads
        for part in parts:
            pulled.append(len(part))
            yield part

    declared = {**JSON, "content-length": str(sum(map(len, parts)))}
    answer = _anonymous(sqlite_site).post("/api/v1/auth/login", content=chunks(), headers=declared)
    assert answer.status_code == 413
    assert len(answer.content) < 1000
    assert pulled == [], f"{sum(pulled)} bytes of the body were read before the refusal"


def test_streamed_body_without_a_length_is_cut_at_the_limit(sqlite_site: Site) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"username": "admin", "password": "'
        for _ in range(100):
            yield b"x" * 65536
        yield b'"}'

    answer = _anonymous(sqlite_site).post("/api/v1/auth/login", content=chunks(), headers=JSON)
    assert answer.status_code == 413


def test_validation_errors_never_echo_the_input(sqlite_site: Site) -> None:
    long_name = "z" * 3000
    answer = _anonymous(sqlite_site).post(
        "/api/v1/auth/login", json={"username": long_name, "password": "p"}
    )
    assert answer.status_code == 422
    assert long_name not in answer.text
    assert all("input" not in problem for problem in answer.json()["detail"])


@pytest.mark.parametrize(
    "body",
    [b'{"username": "\\ud800", "password": "x"}', b'{"username": "a\\u0000", "password": "x"}'],
)
def test_lone_surrogate_or_nul_in_an_anonymous_login_is_422(sqlite_site: Site, body: bytes) -> None:
    client = _anonymous(sqlite_site)
    for headers in (JSON, {"content-type": "application/vnd.api+json"}, {}):
        answer = client.post("/api/v1/auth/login", content=body, headers=headers)
        assert answer.status_code == 422, headers


def test_deeply_nested_json_is_422(sqlite_site: Site) -> None:
    body = b'{"name": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    answer = _anonymous(sqlite_site).post("/api/v1/people", content=body, headers=JSON)
    assert answer.status_code == 422


UNSTORABLE = (
    ("/api/v1/people", b'{"name": "\\ud800"}'),
    ("/api/v1/people", b'{"name": "Ann\\u0000Lee"}'),
    ("/api/v1/people", b'{"name": "' + b"N" * 201 + b'"}'),
    ("/api/v1/alerts", b'{"person_id": "p", "reason": "r", "legal_basis": "b", "days": NaN}'),
    ("/api/v1/people/{resident}/passes", b'{"visitor_name": "V", "hours": Infinity}'),
    ("/api/v1/people/{resident}/passes", b'{"visitor_name": "V", "hours": -Infinity}'),
)


def test_json_a_store_cannot_hold_is_422(db_site: Site) -> None:
    client = _staff(db_site)
    for path, body in UNSTORABLE:
        answer = client.post(path.format(resident=db_site.resident_id), content=body)
        assert answer.status_code == 422, (body, answer.text)
        _no_sql(answer.text)


def test_event_dates_without_a_time_zone_are_422_without_sql(db_site: Site) -> None:
    client = _staff(db_site)
    for path in ("/api/v1/events?since=2026-01-01", "/api/v1/events/stream?since=2026-01-01"):
        answer = client.get(path)
        assert answer.status_code == 422, answer.text
        _no_sql(answer.text)
    assert client.get("/api/v1/events?since=2026-01-01T00:00:00Z").status_code == 200


def test_console_events_far_in_the_future_is_4xx(sqlite_site: Site) -> None:
    client = sqlite_site.client()
    form = client.get("/login").text
    token = re.search(r'name="login_csrf" value="([^"]+)"', form)
    assert token is not None
    login = {"username": "admin", "password": PASSWORD, "login_csrf": token.group(1)}
    assert client.post("/login", data=login, follow_redirects=False).status_code == 303
    answer = client.get("/console/events?until=9999-12-31")
    assert answer.status_code == 422


BAD_CSV = (
    "name,unit,floor\nAnn,1A,100000000000000000000000\n",  # floor 10^23
    "name\n" + "N" * 131_073 + "\n",  # over the csv module's field limit
    "name\n" + "N" * 100_000 + "\n",  # a name the API refuses (over 200)
    "name\n" + "N" * 201 + "\n",
    "name\nAnn\x00Lee\n",
    "name,unit,building\nAnn,1A," + "B" * 5000 + "\n",
)


def test_csv_import_refuses_what_the_api_refuses(db_site: Site) -> None:
    for csv_text in BAD_CSV:
        with pytest.raises(ValidationError):
            import_people_csv(db_site.context, csv_text)
    assert import_people_csv(db_site.context, "name\n" + "N" * 200 + "\n").people == 1


def test_an_object_as_an_id_in_a_gate_event_is_422(db_site: Site) -> None:
    admin = _staff(db_site)
    door = admin.post("/api/v1/doors", json={"name": "Gate", "accepted": ["card"]}).json()
    edge = {"target_id": door["id"], "kind": "edge", "gate_id": "gate-1"}
    key = admin.post("/api/v1/devices/keys", json=edge).json()["secret"]
    event = {
        "key": "k1",
        "gate_id": "gate-1",
        "kind": "decision",
        "door_id": door["id"],
        "occurred_at": db_site.deps.clock.now().isoformat(),
        "granted": False,
        "reason": "unknown_credential",
        "person_id": None,
        "pass_id": None,
        "floors": [],
        "scores": {},
        "note": "",
    }
    for field in ("person_id", "pass_id"):
        answer = _anonymous(db_site).post(
            "/api/v1/gates/gate-1/events",
            json={"events": [{**event, field: {"$ne": 1}}]},
            headers={"X-Device-Key": key},
        )
        assert answer.status_code == 422, answer.text
        _no_sql(answer.text)
