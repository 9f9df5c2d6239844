"""Use cases on accounts: create users, log in and out, device keys, password reset."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import timedelta

from facegate.domain.accounts import (
    AccountRole,
    DeviceKey,
    Gate,
    GateKind,
    ResetToken,
    User,
    WebSession,
    check_password_strength,
    secret_hash,
)
from facegate.domain.audit import DetailValue
from facegate.domain.errors import (
    AccessRefusedError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from facegate.domain.reasons import Reason
from facegate.ports import PasswordHasher
from facegate.services.context import ServiceContext, audit, new_id
from facegate.services.snapshots import gate_target

_REFUSED = "unknown username or wrong password"

RESET_LINK_HOURS = 24
"""How long a one-time password (reset or invitation) link stays valid, in hours."""


def create_user(
    context: ServiceContext,
    hasher: PasswordHasher,
    username: str,
    password: str,
    role: AccountRole,
    person_id: str | None = None,
) -> User:
    """Create an account (audited by id and role).

    Raises:
        ValidationError: weak password, bad username, resident without a person.
        ConflictError: the username is taken.
        NotFoundError: unknown person.
    """
    check_password_strength(password, username)
    with context.store.unit_of_work() as uow:
        if person_id is not None:
            uow.people.get(person_id)
        user = User(new_id(), username, hasher.hash(password), role, context.clock.now(), person_id)
        uow.accounts.add_user(user)
        audit(uow, context, "user.create", person_id, {"user_id": user.id, "role": role.value})
        uow.commit()
    return user


def ensure_admin(
    context: ServiceContext, hasher: PasswordHasher, username: str, password: str
) -> bool:
    """Create the administrator ``username`` unless an account of that name exists.

    Returns:
        Whether it was created.
    """
    with context.store.unit_of_work() as uow:
        if uow.accounts.user_named(username) is not None:
            return False
    create_user(context, hasher, username, password, AccountRole.ADMIN)
    return True


def list_users(context: ServiceContext) -> list[User]:
    """Every account, by name."""
    with context.store.unit_of_work() as uow:
        return uow.accounts.users()


@dataclass(frozen=True, slots=True)
class Login:
    """A new session: the token goes into the cookie, only its hash is stored."""

    user: User
    token: str
    session: WebSession


def log_in(
    context: ServiceContext,
    hasher: PasswordHasher,
    username: str,
    password: str,
    lifetime: timedelta,
) -> Login:
    """Check a password and open a session (failures and successes are audited).

    Raises:
        AccessRefusedError: unknown user, wrong password or disabled account (one message
            for all three, so the answer does not tell which usernames exist).
    """
    with context.store.unit_of_work() as uow:
        user = uow.accounts.user_named(username)
        ok = _password_matches(hasher, user, password) and user is not None and not user.disabled
        if user is None or not ok:
            audit(uow, context, "user.login_failed", None, {"user_id": user.id if user else None})
            uow.commit()
            raise AccessRefusedError(_REFUSED, Reason.UNKNOWN_CREDENTIAL)
        token, now = secrets.token_urlsafe(32), context.clock.now()
        session = WebSession(
            secret_hash(token), user.id, secrets.token_urlsafe(32), now, now + lifetime
        )
        uow.accounts.add_session(session)
        audit(uow, context, "user.login", user.person_id, {"user_id": user.id})
        uow.commit()
    return Login(user, token, session)


def _password_matches(hasher: PasswordHasher, user: User | None, password: str) -> bool:
    """Check ``password``, costing one key derivation whether or not ``user`` exists.

    An unknown username hashes the password instead of verifying it, so the answer's
    time does not tell which usernames exist.
    """
    if user is None:
        hasher.hash(password)
        return False
    return hasher.verify(user.password_hash, password)


def session_user(context: ServiceContext, token: str) -> tuple[User, WebSession] | None:
    """The user and session a cookie's token stands for; ``None`` when invalid or expired."""
    with context.store.unit_of_work() as uow:
        session = uow.accounts.session(secret_hash(token))
        if session is None or not session.valid(context.clock.now()):
            return None
        user = uow.accounts.user(session.user_id)
    return None if user.disabled else (user, session)


def log_out(context: ServiceContext, session: WebSession) -> None:
    """End ``session``."""
    with context.store.unit_of_work() as uow:
        uow.accounts.delete_sessions(session.user_id, session.token_hash)
        audit(uow, context, "user.logout", None, {"user_id": session.user_id})
        uow.commit()


@dataclass(frozen=True, slots=True)
class IssuedDeviceKey:
    """A new device key and its secret (shown once)."""

    key: DeviceKey
    secret: str


