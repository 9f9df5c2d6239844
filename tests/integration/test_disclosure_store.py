"""Disclosure records on SQLite and PostgreSQL: migration 0005 up and down, round trip,
and the CLI (add, list, the person's export under the site's policy)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from facegate.cli import app
from facegate.domain.disclosure import DataClass
from facegate.services import disclosures, people, rights, site_admin
from facegate.services.context import ServiceContext
from facegate.services.disclosures import DisclosureRequest
from facegate.store.database import create_db_engine, current_revision, downgrade, upgrade
from facegate.store.unit_of_work import SqlStore
from fakes import FakeClock

NEW_TABLES = {"disclosures", "disclosure_subjects"}
runner = CliRunner()


@pytest.fixture
def store(migrated_db_url: str) -> Iterator[SqlStore]:
    engine = create_db_engine(migrated_db_url)
    store = SqlStore(engine)
    yield store
    store.close()


def test_migration_0005_adds_and_drops_only_the_disclosure_tables(db_url: str) -> None:
    engine = create_db_engine(db_url)
    try:
        upgrade(engine)
        downgrade(engine, "0005")  # later revisions add tables of their own
        tables = set(inspect(engine).get_table_names())
        assert tables >= NEW_TABLES
        downgrade(engine, "-1")
        assert current_revision(engine) == "0004"
        assert set(inspect(engine).get_table_names()) == tables - NEW_TABLES
        upgrade(engine, "0005")
        assert set(inspect(engine).get_table_names()) == tables
    finally:
        engine.dispose()


def test_a_disclosure_round_trips_and_outlives_an_erasure(store: SqlStore) -> None:
    context = ServiceContext(store=store, clock=FakeClock(), actor="cli:tester")
    site_admin.init_site(context, "Oak Court", "Europe/Berlin")
    ann = people.add_person(context, "Ann").id
    bob = people.add_person(context, "Bob").id
    request = DisclosureRequest(
        "City Police",
        "StPO s.94",
        (ann, bob),
        frozenset({DataClass.EVENTS, DataClass.CREDENTIALS}),
        date(2026, 2, 1),
        date(2026, 2, 28),
        "Dana Ortiz",
    )
    made = disclosures.record_disclosure(context, request)
    (stored,) = disclosures.list_disclosures(context, bob)
    assert stored == made
    assert stored.digest() == made.digest()
    exported = rights.export_person(context, ann, include_disclosures=True)
    assert [d["id"] for d in exported["disclosures"]] == [made.id]
    rights.erase_person(context, ann)
    assert [d.id for d in disclosures.list_disclosures(context, ann)] == [made.id]
    assert site_admin.verify_audit(context).intact


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict]:
    result = runner.invoke(app, [*args, "--json"], env=env)
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def test_the_disclosure_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(tmp_path / "site"))
    assert run("site", "init", "--name", "Oak Court", "--time-zone", "Europe/Berlin")[0] == 0
    ann = run("person", "add", "--name", "Ann")[1]["id"]
    add = ["disclosure", "add", "--body", "City Police", "--legal-basis", "StPO s.94"]
    scope = ["--scope", "events", "--from", "2026-02-01", "--to", "2026-02-28"]
    code, made = run(*add, "--person", ann, *scope, "--approved-by", "Dana Ortiz")
    assert code == 0
    assert (made["person_ids"], made["period_start"]) == ([ann], "2026-01-31T23:00:00+00:00")
    assert run(*add, "--person", "nobody", *scope, "--approved-by", "D")[0] == 3
    bad_scope = ["--scope", "faces", "--from", "2026-02-01", "--to", "2026-02-28"]
    assert run(*add, "--person", ann, *bad_scope, "--approved-by", "D")[0] == 3
    bad_date = ["--scope", "events", "--from", "February", "--to", "2026-02-28"]
    assert run(*add, "--person", ann, *bad_date, "--approved-by", "D")[0] == 3
    code, listed = run("disclosure", "list", "--person", ann)
    assert (code, [d["id"] for d in listed["disclosures"]]) == (0, [made["id"]])
    assert run("person", "export", ann)[1]["disclosures"][0]["id"] == made["id"]
    monkeypatch.setenv("FACEGATE_DISCLOSURES_VISIBLE_TO_PERSON", "false")
    assert "disclosures" not in run("person", "export", ann)[1]
    code, verdict = run("audit", "verify")
    assert (code, verdict["intact"]) == (0, True)
