"""The gate's upstream over HTTP: the site server's gate endpoints (httpx).

``GET {server}/api/v1/gates/{gate_id}/snapshot?model=<model id>`` answers the snapshot of
the gate's own door or lift in the wire format of :mod:`facegate.gate.snapshot_wire`, with
its version as ``ETag``; sent with ``If-None-Match`` it answers ``304`` while that version
is current (the gate's cheap poll); a poll from a version this upstream answered also
says it can take the change since then (``X-Facegate-Delta: 3``, see
:mod:`facegate.gate.snapshot_delta`). The query also carries the gate's health (``version``,
``last_sync``, ``backlog``, ``camera``, ``liveness``, ``door``);
``POST {server}/api/v1/gates/{gate_id}/events`` takes ``{"events": [...]}`` (the outbox's
JSON) and answers ``{"received": n, "new": m}``;
``GET {server}/api/v1/gates/{gate_id}/mode`` is the site mode's long poll (see
:meth:`HttpUpstream.wait_mode`). All send the device key in the
``X-Device-Key`` header. A ``429`` (the key over its request rate) or a ``503`` with
``Retry-After`` (the server busy) is a wait, not a refusal: nothing is sent for that long
(:class:`facegate.domain.errors.UpstreamBusyError`; the outbox keeps its events, the
snapshot held stays). A snapshot answer with ``X-Facegate-Frame-Wanted: 1`` means an
administrator asks a camera frame: :meth:`HttpUpstream.send_frame` posts one JPEG to
``POST {server}/api/v1/gates/{gate_id}/frame``; with ``X-Facegate-Snapshots: 1`` the site
keeps event snapshots, and :meth:`HttpUpstream.send_snapshot` posts the face crop of each
refused face to ``POST {server}/api/v1/gates/{gate_id}/snapshots``.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from facegate.domain.errors import UpstreamBusyError, UpstreamUnavailableError
from facegate.domain.gate import GateEvent, GateReport, GateSnapshot
from facegate.domain.policy import SiteMode
from facegate.gate.outbox import event_to_json
from facegate.gate.snapshot_delta import DELTA_HEADER, DELTA_WIRE_FORMAT, open_delta
from facegate.gate.snapshot_sections import SectionDigests
from facegate.gate.snapshot_wire import (
    gate_wire_key,
    mode_push_key,
    mode_tag_ok,
    snapshot_from_wire,
)
from facegate.services.event_snapshots import SNAPSHOTS_WANTED_HEADER
from facegate.services.gate_frames import FRAME_WANTED_HEADER

DEVICE_HEADER = "X-Device-Key"
MAX_WAIT_S = 300.0
"""Longest ``Retry-After`` the gate honours (seconds): a server's longer ask is cut to it."""

log = logging.getLogger(__name__)


def _takes_delta(snapshot: GateSnapshot) -> bool:
    """Whether a delta can be applied to ``snapshot`` (its gallery knows template ids)."""
    return snapshot.access.gallery.template_ids() is not None


