"""The presentation-attack suite: seeded attack videos made from the shared photos and videos.

Attack types (:data:`ATTACK_TYPES`), each at two distances (:data:`DISTANCES`, the face's
width in camera pixels at the nominal distance):

- ``print_<motion>``: a photo printed on paper held in the room in front of the camera
  (ink on paper, :mod:`facegate.vision.liveness.synthetic_print`: a smaller colour gamut,
  the paper's tinted white and the ink's grey black, halftone dots, fibre, a glossy
  sheen, a paper margin or none, often a holding hand; the sheet's focus drawn apart
  from the room's, so it may be sharper or blurrier than the room), for every motion of
  :data:`facegate.vision.liveness.synthetic.MOTIONS`
  (still, translate, rotate up to 30 degrees, zoom 0.7-1.4x, tilt up to 30 degrees,
  hand shake, all combined). These are the *planar* attacks (:data:`PLANAR_TYPES`).
- ``print_bent``: the print bent about its vertical axis (a cylinder), moved.
- ``print_cutout_eyes``: the print with its eyes cut out, held a few centimetres in front
  of a face that moves a little on its own and blinks behind the holes.
- ``replay_phone``, ``replay_tablet``: a live video replayed on a screen (see
  :mod:`facegate.vision.liveness.synthetic_screen`), held still or moved.

The suite has two parts that share no person, no clip and no seed (:func:`split`): the
``calibration`` part (every threshold is set on it) and the ``reporting`` part (every
figure is reported on it). Clips are rendered on first use into a cache folder (MJPEG,
as a camera's stream is compressed) with a JSON file of the face's box and landmarks
on each frame (the true geometry, mapped from the source face found by the engine);
nothing of it is committed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from facegate.domain.errors import BadInputError
from facegate.domain.faces import Box, FivePointLandmarks
from facegate.domain.liveness import FaceFrame
from facegate.vision.engine import FaceEngine
from facegate.vision.images import RgbImage, load_image
from facegate.vision.liveness.synthetic import (
    MOTIONS,
    Camera,
    Pose,
    Surface,
    render_surface,
    rotation,
    surface_pixels,
    trajectory,
)
from facegate.vision.liveness.synthetic_print import (
    PrintLook,
    make_sheet,
    sheen_at,
)
from facegate.vision.liveness.synthetic_screen import (
    ScreenLook,
    layout,
    render_screen,
    screen_surface,
)
from facegate.vision.liveness.video import read_frames

Part = Literal["calibration", "reporting"]
PARTS: tuple[Part, ...] = ("calibration", "reporting")
PLANAR_TYPES = tuple(f"print_{motion}" for motion in MOTIONS)
"""The attack types that are a flat print moved rigidly (the multi-frame cue's target)."""
ATTACK_TYPES = (*PLANAR_TYPES, "print_bent", "print_cutout_eyes", "replay_phone", "replay_tablet")
DISTANCES = {"near": 130.0, "far": 75.0}
"""Face width in camera pixels (480x360 frame) at the nominal distance, per distance."""
FPS = 25.0
"""Frame rate of every clip, frames per second."""
CLIP_S = 3.0
"""Length of every clip, seconds (the longest a presentation is watched)."""
SUITE_VERSION = 3
"""Bumped whenever rendering changes, so that cached clips are made again (3: prints
look like ink on paper, :mod:`facegate.vision.liveness.synthetic_print`)."""
ROOM_BLUR_PX = 1.2
"""The room's blur behind a replayed screen (Gaussian sigma, camera pixels); a print's
room has its own, drawn with the print's look."""

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SuitePart:
    """The sources of one part of the suite.

    Attributes:
        name: ``calibration`` or ``reporting``.
        photos: photos to print (people of this part only).
        videos: live videos to replay (clips of this part only).
        backgrounds: room pictures (no face) behind the attack.
        seed: the part's root seed (every clip's seed derives from it).
    """

    name: Part
    photos: tuple[Path, ...]
    videos: tuple[Path, ...]
    backgrounds: tuple[Path, ...]
    seed: int


def split(part: Part, data: Path) -> SuitePart:
    """The sources of ``part`` under the shared data folder ``data``.

    People: LFW's ten people alternate between the parts by name (five each); the Yale
    and TV-cast people are calibration only. Videos: ``webcam_one_person.mp4`` is
    calibration, ``talking_head.mp4`` (another person) reporting. Backgrounds: the
    no-face pictures alternate. Seeds: 1 and 2 as roots.

    Raises:
        ValueError: an unknown part.
        BadInputError: the shared data folder lacks the photos or videos.
    """
    if part not in PARTS:
        raise ValueError(f"unknown suite part {part!r}; expected one of {', '.join(PARTS)}")
    faces = data / "faces"
    people = sorted(p for p in (faces / "lfw10").glob("*") if p.is_dir())
    if not people:
        raise BadInputError(f"{faces / 'lfw10'}: no LFW people (is {data} the shared data?)")
    mine = people[PARTS.index(part) :: 2]
    photos = [photo for person in mine for photo in sorted(person.glob("*.jpg"))]
    if part == "calibration":
        for folder in ("yale", "tvcast"):
            photos += sorted(p for p in (faces / folder).glob("*/*") if p.is_file())
    video = ("webcam_one_person.mp4", "talking_head.mp4")[PARTS.index(part)]
    noface = data / "detection" / "noface"
    rooms = sorted(noface.glob("*.jpg")) + sorted(noface.glob("*/*.jpg"))
    return SuitePart(
        part,
        tuple(photos),
        (data / "video" / video,),
        tuple(rooms[PARTS.index(part) :: 2]),
        PARTS.index(part) + 1,
    )


@dataclass(frozen=True, slots=True)
class ClipSpec:
    """One attack clip of the suite, fully determined (same spec, same pixels).

    Attributes:
        part: the suite part.
        kind: the attack type (:data:`ATTACK_TYPES`).
        distance: a key of :data:`DISTANCES`.
        index: its number within ``(part, kind, distance)``.
        source: the printed photo or the replayed video.
        start_s: where a replayed video's clip starts, seconds (0 for photos).
        background: the room picture.
        seed: the clip's random seed.
    """

    part: Part
    kind: str
    distance: str
    index: int
    source: Path
    start_s: float
    background: Path
    seed: int

    @property
    def name(self) -> str:
        """A file-name-safe name unique within the part."""
        return f"{self.kind}-{self.distance}-{self.index:03d}"

    @property
    def planar(self) -> bool:
        """Whether the attack is a flat print moved rigidly."""
        return self.kind in PLANAR_TYPES


@dataclass(frozen=True, slots=True)
class AttackClip:
    """A rendered attack: its spec and its frames, each with the face's true place.

    Attributes:
        spec: what it is.
        fps: frames per second.
        frames: the frames, oldest first.
    """

    spec: ClipSpec
    fps: float
    frames: list[FaceFrame]


def clip_specs(
    part: Part, data: Path, per_cell: int = 6, kinds: Sequence[str] = ATTACK_TYPES
) -> list[ClipSpec]:
    """The part's clips: ``per_cell`` of each attack type at each distance.

    Photos and video start times are dealt out from a shuffled list (by the part's
    seed), so each cell gets different sources where the part has enough.

    Raises:
        ValueError: an unknown attack type or part.
    """
    unknown = [kind for kind in kinds if kind not in ATTACK_TYPES]
    if unknown:
        raise ValueError(f"unknown attack types {unknown}; expected some of {ATTACK_TYPES}")
    sources = split(part, data)
    order = np.random.default_rng(sources.seed)
    photos = [sources.photos[i] for i in order.permutation(len(sources.photos))]
    specs, dealt = [], 0
    for kind in kinds:
        for distance in DISTANCES:
            for index in range(per_cell):
                seed = int(
                    np.random.SeedSequence(
                        [
                            sources.seed,
                            ATTACK_TYPES.index(kind),
                            list(DISTANCES).index(distance),
                            index,
                        ]
                    ).generate_state(1)[0]
                )
                background = sources.backgrounds[seed % len(sources.backgrounds)]
                if kind.startswith("replay"):
                    video = sources.videos[index % len(sources.videos)]
                    length = _video_seconds(video)
                    start = round((seed % 1000) / 1000.0 * max(length - CLIP_S - 0.2, 0.0), 2)
                    specs.append(
                        ClipSpec(part, kind, distance, index, video, start, background, seed)
                    )
                else:
                    photo = photos[dealt % len(photos)]
                    dealt += 1
                    specs.append(
                        ClipSpec(part, kind, distance, index, photo, 0.0, background, seed)
                    )
    return specs


def _video_seconds(path: Path) -> float:
    capture = cv2.VideoCapture(str(path))
    try:
        frames = float(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = float(capture.get(cv2.CAP_PROP_FPS)) or FPS
    finally:
        capture.release()
    return frames / fps


class AttackSuite:
    """Renders the suite's clips into ``cache`` and reads them back.

    Args:
        data: the shared data folder.
        cache: the folder for rendered clips (made if absent; safe to delete).
        engine: finds the face in each source photo or video frame.
        camera: the camera the attacks are shown to.
    """

    def __init__(
        self, data: Path, cache: Path, engine: FaceEngine, camera: Camera | None = None
    ) -> None:
        self.data, self.engine, self.camera = data, engine, camera or Camera()
        self.cache = cache / f"attack-suite-v{SUITE_VERSION}"

    def clips(
        self, part: Part, per_cell: int = 6, kinds: Sequence[str] = ATTACK_TYPES
    ) -> Iterator[AttackClip]:
        """The part's clips, one at a time (rendered on first use); unusable sources skipped."""
        for spec in clip_specs(part, self.data, per_cell, kinds):
            clip = self.clip(spec)
            if clip is not None:
                yield clip

    def clip(self, spec: ClipSpec) -> AttackClip | None:
        """One clip from the cache, rendered first if absent or cached for another spec.

        A clip's file name is its kind, distance and index; another ``per_cell`` deals
        other sources to the same names, so the cached spec is compared, not the name.

        Returns:
            The clip, or ``None`` when the engine finds no face in its source.
        """
        video = self.cache / spec.part / f"{spec.name}.avi"
        meta = video.with_suffix(".json")
        if not meta.is_file() or json.loads(meta.read_text()).get("spec") != _spec_json(spec):
            rendered = render(spec, self.engine, self.camera)
            if rendered is None:
                return None
            _write(video, meta, rendered)
        return _read(video, meta, spec)


def _write(video: Path, meta: Path, clip: AttackClip) -> None:
    video.parent.mkdir(parents=True, exist_ok=True)
    height, width = clip.frames[0].image.shape[:2]
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), clip.fps, (width, height))
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 95)
    try:
        for frame in clip.frames:
            writer.write(cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    faces = [
        {"box": frame.box.as_list(), "landmarks": [list(p) for p in frame.landmarks.points]}
        for frame in clip.frames
    ]
    temporary = meta.with_suffix(".tmp")
    temporary.write_text(
        json.dumps({"spec": _spec_json(clip.spec), "fps": clip.fps, "faces": faces})
    )
    temporary.replace(meta)


def _spec_json(spec: ClipSpec) -> dict[str, object]:
    """``spec`` as stored beside its clip (paths as text)."""
    return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(spec).items()}


