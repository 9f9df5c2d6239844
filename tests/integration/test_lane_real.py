"""The lane on a short synthetic stream of two real people from the shared live videos.

Both walkers are in view at once; each must be decided before the line, as themselves,
and paired with their own decision when they reach it (issue 14 #5). Every frame is
processed (not real time), so the outcome does not depend on this machine's load.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from facegate.bootstrap_gate import build_gate_engine
from facegate.config import GateSettings, Settings
from facegate.domain.liveness import LivenessSchedule
from facegate.lanebench.labels import SyntheticScript, Walker
from facegate.lanebench.run import lane_snapshot, play, render_stream, score
from facegate.lanebench.sources import load_sources
from facegate.vision.engine import FaceEngine


@pytest.fixture(scope="module")
def lane_engine(session_cache_dir: Path) -> FaceEngine:
    """The lane profile's engine (its stream detector: BlazeFace full range)."""
    return build_gate_engine(
        Settings(cache_dir=session_cache_dir, gate=GateSettings(profile="lane"))
    )


SCRIPT = SyntheticScript(
    sources={"webcam": "video/webcam_one_person.mp4", "talking": "video/talking_head.mp4"},
    enroll={"webcam": (0.0, 1.0), "talking": (0.0, 0.8)},
    base_rate_per_min=60.0,
    approach_s=1.4,
    line_fraction=0.25,
    size=(480, 360),
    fps=25.0,
    walkers=(
        Walker("w1", "talking", 3.0, 1.4, -0.8),
        Walker("w2", "webcam", 16.0, 2.0, 0.8),
    ),
)


def test_two_real_walkers_in_view_are_decided_and_paired_with_themselves(
    lane_engine: FaceEngine, shared_data: Path
) -> None:
    gate_engine = lane_engine
    sources = load_sources(SCRIPT, shared_data, gate_engine)
    policy, _ = Settings().match_policy(gate_engine.model_id)
    snapshot = lane_snapshot(sources.enrolled, policy)
    walkers = SCRIPT.at_rate(60.0)
    stream = render_stream(SCRIPT, walkers, sources.clips)
    both = [i for i, placed in enumerate(stream.placements) if len(placed) == 2]
    assert len(both) > 10, "the two walkers must be in view together"
    crossings, decisions, _ = play(
        stream, gate_engine, snapshot, None, LivenessSchedule(), 0.25, realtime=False
    )
    result = score(stream, walkers, crossings, decisions, 60.0)
    assert (result.decided, result.wrong_pairings, result.missed) == (2, 0, {})
    granted = [o.decision.person_id for o, _ in decisions if o.decision.granted]
    assert granted == ["talking", "webcam"]  # in order of arrival
