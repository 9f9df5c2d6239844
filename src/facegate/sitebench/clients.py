"""The bench's HTTP clients of a running server: kiosks, the console, snapshots, credentials.

Each speaks only the public HTTP contract (``POST /api/v1/doors/{id}/frames`` with a
device key, ``POST /api/v1/doors/{id}/credentials`` (a kiosk's key), ``GET
/api/v1/gates/{gate_id}/snapshot`` (an edge gate's key),
the console's login form and pages), so it keeps working whatever the server does
inside. Every call's wall-clock latency is recorded in milliseconds.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import numpy as np

from facegate.gate.http_upstream import DEVICE_HEADER
from facegate.gate.snapshot_delta import DELTA_HEADER, DELTA_WIRE_FORMAT

CONSOLE_PAGES = ("/console/people", "/console/doors", "/console/events", "/console/rules")


@dataclass(frozen=True, slots=True)
class FrameAnswer:
    """The server's answer to one posted frame.

    Attributes:
        sent_at: wall clock (s since the epoch) when the frame was posted.
        latency_ms: until the answer was read.
        status: the HTTP status (503: refused as saturated; 429: the key over its rate).
        reason: the decision's reason code ("" unless 200).
        granted: whether the door opened.
        pending: whether the face is still undecided.
        retry_after_s: the server's ``Retry-After`` on a 503 or 429 (seconds; 0 otherwise).
    """

    sent_at: float
    latency_ms: float
    status: int
    reason: str = ""
    granted: bool = False
    pending: bool = False
    retry_after_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Shown:
    """One presentation: who, at which door, its frames (JPEG) and the empty gap after.

    ``card``: the card number read with each of its frames (``None``: the face alone).
    """

    who: str
    door_id: str
    frames: Sequence[bytes]
    gap: Sequence[bytes]
    card: str | None = None


@dataclass
class Presented:
    """What a door answered to one presentation."""

    who: str
    door_id: str
    started_at: float
    answers: list[FrameAnswer] = field(default_factory=list)
    source: str = "kiosk"

    def outcome(self) -> str:
        """``granted``, the first settled refusal's reason, or ``undecided``."""
        decided = [a for a in self.answers if a.status == 200 and not a.pending]
        if any(a.granted for a in decided):
            return "granted"
        reasons = [a.reason for a in decided if a.reason != "no_face"]
        return reasons[0] if reasons else "undecided"


class Kiosk:
    """A kiosk at one door posting frames at ``fps``, presentation after presentation.

    Args:
        url: the server.
        door_id: its door.
        key: the door's device key.
        fps: frames posted per second (wall clock; a late frame is sent at once).
    """

    def __init__(self, url: str, door_id: str, key: str, fps: float) -> None:
        self.url, self.door_id, self.fps = url, door_id, fps
        self.client = httpx.Client(base_url=url, headers={DEVICE_HEADER: key}, timeout=30.0)
        self.answers: list[FrameAnswer] = []
        self.presented: list[Presented] = []

    def post(self, jpeg: bytes, card: str | None = None) -> FrameAnswer:
        """Post one frame (with the card read, if any); its answer (kept in :attr:`answers`)."""
        sent, begin = time.time(), time.perf_counter()
        try:
            response = self.client.post(
                f"/api/v1/doors/{self.door_id}/frames",
                files={"file": ("frame.jpg", jpeg, "image/jpeg")},
                data={} if card is None else {"card": card},
            )
        except httpx.HTTPError:
            answer = FrameAnswer(sent, (time.perf_counter() - begin) * 1000.0, 0)
        else:
            answer = _frame_answer(sent, (time.perf_counter() - begin) * 1000.0, response)
        self.answers.append(answer)
        return answer

    def run(self, script: Iterator[Shown], stop: threading.Event) -> None:
        """Present ``script`` until ``stop`` (or its end), paced at :attr:`fps`.

        After a 503 or 429 it waits the answer's ``Retry-After`` before the next frame, as
        the kiosk page does.
        """
        due = time.monotonic()
        for shown in script:
            if stop.is_set():
                return
            record = Presented(shown.who, shown.door_id, time.time())
            for n, jpeg in enumerate((*shown.frames, *shown.gap)):
                stop.wait(max(0.0, due - time.monotonic()))
                if stop.is_set():
                    return
                due = max(due + 1.0 / self.fps, time.monotonic() - 1.0 / self.fps)
                answer = self.post(jpeg, shown.card if n < len(shown.frames) else None)
                if len(record.answers) < len(shown.frames):
                    record.answers.append(answer)
                if answer.retry_after_s > 0:  # as the kiosk page does: wait, then go on
                    due = time.monotonic() + answer.retry_after_s
            self.presented.append(record)

    def close(self) -> None:
        """Close the connection."""
        self.client.close()


