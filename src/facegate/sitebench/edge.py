"""An edge gate for the bench: the gate runtime on a folder of frames played at a camera's pace.

``python -m facegate.sitebench.edge --door DOOR --frames DIR --fps 5`` builds the gate
as ``facegate gate`` does (settings from the environment: HTTP upstream, device key,
liveness) and feeds it the folder's JPEGs in name order, one every ``1/fps`` seconds,
printing ``facegate gate --json``'s line for each decision with ``t`` (the wall clock,
seconds since the epoch) added. The cards in the folder's :data:`CARDS_FILE` (frame index ->
card number) are read with their frames, as a reader beside the camera would. With
``--watch-cards PREFIX`` it also prints ``{"cards": [...], "t": ...}`` as soon as cards
whose number starts with PREFIX appear in the snapshot the gate decides from (so the
bench can time a change until the edge gate would decide by it). Ends at the last frame
or on SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType

import cv2
import numpy as np

from facegate.domain.errors import CameraFailedError
from facegate.domain.gate import GateSnapshot
from facegate.ports import Frame, FrameSource


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


CARDS_FILE = "cards.json"
"""Beside an edge gate's frames: frame index -> the card read with that frame."""


class WithCards:
    """A frame source whose frames come with card reads (a card reader beside the camera).

    Args:
        source: the frames.
        cards: frame index -> the card number read with that frame.
        present: where a card read goes (the gate loop's ``present_card``).
    """

    def __init__(
        self, source: FrameSource, cards: Mapping[int, str], present: Callable[[str], None]
    ) -> None:
        self.source, self.cards, self.present = source, cards, present
        self.description = source.description

    def read(self) -> Frame | None:
        """The next frame; its card (if any) is presented first."""
        frame = self.source.read()
        if frame is not None and frame.index in self.cards:
            self.present(self.cards[frame.index])
        return frame

    def close(self) -> None:
        """Close the frames."""
        self.source.close()


def watch_cards(
    snapshot: Callable[[], GateSnapshot],
    prefix: str,
    emit: Callable[[dict[str, object]], None],
    stop: threading.Event,
    every_s: float = 0.02,
) -> None:
    """Emit each card starting with ``prefix`` once it is in ``snapshot()``, until ``stop``.

    Args:
        snapshot: the snapshot the gate decides from now.
        prefix: which card numbers to watch.
        emit: gets ``{"cards": [new numbers], "t": wall clock (s since the epoch)}``.
        stop: ends the watch.
        every_s: seconds between two looks.
    """
    seen: set[str] = set()
    while not stop.wait(every_s):
        current = {c for c in snapshot().access.cards if c.startswith(prefix)}
        new = sorted(current - seen)
        if new:
            emit({"cards": new, "t": time.time()})
        seen = current


def read_cards(folder: Path) -> dict[int, str]:
    """The folder's ``cards.json`` (frame index -> card number); empty without one."""
    path = folder / CARDS_FILE
    if not path.exists():
        return {}
    return {int(k): str(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


def main(argv: list[str] | None = None) -> int:
    """Run the gate over the folder; 0 at the end."""
    parser = argparse.ArgumentParser(prog="facegate.sitebench.edge")
    parser.add_argument("--door", required=True)
    parser.add_argument("--frames", required=True, type=Path)
    parser.add_argument("--fps", type=float, default=5.0)
    parser.add_argument("--watch-cards", default="")
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
    carded = WithCards(source, read_cards(args.frames), running.loop.present_card)

    lock = threading.Lock()

    def line(row: dict[str, object]) -> None:
        with lock:
            sys.stdout.write(json.dumps(row) + "\n")
            sys.stdout.flush()

    def emit(outcome: object) -> None:
        line({**outcome_json(outcome), "t": time.time()})  # type: ignore[arg-type]

    if args.watch_cards:
        watch = (running.loop.controller.snapshot, args.watch_cards, line, stop)
        threading.Thread(target=watch_cards, args=watch, daemon=True).start()
    try:
        run_source(running.loop, carded, emit, stop)
    finally:
        running.stop()
        end = {"processed_to": source.index, "skipped": source.skipped, "t": time.time()}
        print(json.dumps(end), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
