"""The messages between a site and the hub, and their signed envelope.

Every message is a JSON *body* signed as bytes, carried in an envelope
``{"body": "<the body's JSON text>", "sig": "<base64 Ed25519 signature>"}``: the
receiver verifies the exact bytes it got, then parses them. Models refuse unknown
fields, so a sender cannot smuggle a person, a template or an image into the hub (the
test ``tests/unit/test_city_wire.py`` lists every field and refuses person-like names).

Topics (``<s>`` the site's id on the hub):

- ``facegate/city/<s>/events``: :class:`EventBatch`, site -> hub, QoS 1.
- ``facegate/city/<s>/health``: :class:`Health`, site -> hub, QoS 1.
- ``facegate/city/<s>/summary``: :class:`DailySummary`, site -> hub, QoS 1.
- ``facegate/city/<s>/notices``: :class:`Notice`, hub -> site, QoS 1.
- ``facegate/city/<s>/acks``: :class:`Ack`, hub -> site, QoS 1: a batch is committed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Literal, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from facegate.city.keys import sign, verify
from facegate.domain.errors import BadInputError, PolicyRefusedError
from facegate.domain.policy import SiteMode
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind

M = TypeVar("M", bound=BaseModel)

TOPIC_ROOT = "facegate/city"
"""First levels of every city topic."""

MAX_BATCH_EVENTS = 1000
"""Most events in one batch message (about 150 kB of JSON)."""

MAX_MESSAGE_BYTES = 1 << 20
"""Largest envelope a receiver parses (bytes)."""

Channel = Literal["events", "health", "summary", "notices", "acks"]
SiteId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class SignatureRefusedError(PolicyRefusedError):
    """A message whose signature does not verify with the key it must come from."""


def topic(site_id: str, channel: Channel) -> str:
    """The topic of ``channel`` for ``site_id``."""
    return f"{TOPIC_ROOT}/{site_id}/{channel}"


def site_of_topic(name: str) -> tuple[str, str]:
    """``(site_id, channel)`` of a city topic.

    Raises:
        BadInputError: ``name`` is not ``facegate/city/<site>/<channel>``.
    """
    parts = name.split("/")
    if len(parts) != 4 or "/".join(parts[:2]) != TOPIC_ROOT:
        raise BadInputError(f"not a city topic: {name!r}")
    return parts[2], parts[3]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


MAX_SEQ = (1 << 63) - 1
"""Largest ``seq`` (a PostgreSQL ``bigint``, the column that stores it)."""

EARLIEST_EVENT = datetime(1900, 1, 1, tzinfo=UTC)
"""Earliest ``occurred_at`` taken (UTC): before any real event, after a reset clock's 1970."""

LATEST_EVENT = datetime(9000, 1, 1, tzinfo=UTC)
"""Latest ``occurred_at`` taken (UTC): far past any clock, well before the calendar's end."""


def _storable_moment(moment: datetime) -> datetime:
    if not EARLIEST_EVENT <= moment <= LATEST_EVENT:
        raise ValueError(f"between {EARLIEST_EVENT.year} and {LATEST_EVENT.year} (UTC)")
    return moment


OpaqueId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
"""A site's own id of something (event, door): no control character (PostgreSQL text
cannot hold NUL)."""


class WireEvent(_Wire):
    """One decision at a door as the hub sees it: no person, no score, no image.

    Every field fits the hub's columns and its monthly partitions: a signed event the hub
    could not store would be retried by an ingest worker forever.
    """

    key: OpaqueId = Field(description="the site's event id")
    seq: int = Field(ge=1, le=MAX_SEQ, description="the site's insertion sequence")
    door_id: OpaqueId
    occurred_at: Annotated[AwareDatetime, AfterValidator(_storable_moment)]
    granted: bool
    reason: Reason
    credential: CredentialKind | None = None


class EventBatch(_Wire):
    """Consecutive events of one site, in ``seq`` order."""

    site_id: SiteId
    sent_at: AwareDatetime
    events: list[WireEvent] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)


