"""The site mode's push over HTTP: the gate's long poll answers at once on a change, each
answer is bound to the asking gate and its nonce, and a gate decides in a pushed mode
before the snapshot that carries it arrives."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from api_site import Site, served
from facegate.api.routes import gates as gate_routes
from facegate.app import create_app
from facegate.domain.accounts import GateKind
from facegate.domain.errors import DatabaseUnavailableError, UpstreamUnavailableError
from facegate.domain.policy import SiteMode
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.http_upstream import HttpUpstream
from facegate.gate.runner import SnapshotHolder, mode_follower
from facegate.http.key_rate import KeyRate
from facegate.services import accounts, places
from facegate.services.site_mode import MODE_WATCH, set_mode

MODEL = "fake-model"


def edge_gate(site: Site) -> tuple[str, str]:
    door = places.add_door(
        site.context, "North", DoorKind.ENTRANCE, CredentialMode.ANY_OF, [CredentialKind.CARD]
    ).id
    secret = accounts.issue_device_key(
        site.context, door, "test", GateKind.EDGE, gate_id=door
    ).secret
    return door, secret


class RouteClock:
    """The long poll's clock: it stands still (the wait never runs out) until ``unfrozen``.

    ``waiting`` is set at its second reading: the poll has read the mode once, found it
    unchanged, and waits.
    """

    def __init__(self) -> None:
        self.readings = 0
        self.waiting, self.unfrozen = threading.Event(), threading.Event()

    def monotonic(self) -> float:
        self.readings += 1
        if self.readings >= 2:
            self.waiting.set()
        return math.inf if self.unfrozen.is_set() else 0.0


def test_the_long_poll_answers_as_soon_as_the_mode_changes(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    door, secret = edge_gate(site)
    upstream = HttpUpstream("", door, secret, MODEL, 5.0, client=site.client())
    assert upstream.wait_mode(door, SiteMode.LOCKDOWN, 5.0) is SiteMode.NORMAL  # differs: now
    clock = RouteClock()
    monkeypatch.setattr(gate_routes, "time", clock)  # only the change can end this wait
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(upstream.wait_mode, door, SiteMode.NORMAL, 10.0)
        try:
            assert clock.waiting.wait(30.0), "the long poll never waited"  # hang guards
            set_mode(site.context, SiteMode.LOCKDOWN, "drill")
            answered = waiting.result(30.0)
        finally:
            clock.unfrozen.set()  # a poll that ignored the change ends now
    assert answered is SiteMode.LOCKDOWN


def test_an_unchanged_mode_is_answered_when_the_wait_runs_out(site: Site) -> None:
    door, secret = edge_gate(site)
    upstream = HttpUpstream("", door, secret, MODEL, 5.0, client=site.client())
    assert upstream.wait_mode(door, SiteMode.NORMAL, 0.2) is SiteMode.NORMAL


def test_an_answer_for_another_nonce_or_gate_is_not_taken(site: Site) -> None:
    door, secret = edge_gate(site)
    client = site.client()
    headers = {"X-Device-Key": secret}
    url = f"/api/v1/gates/{door}/mode"
    answer = client.get(url, params={"nonce": "ab" * 16, "wait_s": 0}, headers=headers).json()
    assert answer["mode"] == "normal"

    class Replaying(httpx.Client):
        """A proxy that answers every wait with the recorded answer (a replay)."""

        def request(self, *args: object, **kwargs: object) -> httpx.Response:  # type: ignore[override]
            return httpx.Response(200, json={**answer, "mode": "free_passage"})

    upstream = HttpUpstream("", door, secret, MODEL, 5.0, client=Replaying())
    with pytest.raises(UpstreamUnavailableError, match="failed its check"):
        upstream.wait_mode(door, SiteMode.NORMAL, 0.0)


def test_a_kiosk_or_other_gates_key_gets_no_mode(site: Site) -> None:
    door, _ = edge_gate(site)
    other, other_secret = edge_gate(site)
    upstream = HttpUpstream("", door, other_secret, MODEL, 5.0, client=site.client())
    with pytest.raises(UpstreamUnavailableError):
        upstream.wait_mode(door, SiteMode.NORMAL, 0.0)
    assert other != door


def test_a_gate_decides_in_a_pushed_mode_before_its_next_poll(site: Site) -> None:
    door, secret = edge_gate(site)
    upstream = HttpUpstream("", door, secret, MODEL, 5.0, client=site.client())
    holder = SnapshotHolder(upstream, door, door)
    holder.refresh()
    follower = mode_follower(holder, door)
    assert follower is not None
    follower.wait_s = 5.0
    follower.start()
    try:
        set_mode(site.context, SiteMode.LOCKDOWN, "drill")
        deadline = time.monotonic() + 5.0
        while holder().access.mode is not SiteMode.LOCKDOWN and time.monotonic() < deadline:
            time.sleep(0.01)
        assert holder().access.mode is SiteMode.LOCKDOWN  # no refresh was made
        assert follower.changes == 1
        holder.refresh()  # the snapshot that carries it replaces the push
        assert holder().access.mode is SiteMode.LOCKDOWN
    finally:
        follower.stop()
        set_mode(site.context, SiteMode.NORMAL, "drill over")
        follower.join(timeout=10.0)


def test_waiting_polls_share_the_reads_of_the_mode(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each waiting poll read the mode on a worker thread every 0.1 s: 1,000 waiting gates
    (or one key's 1,000 connections) took a whole core (98 %, measured) doing nothing."""
    door, secret = edge_gate(site)
    site.deps.device_rate = KeyRate(0.0, 1)  # one key's 100 polls at once: its rate is off here
    reads = []
    mode = MODE_WATCH.mode
    monkeypatch.setattr(MODE_WATCH, "mode", lambda context: reads.append(1) or mode(context))
    polls = 100
    params = {"nonce": "ab" * 16, "wait_s": 0.6, "known": "normal"}

    async def wait_all(url: str) -> list[int]:
        limits = httpx.Limits(max_connections=polls)
        async with httpx.AsyncClient(base_url=url, timeout=60.0, limits=limits) as client:
            asked = [
                client.get(
                    f"/api/v1/gates/{door}/mode", params=params, headers={"X-Device-Key": secret}
                )
                for _ in range(polls)
            ]
            return [answer.status_code for answer in await asyncio.gather(*asked)]

    with served(create_app(site.deps)) as url:
        assert asyncio.run(wait_all(url)) == [200] * polls
    # One read as each poll comes, then the shared ones (about one per 0.1 s), not one
    # per poll per 0.1 s (about 6 per poll: 600).
    assert len(reads) < 2 * polls


def test_a_poll_waits_on_while_the_mode_cannot_be_read(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    door, secret = edge_gate(site)
    upstream = HttpUpstream("", door, secret, MODEL, 5.0, client=site.client())
    mode, reads = MODE_WATCH.mode, []

    def failing(context: object) -> SiteMode:
        reads.append(1)
        if len(reads) > 1:  # the poll's own first read works, the shared ones fail
            raise DatabaseUnavailableError("database down")
        return mode(context)  # type: ignore[arg-type]

    monkeypatch.setattr(MODE_WATCH, "mode", failing)
    with caplog.at_level(logging.WARNING, logger="facegate.services.mode_feed"):
        assert upstream.wait_mode(door, SiteMode.NORMAL, 0.5) is SiteMode.NORMAL
    assert len(reads) > 2  # it kept trying
    assert len([r for r in caplog.records if "cannot be read" in r.message]) == 1
