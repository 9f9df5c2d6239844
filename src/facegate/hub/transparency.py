"""The public transparency report: per site and per district, counts only, small ones hidden.

Stock counts (residents, enrolled by face, card/PIN only, alert-list entries in force)
are each site's latest daily summary in the period; flow counts (consent withdrawals,
entries, denials by reason, disclosures by legal basis) are summed over the period.

A site's own count below :data:`SMALL` is shown as ``"<5"`` (zero included), so no cell
singles out a handful of people. A legal basis with fewer than :data:`SMALL` disclosures
at a site is not named (its text is as telling as its count): it is counted under
:data:`OTHER_BASES`. Totals (a site's denials and disclosures, every district figure)
are computed from the shown cells only, never from the hidden ones: a total over no
hidden cell is exact, one over hidden cells is the range those cells allow
(``"1000–1004"``: each hidden cell is 0 to 4), so subtracting the shown cells from a
total tells nothing about a hidden one (docs/city.md, "Transparency report").
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from facegate.hub.schema import daily_summaries, sites
from facegate.hub.store import HubStore

SMALL = 5
"""Counts below this are shown as ``"<5"``."""

OTHER_BASES = "(other bases, each below 5 at its site)"
"""The key under which disclosures of a legal basis hidden at its site are counted."""

RANGE_DASH = "\u2013"
"""Between a range's bounds (an en dash: spreadsheets read ``5-8`` as a date)."""

STOCK = ("residents", "face_enrolled", "card_pin_only", "alert_entries_in_force")
FLOW = ("consent_withdrawals", "entries", "denials", "disclosures")
_MAPS = ("denials_by_reason", "disclosure_bases")


Bounds = tuple[int, int]
"""What the report tells of a count: its least and greatest possible value."""


def written(bounds: Bounds) -> int | str:
    """A count the report allows to lie in ``bounds``, as printed.

    ``"<5"`` when it is below :data:`SMALL` whatever it is, the count when the bounds
    meet, else the range ``"low–high"``.
    """
    low, high = bounds
    if high < SMALL:
        return f"<{SMALL}"
    return low if low == high else f"{low}{RANGE_DASH}{high}"


def _leaf(count: int) -> Bounds:
    """The bounds a site's own count is shown with: exact, or 0 to 4 when hidden."""
    return (count, count) if count >= SMALL else (0, SMALL - 1)


def _total(parts: Iterable[Bounds]) -> Bounds:
    """The bounds of a sum, from its parts' shown bounds alone."""
    listed = list(parts)
    return sum(p[0] for p in listed), sum(p[1] for p in listed)


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
    shown_sites = {site_id: _site_bounds(e) for site_id, e in sorted(per_site.items())}
    per_district: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in shown_sites.values():
        per_district[entry["district"]].append(entry)
    return {
        "period": {"from": first.isoformat(), "to": today.isoformat()},
        "small_counts_below": SMALL,
        "sites": [
            {"site_id": s, "name": per_site[s]["name"], **_written(e)}
            for s, e in shown_sites.items()
        ],
        "districts": [_written(_district_bounds(d, per_district[d])) for d in sorted(per_district)],
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


def _site_bounds(entry: dict[str, Any]) -> dict[str, Any]:
    """A site's figures as shown: its own counts hidden below 5, its totals from them."""
    out: dict[str, Any] = {"district": entry["district"]}
    out.update({k: _leaf(entry[k]) for k in (*STOCK, *FLOW)})
    out["denials_by_reason"] = {r: _leaf(n) for r, n in entry["denials_by_reason"].items()}
    named = {b: n for b, n in entry["disclosure_bases"].items() if n >= SMALL and b != OTHER_BASES}
    other = sum(entry["disclosure_bases"].values()) - sum(named.values())
    bases = {b: _leaf(n) for b, n in named.items()}
    if other:
        bases[OTHER_BASES] = _leaf(other)
    out["disclosure_bases"] = bases
    out["denials"] = _total(out["denials_by_reason"].values())
    out["disclosures"] = _total(bases.values())
    return out


def _district_bounds(district: str, shown_sites: list[dict[str, Any]]) -> dict[str, Any]:
    """A district's figures: each the total of its sites' shown figures."""
    out: dict[str, Any] = {"district": district}
    out.update({k: _total(s[k] for s in shown_sites) for k in (*STOCK, *FLOW)})
    for key in _MAPS:
        names = {n for s in shown_sites for n in s[key]}
        out[key] = {n: _total(s[key][n] for s in shown_sites if n in s[key]) for n in names}
    return out


def _written(entry: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"district": entry["district"]}
    out.update({k: written(entry[k]) for k in (*STOCK, *FLOW)})
    out.update({k: {n: written(c) for n, c in sorted(entry[k].items())} for k in _MAPS})
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
