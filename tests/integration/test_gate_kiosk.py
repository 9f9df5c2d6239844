"""A kiosk's frames through the server's gate pipeline (``POST /doors/{id}/frames``)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from fastapi.testclient import TestClient

from facegate.app import create_app
from facegate.bootstrap_server import build_server
from facegate.config import GateSettings, ServerSettings, Settings
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.site import CredentialMode, DoorLiveness
from facegate.ports import Frame
from facegate.services import accounts, credentials, places
from facegate.vision.engine import FaceEngine
from gate_support import ALL_WEEK, ann_frames, gate_engine, make_site, stranger_frames

__all__ = ["ann_frames", "gate_engine", "stranger_frames"]


def jpeg(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(image[:, :, ::-1]))
    assert ok
    return data.tobytes()


def kiosk_site(
    tmp_path: Path,
    engine: FaceEngine,
    shared_data: Path,
    cache_dir: Path,
    liveness: Literal["none", "motion"] = "none",
    frames_per_s: float | None = None,
) -> tuple[Any, str, TestClient, dict[str, str]]:
    """A site whose resident may pass its door, a server client, and the kiosk's key header.

    ``liveness`` is ``none`` unless asked: the other tests post single photos, which the
    multi-frame check rightly refuses. ``frames_per_s``, when given, replaces the doors'
    monotonic clock with one that advances by one frame period per reading (one reading
    per posted frame), so the seconds schedule sees the camera's rate, not the machine's load.
    """
    settings = Settings(
        data_dir=tmp_path / "site",
        cache_dir=cache_dir,
        server=ServerSettings(environment="development"),
        gate=GateSettings(liveness=liveness),
    )
    site = make_site(settings, engine, shared_data, tmp_path)
    door = site.door()
    places.add_access_rule(site.context, [ALL_WEEK], person_id=site.ann, door_ids=[door])
    secret = accounts.issue_device_key(site.context, door, "kiosk").secret
    deps = build_server(settings)
    if frames_per_s is not None:
        readings = itertools.count()
        deps.decider.monotonic = lambda: next(readings) / frames_per_s
    client = TestClient(create_app(deps), base_url="https://testserver")
    return site, door, client, {"X-Device-Key": secret}


def test_kiosk_frames_are_decided_recorded_and_open_the_door(
    tmp_path: Path,
    gate_engine: FaceEngine,
    shared_data: Path,
    session_cache_dir: Path,
    ann_frames: list[Frame],
    stranger_frames: list[Frame],
) -> None:
    site, door, client, headers = kiosk_site(tmp_path, gate_engine, shared_data, session_cache_dir)

    def post(image: np.ndarray) -> dict[str, object]:
        files = {"file": ("frame.jpg", jpeg(image), "image/jpeg")}
        answer = client.post(f"/api/v1/doors/{door}/frames", files=files, headers=headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, object] = answer.json()
        return body

    assert post(np.zeros((300, 400, 3), np.uint8))["reason"] == "no_face"
    assert post(ann_frames[0].image)["reason"] == "granted"
    assert post(stranger_frames[0].image)["reason"] == "unknown_face"
    stored = sorted((e.granted, e.reason.value) for e in site.events())
    assert stored == [(False, "unknown_face"), (True, "granted")]
    site.store.close()


def test_with_the_motion_check_frames_are_pending_until_a_window_shows_life(
    tmp_path: Path,
    gate_engine: FaceEngine,
    shared_data: Path,
    session_cache_dir: Path,
    ann_frames: list[Frame],
) -> None:
    site, door, client, headers = kiosk_site(
        tmp_path, gate_engine, shared_data, session_cache_dir, liveness="motion", frames_per_s=25.0
    )
    # The passive check, not the kiosk's default challenge.
    places.set_door_liveness(site.context, door, DoorLiveness.PASSIVE)
    answers = []
    for frame in ann_frames:
        files = {"file": ("frame.jpg", jpeg(frame.image), "image/jpeg")}
        answer = client.post(f"/api/v1/doors/{door}/frames", files=files, headers=headers)
        assert answer.status_code == 200, answer.text
        answers.append(answer.json())
    first = next(i for i, a in enumerate(answers) if not a["pending"])
    assert first >= LivenessSchedule().min_frames - 1
    assert all(a["reason"] == "spoof_suspected" and not a["granted"] for a in answers[:first])
    assert (answers[first]["granted"], answers[first]["reason"]) == (True, "granted")
    assert [(e.granted, e.reason.value) for e in site.events()] == [(True, "granted")]
    site.store.close()


def test_a_kiosk_door_left_at_default_asks_for_the_challenge_when_liveness_is_on(
    tmp_path: Path,
    gate_engine: FaceEngine,
    shared_data: Path,
    session_cache_dir: Path,
    ann_frames: list[Frame],
) -> None:
    site, door, client, headers = kiosk_site(
        tmp_path, gate_engine, shared_data, session_cache_dir, liveness="motion"
    )
    files = {"file": ("frame.jpg", jpeg(ann_frames[0].image), "image/jpeg")}
    body = client.post(f"/api/v1/doors/{door}/frames", files=files, headers=headers).json()
    assert (body["granted"], body["reason"], body["pending"]) == (False, "spoof_suspected", True)
    challenge = body["challenge"]
    assert challenge["status"] == "pending"
    assert len(challenge["prompts"]) == 4
    assert challenge["prompt"] == challenge["prompts"][0]
    assert challenge["step"] == 0
    assert 0.0 < challenge["remaining_s"] <= challenge["response_s"] == 3.0
    assert site.events() == []  # nothing decided yet
    site.store.close()


def face_swapped_in(engine: FaceEngine, host: np.ndarray, donor: np.ndarray) -> np.ndarray:
    """``host`` with ``donor``'s face pasted over the host's face, same place and size."""
    (host_box,) = [d.box for d in engine.detector.detect(host)][:1]
    (donor_box,) = [d.box for d in engine.detector.detect(donor)][:1]
    margin = donor_box.width // 3
    top, left = max(donor_box.top - margin, 0), max(donor_box.left - margin, 0)
    crop = donor[top : donor_box.bottom + margin, left : donor_box.right + margin]
    grow = host_box.width / donor_box.width
    size = (round(crop.shape[1] * grow), round(crop.shape[0] * grow))
    patch = cv2.resize(np.ascontiguousarray(crop), size)
    y0 = max(host_box.top - round((donor_box.top - top) * grow), 0)
    x0 = max(host_box.left - round((donor_box.left - left) * grow), 0)
    swapped = host.copy()
    h = min(patch.shape[0], swapped.shape[0] - y0)
    w = min(patch.shape[1], swapped.shape[1] - x0)
    swapped[y0 : y0 + h, x0 : x0 + w] = patch[:h, :w]
    return swapped


def test_a_stranger_in_the_residents_place_does_not_inherit_the_grant(
    tmp_path: Path,
    gate_engine: FaceEngine,
    shared_data: Path,
    session_cache_dir: Path,
    ann_frames: list[Frame],
    stranger_frames: list[Frame],
) -> None:
    site, door, client, headers = kiosk_site(tmp_path, gate_engine, shared_data, session_cache_dir)
    resident = ann_frames[0].image
    stranger = face_swapped_in(gate_engine, resident, stranger_frames[0].image)

    def reason(image: np.ndarray) -> object:
        files = {"file": ("frame.jpg", jpeg(image), "image/jpeg")}
        answer = client.post(f"/api/v1/doors/{door}/frames", files=files, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()["reason"]

    assert reason(resident) == "granted"
    assert reason(stranger) != "granted"
    assert reason(resident) == "granted"
    site.store.close()


def test_a_face_and_card_door_checks_the_face_against_the_card_posted_with_the_frames(
    tmp_path: Path,
    gate_engine: FaceEngine,
    shared_data: Path,
    session_cache_dir: Path,
    ann_frames: list[Frame],
    stranger_frames: list[Frame],
) -> None:
    site, _, client, _ = kiosk_site(tmp_path, gate_engine, shared_data, session_cache_dir)
    door = site.door(CredentialMode.ALL_OF)
    places.add_access_rule(site.context, [ALL_WEEK], person_id=site.ann, door_ids=[door])
    headers = {"X-Device-Key": accounts.issue_device_key(site.context, door, "kiosk").secret}
    credentials.add_card(site.context, site.ann, "ANN-1")

    def answer(image: np.ndarray, card: str | None) -> tuple[object, object]:
        files = {"file": ("frame.jpg", jpeg(image), "image/jpeg")}
        form = {} if card is None else {"card": card}
        posted = client.post(
            f"/api/v1/doors/{door}/frames", files=files, data=form, headers=headers
        )
        assert posted.status_code == 200, posted.text
        return posted.json()["granted"], posted.json()["reason"]

    assert answer(ann_frames[0].image, None) == (False, "unknown_credential")  # no card
    assert answer(stranger_frames[0].image, "ANN-1") == (False, "unknown_face")  # 1:1 refused
    assert answer(ann_frames[1].image, "NOT-A-CARD") == (False, "unknown_credential")
    assert answer(ann_frames[2].image, "ANN-1") == (True, "granted")
    # The card typed at the kiosk (the fallback form) waits for the face too.
    typed = {"kind": "card", "value": "ANN-1"}
    shown = client.post(f"/api/v1/doors/{door}/credentials", json=typed, headers=headers)
    assert (shown.json()["granted"], shown.json()["reason"]) == (False, "no_face")
    client.post(f"/api/v1/doors/{door}/frames", files=gap_frame(), headers=headers)
    assert answer(ann_frames[3].image, None) == (True, "granted")
    site.store.close()


def gap_frame() -> dict[str, tuple[str, bytes, str]]:
    """An empty frame: the person left."""
    return {"file": ("frame.jpg", jpeg(np.zeros((300, 400, 3), np.uint8)), "image/jpeg")}