def _read(video: Path, meta: Path, spec: ClipSpec) -> AttackClip:
    stored = json.loads(meta.read_text())
    images = read_frames(video, len(stored["faces"]))
    frames = [
        FaceFrame(
            image,
            Box(*face["box"]),
            _landmarks(face["landmarks"]),
        )
        for image, face in zip(images, stored["faces"], strict=True)
    ]
    return AttackClip(spec, float(stored["fps"]), frames)


def render(
    spec: ClipSpec, engine: FaceEngine, camera: Camera, motion: str | None = None
) -> AttackClip | None:
    """Render ``spec``'s frames (no cache); ``None`` if the source face is not found.

    Args:
        spec: the clip.
        engine: finds the source face.
        camera: the camera the attack is shown to.
        motion: the motion instead of the one ``spec``'s kind gives (one of
            :data:`MOTIONS`, or several joined by ``+``, e.g. ``rotate+zoom``).
    """
    rng = np.random.default_rng(spec.seed)
    count = round(CLIP_S * FPS)
    base = Pose(
        tuple(float(a) for a in rng.uniform(-5.0, 5.0, 3)),  # type: ignore[arg-type]
        (float(rng.uniform(-0.05, 0.05)), float(rng.uniform(-0.03, 0.03)), 1.0),
    )
    drawn = spec.kind.removeprefix("print_") if spec.planar else str(rng.choice(MOTIONS[1:]))
    if spec.kind.startswith("replay"):
        drawn = str(rng.choice(MOTIONS))
    poses = trajectory(motion or drawn, count, FPS, rng, base)
    target = DISTANCES[spec.distance]
    if spec.kind.startswith("replay"):
        frames = _replay(spec, engine, camera, _room(spec.background, camera), poses, target, rng)
    else:
        frames = _print(spec, engine, camera, poses, target, rng)
    return None if frames is None else AttackClip(spec, FPS, frames)


