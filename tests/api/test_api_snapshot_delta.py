"""An edge gate gets the change since the version it holds, not the whole snapshot (issue 11).

Over the real HTTP app: after an enrolment and after an erasure a gate holding version V
gets a delta (wire format 3: the access sections changed, the templates added, the ids
removed) and its gallery, and its sealed snapshot file, equal a fresh whole snapshot's; a
version the server does not remember gets the whole snapshot; a delta the gate cannot
apply is refused and the whole snapshot fetched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from api_site import Site
from facegate.domain.access import TimeWindow
from facegate.domain.accounts import GateKind
from facegate.domain.gate import GateSnapshot
from facegate.domain.people import ConsentMethod, ConsentPurpose, Role
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate import access_wire
from facegate.gate.access_wire import SECTIONS
from facegate.gate.http_upstream import HttpUpstream
from facegate.gate.runner import SnapshotHolder
from facegate.gate.snapshot_file import SnapshotFile
from facegate.gate.snapshot_sections import SectionMemo, Sections
from facegate.gate.snapshot_wire import gate_wire_key, open_body, sealed_of
from facegate.http.key_rate import KeyRate
from facegate.services import accounts, credentials, people, places
from facegate.services.consent import grant_consent
from facegate.services.enrollment import enroll
from facegate.services.gallery_history import GALLERIES, KEEP_MODELS
from facegate.services.rights import erase_person
from facegate.services.template_cache import TEMPLATES
from fakes import FakeDescriber
from support import gallery_by_id

MODEL = "fake-model"
ALL_DAY = TimeWindow(frozenset(range(7)), time(0), time(23, 59, 59))
GATE = "gate-north"


class Gate:
    """An edge gate on the site's HTTP app, recording each snapshot answer's body."""

    def __init__(self, site: Site, tmp_path: Path, name: str = GATE) -> None:
        kinds = list(CredentialKind)
        self.door = places.add_door(
            site.context, name, DoorKind.ENTRANCE, CredentialMode.ANY_OF, kinds
        ).id
        self.site, self.name = site, name
        self.secret = accounts.issue_device_key(
            site.context, self.door, "t", GateKind.EDGE, name
        ).secret
        self.answers: list[dict[str, object]] = []
        self.sizes: list[int] = []
        client = site.client()
        client.event_hooks["response"] = [self._record]
        upstream = HttpUpstream("", name, self.secret, MODEL, 5.0, client=client)
        key = gate_wire_key(self.secret, name)
        self.file = SnapshotFile(tmp_path / f"snapshot.{name}.bin", name, key, site.deps.clock)
        self.holder = SnapshotHolder(upstream, name, self.door, saved=self.file)

    def _record(self, response: httpx.Response) -> None:
        if response.url.path.endswith("/snapshot") and response.status_code == 200:
            response.read()
            self.answers.append(response.json())
            self.sizes.append(len(response.content))

    def sync(self) -> GateSnapshot:
        """One refresh; the snapshot the gate now decides from."""
        assert self.holder.refresh()
        return self.holder()

    def fresh(self) -> GateSnapshot:
        """A whole snapshot, built and fetched afresh (a new gate process)."""
        return HttpUpstream(
            "", self.name, self.secret, MODEL, 5.0, client=self.site.client()
        ).fetch_snapshot(self.name, self.door)

    def formats(self) -> list[object]:
        return [answer["wire_format"] for answer in self.answers]

    def sent(self, answer: int) -> set[str]:
        """The access sections the ``answer``-th snapshot answer carried."""
        raw = self.answers[answer]
        header = tuple(k for k in raw if k != "sealed")
        key = gate_wire_key(self.secret, self.name)
        body, _ = open_body(
            raw, sealed_of(raw), self.name, key, int(str(raw["wire_format"])), header
        )
        return set(SECTIONS) & set(body["access"])


def resident(site: Site, name: str, seeds: list[int]) -> str:
    pid = people.add_person(site.context, name, Role.RESIDENT).id
    grant_consent(site.context, pid, ConsentPurpose.FACE_ACCESS, "v1", ConsentMethod.WRITTEN)
    photos = [Path(f"{seed}.jpg") for seed in seeds]
    enroll(site.context, site.deps.sealer(), FakeDescriber, pid, photos)
    return pid


def gate_snapshot_records(site: Site) -> int:
    audit = site.client("auditor").get("/api/v1/audit", params={"action": "gate.snapshot"})
    return sum(1 for r in audit.json() if r["action"] == "gate.snapshot")


@pytest.fixture
def gate(site: Site, tmp_path: Path) -> Iterator[Gate]:
    """A gate holding the snapshot of a site of 13 people with 2 templates each."""
    GALLERIES.clear()
    for number in range(13):
        resident(site, f"R{number}", [100 + 2 * number, 101 + 2 * number])
    built = Gate(site, tmp_path)
    built.sync()
    assert built.formats() == [2]
    yield built
    GALLERIES.clear()


def test_after_an_enrolment_the_gate_gets_only_the_new_templates(gate: Gate, site: Site) -> None:
    records = gate_snapshot_records(site)
    before = gate.holder().version
    newcomer = resident(site, "New", [7])
    held = gate.sync()
    assert gate.formats() == [2, 3]
    assert gate.answers[1]["base_version"] == before
    assert gate.sent(1) == {"people"}  # cards, PINs, rules, ... unchanged: left out
    assert gate.sizes[1] * 3 < gate.sizes[0]  # the people and one template
    assert gate_snapshot_records(site) == records + 1  # one per version delivered
    fresh = gate.fresh()
    assert held.version == fresh.version
    assert gallery_by_id(held.access.gallery) == gallery_by_id(fresh.access.gallery)
    assert held.access.people == fresh.access.people
    assert (held.access.cards, held.access.pins) == (fresh.access.cards, fresh.access.pins)
    assert newcomer in held.access.gallery.person_ids()
    credentials.add_card(site.context, site.resident_id, "CARD-NEW")
    after_card = gate.sync()  # a new version; the people sent last time are kept now
    assert gate.formats()[2] == 3
    assert gate.sent(2) <= {"cards"}  # the cards, if that resident may use this door
    fresh = gate.fresh()
    assert (after_card.access.people, after_card.access.cards) == (
        fresh.access.people,
        fresh.access.cards,
    )


def test_after_an_erasure_the_person_is_gone_from_the_gallery_and_the_file(
    gate: Gate, site: Site
) -> None:
    erased = resident(site, "Leaving", [9, 10])
    gate.sync()
    rows = gallery_by_id(gate.holder().access.gallery)
    erased_ids = {t for t, (p, _) in rows.items() if p == erased}
    assert len(erased_ids) == 2
    erase_person(site.context, erased)
    held = gate.sync()
    assert gate.formats() == [2, 3, 3]
    assert erased not in held.access.gallery.person_ids()
    assert gallery_by_id(held.access.gallery) == gallery_by_id(gate.fresh().access.gallery)
    saved = SnapshotFile(gate.file.path, GATE, gate_wire_key(gate.secret, GATE), site.deps.clock)
    on_disk = saved.load(gate.door)
    assert on_disk.version == held.version
    assert set(gallery_by_id(on_disk.access.gallery)) == set(gallery_by_id(held.access.gallery))
    assert not erased_ids & set(gallery_by_id(on_disk.access.gallery))


def test_a_version_the_server_does_not_remember_gets_the_whole_snapshot(
    gate: Gate, site: Site
) -> None:
    GALLERIES.clear()  # as after a server restart
    resident(site, "New", [7])
    held = gate.sync()
    assert gate.formats() == [2, 2]
    assert gallery_by_id(held.access.gallery) == gallery_by_id(gate.fresh().access.gallery)
    credentials.add_card(site.context, site.resident_id, "CARD-NEW")
    gate.sync()  # remembered again from the whole one it delivered
    assert gate.formats()[2] == 3
    assert gate.answers[2]["base_version"] == held.version


def test_a_delta_the_gate_cannot_apply_is_refused_and_the_whole_snapshot_fetched(
    gate: Gate, site: Site
) -> None:
    held = gate.holder()
    ids = held.access.gallery.template_ids()
    assert ids is not None
    # The server misremembers the gate's gallery: its delta removes a template it lacks.
    GALLERIES.record(gate.door, MODEL, held.version, (*ids, "not-at-the-gate"))
    resident(site, "New", [7])
    now = gate.sync()
    assert gate.formats() == [2, 3, 2]
    assert gallery_by_id(now.access.gallery) == gallery_by_id(gate.fresh().access.gallery)


def test_a_gate_that_does_not_ask_for_a_delta_gets_the_whole_snapshot(
    gate: Gate, site: Site
) -> None:
    held = gate.holder().version
    resident(site, "New", [7])
    url = f"/api/v1/gates/{GATE}/snapshot?model={MODEL}"
    headers = {"X-Device-Key": gate.secret, "If-None-Match": f'"{held}"'}
    older_gate = site.client().get(url, headers=headers)  # an older gate: no delta header
    assert older_gate.status_code == 200
    assert older_gate.json()["wire_format"] == 2
    asking = site.client().get(url, headers={**headers, "X-Facegate-Delta": "3"})
    assert asking.json()["wire_format"] == 3


def test_a_card_taken_away_and_given_again_is_known_after_the_deltas(
    gate: Gate, site: Site
) -> None:
    """The site bench's writer erases a resident and enrols them again with the same card."""
    first = resident(site, "Toggled", [9, 10])
    credentials.add_card(site.context, first, "7001")
    places.add_access_rule(site.context, [ALL_DAY], person_id=first, door_ids=[gate.door])
    assert gate.sync().access.cards.get("7001") == first
    erase_person(site.context, first)
    gone = gate.sync()
    assert "7001" not in gone.access.cards
    again = resident(site, "Toggled", [9, 10])
    credentials.add_card(site.context, again, "7001")
    places.add_access_rule(site.context, [ALL_DAY], person_id=again, door_ids=[gate.door])
    held = gate.sync()
    assert gate.formats()[-2:] == [3, 3]
    assert held.access.cards.get("7001") == again
    fresh = gate.fresh().access
    assert dict(held.access.cards) == dict(fresh.cards)
    assert dict(held.access.people) == dict(fresh.people)


