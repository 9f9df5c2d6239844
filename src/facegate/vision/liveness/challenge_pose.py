"""Challenge mode's per-frame measures from FaceMesh: head pose, eyes, mouth."""

from __future__ import annotations

from facegate.domain.challenge import PoseSample
from facegate.domain.liveness import FaceFrame
from facegate.vision.liveness.face_mesh import (
    PRESENCE_LOGIT_MIN,
    FaceMeshModel,
    eye_openness,
    head_pose,
    mouth_openness,
)


def pose_sample(
    mesh: FaceMeshModel, frame: FaceFrame, time_s: float, track_id: int
) -> PoseSample | None:
    """The :class:`PoseSample` of the face in ``frame``; ``None`` when FaceMesh sees none."""
    found = mesh.mesh(frame.image, frame.box, frame.landmarks)
    if found.presence_logit < PRESENCE_LOGIT_MIN:
        return None
    yaw, pitch = head_pose(found)
    eyes = min(eye_openness(found))
    return PoseSample(time_s, track_id, yaw, pitch, eyes, mouth_openness(found))
