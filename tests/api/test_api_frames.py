"""Kiosk frames off the event loop: a bounded pool, 503 with Retry-After when it is full."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import cv2
import httpx
import numpy as np
import uvicorn

from api_site import Site
from brokers import free_port
from facegate.app import create_app
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.ports import FrameDecision
from facegate.services import accounts, places
from facegate.services.workers import WorkerPool

_JPEG = cv2.imencode(".jpg", np.zeros((48, 64, 3), np.uint8))[1].tobytes()
FRAME = {"file": ("frame.jpg", _JPEG, "image/jpeg")}


class SlowDecider:
    """A decider that holds each frame until released (face work that takes long)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.running = 0
        self._lock = threading.Lock()

    def decide_frame(self, door_id: str, image: bytes) -> FrameDecision:
        with self._lock:
            self.running += 1
        self.release.wait(10.0)
        return FrameDecision(False, "unknown_face", datetime.now(UTC))

    def decide_credential(self, door_id: str, kind: str, value: str) -> FrameDecision:
        return FrameDecision(False, "unknown_credential", datetime.now(UTC))


def kiosk(site: Site) -> tuple[str, dict[str, str]]:
    door = places.add_door(
        site.context, "North", DoorKind.ENTRANCE, CredentialMode.ANY_OF, [CredentialKind.CARD]
    ).id
    return door, {"X-Device-Key": accounts.issue_device_key(site.context, door, "k").secret}


@contextlib.contextmanager
def served(app: Any) -> Iterator[str]:
    """``app`` on a real uvicorn server (one event loop, as in production); its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10.0
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10.0)


def test_a_saturated_server_answers_503_at_once_and_the_console_still_answers(
    site: Site,
) -> None:
    door, headers = kiosk(site)
    decider = SlowDecider()
    site.deps.decider = decider
    site.deps.frame_pool = WorkerPool(2, retry_after_s=2.0)
    path = f"/api/v1/doors/{door}/frames"
    with served(create_app(site.deps)) as url, httpx.Client(base_url=url, timeout=20.0) as client:
        with ThreadPoolExecutor(2) as posters:
            busy = [
                posters.submit(client.post, path, files=FRAME, headers=headers) for _ in range(2)
            ]
            deadline = time.monotonic() + 5.0
            while decider.running < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            started = time.monotonic()
            health = client.get("/api/v1/health")
            health_s = time.monotonic() - started
            refused = client.post(path, files=FRAME, headers=headers)
            refused_s = time.monotonic() - started - health_s
            decider.release.set()
            answers = [f.result(20.0) for f in busy]
        again = client.post(path, files=FRAME, headers=headers)
    assert decider.running >= 2, "frames are not decided side by side"
    assert health.status_code == 200
    assert health_s < 1.0
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "2"
    assert refused.json()["error"] == "service_busy"
    assert refused_s < 1.0
    assert [a.status_code for a in answers] == [200, 200]
    assert again.status_code == 200  # freed workers take frames again
