"""A durable outbox of gate events in a local SQLite file.

Every event is written (and fsynced) before the door is told anything else, and stays
until the upstream accepted it. Delivery is at least once from the gate's side (a crash
between the upstream's commit and the gate's prune sends a batch again) and exactly once
from the receiver's, which ignores a key it has already stored.

Delivered events are deleted at once (``secure_delete`` zeroes their pages) and the
write-ahead log is checkpointed and truncated after each delivery, so the file keeps
nothing of an event, and of the person it names, once the site database holds it; what
happens to it there (an erasure anonymises it) is then all there is. One flusher runs at
a time per outbox: a second caller waits for the first, then delivers what is left.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from facegate.domain.errors import FacegateError, UpstreamUnavailableError
from facegate.domain.gate import GateEvent, GateEventKind
from facegate.domain.reasons import Reason
from facegate.ports import GateUpstream

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0
)
"""


def event_to_json(event: GateEvent) -> dict[str, Any]:
    """``event`` as JSON-ready values (the wire format of the events upstream too)."""
    return {
        "key": event.key,
        "gate_id": event.gate_id,
        "kind": event.kind.value,
        "door_id": event.door_id,
        "occurred_at": event.occurred_at.isoformat(),
        "granted": event.granted,
        "reason": event.reason.value if event.reason is not None else None,
        "person_id": event.person_id,
        "pass_id": event.pass_id,
        "floors": list(event.floors),
        "scores": dict(event.scores),
        "note": event.note,
    }


def _optional_id(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"an id is a string or null, not {type(value).__name__}")


def event_from_json(raw: dict[str, Any]) -> GateEvent:
    """The event :func:`event_to_json` wrote (``ValueError``/``KeyError`` if malformed)."""
    reason = raw["reason"]
    return GateEvent(
        key=str(raw["key"]),
        gate_id=str(raw["gate_id"]),
        kind=GateEventKind(raw["kind"]),
        door_id=str(raw["door_id"]),
        occurred_at=datetime.fromisoformat(raw["occurred_at"]),
        granted=bool(raw["granted"]),
        reason=Reason(reason) if reason is not None else None,
        person_id=_optional_id(raw["person_id"]),
        pass_id=_optional_id(raw["pass_id"]),
        floors=tuple(int(f) for f in raw["floors"]),
        scores={str(k): float(v) for k, v in raw["scores"].items()},
        note=str(raw["note"]),
    )


class SqliteOutbox:
    """The gate's outbox; safe to use from the frame loop and a delivery thread.

    Args:
        path: the SQLite file (created with its folder; ``Settings.gate.outbox_path``).
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.execute(_SCHEMA)
        self._db.execute("DELETE FROM outbox WHERE delivered = 1")  # kept by older versions

    def put(self, event: GateEvent) -> None:
        """Store ``event`` durably (a second put of the same key is ignored)."""
        payload = json.dumps(event_to_json(event), sort_keys=True)
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO outbox (key, payload) VALUES (?, ?)", (event.key, payload)
            )

    def pending(self, limit: int = 100) -> list[GateEvent]:
        """Up to ``limit`` undelivered events, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT payload FROM outbox WHERE delivered = 0 ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [event_from_json(json.loads(row[0])) for row in rows]

    def pending_pass_grants(self) -> list[GateEvent]:
        """The undelivered grants that used a visitor pass, oldest first (any number)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT payload FROM outbox WHERE delivered = 0"
                " AND json_extract(payload, '$.pass_id') IS NOT NULL"
                " AND json_extract(payload, '$.granted') ORDER BY seq"
            ).fetchall()
        return [event_from_json(json.loads(row[0])) for row in rows]

    def holds(self, key: str) -> bool:
        """Whether the event with ``key`` waits for delivery."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM outbox WHERE key = ? AND delivered = 0", (key,)
            ).fetchone()
        return row is not None

    def pending_count(self) -> int:
        """How many events wait for delivery."""
        with self._lock:
            row = self._db.execute("SELECT COUNT(*) FROM outbox WHERE delivered = 0").fetchone()
        return int(row[0])

    def mark_delivered(self, keys: Sequence[str]) -> None:
        """Delete the events with ``keys``: the upstream holds them now."""
        with self._lock:
            self._db.executemany("DELETE FROM outbox WHERE key = ?", [(k,) for k in keys])

    def _truncate_log(self) -> None:
        """Copy the write-ahead log into the file and empty it (drops deleted rows' copies)."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def flush(self, upstream: GateUpstream, batch: int = 100) -> int:
        """Deliver pending events until none is left or the upstream is unreachable.

        One flusher at a time: a concurrent caller waits, then delivers what is left
        (usually nothing), so a batch is never sent twice at once. Delivery never fails
        the caller (a decision already acted on): an unreachable upstream, or one that
        refuses the batch with any facegate error, leaves it for the next flush (the
        refusal is logged).

        Returns:
            How many events this call delivered (accepted, new or already known).
        """
        delivered = 0
        with self._flushing:
            while events := self.pending(batch):
                try:
                    upstream.deliver(events)
                except UpstreamUnavailableError:
                    break
                except FacegateError as err:
                    log.warning("outbox: the upstream refused %d event(s): %s", len(events), err)
                    break
                self.mark_delivered([event.key for event in events])
                delivered += len(events)
            if delivered:
                self._truncate_log()
        return delivered

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()
