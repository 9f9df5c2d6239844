from __future__ import annotations

from facegate.domain.faces import Box
from facegate.gate.tracker import IouTracker


def test_a_moving_face_stays_one_track() -> None:
    tracker = IouTracker()
    ids = {
        tracker.update([Box(100 + 5 * i, 100, 200 + 5 * i, 200)], i, i / 25)[0].id
        for i in range(20)
    }
    assert len(ids) == 1


def test_two_faces_are_two_tracks_and_a_jump_is_a_new_track() -> None:
    tracker = IouTracker()
    a, b = tracker.update([Box(0, 0, 100, 100), Box(300, 0, 400, 100)], 0, 0.0)
    assert a.id != b.id
    (c,) = tracker.update([Box(600, 300, 700, 400)], 1, 0.04)
    assert c.id not in {a.id, b.id}
    assert c.first_index == 1


def test_a_track_ends_after_max_missing_frames() -> None:
    tracker = IouTracker(max_missing=3)
    (first,) = tracker.update([Box(0, 0, 100, 100)], 0, 0.0)
    tracker.update([], 2, 0.08)
    assert tracker.update([Box(0, 0, 100, 100)], 3, 0.12)[0].id == first.id
    tracker.update([], 7, 0.28)
    assert tracker.update([Box(0, 0, 100, 100)], 8, 0.32)[0].id != first.id
