"""Each device key's request rate (a token bucket per key, :mod:`facegate.http.key_rate`).

The buckets run on an injected clock: no test waits, none asserts a timing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from api_site import Site
from facegate.domain.accounts import GateKind
from facegate.domain.errors import UpstreamBusyError
from facegate.domain.gate import GateEvent, GateEventKind
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.http_upstream import HttpUpstream
from facegate.gate.outbox import SqliteOutbox
from facegate.http.key_rate import KeyRate
from facegate.services import accounts, places
from fakes import FakeTicks

UNKNOWN = Reason.UNKNOWN_FACE


def _door(site: Site) -> str:
    kinds = [CredentialKind.CARD]
    return places.add_door(
        site.context, "North", DoorKind.ENTRANCE, CredentialMode.ANY_OF, kinds
    ).id


def _edge(site: Site, door: str, gate_id: str) -> dict[str, str]:
    secret = accounts.issue_device_key(site.context, door, gate_id, GateKind.EDGE, gate_id).secret
    return {"X-Device-Key": secret}


def test_a_key_over_its_rate_gets_429_and_another_key_is_unaffected(site: Site) -> None:
    clock = FakeTicks()
    site.deps.device_rate = KeyRate(1.0, 3, now=clock)
    door = _door(site)
    a, b = _edge(site, door, "gate-a"), _edge(site, door, "gate-b")
    kiosk = {"X-Device-Key": accounts.issue_device_key(site.context, door, "kiosk").secret}
    client, empty = site.client(), {"events": []}
    for _ in range(3):
        assert client.post("/api/v1/gates/gate-a/events", json=empty, headers=a).status_code == 200
    over = client.post("/api/v1/gates/gate-a/events", json=empty, headers=a)
    assert over.status_code == 429, over.text
    assert (over.headers["Retry-After"], over.json()["error"]) == ("1", "rate_limited")
    mode = {"nonce": "ab" * 16, "wait_s": 0}
    assert client.get("/api/v1/gates/gate-a/mode", params=mode, headers=a).status_code == 429
    assert client.get("/api/v1/gates/gate-b/mode", params=mode, headers=b).status_code == 200
    card = {"kind": "card", "value": "NO-SUCH-CARD"}
    path = f"/api/v1/doors/{door}/credentials"
    for _ in range(3):  # a kiosk's key: its own bucket, on the doors' routes too
        shown = client.post(path, json=card, headers=kiosk)
        assert shown.status_code == 503  # answered: this site has no decision pipeline
    assert client.post(path, json=card, headers=kiosk).status_code == 429
    tracked = site.deps.device_rate.tracked()
    wrong = {"X-Device-Key": "not-a-key"}
    assert client.post("/api/v1/gates/gate-a/events", json=empty, headers=wrong).status_code == 401
    assert site.deps.device_rate.tracked() == tracked  # no bucket kept for a wrong key
    clock.at += 1.0
    assert client.post("/api/v1/gates/gate-a/events", json=empty, headers=a).status_code == 200


def test_a_built_snapshot_costs_its_key_more_than_a_304(site: Site) -> None:
    clock = FakeTicks()
    site.deps.device_rate = KeyRate(1.0, 12, now=clock)
    door = _door(site)
    built, polled = _edge(site, door, "gate-a"), _edge(site, door, "gate-b")
    client, params = site.client(), {"model": "fake-model"}
    whole = client.get("/api/v1/gates/gate-a/snapshot", params=params, headers=built)
    assert whole.status_code == 200, whole.text
    etag = {"If-None-Match": whole.headers["ETag"]}

    def checks(gate_id: str, headers: dict[str, str]) -> list[int]:
        url = f"/api/v1/gates/{gate_id}/snapshot"
        return [
            client.get(url, params=params, headers={**headers, **etag}).status_code
            for _ in range(12)
        ]

    assert checks("gate-b", polled) == [304] * 12  # 304s: one each
    assert checks("gate-a", built) == [304] + [429] * 11  # 12 - 1 - 10 left one


def test_an_edge_gate_waits_out_a_429_and_its_events_wait_in_the_outbox(
    site: Site, tmp_path: Path
) -> None:
    server, gate = FakeTicks(), FakeTicks()
    site.deps.device_rate = KeyRate(1.0, 2, now=server)
    door = _door(site)
    secret = _edge(site, door, "gate-a")["X-Device-Key"]
    client, sent = site.client(), []
    client.event_hooks["request"].append(lambda request: sent.append(request.url.path))
    upstream = HttpUpstream("", "gate-a", secret, "fake-model", 5.0, client=client, now=gate)
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    at = site.deps.clock.now()
    outbox.put(GateEvent("k-1", "gate-a", GateEventKind.DECISION, door, at, False, UNKNOWN))
    held = upstream.fetch_snapshot("gate-a", door)  # built: 2 - 1 - 10, 9 owed
    assert outbox.flush(upstream) == 0  # 429: a wait, not a refusal
    assert outbox.pending_count() == 1
    asked = len(sent)
    with pytest.raises(UpstreamBusyError) as busy:
        upstream.poll_snapshot("gate-a", door, held.version)
    assert busy.value.retry_after_s == pytest.approx(10.0)  # (1 + 9) / 1 a second
    assert outbox.flush(upstream) == 0
    assert len(sent) == asked  # nothing sent before the server's Retry-After
    gate.at += 11.0
    server.at += 11.0  # a token for each of the next two
    assert outbox.flush(upstream) == 1
    assert upstream.poll_snapshot("gate-a", door, held.version) is None  # 304
    outbox.close()
    upstream.close()
