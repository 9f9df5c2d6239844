"""The gates page: register a gate (key and start command once), its health, gate offline."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

import pytest
from pages import log_in

from api_site import Site
from facegate.domain.accounts import GateKind
from facegate.domain.gate import GateReport
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.services import accounts, places
from facegate.services.alarm_log import alarm_recorder
from facegate.services.alarms import AlarmFeed, AlarmService, SilentGateWatch
from facegate.services.gate_health import BOARD, silent_gates
from facegate.web.console_gates import start_command
from fakes import FakeClock


@pytest.fixture
def gated(site: Site) -> Iterator[Site]:
    site.deps.alarms = AlarmService([], AlarmFeed(), record=alarm_recorder(site.context))
    BOARD.clear()
    places.add_door(
        site.context, "Side gate", DoorKind.GATE, CredentialMode.ANY_OF, [CredentialKind.CARD]
    )
    yield site
    BOARD.clear()


def _register(site: Site, username: str, **form: str) -> tuple[int, str]:
    client, csrf = log_in(site, username)
    door = places.list_doors(site.context)[0]
    data = {"target_id": door.id, "csrf_token": csrf, **form}
    answer = client.post("/console/gates", data=data)
    return answer.status_code, answer.text


def test_an_admin_registers_an_edge_gate_and_gets_its_start_command_once(gated: Site) -> None:
    status, html = _register(
        gated,
        "admin",
        gate_id="side-1",
        label="pole",
        camera="rtsp://cam/1; rm -rf /",
        actuator="http",
        relay_url="http://10.0.0.7/relay/0",
        liveness="none",
    )
    assert status == 200, html
    secret = re.search(r'id="device-secret">([^<]+)<', html)
    command = re.search(r'id="start-command">([^<]+)</textarea>', html)
    assert secret is not None
    assert command is not None
    words = shlex.split(command.group(1).replace("&#39;", "'").replace("&amp;", "&"))
    assert f"FACEGATE_GATE__DEVICE_KEY={secret.group(1)}" in words
    assert "FACEGATE_GATE__GATE_ID=side-1" in words
    assert "FACEGATE_GATE__LIVENESS=none" in words
    assert "FACEGATE_GATE__HTTP_URL=http://10.0.0.7/relay/0" in words
    assert words[-2:] == ["--camera", "rtsp://cam/1; rm -rf /"]  # one word, never a command
    key = accounts.device_for_secret(gated.context, secret.group(1))
    assert key is not None
    assert key.gate_id == "side-1"
    client, _ = log_in(gated, "auditor")
    listed = client.get("/console/gates").text
    assert "side-1" in listed
    assert secret.group(1) not in listed


def test_only_administrators_register_gates(gated: Site) -> None:
    status, _ = _register(gated, "operator", gate_id="side-2")
    assert status == 403


def test_a_silent_edge_gate_shows_offline_and_raises_the_gate_offline_alarm(gated: Site) -> None:
    door = places.list_doors(gated.context)[0]
    accounts.issue_device_key(gated.context, door.id, "pole", GateKind.EDGE, "side-3")
    clock = gated.deps.clock
    assert isinstance(clock, FakeClock)
    BOARD.record("side-3", clock.now(), GateReport("v1", clock.now(), 0, "ok"))
    assert gated.deps.alarms is not None
    after_s = gated.deps.settings.gate.silent_after_s
    watch = SilentGateWatch(
        lambda: [(g.gate_id, g.target_id) for g in silent_gates(gated.context, after_s)],
        gated.deps.alarms,
        clock,
    )
    client, _ = log_in(gated, "operator")
    assert watch.check() == []
    assert 'class="gate online"' in client.get("/console/gates").text
    clock.advance(seconds=after_s + 1)
    assert watch.check() == ["side-3"]
    assert 'class="gate offline"' in client.get("/console/gates").text
    panel = client.get("/console/panel").text
    assert 'data-alarm="gate_silent"' in panel
    assert "Gate offline" in panel
    assert "Side gate" in panel


def test_the_start_command_quotes_every_value() -> None:
    line = start_command("https://site:8000", "g-1", "fgk_x'y", "door 1", "", "mqtt", "motion")
    words = shlex.split(line)
    assert "FACEGATE_GATE__DEVICE_KEY=fgk_x'y" in words
    assert words[-4:] == ["--door", "door 1", "--camera", "0"]
    assert not any(w.startswith("FACEGATE_GATE__HTTP_URL") for w in words)
