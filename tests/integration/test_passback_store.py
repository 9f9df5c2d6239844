"""Anti-passback on a real SQLite site: the CLI sets zones up, a passage delivered by a
gate moves the person in, the door's snapshot carries it (its version moves, the site
data version does not), a staff reset clears it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from facegate.bootstrap import SystemClock, build_sealer, build_store
from facegate.cli import app
from facegate.config import Settings
from facegate.domain.gate import GateEvent, GateEventKind
from facegate.domain.matching import MatchPolicy
from facegate.domain.passback import Direction, PassbackMode
from facegate.domain.reasons import Reason
from facegate.gate.store_upstream import StoreUpstream
from facegate.services.context import ServiceContext
from facegate.services.gate_sync import receive_events
from support import card_site

runner = CliRunner()


def cli(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, str, str]:
    settings, door_id, ann = card_site(tmp_path, monkeypatch, "Garage in", ("Ann", "ANN"))
    assert ann is not None
    return settings, door_id, ann


def test_zone_presence_end_to_end(site: tuple[Settings, str, str]) -> None:
    settings, door_id, ann = site
    assert cli("zone", "set", "garage", "--passback", "hard", "--reset-at", "04:00")["name"]
    assert cli("door", "zone", door_id, "--zone", "garage", "--direction", "in")["zone"]
    store = build_store(settings)
    try:
        context = ServiceContext(store=store, clock=SystemClock(), actor="gate:test")
        upstream = StoreUpstream(
            lambda: store, build_sealer(settings), context.clock, "m", MatchPolicy(0.57, 0.0)
        )
        before = upstream.fetch_snapshot("g", door_id)
        assert before.target.zone is not None
        assert before.target.zone.direction is Direction.IN
        assert before.target.zone.mode is PassbackMode.HARD
        assert before.access.presence == {}
        with store.unit_of_work() as uow:
            data_version = uow.reads.data_version()
        passage = GateEvent(
            "k-1",
            "g",
            GateEventKind.DECISION,
            door_id,
            datetime.now(UTC),
            True,
            Reason.GRANTED,
            ann,
        )
        assert receive_events(context, [passage]) == 1
        with store.unit_of_work() as uow:
            assert uow.reads.data_version() == data_version  # other doors keep theirs
        after = upstream.poll_snapshot("g", door_id, before.version)
        assert after is not None
        assert after.access.presence[ann].inside
        listed = cli("zone", "list")["zones"]
        assert listed == [
            {
                "name": "garage",
                "passback": "hard",
                "reset_at": "04:00",
                "cleared_at": None,
                "doors": {door_id: "in"},
                "inside": 1,
            }
        ]
        assert cli("zone", "reset", "garage", "--reason", "count")["forgotten"] == 1
        cleared = upstream.poll_snapshot("g", door_id, after.version)
        assert cleared is not None
        assert cleared.access.presence == {}
        assert cleared.target.zone is not None
        assert cleared.target.zone.cleared_at is not None
    finally:
        store.close()
