"""City notices from the hub: recorded, signed with the hub key, published per site.

Free passage opens doors (a master key): it goes only to sites that opted in on the
hub; the site checks its own opt-in again. Each notice row's ``seq`` (a PostgreSQL
identity) is the replay counter a site checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, select

from facegate.city.wire import Notice, NoticeKind, seal, topic
from facegate.domain.errors import BadInputError, PolicyRefusedError
from facegate.hub.schema import notices, sites
from facegate.hub.store import HubStore

Publish = Callable[[str, bytes], None]
"""Publishes one payload on one topic at QoS 1 and returns when the broker has it."""


@dataclass(frozen=True, slots=True)
class Issued:
    """The outcome of one notice command: what went where, and which sites were skipped."""

    sent: list[Notice]
    skipped: dict[str, str]


def issue(
    store: HubStore,
    key: Ed25519PrivateKey,
    publish: Publish,
    request: tuple[NoticeKind, datetime, str],
    targets: tuple[list[str], list[str]],
    now: datetime,
    actor: str,
) -> Issued:
    """Send one notice to every joined, unrevoked site among ``targets``.

    Args:
        store: the hub database.
        key: the hub's private key.
        publish: the broker link.
        request: ``(kind, ends_at, text)``.
        targets: ``(site ids, districts)``; a site in either list is addressed.
        now: the current time (UTC).
        actor: who sends it (kept with the notice).

    Raises:
        BadInputError: no target, or an end time not in the future.
        PolicyRefusedError: free passage asked and no addressed site opted in.
    """
    kind, ends_at, _ = request
    site_ids, districts = targets
    if ends_at <= now:
        raise BadInputError("a notice's end time must be in the future")
    if not site_ids and not districts:
        raise BadInputError("name at least one --site or --district")
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(sites.c.id, sites.c.public_key, sites.c.revoked_at, sites.c.free_passage_opt_in)
            .where(sites.c.id.in_(site_ids) | sites.c.district.in_(districts))
            .order_by(sites.c.id)
        ).all()
    skipped = {s: "unknown site" for s in set(site_ids) - {r.id for r in rows}}
    sent: list[Notice] = []
    for row in rows:
        if row.public_key is None or row.revoked_at is not None:
            skipped[row.id] = "not joined or revoked"
        elif kind == "free_passage" and not row.free_passage_opt_in:
            skipped[row.id] = "did not opt in to free passage"
        else:
            notice = _record(store, row.id, request, now, actor)
            publish(topic(row.id, "notices"), seal(notice, key))
            sent.append(notice)
    if not sent and kind == "free_passage":
        raise PolicyRefusedError(f"no addressed site takes free passage: {skipped}")
    return Issued(sent, skipped)


def _record(
    store: HubStore,
    site_id: str,
    request: tuple[NoticeKind, datetime, str],
    now: datetime,
    actor: str,
) -> Notice:
    kind, ends_at, text = request
    with store.engine.begin() as connection:
        seq = connection.execute(
            insert(notices)
            .values(
                site_id=site_id,
                kind=kind,
                issued_at=now,
                ends_at=ends_at,
                text=text,
                issued_by=actor,
            )
            .returning(notices.c.seq)
        ).scalar_one()
    return Notice(seq=seq, site_id=site_id, kind=kind, issued_at=now, ends_at=ends_at, text=text)
