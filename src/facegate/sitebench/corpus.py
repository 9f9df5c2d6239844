"""The real people of the shared data: their faces (as descriptors) and their clips.

Two kinds of real people:

* video people, whose clips are real consecutive camera frames: the webcam person and
  the talking head (``video/*.mp4``), and the NUAA live subjects (webcam captures at
  about 5 frames/s; those with two sessions are enrolled from the first and presented
  with the second). They are presented with the liveness check on.
* photo people (``faces/*``): still photos, turned into short moving sequences (the
  photo drifts and zooms on a grey canvas). A liveness check rightly refuses those, so
  they are presented only with liveness off, and reported apart.

Descriptors come from the product's own engine and are cached under the cache folder
(never in the repository; the data's terms forbid derived copies there).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from facegate.domain.errors import DataSetError
from facegate.services.acquisition import find_identities
from facegate.vision.engine import FaceEngine

BgrImage = npt.NDArray[np.uint8]
Loader = Callable[[], BgrImage]

VIDEO_PEOPLE = {
    # name: (file, enrol from s, enrol to s, probe from s, probe to s)
    "video/webcam": ("webcam_one_person.mp4", 0.0, 10.0, 10.0, 53.0),
    "video/talking": ("talking_head.mp4", 0.0, 3.0, 3.0, 8.0),
}
NUAA_RESIDENTS = ("0001", "0004", "0005", "0006", "0009")
"""NUAA live subjects with two sessions: enrolled from the first, presented with the second."""
NUAA_STRANGERS = ("0002", "0003", "0007", "0008")


@dataclass
class RealPerson:
    """One real person of the shared data.

    Attributes:
        name: ``set/person`` (``video/webcam``, ``nuaa/0001``, ``att/s1``...).
        video: whether the clips are real camera frames (else moving photos).
        enrol: keys of the images to enrol from (descriptor cache keys).
        probes: keys of the images to present (for photos) or clips of frame keys.
    """

    name: str
    video: bool
    enrol: list[str] = field(default_factory=list)
    probes: list[list[str]] = field(default_factory=list)


class Corpus:
    """Frames of the shared data by key, and their descriptors (cached per model).

    Args:
        data: the shared data folder (holding ``faces/``, ``video/``, ``liveness/``).
        cache: the folder of the descriptor cache.
    """

    def __init__(self, data: Path, cache: Path) -> None:
        if not (data / "faces").is_dir():
            raise DataSetError(f"no faces folder under {data} (give --data)")
        self.data, self.cache = data, cache
        self._loaders: dict[str, Loader] = {}
        self._photos: dict[str, Path] = {}

    def image(self, key: str) -> BgrImage:
        """The BGR frame or photo of ``key``."""
        return self._loaders[key]()

    def _video(self, file: str, keep: set[int]) -> int:
        """Read ``file``, keeping only the frames at ``keep``; its frame count."""
        capture, index = cv2.VideoCapture(str(self.data / "video" / file)), 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index in keep:
                self._loaders[f"{file}#{index}"] = _held(np.asarray(frame, np.uint8))
            index += 1
        capture.release()
        if not index:
            raise DataSetError(f"cannot read {self.data / 'video' / file}")
        return index

    def video_people(self, step: int, clip_frames: int) -> list[RealPerson]:
        """The webcam person, the talking head and the NUAA live subjects (video people).

        Args:
            step: present every ``step``-th frame of a 25 frames/s video (5: a camera
                sampled at 5 frames/s).
            clip_frames: frames per presented clip.
        """
        people = []
        for name, (file, e0, e1, p0, p1) in VIDEO_PEOPLE.items():
            enrol_at = list(range(round(e0 * 25), round(e1 * 25), 10))
            shown_at = list(range(round(p0 * 25), round(p1 * 25), step))
            count = self._video(file, {*enrol_at, *shown_at})
            enrol = [f"{file}#{i}" for i in enrol_at if i < count]
            shown = [f"{file}#{i}" for i in shown_at if i < count]
            people.append(RealPerson(name, True, enrol, list(_chunks(shown, clip_frames))))
        for subject in (*NUAA_RESIDENTS, *NUAA_STRANGERS):
            people.append(self._nuaa(subject, clip_frames))
        return people

    def _nuaa(self, subject: str, clip_frames: int) -> RealPerson:
        folder = self.data / "liveness" / "nuaa-train" / "live" / subject
        by_session: dict[str, list[Path]] = {}
        for path in folder.glob("*.jpg"):
            session = "_".join(path.stem.split("_")[1:4])
            by_session.setdefault(session, []).append(path)
        sessions = [
            sorted(p, key=lambda q: int(q.stem.rsplit("_", 1)[1]))
            for _, p in sorted(by_session.items())
        ]
        for path in folder.glob("*.jpg"):
            self._loaders[str(path)] = _reader(path)
        enrolled = subject in NUAA_RESIDENTS
        enrol = [str(p) for p in sessions[0][::10]] if enrolled else []
        shown = [str(p) for p in (sessions[-1] if enrolled else [q for s in sessions for q in s])]
        return RealPerson(f"nuaa/{subject}", True, enrol, list(_chunks(shown, clip_frames)))

    def photo_people(self) -> list[RealPerson]:
        """The photo sets under ``faces/``: every photo a key; no clips yet."""
        people = []
        for name, paths in sorted(find_identities(self.data / "faces").items()):
            for path in paths:
                self._loaders[str(path)] = _photo_reader(path)
                self._photos[str(path)] = path
            people.append(RealPerson(name, False, [], [[str(p)] for p in paths]))
        return people

    def clip(self, person: RealPerson, keys: list[str], frames: int) -> list[BgrImage]:
        """The frames presenting ``keys``: camera frames, or a photo moving for ``frames``."""
        if person.video:
            return [self.image(k) for k in keys]
        photo = _read_photo(self._photos[keys[0]])
        return [place_on_canvas(photo, 0.5 * i) for i in range(frames)]

    def descriptors(
        self, engine: FaceEngine, keys: list[str]
    ) -> dict[str, npt.NDArray[np.float32]]:
        """The primary face's descriptor of each key that has one (cached per model)."""
        digest = hashlib.sha256(engine.model_id.encode()).hexdigest()[:16]
        path = self.cache / "sitebench" / f"descriptors-{digest}.npz"
        known: dict[str, npt.NDArray[np.float32]] = {}
        if path.is_file():
            with np.load(path) as stored:
                known = {str(k): stored["vectors"][i] for i, k in enumerate(stored["keys"])}
        missing = [k for k in keys if k not in known]
        for key in missing:
            face = engine.primary_face(np.ascontiguousarray(self.image(key)[:, :, ::-1]))
            vector = face.descriptor if face is not None else None
            known[key] = (
                np.asarray(vector, np.float32)
                if vector is not None
                else np.full(128, np.nan, np.float32)
            )
        if missing:
            path.parent.mkdir(parents=True, exist_ok=True)
            names = sorted(known)
            np.savez(path, keys=np.array(names), vectors=np.stack([known[k] for k in names]))
        return {k: known[k] for k in keys if not np.isnan(known[k]).any()}


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items) - size + 1, size):
        yield items[start : start + size]


