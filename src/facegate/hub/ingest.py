"""Hub ingest workers: MQTT shared subscription -> verified batches -> PostgreSQL.

A worker connects with a fixed client id, a persistent session (MQTT 5
``clean_start=False`` and a session expiry) and manual acknowledgements: a message is
acknowledged only after the transaction holding its events has committed, so a worker
killed mid-batch gets its unacknowledged messages again when it reconnects with the
same client id, and the unique index makes the redelivery a no-op. Several workers
share ``$share/hub/facegate/city/+/<channel>``: the broker spreads messages among them.

After the commit the worker publishes a signed :class:`~facegate.city.wire.Ack` per
batch on ``facegate/city/<site>/acks``; a site's cursor moves on that, so a message the
broker acknowledged and then lost is sent again by its site.

Every message is verified with the public key of the site its topic names, and the
body must claim that same site (a site cannot post as another). A message that fails
(unknown or revoked site, bad signature, malformed) is logged, counted and acknowledged:
it will never become valid, and leaving it unacknowledged would block the session.

A signed batch is read event by event when it does not parse whole, and a chunk the
database refuses as bad data (SQLSTATE class 22 or 23) is written again one event at a
time: the events it refuses are refused (counted, logged, one
``refused_events`` alarm per site and chunk), the others stored, and the hub's ``Ack``
covers the whole batch, so the site moves on instead of resending it forever. Any other
database error is an outage: the chunk is retried.

A watchdog ends the process (exit code 5, a needed service unreachable) when the
writer has made no progress for :data:`STALL_S`: no chunk finished and no idle wait for
new messages. A worker alive but no longer writing would otherwise keep its MQTT
session, so the broker would go on giving it its share of the shared subscription,
never acknowledged. Its service manager starts it again; the persistent session (same
client id) hands the unacknowledged messages to the new process.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from facegate.city.keys import public_from_text
from facegate.city.wire import (
    MAX_MESSAGE_BYTES,
    TOPIC_ROOT,
    Ack,
    DailySummary,
    Health,
    SignatureRefusedError,
    WireEvent,
    seal,
    sift_batch,
    site_of_topic,
    topic,
    unseal,
    verified,
)
from facegate.domain.errors import BadInputError, DatabaseUnavailableError, FacegateError
from facegate.hub.settings import RETENTION_DAYS
from facegate.hub.store import HubStore, SiteKey, UnstorableError

log = logging.getLogger(__name__)

W = TypeVar("W")

SHARE_GROUP = "hub"
"""The shared-subscription group of ingest workers."""

SESSION_EXPIRY_S = 7 * 24 * 3600
"""How long the broker keeps a worker's session (and its messages) while it is away (s)."""

RECEIVE_MAXIMUM = 500
"""Most unacknowledged messages a worker accepts at once (the broker may cap it lower)."""

MAX_PACKET_BYTES = MAX_MESSAGE_BYTES + 4096
"""Largest MQTT packet a worker accepts (bytes): the largest envelope parsed, plus room
for the topic and properties. Sent at CONNECT (MQTT 5 Maximum Packet Size): the broker
drops a larger message instead of sending it, so a site cannot make a worker read
hundreds of megabytes (the protocol's limit) only to refuse them."""

BATCH_WAIT_S = 0.05
"""How long a worker gathers messages before writing them in one transaction (s)."""

MAX_ROWS = 5000
"""Most events written in one transaction."""

RETRY_S = 1.0
"""Pause between two attempts to write a batch the database refused (s)."""

STALL_S = 120.0
"""A writer with no progress for this long is stalled and its process exits (s). The
database calls of a chunk are bounded (connect 5 s, COPY statements 30 s, a lock held
by a hub session stranded in a transaction 10 s, a silent peer ~25 s of keepalives):
only an unforeseen hang, or a database refusing writes for two minutes, reaches it."""

AHEAD_S = 24 * 3600.0
"""Events dated further than this ahead of the hub's clock are not stored (seconds): the
site's clock runs fast. Each month needs a partition of its own, and the city-wide
search touches every partition: with one complex's events in 3,000 distinct months it
failed for lack of lock slots (``bench/hub_partitions.py``, docs/city.md). The hub raises
a ``clock_ahead`` alarm for the site instead; the site keeps its events."""

