"""Real frames for the gate's tests: the webcam person enrolled, a stranger, a fake PAD.

The person of ``webcam_one_person.mp4`` is enrolled from every 10th frame of its first
10 s (frames 0-249); the gate sees frames from 16 s on (frame 400), so no frame is both
enrolled and decided. ``talking_head.mp4`` is the stranger.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from facegate.bootstrap import SystemClock, build_sealer, build_store, ensure_site_key
from facegate.bootstrap_gate import build_gate_engine
from facegate.config import Settings
from facegate.domain.access import TimeWindow
from facegate.domain.events import Event, EventQuery
from facegate.domain.liveness import FaceFrame, LivenessVerdict, SensorFrame
from facegate.domain.matching import FloatArray
from facegate.domain.people import ConsentMethod, ConsentPurpose
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.bench import enroll_from_video
from facegate.ports import Frame
from facegate.services import people, places, site_admin
from facegate.services.consent import grant_consent
from facegate.services.context import ServiceContext
from facegate.services.enrollment import enroll
from facegate.store.unit_of_work import SqlStore
from facegate.vision.engine import FaceEngine
from facegate.vision.images import ImageLimits
from facegate.vision.photos import EnginePhotoDescriber

ARRIVAL_START = 400
"""First frame of the webcam video the gate sees (16 s; enrollment ends at frame 249)."""


def read_video(path: Path, start: int, count: int, step: int = 1) -> list[Frame]:
    """Frames ``start``, ``start + step``, ... (``count`` of them) of ``path``, as RGB."""
    capture = cv2.VideoCapture(str(path))
    capture.set(cv2.CAP_PROP_POS_FRAMES, start)
    frames: list[Frame] = []
    index = start
    while len(frames) < count:
        ok, bgr = capture.read()
        if not ok:
            break
        if (index - start) % step == 0:
            rgb = np.ascontiguousarray(bgr[:, :, ::-1])
            frames.append(Frame(rgb, len(frames), len(frames) / 25.0))
        index += 1
    capture.release()
    return frames


def video(shared_data: Path, name: str) -> Path:
    """The shared video ``name`` (skips the test when absent)."""
    path = shared_data / "video" / name
    if not path.is_file():
        pytest.skip(f"no video {path}")
    return path


@pytest.fixture(scope="session")
def gate_engine(session_cache_dir: Path) -> FaceEngine:
    """The gate's engine (no CNN fallback), once per session."""
    return build_gate_engine(Settings(cache_dir=session_cache_dir))


@pytest.fixture(scope="session")
def ann_descriptors(gate_engine: FaceEngine, shared_data: Path) -> list[FloatArray]:
    """Descriptors of the webcam person from frames 0-249 (every 10th that passes)."""
    frames = read_video(video(shared_data, "webcam_one_person.mp4"), 0, 125, step=2)
    descriptors = enroll_from_video(gate_engine, frames)
    assert len(descriptors) >= 5
    return descriptors


@pytest.fixture(scope="session")
def ann_frames(shared_data: Path) -> list[Frame]:
    """30 frames of the webcam person at the door (1.2 s from 16 s on)."""
    return read_video(video(shared_data, "webcam_one_person.mp4"), ARRIVAL_START, 30)


@pytest.fixture(scope="session")
def stranger_frames(shared_data: Path) -> list[Frame]:
    """30 frames of the talking head (never enrolled)."""
    return read_video(video(shared_data, "talking_head.mp4"), 0, 30)


class RefusingLiveness:
    """A liveness check that calls every presentation an attack (a spoof in front)."""

    cue_names = ("fake",)

    def __init__(self) -> None:
        self.calls = 0

    def check(
        self, frames: Sequence[FaceFrame], second_sensor: Sequence[SensorFrame] = ()
    ) -> LivenessVerdict:
        self.calls += 1
        return LivenessVerdict(False, 0.0, {}, Reason.SPOOF_SUSPECTED, "fake refusal")


