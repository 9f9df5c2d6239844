"""The site mode service: the one owner of the mode (normal, lockdown, free passage, fire).

Every change goes through :func:`set_mode` (the CLI ``facegate site mode set``, the API
``PUT /api/v1/site/mode``, the console, the city hub's notices, a fire panel wired to the
server). Each source (:class:`~facegate.domain.site_mode.ModeSource`) holds at most one
request; the mode in force is the strongest running one (fire > lockdown > free passage
> normal, :func:`facegate.domain.site_mode.effective_mode`). A change is audited
(``site.mode``: mode, source, reason, until; the actor is who) and bumps the site data
version in the same transaction, and the mode is part of every snapshot's version, so
gates polling every ``sync_interval_s`` (1 s) learn it with their next poll, and an end
time (``until``) passing changes the version by itself.

Public functions: :func:`mode_in_force` (inside a unit of work, for snapshots; the
requests are kept per store and site data version, so a gate's unchanged poll stays one
read), :func:`show_mode`, :func:`set_mode`.

The push (:class:`ModeWatch`): a gate may also wait for the mode to change (the server's
``GET /api/v1/gates/{id}/mode`` long poll, or a gate on the database itself), so a change
reaches it without waiting for its next snapshot poll. One watch per process reads the
mode in force at most every :data:`WATCH_S` for all its waiters together, and at once
after a change made in this process (:func:`set_mode` pokes it).
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime

from facegate.domain.audit import DetailValue
from facegate.domain.errors import ValidationError
from facegate.domain.policy import SiteMode
from facegate.domain.site_mode import (
    MAX_REASON_CHARS,
    ModeRequest,
    ModeSource,
    effective_mode,
)
from facegate.ports import UnitOfWork
from facegate.services.context import ServiceContext, audit


@dataclass(frozen=True, slots=True)
class ModeState:
    """The site mode as it stands.

    Attributes:
        mode: the mode in force.
        deciding: the request that set it (``None`` in ``normal``).
        requests: every running request, by source (a weaker one waits under it).
    """

    mode: SiteMode
    deciding: ModeRequest | None
    requests: tuple[ModeRequest, ...]

    def to_json(self) -> dict[str, object]:
        """The state as the CLI's ``--json`` and the API print it."""
        return {
            "mode": self.mode.value,
            **_request_json(self.deciding),
            "requests": [{"mode": r.mode.value, **_request_json(r)} for r in self.requests],
        }


def _request_json(request: ModeRequest | None) -> dict[str, object]:
    if request is None:
        return {"source": None, "reason": None, "set_by": None, "set_at": None, "until": None}
    return {
        "source": request.source.value,
        "reason": request.reason,
        "set_by": request.set_by,
        "set_at": request.set_at.isoformat(),
        "until": None if request.until is None else request.until.isoformat(),
    }


def _state(uow: UnitOfWork, now: datetime) -> ModeState:
    every = uow.site_modes.all()
    mode, deciding = effective_mode(every, now)
    return ModeState(mode, deciding, tuple(r for r in every if r.running(now)))


class _RequestMemo:
    """The mode requests per store, as of a site data version (a change bumps it)."""

    def __init__(self) -> None:
        self._held: weakref.WeakKeyDictionary[object, tuple[int, list[ModeRequest]]]
        self._held = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def requests(self, store: object, uow: UnitOfWork, data_version: int) -> list[ModeRequest]:
        try:
            with self._lock:
                held = self._held.get(store)
            if held is not None and held[0] == data_version:
                return held[1]
            fresh = uow.site_modes.all()
            with self._lock:
                self._held[store] = (data_version, fresh)
        except TypeError:  # a store that cannot be weakly referenced: read each time
            return uow.site_modes.all()
        return fresh


_MEMO = _RequestMemo()


def mode_in_force(
    uow: UnitOfWork, now: datetime, store: object | None = None, data_version: int | None = None
) -> SiteMode:
    """The mode in force at ``now``, read in ``uow``.

    With ``store`` and the ``data_version`` ``uow`` read, the requests are read only when
    that version moved (every mode change bumps it); an end time is still judged at ``now``.
    """
    if store is None or data_version is None:
        return effective_mode(uow.site_modes.all(), now)[0]
    return effective_mode(_MEMO.requests(store, uow, data_version), now)[0]