def _frame_answer(sent: float, latency_ms: float, response: httpx.Response) -> FrameAnswer:
    if response.status_code != 200:
        try:
            retry_after_s = float(response.headers.get("retry-after", "0"))
        except ValueError:
            retry_after_s = 0.0
        return FrameAnswer(sent, latency_ms, response.status_code, retry_after_s=retry_after_s)
    body = response.json()
    return FrameAnswer(
        sent,
        latency_ms,
        200,
        str(body.get("reason", "")),
        bool(body.get("granted")),
        bool(body.get("pending")),
    )


def card_recognised(client: httpx.Client, door_id: str, key: str, card: str) -> bool:
    """Whether ``door_id`` knows the card number ``card`` now.

    A face-or-card door opens for it; a face-and-card door waits for the face
    (``no_face``) instead of refusing an unknown card (``unknown_credential``).
    """
    response = client.post(
        f"/api/v1/doors/{door_id}/credentials",
        json={"kind": "card", "value": card},
        headers={DEVICE_HEADER: key},
    )
    if response.status_code != 200:
        return False
    body = response.json()
    return bool(body.get("granted")) or body.get("reason") == "no_face"


def reach_every_door(
    url: str,
    keys: dict[str, str],
    card: str,
    changed_at: float,
    stop: threading.Event,
    timeout_s: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> float | None:
    """Seconds from ``changed_at`` until every door recognised ``card`` at least once.

    Each round asks every door not yet seen at once (each ask is a real decision at
    that door, up to :data:`REACH_ASKS` in flight), so the figure is an upper bound by
    about one ask, not by one round of asks one after another (24 doors asked in turn
    added their latencies: over a second at a loaded server). ``None``: not every door
    in ``timeout_s``; ``nan``: the bench ended first. ``transport``: for tests.
    """
    pending = dict(keys)
    with (
        httpx.Client(base_url=url, timeout=30.0, transport=transport) as client,
        ThreadPoolExecutor(REACH_ASKS, thread_name_prefix="reach") as asks,
    ):
        while pending and time.time() - changed_at < timeout_s:
            doors = list(pending.items())
            known = asks.map(lambda d: card_recognised(client, d[0], d[1], card), doors)
            for (door_id, _), recognised in zip(doors, known, strict=True):
                if recognised:
                    del pending[door_id]
            if pending and stop.wait(0.05):
                return float("nan")
    return None if pending else time.time() - changed_at


REACH_ASKS = 8
"""Doors asked at once when timing a change's reach."""


@dataclass
class SnapshotProbe:
    """Times a gate's snapshot pull: unconditional (a rebuild) and conditional (a check).

    The conditional pull sends the last ``ETag`` as ``If-None-Match``; a ``304`` is a
    check that found nothing changed. Pulls go over one kept connection, as a gate's
    :class:`~facegate.gate.http_upstream.HttpUpstream` makes them (a new client per pull
    timed its own set-up: 200 ms against 32 ms p50 kept, at load 25). Without ``ETag``
    support every pull is a rebuild. A conditional pull also says, as a gate does, that
    it takes a delta from the version it holds (:data:`DELTA_HEADER`): a change since
    then is answered by the change (counted in :attr:`deltas`), not the whole snapshot
    (until 2026-11-28 the probe took the whole snapshot there, which no gate does: at
    25,000 residents a 62 MB pull every few seconds, most of the check's p50 and a core's
    share of the server's work during the load). A conditional pull answered ``304`` is a
    check (:attr:`check_ms`, counted in :attr:`unchanged`); one answered with the change
    goes to :attr:`changed_ms` (until 2026-11-28 both were one list, and the idle checks
    were counted in :attr:`unchanged` too).
    ``db_check`` (when given) is the same check as a gate on the site database makes it
    (the snapshot version read from the database, no HTTP), timed into :attr:`db_ms`.
    """

    url: str
    gate_id: str
    key: str
    model_id: str
    db_check: Callable[[], object] | None = None
    rebuild_ms: list[float] = field(default_factory=list)
    check_ms: list[float] = field(default_factory=list)
    changed_ms: list[float] = field(default_factory=list)
    db_ms: list[float] = field(default_factory=list)
    unchanged: int = 0
    deltas: int = 0
    failures: int = 0
    etag: str | None = None
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=60.0))

    def check_db(self) -> None:
        """Time one database check (nothing without ``db_check``)."""
        if self.db_check is not None:
            begin = time.perf_counter()
            self.db_check()
            self.db_ms.append((time.perf_counter() - begin) * 1000.0)

    def checks_now(self, count: int) -> dict[str, float | None]:
        """``count`` HTTP and database checks in a row, their medians and p95 (ms).

        Kept apart from the figures gathered under load.
        """
        http, db = len(self.check_ms), len(self.db_ms)
        counted = (self.unchanged, self.deltas, len(self.changed_ms))
        for _ in range(count):
            self.pull(conditional=True)
            self.check_db()
        self.unchanged, self.deltas = counted[:2]  # the load's counts start after these
        del self.changed_ms[counted[2] :]
        figures = {
            "http_p50_ms": _percentile(self.check_ms[http:], 50),
            "http_p95_ms": _percentile(self.check_ms[http:], 95),
            "db_p50_ms": _percentile(self.db_ms[db:], 50),
            "db_p95_ms": _percentile(self.db_ms[db:], 95),
        }
        del self.check_ms[http:], self.db_ms[db:]
        return figures

    def pull(self, conditional: bool) -> None:
        """One pull; its time goes to :attr:`check_ms` (conditional) or :attr:`rebuild_ms`."""
        headers = {DEVICE_HEADER: self.key}
        if conditional and self.etag is not None:
            headers["If-None-Match"] = self.etag
            headers[DELTA_HEADER] = str(DELTA_WIRE_FORMAT)  # as a gate holding that version
        begin = time.perf_counter()
        try:
            response = self.client.get(
                f"{self.url}/api/v1/gates/{self.gate_id}/snapshot",
                params={"model": self.model_id},
                headers=headers,
                timeout=60.0,
            )
        except httpx.HTTPError:
            self.failures += 1
            return
        elapsed = (time.perf_counter() - begin) * 1000.0
        if response.status_code == 200:
            self.etag = response.headers.get("etag", self.etag)
            self.deltas += conditional and response.json().get("wire_format") == DELTA_WIRE_FORMAT
        if not conditional:
            self.rebuild_ms.append(elapsed)
        elif response.status_code == 304:
            self.check_ms.append(elapsed)
            self.unchanged += 1
        else:
            self.changed_ms.append(elapsed)

    def close(self) -> None:
        """Close the kept connection."""
        self.client.close()


