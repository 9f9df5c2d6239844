"""Duplicate and look-alike enrolment on real models and real photos (issue 11 item 5).

One real person (LFW's Tony Blair) enrolled as two people is refused, from the same photos
and from other photos of him; an explicit override enrols and is audited; a different
person enrols without a flag.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facegate.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, [*args, "--json"])
    payload = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, payload


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data_dir = tmp_path / "site"
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(data_dir))
    assert run("site", "init", "--name", "Oak Court")[0] == 0
    return data_dir


@pytest.fixture
def lfw(shared_data: Path) -> Path:
    return shared_data / "faces" / "lfw10"


def person(name: str) -> str:
    code, added = run("person", "add", "--name", name)
    assert code == 0
    assert run("consent", "grant", added["id"])[0] == 0
    return str(added["id"])


def photos(lfw: Path, name: str, *numbers: int) -> list[str]:
    return [str(lfw / name / f"{name}_{n:04d}.jpg") for n in numbers]


def templates_of(site: Path, person_id: str) -> int:
    connection = sqlite3.connect(site / "facegate.db")
    try:
        (count,) = connection.execute(
            "SELECT COUNT(*) FROM face_templates WHERE person_id = ?", (person_id,)
        ).fetchone()
    finally:
        connection.close()
    return int(count)


def enroll_audits(site: Path, person_id: str) -> list[dict]:
    connection = sqlite3.connect(site / "facegate.db")
    try:
        rows = connection.execute(
            "SELECT details FROM audit_log WHERE action = 'face.enroll' AND subject_id = ?",
            (person_id,),
        ).fetchall()
    finally:
        connection.close()
    return [json.loads(row[0]) for row in rows]


def test_one_person_enrolled_as_two_people_is_refused(site: Path, lfw: Path) -> None:
    first, second = person("Tony"), person("Anthony")
    assert run("enroll", first, *photos(lfw, "Tony_Blair", 3, 5))[0] == 0

    for numbers in ((3, 5), (9, 8)):  # the same photos, then two others of him
        code, refused = run("enroll", second, *photos(lfw, "Tony_Blair", *numbers))
        assert code == 3, refused
        error = refused["error"]
        assert error["kind"] == "duplicate_face"
        assert error["duplicate_of"] == first
        assert error["distance"] <= 0.35
        assert "matches person" in error["message"]
        assert templates_of(site, second) == 0
    assert enroll_audits(site, second) == []


def test_the_override_enrols_and_is_audited(site: Path, lfw: Path) -> None:
    first, second = person("Tony"), person("Anthony")
    assert run("enroll", first, *photos(lfw, "Tony_Blair", 3, 5))[0] == 0
    code, enrolled = run("enroll", second, *photos(lfw, "Tony_Blair", 9, 8), "--allow-duplicate")
    assert (code, enrolled["enrolled"]) == (0, 2)
    (details,) = enroll_audits(site, second)
    assert details["duplicate_allowed"] is True
    assert details["duplicate_of"] == first
    assert float(details["duplicate_distance"]) <= 0.35
    assert run("audit", "verify")[1]["intact"] is True


def test_a_different_person_is_not_flagged(site: Path, lfw: Path) -> None:
    blair, bush = person("Tony"), person("George")
    assert run("enroll", blair, *photos(lfw, "Tony_Blair", 1, 2, 3))[0] == 0
    code, enrolled = run("enroll", bush, *photos(lfw, "George_W_Bush", 1, 2, 3))
    assert (code, enrolled["enrolled"]) == (0, 3)
    (details,) = enroll_audits(site, bush)
    assert details["duplicate_check_templates"] == 3
    assert "duplicate_allowed" not in details
    # more photos of the same person are not a duplicate of themselves
    assert run("enroll", blair, *photos(lfw, "Tony_Blair", 9))[0] == 0
