"""The periodic runner and durations: runs bounded, a stop ends the loop between runs."""

from __future__ import annotations

import threading

import pytest

from facegate.domain.errors import ValidationError
from facegate.services.periodic import parse_duration, repeat


class CountingStop:
    """A stop signal that fires after ``after`` waits, recording the waits asked for."""

    def __init__(self, after: int | None = None) -> None:
        self.after = after
        self.waits: list[float | None] = []

    def is_set(self) -> bool:
        return self.after is not None and len(self.waits) >= self.after

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        return self.is_set()


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("24h", 86400), ("7d", 604800), ("0.5s", 0.5)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "24", "h", "0s", "-1h", "1w", "1.h"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="not a duration"):
        parse_duration(text)


def test_runs_bound_the_loop_and_it_waits_between_runs() -> None:
    done: list[int] = []
    stop = CountingStop()
    assert repeat(lambda: done.append(1), 60.0, stop, runs=3) == 3
    assert stop.waits == [60.0, 60.0]


def test_a_stop_during_the_wait_ends_the_loop_before_the_next_run() -> None:
    done: list[int] = []
    stop = CountingStop(after=2)
    assert repeat(lambda: done.append(1), 1.0, stop, runs=None) == 2
    assert len(done) == 2


def test_a_stop_set_during_a_run_lets_it_finish() -> None:
    stop = threading.Event()
    done: list[int] = []

    def job() -> None:
        done.append(1)
        stop.set()

    assert repeat(job, 3600.0, stop, runs=None) == 1
    assert done == [1]
