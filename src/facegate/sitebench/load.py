"""The load on a running site: kiosks, edge gates, a console user, a writer, a ramp.

Presentations rotate over the people shown at each door (residents of that building and
of others, strangers), each followed by an empty gap so the gate sees the person leave.
Meanwhile the writer changes the site through the services, as the console and CLI do:
it enrols new residents, erases some, gives the caretaker a new card and times how long
that card takes to open every door, and now and then erases a real resident who is being
presented (and enrols them again later), so the erasure's reach is judged on real faces.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from facegate.sitebench.clients import Console, FrameAnswer, Kiosk, Presented, Shown, SnapshotProbe
from facegate.sitebench.corpus import BgrImage
from facegate.sitebench.edge import CARDS_FILE

Say = Callable[[str], None]


def jpeg(image: BgrImage) -> bytes:
    """``image`` (BGR) as JPEG bytes (quality 90)."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()


GAP = np.full((240, 320, 3), 128, np.uint8)


@dataclass(frozen=True, slots=True)
class Clip:
    """One presentable clip of a person (frames as JPEG) and the card they show with it."""

    who: str
    frames: tuple[bytes, ...]
    card: str | None = None


def script(door_id: str, clips: Sequence[Clip], gap_frames: int, seed: int) -> Iterator[Shown]:
    """An endless rotation of ``clips`` at ``door_id`` (shuffled once per round)."""
    rng = np.random.default_rng(seed)
    gap = (jpeg(GAP),) * gap_frames
    while True:
        for index in rng.permutation(len(clips)):
            clip = clips[int(index)]
            yield Shown(clip.who, door_id, clip.frames, gap, clip.card)


@dataclass
class EdgeRun:
    """An edge gate process, what it was shown (frame ranges) and what it decided."""

    door_id: str
    process: subprocess.Popen[bytes]
    ranges: list[tuple[int, int, str]]
    fps: float
    ready_at: float = 0.0
    rows: list[dict[str, object]] = field(default_factory=list)
    end: dict[str, object] = field(default_factory=dict)
    cards_seen: dict[str, float] = field(default_factory=dict)

    def read(self) -> None:
        """Collect the gate's JSON lines until its stdout closes."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            row = json.loads(line)
            if row.get("ready"):
                self.ready_at = float(row["t"])
            elif "cards" in row:
                for card in row["cards"]:
                    self.cards_seen.setdefault(str(card), float(row["t"]))
            elif "processed_to" in row:
                self.end = row
            else:
                self.rows.append(row)

    def presented(self, until: float) -> list[Presented]:
        """The presentations shown in full before ``until`` (wall clock), with the decisions."""
        shown = []
        last = int(str(self.end.get("processed_to", len(self.ranges) and self.ranges[-1][1])))
        for start, end, who in self.ranges:
            started = self.ready_at + start / self.fps
            if not self.ready_at or self.ready_at + end / self.fps > until or end > last:
                break
            answers = [
                FrameAnswer(
                    started, float(str(r["latency_ms"])), 200, str(r["reason"]), bool(r["granted"])
                )
                for r in self.rows
                if start <= int(str(r["frame"])) < end
            ]
            shown.append(Presented(who, self.door_id, started, answers, "edge"))
        return shown


def edges_reach(
    edges: Sequence[EdgeRun],
    card: str,
    changed_at: float,
    stop: threading.Event,
    timeout_s: float = 30.0,
) -> float | None:
    """Seconds from ``changed_at`` until ``card`` was in every edge gate's snapshot.

    Each gate reports the moment the card appeared in the snapshot it decides from.
    ``None``: not every gate within ``timeout_s``; ``nan``: the bench ended first.
    """
    while True:
        seen = [edge.cards_seen.get(card) for edge in edges]
        if all(t is not None for t in seen):
            return max([0.0, *(t - changed_at for t in seen if t is not None)])
        if time.time() - changed_at >= timeout_s:
            return None
        if stop.wait(0.05):
            return float("nan")


def write_gate_frames(
    folder: Path, door_id: str, clips: Sequence[Clip], gap_frames: int, total: int, seed: int
) -> list[tuple[int, int, str]]:
    """``total`` frames of the door's rotation as numbered JPEGs; the presentations' ranges.

    The cards shown with the frames go to :data:`CARDS_FILE` beside them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    ranges, index, cards = [], 0, {}
    for shown in script(door_id, clips, gap_frames, seed):
        if index >= total:
            break
        ranges.append((index, index + len(shown.frames), shown.who))
        for n, data in enumerate((*shown.frames, *shown.gap)):
            (folder / f"{index:06d}.jpg").write_bytes(data)
            if shown.card is not None and n < len(shown.frames):
                cards[str(index)] = shown.card
            index += 1
    (folder / CARDS_FILE).write_text(json.dumps(cards), encoding="utf-8")
    return ranges