class _BatchHead(_Wire):
    """An :class:`EventBatch` whose events are not read yet (see :func:`sift_batch`)."""

    site_id: SiteId
    sent_at: AwareDatetime
    events: list[dict[str, object]] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)


@dataclass(frozen=True, slots=True)
class SiftedBatch:
    """A signed batch read event by event: the events the wire takes, and what it refused.

    Attributes:
        site_id: the site the batch claims.
        events: the events the wire takes, in the batch's order.
        seqs: the ``seq`` of every event that carries a usable one, refused ones included
            (the hub's :class:`Ack` covers them, so the site moves past the refused).
        refused: how many events the wire refused.
        why: the first refusal's reason (``""`` when none).
    """

    site_id: str
    events: list[WireEvent]
    seqs: list[int]
    refused: int = 0
    why: str = ""


def sift_batch(body: bytes) -> SiftedBatch:
    """A verified batch body read as a whole, or else event by event.

    Refusing the whole batch for one bad event would leave its site resending it forever
    (its cursor moves only on the hub's :class:`Ack`), and every event behind it unsent.

    Raises:
        BadInputError: not a batch at all (its site, time or list of events unusable).
    """
    try:
        batch = parse(body, EventBatch)
        return SiftedBatch(batch.site_id, list(batch.events), [e.seq for e in batch.events])
    except BadInputError:
        head = parse(body, _BatchHead)
    events, seqs, why = [], [], ""
    for item in head.events:
        seq = item.get("seq")
        if type(seq) is int and 1 <= seq <= MAX_SEQ:
            seqs.append(seq)
        try:
            events.append(parse(json.dumps(item).encode(), WireEvent))
        except BadInputError as err:
            why = why or str(err)
    return SiftedBatch(head.site_id, events, seqs, len(head.events) - len(events), why)


class Health(_Wire):
    """A site's state every ``uplink.health_every_s`` seconds."""

    site_id: SiteId
    sent_at: AwareDatetime
    gates_online: int = Field(ge=0)
    gates_total: int = Field(ge=0)
    last_sync_at: AwareDatetime | None = None
    backlog: int = Field(ge=0, description="events not yet acknowledged by the broker")
    door_states: dict[OpaqueId, Literal["locked", "unlocked", "open", "unknown"]] = Field(
        default_factory=dict, max_length=1000
    )
    active_alarms: int = Field(ge=0)
    mode: SiteMode = SiteMode.NORMAL


SUMMARY_COUNTS = (
    "residents",
    "face_enrolled",
    "card_pin_only",
    "consent_withdrawals",
    "entries",
    "denials",
    "alert_entries_in_force",
    "disclosures",
)
"""Counts a daily summary carries besides ``denials_by_reason`` and ``disclosure_bases``."""


MAX_BASIS_CHARS = 100
"""Longest legal-basis text a summary carries (the site cuts it there)."""

Count = Annotated[int, Field(ge=0)]
"""A number of people, events or disclosures: never negative."""


class DailySummary(_Wire):
    """The counts of one day the transparency report needs (no personal data).

    Counts are never negative: a district's figure is the sum of its sites', so a
    negative count would let one site hide the others' (a total shown ``<5``).
    """

    site_id: SiteId
    day: date
    counts: dict[Literal[SUMMARY_COUNTS], Count]  # type: ignore[valid-type]
    denials_by_reason: dict[Reason, Count] = Field(default_factory=dict)
    disclosure_bases: dict[Annotated[str, Field(max_length=MAX_BASIS_CHARS)], Count] = Field(
        default_factory=dict, max_length=50
    )


class Ack(_Wire):
    """The hub's word that a site's batch ``first_seq..last_seq`` is committed.

    The site's cursor advances on this, not on the broker's PUBACK: a broker that
    acknowledged a message and then lost it (a restart before the ingest workers'
    subscription was back) cannot make a site skip events. Signed by the hub.
    """

    site_id: SiteId
    first_seq: int = Field(ge=1)
    last_seq: int = Field(ge=1)


