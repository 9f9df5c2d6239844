"""``facegate dispense``: a rationed dispenser on a camera or video (no site, no enrolment)."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from facegate.cli.context import settings_from
from facegate.cli.gate import _setter, liveness_notice
from facegate.cli.output import JsonFlag, handles_errors, stderr
from facegate.domain.errors import BadInputError

if TYPE_CHECKING:
    from facegate.config import Settings
    from facegate.gate.dispense import Dispensed, Dispenser
    from facegate.gate.dispense_quota import QuotaRule

ACTUATORS = ("simulated", "mqtt", "http", "osdp")


def register(app: typer.Typer) -> None:
    """Add ``facegate dispense`` to ``app``."""
    app.command(name="dispense")(dispense)


def dispensed_json(made: Dispensed) -> dict[str, Any]:
    """One decision as the JSON line ``facegate dispense --json`` prints."""
    return {
        "frame": made.frame_index,
        "track": made.track_id,
        "given": made.given,
        "reason": made.reason,
        "retry_after_s": made.retry_after_s,
        "items_total": made.items_total,
    }


def _printer(as_json: bool) -> Callable[[Dispensed], None]:
    def emit(made: Dispensed) -> None:
        row = dispensed_json(made)
        if as_json:
            sys.stdout.write(json.dumps(row) + "\n")
        elif made.given:
            sys.stdout.write(f"frame {row['frame']}: item given ({row['items_total']} in total)\n")
        elif made.retry_after_s is not None:
            sys.stdout.write(
                f"frame {row['frame']}: no item, come back in {made.retry_after_s} s\n"
            )
        else:
            sys.stdout.write(f"frame {row['frame']}: no item ({made.reason})\n")
        sys.stdout.flush()

    return emit


@handles_errors
def dispense(
    ctx: typer.Context,
    camera: Annotated[
        str | None,
        typer.Option(help="A device number, rtsp:// or http:// stream, or a folder of images."),
    ] = None,
    video: Annotated[
        Path | None, typer.Option(help="A video file, run as fast as it can be read.")
    ] = None,
    actuator: Annotated[
        str | None,
        typer.Option(
            help="simulated, mqtt, http or osdp, with the gate's settings (FACEGATE_GATE__...); "
            "default FACEGATE_GATE__ACTUATOR."
        ),
    ] = None,
    items: Annotated[int, typer.Option(help="Items per face per window.")] = 1,
    per_minutes: Annotated[
        float, typer.Option("--per-minutes", help="The quota window (minutes).")
    ] = 9.0,
    dispenser_id: Annotated[
        str, typer.Option("--id", help="The dispenser's name (its MQTT topics, its logs).")
    ] = "dispenser",
    as_json: JsonFlag = False,
) -> None:
    """Give ITEMS items per face per window, knowing nobody (no enrolment, no site database).

    The faces served are remembered in memory only, for the window, then overwritten.
    Only the count of items given is written: ``<data dir>/dispensed.json``, per UTC hour.
    Prints each decision (one JSON object per line with --json): ``given``, ``reason``
    and, for a face at its quota, ``retry_after_s``. Ends at the end of a video (exit 0),
    or on Ctrl-C / SIGTERM.
    """
    if (camera is None) == (video is None):
        raise BadInputError("give exactly one of --camera SOURCE or --video FILE")
    if video is not None and not video.is_file():
        raise BadInputError(f"--video {video}: no such file")
    settings = _with_actuator(settings_from(ctx), actuator)
    from facegate.gate.dispense_quota import QuotaRule
    from facegate.gate.runner import run_source
    from facegate.gate.sources import OpenCvSource, open_source

    try:
        rule = QuotaRule(items, per_minutes * 60.0)
    except ValueError as error:
        raise BadInputError(str(error)) from error
    source = OpenCvSource(str(video)) if video is not None else open_source(str(camera))
    stderr.print(
        f"dispenser {dispenser_id}: source {source.description}, actuator "
        f"{settings.gate.actuator}, {items} per face per {per_minutes:g} min, "
        f"liveness {settings.gate.liveness}",
        highlight=False,
    )
    if (notice := liveness_notice(settings.gate.liveness)) is not None:
        stderr.print(notice, highlight=False)
    dispenser = build_dispenser(settings, rule, dispenser_id)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, _setter(stop)) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        frames = run_source(dispenser, source, _printer(as_json), stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        source.close()
        dispenser.close()
    ended = "stopped" if stop.is_set() else "end of source"
    stderr.print(
        f"{ended}: {frames} frames; {dispenser.counter.total} items given in total",
        highlight=False,
    )


def build_dispenser(settings: Settings, rule: QuotaRule, dispenser_id: str) -> Dispenser:
    """A dispenser from ``settings`` (engine, liveness, actuator) and the quota ``rule``.

    Its threshold is ``FACEGATE_MATCHING__THRESHOLD`` when set, else
    :data:`~facegate.gate.dispense_quota.DISPENSE_THRESHOLD` (a site's calibration file
    is not read: a dispenser has no site).

    Raises:
        BadInputError: the actuator's settings are incomplete.
        ModelUnavailableError: a liveness model is configured but missing.
    """
    from facegate.bootstrap import SystemClock
    from facegate.bootstrap_gate import (
        build_actuator,
        build_gate_engine,
        build_gate_liveness,
        build_osdp_bus,
    )
    from facegate.domain.policy import Target
    from facegate.gate.dispense import Dispenser
    from facegate.gate.dispense_quota import (
        COUNTER_FILE,
        DISPENSE_THRESHOLD,
        FaceQuota,
        ItemCounter,
    )
    from facegate.gate.perception import PerceptionOptions

    liveness, schedule = build_gate_liveness(settings)
    engine = build_gate_engine(settings)
    bus = build_osdp_bus(settings)
    if bus is not None:
        bus.start()
    door = build_actuator(settings, Target(dispenser_id, frozenset()), None, bus)
    options = PerceptionOptions(schedule, settings.gate.decide_after_s)
    counter = ItemCounter(settings.data_dir / COUNTER_FILE)
    closers = [] if bus is None else [bus.close]
    threshold = settings.matching.threshold or DISPENSE_THRESHOLD
    clock = SystemClock()
    return Dispenser(
        engine,
        liveness,
        options,
        door,
        FaceQuota(rule, threshold),
        counter,
        clock,
        closers=closers,
    )


def _with_actuator(settings: Settings, actuator: str | None) -> Settings:
    """``settings`` with the gate actuator ``--actuator`` names, if any.

    Raises:
        BadInputError: an actuator facegate does not have.
    """
    if actuator is None:
        return settings
    if actuator not in ACTUATORS:
        raise BadInputError(f"--actuator {actuator!r}: use one of {', '.join(ACTUATORS)}")
    gate = replace(settings.gate, actuator=actuator)  # type: ignore[arg-type]
    return settings.model_copy(update={"gate": gate})
