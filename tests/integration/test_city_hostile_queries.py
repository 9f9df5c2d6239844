"""A curious operator's hostile search values get 422, not a server error.

Before, a keyset cursor that is not a date (``after=x|y|z``), a NUL character in any
text filter (PostgreSQL text cannot hold one) and the console's ``until=9999-12-31``
(the day after overflows) each answered 500 with a traceback in the hub's log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from facegate.hub.access import HubRole
from facegate.hub.bootstrap import build_hub
from facegate.hub.settings import HubSettings
from facegate.hub.web import create_hub_app

HOSTILE = (
    "after=x|y|z",
    "after=2026-01-01T00:00:00|%00|k",
    "district=%00",
    "site_id=%00",
    "site_id=s&door_id=%00",
    "reason=%00",
)


def test_hostile_search_values_are_bad_input(postgres_url: str, tmp_path: Path) -> None:
    hub = build_hub(HubSettings(db_url=postgres_url, data_dir=tmp_path))
    try:
        token = hub.store.add_account("curious", HubRole.AUDITOR, [], datetime.now(UTC))
        client = TestClient(create_hub_app(hub), raise_server_exceptions=False)
        bearer = {"Authorization": f"Bearer {token}"}
        api = {path: client.get(f"/hub/v1/events?{path}", headers=bearer) for path in HOSTILE}
        client.cookies.set("hub_token", token)
        console = {path: client.get(f"/console/events?{path}")
                   for path in (*HOSTILE, "until=9999-12-31", "since=10000-01-01")}  # fmt: skip
        assert {p: a.status_code for p, a in api.items()} == dict.fromkeys(HOSTILE, 422)
        assert {p: a.status_code for p, a in console.items()} == dict.fromkeys(console, 422)
        assert client.get("/console/events?until=9999-12-30").status_code == 200
    finally:
        hub.store.engine.dispose()
