"""Database unreachable: the gate decides from its snapshot; events arrive once, later.

The gate reaches its PostgreSQL database (a fresh one per test) through a TCP proxy
that the test cuts and restores; the machine's server itself is never touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url

from brokers import TcpProxy
from facegate.bootstrap_gate import build_gate
from facegate.config import Settings
from facegate.domain.reasons import Reason
from facegate.gate.loop import Outcome
from facegate.gate.runner import run_source, sync_once
from facegate.ports import Frame
from facegate.services import places
from facegate.vision.engine import FaceEngine
from gate_support import (
    ALL_WEEK,
    GateSite,
    ListSource,
    ann_frames,
    gate_engine,
    make_site,
    stranger_frames,
)

__all__ = ["ann_frames", "gate_engine", "stranger_frames"]


@pytest.fixture
def proxied(
    tmp_path: Path,
    postgres_url: str,
    gate_engine: FaceEngine,
    shared_data: Path,
    session_cache_dir: Path,
) -> Iterator[tuple[GateSite, TcpProxy, Settings]]:
    url = make_url(postgres_url)
    settings = Settings(
        data_dir=tmp_path / "site", cache_dir=session_cache_dir, db_url=postgres_url
    )
    site = make_site(settings, gate_engine, shared_data, tmp_path)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    via_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    yield site, proxy, settings.model_copy(update={"db_url": via_proxy})
    proxy.cut()
    site.store.close()


def test_gate_decides_offline_and_delivers_every_event_once(
    proxied: tuple[GateSite, TcpProxy, Settings],
    gate_engine: FaceEngine,
    ann_frames: list[Frame],
    stranger_frames: list[Frame],
) -> None:
    site, proxy, gate_settings = proxied
    door = site.door()
    places.add_access_rule(site.context, [ALL_WEEK], person_id=site.ann, door_ids=[door])
    running = build_gate(gate_settings, door, engine=gate_engine)
    proxy.cut()
    outcomes: list[Outcome] = []
    run_source(running.loop, ListSource(ann_frames + stranger_frames), outcomes.append)
    assert sync_once(running.holder, running.outbox) == 0
    assert not running.holder.online
    reasons = [o.decision.reason for o in outcomes]
    assert reasons[0] is Reason.GRANTED
    assert Reason.UNKNOWN_FACE in reasons
    assert site.events() == []
    waiting = running.outbox.pending(1000)
    assert len(waiting) == len(outcomes)

    proxy.start()
    assert sync_once(running.holder, running.outbox) == len(outcomes)
    assert running.holder.online
    # A gate that crashed before marking them sends the same events again: none doubles.
    assert running.holder.upstream.deliver(waiting) == 0
    assert running.stop() == 0
    stored = {e.id: e.reason for e in site.events()}
    assert stored == {o.event_key: o.decision.reason for o in outcomes}
