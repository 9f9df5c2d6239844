"""A one-time visitor pass shown at two kiosk doors of the server opens one of them.

The server's doors decide from the snapshots they hold, refreshed by a thread (as
``facegate serve`` runs them); a pass's use reaches the site database with the grant's
event, and the other door's snapshot only with the next round. Here the round never
comes during the test: each door decides from what it holds.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from api_site import Site, kiosk_pipeline
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.services import accounts, credentials, places

NEVER_S = 3600.0
"""A snapshot round interval no test outlasts (seconds)."""


def kiosk_door(site: Site, name: str) -> tuple[str, dict[str, str]]:
    kinds = [CredentialKind.QR, CredentialKind.CARD]
    door = places.add_door(site.context, name, DoorKind.ENTRANCE, CredentialMode.ANY_OF, kinds)
    return door.id, {"X-Device-Key": accounts.issue_device_key(site.context, door.id, "k").secret}


def test_a_one_time_pass_opens_one_of_two_doors_and_once(site: Site, tmp_path: Path) -> None:
    doors = [kiosk_door(site, "North"), kiosk_door(site, "South")]
    kiosk_pipeline(site, tmp_path, refresh_s=NEVER_S)
    client = site.client()

    def show(door: tuple[str, dict[str, str]], kind: str, value: str) -> str:
        shown = {"kind": kind, "value": value}
        answer = client.post(f"/api/v1/doors/{door[0]}/credentials", json=shown, headers=door[1])
        assert answer.status_code == 200, answer.text
        return str(answer.json()["reason"])

    issued = credentials.create_pass(site.context, site.resident_id, "Vi", timedelta(hours=1))
    for door in doors:  # each door's station holds its snapshot (the pass unused) from here on
        assert show(door, "card", "no-such-card") == "unknown_credential"
    north, south = doors
    assert show(north, "qr", issued.code) == "granted"
    assert show(south, "qr", issued.code) == "pass_used_up"
    assert show(north, "qr", issued.code) == "pass_used_up"
    with site.deps.store.unit_of_work() as uow:
        assert uow.passes.get(issued.visitor_pass.id).uses == 1
