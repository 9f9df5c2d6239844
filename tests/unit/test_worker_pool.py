"""The bounded worker pool's counts and job time histogram, as Prometheus reads them."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import pytest

from facegate.domain.errors import ServiceBusyError
from facegate.services.workers import LATENCY_BUCKETS_S, WorkerPool, frame_metrics_lines


def ended(future: Future[Any]) -> Future[Any]:
    """``future`` once its job ended and the pool freed its worker (callbacks run in order)."""
    freed = threading.Event()
    future.add_done_callback(lambda _: freed.set())
    assert freed.wait(10.0)
    return future


def test_the_pool_counts_refused_done_and_failed_jobs_and_their_times() -> None:
    # One worker runs the jobs in turn: the held one takes 0.3 s, int("2") 0.01 s, and the
    # failing one reads the timer once (its time is not counted).
    readings = iter([0.0, 0.3, 2.0, 2.01, 3.0])
    pool = WorkerPool(1, timer=lambda: next(readings))
    release = threading.Event()
    held = pool.submit(release.wait, 10.0)
    with pytest.raises(ServiceBusyError):
        pool.submit(int, "1")
    release.set()
    assert ended(held).result() is True
    assert ended(pool.submit(int, "2")).result() == 2
    with pytest.raises(ValueError, match="invalid literal"):
        ended(pool.submit(int, "not a number")).result()
    pool.close()
    stats = pool.stats()
    assert (stats.refused, stats.done, stats.failed) == (1, 2, 1)
    assert LATENCY_BUCKETS_S[5] == 0.3
    assert stats.buckets == (1, 1, 1, 1, 1, 2, 2, 2, 2, 2)  # cumulative, bounds inclusive
    assert stats.total_s == pytest.approx(0.31)
    lines = frame_metrics_lines(pool)
    assert "facegate_frames_refused_total 1" in lines
    assert "facegate_frames_decided_total 2" in lines
    assert "facegate_frames_failed_total 1" in lines
    assert 'facegate_frame_decision_seconds_bucket{le="+Inf"} 2' in lines
    assert "facegate_frame_decision_seconds_count 2" in lines
    buckets = [line for line in lines if line.startswith("facegate_frame_decision_seconds_bucket")]
    assert len(buckets) == len(LATENCY_BUCKETS_S) + 1
    counts = [int(line.rsplit(" ", 1)[1]) for line in buckets]
    assert counts == sorted(counts)  # cumulative buckets never decrease