def issue_device_key(
    context: ServiceContext,
    target_id: str,
    label: str = "",
    kind: GateKind = GateKind.KIOSK,
    gate_id: str | None = None,
) -> IssuedDeviceKey:
    """Issue an API key bound to a gate registered for the door or lift ``target_id``.

    The gate ``gate_id`` is registered on first use (a new id when ``None``); a key
    issued again for a registered gate (key rotation) must name the same door and kind.
    A ``kiosk`` key may post frames and credentials for its door and read nothing; an
    ``edge`` key may also read its door's snapshot and deliver its door's events.

    Raises:
        NotFoundError: unknown door or lift.
        ConflictError: ``gate_id`` is registered for another door or kind.
        ValidationError: ``gate_id`` unfit for a gate id.
    """
    secret = "fgk_" + secrets.token_urlsafe(32)
    with context.store.unit_of_work() as uow:
        gate_target(uow, target_id)
        now = context.clock.now()
        gate = uow.gates.find(gate_id) if gate_id is not None else None
        if gate is None:
            gate = Gate(gate_id or f"{kind.value}-{new_id()[:12]}", target_id, kind, now, label)
            uow.gates.add(gate)
        elif (gate.target_id, gate.kind) != (target_id, kind):
            raise ConflictError(f"gate {gate.id} serves {gate.target_id} as {gate.kind.value}")
        key = DeviceKey(
            new_id(), gate.id, secret_hash(secret), now, None, label, gate.target_id, gate.kind
        )
        uow.accounts.add_device_key(key)
        details: dict[str, DetailValue] = {
            "key_id": key.id,
            "gate_id": gate.id,
            "target_id": target_id,
            "kind": kind.value,
        }
        audit(uow, context, "device_key.issue", None, details)
        uow.commit()
    return IssuedDeviceKey(key, secret)


def revoke_device_key(context: ServiceContext, key_id: str) -> DeviceKey:
    """Revoke a device key at once (idempotent).

    Raises:
        NotFoundError: unknown key.
    """
    with context.store.unit_of_work() as uow:
        key = uow.accounts.device_key(key_id)
        if key.revoked_at is None:
            key = replace(key, revoked_at=context.clock.now())
            uow.accounts.update_device_key(key)
            audit(uow, context, "device_key.revoke", None, {"key_id": key.id})
            uow.commit()
    return key


def list_device_keys(context: ServiceContext) -> list[DeviceKey]:
    """Every device key (hashes only), newest first."""
    with context.store.unit_of_work() as uow:
        return uow.accounts.device_keys()


def device_for_secret(context: ServiceContext, secret: str) -> DeviceKey | None:
    """The live device key ``secret`` stands for; ``None`` when unknown or revoked."""
    with context.store.unit_of_work() as uow:
        key = uow.accounts.device_key_by_hash(secret_hash(secret))
    return key if key is not None and key.revoked_at is None else None


def issue_reset_token(context: ServiceContext, user_id: str, valid_for: timedelta) -> str:
    """A one-time password reset token for ``user_id`` (an operator hands the link over).

    Issuing one retires the user's earlier links: only the newest works.

    Raises:
        NotFoundError: unknown user.
    """
    token = secrets.token_urlsafe(32)
    with context.store.unit_of_work() as uow:
        user = uow.accounts.user(user_id)
        now = context.clock.now()
        uow.accounts.retire_reset_tokens(user.id, now)  # only the newest link works
        uow.accounts.add_reset_token(ResetToken(secret_hash(token), user.id, now + valid_for))
        audit(uow, context, "user.reset_issued", user.person_id, {"user_id": user.id})
        uow.commit()
    return token


def reset_token_for_person(context: ServiceContext, person_id: str) -> str:
    """A one-time password link token for the portal login of ``person_id``.

    Raises:
        NotFoundError: the person has no portal login.
    """
    with context.store.unit_of_work() as uow:
        found = [u for u in uow.accounts.users() if u.person_id == person_id]
    if not found:
        raise NotFoundError(f"person {person_id} has no portal login: create one first")
    return issue_reset_token(context, found[0].id, timedelta(hours=RESET_LINK_HOURS))


def reset_password(
    context: ServiceContext, hasher: PasswordHasher, token: str, password: str
) -> User:
    """Set a new password with a one-time token; every session of the user ends.

    Raises:
        NotFoundError: unknown, used or expired token.
        ValidationError: weak password.
    """
    check_password_strength(password)
    now = context.clock.now()
    with context.store.unit_of_work() as uow:
        found = uow.accounts.reset_token(secret_hash(token))
        if found is None or found.used_at is not None or found.expires_at <= now:
            raise NotFoundError("this reset link is unknown, used or expired")
        user = replace(uow.accounts.user(found.user_id), password_hash=hasher.hash(password))
        uow.accounts.update_user(user)
        uow.accounts.update_reset_token(replace(found, used_at=now))
        uow.accounts.retire_reset_tokens(user.id, now)  # and every older link with it
        uow.accounts.delete_sessions(user.id)
        audit(uow, context, "user.password_reset", user.person_id, {"user_id": user.id})
        uow.commit()
    return user


def require_person(user: User) -> str:
    """The person a resident account belongs to.

    Raises:
        ValidationError: the account has no person.
    """
    if user.person_id is None:
        raise ValidationError(f"account {user.username!r} belongs to no person")
    return user.person_id
