"""A populated site for the console walks: every kind of record a console page shows.

Doors of each kind and mode, a building with a lift, rules by role and by person, an
alert-list entry, a card, a pass, consent, edge and kiosk keys, granted and refused
events, an alarm and an erased person's traces, so that every page has ids to (not) show.
"""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass
from datetime import date, time, timedelta
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from pages import log_in

from api_site import Site
from facegate.domain.access import TimeWindow
from facegate.domain.accounts import AccountRole, GateKind
from facegate.domain.disclosure import DataClass
from facegate.domain.gate import GateEvent, GateEventKind
from facegate.domain.people import ConsentMethod, ConsentPurpose, Role
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.services import accounts, credentials, disclosures, people, places, rights
from facegate.services.consent import grant_consent
from facegate.services.disclosures import DisclosureRequest
from facegate.services.gate_sync import receive_events


@dataclass(frozen=True)
class Populated:
    """Ids of what :func:`populate` made."""

    entrance_id: str
    building_door_id: str
    lift_id: str
    edge_gate_id: str
    kiosk_gate_id: str


def _event(gate_id: str, door_id: str, site: Site, **fields: object) -> GateEvent:
    kind = fields.pop("kind", GateEventKind.DECISION)
    return GateEvent(
        str(uuid.uuid4()),
        gate_id,
        kind,
        door_id,
        site.deps.clock.now(),
        **fields,  # type: ignore[arg-type]
    )


def populate(site: Site) -> Populated:
    """Fill ``site`` with one of everything the console shows."""
    ctx = site.context
    tower = places.add_building(ctx, "Tower A")
    entrance = places.add_door(
        ctx,
        "Front lobby",
        DoorKind.ENTRANCE,
        CredentialMode.ANY_OF,
        [CredentialKind.FACE, CredentialKind.CARD, CredentialKind.QR],
    )
    inner = places.add_door(
        ctx,
        "Tower A door",
        DoorKind.BUILDING,
        CredentialMode.ALL_OF,
        [CredentialKind.FACE, CredentialKind.CARD],
        tower.id,
    )
    places.add_door(
        ctx, "Car park barrier", DoorKind.GATE, CredentialMode.ANY_OF, [CredentialKind.PIN]
    )
    lift = places.add_lift(ctx, tower.id, "Lift 1", [0, 1, 2])
    week = [TimeWindow(frozenset(range(7)), time(6), time(23))]
    places.add_access_rule(ctx, week, role=Role.RESIDENT, door_ids=[entrance.id, inner.id])
    places.add_access_rule(ctx, week, person_id=site.other_id, door_ids=[entrance.id])
    credentials.add_alert(ctx, site.other_id, "theft", "court order 12", timedelta(days=10))
    credentials.add_card(ctx, site.resident_id, "C-1001")
    credentials.create_pass(ctx, site.resident_id, "Vi Sitor", timedelta(hours=4))
    grant_consent(
        ctx, site.resident_id, ConsentPurpose.FACE_ACCESS, "face-access-v1", ConsentMethod.WRITTEN
    )
    edge = accounts.issue_device_key(ctx, entrance.id, "pole", GateKind.EDGE, "north-1")
    kiosk = accounts.issue_device_key(ctx, inner.id, "lobby tablet", GateKind.KIOSK)
    accounts.revoke_device_key(ctx, kiosk.key.id)
    gone = people.add_person(ctx, "Gone Person", Role.VISITOR)
    events = [
        _event(
            "north-1",
            entrance.id,
            site,
            granted=True,
            reason=Reason.GRANTED,
            person_id=site.resident_id,
        ),
        _event("north-1", entrance.id, site, reason=Reason.UNKNOWN_FACE),
        _event("north-1", entrance.id, site, reason=Reason.ALERT_LIST, person_id=site.other_id),
        _event("north-1", entrance.id, site, reason=Reason.NOT_ALLOWED_HERE, person_id=gone.id),
        _event(
            "north-1",
            entrance.id,
            site,
            kind=GateEventKind.DOOR_FORCED_OPEN,
            note="contact opened while locked",
        ),
    ]
    receive_events(ctx, events)
    handed = DisclosureRequest(
        "City Police",
        "warrant 7",
        (site.resident_id, gone.id),
        frozenset({DataClass.EVENTS, DataClass.PERSON}),
        date(2026, 3, 1),
        date(2026, 3, 1),
        "Site manager",
    )
    disclosures.record_disclosure(ctx, handed)
    rights.erase_person(ctx, gone.id)
    return Populated(entrance.id, inner.id, lift.id, edge.key.gate_id, kiosk.key.gate_id)


class VisibleText(HTMLParser):
    """What a reader sees of a page: text nodes outside scripts and styles, and the
    attributes shown to people (``title``, ``placeholder``, ``alt``, ``aria-label``);
    ``words`` leaves out what is in ``<code>`` (names to type: CSV columns, settings).

    Ids may stand in links' and forms' machinery (``href``, ``action``, ``value``,
    ``data-*``, ``name``, ``id``), never in what is read.
    """

    SHOWN_ATTRIBUTES = frozenset({"title", "placeholder", "alt", "aria-label"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.words: list[str] = []
        self.links: list[str] = []
        self._hidden = 0
        self._code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden += 1
        self._code += tag == "code"
        for name, value in attrs:
            if name in self.SHOWN_ATTRIBUTES and value:
                self.parts.append(value)
            if tag == "a" and name == "href" and value:
                self.links.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1
        if tag == "code" and self._code:
            self._code -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(data.strip())
            if not self._code:
                self.words.append(data.strip())


def visible(html: str) -> VisibleText:
    """The parsed visible text and links of ``html``."""
    parser = VisibleText()
    parser.feed(html)
    return parser


CONSOLE_SEEDS = (
    "/console",
    "/console/people",
    "/console/doors",
    "/console/rules",
    "/console/rules?who=Lee",
    "/console/alerts?who=Chen",
    "/console/events",
    "/console/events?who=Ann",
    "/console/audit",
    "/console/retention",
    "/console/gates",
)
MAX_PAGES = 40
"""Pages one walk reads at most (every page type of a populated site fits)."""


def walk_console(client: TestClient) -> dict[str, str]:
    """GET every console page reachable from :data:`CONSOLE_SEEDS` by links (no forms posted)."""
    seen: dict[str, str] = {}
    queue = deque(CONSOLE_SEEDS)
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        answer = client.get(url)
        assert answer.status_code == 200, (url, answer.text[:300])
        seen[url] = answer.text
        for link in visible(answer.text).links:
            if link.endswith("/frame"):
                continue  # asks a live gate for a camera frame: tests/web/test_gate_frame.py
            if link.startswith("/console") and "before_seq" not in link and link not in seen:
                queue.append(link)
    return seen


def console_walker(site: Site, lang: str) -> TestClient:
    """An administrator's client in ``lang`` (login ``manager-li``)."""
    # A login name no enum holds, so the page header's own username is no false find.
    hasher = site.deps.hasher
    accounts.create_user(
        site.context, hasher, "manager-li", "correct horse battery", AccountRole.ADMIN
    )
    client, _ = log_in(site, "manager-li")
    client.cookies.set("facegate_lang", lang)
    return client
