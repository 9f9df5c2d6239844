"""Face work on several threads: each thread gets its own engine and liveness check.

Two kiosk frame workers calling one dlib/TFLite instance at once corrupted the heap
(the site bench crashed the server); the server now builds one per worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import numpy as np
import pytest

import facegate.bootstrap_server as bootstrap_server
from facegate.config import Settings
from facegate.domain.liveness import FaceFrame, LivenessVerdict, SensorFrame
from facegate.gate.per_thread import PerThread, PerThreadFaceWork, PerThreadLiveness
from facegate.vision.detection import Detection


class OneThreadOnly:
    """An engine (and liveness check) that fails when a second thread ever calls it."""

    built: ClassVar[list[OneThreadOnly]] = []

    def __init__(self) -> None:
        self.thread: int | None = None
        OneThreadOnly.built.append(self)

    def _enter(self) -> None:
        me = threading.get_ident()
        assert self.thread in (None, me), "one instance called from two threads"
        self.thread = me

    @property
    def detector(self) -> OneThreadOnly:
        self._enter()
        return self

    @property
    def embedder(self) -> OneThreadOnly:
        self._enter()
        return self

    def detect(self, image: np.ndarray) -> list[Detection]:
        self._enter()
        return []

    def measure(
        self, image: np.ndarray, detections: Sequence[Detection], describe: bool = False
    ) -> list[object]:
        self._enter()
        return []

    @property
    def cue_names(self) -> tuple[str, ...]:
        return ("fake",)

    def check(
        self, frames: Sequence[FaceFrame], second_sensor: Sequence[SensorFrame] = ()
    ) -> LivenessVerdict:
        self._enter()
        return LivenessVerdict(False, 0.0, {}, "fake")


def _on_threads(work: object, calls: int = 4) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(calls):
                work()  # type: ignore[operator]
        except BaseException as error:  # collected and re-raised below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def test_each_thread_gets_its_own_instance_and_keeps_it() -> None:
    OneThreadOnly.built.clear()
    engines = PerThreadFaceWork(PerThread(OneThreadOnly))
    image = np.zeros((4, 4, 3), np.uint8)
    _on_threads(lambda: (engines.detector.detect(image), engines.measure(image, [])))
    assert len(OneThreadOnly.built) == 3


def test_the_liveness_stand_in_runs_on_the_callers_check() -> None:
    OneThreadOnly.built.clear()
    checks = PerThreadLiveness(PerThread(OneThreadOnly), ("fake",))
    _on_threads(lambda: checks.check([]))
    assert len(OneThreadOnly.built) == 3
    assert checks.cue_names == ("fake",)


def test_the_liveness_stand_in_prepares_frames_on_the_callers_check() -> None:
    """``prepare`` reaches the calling thread's check when it has one, else nothing."""
    prepared: list[tuple[int, int]] = []

    class Preparing(OneThreadOnly):
        def prepare(self, frames: Sequence[FaceFrame]) -> None:
            self._enter()
            prepared.append((id(self), len(frames)))

    OneThreadOnly.built.clear()
    checks = PerThreadLiveness(PerThread(Preparing), ("fake",))
    _on_threads(lambda: checks.prepare([]))
    assert len(prepared) == 12
    assert len({owner for owner, _ in prepared}) == 3
    PerThreadLiveness(PerThread(OneThreadOnly), ("fake",)).prepare([])  # none: no error


def test_the_servers_kiosk_pipeline_never_shares_an_engine_between_threads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Fails on a server that builds one engine for every frame worker."""
    OneThreadOnly.built.clear()
    monkeypatch.setattr(bootstrap_server, "build_gate_engine", lambda settings: OneThreadOnly())
    monkeypatch.setattr(
        bootstrap_server, "build_gate_liveness", lambda settings: (OneThreadOnly(), None)
    )

    settings = Settings(data_dir=tmp_path, gate={"liveness": "motion"})
    deps = SimpleNamespace(
        settings=settings, clock=None, store=None, alarms=None, decider=None, opener=None
    )
    deps.sealer = lambda: None
    bootstrap_server.wire_gate_pipeline(deps)  # type: ignore[arg-type]
    decider = deps.decider
    assert decider is not None
    image = np.zeros((4, 4, 3), np.uint8)
    _on_threads(lambda: decider._engine().detector.detect(image))
    liveness = decider.liveness()
    assert liveness is not None
    _on_threads(lambda: liveness.check([]))
