"""Time the hub's event search on a large events table (the console's filtered page).

Makes a scratch database on the given PostgreSQL server, fills ``facegate_hub.events``
with ROWS synthetic events (1,000 sites in 10 districts, 3 months) by one
``INSERT ... SELECT generate_series``, then times ``facegate.hub.queries.search_events``
(the code the API and the console run, audit insert included) for a few filters, each
repeated; prints JSON (milliseconds); the scratch database is dropped on
the way out (:func:`facegate.sitebench.processes.scratch_postgres`).

    python bench/hub_search.py [--rows 10000000] [--server postgresql+psycopg://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from facegate.hub.access import HubAccount, HubRole
from facegate.hub.queries import EventFilter, search_events
from facegate.hub.store import HubStore
from facegate.sitebench.processes import scratch_postgres
from facegate.store.database import create_db_engine

START = datetime(2026, 9, 1, tzinfo=UTC)
SPAN_S = 90 * 86400


def fill(store: HubStore, rows: int) -> None:
    now = datetime.now(UTC)
    for site in range(1000):
        store.add_site({"name": f"c{site}", "district": f"d{site % 10}"}, now)
    with store.engine.begin() as connection:
        for month in (START, START + timedelta(days=30), START + timedelta(days=61)):
            from facegate.hub import schema

            schema.ensure_month(connection, schema.month_start(month))
        connection.execute(
            text(
                "INSERT INTO facegate_hub.events (site_id, event_key, seq, door_id, occurred_at,"
                " granted, reason, credential, received_at) "
                "SELECT s.id, md5(g::text), g, 'door-' || (g % 7), "
                " to_timestamp(:t0 + (g::bigint * :span / :n)), (g % 5) <> 0,"
                " CASE WHEN g % 5 = 0 THEN (ARRAY['unknown_face','spoof_suspected',"
                " 'outside_schedule','wrong_pin'])[1 + (g / 5) % 4] ELSE 'granted' END,"
                " NULL, now() "
                "FROM generate_series(1, :n) g "
                "JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k "
                "      FROM facegate_hub.sites) s ON s.k = g % 1000"
            ),
            {"t0": START.timestamp(), "span": SPAN_S, "n": rows},
        )
        connection.execute(text("ANALYZE facegate_hub.events"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with scratch_postgres(args.server) as url:
        store = HubStore(create_db_engine(url))
        store.migrate()
        started = time.monotonic()
        fill(store, args.rows)
        fill_s = time.monotonic() - started
        with store.engine.connect() as connection:
            site = connection.execute(text("SELECT id FROM facegate_hub.sites LIMIT 1")).scalar()
        viewer = HubAccount("viewer", HubRole.DISTRICT_VIEWER, ("d3",))
        operator = HubAccount("operator", HubRole.CITY_OPERATOR)
        week = (START + timedelta(days=40), START + timedelta(days=47))
        later = week[1].isoformat()
        cases = {
            "operator_newest_page": (operator, EventFilter()),
            "operator_refused": (operator, EventFilter(granted=False)),
            "operator_reason_all_time": (operator, EventFilter(reason="wrong_pin")),
            "operator_absent_reason": (operator, EventFilter(reason="alert_list")),
            "operator_week": (operator, EventFilter(since=week[0], until=week[1])),
            "operator_district_newest": (operator, EventFilter(district="d3")),
            "operator_district_reason_week": (
                operator, EventFilter(district="d3", reason="spoof_suspected",
                                      since=week[0], until=week[1])),
            "operator_district_absent_reason": (
                operator, EventFilter(district="d3", reason="alert_list")),
            "operator_site_newest": (operator, EventFilter(site_id=site)),
            "operator_site_door_refused": (
                operator, EventFilter(site_id=site, door_id="door-3", granted=False)),
            "operator_site_absent_door": (operator, EventFilter(site_id=site, door_id="none")),
            "viewer_district_newest": (viewer, EventFilter()),
            "viewer_refused_week": (viewer, EventFilter(granted=False, since=week[0],
                                                        until=week[1])),
            "viewer_reason_all_time": (viewer, EventFilter(reason="wrong_pin")),
            "viewer_reason_page_2": (viewer, EventFilter(reason="wrong_pin",
                                                         after=(later, "s", "k"))),
            "viewer_other_district": (viewer, EventFilter(district="d4")),
        }  # fmt: skip
        timings = {}
        for label, (account, query) in cases.items():
            runs = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                rows = search_events(store, account, query, datetime.now(UTC))
                runs.append((time.perf_counter() - t) * 1000)
            timings[label] = {"median_ms": round(statistics.median(runs), 1),
                              "max_ms": round(max(runs), 1), "rows": len(rows)}  # fmt: skip
        slowest = max(t["median_ms"] for t in timings.values())
        print(json.dumps({"rows": args.rows, "fill_s": round(fill_s, 1),
                          "slowest_median_ms": slowest, "pages": timings}, indent=2))  # fmt: skip
        store.engine.dispose()


if __name__ == "__main__":
    main()
