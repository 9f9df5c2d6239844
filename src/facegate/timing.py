"""Stage timing for ``facegate bench gate``: cheap spans, no-ops unless a bench records.

The gate's hot path marks its stages with ``with span("detect"): ...``. With no
:class:`StageRecorder` active (production), :func:`span` returns one shared
``nullcontext`` (about 0.1 µs). While :func:`recording` is active, each span adds its
*exclusive* wall time (ms; time in nested spans is counted to those, not twice) to the
current frame's tally, from whatever thread it runs in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import TracebackType

STAGES = (
    "detect",
    "track",
    "landmarks",
    "quality",
    "liveness",
    "embed",
    "search",
    "policy",
    "actuate",
)
"""The gate's stages, in the order a frame meets them."""

_NOOP: AbstractContextManager[None] = nullcontext()


class StageRecorder:
    """Per-frame stage times (ms) of one bench run."""

    def __init__(self) -> None:
        self.frames: list[dict[str, float]] = []
        self._current: dict[str, float] = {}
        self._local = threading.local()
        self._lock = threading.Lock()

    def end_frame(self) -> dict[str, float]:
        """Close the current frame's tally (ms per stage) and start the next one."""
        with self._lock:
            tally, self._current = self._current, {}
        self.frames.append(tally)
        return tally

    def _stack(self) -> list[_Span]:
        stack: list[_Span] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def _add(self, stage: str, ms: float) -> None:
        with self._lock:
            self._current[stage] = self._current.get(stage, 0.0) + ms


class _Span:
    """One timed stage; subtracts its time from the span it is nested in."""

    __slots__ = ("_child_ms", "_name", "_recorder", "_start")

    def __init__(self, recorder: StageRecorder, name: str) -> None:
        self._recorder, self._name = recorder, name
        self._start, self._child_ms = 0.0, 0.0

    def __enter__(self) -> None:
        self._recorder._stack().append(self)
        self._start = time.perf_counter()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        total_ms = (time.perf_counter() - self._start) * 1000.0
        stack = self._recorder._stack()
        stack.pop()
        if stack:
            stack[-1]._child_ms += total_ms
        self._recorder._add(self._name, total_ms - self._child_ms)


_active: StageRecorder | None = None


def span(stage: str) -> AbstractContextManager[None]:
    """A context that times ``stage`` (one of :data:`STAGES`) when a recorder is active."""
    recorder = _active
    if recorder is None:
        return _NOOP
    return _Span(recorder, stage)


@contextmanager
def recording(recorder: StageRecorder) -> Iterator[StageRecorder]:
    """Make ``recorder`` the process's active recorder for the ``with`` block."""
    global _active  # one recorder per process, set only by the bench
    previous, _active = _active, recorder
    try:
        yield recorder
    finally:
        _active = previous
