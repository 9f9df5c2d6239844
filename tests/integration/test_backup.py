"""The encrypted site archive: backup on SQLite, restore into a fresh SQLite and into
PostgreSQL, every row equal and the enrolled face identified; refusals write nothing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from facegate.bootstrap import (
    backup_site,
    build_sealer,
    build_store,
    ensure_site_key,
    restore_site,
    service_context,
)
from facegate.cli import app
from facegate.config import Settings
from facegate.domain.disclosure import DataClass
from facegate.domain.errors import ArchiveError, KeyFileError
from facegate.domain.matching import MatchPolicy
from facegate.domain.people import ConsentMethod, ConsentPurpose
from facegate.ports import SiteDump
from facegate.services import credentials, disclosures, people, site_admin
from facegate.services.consent import grant_consent
from facegate.services.disclosures import DisclosureRequest
from facegate.services.enrollment import enroll
from facegate.services.identification import identify_probes, load_gallery
from facegate.store.crypto import encode_site_key, generate_key
from fakes import FakeDescriber, unit_descriptor

KEY = SecretStr(encode_site_key(generate_key()))


def source_site(tmp_path: Path) -> tuple[Settings, str]:
    settings = Settings(data_dir=tmp_path / "source", site_key=KEY)
    ensure_site_key(settings)
    store = build_store(settings, migrate=True)
    context = service_context(settings, store)
    site_admin.init_site(context, "Oak Court", "Europe/Berlin")
    ann = people.add_person(context, "Ann").id
    grant_consent(context, ann, ConsentPurpose.FACE_ACCESS, "1", ConsentMethod.WRITTEN)
    enroll(context, build_sealer(settings), FakeDescriber, ann, [Path("1.jpg")])
    credentials.add_card(context, ann, "0042")
    scope = frozenset({DataClass.EVENTS})
    request = DisclosureRequest(
        "Police", "s.94", (ann,), scope, date(2026, 1, 1), date(2026, 1, 2), "D"
    )
    disclosures.record_disclosure(context, request)
    store.close()
    return settings, ann


def dump_of(settings: Settings) -> SiteDump:
    store = build_store(settings)
    try:
        with store.unit_of_work() as uow:
            return uow.tables.dump()
    finally:
        store.close()


def backup(settings: Settings, out: Path) -> None:
    store = build_store(settings)
    try:
        backup_site(settings, service_context(settings, store), out)
    finally:
        store.close()


def identified(settings: Settings) -> str | None:
    store = build_store(settings)
    try:
        context = service_context(settings, store)
        gallery = load_gallery(context, build_sealer(settings), FakeDescriber.model_id)
    finally:
        store.close()
    return identify_probes(gallery, [unit_descriptor(1)], MatchPolicy(0.57, 0.0))[0].person_id


def test_backup_restores_every_row_and_the_face(tmp_path: Path, db_url: str) -> None:
    source, ann = source_site(tmp_path)
    archive = tmp_path / "oak.fgbak"
    backup(source, archive)
    assert archive.stat().st_mode & 0o777 == 0o600
    assert b"0042" not in archive.read_bytes()
    target = Settings(data_dir=tmp_path / "target", db_url=db_url, site_key=KEY)
    report = restore_site(target, archive)
    assert report.audit_intact is True
    before, after = dump_of(source), dump_of(target)
    assert before.revision == after.revision
    restored_audit = after.tables.pop("audit_log")
    assert [r["action"] for r in restored_audit[-2:]] == ["site.backup", "site.restore"]
    assert restored_audit[:-1] == before.tables.pop("audit_log")
    # The data version moves past the archive's, so a gate holding a later snapshot
    # rebuilds; the event counter is the archive's.
    (restored_state,), (archived_state,) = (
        after.tables.pop("site_state"),
        before.tables.pop("site_state"),
    )
    assert restored_state["data_version"] > archived_state["data_version"]
    assert restored_state["event_seq"] == archived_state["event_seq"]
    assert after.tables == before.tables
    assert identified(target) == ann
    rows = dump_of(target).rows
    with pytest.raises(ArchiveError, match="not empty"):
        restore_site(target, archive)
    assert dump_of(target).rows == rows


def test_tampered_truncated_and_foreign_archives_are_refused(tmp_path: Path) -> None:
    source, _ = source_site(tmp_path)
    archive = tmp_path / "oak.fgbak"
    backup(source, archive)
    with pytest.raises(ArchiveError, match="exists"):
        backup(source, archive)
    data = archive.read_bytes()
    target = Settings(data_dir=tmp_path / "target", site_key=KEY)
    broken = {
        "tampered": data[:-40] + bytes([data[-40] ^ 1]) + data[-39:],
        "truncated": data[: len(data) // 2],
        "header_edited": data.replace(b'"revision": "', b'"revision": "X', 1),
        "not_an_archive": b"name,unit\nAnn,3B\n",
    }
    for name, content in broken.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ArchiveError):
            restore_site(target, path)
    other = Settings(
        data_dir=tmp_path / "other", site_key=SecretStr(encode_site_key(generate_key()))
    )
    with pytest.raises(KeyFileError, match="made under site key"):
        restore_site(other, archive)
    assert not target.database_path.exists()
    assert not other.database_path.exists()


def test_the_backup_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.setenv("FACEGATE_SITE_KEY", KEY.get_secret_value())
    source, _ = source_site(tmp_path)
    archive = tmp_path / "oak.fgbak"
    result = runner.invoke(
        app, ["--data-dir", str(source.data_dir), "site", "backup", "--out", str(archive), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tables"]["people"] == 1
    restore = ["--data-dir", str(tmp_path / "fresh"), "site", "restore", str(archive), "--json"]
    result = runner.invoke(app, restore)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["audit_intact"] is True
    result = runner.invoke(app, restore)
    assert result.exit_code == 3
    assert "not empty" in json.loads(result.stdout)["error"]["message"]
    archive.write_bytes(archive.read_bytes()[:-1])
    restore[1] = str(tmp_path / "third")
    assert runner.invoke(app, restore).exit_code == 3
