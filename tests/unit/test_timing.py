from __future__ import annotations

import threading
import time

import pytest

from facegate import timing
from facegate.timing import StageRecorder, recording, span


def test_a_span_without_a_recorder_is_the_shared_no_op() -> None:
    assert span("detect") is span("embed")
    with span("detect"):
        pass


def test_nested_spans_count_their_time_once() -> None:
    with recording(StageRecorder()) as recorder:
        with span("policy"):
            time.sleep(0.02)
            with span("search"):
                time.sleep(0.03)
        tally = recorder.end_frame()
    assert tally["search"] >= 30.0
    assert 20.0 <= tally["policy"] < 30.0 + 20.0
    assert recorder.frames == [tally]
    assert timing._active is None


def test_frames_are_tallied_apart_and_other_threads_count() -> None:
    recorder = StageRecorder()
    with recording(recorder):
        with span("detect"):
            pass
        first = recorder.end_frame()
        with span("embed"):
            pass

        def liveness() -> None:
            with span("liveness"):
                time.sleep(0.01)

        worker = threading.Thread(target=liveness)
        worker.start()
        worker.join()
        second = recorder.end_frame()
    assert set(first) == {"detect"}
    assert set(second) == {"embed", "liveness"}
    assert second["liveness"] >= 10.0


def test_the_recorder_is_removed_after_an_error() -> None:
    with pytest.raises(RuntimeError), recording(StageRecorder()):
        raise RuntimeError("boom")
    assert timing._active is None