WATCH_S = 0.1
"""How often a :class:`ModeWatch` reads the mode in force while someone waits (seconds)."""
MAX_WAIT_S = 30.0
"""Longest wait for a mode change one call may ask for (seconds)."""


class ModeWatch:
    """The site mode in force, read at most every ``interval_s`` for every waiter; thread-safe.

    Args:
        interval_s: how old the mode read may be (seconds, :data:`WATCH_S`).
    """

    def __init__(self, interval_s: float = WATCH_S) -> None:
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._held: dict[int, tuple[float, SiteMode]] = {}
        self._poked = threading.Event()

    def mode(self, context: ServiceContext) -> SiteMode:
        """The mode in force (from a read at most ``interval_s`` old, or after a poke)."""
        slot, now = id(context.store), time.monotonic()
        with self._lock:
            held = self._held.get(slot)
            if held is not None and not self._poked.is_set() and now - held[0] < self.interval_s:
                return held[1]
            self._poked.clear()
        with context.store.unit_of_work() as uow:
            version = uow.reads.data_version()
            mode = mode_in_force(uow, context.clock.now(), context.store, version)
        with self._lock:
            self._held[slot] = (time.monotonic(), mode)
        return mode

    def poke(self) -> None:
        """The mode may have changed: the next :meth:`mode` reads it."""
        self._poked.set()

    def wait(self, context: ServiceContext, known: SiteMode | None, wait_s: float) -> SiteMode:
        """The mode in force as soon as it differs from ``known``, or after ``wait_s``.

        Blocks the calling thread (a gate's follower thread); a server answers its long
        polls from an event loop instead (see ``api/routes/gates.py``).

        Raises:
            DatabaseUnavailableError: the database cannot be reached.
        """
        deadline = time.monotonic() + min(max(wait_s, 0.0), MAX_WAIT_S)
        while True:
            mode = self.mode(context)
            left = deadline - time.monotonic()
            if mode is not known or left <= 0:
                return mode
            self._poked.wait(min(self.interval_s, left))


MODE_WATCH = ModeWatch()
"""This process's watch (the server's long polls, a gate on the database)."""


def show_mode(context: ServiceContext) -> ModeState:
    """The site mode now, who set it, why and until when.

    Raises:
        DatabaseUnavailableError: the database cannot be reached.
    """
    with context.store.unit_of_work() as uow:
        return _state(uow, context.clock.now())


def set_mode(
    context: ServiceContext,
    mode: SiteMode,
    reason: str,
    until: datetime | None = None,
    source: ModeSource = ModeSource.OPERATOR,
) -> ModeState:
    """Ask for ``mode`` as ``source`` (``normal`` withdraws the source's request); audited.

    Args:
        context: who acts (``context.actor`` is recorded as ``set_by``) and when.
        mode: the mode asked for.
        reason: why (1 to 500 characters, audited; no personal data).
        until: when the request ends by itself (aware, in the future); ``None``: until
            withdrawn. Ignored for ``normal``.
        source: who asks: an operator, the hub's notices or a fire panel.

    Returns:
        The state after the change (a stronger request of another source may still
        hold: lockdown asked for during a fire leaves the fire in force).

    Raises:
        ValidationError: no reason, a reason too long, or an end time not in the future
            or without a time zone.
        DatabaseUnavailableError: the database cannot be reached.
    """
    now = context.clock.now()
    if until is not None and until.tzinfo is None:
        raise ValidationError("the end time needs a time zone (e.g. 2026-11-28T18:00+00:00)")
    with context.store.unit_of_work() as uow:
        details: dict[str, DetailValue] = {"mode": mode.value, "source": source.value}
        if mode is SiteMode.NORMAL:
            _reason_ok(reason)
            details["withdrawn"] = uow.site_modes.delete(source)
        else:
            try:
                request = ModeRequest(source, mode, reason, context.actor, now, until)
            except ValueError as err:
                raise ValidationError(str(err)) from err
            uow.site_modes.put(request)
            details["until"] = None if until is None else until.isoformat()
        details["reason"] = reason
        state = _state(uow, now)
        details["in_force"] = state.mode.value
        audit(uow, context, "site.mode", None, details)
        uow.commit()
    MODE_WATCH.poke()
    return state


def _reason_ok(reason: str) -> None:
    if not reason.strip() or len(reason) > MAX_REASON_CHARS:
        raise ValidationError(f"a mode change needs a reason of 1 to {MAX_REASON_CHARS} characters")
