"""An edge gate for the bench: the gate runtime on a folder of frames played at a camera's pace.

``python -m facegate.sitebench.edge --door DOOR --frames DIR --fps 5`` builds the gate
as ``facegate gate`` does (settings from the environment: HTTP upstream, device key,
liveness) and feeds it the folder's JPEGs in name order, one every ``1/fps`` seconds,
printing ``facegate gate --json``'s line for each decision with ``t`` (the wall clock,
seconds since the epoch) added. Ends at the last frame or on SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

import cv2
import numpy as np

from facegate.domain.errors import CameraFailedError
from facegate.ports import Frame


class PacedFolder:
    """The JPEGs of a folder as frames at a camera's pace: a slow reader skips frames.

    Each frame is released no earlier than its time; a reader that falls behind gets
    the frame due now, not the next one in line (a camera does not wait either), so
    frame indices keep their place in time.

    Args:
        folder: holds ``NNNNNN.jpg`` frames.
        fps: frames per second (wall clock).
        stop: set to end the source early.
    """

    def __init__(self, folder: Path, fps: float, stop: threading.Event) -> None:
        self.paths = sorted(folder.glob("*.jpg"))
        self.fps, self.stop = fps, stop
        self.index, self.start, self.skipped = 0, time.monotonic(), 0
        self.description = str(folder)

    def read(self) -> Frame | None:
        """The frame due now (after waiting for it); ``None`` at the end."""
        current = int((time.monotonic() - self.start) * self.fps)
        if current > self.index:
            self.skipped += current - self.index
            self.index = current
        if self.index >= len(self.paths) or self.stop.is_set():
            return None
        due = self.start + self.index / self.fps
        self.stop.wait(max(0.0, due - time.monotonic()))
        bgr = cv2.imread(str(self.paths[self.index]), cv2.IMREAD_COLOR)
        if bgr is None:
            raise CameraFailedError(f"cannot read {self.paths[self.index]}")
        frame = Frame(np.ascontiguousarray(bgr[:, :, ::-1]), self.index, self.index / self.fps)
        self.index += 1
        return frame

    def close(self) -> None:
        """Nothing held."""


def main(argv: list[str] | None = None) -> int:
    """Run the gate over the folder; 0 at the end."""
    parser = argparse.ArgumentParser(prog="facegate.sitebench.edge")
    parser.add_argument("--door", required=True)
    parser.add_argument("--frames", required=True, type=Path)
    parser.add_argument("--fps", type=float, default=5.0)
    args = parser.parse_args(argv)
    from facegate.bootstrap_gate import build_gate
    from facegate.cli.gate import outcome_json
    from facegate.config import Settings
    from facegate.gate.runner import run_source

    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
    running = build_gate(Settings(), args.door)
    running.start()
    print(json.dumps({"ready": True, "t": time.time()}), flush=True)
    source = PacedFolder(args.frames, args.fps, stop)

    def emit(outcome: object) -> None:
        row = {**outcome_json(outcome), "t": time.time()}  # type: ignore[arg-type]
        sys.stdout.write(json.dumps(row) + "\n")
        sys.stdout.flush()

    try:
        run_source(running.loop, source, emit, stop)
    finally:
        running.stop()
        end = {"processed_to": source.index, "skipped": source.skipped, "t": time.time()}
        print(json.dumps(end), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
