"""Issue 16 F9: the audit chain anchored outside the database by signed checkpoints.

Whoever can write the database can delete the last audit records, or edit one and
recompute every later hash, and the chain alone still verifies. Checked against a signed
checkpoint taken before, both are found; what happened after the newest checkpoint is
not covered (and the tests say so).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from facegate.cli import app
from facegate.domain.audit import AuditRecord, verify_chain
from facegate.domain.audit_anchor import SignedCheckpoint
from facegate.services import people, site_admin
from facegate.services.audit_anchor import PeriodicCheckpoints, take_checkpoint, verify_anchored
from facegate.services.context import ServiceContext
from facegate.store.audit_anchors import AnchorFile
from facegate.store.database import create_db_engine
from facegate.store.unit_of_work import SqlStore
from fakes import FakeClock

runner = CliRunner()


@pytest.fixture
def engine(migrated_db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(migrated_db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def context(engine: Engine) -> ServiceContext:
    clock = FakeClock()
    context = ServiceContext(store=SqlStore(engine), clock=clock, actor="cli:admin")
    site_admin.init_site(context, "Oak Court", "UTC")
    for name in ("Ann", "Bo", "Cy", "Di"):
        people.add_person(context, name)
        clock.advance(minutes=1)
    return context


def records(context: ServiceContext) -> list[AuditRecord]:
    with context.store.unit_of_work() as uow:
        return uow.audit.all()


def delete_after(engine: Engine, seq: int) -> None:
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq > :seq"), {"seq": seq})


def forged(chain: list[AuditRecord], seq: int) -> list[AuditRecord]:
    """``chain`` with record ``seq``'s actor changed and every later hash recomputed."""
    out: list[AuditRecord] = []
    for record in chain:
        if record.seq == seq:
            record = replace(record, actor="cli:nobody")
        if record.seq >= seq:
            record = replace(record, prev_hash=out[-1].hash)
            record = replace(record, hash=record.computed_hash())
        out.append(record)
    return out


def rewrite_from(engine: Engine, chain: list[AuditRecord], seq: int) -> None:
    """Edit record ``seq`` and recompute every later hash, as a careful forger would."""
    update = text("UPDATE audit_log SET actor = :a, prev_hash = :p, hash = :h WHERE seq = :s")
    with engine.begin() as connection:
        # prev_hash is unique: clear the rewritten ones first so no row collides midway
        connection.execute(text("UPDATE audit_log SET prev_hash = id WHERE seq >= :s"), {"s": seq})
        for record in forged(chain, seq)[seq - 1 :]:
            values = {"a": record.actor, "p": record.prev_hash, "h": record.hash}
            connection.execute(update, {**values, "s": record.seq})


def test_truncation_before_the_checkpoint_is_found(
    context: ServiceContext, engine: Engine, tmp_path: Path
) -> None:
    anchor = AnchorFile(tmp_path / "anchor")
    signed = take_checkpoint(context, anchor)
    assert signed.checkpoint.seq == 5
    assert verify_anchored(context, anchor).intact
    delete_after(engine, 3)
    assert verify_chain(records(context)).intact  # the chain alone cannot tell
    report = verify_anchored(context, anchor)
    assert not report.intact
    assert report.anchor.broken_seq == 5
    assert "records removed" in (report.anchor.problem or "")


def test_a_rewrite_with_recomputed_hashes_is_found(
    context: ServiceContext, engine: Engine, tmp_path: Path
) -> None:
    anchor = AnchorFile(tmp_path / "anchor")
    take_checkpoint(context, anchor)
    rewrite_from(engine, records(context), 2)
    assert verify_chain(records(context)).intact  # the chain alone cannot tell
    report = verify_anchored(context, anchor)
    assert (report.intact, report.anchor.broken_seq) == (False, 5)
    assert "rewritten" in (report.anchor.problem or "")


