"""The public transparency report gives no hidden count away, by difference or by its text.

Before, a district's figure was the exact sum of its sites' true counts: 1,003 entries
and 802 residents over sites showing 1,000 and 800 gave the hidden site's 3 and 2. A
site's denials (9) less its shown reasons (7) gave the hidden reason's 2, and a legal
basis shown ``<5`` printed its text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from facegate.city.wire import DailySummary
from facegate.domain.reasons import Reason
from facegate.hub import transparency
from facegate.hub.bootstrap import build_hub
from facegate.hub.settings import HubSettings
from facegate.hub.store import HubStore

NOW = datetime.now(UTC)
SECRET_BASIS = "warrant 77/2026 flat 4B"


def _summary(hub: HubStore, site: str, counts: dict[str, int], **maps: Any) -> None:
    hub.store_summary(DailySummary(site_id=site, day=NOW.date(), counts=counts, **maps), NOW)


def _exact_totals_over_hidden_cells(document: dict[str, Any]) -> list[str]:
    """Every relation where an exact total sits over a hidden cell (total - shown = hidden)."""
    found = []
    relations: list[tuple[str, object, list[object]]] = []
    for row in (*document["sites"], *document["districts"]):
        name = row.get("site_id", row["district"])
        relations.append((f"{name} denials", row["denials"], [*row["denials_by_reason"].values()]))
        relations.append(
            (f"{name} disclosures", row["disclosures"], [*row["disclosure_bases"].values()])
        )
    for district in document["districts"]:
        theirs = [s for s in document["sites"] if s["district"] == district["district"]]
        for key in (*transparency.STOCK, *transparency.FLOW):
            relations.append(
                (f"{district['district']} {key}", district[key], [s[key] for s in theirs])
            )
        for key in ("denials_by_reason", "disclosure_bases"):
            for name, total in district[key].items():
                parts = [s[key][name] for s in theirs if name in s[key]]
                relations.append((f"{district['district']} {key}:{name}", total, parts))
    for what, total, parts in relations:
        if isinstance(total, int) and any(not isinstance(p, int) for p in parts):
            found.append(f"{what}: {total} over {parts}")
    return found


def test_no_hidden_count_follows_from_a_total_and_no_hidden_basis_is_named(
    postgres_url: str, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from facegate.hub.web import create_hub_app

    built = build_hub(HubSettings(db_url=postgres_url, data_dir=tmp_path))
    hub = built.store
    big, _ = hub.add_site({"name": "Big", "district": "north"}, NOW)
    small, _ = hub.add_site({"name": "Small", "district": "north"}, NOW)
    _summary(hub, big, {"residents": 800, "entries": 1000, "denials": 9, "disclosures": 13},
             denials_by_reason={Reason.UNKNOWN_FACE: 7, Reason.WRONG_PIN: 2},
             disclosure_bases={"court order": 12, SECRET_BASIS: 1})  # fmt: skip
    _summary(hub, small, {"residents": 2, "entries": 3, "denials": 0, "disclosures": 2},
             disclosure_bases={SECRET_BASIS: 2})  # fmt: skip
    document = transparency.report(hub, NOW.date())
    try:
        assert _exact_totals_over_hidden_cells(document) == []
        north = document["districts"][0]
        assert (north["residents"], north["entries"]) == ("800–804", "1000–1004")
        mine = next(s for s in document["sites"] if s["site_id"] == big)
        assert mine["denials_by_reason"] == {"unknown_face": 7, "wrong_pin": "<5"}
        assert mine["denials"] == "7–11"
        assert mine["disclosure_bases"] == {"court order": 12, transparency.OTHER_BASES: "<5"}
        assert north["disclosure_bases"] == {"court order": 12, transparency.OTHER_BASES: "0–8"}
        client = TestClient(create_hub_app(built))
        for path in ("/transparency.json", "/transparency.csv", "/transparency"):
            assert SECRET_BASIS not in client.get(path).text, path
    finally:
        hub.engine.dispose()