def _percentile(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if len(values) else None


class Console:
    """A logged-in operator opening console pages in turn.

    Args:
        url: the server.
        username: the console account.
        password: its password.
    """

    def __init__(self, url: str, username: str, password: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=30.0, follow_redirects=True)
        form = self.client.get("/login").text
        token = re.search(r'name="login_csrf" value="([^"]+)"', form)
        answer = self.client.post(
            "/login",
            data={
                "username": username,
                "password": password,
                "login_csrf": token.group(1) if token else "",
            },
        )
        answer.raise_for_status()
        self.latencies_ms: list[float] = []
        self.by_page_ms: dict[str, list[float]] = {}
        self.failures = 0

    def run(self, stop: threading.Event, interval_s: float = 1.0) -> None:
        """Open the pages one after another every ``interval_s`` until ``stop``."""
        n = 0
        while not stop.wait(interval_s):
            page = CONSOLE_PAGES[n % len(CONSOLE_PAGES)]
            begin = time.perf_counter()
            try:
                response = self.client.get(page)
            except httpx.HTTPError:
                self.failures += 1
                continue
            finally:
                n += 1
            took_ms = (time.perf_counter() - begin) * 1000.0
            self.latencies_ms.append(took_ms)
            self.by_page_ms.setdefault(page, []).append(took_ms)
            self.failures += response.status_code != 200

    def close(self) -> None:
        """Close the connection."""
        self.client.close()
