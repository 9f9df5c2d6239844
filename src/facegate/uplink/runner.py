"""The uplink: follow the site's events by ``seq``, publish signed batches, take notices.

One :class:`Uplink` per site: an MQTT 5 client with the fixed id ``site-<site id>``, a
persistent session (``clean_start=False`` and a session expiry, so notices queued while
the site was away arrive when it returns) and one batch in flight at a time at QoS 1.
The cursor (``<data-dir>/uplink/cursor``) advances only when the hub says the batch is
committed (a signed :class:`~facegate.city.wire.Ack` on ``facegate/city/<s>/acks``),
not on the broker's PUBACK: a broker restart that loses an acknowledged message cannot
make the site skip it. A batch not committed within :data:`RESEND_AFTER_S`, or refused
by the broker (a PUBACK reason code "not authorized" after a revoke), is sent again
(the hub drops the duplicate). Delivery is at least once; the hub's unique index makes
it once.

``seq`` gaps: on PostgreSQL two transactions may commit their ``seq`` out of order, so a
batch stops before a gap until the gap is :data:`GAP_WAIT_S` old (a rolled-back or
purged event never fills it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine, func, select

from facegate.city.keys import public_from_text
from facegate.city.wire import (
    MAX_BATCH_EVENTS,
    Ack,
    DailySummary,
    EventBatch,
    Health,
    WireEvent,
    seal,
    topic,
    unseal,
)
from facegate.domain.errors import FacegateError
from facegate.domain.reasons import Reason
from facegate.store.schema import EventRow
from facegate.uplink.state import UplinkConfig, UplinkFiles

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600
"""How long the broker keeps a site's session while it is away (seconds)."""

RESEND_AFTER_S = 30.0
"""A batch the hub has not confirmed after this long is published again (seconds); it
goes again at once after a reconnection (the broker may have lost it in a restart)."""

GAP_WAIT_S = 10.0
"""How long a batch waits for a missing ``seq`` before skipping it (seconds)."""

INFLIGHT_POLL_S = 0.01
"""How often an unacknowledged batch is checked (seconds)."""

POLL_S = 0.2
"""How often the events table is read for new events when nothing is in flight (seconds)."""

_events = EventRow.__table__


@dataclass
class _InFlight:
    info: mqtt.MQTTMessageInfo
    connection: int
    first_seq: int
    last_seq: int
    sent_at: float
    payload: bytes
    count: int


HealthSource = Callable[[int], Health]
"""Builds the site's health message given its backlog (events not yet acknowledged)."""


