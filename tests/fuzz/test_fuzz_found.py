"""Server errors the fuzzers found, each pinned by the request that caused it."""

from __future__ import annotations

import pytest

from facegate.domain.events import EventQuery
from facegate.services import activity
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
