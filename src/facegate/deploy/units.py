"""systemd units for a facegate installation: the server, each gate, hub, uplink, purge.

Every service runs as the dedicated system user (created by ``systemd-sysusers`` from
``/etc/sysusers.d/facegate.conf``), keeps its state in ``StateDirectory=facegate``
(``/var/lib/facegate``, the data directory) and its converted models in
``CacheDirectory=facegate``, reads its settings from ``/etc/facegate/facegate.env``
(and a gate also from ``/etc/facegate/gate-<name>.env``), and is hardened: the file
system read-only but for its own directories (``ProtectSystem=strict``), no privilege
gain (``NoNewPrivileges``), a private ``/tmp`` (``PrivateTmp``), no home directories.
A gate may reach cameras and serial readers (group ``video`` and ``dialout``); the other
services see no devices at all.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from facegate.domain.errors import BadInputError

UNIT_DIR = Path("etc/systemd/system")
"""Where the units go, under the root."""
SYSUSERS_FILE = Path("etc/sysusers.d/facegate.conf")
ENV_DIR = Path("etc/facegate")
STATE_DIR = Path("/var/lib/facegate")
CACHE_DIR = Path("/var/cache/facegate")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")

_HARDENING = """\
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=strict
ProtectHome=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RestrictNamespaces=yes
"""


@dataclass(frozen=True, slots=True)
class InstallPlan:
    """What to install.

    Attributes:
        executable: absolute path of the ``facegate`` command the units run.
        user: the dedicated system user (and group).
        gates: the gates' names; each gets ``/etc/facegate/gate-<name>.env``, run as
            ``facegate-gate@<name>``.
        hub: also the city hub (``facegate hub``).
        uplink: also the uplink to a hub (``facegate uplink run``).
    """

    executable: Path
    user: str = "facegate"
    gates: tuple[str, ...] = ()
    hub: bool = False
    uplink: bool = False

    def __post_init__(self) -> None:
        if not self.executable.is_absolute():
            raise BadInputError(f"--bin must be an absolute path, got {self.executable}")
        for name in (self.user, *self.gates):
            if not _NAME.match(name):
                raise BadInputError(
                    f"{name!r}: a user or gate name is 1-32 of a-z, 0-9, '-' and '_'"
                )
        if len(set(self.gates)) != len(self.gates):
            raise BadInputError("a gate is named twice")


def _service(plan: InstallPlan, description: str, command: str, extra: str = "") -> str:
    return f"""\
[Unit]
Description={description}
After=network-online.target postgresql.service
Wants=network-online.target

[Service]
Type=simple
User={plan.user}
Group={plan.user}
StateDirectory=facegate
StateDirectoryMode=0700
CacheDirectory=facegate
Environment=FACEGATE_DATA_DIR={STATE_DIR}
Environment=FACEGATE_CACHE_DIR={CACHE_DIR}
EnvironmentFile=-/{ENV_DIR}/facegate.env
{extra}ExecStart={plan.executable} {command}
Restart=on-failure
RestartSec=5
UMask=0077
{_HARDENING}
[Install]
WantedBy=multi-user.target
"""


def _no_devices() -> str:
    return "PrivateDevices=yes\n"


def _purge(plan: InstallPlan) -> dict[str, str]:
    service = f"""\
[Unit]
Description=facegate retention purge
After=postgresql.service

[Service]
Type=oneshot
User={plan.user}
Group={plan.user}
StateDirectory=facegate
StateDirectoryMode=0700
Environment=FACEGATE_DATA_DIR={STATE_DIR}
EnvironmentFile=-/{ENV_DIR}/facegate.env
ExecStart={plan.executable} purge --json
UMask=0077
PrivateDevices=yes
{_HARDENING}"""
    timer = """\
[Unit]
Description=Daily facegate retention purge

[Timer]
OnCalendar=daily
RandomizedDelaySec=15m
Persistent=true

[Install]
WantedBy=timers.target
"""
    return {"facegate-purge.service": service, "facegate-purge.timer": timer}


def unit_files(plan: InstallPlan) -> dict[str, str]:
    """Each unit's file name and text."""
    units = {
        "facegate-serve.service": _service(plan, "facegate site server", "serve", _no_devices()),
        **_purge(plan),
    }
    if plan.gates:
        gate_env = f"EnvironmentFile=/{ENV_DIR}/gate-%i.env\nSupplementaryGroups=video dialout\n"
        units["facegate-gate@.service"] = _service(
            plan,
            "facegate gate %i",
            "gate --door ${FACEGATE_GATE_DOOR} --camera ${FACEGATE_GATE_CAMERA}",
            gate_env,
        )
    if plan.hub:
        units["facegate-hub.service"] = _service(plan, "facegate city hub", "hub", _no_devices())
    if plan.uplink:
        units["facegate-uplink.service"] = _service(
            plan, "facegate uplink to the city hub", "uplink run", _no_devices()
        )
    return units


def sysusers_text(plan: InstallPlan) -> str:
    """The ``sysusers.d`` line that creates the dedicated system user."""
    return f'u {plan.user} - "facegate access control" {STATE_DIR} /usr/sbin/nologin\n'


def env_files(plan: InstallPlan) -> dict[str, str]:
    """The settings files (written only where none exists: they hold secrets)."""
    files = {
        "facegate.env": (
            "# facegate settings (FACEGATE_*; see README). Mode 0600: it may hold secrets.\n"
            "#FACEGATE_DB_URL=postgresql+psycopg://facegate@/facegate\n"
            "#FACEGATE_SERVER__HOST=0.0.0.0\n"
            "#FACEGATE_SERVER__SESSION_SECRET=\n"
            "#FACEGATE_SERVER__TLS_CERT=/etc/facegate/tls/cert.pem\n"
            "#FACEGATE_SERVER__TLS_KEY=/etc/facegate/tls/key.pem\n"
        )
    }
    for name in plan.gates:
        files[f"gate-{name}.env"] = (
            f"# gate {name}: run with 'systemctl enable --now facegate-gate@{name}'\n"
            f"FACEGATE_GATE__GATE_ID={name}\n"
            "FACEGATE_GATE_DOOR=\n"
            "FACEGATE_GATE_CAMERA=0\n"
            "#FACEGATE_GATE__UPSTREAM=http\n"
            "#FACEGATE_GATE__SERVER_URL=https://site.example:8000\n"
            "#FACEGATE_GATE__DEVICE_KEY=\n"
        )
    return files


def _write(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, mode)
    tmp.replace(path)


def install(root: Path, plan: InstallPlan) -> dict[str, list[str]]:
    """Write the units, the sysusers file and the settings files (where absent) under root.

    ``root`` is ``/`` for the machine itself.

    Returns:
        ``written`` and ``kept`` (settings files left as they were), paths under root.
    """
    written, kept = [], []
    for name, text in unit_files(plan).items():
        _write(root / UNIT_DIR / name, text, 0o644)
        written.append(str(UNIT_DIR / name))
    _write(root / SYSUSERS_FILE, sysusers_text(plan), 0o644)
    written.append(str(SYSUSERS_FILE))
    for name, text in env_files(plan).items():
        path = root / ENV_DIR / name
        if path.exists():
            kept.append(str(ENV_DIR / name))
            continue
        _write(path, text, 0o600)
        written.append(str(ENV_DIR / name))
    return {"written": written, "kept": kept}
