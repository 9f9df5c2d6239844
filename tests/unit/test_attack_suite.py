"""The attack suite: seeded motion, disjoint parts, reproducible rendering, caching."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facegate.domain.faces import Box, FivePointLandmarks
from facegate.vision.liveness.attack_suite import (
    ATTACK_TYPES,
    PLANAR_TYPES,
    AttackClip,
    AttackSuite,
    ClipSpec,
    clip_specs,
    render,
    split,
)
from facegate.vision.liveness.synthetic import MOTIONS, Camera, Pose, trajectory

BASE = Pose((0.0, 0.0, 0.0), (0.0, 0.0, 1.0))


class FixedFace:
    """A stand-in for the engine: the same face in every image."""

    box = Box(40, 40, 120, 120)
    landmarks = FivePointLandmarks(
        points=((105.0, 70.0), (90.0, 70.0), (58.0, 70.0), (73.0, 70.0), (80.0, 100.0))
    )


class FixedEngine:
    def primary_face(self, image: np.ndarray, describe: bool = True) -> FixedFace:
        return FixedFace()


@pytest.mark.parametrize("motion", MOTIONS)
def test_each_motion_stays_within_its_limits(motion: str) -> None:
    poses = trajectory(motion, 75, 25.0, np.random.default_rng(5), BASE)
    angles = np.array([p.angles_deg for p in poses])
    zoom = 1.0 / np.array([p.position[2] for p in poses])
    assert np.abs(angles).max() <= 30.0 + 3.0 * 1.35  # the stops, plus a tremor at most
    assert zoom.min() >= 0.7 - 1e-9
    assert zoom.max() <= 1.4 + 1e-9
    if motion == "still":
        assert np.ptp(angles, axis=0).max() < 1.0
    if motion == "rotate":
        assert np.ptp(angles[:, 2]) > 1.0


def test_unknown_motion_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown motion"):
        trajectory("wobble", 10, 25.0, np.random.default_rng(0), BASE)


def test_the_parts_share_no_person_clip_or_seed(shared_data: Path) -> None:
    calibration, reporting = split("calibration", shared_data), split("reporting", shared_data)
    people = [{p.parent.name for p in part.photos} for part in (calibration, reporting)]
    assert people[0]
    assert people[1]
    assert not people[0] & people[1]
    assert not set(calibration.videos) & set(reporting.videos)
    assert not set(calibration.backgrounds) & set(reporting.backgrounds)
    specs = [clip_specs(part, shared_data, per_cell=2) for part in ("calibration", "reporting")]
    assert not {s.seed for s in specs[0]} & {s.seed for s in specs[1]}
    assert {s.kind for s in specs[1]} == set(ATTACK_TYPES)
    assert clip_specs("reporting", shared_data, per_cell=2) == specs[1]  # deterministic


def test_unknown_part_or_type_is_refused(shared_data: Path) -> None:
    with pytest.raises(ValueError, match="part"):
        split("training", shared_data)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="attack types"):
        clip_specs("reporting", shared_data, kinds=["print_flying"])


def photo_spec(tmp_path: Path, kind: str, seed: int) -> ClipSpec:
    rng = np.random.default_rng(0)
    photo = cv2.resize(rng.uniform(0, 255, (40, 40, 3)), (160, 160)).astype(np.uint8)
    room = np.full((120, 160, 3), 90, dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "photo.png"), photo)
    cv2.imwrite(str(tmp_path / "room.png"), room)
    return ClipSpec(
        "reporting", kind, "far", 0, tmp_path / "photo.png", 0.0, tmp_path / "room.png", seed
    )


@pytest.mark.parametrize("kind", [PLANAR_TYPES[-1], "print_bent", "print_cutout_eyes"])
def test_rendering_is_reproducible_and_follows_the_face(tmp_path: Path, kind: str) -> None:
    camera = Camera(160, 120, 160.0)
    spec = photo_spec(tmp_path, kind, 7)
    first = render(spec, FixedEngine(), camera)  # type: ignore[arg-type]
    again = render(spec, FixedEngine(), camera)  # type: ignore[arg-type]
    other = render(photo_spec(tmp_path, kind, 8), FixedEngine(), camera)  # type: ignore[arg-type]
    assert first is not None
    assert again is not None
    assert other is not None
    assert len(first.frames) == 75
    for a, b in zip(first.frames, again.frames, strict=True):
        assert np.array_equal(a.image, b.image)
        assert a.box == b.box
    assert not np.array_equal(first.frames[40].image, other.frames[40].image)
    # The face's box is where the print is: it differs from the plain room there.
    frame = first.frames[30]
    box = frame.box
    centre = frame.image[
        box.top + box.height // 3 : box.bottom - box.height // 3,
        box.left + box.width // 3 : box.right - box.width // 3,
    ]
    assert centre.size
    assert float(np.abs(centre.astype(float) - 90.0).mean()) > 10.0


def test_clips_are_cached_and_read_back(tmp_path: Path) -> None:
    spec = photo_spec(tmp_path, "print_rotate", 3)
    suite = AttackSuite(tmp_path, tmp_path / "cache", FixedEngine(), Camera(160, 120, 160.0))  # type: ignore[arg-type]
    clip = suite.clip(spec)
    assert clip is not None
    cached = sorted(p.name for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert cached == [f"{spec.name}.avi", f"{spec.name}.json"]
    again = suite.clip(spec)
    assert again is not None
    assert [f.box for f in again.frames] == [f.box for f in clip.frames]
    difference = np.abs(again.frames[10].image.astype(float) - clip.frames[10].image)
    assert difference.mean() < 4.0  # JPEG, as a camera's stream


def test_a_cached_clip_of_another_spec_under_the_same_name_is_rendered_again(
    tmp_path: Path,
) -> None:
    spec = photo_spec(tmp_path, "print_still", 3)
    suite = AttackSuite(tmp_path, tmp_path / "cache", FixedEngine(), Camera(160, 120, 160.0))  # type: ignore[arg-type]
    first = suite.clip(spec)
    other_photo = tmp_path / "other.png"
    cv2.imwrite(str(other_photo), np.full((160, 160, 3), 30, dtype=np.uint8))
    moved = ClipSpec(
        spec.part,
        spec.kind,
        spec.distance,
        spec.index,
        other_photo,
        0.0,
        spec.background,
        spec.seed,
    )
    assert moved.name == spec.name  # another per_cell deals another photo to this name
    again = suite.clip(moved)
    assert first is not None
    assert again is not None

    def centre(clip: AttackClip) -> float:
        box = clip.frames[5].box
        inner = clip.frames[5].image[box.top + 10 : box.bottom - 10, box.left + 10 : box.right - 10]
        return float(inner.mean())

    assert centre(again) < centre(first) - 20.0  # the dark photo, not the cached random one
