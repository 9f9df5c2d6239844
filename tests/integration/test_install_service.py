"""``facegate install-service --root DIR``: units that ``systemd-analyze verify`` accepts,
run as a dedicated user with a state directory and hardening; settings files kept."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facegate.cli import app

runner = CliRunner()
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None,
    reason="systemd-analyze is absent (Debian package 'systemd' provides it; .ci/run does not "
    "install it, the machine's systemd package does)",
)
FACEGATE = Path(sys.executable).parent / "facegate"


def _install(root: Path, *extra: str) -> None:
    args = ["install-service", "--root", str(root), "--bin", str(FACEGATE), *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output


def _verify(*units: Path) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run(
        [ANALYZE, "verify", "--man=no", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@needs_analyze
def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    _install(tmp_path, "--gate", "lobby", "--gate", "garage")
    units = tmp_path / "etc/systemd/system"
    names = sorted(p.name for p in units.iterdir())
    assert names == [
        "facegate-gate@.service",
        "facegate-hub.service",  # this facegate has the hub and uplink commands
        "facegate-purge.service",
        "facegate-purge.timer",
        "facegate-serve.service",
        "facegate-uplink.service",
    ]
    instance = units / "facegate-gate@lobby.service"  # how systemctl enable names it
    instance.symlink_to(units / "facegate-gate@.service")
    checked = _verify(*sorted(units.iterdir()))
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.strip() == ""  # not even a warning (an unknown key warns)


@needs_analyze
def test_the_check_catches_a_broken_unit(tmp_path: Path) -> None:
    _install(tmp_path)
    unit = tmp_path / "etc/systemd/system/facegate-serve.service"
    unit.write_text(unit.read_text().replace(str(FACEGATE), "/nonexistent/facegate"))
    assert _verify(unit).returncode != 0


def test_services_run_as_a_dedicated_user_with_state_and_hardening(tmp_path: Path) -> None:
    _install(tmp_path, "--gate", "lobby")
    units = tmp_path / "etc/systemd/system"
    for unit in ("facegate-serve.service", "facegate-gate@.service", "facegate-purge.service"):
        text = (units / unit).read_text()
        for line in (
            "User=facegate",
            "StateDirectory=facegate",
            "ProtectSystem=strict",
            "NoNewPrivileges=yes",
            "PrivateTmp=yes",
            "Environment=FACEGATE_DATA_DIR=/var/lib/facegate",
        ):
            assert line in text.splitlines(), (unit, line)
    assert "PrivateDevices=yes" in (units / "facegate-serve.service").read_text()
    assert "SupplementaryGroups=video dialout" in (units / "facegate-gate@.service").read_text()
    timer = (units / "facegate-purge.timer").read_text()
    assert "Persistent=true" in timer
    sysusers = (tmp_path / "etc/sysusers.d/facegate.conf").read_text()
    assert sysusers.startswith("u facegate - ")


def test_settings_files_are_private_and_kept_on_a_second_run(tmp_path: Path) -> None:
    _install(tmp_path, "--gate", "lobby")
    env = tmp_path / "etc/facegate/facegate.env"
    gate_env = tmp_path / "etc/facegate/gate-lobby.env"
    for path in (env, gate_env):
        assert os.stat(path).st_mode & 0o777 == 0o600
    assert "FACEGATE_GATE__GATE_ID=lobby" in gate_env.read_text()
    env.write_text("FACEGATE_DB_URL=postgresql+psycopg://site@/site\n")
    _install(tmp_path, "--gate", "lobby")
    assert env.read_text() == "FACEGATE_DB_URL=postgresql+psycopg://site@/site\n"


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--gate", "Lobby Door"], "gate name"),
        (["--gate", "a", "--gate", "a"], "named twice"),
        (["--bin", "facegate"], "absolute"),
    ],
)
def test_bad_names_are_refused(tmp_path: Path, args: list[str], problem: str) -> None:
    base = ["install-service", "--root", str(tmp_path)]
    if "--bin" not in args:
        base += ["--bin", str(FACEGATE)]
    result = runner.invoke(app, [*base, *args])
    assert result.exit_code == 3, result.output
    assert problem in result.output