def run_threads(targets: Sequence[Callable[[], None]]) -> list[threading.Thread]:
    """Start each target in a daemon thread."""
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    return threads


def kiosk_runner(
    kiosk: Kiosk, clips: Sequence[Clip], gap_frames: int, seed: int, stop: threading.Event
) -> Callable[[], None]:
    """What a kiosk's thread runs: its door's rotation of ``clips`` until ``stop``."""
    return partial(kiosk.run, script(kiosk.door_id, clips, gap_frames, seed), stop)


def snapshot_loop(probe: SnapshotProbe, stop: threading.Event, interval_s: float = 2.0) -> None:
    """Pull conditionally every ``interval_s``, unconditionally every fifth time.

    Each conditional pull is followed by one database check.
    """
    for n in itertools.count():
        if stop.wait(interval_s):
            return
        probe.pull(conditional=n % 5 != 0)
        if n % 5 != 0:
            probe.check_db()


def sample_loop(read: Callable[[], float | None], into: list[float], stop: threading.Event) -> None:
    """Append ``read()`` (when it has a value) to ``into`` every second until ``stop``."""
    while not stop.wait(1.0):
        value = read()
        if value is not None:
            into.append(value)


def console_loop(console: Console, stop: threading.Event) -> None:
    """The console user's page views until ``stop``."""
    console.run(stop)


@dataclass
class Ramp:
    """Throughput of unpaced kiosks at rising concurrency."""

    steps: list[dict[str, object]] = field(default_factory=list)

    @property
    def saturation_frames_per_s(self) -> float | None:
        """The largest answered frame rate reached (frames/s)."""
        rates = [float(str(s["answered_per_s"])) for s in self.steps]
        return max(rates) if rates else None


def ramp(
    url: str, keys: dict[str, str], clip: Clip, step_s: float, levels: Sequence[int], say: Say
) -> Ramp:
    """Kiosks posting as fast as answered, 1, 2, 4... at once, each at its own door.

    Stops rising when the answered rate grows by less than 5 % or frames are refused.
    """
    result, doors = Ramp(), list(keys)
    for level in levels:
        stop = threading.Event()
        kiosks = [Kiosk(url, d, keys[d], 1000.0) for d in doors[:level]]
        shows = [script(k.door_id, [clip], 0, n) for n, k in enumerate(kiosks)]
        threads = run_threads([partial(k.run, s, stop) for k, s in zip(kiosks, shows, strict=True)])
        time.sleep(step_s)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        answers = [a for k in kiosks for a in k.answers]
        answered = [a.latency_ms for a in answers if a.status == 200]
        step: dict[str, object] = {
            "kiosks": level,
            "answered_per_s": round(len(answered) / step_s, 2),
            "p95_ms": round(float(np.percentile(answered, 95)), 1) if answered else None,
            "rejected": sum(a.status in (429, 503) for a in answers),
        }
        for kiosk in kiosks:
            kiosk.close()
        say(f"ramp: {step}")
        grew = not result.steps or float(str(step["answered_per_s"])) > 1.05 * float(
            str(result.steps[-1]["answered_per_s"])
        )
        result.steps.append(step)
        if not grew or step["rejected"]:
            break
    return result