NoticeKind = Literal["lockdown", "free_passage", "normal", "announcement"]


class Notice(_Wire):
    """A city notice for one site, signed by the hub.

    ``seq`` grows with every notice the hub issues: a site refuses a notice whose
    ``seq`` is not above the last one it accepted (a replay). ``ends_at`` is when an
    emergency mode ends (the site returns to normal) or an announcement stops showing;
    a notice received after it is refused as expired.
    """

    seq: int = Field(ge=1)
    site_id: SiteId
    kind: NoticeKind
    issued_at: AwareDatetime
    ends_at: AwareDatetime
    text: str = Field(default="", max_length=1000)


def canonical(model: BaseModel) -> bytes:
    """The JSON bytes of ``model`` that are signed and sent."""
    return model.model_dump_json().encode("utf-8")


def seal(model: BaseModel, key: Ed25519PrivateKey) -> bytes:
    """The envelope of ``model`` signed with ``key``."""
    body = canonical(model).decode("utf-8")
    return json.dumps({"body": body, "sig": sign(key, body.encode("utf-8"))}).encode("utf-8")


def open_envelope(raw: bytes) -> tuple[bytes, str]:
    """``(body bytes, signature)`` of an envelope, not yet verified.

    Anyone who may publish on a topic can send anything, unsigned: every way ``raw`` can
    fail is a :class:`BadInputError` (an other error would stop the receiver's loop).

    Raises:
        BadInputError: too large, not UTF-8, nested too deep, or not an envelope.
    """
    if len(raw) > MAX_MESSAGE_BYTES:
        raise BadInputError(f"message of {len(raw)} bytes (at most {MAX_MESSAGE_BYTES})")
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as err:  # RecursionError: nested too deep
        raise BadInputError(f"message is not JSON ({str(err)[:100]})") from err
    if not isinstance(document, dict) or set(document) != {"body", "sig"}:
        raise BadInputError("message is not a signed envelope {body, sig}")
    body, signature = document["body"], document["sig"]
    if not isinstance(body, str) or not isinstance(signature, str):
        raise BadInputError("envelope fields are not strings")
    try:
        return body.encode("utf-8"), signature
    except UnicodeEncodeError as err:  # a lone surrogate escaped in the JSON (\ud800)
        raise BadInputError("envelope body is not UTF-8 text") from err


def unseal(raw: bytes, public: Ed25519PublicKey, model: type[M]) -> M:
    """The verified, parsed body of an envelope.

    Raises:
        BadInputError: not an envelope, or a body that does not parse as ``model``.
        SignatureRefusedError: the signature is not ``public``'s over the body.
    """
    return parse(verified(raw, public), model)


def verified(raw: bytes, public: Ed25519PublicKey) -> bytes:
    """The body of an envelope, its signature verified, not yet parsed.

    Raises:
        BadInputError: not an envelope.
        SignatureRefusedError: the signature is not ``public``'s over the body.
    """
    body, signature = open_envelope(raw)
    if not verify(public, body, signature):
        raise SignatureRefusedError("signature does not verify with the sender's key")
    return body


def parse(body: bytes, model: type[M]) -> M:
    """``body`` parsed as ``model``.

    Raises:
        BadInputError: the body does not parse.
    """
    try:
        return model.model_validate_json(body)
    except ValidationError as err:
        raise BadInputError(f"not a valid {model.__name__}: {err.errors()[:3]}") from err


def claimed_site(body: bytes) -> str:
    """The ``site_id`` a body claims (to pick the key to verify it with).

    Raises:
        BadInputError: no string ``site_id``.
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as err:
        raise BadInputError(f"body is not JSON ({str(err)[:100]})") from err
    site = document.get("site_id") if isinstance(document, dict) else None
    if not isinstance(site, str):
        raise BadInputError("body has no site_id")
    return site
