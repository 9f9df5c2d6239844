"""Perception: camera frames to tracked faces with evidence (one per camera or door).

One :meth:`Perception.observe` call per frame. Only the primary face (the largest near
the centre) counts; a second face at least half its size is ``multiple_faces`` (no
tailgating on one decision). A track is described (one embedding) when it is new and
again only when its face quality clearly improves, or before a decision made for it is
reused for a face that may have changed places (the track was not seen in the previous
frame, or more than ``continuity_s`` of source time passed since). With a liveness check,
evidence waits until a check of the track's frames shows life
(:class:`facegate.domain.liveness.LivenessSchedule`, in seconds of the frames' own
times: a presentation with no live check by the schedule's ``max_s`` is refused, and
the next frames are a new presentation). Identity and liveness run side by side: the
track is described on its first good frame while the check still watches, and the frame
with the first live verdict decides with that descriptor, good frame or not (a face that
never passed the quality gate is ``low_quality`` after ``decide_after_s``).

Perception decides nothing: it says what it saw in an :class:`Observation`, and the
door's :class:`facegate.gate.controller.DoorController` decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from facegate.domain.faces import primary_face_index
from facegate.domain.liveness import FaceFrame, LivenessSchedule
from facegate.domain.matching import FloatArray
from facegate.domain.policy import FaceEvidence
from facegate.domain.reasons import Reason
from facegate.gate.tracker import IouTracker, Track
from facegate.ports import Frame, FramePreparer, LivenessCheck
from facegate.timing import span
from facegate.vision.detection import Detection
from facegate.vision.engine import Face
from facegate.vision.images import RgbImage

LivenessState = Literal["live", "pending", "refused"]

IMPROVEMENT = 1.2
"""A face is described again when its quality score beats the best one by 20 %."""


class Detector(Protocol):
    """Finds faces in a frame."""

    def detect(self, image: RgbImage) -> list[Detection]:
        """The faces found in ``image``."""
        ...


class Embedder(Protocol):
    """Describes aligned face chips."""

    def embed(self, chips: Sequence[RgbImage]) -> FloatArray:
        """One descriptor per chip (rows)."""
        ...


class FaceWork(Protocol):
    """The face engine as perception uses it (:class:`facegate.vision.engine.FaceEngine`)."""

    @property
    def detector(self) -> Detector:
        """The face detector."""
        ...

    @property
    def embedder(self) -> Embedder:
        """The descriptor model."""
        ...

    def measure(
        self, image: RgbImage, detections: Sequence[Detection], describe: bool = False
    ) -> list[Face]:
        """Landmarks, chip, quality (and descriptors) of faces already detected."""
        ...


@dataclass(frozen=True, slots=True)
class PerceptionOptions:
    """Tunables of perception.

    Attributes:
        liveness_schedule: when the liveness check looks at a track's frames.
        decide_after_s: source time from a track's first frame after which a face
            that never passed the quality gate is refused as ``low_quality`` (seconds,
            on the frames' own times: the same wait at 4 and at 25 frames/s).
        continuity_s: most source time between two sightings of a track for the face to
            count as the same without describing it again (seconds; 0: every frame may be
            someone else, as with a kiosk's separate photos).
    """

    liveness_schedule: LivenessSchedule
    decide_after_s: float
    continuity_s: float = 0.2


@dataclass(frozen=True, slots=True)
class Observation:
    """What perception made of the primary face in one frame.

    At most one of ``evidence``, ``refusal`` and ``reused`` is set; none means nothing to
    decide on this frame (the liveness check still watches, or the quality is poor).

    Attributes:
        track: the primary face's track.
        frame: the frame.
        evidence: evidence for the policy (a descriptor, or a liveness refusal).
        refusal: a deny that needs no policy (``multiple_faces``, ``low_quality``).
        reused: the track's earlier decision holds for this face (same person).
        held: the track was decided but this face could not be checked to be the same
            person; its decision is neither reused nor replaced.
    """

    track: Track
    frame: Frame
    evidence: FaceEvidence | None = None
    refusal: Reason | None = None
    reused: bool = False
    held: bool = False


class Perception:
    """Frames to tracked faces with evidence, for one camera.

    Args:
        engine: the face engine (detector, aligner, embedder, quality gate).
        liveness: the liveness check, ``None`` for none.
        options: tunables.
    """

    def __init__(
        self, engine: FaceWork, liveness: LivenessCheck | None, options: PerceptionOptions
    ) -> None:
        self.engine, self.liveness, self.options = engine, liveness, options
        schedule = options.liveness_schedule
        self.tracker = IouTracker(window=schedule.kept_frames, recent_s=schedule.window_s)
        self.embeddings = 0
        self._primary: tuple[int, Detection] | None = None
        """The last observed frame's index and its primary face (for :meth:`describe`)."""

    def observe(self, frame: Frame, threshold: float) -> Observation | None:
        """Look at one frame; ``None`` when it holds no face.

        Args:
            frame: the frame.
            threshold: the match threshold (euclidean) under which two descriptors are
                the same person (for reusing a decision).
        """
        with span("detect"):
            detections = self.engine.detector.detect(frame.image)
        boxes = [d.box for d in detections]
        with span("track"):
            tracks = self.tracker.update(boxes, frame.index, frame.timestamp_s)
        height, width = frame.image.shape[:2]
        primary = primary_face_index(boxes, width, height)
        self._primary = None if primary is None else (frame.index, detections[primary])
        if primary is None:
            return None
        track = tracks[primary]
        if track.decision is not None:
            reuse = self._reuse(track, frame, detections[primary], threshold)
            if reuse is not None:
                return reuse
        big = [b for b in boxes if b.area * 2 >= boxes[primary].area]
        if len(big) > 1:
            return Observation(track, frame, refusal=Reason.MULTIPLE_FACES)
        face = self.engine.measure(frame.image, [detections[primary]])[0]
        seen = FaceFrame(frame.image, face.box, face.landmarks, frame.sensor)
        track.frames.add(frame.timestamp_s, seen)
        return self._evidence(track, face, frame)

    def describe(self, seen: Observation) -> FloatArray | None:
        """A descriptor of the primary face of ``seen``'s frame, computed now.

        Whatever the track's own descriptor (its best frame's, perhaps an earlier one's):
        this frame's face itself, good quality or not (one embedding). ``None`` when
        ``seen`` is not the frame :meth:`observe` looked at last, or it held no face.
        """
        if self._primary is None or self._primary[0] != seen.frame.index:
            return None
        face = self.engine.measure(seen.frame.image, [self._primary[1]], describe=True)[0]
        self.embeddings += 1
        return face.descriptor

    def observe_all(self, frame: Frame, threshold: float) -> list[Observation]:
        """Look at one frame with several people in view (the lane profile).

        Every face is its own track and gets its own evidence, as the primary face does in
        :meth:`observe`: there is no ``multiple_faces`` refusal (a lane camera sees a
        queue; each person is paired with their own decision at the gate line).

        Args:
            frame: the frame.
            threshold: as in :meth:`observe`.

        Returns:
            One observation per face in view, in the detector's order.
        """
        with span("detect"):
            detections = self.engine.detector.detect(frame.image)
        with span("track"):
            tracks = self.tracker.update(
                [d.box for d in detections], frame.index, frame.timestamp_s
            )
        if not detections:
            return []
        faces = self.engine.measure(frame.image, detections)
        seen: list[Observation] = []
        for track, detection, face in zip(tracks, detections, faces, strict=True):
            if track.decision is not None:
                reuse = self._reuse(track, frame, detection, threshold)
                if reuse is not None:
                    seen.append(reuse)
                    continue
            track.frames.add(frame.timestamp_s, FaceFrame(frame.image, face.box, face.landmarks))
            seen.append(self._evidence(track, face, frame))
        return seen

    def _reuse(
        self, track: Track, frame: Frame, detection: Detection, threshold: float
    ) -> Observation | None:
        """Whether a decided track's decision holds for the face now in it.

        A face followed without a break keeps its track's decision (a grant is not made
        again: one unlock per presence). After a break, the tracker (which follows boxes
        by position only) may have put a stranger who stepped into the spot a resident
        just left in the resident's track: the face is described again and compared with
        the track's descriptor at the match threshold.

        Returns:
            An observation that ends this frame's work, or ``None`` to go on (a refusal
            may still turn into a grant with a better frame; someone else starts anew).
        """
        granted = track.decision is not None and track.decision.granted
        if self._continuous(track):
            return Observation(track, frame, reused=True) if granted else None
        same = self._same_person(track, frame, detection, threshold)
        if same is False:
            restart(track, frame)
            return None
        if granted:
            return Observation(track, frame, reused=same is True, held=same is None)
        return None

    def _continuous(self, track: Track) -> bool:
        gap_s = track.last_time_s - track.previous_time_s
        return (
            track.previous_index >= 0
            and track.last_index - track.previous_index == 1
            and 0.0 <= gap_s <= self.options.continuity_s
        )

    def _same_person(
        self, track: Track, frame: Frame, detection: Detection, threshold: float
    ) -> bool | None:
        """``True``/``False``, or ``None`` when the face cannot be described well enough."""
        face = self.engine.measure(frame.image, [detection], describe=True)[0]
        self.embeddings += 1
        if track.descriptor is None or face.descriptor is None or not face.verdict.passed:
            return None
        distance = float(np.linalg.norm(face.descriptor - track.descriptor))
        return distance <= threshold

    def _evidence(self, track: Track, face: Face, frame: Frame) -> Observation:
        liveness = self._liveness_state(track)
        if liveness == "refused":
            return Observation(track, frame, FaceEvidence(refusal=Reason.SPOOF_SUSPECTED))
        if not face.verdict.passed:
            if liveness == "live" and track.descriptor is not None and track.decision is None:
                # Identity is known from an earlier frame of this track that passed the
                # quality gate (as a good frame that is no better would use it): the live
                # verdict decides now, not at the next good frame.
                return Observation(track, frame, FaceEvidence(descriptor=track.descriptor))
            # While the liveness check still watches, a poor frame is no reason to decide.
            waited_s = frame.timestamp_s - track.first_time_s
            late = waited_s >= self.options.decide_after_s and track.decision is None
            if late and liveness == "live":
                return Observation(track, frame, refusal=Reason.LOW_QUALITY)
            return Observation(track, frame)
        if track.usable_time_s is None:
            track.usable_time_s = frame.timestamp_s
        # Describe again only for a clearly better face: wider and sharper by 20 %.
        score = face.quality.face_width_px * min(face.quality.sharpness, 200.0)
        improved = track.descriptor is None or score > track.best_quality * IMPROVEMENT
        if improved:
            with span("embed"):
                track.descriptor = self.engine.embedder.embed([face.chip])[0]
            track.best_quality = score
            self.embeddings += 1
        if liveness == "pending" or (track.decision is not None and not improved):
            return Observation(track, frame)
        return Observation(track, frame, FaceEvidence(descriptor=track.descriptor))

    def _liveness_state(self, track: Track) -> LivenessState:
        """``live``, ``pending`` (no live check yet) or ``refused`` (presentation over).

        Runs the check when the schedule says one is due on the frame just added to
        ``track.frames``. When the face turns out live, an earlier decision (a
        ``spoof_suspected`` deny) is dropped so that the next good frame decides.
        """
        if self.liveness is None or track.live:
            return "live"
        schedule, seen = self.options.liveness_schedule, track.frames
        if not schedule.due(seen):
            if isinstance(self.liveness, FramePreparer):
                with span("liveness"):
                    self.liveness.prepare(schedule.window(seen))
            return "pending"
        with span("liveness"):
            live = self.liveness.check(schedule.window(seen)).live
        seen.checked()
        if live:
            track.live, track.decision = True, None
            return "live"
        if not schedule.over(seen):
            return "pending"
        seen.clear()
        return "refused"


def restart(track: Track, frame: Frame) -> None:
    """Treat the face in ``track`` as a new arrival from ``frame`` on (nothing carried over)."""
    track.decision = None
    track.descriptor = None
    track.best_quality = float("-inf")
    track.reported.clear()
    track.frames.clear()
    track.live = False
    track.usable_time_s = None
    track.first_index = frame.index
    track.first_time_s = frame.timestamp_s
