"""Gate health as gates report it when they poll for their snapshot.

Each poll of ``GET /api/v1/gates/{gate_id}/snapshot`` carries the gate's own view (last
successful sync, the snapshot version it holds, its outbox backlog, its camera state);
the server keeps the latest report per gate in memory (:data:`BOARD`), shows it in
``/api/v1/health`` and ``/metrics``, and :func:`silent_gates` lists the registered edge
gates not heard from for longer than a limit (for the alarm service). Kiosks never poll:
each frame or credential a kiosk posts marks its gate seen, a frame with its camera state
(``ok`` when it decodes, ``failed`` when it does not).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime

from facegate.domain.accounts import Gate, GateKind
from facegate.domain.gate import GateReport
from facegate.services.context import ServiceContext


@dataclass(frozen=True, slots=True)
class GateHealth:
    """A registered gate and the latest it reported.

    Attributes:
        gate_id: the gate.
        target_id: its door or lift.
        kind: edge gate or kiosk.
        last_seen: when the server last heard from it (UTC); ``None`` never since start.
        report: what it said then.
        label: the gate's note for people.
    """

    gate_id: str
    target_id: str
    kind: GateKind
    last_seen: datetime | None
    report: GateReport
    label: str = ""


class GateBoard:
    """The latest report of each gate, in this server process (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[datetime, GateReport]] = {}

    def record(self, gate_id: str, at: datetime, report: GateReport) -> None:
        """Keep ``report`` as ``gate_id``'s latest, heard at ``at``."""
        with self._lock:
            self._seen[gate_id] = (at, report)

    def seen(self, gate_id: str, at: datetime, camera: str | None = None) -> None:
        """Note that ``gate_id`` was heard at ``at``, its last report unchanged.

        Args:
            gate_id: the gate.
            at: when (UTC).
            camera: its camera state, when this contact tells it (a kiosk's frame that
                decodes: ``ok``; one that does not: ``failed``); ``None`` keeps the last.
        """
        with self._lock:
            _, report = self._seen.get(gate_id, (at, GateReport()))
            if camera is not None:
                report = replace(report, camera=camera)
            self._seen[gate_id] = (at, report)

    def latest(self, gate_id: str) -> tuple[datetime, GateReport] | None:
        """When ``gate_id`` was last heard and what it said, if ever."""
        with self._lock:
            return self._seen.get(gate_id)

    def clear(self) -> None:
        """Forget every report (tests)."""
        with self._lock:
            self._seen.clear()


BOARD = GateBoard()
"""The server process's board."""


def gate_health(context: ServiceContext, board: GateBoard = BOARD) -> list[GateHealth]:
    """Every registered gate with its latest report, by gate id.

    Raises:
        DatabaseUnavailableError: the database cannot be reached.
    """
    with context.store.unit_of_work() as uow:
        gates = uow.gates.all()
    return [_health(gate, board) for gate in gates]


def _health(gate: Gate, board: GateBoard) -> GateHealth:
    latest = board.latest(gate.id)
    seen, report = (None, GateReport()) if latest is None else latest
    return GateHealth(gate.id, gate.target_id, gate.kind, seen, report, gate.label)


def silent_gates(
    context: ServiceContext, after_s: float, board: GateBoard = BOARD
) -> list[GateHealth]:
    """Registered edge gates not heard from for more than ``after_s`` seconds.

    A gate never heard since this server started counts as silent once the server has
    run ``after_s`` (its ``last_seen`` is ``None``). Kiosks are not watched: an edge gate
    polls on its own every few seconds, so its silence means it is down or cut off, but a
    kiosk posts only while someone stands at it (its ``last_seen`` is its last frame or
    credential), so a quiet kiosk at night is no fault. Its last camera state is in
    ``/api/v1/health`` and the metrics instead.

    Raises:
        DatabaseUnavailableError: the database cannot be reached.
    """
    now = context.clock.now()
    found = []
    for health in gate_health(context, board):
        if health.kind is not GateKind.EDGE:
            continue
        if health.last_seen is None or (now - health.last_seen).total_seconds() > after_s:
            found.append(health)
    return found


def metrics_lines(health: list[GateHealth], now: datetime) -> list[str]:
    """Prometheus lines of the gates' health (one series per registered gate)."""
    lines = [
        "# HELP facegate_gate_seconds_since_seen Seconds since a gate was last heard (-1 never).",
        "# TYPE facegate_gate_seconds_since_seen gauge",
    ]
    for item in health:
        labels = f'gate="{item.gate_id}",target="{item.target_id}"'
        age = -1.0 if item.last_seen is None else (now - item.last_seen).total_seconds()
        lines.append(f"facegate_gate_seconds_since_seen{{{labels}}} {age:.1f}")
    lines += [
        "# HELP facegate_gate_outbox_backlog Events waiting in a gate's outbox (-1 unknown).",
        "# TYPE facegate_gate_outbox_backlog gauge",
    ]
    for item in health:
        labels = f'gate="{item.gate_id}",target="{item.target_id}"'
        lines.append(f"facegate_gate_outbox_backlog{{{labels}}} {item.report.backlog}")
    lines += [
        "# HELP facegate_gate_camera_ok Whether a gate's camera works (1), failed (0), -1.",
        "# TYPE facegate_gate_camera_ok gauge",
    ]
    camera = {"ok": 1, "failed": 0}
    for item in health:
        labels = f'gate="{item.gate_id}",target="{item.target_id}"'
        lines.append(f"facegate_gate_camera_ok{{{labels}}} {camera.get(item.report.camera, -1)}")
    return lines
