"""Card swipes and event reads 20 at a time, over the API, on SQLite and PostgreSQL.

Every answer must match what the door did: a grant is answered only when the door got its
unlock command, each swipe is stored once, and no answer is a 409 or a 503 (audit appends
and event receipts must not fail a decision or a read).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import time
from pathlib import Path

from fastapi.testclient import TestClient

from api_site import Site, site_on, site_upstream
from facegate.domain.access import TimeWindow
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.actuators import SimulatedDoor
from facegate.gate.loop import LoopOptions
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.server_side import ActuatorPool, PipelineDecider
from facegate.services import accounts, credentials, places, site_admin
from facegate.vision.engine import FaceEngine
from facegate.vision.images import ImageLimits

AT_ONCE = 20
SWIPES = READS = 60
ALL_DAY = TimeWindow(frozenset(range(7)), time(0), time(23, 59, 59))


def _no_engine() -> FaceEngine:
    raise AssertionError("a card swipe must not load the face engine")


def _wire(site: Site, outbox_path: Path, door: SimulatedDoor) -> None:
    upstream = site_upstream(site)
    pool = ActuatorPool(lambda target: door, upstream)
    options = LoopOptions("server", 3.0, 0.6, LivenessSchedule(), 10.0)
    site.deps.decider = PipelineDecider(
        _no_engine,
        pool,
        SqliteOutbox(outbox_path),
        lambda: None,
        site.deps.clock,
        options,
        ImageLimits(),
    )


def _door_with_card(site: Site) -> tuple[str, str]:
    kinds = list(CredentialKind)
    door = places.add_door(site.context, "North", DoorKind.ENTRANCE, CredentialMode.ANY_OF, kinds)
    credentials.add_card(site.context, site.resident_id, "CARD-1234")
    places.add_access_rule(site.context, [ALL_DAY], person_id=site.resident_id, door_ids=[door.id])
    return door.id, accounts.issue_device_key(site.context, door.id, "kiosk").secret


def _per_thread(make: Callable[[], TestClient]) -> Callable[[], TestClient]:
    local = threading.local()

    def client() -> TestClient:
        if not hasattr(local, "client"):
            local.client = make()
        return local.client  # type: ignore[no-any-return]

    return client


def test_swipes_and_reads_at_once_answer_what_the_door_did(
    migrated_db_url: str, tmp_path: Path
) -> None:
    with site_on(migrated_db_url) as site:
        door = SimulatedDoor()
        _wire(site, tmp_path / "server-outbox.db", door)
        door_id, secret = _door_with_card(site)
        kiosk = _per_thread(lambda: site.client())
        auditor = _per_thread(lambda: site.client("auditor"))

        def swipe(_: int) -> tuple[str, int, bool]:
            answer = kiosk().post(
                f"/api/v1/doors/{door_id}/credentials",
                json={"kind": "card", "value": "CARD-1234"},
                headers={"X-Device-Key": secret},
            )
            granted = answer.status_code == 200 and bool(answer.json()["granted"])
            return "swipe", answer.status_code, granted

        def read(_: int) -> tuple[str, int, bool]:
            answer = auditor().get("/api/v1/events", params={"limit": 100})
            return "read", answer.status_code, False

        work = [swipe, read] * SWIPES
        with ThreadPoolExecutor(AT_ONCE) as pool:
            answers = list(pool.map(lambda n: work[n](n), range(len(work))))

        statuses = Counter((kind, status) for kind, status, _ in answers)
        assert statuses == {("swipe", 200): SWIPES, ("read", 200): READS}
        grants = sum(granted for _, _, granted in answers)
        assert grants == SWIPES == len([c for c in door.commands if c.action == "unlock"])
        stored = auditor().get("/api/v1/events", params={"door_id": door_id, "limit": 1000})
        assert stored.status_code == 200, stored.text
        assert len({e["id"] for e in stored.json()}) == SWIPES
        assert all(e["granted"] for e in stored.json())
        assert site_admin.verify_audit(site.context).intact
