"""What the browser tests share: `facegate serve` as a process, Chromium's flags, videos.

The server runs on a free local port with its own data directory and an administrator
from the environment; videos for Chromium's fake camera are written at run time as Y4M.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class Server:
    """A running ``facegate serve``: its address and administrator."""

    url: str
    admin: str
    password: str


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def facegate_command() -> str:
    """The ``facegate`` command installed next to this Python."""
    found = shutil.which("facegate", path=str(Path(sys.executable).parent))
    assert found is not None, "the facegate command is not installed next to this Python"
    return found


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    """Wait until ``url`` answers its health check; fail if the process ends first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"facegate serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("facegate serve did not become healthy in time")


@contextmanager
def running_server(
    data: Path, site_name: str = "E2E Court", extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """``facegate site init`` then ``facegate serve`` on ``data``, stopped on exit."""
    password = secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "FACEGATE_DATA_DIR": str(data),
        "FACEGATE_SERVER__ENVIRONMENT": "development",
        "FACEGATE_SERVER__SECURE_COOKIES": "false",
        "FACEGATE_ADMIN_USER": "admin",
        "FACEGATE_ADMIN_PASSWORD": password,
        **(extra_env or {}),
    }
    fg = facegate_command()
    subprocess.run([fg, "site", "init", "--name", site_name], env=env, check=True)
    port = free_port()
    with (data / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [fg, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, process)
            yield Server(url, "admin", password)
        finally:
            process.terminate()
            process.wait(timeout=10)


def log_in(page: Any, username: str, password: str) -> None:
    """Fill and send the login form shown on ``page``."""
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login")


def shot(page: Any, folder: Path, name: str, shots: list[Path]) -> None:
    """A full-page screenshot of ``page`` as ``folder/name.png``, noted in ``shots``."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    shots.append(path)


def read_frames(video: Path, start_s: float, count: int, step: int = 1) -> list[np.ndarray]:
    """``count`` BGR frames of ``video`` from ``start_s`` seconds on, every ``step``-th."""
    capture = cv2.VideoCapture(str(video))
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        capture.set(cv2.CAP_PROP_POS_FRAMES, int(start_s * fps))
        frames: list[np.ndarray] = []
        index = 0
        while len(frames) < count:
            ok, frame = capture.read()
            if not ok:
                break
            if index % step == 0:
                frames.append(frame)
            index += 1
    finally:
        capture.release()
    assert frames, f"no frames read from {video}"
    return frames


def write_jpegs(frames: list[np.ndarray], folder: Path, stem: str) -> list[Path]:
    """Each frame as ``folder/<stem>_<n>.jpg``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, frame in enumerate(frames):
        path = folder / f"{stem}_{n:02d}.jpg"
        assert cv2.imwrite(str(path), frame)
        paths.append(path)
    return paths


def write_y4m(frames: list[np.ndarray], path: Path, fps: int = 25) -> Path:
    """The frames as a Y4M (4:2:0) file, which Chromium's fake camera plays in a loop."""
    height, width = frames[0].shape[:2]
    even = [f[: height - height % 2, : width - width % 2] for f in frames]
    height, width = even[0].shape[:2]
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for frame in even:
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


def camera_args(video: Path) -> list[str]:
    """Chromium's flags for a fake camera playing ``video``, with no permission prompt."""
    return [
        *ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
