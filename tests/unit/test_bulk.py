"""Pausing the cyclic garbage collector around bulk reads."""

from __future__ import annotations

import gc

from facegate.services import bulk


def test_the_collector_is_paused_while_any_bulk_block_runs_and_then_restored() -> None:
    was = gc.isenabled()
    try:
        gc.enable()
        with bulk.collector_paused():
            with bulk.collector_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()  # the outer block still runs
        assert gc.isenabled()
        gc.disable()  # a process that runs without the collector keeps it off
        with bulk.collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