EXIT_STALLED = 5
"""The exit code of a stalled worker's process (the contract's "service unreachable")."""


def exit_stalled() -> None:
    """End the process with :data:`EXIT_STALLED` (the writer thread cannot be stopped)."""
    sys.stderr.flush()
    os._exit(EXIT_STALLED)


@dataclass
class IngestCounters:
    """What a worker has done since it started (read from other threads)."""

    messages: int = 0
    events_inserted: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    not_kept: int = 0
    """Events outside the hub's retention or too far ahead of its clock (not stored)."""
    events_refused: int = 0
    """Events of signed batches refused: the wire or the database would not take them."""
    db_retries: int = 0
    connects: int = 0
    sessions_resumed: int = 0
    """Connections on which the broker still held this client id's session."""

    def refuse(self, why: str) -> None:
        """Count one refused message under ``why``."""
        self.refused[why] = self.refused.get(why, 0) + 1


class IngestWorker:
    """One ingest worker.

    Args:
        store: the hub database.
        host: broker host.
        port: broker port.
        client_id: this worker's fixed client id (``hub-ingest-1``...).
        now: the clock (UTC).
        key: the hub's private key (signs the acknowledgements sent to sites).
        credentials: broker ``(username, password)``, when the broker asks for them.
        stall_s: seconds without progress after which the writer is stalled.
        on_stall: called once when it is (default: :func:`exit_stalled`).
        keep_days: the hub's retention (days): an older event is not stored, as
            retention would drop it.
    """

    def __init__(
        self,
        store: HubStore,
        host: str,
        port: int,
        client_id: str,
        now: Callable[[], datetime],
        key: Ed25519PrivateKey,
        credentials: tuple[str, str] | None = None,
        stall_s: float = STALL_S,
        on_stall: Callable[[], None] = exit_stalled,
        keep_days: int = RETENTION_DAYS,
    ) -> None:
        self.store, self.now, self.key = store, now, key
        self.keep_days = keep_days
        self._acks: list[tuple[str, int, int]] = []
        self._refusals: dict[str, tuple[int, str]] = {}
        self.stall_s, self._on_stall = stall_s, on_stall
        self._progress_at = time.monotonic()
        self._last_error = "none"
        self.counters = IngestCounters()
        self._keys: dict[str, SiteKey] = {}
        self._inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._stop = threading.Event()
        self._host, self._port = host, port
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if credentials is not None:
            self._client.username_pw_set(*credentials)
        self._client.on_connect = self._on_connect
        self._client.on_message = lambda _c, _u, message: self._inbox.put(message)

    def start(self) -> None:
        """Connect (retrying in the background) and start the writer thread."""
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        properties.MaximumPacketSize = MAX_PACKET_BYTES
        self._client.connect_async(
            self._host, self._port, keepalive=30, clean_start=False, properties=properties
        )
        self._client.loop_start()
        self.start_threads()

    def start_threads(self) -> None:
        """Start the writer and its watchdog (:meth:`start` does, after the broker link)."""
        self._progress_at = time.monotonic()
        self._writer = threading.Thread(target=self._run, name="hub-ingest", daemon=True)
        self._writer.start()
        threading.Thread(target=self._watch, name="hub-ingest-watchdog", daemon=True).start()

    def stalled(self) -> bool:
        """Whether the writer thread has ended, or made no progress for :attr:`stall_s`."""
        if self._stop.is_set():
            return False
        return not self._writer.is_alive() or time.monotonic() - self._progress_at > self.stall_s

    def _watch(self) -> None:
        while not self._stop.wait(min(self.stall_s / 4, 5.0)):
            if self.stalled():
                frame = sys._current_frames().get(self._writer.ident or -1)
                where = "".join(traceback.format_stack(frame)) if frame else "(thread ended)\n"
                log.critical(
                    "ingest: writer stalled: no progress for %.0f s (last database error: "
                    "%s); ending the worker so its service manager starts a fresh one. "
                    "Writer at:\n%s",
                    time.monotonic() - self._progress_at,
                    self._last_error,
                    where,
                )
                self._on_stall()
                return

    def stop(self) -> None:
        """Stop writing and disconnect (the session stays on the broker)."""
        self._stop.set()
        self._writer.join(timeout=10)
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, _u: object, flags: object, code: object, _p: object
    ) -> None:
        if getattr(code, "is_failure", False):
            log.error("ingest: broker refused the connection (%s)", code)
            return
        self.counters.connects += 1
        if getattr(flags, "session_present", False):
            self.counters.sessions_resumed += 1
        subscriptions = [
            (f"$share/{SHARE_GROUP}/{TOPIC_ROOT}/+/{channel}", 1)
            for channel in ("events", "health", "summary")
        ]
        client.subscribe(subscriptions)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._inbox.get(timeout=0.2)
            except queue.Empty:
                self._progress_at = time.monotonic()  # idle: nothing waits on this writer
                continue
            messages = [first]
            deadline = time.monotonic() + BATCH_WAIT_S
            while len(messages) < RECEIVE_MAXIMUM and (left := deadline - time.monotonic()) > 0:
                try:
                    messages.append(self._inbox.get(timeout=left))
                except queue.Empty:
                    break
            self._handle_until_done(messages)
            self._progress_at = time.monotonic()

    def _handle_until_done(self, messages: list[mqtt.MQTTMessage]) -> None:
        """Handle ``messages``, trying again after an unforeseen error.

        The messages stay unacknowledged until handled: a writer thread that died on an
        error would leave them, and every later one, unwritten and unacknowledged while
        the process looked alive.
        """
        while not self._stop.is_set():
            try:
                self._handle(messages)
                return
            except Exception as err:  # logged, and the chunk is tried again
                self._last_error = repr(err)
                self.counters.db_retries += 1
                log.exception("ingest: a chunk failed unexpectedly; retrying in %.1f s", RETRY_S)
                self._stop.wait(RETRY_S)

    def _handle(self, messages: list[mqtt.MQTTMessage]) -> None:
        self._keys = self._site_keys(messages)
        self._acks, self._refusals = [], {}
        rows: list[tuple[str, WireEvent]] = []
        for message in messages:
            rows.extend(self._accept(message))
        for start in range(0, max(len(rows), 1), MAX_ROWS):
            self._write_sifting(rows[start : start + MAX_ROWS])
        for site_id, (count, why) in self._refusals.items():
            detail = f"{count} event(s) refused: {why}"
            self.store.add_alarm(site_id, "refused_events", detail, self.now())
        for site_id, first, last in self._acks:  # committed: tell each site
            ack = Ack(site_id=site_id, first_seq=first, last_seq=last)
            self._client.publish(topic(site_id, "acks"), seal(ack, self.key), qos=1)
        for message in messages:
            self._client.ack(message.mid, message.qos)
        self.counters.messages += len(messages)

    def _write_sifting(self, rows: list[tuple[str, WireEvent]]) -> None:
        """Write ``rows``; if the database refuses the data, again one event at a time.

        The second pass (:meth:`HubStore.store_each`) stores what it can and refuses the
        events the database refuses (:meth:`_refuse_events`).
        """
        try:
            self.counters.events_inserted += self._write(self.store.store_events, rows)
            return
        except UnstorableError as err:
            log.warning("ingest: the database refused a chunk (%s); storing it event by event", err)
        try:
            inserted, refused = self._write(self.store.store_each, rows)
        except UnstorableError as err:  # not even the events' months
            inserted, refused = 0, [(index, str(err)) for index in range(len(rows))]
        self.counters.events_inserted += inserted
        by_site: dict[str, list[str]] = {}
        for index, why in refused:
            by_site.setdefault(rows[index][0], []).append(why)
        for site_id, whys in by_site.items():
            self._refuse_events(site_id, len(whys), whys[0])

    def _write(self, store: Callable[[list[tuple[str, WireEvent]], datetime], W],
               rows: list[tuple[str, WireEvent]]) -> W:  # fmt: skip
        """``store(rows, now)``, retried while the database is unavailable."""
        while not self._stop.is_set():
            try:
                return store(rows, self.now())
            except DatabaseUnavailableError as err:
                self._last_error = str(err)
                self.counters.db_retries += 1
                log.warning("ingest: %s; retrying in %.1f s", err, RETRY_S)
                self._stop.wait(RETRY_S)
        raise SystemExit("ingest stopped with a batch not written (it was not acknowledged)")

    def _accept(self, message: mqtt.MQTTMessage) -> list[tuple[str, WireEvent]]:
        """The events of one message, or nothing (health and summaries are stored here)."""
        try:
            site_id, channel = site_of_topic(message.topic)
            public = public_from_text(self._key_of(site_id))
            if channel == "events":
                batch = sift_batch(verified(bytes(message.payload), public))
                _same_site(site_id, batch.site_id)
                if batch.refused:
                    self._refuse_events(site_id, batch.refused, batch.why)
                kept = self._placeable(site_id, batch.events)
                if batch.seqs:  # the whole batch, refused events included
                    self._acks.append((site_id, min(batch.seqs), max(batch.seqs)))
                return [(site_id, event) for event in kept]
            if channel == "health":
                health = unseal(bytes(message.payload), public, Health)
                _same_site(site_id, health.site_id)
                self.store.store_health(health, self.now())
            elif channel == "summary":
                summary = unseal(bytes(message.payload), public, DailySummary)
                _same_site(site_id, summary.site_id)
                self.store.store_summary(summary, self.now())
        except SignatureRefusedError as err:
            self._refuse("signature", message.topic, err)
        except BadInputError as err:
            self._refuse("malformed", message.topic, err)
        except FacegateError as err:
            self._refuse("refused", message.topic, err)
        return []

    def _placeable(self, site_id: str, events: list[WireEvent]) -> list[WireEvent]:
        """The events dated within the hub's retention and :data:`AHEAD_S` ahead of now.

        Older ones are not stored (retention would drop them); for later ones, the site's
        clock runs fast, and a ``clock_ahead`` alarm is raised.

        Raises:
            DatabaseUnavailableError: the alarm could not be written.
        """
        now = self.now()
        earliest, latest = now - timedelta(days=self.keep_days), now + timedelta(seconds=AHEAD_S)
        kept = [e for e in events if earliest <= e.occurred_at <= latest]
        ahead = [e for e in events if e.occurred_at > latest]
        if ahead:
            last = max(e.occurred_at for e in ahead)
            detail = (
                f"{len(ahead)} event(s) dated up to {last.isoformat()} not kept (site clock ahead)"
            )
            log.warning("ingest: site %s: %s", site_id, detail)
            self.store.add_alarm(site_id, "clock_ahead", detail, now)
        self.counters.not_kept += len(events) - len(kept)
        return kept

    def _refuse_events(self, site_id: str, count: int, why: str) -> None:
        """Count and log ``count`` refused events of ``site_id``; alarmed after the chunk."""
        self.counters.events_refused += count
        log.warning("ingest: site %s: %d event(s) refused (%s)", site_id, count, why)
        before, first_why = self._refusals.get(site_id, (0, why))
        self._refusals[site_id] = (before + count, first_why)

    def _refuse(self, why: str, topic: str, err: Exception) -> None:
        self.counters.refuse(why)
        log.warning("ingest: refused a message on %s (%s: %s)", topic, why, err)

    def _site_keys(self, messages: list[mqtt.MQTTMessage]) -> dict[str, SiteKey]:
        """The keys of the sites these messages name, read afresh for every chunk.

        A revoke holds from the next chunk on; a database outage is waited out.
        """
        names = {m.topic.split("/")[2] for m in messages if m.topic.count("/") == 3}
        while True:
            try:
                return self.store.site_keys(names)
            except DatabaseUnavailableError as err:
                self._last_error = str(err)
                self.counters.db_retries += 1
                log.warning("ingest: %s; retrying in %.1f s", err, RETRY_S)
                if self._stop.wait(RETRY_S):
                    raise SystemExit("ingest stopped before reading site keys") from err

    def _key_of(self, site_id: str) -> str:
        """The site's public key from this chunk's reading."""
        known = self._keys.get(site_id)
        if known is None or known.public_key is None:
            raise SignatureRefusedError(f"site {site_id!r} has not joined this hub")
        if known.revoked:
            raise SignatureRefusedError(f"site {site_id!r} is revoked")
        return known.public_key


def _same_site(topic_site: str, claimed: str) -> None:
    if topic_site != claimed:
        raise SignatureRefusedError(f"a message on {topic_site}'s topic claims site {claimed}")