class ScriptedLiveness:
    """A liveness check that answers ``answers`` in turn (live or not), then live."""

    cue_names = ("scripted",)

    def __init__(self, answers: Sequence[bool]) -> None:
        self.answers, self.calls = list(answers), 0

    def check(
        self, frames: Sequence[FaceFrame], second_sensor: Sequence[SensorFrame] = ()
    ) -> LivenessVerdict:
        live = self.answers[self.calls] if self.calls < len(self.answers) else True
        self.calls += 1
        return LivenessVerdict(live, float(live), {}, None if live else Reason.SPOOF_SUSPECTED)


ALL_WEEK = TimeWindow(frozenset(range(7)), time(0), time(23, 59, 59))


@dataclass
class GateSite:
    """A real site database with Ann enrolled from the webcam video's first 10 s."""

    settings: Settings
    context: ServiceContext
    store: SqlStore
    ann: str

    def door(self, mode: CredentialMode = CredentialMode.ANY_OF) -> str:
        """A new door accepting face and card in ``mode``."""
        kinds = [CredentialKind.FACE, CredentialKind.CARD]
        return places.add_door(self.context, "North", DoorKind.ENTRANCE, mode, kinds).id

    def events(self) -> list[Event]:
        """Every stored access event."""
        with self.store.unit_of_work() as uow:
            return uow.events.search(EventQuery(limit=1000))


_ENROLLED: dict[int, tuple[FaceEngine, Path, str]] = {}
"""Per face engine (by id): a site's data directory with Ann enrolled, and her id."""


def make_site(settings: Settings, engine: FaceEngine, shared_data: Path, folder: Path) -> GateSite:
    """Initialise the site of ``settings`` and enroll Ann (consent first) from real frames.

    A SQLite site under a key file (no ``db_url``, no ``site_key``) is a copy of the data
    directory of one made once per engine and process: enrolling from real frames costs
    seconds a test. Its rows are dated when that one was made.
    """
    if settings.db_url is not None or settings.site_key is not None:
        return _enrolled_site(settings, engine, shared_data, folder)
    if id(engine) not in _ENROLLED:
        made = Path(tempfile.mkdtemp(prefix="facegate-gate-site-"))
        atexit.register(shutil.rmtree, made, ignore_errors=True)
        first = settings.model_copy(update={"data_dir": made / "site"})
        built = _enrolled_site(first, engine, shared_data, made)
        built.store.close()
        _ENROLLED[id(engine)] = (engine, first.data_dir, built.ann)
    _, source, ann = _ENROLLED[id(engine)]
    shutil.copytree(source, settings.data_dir, dirs_exist_ok=True)
    store = build_store(settings)
    context = ServiceContext(store=store, clock=SystemClock(), actor="test")
    return GateSite(settings, context, store, ann)


def _enrolled_site(
    settings: Settings, engine: FaceEngine, shared_data: Path, folder: Path
) -> GateSite:
    """Initialise the site of ``settings`` and enroll Ann (consent first) from real frames."""
    store = build_store(settings, migrate=True)
    ensure_site_key(settings)
    context = ServiceContext(store=store, clock=SystemClock(), actor="test")
    site_admin.init_site(context, "Oak Court", "UTC")
    ann = people.add_person(context, "Ann Lee").id
    grant_consent(context, ann, ConsentPurpose.FACE_ACCESS, "2026-01", ConsentMethod.WRITTEN)
    photos = []
    for frame in read_video(video(shared_data, "webcam_one_person.mp4"), 0, 25, step=10):
        photos.append(folder / f"ann{frame.index}.png")
        cv2.imwrite(str(photos[-1]), frame.image[:, :, ::-1])
    describer = EnginePhotoDescriber(engine, ImageLimits(), require_quality=True)
    enroll(context, build_sealer(settings), lambda: describer, ann, photos)
    return GateSite(settings, context, store, ann)


class ListSource:
    """Frames from a list, then the end (a video file already read)."""

    description = "test frames"

    def __init__(self, frames: Sequence[Frame]) -> None:
        self.frames = list(frames)

    def read(self) -> Frame | None:
        return self.frames.pop(0) if self.frames else None

    def close(self) -> None:
        self.frames = []
