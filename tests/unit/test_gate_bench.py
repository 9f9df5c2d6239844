from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from facegate.cli import app
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.matching import MatchPolicy
from facegate.domain.policy import Decision, deny
from facegate.domain.reasons import Reason
from facegate.gate.bench import (
    GateRun,
    bench_snapshot,
    letterbox,
    memory_gallery,
    run_gate,
    search_ms,
    summarize,
)
from facegate.gate.loop import Outcome
from facegate.ports import Frame
from facegate.timing import STAGES, StageRecorder, recording
from fakes import FakeFaceEngine, fake_frame, unit_descriptor
from gate_support import ScriptedLiveness


def test_search_reports_each_size() -> None:
    result = search_ms((10, 200), repeats=2)
    assert set(result) == {"10", "200"}
    assert all(value >= 0 for value in result.values())


def test_summary_counts_reasons_and_has_the_contract_keys() -> None:
    outcomes = [
        Outcome(Decision(True, Reason.GRANTED), 1, 5, 40.0, 240.0, "k1"),
        Outcome(deny(Reason.SPOOF_SUSPECTED), 2, 9, 60.0, 300.0, "k2"),
    ]
    frames = [{"detect": 10.0, "embed": 4.0}, {"detect": 20.0}, {}, {"detect": 30.0}]
    report = summarize(GateRun(outcomes, 2.0, 0.5, frames))
    assert report["p50_ms"] == 50.0
    assert report["decisions_per_s"] == 1.0
    assert report["reasons"] == {"granted": 1, "spoof_suspected": 1}
    assert {"p95_ms", "time_to_decision_p50_ms"} <= set(report)
    assert report["frames_per_s"] == 2.0
    assert report["cpu_ms_per_frame"] == 125.0
    assert list(report["stages"]) == list(STAGES)
    assert report["stages"]["detect"]["p50_ms"] == 20.0
    assert report["stages"]["detect"]["share"] == 0.03  # 60 ms of 2 s
    assert report["stages"]["embed"]["frames"] == 1
    assert report["stages"]["liveness"] == {"p50_ms": 0.0, "p95_ms": 0.0, "share": 0.0, "frames": 0}


def test_memory_gallery_holds_the_templates_indexed() -> None:
    gallery = memory_gallery(30)
    assert len(gallery) == 30
    assert gallery.people_count() == 10
    _, _, matrix = gallery.as_index()
    assert matrix.dtype == np.float32
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    assert gallery.identify(matrix[4], 0.57, 0.0).nearest_person_id == "filler-1"


def test_the_bench_gallery_times_its_search() -> None:
    person = [np.full(128, 0.08, np.float32)]
    snapshot = bench_snapshot(person, MatchPolicy(0.57, 0.0))
    with recording(StageRecorder()) as recorder:
        found, _ = snapshot.access.gallery.search(person[0], snapshot.access.match)
        tally = recorder.end_frame()
    assert found.person_id == "bench-person"
    assert set(tally) == {"search"}


def test_letterbox_keeps_the_aspect_and_centres() -> None:
    image = np.full((300, 400, 3), 255, np.uint8)
    boxed = letterbox(image, (1280, 720))
    assert boxed.shape == (720, 1280, 3)
    assert boxed[:, :160].max() == 0
    assert boxed[:, -160:].max() == 0
    assert boxed[:, 160:1120].min() == 255


@pytest.mark.parametrize("resolution", ["1280", "x720", "0x0", "abcxdef"])
def test_a_bad_resolution_is_a_usage_error(resolution: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["--data-dir", str(tmp_path), "bench", "gate", "--resolution", resolution]
    )
    assert result.exit_code == 2, result.output
    assert "WIDTHxHEIGHT" in result.output


def test_each_arrival_is_timed_on_the_video_clock_and_an_undecided_one_is_counted() -> None:
    """Three arrivals of 1 s at 25 frames/s: live at 0.52 s, at 0.4 s, and cut off at 5 frames."""
    snapshot = bench_snapshot([unit_descriptor(3)], MatchPolicy(0.57, 0.0))
    frames = [Frame(fake_frame(n, 3).image, n, n / 25.0) for n in range(55)]
    liveness = ScriptedLiveness([False] * 3)  # then live at every check
    run = run_gate(
        FakeFaceEngine(),  # type: ignore[arg-type]
        snapshot,
        frames,
        liveness,
        LivenessSchedule(),
        1.0,
    )
    table = summarize(run)["arrivals"]
    assert [(a["start_s"], a["frames"], a["decided_ms"]) for a in table["each"]] == [
        (0.0, 25, 520.0),
        (1.0, 25, 400.0),
        (2.0, 5, None),
    ]
    assert (table["count"], table["decided"]) == (3, 2)
    assert table["frames_p50_ms"] == 460.0
    assert table["all_p50_ms"] == 520.0  # the undecided arrival counted as 1,000 ms