def _room(path: Path, camera: Camera, blur_px: float = ROOM_BLUR_PX) -> RgbImage:
    """The room picture cropped to the camera's aspect and size, out of focus.

    ``blur_px`` is the blur's Gaussian sigma, camera pixels.
    """
    image = load_image(path)
    height, width = image.shape[:2]
    scale = max(camera.width / width, camera.height / height)
    size = (max(round(width * scale), camera.width), max(round(height * scale), camera.height))
    resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    top, left = (size[1] - camera.height) // 2, (size[0] - camera.width) // 2
    crop = resized[top : top + camera.height, left : left + camera.width]
    return np.ascontiguousarray(cv2.GaussianBlur(crop, (0, 0), blur_px), dtype=np.uint8)


def _finish(frame: RgbImage, rng: np.random.Generator) -> RgbImage:
    """Sensor noise (Gaussian, 2 grey levels)."""
    noisy = frame.astype(np.float64) + rng.normal(0.0, 2.0, frame.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def _face_on(
    surface: Surface, pose: Pose, camera: Camera, box: Matrix, landmarks: Matrix
) -> tuple[Box, FivePointLandmarks]:
    """The face's box and landmarks in the frame, from their texture pixels."""
    outline = surface_pixels(surface, pose, camera, box)
    points = surface_pixels(surface, pose, camera, landmarks)
    left, top = np.floor(outline.min(axis=0)).astype(int)
    right, bottom = np.ceil(outline.max(axis=0)).astype(int)
    return Box(int(left), int(top), int(right), int(bottom)), _landmarks(points.tolist())


def _landmarks(points: Sequence[Sequence[float]]) -> FivePointLandmarks:
    p = [(float(x), float(y)) for x, y in points]
    return FivePointLandmarks(points=(p[0], p[1], p[2], p[3], p[4]))


def _box_outline(box: Box) -> Matrix:
    """Sixteen points around ``box`` (a bent sheet maps its edges to curves)."""
    t = np.linspace(0.0, 1.0, 5)[:-1]
    left, tp, r, b = box.left, box.top, box.right, box.bottom
    return np.concatenate(
        [
            np.stack([left + (r - left) * t, np.full_like(t, tp)], axis=1),
            np.stack([np.full_like(t, r), tp + (b - tp) * t], axis=1),
            np.stack([r - (r - left) * t, np.full_like(t, b)], axis=1),
            np.stack([np.full_like(t, left), b - (b - tp) * t], axis=1),
        ]
    )


def _print(
    spec: ClipSpec,
    engine: FaceEngine,
    camera: Camera,
    poses: list[Pose],
    target: float,
    rng: np.random.Generator,
) -> list[FaceFrame] | None:
    """The print's frames: ink on paper (:mod:`synthetic_print`), held in the room.

    The look is drawn from its own random stream (the clip's seed and 1), so the sheet's
    motion, bending, blinks and shading are those of suite version 2.
    """
    photo = load_image(spec.source)
    face = engine.primary_face(photo, describe=False)
    if face is None:
        return None
    look = PrintLook.draw(np.random.default_rng([spec.seed, 1]))
    room = _room(spec.background, camera, look.room_sigma_px)
    photo_px_per_camera_px = face.box.width / target
    sheet = make_sheet(
        photo, face.box.width, look, photo_px_per_camera_px, np.random.default_rng([spec.seed, 2])
    )
    box = sheet.place(_box_outline(face.box))
    landmarks = sheet.place(np.asarray(face.landmarks.points, dtype=np.float64))
    scale = target / (face.box.width * sheet.px_per_photo_px * camera.focal_px)
    curvature = float(rng.uniform(2.0, 5.0)) if spec.kind == "print_bent" else 0.0
    alpha, eyes = sheet.alpha, None
    if spec.kind == "print_cutout_eyes":
        holes, eyes = _eye_holes(alpha.shape[:2], landmarks)
        alpha = np.minimum(alpha, holes)
    shape = Surface(sheet.texture, scale, curvature, alpha)
    strips = 16 if curvature else 1
    frames = []
    blinks = _blinks(len(poses), rng)
    drift = [rng.uniform(-0.01, 0.01, 2) for _ in range(2)]
    gains = _shading(poses, rng)
    texture = sheet.texture.astype(np.float32)
    size = (texture.shape[1], texture.shape[0])
    for k, pose in enumerate(poses):
        frame = room.copy()
        if eyes is not None:
            # The attacker's own eyes, 4 % of the distance behind the holes, blinking.
            step = k / max(len(poses) - 1, 1)
            x, y, z = pose.position
            dx, dy = drift[0] + (drift[1] - drift[0]) * step
            behind = Pose(pose.angles_deg, (x + dx, y + dy, z + 0.04))
            eyes_shown = Surface(_closed(sheet.plain, eyes, blinks[k]), scale)
            render_surface(frame, eyes_shown, behind, camera)
        shine = sheen_at(look, size, pose.angles_deg).astype(np.float32)[..., None]
        lit = np.clip(texture * np.float32(gains[k]) + shine, 0, 255).astype(np.uint8)
        sheet_now = Surface(lit, scale, curvature, alpha)
        render_surface(frame, sheet_now, pose, camera, strips, 2, look.focus_sigma_px)
        where, five = _face_on(shape, pose, camera, box, landmarks)
        frames.append(FaceFrame(_finish(frame, rng), where, five))
    return frames


def _shading(poses: list[Pose], rng: np.random.Generator) -> Matrix:
    """Each frame's brightness gain of a matte sheet turning under a room light.

    Lambert's law for one light from a random direction in front and above, plus
    ambient light (35 %), relative to the first pose; clipped to 0.6-1.3.
    """
    light = np.array([rng.uniform(-0.6, 0.6), rng.uniform(-0.9, -0.2), -1.0])
    light /= np.linalg.norm(light)
    normals = np.array([rotation(*pose.angles_deg) @ [0.0, 0.0, -1.0] for pose in poses])
    shade = 0.35 + 0.65 * np.maximum(normals @ light, 0.0)
    return np.asarray(np.clip(shade / shade[0], 0.6, 1.3), dtype=np.float64)


def _eye_holes(
    shape: tuple[int, int], landmarks: Matrix
) -> tuple[npt.NDArray[np.uint8], list[tuple[tuple[int, int], tuple[int, int]]]]:
    """The print's mask with an oval hole at each eye, and the ovals (centre, axes)."""
    alpha = np.full(shape, 255, dtype=np.uint8)
    eyes = []
    for outer, inner in ((0, 1), (2, 3)):
        a, b = landmarks[outer], landmarks[inner]
        span = float(np.hypot(*(b - a)))
        centre = (round((a[0] + b[0]) / 2), round((a[1] + b[1]) / 2))
        axes = (max(round(0.75 * span), 2), max(round(0.4 * span), 2))
        cv2.ellipse(alpha, centre, axes, 0.0, 0.0, 360.0, 0, -1)
        eyes.append((centre, axes))
    return alpha, eyes


def _blinks(count: int, rng: np.random.Generator) -> Matrix:
    """How closed the eyes are on each frame (0 open, 1 shut): a blink every 0.8-2 s."""
    closed = np.zeros(count)
    t = rng.uniform(0.2, 1.0)
    while t * FPS < count:
        centre = t * FPS
        frames = np.arange(count)
        closed = np.maximum(closed, np.clip(1.0 - np.abs(frames - centre) / (0.1 * FPS), 0.0, 1.0))
        t += rng.uniform(0.8, 2.0)
    return closed


def _closed(
    photo: RgbImage, eyes: list[tuple[tuple[int, int], tuple[int, int]]], amount: float
) -> RgbImage:
    """``photo`` with the eyelids drawn down over ``amount`` of each eye (skin colour)."""
    if amount <= 0.0:
        return photo
    shut = photo.copy()
    for (cx, cy), (ax, ay) in eyes:
        below = photo[min(cy + 2 * ay, photo.shape[0] - 1), max(cx - ax, 0) : cx + ax]
        skin = tuple(float(v) for v in np.median(below.reshape(-1, 3), axis=0))
        lid = np.zeros(photo.shape[:2], dtype=np.uint8)
        cv2.ellipse(lid, (cx, cy), (ax, ay), 0.0, 0.0, 360.0, 255, -1)
        lid[cy - ay + round(2 * ay * amount) :, :] = 0
        shut[lid > 0] = skin
    return shut


def _replay(
    spec: ClipSpec,
    engine: FaceEngine,
    camera: Camera,
    room: RgbImage,
    poses: list[Pose],
    target: float,
    rng: np.random.Generator,
) -> list[FaceFrame] | None:
    fps = FPS
    start = round(spec.start_s * fps)
    shown = read_frames(spec.source, len(poses), start=start)
    faces = [engine.primary_face(image, describe=False) for image in shown]
    if faces[0] is None:
        return None
    look = ScreenLook.draw(spec.kind.removeprefix("replay_"), rng)
    height, width = shown[0].shape[:2]
    screen = layout((width, height), faces[0].box.width, target, look)
    scale = target / (faces[0].box.width * screen.native * camera.focal_px)
    frames, last = [], faces[0]
    for image, face, pose in zip(shown, faces, poses, strict=False):
        last = face or last
        surface = screen_surface(image, look, screen, scale)
        frame = room.copy()
        render_screen(frame, surface, screen, pose, camera)
        box = screen.place(_box_outline(last.box))
        points = screen.place(np.asarray(last.landmarks.points, dtype=np.float64))
        where, five = _face_on(surface, pose, camera, box, points)
        frames.append(FaceFrame(_finish(frame, rng), where, five))
    return frames
