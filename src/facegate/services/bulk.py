"""Bulk work without the cyclic garbage collector's passes over it.

A cold snapshot at 25,000 residents creates some 400,000 small tuples and rows in under
a second (the site's rows, the template index, the sealed templates). Each 700 new
container objects start a collection, and the older generations' collections walk every
object alive, so the collector ran about 1,100 times in one build and took a fifth to a
quarter of its CPU time (``bench/cold_rebuild.py``). The objects made there hold no
reference cycles that need the collector: reference counting frees them.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the block runs (nested and threads: ok).

    The collector is switched back on when the last of the overlapping blocks ends,
    and only when it was on before the first began. Memory freed by reference counting
    is freed as usual meanwhile; only the collection of reference cycles waits (for
    about a second at most: keep the blocks to bulk reads and their decoding).
    """
    global _paused, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()
