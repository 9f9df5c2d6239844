"""Who may see what on the hub: roles scoped by district (pure rules, no I/O).

- ``city_operator``: every site; reads events and alarms; sends notices; adds sites.
- ``district_viewer``: only the sites of their districts (events, alarms, health); a
  site outside them answers "not found", as if it did not exist.
- ``auditor``: every site read-only, and the audit of event reads; sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from facegate.domain.errors import PolicyRefusedError


class HubRole(StrEnum):
    """A hub account's role."""

    CITY_OPERATOR = "city_operator"
    DISTRICT_VIEWER = "district_viewer"
    AUDITOR = "auditor"


class HubAction(StrEnum):
    """What a request does (each route names one)."""

    READ_SITES = "read_sites"
    READ_EVENTS = "read_events"
    READ_ALARMS = "read_alarms"
    READ_AUDIT = "read_audit"
    SEND_NOTICE = "send_notice"


_ALLOWED: dict[HubRole, frozenset[HubAction]] = {
    HubRole.CITY_OPERATOR: frozenset(HubAction) - {HubAction.READ_AUDIT},
    HubRole.DISTRICT_VIEWER: frozenset(
        {HubAction.READ_SITES, HubAction.READ_EVENTS, HubAction.READ_ALARMS}
    ),
    HubRole.AUDITOR: frozenset(HubAction) - {HubAction.SEND_NOTICE},
}


@dataclass(frozen=True, slots=True)
class HubAccount:
    """A signed-in hub account."""

    username: str
    role: HubRole
    districts: tuple[str, ...] = ()

    def may(self, action: HubAction) -> bool:
        """Whether the role allows ``action`` at all."""
        return action in _ALLOWED[self.role]

    def require(self, action: HubAction) -> None:
        """Raise :class:`PolicyRefusedError` unless the role allows ``action``."""
        if not self.may(action):
            raise PolicyRefusedError(f"role {self.role} may not {action}")

    def scope(self) -> tuple[str, ...] | None:
        """The districts this account sees (``None``: all of them)."""
        return self.districts if self.role is HubRole.DISTRICT_VIEWER else None
