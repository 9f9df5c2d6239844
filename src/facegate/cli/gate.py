"""``facegate gate``: run a gate on a camera, stream, folder or video file."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from facegate.cli.context import settings_from
from facegate.cli.output import JsonFlag, handles_errors, stderr
from facegate.domain.errors import BadInputError

if TYPE_CHECKING:
    from facegate.config import Settings
    from facegate.gate.lane import Crossing
    from facegate.gate.loop import Outcome

NO_LIVENESS_WARNING = (
    "WARNING: no liveness check runs (FACEGATE_GATE__LIVENESS=none): a printed photo or a "
    "screen can open this door. Set liveness=layered (the default) or motion, or train a "
    "texture model and set liveness=fused, before relying on this gate."
)
MOTION_ONLY_NOTE = (
    "liveness: the multi-frame cues alone (motion, blink, speech; no trained model): they "
    "stop printed photos and still pictures on a screen, not a video replayed on a tablet. "
    "Set liveness=layered (the default) to add the single-frame screen-and-print cue."
)


def liveness_notice(mode: str) -> str | None:
    """What a gate or server says at start about its liveness check (``None``: nothing)."""
    if mode == "none":
        return f"[bold yellow]{NO_LIVENESS_WARNING}[/]"
    return MOTION_ONLY_NOTE if mode == "motion" else None


def register(app: typer.Typer) -> None:
    """Add ``facegate gate`` to ``app``."""
    app.command(name="gate")(gate)


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """One decision as the JSON line ``facegate gate --json`` prints."""
    decision = outcome.decision
    return {
        "frame": outcome.frame_index,
        "track": outcome.track_id,
        "granted": decision.granted,
        "reason": decision.reason.value,
        "person_id": decision.person_id,
        "floors": list(decision.floors),
        "latency_ms": round(outcome.latency_ms, 2),
        "event_key": outcome.event_key,
    }


def _printer(as_json: bool) -> Callable[[Outcome], None]:
    def emit(outcome: Outcome) -> None:
        row = outcome_json(outcome)
        if as_json:
            sys.stdout.write(json.dumps(row) + "\n")
        else:
            who = f" person {row['person_id']}" if row["person_id"] else ""
            floors = f" floors {row['floors']}" if row["floors"] else ""
            verdict = "OPEN" if row["granted"] else "deny"
            sys.stdout.write(
                f"frame {row['frame']} track {row['track']}: {verdict} {row['reason']}{who}"
                f"{floors} ({row['latency_ms']} ms)\n"
            )
        sys.stdout.flush()

    return emit


def _startup_log(settings: Settings, door: str, source: str) -> None:
    gate = settings.gate
    stderr.print(
        f"gate {gate.gate_id} at {door}: source {source}, actuator {gate.actuator}, "
        f"upstream {gate.upstream}, liveness {gate.liveness}",
        highlight=False,
    )
    if (notice := liveness_notice(gate.liveness)) is not None:
        stderr.print(notice, highlight=False)


@handles_errors
def gate(
    ctx: typer.Context,
    door: Annotated[str, typer.Option("--door", help="The door or lift id this gate serves.")],
    camera: Annotated[
        str | None,
        typer.Option(help="A device number, rtsp:// or http:// stream, or a folder of images."),
    ] = None,
    video: Annotated[
        Path | None, typer.Option(help="A video file, run as fast as it can be read.")
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            help="door (one person at a time) or lane (metro-style: several people on the "
            "move, each paired with the person reaching the gate line); default from "
            "FACEGATE_GATE__PROFILE.",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run a gate: decide on every face, open the door, record each decision.

    Prints each decision (one JSON object per line with --json); a lane also prints each
    person reaching its gate line (``"crossing": true``). Ends at the end of a video
    (exit 0), or on Ctrl-C / SIGTERM, after delivering what the outbox holds.
    """
    if (camera is None) == (video is None):
        raise BadInputError("give exactly one of --camera SOURCE or --video FILE")
    # The gate stack (MQTT, HTTP, OpenCV sources) loads only when a gate runs.
    from facegate.bootstrap_gate import build_gate, build_gate_source
    from facegate.gate.lane import LaneLoop
    from facegate.gate.runner import run_source
    from facegate.gate.sources import OpenCvSource, open_source

    settings = _with_profile(settings_from(ctx), profile)
    colour = OpenCvSource(str(video)) if video is not None else open_source(str(camera))
    source = build_gate_source(settings, colour)
    _startup_log(settings, door, source.description)
    running = build_gate(settings, door)
    if isinstance(running.loop, LaneLoop):
        running.loop.on_crossing = _crossing_printer(as_json)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, _setter(stop)) for sig in (signal.SIGINT, signal.SIGTERM)}
    running.start()
    try:
        tapped = running.frames.wrap(source)  # an administrator may ask the latest frame
        printer = _printer(as_json)

        def emit(outcome: Outcome) -> None:
            printer(outcome)
            running.after_outcome(outcome)  # a refused face's snapshot, if the site keeps them

        frames = run_source(running.loop, tapped, emit, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        source.close()
        left = running.stop()
    ended = "stopped" if stop.is_set() else "end of source"
    stderr.print(f"{ended}: {frames} frames; {left} events wait for delivery", highlight=False)


def _with_profile(settings: Settings, profile: str | None) -> Settings:
    """``settings`` with the gate profile ``--profile`` names, if any.

    Raises:
        BadInputError: a profile other than ``door`` or ``lane``.
    """
    if profile is None:
        return settings
    if profile not in ("door", "lane"):
        raise BadInputError(f"--profile {profile!r}: use door or lane")
    gate = replace(settings.gate, profile="lane" if profile == "lane" else "door")
    return settings.model_copy(update={"gate": gate})


def crossing_json(crossing: Crossing) -> dict[str, Any]:
    """One person at a lane's gate line, as the JSON line ``facegate gate --json`` prints."""
    decision = crossing.decision
    return {
        "crossing": True,
        "frame": crossing.frame_index,
        "track": crossing.track_id,
        "passes": crossing.passes,
        "reason": decision.reason.value if decision is not None else "undecided",
        "person_id": decision.person_id if decision is not None else None,
    }


def _crossing_printer(as_json: bool) -> Callable[[Crossing], None]:
    def emit(crossing: Crossing) -> None:
        row = crossing_json(crossing)
        if as_json:
            sys.stdout.write(json.dumps(row) + "\n")
        else:
            verdict = "passes" if row["passes"] else "barrier shut"
            sys.stdout.write(
                f"frame {row['frame']} track {row['track']} at the line: {verdict} "
                f"({row['reason']})\n"
            )
        sys.stdout.flush()

    return emit


def _setter(stop: threading.Event) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    return handler