def test_gates_at_one_version_share_its_encoded_sections(
    gate: Gate, site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Encoding a snapshot's sections cost 60-150 ms a request at 25,000 residents: the
    people (the same for every door) and a rule set's rules are encoded once per
    version, not once per gate and request."""
    south = Gate(site, tmp_path, "gate-south")
    places.add_access_rule(
        site.context, [ALL_DAY], person_id=site.resident_id, door_ids=[gate.door, south.door]
    )
    encoded: dict[str, int] = {}
    for name in ("people", "rules"):
        plain = access_wire._SECTION_OUT[name]

        def counted(value: Any, name: str = name, plain: Callable[[Any], Any] = plain) -> Any:
            encoded[name] = encoded.get(name, 0) + 1
            return plain(value)

        monkeypatch.setitem(access_wire._SECTION_OUT, name, counted)
    versions = set()
    for asking in (gate, south, gate):  # whole snapshots, as a gate's first poll asks
        url = f"/api/v1/gates/{asking.name}/snapshot?model={MODEL}"
        answer = site.client().get(url, headers={"X-Device-Key": asking.secret})
        assert answer.status_code == 200
        versions.add(answer.headers["etag"].strip('"').split(".")[0])
    assert len(versions) == 1  # one data version
    assert encoded == {"people": access_wire.BUCKETS, "rules": 1}
    monkeypatch.undo()
    access = south.fresh().access
    assert Sections.of(access, SectionMemo()) == Sections.of(access)


def test_a_gate_asking_for_ever_new_models_is_not_remembered_for_each(
    gate: Gate, site: Site
) -> None:
    """Each model name a poll gave was kept for good: a real ``facegate serve`` grew by
    45.6 kB a name (9.1 kB once main shared the encoded sections), 0.3 kB now (RSS over
    3,000 polls)."""
    url = f"/api/v1/gates/{GATE}/snapshot"
    site.deps.device_rate = KeyRate(0.0, 1)  # 12 builds at once: the key's rate is off here
    versions = []
    for number in range(3 * KEEP_MODELS):
        model = f"made-up-{number}"
        answer = site.client().get(
            url, params={"model": model}, headers={"X-Device-Key": gate.secret}
        )
        assert answer.status_code == 200
        versions.append((model, answer.headers["ETag"].strip('"')))
    kept = [m for m, v in versions if GALLERIES.at(gate.door, m, v) is not None]
    assert kept == [m for m, _ in versions[-KEEP_MODELS:]]
    assert not [m for m in TEMPLATES.models() if m.startswith("made-up-")]  # none of these
    resident(site, "New", [7])
    gate.sync()  # the gate's own model was forgotten too: the whole snapshot
    credentials.add_card(site.context, site.resident_id, "CARD-NEW")
    gate.sync()
    assert gate.formats()[-2:] == [2, 3]
