"""The public transparency report: per site and per district, counts only, small ones hidden.

Stock counts (residents, enrolled by face, card/PIN only, alert-list entries in force)
are each site's latest daily summary in the period; flow counts (consent withdrawals,
entries, denials by reason, disclosures by legal basis) are summed over the period. A
district's figure is the sum of its sites'. Every count below :data:`SMALL` is shown as
``"<5"`` (zero included), so no cell singles out a handful of people.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from facegate.hub.schema import daily_summaries, sites
from facegate.hub.store import HubStore

SMALL = 5
"""Counts below this are shown as ``"<5"``."""

STOCK = ("residents", "face_enrolled", "card_pin_only", "alert_entries_in_force")
FLOW = ("consent_withdrawals", "entries", "denials", "disclosures")
_MAPS = ("denials_by_reason", "disclosure_bases")


def shown(count: int) -> int | str:
    """``count``, or ``"<5"`` when it is below :data:`SMALL`."""
    return count if count >= SMALL else f"<{SMALL}"


def report(store: HubStore, today: date, days: int = 30) -> dict[str, Any]:
    """The report over the ``days`` days up to ``today`` (UTC), with small counts hidden."""
    first = today - timedelta(days=days - 1)
    query = (
        select(
            sites.c.id,
            sites.c.name,
            sites.c.district,
            daily_summaries.c.day,
            daily_summaries.c.counts,
        )
        .join(daily_summaries, daily_summaries.c.site_id == sites.c.id)
        .where(daily_summaries.c.day >= first, daily_summaries.c.day <= today)
        .order_by(sites.c.id, daily_summaries.c.day)
    )
    with store.engine.connect() as connection:
        rows = connection.execute(query).all()
    per_site: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = per_site.setdefault(row.id, _empty(row.name, row.district))
        _add(entry, row.counts)
    per_district: dict[str, dict[str, Any]] = {}
    for entry in per_site.values():
        total = per_district.setdefault(entry["district"], _empty("", entry["district"]))
        for key in (*STOCK, *FLOW):
            total[key] += entry[key]
        for key in _MAPS:
            for name, n in entry[key].items():
                total[key][name] += n
    return {
        "period": {"from": first.isoformat(), "to": today.isoformat()},
        "small_counts_below": SMALL,
        "sites": [_hide(e, site_id=s) for s, e in sorted(per_site.items())],
        "districts": [_hide(e) for _, e in sorted(per_district.items())],
    }


def _empty(name: str, district: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "district": district}
    entry.update({k: 0 for k in (*STOCK, *FLOW)})
    entry.update({k: defaultdict(int) for k in _MAPS})
    return entry


def _add(entry: dict[str, Any], counts: dict[str, Any]) -> None:
    numbers = counts.get("counts", {})
    for key in STOCK:  # the latest day wins (rows come oldest first)
        entry[key] = int(numbers.get(key, 0))
    for key in FLOW:
        entry[key] += int(numbers.get(key, 0))
    for key in _MAPS:
        for name, n in counts.get(key, {}).items():
            entry[key][name] += int(n)


def _hide(entry: dict[str, Any], site_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {} if site_id is None else {"site_id": site_id, "name": entry["name"]}
    out["district"] = entry["district"]
    out.update({k: shown(entry[k]) for k in (*STOCK, *FLOW)})
    out.update({k: {n: shown(c) for n, c in sorted(entry[k].items())} for k in _MAPS})
    return out


def _cell(value: object) -> object:
    """``value``, with a leading quote when a spreadsheet would read it as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def as_csv(document: dict[str, Any]) -> str:
    """The report as CSV: one row per site and per district, maps flattened ``map:key``."""
    rows = [{"level": "site", **s} for s in document["sites"]]
    rows += [{"level": "district", **d} for d in document["districts"]]
    columns = ["level", "site_id", "name", "district", *STOCK, *FLOW]
    extra = sorted({f"{m}:{k}" for r in rows for m in _MAPS for k in r[m]})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*columns, *extra], extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        flat = {k: _cell(row.get(k, "")) for k in columns}
        flat.update({f"{m}:{k}": v for m in _MAPS for k, v in row[m].items()})
        writer.writerow(flat)
    return out.getvalue()