def _held(frame: BgrImage) -> Loader:
    return lambda: frame


def _reader(path: Path) -> Loader:
    def read() -> BgrImage:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise DataSetError(f"cannot read {path}")
        return np.asarray(image, np.uint8)

    return read


def _read_photo(path: Path) -> BgrImage:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        capture = cv2.VideoCapture(str(path))  # GIFs: OpenCV's imread does not read them
        ok, image = capture.read()
        capture.release()
        if not ok:
            raise DataSetError(f"cannot read {path}")
    return np.asarray(image, np.uint8)


def _photo_reader(path: Path) -> Loader:
    """A photo on a 400x300 grey canvas, the face about 240 px tall (GIF/PGM read too)."""
    return lambda: place_on_canvas(_read_photo(path), 0.0)


def place_on_canvas(photo: BgrImage, phase: float) -> BgrImage:
    """``photo`` scaled to 240 px tall on a 400x300 grey canvas, drifted and zoomed by ``phase``.

    ``phase`` 0 is the photo centred; other values move it a few pixels and zoom it by a
    few percent, as a photo held in front of a camera moves (a still, not a live face).
    """
    zoom = 240.0 / photo.shape[0] * (1.0 + 0.04 * np.sin(phase))
    scaled = cv2.resize(photo, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_LINEAR)
    canvas = np.full((300, 400, 3), 128, np.uint8)
    h, w = min(scaled.shape[0], 300), min(scaled.shape[1], 400)
    top = max(0, (300 - h) // 2 + round(6 * np.cos(phase)))
    left = max(0, (400 - w) // 2 + round(10 * np.sin(phase)))
    h, w = min(h, 300 - top), min(w, 400 - left)
    canvas[top : top + h, left : left + w] = scaled[:h, :w]
    return canvas
