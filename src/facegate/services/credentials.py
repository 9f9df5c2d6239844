"""Use cases on non-face credentials: cards, PINs, visitor passes; and the alert list."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from facegate.domain.access import AlertEntry
from facegate.domain.credentials import Card, PinCredential, VisitorPass, hash_pin, qr_code_hash
from facegate.domain.errors import AccessRefusedError, ConflictError, ValidationError
from facegate.domain.reasons import Reason
from facegate.ports import UnitOfWork
from facegate.services.context import ServiceContext, audit, new_id

QR_CODE_BYTES = 16


def new_pass_code() -> str:
    """A visitor pass's secret code: :data:`QR_CODE_BYTES` random bytes, URL-safe base64.

    Never starting with ``-``: a command line would read such a code as an option
    (``facegate pass use -Xy...`` was a usage error for one code in 64); the first
    character is drawn again instead (about 0.02 bits of the 128 lost).
    """
    while True:
        code = secrets.token_urlsafe(QR_CODE_BYTES)
        if not code.startswith("-"):
            return code


"""Random bytes in a visitor pass code (128 bits, printed as 22 URL-safe characters)."""


def add_card(context: ServiceContext, person_id: str, number: str) -> Card:
    """Give a person a card (audited without the number).

    Raises:
        NotFoundError: unknown person.
        ConflictError: the number is in use.
        ValidationError: empty or unprintable number.
    """
    with context.store.unit_of_work() as uow:
        card = add_card_in(uow, context, person_id, number)
        uow.commit()
    return card


def add_card_in(uow: UnitOfWork, context: ServiceContext, person_id: str, number: str) -> Card:
    """:func:`add_card` inside ``uow`` (the caller commits: a bulk import's batch)."""
    uow.people.get(person_id)
    card = Card(new_id(), person_id, number.strip(), context.clock.now())
    if uow.credentials.find_card(card.number) is not None:
        raise ConflictError(f"card number {card.number!r} is already in use")
    uow.credentials.add_card(card)
    audit(uow, context, "card.add", person_id, {"card_id": card.id})
    return card


def set_pin(context: ServiceContext, person_id: str, pin: str) -> PinCredential:
    """Set a person's PIN (stored as a scrypt hash only; replaces the previous one).

    Raises:
        NotFoundError: unknown person.
        ValidationError: not a PIN of enough digits.
    """
    with context.store.unit_of_work() as uow:
        uow.people.get(person_id)
        credential = PinCredential(
            new_id(), person_id, hash_pin(pin, secrets.token_bytes(16)), context.clock.now()
        )
        uow.credentials.add_pin(credential)
        audit(uow, context, "pin.set", person_id)
        uow.commit()
    return credential


@dataclass(frozen=True, slots=True)
class IssuedPass:
    """A new visitor pass and its code (shown once; only its hash is stored)."""

    visitor_pass: VisitorPass
    code: str


def create_pass(
    context: ServiceContext,
    host_id: str,
    visitor_name: str,
    valid_for: timedelta,
    max_uses: int = 1,
    valid_from: datetime | None = None,
) -> IssuedPass:
    """Issue a visitor pass hosted by ``host_id``.

    Raises:
        NotFoundError: unknown host.
        ValidationError: a window that has already ended, empty name, fewer than one use.
    """
    now = context.clock.now()
    start = valid_from or now
    if start + valid_for <= now:
        raise ValidationError(
            f"the pass would have expired at {start + valid_for:%Y-%m-%d %H:%M} UTC"
        )
    if not visitor_name.strip():
        raise ValidationError("a visitor pass needs the visitor's name")
    code = new_pass_code()
    with context.store.unit_of_work() as uow:
        uow.people.get(host_id)
        visit = VisitorPass(
            new_id(),
            host_id,
            visitor_name.strip(),
            start,
            start + valid_for,
            max_uses,
            qr_code_hash(code),
        )
        uow.passes.add(visit)
        audit(uow, context, "pass.create", host_id, {"pass_id": visit.id, "max_uses": max_uses})
        uow.commit()
    return IssuedPass(visit, code)


def add_alert(
    context: ServiceContext,
    person_id: str,
    reason: str,
    legal_basis: str,
    valid_for: timedelta,
) -> AlertEntry:
    """Put a person on the alert list until ``valid_for`` from now.

    Raises:
        NotFoundError: unknown person.
        ValidationError: no reason or legal basis, or a period that is not positive.
    """
    now = context.clock.now()
    with context.store.unit_of_work() as uow:
        uow.people.get(person_id)
        entry = AlertEntry(
            new_id(),
            person_id,
            reason.strip(),
            legal_basis.strip(),
            context.actor,
            now,
            now + valid_for,
        )
        uow.alerts.add(entry)
        audit(uow, context, "alert.add", person_id, {"alert_id": entry.id})
        uow.commit()
    return entry


def use_pass(context: ServiceContext, code: str) -> VisitorPass:
    """Count one use of the visitor pass whose code is ``code``.

    Raises:
        AccessRefusedError: unknown code (``unknown_credential``), or a pass that is
            expired, not yet valid or used up (its reason); no use is counted then.
    """
    with context.store.unit_of_work() as uow:
        visit = uow.passes.find_by_code_hash(qr_code_hash(code.strip()))
        if visit is None:
            raise AccessRefusedError("no visitor pass has this code", Reason.UNKNOWN_CREDENTIAL)
        refusal = visit.refusal(context.clock.now())
        if refusal is not None:
            raise AccessRefusedError(f"visitor pass {visit.id} refused: {refusal}", refusal)
        used = visit.used()
        uow.passes.update(used)
        uow.commit()
    return used
