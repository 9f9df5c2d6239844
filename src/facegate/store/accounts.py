"""SQLAlchemy repository of users, web sessions, device keys and reset tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from facegate.domain.accounts import (
    AccountRole,
    DeviceKey,
    GateKind,
    ResetToken,
    User,
    WebSession,
)
from facegate.domain.errors import ConflictError, NotFoundError
from facegate.store.repositories import deleted_count
from facegate.store.schema import DeviceKeyRow, GateRow, ResetTokenRow, SessionRow, UserRow


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        password_hash=row.password_hash,
        role=AccountRole(row.role),
        created_at=row.created_at,
        person_id=row.person_id,
        disabled=row.disabled,
    )


def _fill_user(row: UserRow, user: User) -> None:
    row.username, row.password_hash, row.role = user.username, user.password_hash, user.role.value
    row.person_id, row.created_at, row.disabled = user.person_id, user.created_at, user.disabled


def _key(row: DeviceKeyRow, gate: GateRow | None) -> DeviceKey:
    """The key with its gate's door and kind (a key without a gate record serves none)."""
    target, kind = ("", GateKind.KIOSK) if gate is None else (gate.target_id, GateKind(gate.kind))
    return DeviceKey(
        row.id, row.gate_id, row.key_hash, row.created_at, row.revoked_at, row.label, target, kind
    )


_KEYS = select(DeviceKeyRow, GateRow).outerjoin(GateRow, GateRow.id == DeviceKeyRow.gate_id)


class SqlAccountRepository:
    """Users, sessions, device keys and reset tokens (see :class:`AccountRepository`)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add_user(self, user: User) -> None:
        """Store a user (:class:`ConflictError` when the username is taken)."""
        if self.user_named(user.username) is not None:
            raise ConflictError(f"username {user.username!r} is taken")
        row = UserRow(id=user.id)
        _fill_user(row, user)
        self._session.add(row)

    def user(self, user_id: str) -> User:
        """The user with ``user_id`` (raises :class:`NotFoundError`)."""
        row = self._session.get(UserRow, user_id)
        if row is None:
            raise NotFoundError(f"no user with id {user_id!r}")
        return _user(row)

    def user_named(self, username: str) -> User | None:
        """The user with ``username``, if any."""
        row = self._session.scalars(select(UserRow).where(UserRow.username == username)).first()
        return None if row is None else _user(row)

    def users(self) -> list[User]:
        """Every user, by name."""
        return [_user(r) for r in self._session.scalars(select(UserRow).order_by(UserRow.username))]

    def update_user(self, user: User) -> None:
        """Store a changed user."""
        row = self._session.get(UserRow, user.id)
        if row is None:
            raise NotFoundError(f"no user with id {user.id!r}")
        _fill_user(row, user)

    def add_session(self, session: WebSession) -> None:
        """Store a new session."""
        self._session.add(
            SessionRow(
                token_hash=session.token_hash,
                user_id=session.user_id,
                csrf_token=session.csrf_token,
                created_at=session.created_at,
                expires_at=session.expires_at,
            )
        )

    def session(self, token_hash: str) -> WebSession | None:
        """The session with ``token_hash``, if any."""
        row = self._session.get(SessionRow, token_hash)
        if row is None:
            return None
        return WebSession(
            row.token_hash, row.user_id, row.csrf_token, row.created_at, row.expires_at
        )

    def delete_sessions(self, user_id: str, token_hash: str | None = None) -> int:
        """End one session of ``user_id`` (or all of them); returns how many."""
        statement = delete(SessionRow).where(SessionRow.user_id == user_id)
        if token_hash is not None:
            statement = statement.where(SessionRow.token_hash == token_hash)
        return deleted_count(self._session, statement)

    def add_device_key(self, key: DeviceKey) -> None:
        """Store a device key."""
        self._session.add(
            DeviceKeyRow(
                id=key.id,
                gate_id=key.gate_id,
                key_hash=key.key_hash,
                label=key.label,
                created_at=key.created_at,
                revoked_at=key.revoked_at,
            )
        )

    def device_key(self, key_id: str) -> DeviceKey:
        """The device key with ``key_id`` (raises :class:`NotFoundError`)."""
        found = self._session.execute(_KEYS.where(DeviceKeyRow.id == key_id)).first()
        if found is None:
            raise NotFoundError(f"no device key with id {key_id!r}")
        return _key(found[0], found[1])

    def device_key_by_hash(self, key_hash: str) -> DeviceKey | None:
        """The device key whose secret hashes to ``key_hash``, if any."""
        found = self._session.execute(_KEYS.where(DeviceKeyRow.key_hash == key_hash)).first()
        return None if found is None else _key(found[0], found[1])

    def device_keys(self) -> list[DeviceKey]:
        """Every device key, newest first."""
        query = _KEYS.order_by(DeviceKeyRow.created_at.desc())
        return [_key(row, gate) for row, gate in self._session.execute(query)]

    def update_device_key(self, key: DeviceKey) -> None:
        """Store a changed device key (a revocation)."""
        row = self._session.get(DeviceKeyRow, key.id)
        if row is None:
            raise NotFoundError(f"no device key with id {key.id!r}")
        row.revoked_at, row.label = key.revoked_at, key.label

    def add_reset_token(self, token: ResetToken) -> None:
        """Store a reset token."""
        self._session.add(
            ResetTokenRow(
                token_hash=token.token_hash,
                user_id=token.user_id,
                expires_at=token.expires_at,
                used_at=token.used_at,
            )
        )

    def reset_token(self, token_hash: str) -> ResetToken | None:
        """The reset token with ``token_hash``, if any."""
        row = self._session.get(ResetTokenRow, token_hash)
        if row is None:
            return None
        return ResetToken(row.token_hash, row.user_id, row.expires_at, row.used_at)

    def retire_reset_tokens(self, user_id: str, at: datetime) -> int:
        """Mark every unused reset token of ``user_id`` used at ``at``; how many were."""
        return deleted_count(
            self._session,
            update(ResetTokenRow)
            .where(ResetTokenRow.user_id == user_id, ResetTokenRow.used_at.is_(None))
            .values(used_at=at),
        )

    def update_reset_token(self, token: ResetToken) -> None:
        """Store a used reset token."""
        row = self._session.get(ResetTokenRow, token.token_hash)
        if row is None:
            raise NotFoundError("no such reset token")
        row.used_at = token.used_at
