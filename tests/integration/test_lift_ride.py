"""A lift gate on a real site and real face frames enables the home floor over HTTP.

Ann lives on floor 4 of Tower A; the lift's controller is an HTTP gateway run by the test.
Her face rides to floor 4 only (no access rule at all: her unit gives it), and a visitor
pass she hosts rides to floor 4 only (issue 14 #2).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from facegate.bootstrap_gate import build_gate
from facegate.config import GateSettings, Settings
from facegate.domain.reasons import Reason
from facegate.gate.loop import Outcome
from facegate.gate.runner import run_source
from facegate.ports import Frame
from facegate.services import credentials, lift_floors, people, places
from facegate.vision.engine import FaceEngine
from gate_support import GateSite, ListSource, ann_frames, gate_engine, make_site

__all__ = ["ann_frames", "gate_engine"]


class _Gateway(BaseHTTPRequestHandler):
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Gateway.paths.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def gateway() -> Iterator[int]:
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Gateway.paths.clear()
    yield int(server.server_address[1])
    server.shutdown()


@pytest.fixture
def site(
    tmp_path: Path, gate_engine: FaceEngine, shared_data: Path, session_cache_dir: Path
) -> Iterator[GateSite]:
    settings = Settings(data_dir=tmp_path / "site", cache_dir=session_cache_dir)
    built = make_site(settings, gate_engine, shared_data, tmp_path)
    yield built
    built.store.close()


def test_face_and_visitor_pass_ride_to_the_home_floor_only(
    site: GateSite, gateway: int, gate_engine: FaceEngine, ann_frames: list[Frame]
) -> None:
    tower = places.add_building(site.context, "Tower A").id
    lift = places.add_lift(site.context, tower, "A1", range(0, 9)).id
    flat = lift_floors.add_unit(site.context, tower, "4C", 4).id
    people.set_unit(site.context, site.ann, flat)
    issued = credentials.create_pass(site.context, site.ann, "Guest", timedelta(hours=1))
    url = f"http://127.0.0.1:{gateway}/ride?floors={{floors}}&for={{duration_s}}&id={{request_id}}"
    gate = replace(GateSettings(), actuator="http", http_url=url, liveness="none")
    settings = site.settings.model_copy(update={"gate": gate})
    running = build_gate(settings, lift, engine=gate_engine)
    outcomes: list[Outcome] = []
    run_source(running.loop, ListSource(ann_frames), outcomes.append)
    visitor = running.loop.controller.decide_credential("qr", issued.code)
    running.stop()
    assert [(o.decision.reason, o.decision.floors) for o in outcomes] == [(Reason.GRANTED, (4,))]
    assert (visitor.decision.reason, visitor.decision.floors) == (Reason.GRANTED, (4,))
    assert [p.split("&")[0] for p in _Gateway.paths] == ["/ride?floors=4", "/ride?floors=4"]
