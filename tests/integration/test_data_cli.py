"""The data commands end to end on real photos: consent, enrollment, identification,
erasure that leaves no template bytes in the SQLite file, audit tampering, bad input."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facegate.cli import app

runner = CliRunner()
NAME = "Zebediah Quill"


def run(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, [*args, "--json"])
    payload = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, payload


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data_dir = tmp_path / "site"
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(data_dir))
    code, payload = run("site", "init", "--name", "Oak Court")
    assert (code, payload["created"], payload["site_key"]) == (0, True, "created")
    assert data_dir.stat().st_mode & 0o777 == 0o700
    return data_dir


@pytest.fixture
def blair(shared_data: Path) -> Path:
    return shared_data / "faces" / "lfw10" / "Tony_Blair"


def raw_bytes(data_dir: Path) -> bytes:
    files = [data_dir / "facegate.db", data_dir / "facegate.db-wal"]
    return b"".join(f.read_bytes() for f in files if f.exists())


def secrets_of(data_dir: Path, person_id: str) -> list[bytes]:
    connection = sqlite3.connect(data_dir / "facegate.db")
    try:
        sealed = connection.execute(
            "SELECT sealed FROM face_templates WHERE person_id = ?", (person_id,)
        ).fetchall()
        keys = connection.execute(
            "SELECT wrapped FROM data_keys WHERE person_id = ?", (person_id,)
        ).fetchall()
    finally:
        connection.close()
    return [bytes(row[0]) for row in sealed + keys]


def test_enroll_identify_erase_leaves_nothing_behind(site: Path, blair: Path) -> None:
    code, person = run("person", "add", "--name", NAME)
    person_id = person["id"]
    code, refused = run("enroll", person_id, str(blair / "Tony_Blair_0001.jpg"))
    assert code == 4
    assert "no face_access consent" in refused["error"]["message"]
    assert run("consent", "grant", person_id)[0] == 0
    photos = [str(blair / f"Tony_Blair_000{n}.jpg") for n in (1, 2)]
    code, enrolled = run("enroll", person_id, *photos)
    assert (code, enrolled["enrolled"], enrolled["failures"]) == (0, 2, [])
    # 0.42 from the enrolled photos: within the 1:N threshold for one person (0.51; his
    # photos 0005 and 0008, 0.53-0.54 away, are refused by it though within 0.57).
    probe = str(blair / "Tony_Blair_0010.jpg")
    code, seen = run("identify", probe)
    assert code == 0
    assert [(f["person_id"], f["decision"]) for f in seen["faces"]] == [(person_id, "match")]
    # One person enrolled: the 1:N threshold for one, below the 1:1 threshold.
    assert seen["gallery_people"] == 1
    assert seen["verification_threshold"] == 0.57
    assert 0.45 < seen["threshold"] < seen["verification_threshold"]
    assert seen["max_fpir"] == 0.01
    secrets = secrets_of(site, person_id)
    assert len(secrets) == 3
    assert all(s in raw_bytes(site) for s in secrets)

    assert run("person", "erase", person_id, "--yes")[0] == 0
    code, seen = run("identify", probe)
    assert seen["faces"][0]["person_id"] is None
    assert seen["faces"][0]["decision"] == "unknown"
    left = raw_bytes(site)
    assert not [s for s in secrets if s in left]
    assert NAME.encode() not in left
    code, report = run("audit", "verify")
    assert (code, report["intact"]) == (0, True)


def test_a_hand_edited_audit_row_is_named(site: Path) -> None:
    for name in ("Ann", "Bob"):
        run("person", "add", "--name", name)
    assert run("audit", "verify")[1]["intact"] is True
    connection = sqlite3.connect(site / "facegate.db")
    with connection:
        (record_id,) = connection.execute("SELECT id FROM audit_log WHERE seq = 2").fetchone()
        connection.execute("UPDATE audit_log SET actor = 'cli:nobody' WHERE seq = 2")
    connection.close()
    code, report = run("audit", "verify")
    assert (code, report["intact"], report["broken_id"]) == (3, False, record_id)
    result = runner.invoke(app, ["audit", "verify"])
    assert record_id in result.stdout


def test_a_malformed_key_file_is_refused_and_nothing_is_written(site: Path, blair: Path) -> None:
    _, person = run("person", "add", "--name", "Ann")
    run("consent", "grant", person["id"])
    key_file = site / "site.key"
    key_file.write_text("this is not a key\n")
    code, error = run("enroll", person["id"], str(blair / "Tony_Blair_0001.jpg"))
    assert code == 3
    assert "malformed site key" in error["error"]["message"]
    assert secrets_of(site, person["id"]) == []
    code, error = run("site", "init", "--name", "Oak Court")
    assert code == 3
    assert str(key_file) in error["error"]["message"]


def test_bad_input_gets_clear_errors(site: Path) -> None:
    _, ann = run("person", "add", "--name", "Ann")
    _, bob = run("person", "add", "--name", "Bob")
    assert run("card", "add", ann["id"], "0042")[0] == 0
    code, error = run("card", "add", bob["id"], "0042")
    assert (code, error["error"]["kind"]) == (3, "conflict")
    code, error = run("consent", "grant", "no-such-person")
    assert (code, error["error"]["kind"]) == (3, "not_found")
    past = "2020-01-01T09:00+00:00"
    code, error = run("pass", "create", ann["id"], "--visitor", "Guest", "--starts", past)
    assert code == 3
    assert "expired" in error["error"]["message"]
    assert runner.invoke(app, ["person", "erase", ann["id"]]).exit_code == 2
    assert run("pin", "set", ann["id"], "--pin", "4829")[0] == 0
    assert run("pin", "set", ann["id"], "--pin", "12")[0] == 3
    _, issued = run("pass", "create", ann["id"], "--visitor", "Guest", "--hours", "1")
    assert run("pass", "use", issued["code"])[0] == 0
    code, refused = run("pass", "use", issued["code"])
    assert (code, refused["error"]["reason"]) == (4, "pass_used_up")
    code, exported = run("person", "export", bob["id"])
    assert (code, exported["cards"], exported["visitor_passes_issued"]) == (0, [], [])


def test_commands_before_site_init_and_an_unreachable_database(tmp_path: Path) -> None:
    code, error = run("--data-dir", str(tmp_path / "empty"), "person", "list")
    assert code == 3
    assert "site init" in error["error"]["message"]
    assert not (tmp_path / "empty").exists()
    code, error = run("--db-url", "postgresql://postgres@127.0.0.1:9/none", "person", "list")
    assert (code, error["error"]["kind"]) == (5, "database_unavailable")
    assert run("--db-url", "::not a url::", "person", "list")[0] == 3


def test_the_commands_run_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    options = ("--db-url", postgres_url, "--data-dir", str(tmp_path))
    assert run(*options, "site", "init", "--name", "Oak Court")[0] == 0
    code, person = run(*options, "person", "add", "--name", "Ann", "--role", "staff")
    assert code == 0
    code, listed = run(*options, "person", "list")
    assert [p["id"] for p in listed["people"]] == [person["id"]]
    assert run(*options, "audit", "verify")[1]["records"] == 3


def test_doors_must_offer_a_way_in_without_a_face(site: Path) -> None:
    code, error = run("door", "add", "--name", "Gate", "--accepts", "face")
    assert code == 3
    assert "accepts faces only" in error["error"]["message"]
    assert run("door", "list")[1]["doors"] == []
    code, door = run("door", "add", "--name", "Gate", "--accepts", "face,card")
    assert (code, door["accepts"]) == (0, ["card", "face"])
    _, ann = run("person", "add", "--name", "Ann")
    assert run("door", "check", door["id"], "--person", ann["id"])[1]["reason"] == (
        "not_allowed_here"
    )
    code, rule = run("rule", "add", "--door", door["id"], "--person", ann["id"])
    assert (code, rule["time_zone"]) == (0, "UTC")
    assert run("door", "check", door["id"], "--person", ann["id"])[1]["reason"] == "granted"


def test_a_doors_liveness_mode_is_set_at_add_and_changed_later(site: Path) -> None:
    code, door = run("door", "add", "--name", "Kiosk", "--accepts", "face,card")
    assert (code, door["liveness"]) == (0, "default")
    code, lobby = run(
        "door", "add", "--name", "Lobby", "--accepts", "face,pin", "--liveness", "passive"
    )
    assert (code, lobby["liveness"]) == (0, "passive")
    code, changed = run("door", "liveness", door["id"], "challenge")
    assert (code, changed["liveness"]) == (0, "challenge")
    listed = {d["id"]: d["liveness"] for d in run("door", "list")[1]["doors"]}
    assert listed == {door["id"]: "challenge", lobby["id"]: "passive"}
    assert run("door", "liveness", door["id"], "sometimes")[0] == 2
    assert run("door", "liveness", "no-such-door", "passive")[0] == 3


def test_admin_create_makes_an_account_that_logs_in(tmp_path: Path) -> None:
    from facegate.bootstrap import SystemClock, build_store
    from facegate.config import Settings
    from facegate.services.accounts import log_in
    from facegate.services.context import ServiceContext
    from facegate.store.passwords import Argon2Hasher

    env = {"FACEGATE_DATA_DIR": str(tmp_path)}
    assert runner.invoke(app, ["site", "init", "--name", "Oak"], env=env).exit_code == 0
    weak = runner.invoke(
        app, ["admin", "create", "--username", "root", "--password", "short"], env=env
    )
    assert weak.exit_code == 3
    created = runner.invoke(
        app,
        ["admin", "create", "--username", "root", "--password", "long enough pw", "--json"],
        env=env,
    )
    assert created.exit_code == 0, created.output
    store = build_store(Settings(data_dir=tmp_path))
    try:
        context = ServiceContext(store=store, clock=SystemClock(), actor="test")
        login = log_in(context, Argon2Hasher(), "root", "long enough pw", timedelta(hours=1))
        assert login.user.role.value == "admin"
    finally:
        store.close()
