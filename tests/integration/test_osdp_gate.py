"""A gate built by ``build_gate`` with an OSDP reader-with-relay over a TCP channel.

The device is a real libosdp peripheral device in the test process behind a TCP socket
(as an RS-485-to-Ethernet serial server would be); the gate reads its key from the data
directory (``facegate osdp key``), a card read opens the strike, and the decision reaches
the site database with the gate's next delivery.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facegate.bootstrap import SystemClock, build_store
from facegate.bootstrap_gate import build_gate
from facegate.cli import app
from facegate.config import GateSettings
from facegate.domain.events import EventQuery
from facegate.domain.reasons import Reason
from facegate.gate.osdp_keys import read_key
from facegate.gate.runner import sync_once
from facegate.services import activity
from facegate.services.context import ServiceContext
from fakes import FakeFaceEngine
from osdp_pds import BOARD_CAPS, READER_CAPS, card_read, commands, osdp, wait_for
from support import card_site

ADDRESS = 101


class NamedEngine(FakeFaceEngine):
    model_id = "fake-model"


class SocketEnd:
    """The device's side of the TCP link."""

    def __init__(self, link: socket.socket) -> None:
        self.id, self.link = 0, link
        link.setblocking(False)

    def read(self, max_bytes: int) -> bytes:
        try:
            return self.link.recv(max_bytes)
        except BlockingIOError:
            return b""

    def write(self, buf: bytes) -> int:
        self.link.sendall(buf)
        return len(buf)

    def flush(self) -> None:
        pass


def test_a_card_at_an_osdp_reader_over_tcp_opens_the_door(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, door_id, ann = card_site(tmp_path, monkeypatch, "Lobby", ("Ann Lee", "C0FFEE"))
    assert CliRunner().invoke(app, ["osdp", "key", str(ADDRESS)]).exit_code == 0

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    gate = replace(
        GateSettings(),
        liveness="none",
        actuator="osdp",
        osdp_channel=f"tcp:127.0.0.1:{port}",
        osdp_reader=ADDRESS,
        unlock_duration_s=2.0,
    )
    running = build_gate(
        settings.model_copy(update={"gate": gate}),
        door_id,
        engine=NamedEngine(),  # type: ignore[arg-type]
    )
    server.settimeout(5.0)
    link, _ = server.accept()
    key = read_key(settings.data_dir, ADDRESS)
    info = osdp.PDInfo(ADDRESS, SocketEnd(link), scbk=key, flags=[osdp.LibFlag.EnforceSecure])
    device = osdp.PeripheralDevice(
        info, osdp.PDCapabilities(READER_CAPS + BOARD_CAPS), log_level=osdp.LogLevel.Error
    )
    device.start()
    store = build_store(settings)
    try:
        assert wait_for(device.is_sc_active, 10.0)
        device.submit_event(card_read(bytes.fromhex("C0FFEE")))
        outputs = commands(device, osdp.Command.Output)
        assert [(c["control_code"], c["timer_count"]) for c in outputs] == [(5, 20)]
        assert wait_for(lambda: running.outbox.pending_count() > 0)
        sync_once(running.holder, running.outbox)  # the sync thread's delivery
        context = ServiceContext(store=store, clock=SystemClock(), actor="test")
        stored = activity.search_events(context, EventQuery(door_id=door_id))
        assert [(e.reason, e.person_id) for e in stored] == [(Reason.GRANTED, ann)]
    finally:
        running.stop()
        device.teardown()
        link.close()
        server.close()
        store.close()
