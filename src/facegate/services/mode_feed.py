"""The site mode for the server's long polls: one reader per event loop, any number of waiters.

A gate's long poll (``GET /api/v1/gates/{id}/mode``) waits for the mode to change. Each
waiting poll used to read the mode on a worker thread every
:data:`~facegate.services.site_mode.WATCH_S`: a thread hop per poll per 0.1 s, a whole
core for 1,000 waiting polls. Here, while any poll of an event loop waits, one task of
that loop reads the mode (:data:`~facegate.services.site_mode.MODE_WATCH`) every
:data:`~facegate.services.site_mode.WATCH_S`; a waiter takes the first read made after
it began whose mode differs from the one its gate knows, or gives up after its timeout.
The waiters are woken by a read whose mode changed (or one a waiter needs: it came
while the last read was not its gate's mode), not by every read. The reader stops when
nobody waits. While the mode cannot be read (the database is down: logged once), the
waiters wait on, and answer the mode their gate knows when their time is up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref

from facegate.domain.policy import SiteMode
from facegate.services.context import ServiceContext
from facegate.services.site_mode import MODE_WATCH, WATCH_S, ModeWatch

log = logging.getLogger(__name__)


class _LoopFeed:
    """The reader and waiters of one event loop (built inside it)."""

    def __init__(self, watch: ModeWatch, interval_s: float) -> None:
        self.watch, self.interval_s = watch, interval_s
        self.mode: SiteMode | None = None
        self.reads = 0
        self.waiters = 0
        self.unanswered = 0  # waiters the last read cannot answer (it is not their known)
        self.reader: asyncio.Task[None] | None = None
        self.read = asyncio.Condition()

    async def changed(
        self, context: ServiceContext, known: SiteMode | None, timeout_s: float
    ) -> SiteMode | None:
        self.waiters += 1
        try:
            if self.reader is None or self.reader.done():
                self.reader = asyncio.create_task(self._run(context))
            start, unanswered = self.reads, self.mode is not known
            self.unanswered += unanswered
            async with self.read:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self.read.wait_for(lambda: self.reads > start and self.mode is not known),
                        timeout_s,
                    )
                return self.mode if self.reads > start else None
        finally:
            self.waiters -= 1
            self.unanswered -= unanswered

    async def _run(self, context: ServiceContext) -> None:
        """Read the mode while anyone waits (a failed read is logged once and tried again)."""
        failing = False
        try:
            while self.waiters:
                try:
                    mode = await asyncio.to_thread(self.watch.mode, context)
                except Exception as err:  # the waiters keep the mode they know meanwhile
                    if not failing:
                        log.warning("the site mode cannot be read for the long polls: %r", err)
                    failing = True
                else:
                    failing = False
                    async with self.read:
                        if mode is not self.mode or self.unanswered:  # else nobody is answered
                            self.read.notify_all()
                        self.mode, self.reads = mode, self.reads + 1
                await asyncio.sleep(self.interval_s)
        finally:
            self.mode = None


class ModeFeed:
    """The mode in force for waiting long polls, read once for all of an event loop's.

    Args:
        watch: where the mode is read (it keeps a read up to ``interval_s`` old).
        interval_s: seconds between two reads while anyone waits.
    """

    def __init__(self, watch: ModeWatch = MODE_WATCH, interval_s: float = WATCH_S) -> None:
        self.watch, self.interval_s = watch, interval_s
        self._feeds: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopFeed] = (
            weakref.WeakKeyDictionary()
        )

    async def changed(
        self, context: ServiceContext, known: SiteMode | None, timeout_s: float
    ) -> SiteMode | None:
        """The mode of the first read from now on that differs from ``known``.

        Returns:
            That mode; after ``timeout_s`` seconds without one, the last read since the
            call (``known``), or ``None`` when there was none (nor a read that worked).
        """
        loop = asyncio.get_running_loop()
        feed = self._feeds.get(loop)
        if feed is None:
            feed = self._feeds[loop] = _LoopFeed(self.watch, self.interval_s)
        return await feed.changed(context, known, timeout_s)


MODE_FEED = ModeFeed()
"""This process's feed (the server's long polls)."""
