"""A gate restarted while its site database is unreachable starts from its saved snapshot."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facegate.bootstrap_gate import build_gate
from facegate.cli import app
from facegate.config import Settings
from facegate.domain.errors import UpstreamUnavailableError
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.loop import Outcome
from facegate.gate.runner import run_source, sync_once
from facegate.ports import Frame
from facegate.services import credentials, places
from facegate.vision.engine import FaceEngine
from gate_support import ALL_WEEK, GateSite, ListSource, ann_frames, gate_engine, make_site
from support import file_parts, write_parts

__all__ = ["ann_frames", "gate_engine"]


@pytest.fixture
def synced(
    tmp_path: Path, gate_engine: FaceEngine, shared_data: Path, session_cache_dir: Path
) -> tuple[GateSite, str]:
    """A site whose gate synced once (snapshot saved), then the database went away."""
    settings = Settings(data_dir=tmp_path / "site", cache_dir=session_cache_dir)
    site = make_site(settings, gate_engine, shared_data, tmp_path)
    door = site.door()
    places.add_access_rule(site.context, [ALL_WEEK], person_id=site.ann, door_ids=[door])
    assert build_gate(settings, door, engine=gate_engine).stop() == 0
    site.store.close()
    os.replace(settings.database_path, settings.database_path.with_suffix(".away"))
    return site, door


def test_a_gate_starts_offline_from_its_saved_snapshot_and_grants(
    synced: tuple[GateSite, str], gate_engine: FaceEngine, ann_frames: list[Frame]
) -> None:
    site, door = synced
    running = build_gate(site.settings, door, engine=gate_engine)
    assert not running.holder.online
    outcomes: list[Outcome] = []
    run_source(running.loop, ListSource(ann_frames), outcomes.append)
    assert [(o.decision.reason, o.decision.person_id) for o in outcomes] == [
        (Reason.GRANTED, site.ann)
    ]
    assert running.outbox.pending_count() == 1

    database = site.settings.database_path
    os.replace(database.with_suffix(".away"), database)
    assert sync_once(running.holder, running.outbox) == 1
    assert running.holder.online
    assert running.stop() == 0


def test_a_gate_restarted_offline_remembers_the_pass_uses_its_outbox_holds(
    tmp_path: Path, gate_engine: FaceEngine, shared_data: Path, session_cache_dir: Path
) -> None:
    """A one-time pass shown, the gate restarted, the pass shown again: still used up
    (the saved snapshot knew no use; the grant's event waits in the outbox)."""
    settings = Settings(data_dir=tmp_path / "site", cache_dir=session_cache_dir)
    site = make_site(settings, gate_engine, shared_data, tmp_path)
    kinds = [CredentialKind.QR, CredentialKind.CARD]
    door = places.add_door(site.context, "Gate", DoorKind.ENTRANCE, CredentialMode.ANY_OF, kinds)
    issued = credentials.create_pass(site.context, site.ann, "Vi", timedelta(hours=1))
    assert build_gate(settings, door.id, engine=gate_engine).stop() == 0
    site.store.close()
    os.replace(settings.database_path, settings.database_path.with_suffix(".away"))

    def shown_once() -> Reason:
        running = build_gate(settings, door.id, engine=gate_engine)
        assert not running.holder.online
        with running.loop.controller.guard:
            reason = running.loop.controller.decide_credential("qr", issued.code).decision.reason
        running.stop()
        return reason

    assert [shown_once(), shown_once()] == [Reason.GRANTED, Reason.PASS_USED_UP]


def test_an_altered_saved_snapshot_is_refused(
    synced: tuple[GateSite, str], gate_engine: FaceEngine
) -> None:
    site, door = synced
    path = site.settings.data_dir / "gate" / "snapshot.gate-1.bin"
    raw, sealed = file_parts(path)
    raw["target_id"] = "another-door"
    write_parts(path, raw, sealed)
    with pytest.raises(UpstreamUnavailableError, match="refused"):
        build_gate(site.settings, door, engine=gate_engine)


def test_no_database_and_no_saved_snapshot_exits_5_with_a_clear_error(
    tmp_path: Path, session_cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(tmp_path / "site"))
    monkeypatch.setenv("FACEGATE_CACHE_DIR", str(session_cache_dir))
    runner = CliRunner()
    assert runner.invoke(app, ["site", "init", "--name", "Oak Court"]).exit_code == 0
    database = Settings(data_dir=tmp_path / "site").database_path
    os.replace(database, database.with_suffix(".away"))
    clip = tmp_path / "none.avi"
    clip.write_bytes(b"")
    result = runner.invoke(app, ["gate", "--video", str(clip), "--door", "d1", "--json"])
    assert result.exit_code == 5, result.output
    message = json.loads(result.stdout)["error"]["message"]
    assert "site database unreachable" in message
    assert "no saved snapshot at" in message