class Uplink:
    """One site's uplink.

    Args:
        files: the uplink's files.
        config: the hub as agreed at join.
        key: the site's private key.
        site_db: the site's database engine (its ``events`` table is followed).
        on_notice: called with each raw message on the site's notices topic.
        now: the clock (UTC).
    """

    def __init__(
        self,
        files: UplinkFiles,
        config: UplinkConfig,
        key: Ed25519PrivateKey,
        site_db: Engine,
        on_notice: Callable[[bytes], object] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.files, self.config, self.key, self.site_db = files, config, key, site_db
        self.now = now
        self.cursor = files.cursor()
        self.sent_events = 0
        self.refused_batches = 0
        self._hub_key = public_from_text(config.hub_public_key)
        self._hub_acked: tuple[int, int] = (0, 0)
        self._inflight: _InFlight | None = None
        self._refused_mids: set[int] = set()
        self._gap_since: float | None = None
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"site-{config.site_id}", protocol=mqtt.MQTTv5
        )
        if config.broker_password is not None:
            self._client.username_pw_set(config.site_id, config.broker_password)
        self._client.on_publish = self._on_publish
        notices, acks = topic(config.site_id, "notices"), topic(config.site_id, "acks")
        self._connections = 0

        def on_connect(client: mqtt.Client, *_: object) -> None:
            self._connections += 1
            client.subscribe([(notices, 1), (acks, 1)])

        self._client.on_connect = on_connect
        self._client.message_callback_add(acks, self._on_ack)
        if on_notice is not None:

            def notice(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
                try:
                    on_notice(bytes(message.payload))
                except FacegateError as err:  # e.g. the site database is unreachable
                    log.error("uplink: a notice could not be applied (%s)", err)

            self._client.message_callback_add(notices, notice)

    def _on_publish(self, _c: mqtt.Client, _u: object, mid: int, code: object, _p: object) -> None:
        if getattr(code, "is_failure", False):  # e.g. 0x87 not authorized (revoked, ACL)
            self._refused_mids.add(mid)

    def _on_ack(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        try:
            ack = unseal(bytes(message.payload), self._hub_key, Ack)
        except FacegateError as err:
            log.warning("uplink: ignored an acknowledgement (%s)", err)
            return
        if ack.site_id == self.config.site_id:
            self._hub_acked = (ack.first_seq, ack.last_seq)

    def connect(self) -> None:
        """Connect in the background (paho reconnects by itself after a loss)."""
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        self._client.connect_async(
            self.config.broker_host,
            self.config.broker_port,
            keepalive=30,
            clean_start=False,
            properties=properties,
        )
        self._client.loop_start()

    def close(self) -> None:
        """Disconnect (the session stays on the broker)."""
        self._client.disconnect()
        self._client.loop_stop()

    @property
    def connected(self) -> bool:
        """Whether the broker link is up now."""
        return self._client.is_connected()

    def step(self) -> int:
        """Settle the batch in flight or publish the next one; events published now."""
        return self.settle() and self.publish_next()

    @property
    def in_flight(self) -> bool:
        """Whether a batch waits for the hub's confirmation."""
        return self._inflight is not None

    def settle(self) -> bool:
        """Whether no batch is in flight any more (settling the one there is, if it can)."""
        if self._inflight is not None:
            if not self._settled(self._inflight):
                return False
            self._inflight = None
        return True

    def publish_next(self) -> int:
        """Publish the next batch of new events (none in flight); events published."""
        if not self._client.is_connected():
            return 0
        events = self._next_events()
        if not events:
            return 0
        batch = EventBatch(site_id=self.config.site_id, sent_at=self.now(), events=events)
        payload = seal(batch, self.key)
        info = self._client.publish(topic(self.config.site_id, "events"), payload, qos=1)
        self._inflight = _InFlight(
            info,
            self._connections,
            events[0].seq,
            events[-1].seq,
            time.monotonic(),
            payload,
            len(events),
        )
        return len(events)

    def _settled(self, inflight: _InFlight) -> bool:
        """Whether the hub committed ``inflight`` (then the cursor moves past it)."""
        first, last = self._hub_acked
        if first <= inflight.first_seq and last >= inflight.last_seq:
            self.cursor = inflight.last_seq
            self.files.save_cursor(self.cursor)
            self.sent_events += inflight.count
            return True
        if inflight.info.mid in self._refused_mids:
            self._refused_mids.discard(inflight.info.mid)
            self.refused_batches += 1
            log.error("uplink: the broker refused the batch up to seq %d", inflight.last_seq)
            inflight.sent_at = time.monotonic()  # tried again after RESEND_AFTER_S
            return False
        if (
            inflight.connection == self._connections
            and time.monotonic() - inflight.sent_at < RESEND_AFTER_S
        ):
            return False
        if self._client.is_connected():
            inflight.connection = self._connections
            log.warning("uplink: batch up to seq %d not committed; resending", inflight.last_seq)
            inflight.info = self._client.publish(
                topic(self.config.site_id, "events"), inflight.payload, qos=1
            )
        inflight.sent_at = time.monotonic()
        return False

    def _next_events(self) -> list[WireEvent]:
        query = (
            select(
                _events.c.id,
                _events.c.seq,
                _events.c.door_id,
                _events.c.occurred_at,
                _events.c.granted,
                _events.c.reason,
            )
            .where(_events.c.seq > self.cursor)
            .order_by(_events.c.seq)
            .limit(MAX_BATCH_EVENTS)
        )
        with self.site_db.connect() as connection:
            rows = connection.execute(query).all()
        events: list[WireEvent] = []
        expected = self.cursor + 1
        for row in rows:
            if row.seq != expected and not self._gap_expired():
                break
            events.append(
                WireEvent(
                    key=row.id,
                    seq=row.seq,
                    door_id=row.door_id,
                    occurred_at=_aware(row.occurred_at),
                    granted=row.granted,
                    reason=Reason(row.reason),
                )
            )
            expected = row.seq + 1
        if events:
            self._gap_since = None
        return events

    def _gap_expired(self) -> bool:
        if self._gap_since is None:
            self._gap_since = time.monotonic()
        return time.monotonic() - self._gap_since >= GAP_WAIT_S

    def backlog(self) -> int:
        """Events of the site not yet acknowledged by the broker."""
        with self.site_db.connect() as connection:
            count = connection.execute(
                select(func.count()).select_from(_events).where(_events.c.seq > self.cursor)
            )
            return int(count.scalar_one())

    def publish_health(self, source: HealthSource) -> None:
        """Publish the site's health (QoS 1; not waited for)."""
        health = source(self.backlog())
        self._client.publish(topic(self.config.site_id, "health"), seal(health, self.key), qos=1)

    def publish_summaries(self, summaries: Callable[[], list[DailySummary]]) -> None:
        """Publish the daily summaries ``summaries`` gives (QoS 1; not waited for)."""
        for summary in summaries():
            payload = seal(summary, self.key)
            self._client.publish(topic(self.config.site_id, "summary"), payload, qos=1)

    def run(
        self,
        source: HealthSource,
        health_every_s: float,
        summaries: Callable[[], list[DailySummary]] | None = None,
        stop: Callable[[], bool] = lambda: False,
        poll_s: float = POLL_S,
    ) -> None:
        """Publish until ``stop()``.

        Batches go as events come; health, and the daily summaries when given, every
        ``health_every_s``.
        """
        self.connect()
        next_health = 0.0
        try:
            while not stop():
                if time.monotonic() >= next_health and self._client.is_connected():
                    self.publish_health(source)
                    if summaries is not None:
                        self.publish_summaries(summaries)
                    next_health = time.monotonic() + health_every_s
                if self.step() == 0:
                    time.sleep(poll_s if self._inflight is None else INFLIGHT_POLL_S)
        finally:
            self.close()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
