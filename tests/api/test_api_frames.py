"""Kiosk frames off the event loop: a bounded pool, 503 with Retry-After when it is full."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np

from api_site import Site, kiosk_pipeline, served
from facegate.app import create_app
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.ports import FrameDecision
from facegate.services import accounts, places
from facegate.services.gate_health import BOARD, silent_gates
from facegate.services.workers import WorkerPool
from support import Hold

_JPEG = cv2.imencode(".jpg", np.zeros((48, 64, 3), np.uint8))[1].tobytes()
FRAME = {"file": ("frame.jpg", _JPEG, "image/jpeg")}


class SlowDecider:
    """A decider that holds each frame until released (face work that takes long).

    ``hold`` counts the frames held right now and those the hang guard freed.
    """

    def __init__(self, guard_s: float = 30.0) -> None:
        self.hold = Hold(guard_s)

    def decide_frame(self, door_id: str, image: bytes, card: str | None = None) -> FrameDecision:
        self.hold()
        return FrameDecision(False, "unknown_face", datetime.now(UTC))

    def decide_credential(self, door_id: str, kind: str, value: str) -> FrameDecision:
        return FrameDecision(False, "unknown_credential", datetime.now(UTC))


def kiosk(site: Site) -> tuple[str, dict[str, str]]:
    door = places.add_door(
        site.context, "North", DoorKind.ENTRANCE, CredentialMode.ANY_OF, [CredentialKind.CARD]
    ).id
    return door, {"X-Device-Key": accounts.issue_device_key(site.context, door, "k").secret}


def test_a_saturated_server_answers_503_at_once_and_the_console_still_answers(
    site: Site,
) -> None:
    doors = [kiosk(site) for _ in range(3)]  # a door's frames are decided one at a time
    decider = SlowDecider()
    site.deps.decider = decider
    site.deps.frame_pool = WorkerPool(2, retry_after_s=2.0)
    path, headers = f"/api/v1/doors/{doors[2][0]}/frames", doors[2][1]
    with served(create_app(site.deps)) as url, httpx.Client(base_url=url, timeout=60.0) as client:
        with ThreadPoolExecutor(2) as posters:
            busy = [
                posters.submit(
                    client.post, f"/api/v1/doors/{door}/frames", files=FRAME, headers=key
                )
                for door, key in doors[:2]
            ]
            try:
                deadline = time.monotonic() + 10.0  # a hang guard, not a speed claim
                while decider.hold.held < 2 and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert decider.hold.held == 2, "frames are not decided side by side"
                # Both workers are held on the Event; an answer queued behind them could only
                # come once a hold ended (the guard), so each must come while both still hold.
                health = client.get("/api/v1/health")
                blocked_at_health = decider.hold.held
                refused = client.post(path, files=FRAME, headers=headers)
                blocked_at_refusal = decider.hold.held
            finally:
                decider.hold.release.set()
            answers = [f.result(60.0) for f in busy]
        again = client.post(path, files=FRAME, headers=headers)
        metrics = client.get("/api/v1/metrics").text
    assert health.status_code == 200
    assert blocked_at_health == 2, "/health waited for the busy workers"
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "2"
    assert refused.json()["error"] == "service_busy"
    assert blocked_at_refusal == 2, "the refusal waited for the busy workers"
    assert decider.hold.timed_out == 0, "a frame was held until the hang guard"
    assert [a.status_code for a in answers] == [200, 200]
    assert again.status_code == 200  # freed workers take frames again
    assert "facegate_frames_refused_total 1\n" in metrics
    assert "facegate_frames_decided_total 3\n" in metrics
    assert "facegate_frame_decision_seconds_count 3\n" in metrics


def test_one_doors_frames_take_one_worker_and_the_other_doors_are_still_answered(
    site: Site,
) -> None:
    """A door decides its frames one at a time: a second frame of a door whose frame is
    being decided is refused at once, instead of taking a worker to wait there."""
    (north, north_key), (south, south_key) = kiosk(site), kiosk(site)
    decider = SlowDecider(guard_s=10.0)
    site.deps.decider = decider
    site.deps.frame_pool = WorkerPool(2, retry_after_s=2.0)

    def wait_until(check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 10.0  # a hang guard, not a speed claim
        while not check() and time.monotonic() < deadline:
            time.sleep(0.01)

    with served(create_app(site.deps)) as url, httpx.Client(base_url=url, timeout=60.0) as client:

        def post(door: str, key: dict[str, str]) -> httpx.Response:
            return client.post(f"/api/v1/doors/{door}/frames", files=FRAME, headers=key)

        with ThreadPoolExecutor(3) as posters:
            first = posters.submit(post, north, north_key)
            try:
                wait_until(lambda: decider.hold.held == 1)
                again = posters.submit(post, north, north_key)  # a kiosk posting in parallel
                wait_until(lambda: again.done() or decider.hold.held == 2)
                other = posters.submit(post, south, south_key)
                wait_until(lambda: other.done() or (again.done() and decider.hold.held == 2))
                held_at_south = decider.hold.held
            finally:
                decider.hold.release.set()
            answers = [first.result(60.0), again.result(60.0), other.result(60.0)]
    assert [a.status_code for a in answers] == [200, 503, 200]
    assert answers[1].headers["Retry-After"] == "2"
    assert held_at_south == 2, "the other door's frame was not decided beside the first"
    assert decider.hold.timed_out == 0


def test_a_kiosk_is_seen_on_each_frame_and_credential_with_its_camera_state(
    site: Site, tmp_path: Path
) -> None:
    BOARD.clear()
    door, _ = kiosk(site)
    issued = site.client("admin").post(
        "/api/v1/devices/keys", json={"target_id": door, "kind": "kiosk"}
    )
    assert issued.status_code == 201, issued.text
    gate_id, headers = issued.json()["gate_id"], {"X-Device-Key": issued.json()["secret"]}
    kiosk_pipeline(site, tmp_path)
    client = site.client()

    def kiosk_health() -> dict[str, Any]:
        gates = client.get("/api/v1/health").json()["gates"]
        return next(g for g in gates if g["id"] == gate_id)

    assert kiosk_health()["last_seen"] is None
    path = f"/api/v1/doors/{door}/frames"
    answer = client.post(path, files=FRAME, headers=headers)
    assert answer.status_code == 200, answer.text
    seen = kiosk_health()
    assert (seen["kind"], seen["camera"]) == ("kiosk", "ok")
    assert seen["last_seen"] is not None
    assert 'facegate_gate_camera_ok{gate="' + gate_id in client.get("/api/v1/metrics").text
    site.deps.clock.advance(seconds=30)
    garbage = {"file": ("frame.jpg", b"not a picture", "image/jpeg")}
    assert client.post(path, files=garbage, headers=headers).status_code == 415
    broken = kiosk_health()
    assert broken["camera"] == "failed"
    assert broken["last_seen"] > seen["last_seen"]
    site.deps.clock.advance(seconds=30)
    card = {"kind": "card", "value": "CARD-9999"}
    shown = client.post(f"/api/v1/doors/{door}/credentials", json=card, headers=headers)
    assert shown.status_code == 200, shown.text
    later = kiosk_health()
    assert later["camera"] == "failed"  # a credential says nothing of the camera
    assert later["last_seen"] > broken["last_seen"]
    site.deps.clock.advance(seconds=3600)
    assert silent_gates(site.context, 60.0) == []  # a quiet kiosk is not a fault
