"""A bounded pool of worker threads that refuses work at once when it is full.

The server runs face work (kiosk frames) here, off the event loop: at most ``workers``
jobs run or wait at a time, and a job that finds every slot taken is refused with
:class:`facegate.domain.errors.ServiceBusyError` (HTTP 503 with ``Retry-After``) instead
of joining a queue that grows with the load. The console and the API keep answering
while kiosks stream frames. A job may name its key (a kiosk frame: its door, whose
frames are decided one at a time anyway): a second job of a key whose job runs is
refused as well, so one door posting frames side by side takes one worker, not all of
them. The pool counts its refusals, its jobs done and failed, and the time its jobs take
(a histogram), exported by :func:`frame_metrics_lines`.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NoReturn, TypeVar

from facegate.domain.errors import ServiceBusyError

T = TypeVar("T")

LATENCY_BUCKETS_S = (0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0)
"""Upper bounds (seconds) of the job time histogram's buckets (``+Inf`` comes last)."""


@dataclass(frozen=True, slots=True)
class PoolStats:
    """What a pool did since it was built.

    Attributes:
        refused: jobs refused because every worker was busy.
        done: jobs that returned.
        failed: jobs that raised.
        buckets: per bound of :data:`LATENCY_BUCKETS_S`, how many returned jobs took at
            most that long (cumulative, as Prometheus wants).
        total_s: the returned jobs' times added up (seconds).
    """

    refused: int
    done: int
    failed: int
    buckets: tuple[int, ...]
    total_s: float


class OneEach:
    """Keys with work in progress, one piece of work per key at a time; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy: set[str] = set()

    def take(self, key: str) -> bool:
        """Mark ``key`` busy; ``False`` (and nothing changed) when it already is."""
        with self._lock:
            if key in self._busy:
                return False
            self._busy.add(key)
            return True

    def free(self, key: str) -> None:
        """``key``'s work ended."""
        with self._lock:
            self._busy.discard(key)

    @contextmanager
    def held(self, key: str, what: str, retry_after_s: float) -> Iterator[None]:
        """``key`` busy for the ``with`` block (``what``: the work, for the refusal).

        Raises:
            ServiceBusyError: ``key``'s work is in progress already (``Retry-After``:
                ``retry_after_s`` seconds).
        """
        if not self.take(key):
            raise ServiceBusyError(f"{what} of {key!r} is in progress; try again", retry_after_s)
        try:
            yield
        finally:
            self.free(key)


class WorkerPool:
    """``workers`` threads; a job beyond them is refused, not queued.

    Args:
        workers: how many jobs run at once (at least 1).
        retry_after_s: what a refusal tells the client to wait (seconds).
        name: the threads' name prefix and the refusal's subject.
        timer: what the jobs are timed by (seconds, any origin; tests pass a scripted one).
    """

    def __init__(
        self,
        workers: int,
        retry_after_s: float = 1.0,
        name: str = "frames",
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        if workers < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.workers, self.retry_after_s, self.name = workers, retry_after_s, name
        self._timer = timer
        self._slots = threading.BoundedSemaphore(workers)
        self._keys = OneEach()  # of the jobs running or waiting for a thread
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self.refused = self.done = self.failed = 0
        self._counts = [0] * (len(LATENCY_BUCKETS_S) + 1)  # the last: over every bound
        self._total_s = 0.0

    def submit(self, job: Callable[..., T], *args: object, key: str | None = None) -> Future[T]:
        """Start ``job(*args)`` on a free worker.

        Args:
            job: the work.
            args: its arguments.
            key: what the job is of (``None``: nothing); at most one job per key runs.

        Raises:
            ServiceBusyError: every worker is busy, or a job of ``key`` runs.
        """
        if key is not None and not self._keys.take(key):
            self._refuse(f"a {self.name} job of {key!r} is running; try again shortly")
        if not self._slots.acquire(blocking=False):
            self._free(key)
            self._refuse(f"all {self.workers} {self.name} workers are busy; try again shortly")
        try:
            future = self._pool().submit(self._timed, job, *args)
        except BaseException:
            self._slots.release()
            self._free(key)
            raise
        # The slot is freed when the job ends, even if the client gave up waiting.
        future.add_done_callback(lambda _: self._ended(key))
        return future

    async def run(self, job: Callable[..., T], *args: object, key: str | None = None) -> T:
        """Run ``job(*args)`` on a free worker and await its result (see :meth:`submit`)."""
        return await asyncio.wrap_future(self.submit(job, *args, key=key))

    def _refuse(self, why: str) -> NoReturn:
        with self._stats_lock:
            self.refused += 1
        raise ServiceBusyError(why, self.retry_after_s)

    def _ended(self, key: str | None) -> None:
        self._slots.release()
        self._free(key)

    def _free(self, key: str | None) -> None:
        if key is not None:
            self._keys.free(key)

    def stats(self) -> PoolStats:
        """The counts so far (a consistent copy)."""
        with self._stats_lock:
            running, cumulative = 0, []
            for count in self._counts[:-1]:
                running += count
                cumulative.append(running)
            return PoolStats(self.refused, self.done, self.failed, tuple(cumulative), self._total_s)

    def _timed(self, job: Callable[..., T], *args: object) -> T:
        started = self._timer()
        try:
            result = job(*args)
        except BaseException:
            with self._stats_lock:
                self.failed += 1
            raise
        elapsed = self._timer() - started
        with self._stats_lock:
            self.done += 1
            self._total_s += elapsed
            self._counts[bisect.bisect_left(LATENCY_BUCKETS_S, elapsed)] += 1
        return result

    def close(self) -> None:
        """Let running jobs end; start no new ones."""
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=False)
                self._executor = None

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    self.workers, thread_name_prefix=f"facegate-{self.name}"
                )
            return self._executor


def frame_metrics_lines(pool: WorkerPool) -> list[str]:
    """Prometheus lines of the kiosk frame workers: refused, decided, failed, job times.

    A frame's time is its decoding and deciding on a worker (seconds); a frame refused
    with 503 never reaches a worker and is counted in ``facegate_frames_refused_total``
    only.
    """
    stats = pool.stats()
    lines = [
        "# HELP facegate_frames_refused_total Frames refused with 503 (every worker busy).",
        "# TYPE facegate_frames_refused_total counter",
        f"facegate_frames_refused_total {stats.refused}",
        "# HELP facegate_frames_decided_total Frames answered with a decision.",
        "# TYPE facegate_frames_decided_total counter",
        f"facegate_frames_decided_total {stats.done}",
        "# HELP facegate_frames_failed_total Frames that ended in an error (bad image...).",
        "# TYPE facegate_frames_failed_total counter",
        f"facegate_frames_failed_total {stats.failed}",
        "# HELP facegate_frame_decision_seconds Time to decode and decide a frame.",
        "# TYPE facegate_frame_decision_seconds histogram",
    ]
    for bound, count in zip(LATENCY_BUCKETS_S, stats.buckets, strict=True):
        lines.append(f'facegate_frame_decision_seconds_bucket{{le="{bound}"}} {count}')
    lines += [
        f'facegate_frame_decision_seconds_bucket{{le="+Inf"}} {stats.done}',
        f"facegate_frame_decision_seconds_sum {stats.total_s:.6f}",
        f"facegate_frame_decision_seconds_count {stats.done}",
    ]
    return lines
