"""A bounded, seeded schemathesis run over the OpenAPI document: no answer is a 5xx.

Excluded, because it answers 503 by design here: the remote unlock (the test site has no
door driver configured). The event stream is run with
``duration_s=0`` so that it ends at once.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api_site import PASSWORD, Site

schemathesis = pytest.importorskip("schemathesis", reason="pip install schemathesis")

EXCLUDED = re.compile(r"^/api/v1/doors/\{door_id\}/unlock$")
MAX_EXAMPLES = 8
"""Examples per operation (seeded with ``derandomize``, so every run is the same)."""


def _session(site: Site) -> tuple[dict[str, str], dict[str, str]]:
    client = site.client()
    answer = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    headers = {"X-CSRF-Token": answer.json()["csrf_token"]}
    return headers, dict(client.cookies.items())


def _run(site: Site, operation: Any, statuses: list[int]) -> None:
    strategy = operation.as_strategy()
    headers, cookies = _session(site)

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        case = data.draw(strategy)
        if operation.path == "/api/v1/events/stream":
            case.query = {**(case.query or {}), "duration_s": 0}
        response = case.call(headers=headers, cookies=cookies)
        statuses.append(response.status_code)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} answered {response.status_code}: "
            f"{response.text[:300]}"
        )

    check()


def test_no_operation_answers_a_server_error(site: Site) -> None:
    from facegate.app import create_app

    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(site.deps))
    statuses: list[int] = []
    ran: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if EXCLUDED.match(operation.path):
            continue
        _run(site, operation, statuses)
        ran.append(f"{operation.method.upper()} {operation.path}")
    assert len(ran) >= 25, ran
    assert len(statuses) >= len(ran)
    assert any(200 <= s < 300 for s in statuses)
