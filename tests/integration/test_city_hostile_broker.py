"""A hostile complex with its own broker account, against a private Mosquitto with the
city's accounts and ACL: what it can send the hub's ingest workers, and whose session it
can take.

Oversized messages: a site may publish up to the broker's limit (Mosquitto's default:
the protocol's 256 MB); a worker read each one into memory before refusing it for its
size (up to ``RECEIVE_MAXIMUM`` of them unacknowledged at once). Now a worker tells the
broker its maximum packet size at CONNECT and the broker never sends it a larger one."""

from __future__ import annotations

import subprocess
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from city_support import CityBroker, wait_until
from facegate.city.keys import new_private_key, public_text
from facegate.city.wire import MAX_MESSAGE_BYTES, EventBatch, WireEvent, seal, topic
from facegate.domain.reasons import Reason
from facegate.hub.ingest import IngestWorker
from facegate.hub.store import HubStore
from facegate.store.database import create_db_engine

NOW = datetime.now(UTC)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[CityBroker]:
    own = CityBroker(tmp_path)
    own.start()
    yield own
    own.kill()


def _account(broker: CityBroker, user: str) -> str:
    password = uuid.uuid4().hex
    subprocess.run(["mosquitto_passwd", "-b", str(broker.passwd), user, password], check=True)
    subprocess.run(["kill", "-HUP", broker.pid_file.read_text().strip()], check=True)
    return password


def _client(
    port: int, user: str, password: str, client_id: str, clean_start: bool = False
) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.username_pw_set(user, password)
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = 3600
    client.connect("127.0.0.1", port, clean_start=clean_start, properties=properties)
    client.loop_start()
    return client


def _close(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


def test_a_site_cannot_take_another_sites_session_and_its_queued_notice(
    broker: CityBroker,
) -> None:
    """Before, a complex connecting with another's client id (``site-<id>``: site ids are
    on the public transparency report) with ``clean_start`` wiped that complex's
    persistent session, and with it a lockdown notice queued while it was away."""
    victim, hostile = "s-victim", "s-hostile"
    victim_pw, hostile_pw = _account(broker, victim), _account(broker, hostile)
    got: list[bytes] = []
    site = _client(broker.port, victim, victim_pw, f"site-{victim}")
    subscribed = threading.Event()
    site.on_subscribe = lambda *_: subscribed.set()
    wait_until(lambda: site.is_connected(), what="the victim")
    site.subscribe(topic(victim, "notices"), qos=1)
    assert subscribed.wait(5)
    _close(site)
    hub = _client(broker.hub_port, "hub", broker.hub_password, "hub-notices", clean_start=True)
    wait_until(lambda: hub.is_connected(), what="the hub")
    hub.publish(topic(victim, "notices"), b"lockdown", qos=1).wait_for_publish(5)
    _close(hub)
    for clean_start in (False, True):  # take the session, then wipe it
        thief = _client(broker.port, hostile, hostile_pw, f"site-{victim}", clean_start)
        wait_until(lambda: thief.is_connected(), what="the hostile site")  # noqa: B023
        _close(thief)
    site = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"site-{victim}",
                       protocol=mqtt.MQTTv5)  # fmt: skip
    site.on_message = lambda _c, _u, message: got.append(bytes(message.payload))
    site.username_pw_set(victim, victim_pw)
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = 3600
    site.connect("127.0.0.1", broker.port, clean_start=False, properties=properties)
    site.loop_start()
    try:
        wait_until(lambda: got == [b"lockdown"], timeout_s=5, what="the queued notice")
    finally:
        _close(site)


def test_a_worker_is_never_sent_a_message_past_its_limit(
    broker: CityBroker, postgres_url: str
) -> None:
    hub = HubStore(create_db_engine(postgres_url))
    hub.migrate()
    key = new_private_key()
    site, token = hub.add_site({"name": "hostile", "district": "d"}, NOW)
    hub.join(token, public_text(key), NOW)
    password = _account(broker, site)
    worker = IngestWorker(hub, "127.0.0.1", broker.hub_port, f"w-{uuid.uuid4().hex[:6]}",
                          lambda: NOW, new_private_key(), ("hub", broker.hub_password))  # fmt: skip
    worker.start()
    sender = _client(broker.port, site, password, f"site-{site}")
    try:
        wait_until(lambda: worker.counters.connects == 1 and sender.is_connected(), what="links")
        huge = b"x" * (4 * MAX_MESSAGE_BYTES)
        sender.publish(topic(site, "events"), huge, qos=1).wait_for_publish(5)
        event = WireEvent(key="k1", seq=1, door_id="d", occurred_at=NOW, granted=True,
                          reason=Reason.GRANTED)  # fmt: skip
        good = seal(EventBatch(site_id=site, sent_at=NOW, events=[event]), key)
        sender.publish(topic(site, "events"), good, qos=1).wait_for_publish(5)
        wait_until(lambda: worker.counters.events_inserted == 1, what="the good batch")
        assert worker.counters.refused == {}  # before: {"malformed": 1}, the 4 MB read
    finally:
        sender.disconnect()
        sender.loop_stop()
        worker.stop()
        hub.engine.dispose()