class HttpUpstream:
    """A :class:`facegate.ports.GateUpstream` over the site server's REST API.

    Attributes:
        frame_wanted: the last snapshot answer asked for a camera frame.
        snapshots_wanted: the last snapshot answer said the site keeps event snapshots.

    Args:
        base_url: the server, e.g. ``https://site.local:8000``.
        gate_id: this gate (the device key's gate).
        device_key: the device key's secret.
        model_id: the descriptor model of the gate's engine (the gallery is of it).
        timeout_s: how long one request may take (seconds).
        client: an httpx client to send through (tests pass the app's TestClient);
            ``None`` makes one for ``base_url``.
        now: monotonic time source (seconds; injectable for tests).
    """

    def __init__(
        self,
        base_url: str,
        gate_id: str,
        device_key: str,
        model_id: str,
        timeout_s: float,
        client: httpx.Client | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gate_id, self.model_id = gate_id, model_id
        self._key = gate_wire_key(device_key, gate_id)
        self._mode_key = mode_push_key(device_key, gate_id)
        self._timeout_s = timeout_s
        self._headers = {DEVICE_HEADER: device_key}
        self._root = f"/api/v1/gates/{gate_id}"
        self._client = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)
        self.frame_wanted = self.snapshots_wanted = False
        self._now = now
        self._quiet_until = 0.0  # monotonic s: nothing is sent before (the server's Retry-After)
        self._held: GateSnapshot | None = None
        self._digests: SectionDigests | None = None  # of the held snapshot's sections
        self._pending: SectionDigests | None = None  # of the delta's snapshot just opened

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        quiet_s = self._quiet_until - self._now()
        if quiet_s > 0:
            raise UpstreamBusyError(f"site server asked to wait {quiet_s:.1f} s more", quiet_s)
        headers = {**self._headers, **kwargs.pop("headers", {})}
        try:
            answer = self._client.request(method, self._root + path, headers=headers, **kwargs)
        except httpx.HTTPError as err:
            raise UpstreamUnavailableError(f"site server unreachable: {err}") from err
        wait_s = _retry_after_s(answer)
        if wait_s is not None:
            self._quiet_until = max(self._quiet_until, self._now() + wait_s)
            raise UpstreamBusyError(
                f"site server answered {answer.status_code} to {method} {path}: "
                f"nothing sent for {wait_s:g} s",
                wait_s,
            )
        if answer.status_code >= 400:
            # Any refusal leaves the events in the outbox and the snapshot held: a
            # revoked key or a server fault must not lose an event or stop the gate.
            raise UpstreamUnavailableError(
                f"site server answered {answer.status_code} to {method} {path}: {answer.text[:200]}"
            )
        return answer

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self._send(method, path, **kwargs)
        try:
            return answer.json()
        except ValueError as err:
            raise UpstreamUnavailableError(f"site server sent no JSON to {path}") from err

    def fetch_snapshot(self, gate_id: str, target_id: str) -> GateSnapshot:
        """The current snapshot for ``target_id`` (the device key's own door or lift).

        Raises:
            UpstreamUnavailableError: the server is unreachable, refuses the key, or fails.
            ValueError: the snapshot is malformed or not sealed for this gate.
        """
        snapshot = self.poll_snapshot(gate_id, target_id, None)
        if snapshot is None:
            raise UpstreamUnavailableError("site server answered 304 to an unconditional GET")
        return snapshot

    def poll_snapshot(
        self,
        gate_id: str,
        target_id: str,
        known_version: str | None,
        report: GateReport | None = None,
    ) -> GateSnapshot | None:
        """The current snapshot, or ``None`` when the server says ``known_version`` is current.

        When the snapshot this upstream answered last is ``known_version`` and its gallery
        knows its template ids, the server may answer the change since then (a delta,
        :mod:`facegate.gate.snapshot_delta`); it is applied to that snapshot into a new
        one, or, when it cannot be, refused (logged) and the whole snapshot fetched.

        Raises:
            UpstreamUnavailableError: the server is unreachable, refuses the key, or fails.
            ValueError: the snapshot is malformed or not sealed for this gate.
        """
        params: dict[str, str | int] = {"target": target_id, "model": self.model_id}
        if report is not None:
            params.update(_report_params(report))
        base = self._held
        if base is None or base.version != known_version or not _takes_delta(base):
            base = None
        headers = {} if known_version is None else {"If-None-Match": f'"{known_version}"'}
        if base is not None:
            headers[DELTA_HEADER] = str(DELTA_WIRE_FORMAT)
        raw = self._get_snapshot(params, headers)
        if raw is None:
            return None
        snapshot = self._open(raw, gate_id, base)
        if snapshot is None:  # a delta refused: the whole snapshot, unconditionally
            snapshot = self._open(self._get_snapshot(params, {}), gate_id, None)
        if snapshot is None:
            raise UpstreamUnavailableError("site server answered no whole snapshot")
        pending, self._pending = self._pending, None
        # A delta's snapshot comes with the digests of the parts it kept (checked).
        fits = pending is not None and pending.access is snapshot.access
        self._digests = pending if pending is not None and fits else SectionDigests(snapshot.access)
        self._held = snapshot
        return snapshot

    def _get_snapshot(
        self, params: dict[str, str | int], headers: dict[str, str]
    ) -> dict[str, Any] | None:
        """The snapshot answer's JSON; ``None`` for a ``304``."""
        answer = self._send("GET", "/snapshot", params=params, headers=headers)
        self.frame_wanted = answer.headers.get(FRAME_WANTED_HEADER) == "1"
        self.snapshots_wanted = answer.headers.get(SNAPSHOTS_WANTED_HEADER) == "1"
        if answer.status_code == 304:
            return None
        try:
            raw = answer.json()
        except ValueError as err:
            raise UpstreamUnavailableError("site server sent no JSON to /snapshot") from err
        if not isinstance(raw, dict):
            raise ValueError("the snapshot answer is not an object")
        return raw

    def _open(
        self, raw: dict[str, Any] | None, gate_id: str, base: GateSnapshot | None
    ) -> GateSnapshot | None:
        """The snapshot ``raw`` holds or makes of ``base``; ``None`` for a refused delta.

        Raises:
            ValueError: a whole snapshot that is malformed or not sealed for this gate.
        """
        if raw is None:
            return None
        if raw.get("wire_format") != DELTA_WIRE_FORMAT:
            return snapshot_from_wire(raw, gate_id, self._key)
        if base is None:
            log.warning("a snapshot delta came unasked: refused, fetching the whole snapshot")
            return None
        try:
            snapshot, self._pending = open_delta(raw, base, gate_id, self._key, self._digests)
            return snapshot
        except ValueError as err:
            log.warning("snapshot delta refused, fetching the whole snapshot: %s", err)
            return None

    def wait_mode(self, gate_id: str, known: SiteMode | None, wait_s: float) -> SiteMode:
        """The site mode as soon as it differs from ``known``, or after ``wait_s`` (long poll).

        Raises:
            UpstreamUnavailableError: unreachable, refused, or an answer whose tag does
                not match this gate and this call's nonce (not taken).
        """
        nonce = secrets.token_hex(16)
        params: dict[str, str | float] = {"nonce": nonce, "wait_s": wait_s}
        if known is not None:
            params["known"] = known.value
        answer = self._call("GET", "/mode", params=params, timeout=wait_s + self._timeout_s)
        try:
            mode, tag = SiteMode(answer["mode"]), str(answer["tag"])
        except (KeyError, TypeError, ValueError) as err:
            raise UpstreamUnavailableError(f"site server sent a malformed mode: {err!r}") from err
        if not mode_tag_ok(self._mode_key, gate_id, nonce, mode.value, tag):
            raise UpstreamUnavailableError("a pushed site mode failed its check: not taken")
        return mode

    def deliver(self, events: Sequence[GateEvent]) -> int:
        """Send ``events``; the server stores each once by its key. Returns how many new.

        Raises:
            UpstreamUnavailableError: not delivered (the outbox keeps them).
        """
        if not events:
            return 0
        body = {"events": [event_to_json(e) for e in events]}
        answer = self._call("POST", "/events", json=body)
        return int(answer["new"])

    def send_frame(self, jpeg: bytes) -> None:
        """Post one camera frame the server asked for (it is not stored there).

        Raises:
            UpstreamUnavailableError: not delivered (unreachable, or no longer asked).
        """
        self.frame_wanted = False
        headers = {"Content-Type": "image/jpeg"}
        self._send("POST", "/frame", content=jpeg, headers=headers)

    def send_snapshot(
        self, event_key: str, reason: str, person_id: str | None, jpeg: bytes
    ) -> None:
        """Post the face crop of the refused face of event ``event_key`` (kept sealed there).

        Raises:
            UpstreamUnavailableError: not delivered (the crop is not kept at the gate).
        """
        params = {"event": event_key, "reason": reason}
        if person_id is not None:
            params["person"] = person_id
        headers = {"Content-Type": "image/jpeg"}
        self._send("POST", "/snapshots", params=params, content=jpeg, headers=headers)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def _retry_after_s(answer: httpx.Response) -> float | None:
    """The wait a ``429`` or ``503`` asks with its ``Retry-After`` (seconds); else ``None``.

    A ``503`` without one (the server has no database, say) is an outage, not a wait.
    """
    if answer.status_code not in (429, 503):
        return None
    try:
        wait_s = float(answer.headers.get("retry-after", ""))
    except ValueError:
        return 1.0 if answer.status_code == 429 else None
    return min(max(wait_s, 0.0), MAX_WAIT_S) if math.isfinite(wait_s) else None


def _report_params(report: GateReport) -> dict[str, str | int]:
    params: dict[str, str | int] = {
        "version": report.version,
        "backlog": report.backlog,
        "camera": report.camera,
        "door": report.door,
    }
    if report.liveness:
        params["liveness"] = report.liveness
    if report.last_sync is not None:
        params["last_sync"] = report.last_sync.isoformat()
    return params
