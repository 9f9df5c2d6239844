"""``facegate doctor`` on a running installation: healthy, then one seeded fault per check
(database, site key, models, gates, clock, TLS), each found with what to fix."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from api_site import Site, served
from facegate.app import create_app
from facegate.cli import app
from facegate.config import ServerSettings, Settings
from facegate.deploy.doctor import Finding, Probes, diagnose
from facegate.domain.accounts import GateKind
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.services import accounts, places
from facegate.services.gate_health import BOARD
from facegate.store.crypto import AesGcmSealer, generate_key, write_site_key_file


@pytest.fixture
def running(site: Site, tmp_path: Path) -> Iterator[tuple[Settings, Probes]]:
    """The site's server running, its site key written, one edge gate that just polled."""
    BOARD.clear()
    write_site_key_file(tmp_path / "site.key", generate_key())
    door = places.add_door(
        site.context, "North", DoorKind.ENTRANCE, CredentialMode.ANY_OF, [CredentialKind.CARD]
    ).id
    accounts.issue_device_key(site.context, door, "edge", GateKind.EDGE, "gate-north")
    BOARD.seen("gate-north", site.deps.clock.now())
    settings = Settings(data_dir=tmp_path, server=ServerSettings(environment="development"))
    with served(create_app(site.deps)) as url:
        yield (
            settings,
            Probes(server_url=url, ntp_synchronized=lambda: True, now=site.deps.clock.now),
        )
    BOARD.clear()


def _by_check(findings: list[Finding]) -> dict[str, Finding]:
    return {f.check: f for f in findings}


def test_a_healthy_installation(running: tuple[Settings, Probes]) -> None:
    settings, probes = running
    found = _by_check(diagnose(settings, probes))
    assert {name: f.status for name, f in found.items()} == {
        "database": "ok",
        "site_key": "ok",
        "models": "ok",
        "gates": "ok",
        "clock": "ok",
        "tls": "skip",
    }


def test_a_database_not_migrated_is_found(tmp_path: Path) -> None:
    (tmp_path / "facegate.db").write_bytes(b"")
    found = _by_check(
        diagnose(Settings(data_dir=tmp_path), Probes(server_url="http://127.0.0.1:9"))
    )
    assert found["database"].status == "fail"
    assert "schema none" in found["database"].detail
    assert "site init" in found["database"].fix


def test_an_unreachable_database_is_found(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, db_url="postgresql+psycopg://nobody@127.0.0.1:9/none")
    found = _by_check(diagnose(settings, Probes(server_url="http://127.0.0.1:9")))
    assert found["database"].status == "fail"
    assert found["database"].fix


def test_a_site_key_others_can_read_is_found(running: tuple[Settings, Probes]) -> None:
    settings, probes = running
    os.chmod(settings.site_key_path, 0o644)
    found = _by_check(diagnose(settings, probes))["site_key"]
    assert found.status == "fail"
    assert "chmod 600" in found.detail


def test_a_missing_site_key_is_found(running: tuple[Settings, Probes]) -> None:
    settings, probes = running
    settings.site_key_path.unlink()
    assert _by_check(diagnose(settings, probes))["site_key"].status == "fail"


def test_the_wrong_site_key_is_found(site: Site, running: tuple[Settings, Probes]) -> None:
    settings, probes = running
    other = AesGcmSealer(generate_key())  # the data keys were wrapped by another key
    with site.deps.store.unit_of_work() as uow:
        uow.keys.put(other.new_data_key(site.resident_id))
        uow.commit()
    found = _by_check(diagnose(settings, probes))["site_key"]
    assert found.status == "fail"
    assert "not the key" in found.detail


def test_missing_and_altered_models_are_found(
    running: tuple[Settings, Probes], tmp_path: Path
) -> None:
    settings, probes = running
    altered = tmp_path / "model.dat"
    altered.write_bytes(b"not the model")
    files = [(altered, "0" * 64), (tmp_path / "gone.dat", "0" * 64)]
    found = _by_check(diagnose(settings, replace(probes, model_files=lambda: files)))["models"]
    assert found.status == "fail"
    assert found.detail == "model.dat altered, gone.dat missing"


def test_a_silent_gate_is_found(site: Site, running: tuple[Settings, Probes]) -> None:
    settings, probes = running
    site.deps.clock.advance(seconds=settings.gate.silent_after_s + 1)  # type: ignore[attr-defined]
    found = _by_check(diagnose(settings, probes))["gates"]
    assert found.status == "fail"
    assert "gate-north" in found.detail


def test_a_server_that_does_not_answer_is_found(running: tuple[Settings, Probes]) -> None:
    settings, probes = running
    found = _by_check(diagnose(settings, replace(probes, server_url="http://127.0.0.1:9")))
    assert found["gates"].status == "fail"
    assert "does not answer" in found["gates"].detail


@pytest.mark.parametrize(("synced", "status"), [(False, "fail"), (None, "warn")])
def test_an_unsynchronised_clock_is_found(
    running: tuple[Settings, Probes], synced: bool | None, status: str
) -> None:
    settings, probes = running
    found = _by_check(diagnose(settings, replace(probes, ntp_synchronized=lambda: synced)))
    assert found["clock"].status == status


def _certificate(path: Path, not_after: datetime) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "site.test")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - timedelta(days=365))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    from cryptography.hazmat.primitives.serialization import Encoding

    path.write_bytes(certificate.public_bytes(Encoding.PEM))
    return path


@pytest.mark.parametrize(("days", "status"), [(90, "ok"), (5, "warn"), (-2, "fail")])
def test_tls_certificate_days_left(
    running: tuple[Settings, Probes], tmp_path: Path, days: int, status: str
) -> None:
    settings, probes = running
    cert = _certificate(tmp_path / "cert.pem", probes.now() + timedelta(days=days, hours=1))
    with_tls = settings.model_copy(
        update={"server": replace(settings.server, tls_cert=cert, tls_key=cert)}
    )
    found = _by_check(diagnose(with_tls, probes))["tls"]
    assert found.status == status


def test_the_cli_prints_json_and_exits_0(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["--data-dir", str(tmp_path), "doctor", "--server", "http://127.0.0.1:9", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["ok"] is False
    checks = [c["check"] for c in payload["checks"]]
    assert checks == ["database", "site_key", "models", "gates", "clock", "tls"]
    assert all(c["fix"] for c in payload["checks"] if c["status"] == "fail")