def test_what_follows_the_newest_checkpoint_is_not_covered(
    context: ServiceContext, engine: Engine, tmp_path: Path
) -> None:
    anchor = AnchorFile(tmp_path / "anchor")
    take_checkpoint(context, anchor)
    people.add_person(context, "Ed")
    people.add_person(context, "Flo")
    delete_after(engine, 6)  # Flo's record, written after the checkpoint, is gone
    report = verify_anchored(context, anchor)
    assert report.intact  # the stated limit: nothing after the newest checkpoint is covered
    assert report.anchor.covered_seq == 5


def test_an_edited_checkpoint_line_or_a_missing_file_fails(
    context: ServiceContext, tmp_path: Path
) -> None:
    anchor = AnchorFile(tmp_path / "anchor")
    take_checkpoint(context, anchor)
    assert anchor.key_path.stat().st_mode & 0o777 == 0o600
    line = json.loads(anchor.log_path.read_text())
    anchor.log_path.write_text(json.dumps({**line, "seq": 2}) + "\n")
    report = verify_anchored(context, anchor)
    assert "does not verify" in (report.anchor.problem or "")
    anchor.log_path.unlink()
    assert not verify_anchored(context, anchor).intact


def run(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def test_the_commands_find_a_truncation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "site"
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(data_dir))
    assert run("site", "init", "--name", "Oak Court")[0] == 0
    for name in ("Ann", "Bo"):
        assert run("person", "add", "--name", name)[0] == 0
    code, checkpoint = run("audit", "checkpoint")
    assert (code, checkpoint["seq"]) == (0, 3)
    assert Path(checkpoint["file"]) == data_dir / "audit-anchors.jsonl"
    assert (data_dir / "audit-anchor.key").stat().st_mode & 0o777 == 0o600
    code, verdict = run("audit", "verify", "--anchor")
    assert (code, verdict["intact"], verdict["anchor"]["covered_seq"]) == (0, True, 3)
    assert "not covered" in verdict["anchor"]["not_covered"]
    engine = create_db_engine(f"sqlite:///{data_dir / 'facegate.db'}")
    delete_after(engine, 1)
    engine.dispose()
    assert run("audit", "verify")[0] == 0  # the chain alone still verifies
    code, verdict = run("audit", "verify", "--anchor")
    assert (code, verdict["intact"], verdict["anchor"]["broken_seq"]) == (3, False, 3)
    text_answer = runner.invoke(app, ["audit", "verify", "--anchor"]).stdout
    assert "records removed" in text_answer
    assert "not covered" in text_answer


def lines(anchor: AnchorFile) -> int:
    return len(anchor.log_path.read_text().splitlines()) if anchor.log_path.exists() else 0


def test_the_server_checkpoints_on_a_cadence_and_survives_failures(
    context: ServiceContext, tmp_path: Path
) -> None:
    anchor, errors = AnchorFile(tmp_path / "anchor"), []
    job = PeriodicCheckpoints(context, anchor, 0.05, errors.append)
    job.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and lines(anchor) < 3:
        time.sleep(0.02)
    job.stop()
    assert len(anchor.verified()[0]) >= 3
    assert errors == []
    (tmp_path / "blocked").write_text("a file where the folder should be")
    broken = PeriodicCheckpoints(context, AnchorFile(tmp_path / "blocked"), 0.05, errors.append)
    broken.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(errors) < 2:
        time.sleep(0.02)
    broken.stop()
    assert len(errors) >= 2  # each tick reports and the thread carries on


class HubSink:
    """Stands in for the city hub: keeps what it is sent."""

    def __init__(self) -> None:
        self.received: list[SignedCheckpoint] = []

    def publish(self, signed: SignedCheckpoint) -> None:
        self.received.append(signed)


def test_the_hub_gets_the_same_signed_checkpoint(context: ServiceContext, tmp_path: Path) -> None:
    anchor, hub = AnchorFile(tmp_path / "anchor"), HubSink()
    signed = take_checkpoint(context, anchor, [hub])
    assert hub.received == [signed]
    assert anchor.verified() == ([signed.checkpoint], None)
