"""A bounded pool of worker threads that refuses work at once when it is full.

The server runs face work (kiosk frames) here, off the event loop: at most ``workers``
jobs run or wait at a time, and a job that finds every slot taken is refused with
:class:`facegate.domain.errors.ServiceBusyError` (HTTP 503 with ``Retry-After``) instead
of joining a queue that grows with the load. The console and the API keep answering
while kiosks stream frames.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from facegate.domain.errors import ServiceBusyError

T = TypeVar("T")


class WorkerPool:
    """``workers`` threads; a job beyond them is refused, not queued.

    Args:
        workers: how many jobs run at once (at least 1).
        retry_after_s: what a refusal tells the client to wait (seconds).
        name: the threads' name prefix and the refusal's subject.
    """

    def __init__(self, workers: int, retry_after_s: float = 1.0, name: str = "frames") -> None:
        if workers < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.workers, self.retry_after_s, self.name = workers, retry_after_s, name
        self._slots = threading.BoundedSemaphore(workers)
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self.refused = 0

    def submit(self, job: Callable[..., T], *args: object) -> Future[T]:
        """Start ``job(*args)`` on a free worker.

        Raises:
            ServiceBusyError: every worker is busy.
        """
        if not self._slots.acquire(blocking=False):
            self.refused += 1
            raise ServiceBusyError(
                f"all {self.workers} {self.name} workers are busy; try again shortly",
                self.retry_after_s,
            )
        try:
            future = self._pool().submit(job, *args)
        except BaseException:
            self._slots.release()
            raise
        # The slot is freed when the job ends, even if the client gave up waiting.
        future.add_done_callback(lambda _: self._slots.release())
        return future

    async def run(self, job: Callable[..., T], *args: object) -> T:
        """Run ``job(*args)`` on a free worker and await its result (see :meth:`submit`)."""
        return await asyncio.wrap_future(self.submit(job, *args))

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
