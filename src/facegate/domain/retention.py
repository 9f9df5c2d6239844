"""How long each class of data is kept; :func:`cutoff` turns a period into a moment.

Defaults are short on purpose (keep what the purpose needs, no more), each overridable
in settings (``FACEGATE_RETENTION__EVENTS_DAYS=90``):

========================  =====  ==============================================
data class                days   counted from
========================  =====  ==============================================
events                    30     the decision
snapshots                 7      the decision (only where a site turns them on)
audit records             365    the action (a trim leaves a checkpoint record)
visitor passes            7      the pass's end of validity
alert entries             30     the entry's expiry
moved-out face templates  0      the move-out (deleted at the next purge)
withdrawn consent proof   1095   the withdrawal (proof of what was agreed, 3 years)
========================  =====  ==============================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Retention periods in days (0 deletes at the next purge); see the module table."""

    events_days: int = 30
    snapshots_days: int = 7
    audit_days: int = 365
    visitor_passes_days: int = 7
    alerts_days: int = 30
    moved_out_templates_days: int = 0
    consent_proof_days: int = 1095

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            if getattr(self, name) < 0:
                raise ValueError(f"retention {name} must not be negative")


def cutoff(now: datetime, days: int) -> datetime:
    """The moment before which data kept for ``days`` days is due for deletion."""
    return now - timedelta(days=days)
