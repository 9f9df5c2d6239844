"""Alarm e-mail against a real SMTP server the test starts (aiosmtpd): routed per alarm
type, retried with back-off when the server answers "try later", logged when given up."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from facegate.bootstrap_gate import build_alarm_service
from facegate.config import NotifySettings, ServerSettings, Settings
from facegate.domain.errors import BadInputError
from facegate.domain.gate import GateEvent, GateEventKind
from facegate.services.alarm_routing import RetryingChannel


class Mailbox:
    """An aiosmtpd handler: answers 451 to the first ``refuse`` messages, keeps the rest."""

    def __init__(self) -> None:
        self.refuse = 0
        self.messages: list[Message] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 try again later"
        self.messages.append(message_from_bytes(envelope.content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox, port = Mailbox(), _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def _settings(port: int, **notify: Any) -> Settings:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "email_to": ("guard@oak.test", "office@oak.test"),
        "email_from": "facegate@oak.test",
        "retry_backoff_s": 0.01,
    } | notify
    return Settings(
        server=ServerSettings(environment="development"), notify=NotifySettings(**values)
    )


def _event(key: str, kind: GateEventKind) -> GateEvent:
    return GateEvent(key, "gate-1", kind, "door-1", datetime(2026, 11, 28, 5, tzinfo=UTC), note="n")


def test_an_alarm_is_mailed_after_the_server_said_try_later_and_routes_hold(
    smtp: tuple[Mailbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    mailbox, port = smtp
    mailbox.refuse = 2
    routes = {"door_held_open": ("webhook",)}  # held open: never mailed
    alarms = build_alarm_service(_settings(port, routes=routes), None)
    caplog.set_level(logging.INFO, "facegate.services.alarm_routing")
    try:
        alarms.raise_event(_event("k-forced", GateEventKind.DOOR_FORCED_OPEN))
        alarms.raise_event(_event("k-held", GateEventKind.DOOR_HELD_OPEN))
        assert alarms.drain(20.0)
    finally:
        alarms.close()
    assert len(mailbox.messages) == 1
    mail = mailbox.messages[0]
    assert "door_forced_open" in mail["Subject"]
    assert "door-1" in mail["Subject"]
    assert sorted(mailbox.recipients[0]) == ["guard@oak.test", "office@oak.test"]
    assert "key: k-forced" in mail.get_payload()
    tries = [r.getMessage() for r in caplog.records if "k-forced" in r.getMessage()]
    assert len([t for t in tries if "failed (try" in t]) == 2
    assert any("sent on email (try 3)" in t for t in tries)


def test_a_channel_that_keeps_failing_is_given_up_and_logged(
    smtp: tuple[Mailbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    mailbox, port = smtp
    mailbox.refuse = 100
    alarms = build_alarm_service(_settings(port, retry_attempts=2), None)
    try:
        alarms.raise_event(_event("k-lost", GateEventKind.ACTUATOR_FAILED))
        assert alarms.drain(20.0)
    finally:
        alarms.close()
    assert mailbox.messages == []
    given_up = [r for r in caplog.records if "not sent on email after 2 tries" in r.getMessage()]
    assert len(given_up) == 1
    assert given_up[0].levelno == logging.ERROR


def test_the_back_off_doubles() -> None:
    waits: list[float] = []
    calls = iter([OSError("down"), OSError("down"), OSError("down"), None])

    def send(_payload: dict[str, str]) -> None:
        error = next(calls)
        if error is not None:
            raise error

    assert RetryingChannel("x", send, attempts=4, backoff_s=1.5, pause=waits.append)({"key": "k"})
    assert waits == [1.5, 3.0, 6.0]


@pytest.mark.parametrize(
    ("routes", "named"),
    [({"door_open": ("email",)}, "door_open"), ({"alert_list": ("sms",)}, "sms")],
)
def test_a_bad_route_is_refused_naming_it(routes: dict[str, tuple[str, ...]], named: str) -> None:
    with pytest.raises(BadInputError, match=named):
        build_alarm_service(_settings(25, routes=routes), None)


def test_email_without_a_recipient_is_refused() -> None:
    with pytest.raises(BadInputError, match="EMAIL_TO"):
        build_alarm_service(_settings(25, email_to=()), None)


def test_the_routing_table_names_each_type_and_its_channels() -> None:
    from facegate.services.alarm_routing import routing_table

    table = routing_table(("console", "email"), {"door_held_open": ("console",)})
    assert table["door_held_open"] == ["console"]
    assert table["door_forced_open"] == ["console", "email"]
    assert len(table) == 5
