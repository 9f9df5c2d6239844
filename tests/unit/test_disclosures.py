"""Disclosure records on the fakes: validation, audit, the person's export, the time range."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from facegate.domain.audit import verify_chain
from facegate.domain.disclosure import DataClass, parse_data_classes, period_of
from facegate.domain.errors import NotFoundError, ValidationError
from facegate.services import disclosures, people, rights, site_admin
from facegate.services.context import ServiceContext
from facegate.services.disclosures import DisclosureRequest
from fakes import FakeClock, FakeStore

EVENTS = frozenset({DataClass.EVENTS})


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def context(store: FakeStore) -> ServiceContext:
    context = ServiceContext(store=store, clock=FakeClock(), actor="cli:tester")
    site_admin.init_site(context, "Oak Court", "Europe/Berlin")
    return context


def request(*person_ids: str, **changes: object) -> DisclosureRequest:
    fields: dict[str, object] = {
        "requesting_body": "City Police, 3rd precinct",
        "legal_basis": "Code of Criminal Procedure s.94, case 2026/117",
        "person_ids": person_ids,
        "data_classes": EVENTS,
        "start": date(2026, 2, 1),
        "end": date(2026, 2, 28),
        "approved_by": "Dana Ortiz (data protection officer)",
    }
    fields.update(changes)
    return DisclosureRequest(**fields)  # type: ignore[arg-type]


def test_a_disclosure_is_recorded_and_audited_by_id_only(
    context: ServiceContext, store: FakeStore
) -> None:
    ann = people.add_person(context, "Ann Lee").id
    bob = people.add_person(context, "Bob Stone").id
    made = disclosures.record_disclosure(context, request(ann, bob))
    assert made.recorded_by == "cli:tester"
    assert made.approved_at == context.clock.now()
    (entry,) = [r for r in store.tables.audit if r.action == "disclosure.add"]
    assert entry.subject_id == made.id
    assert entry.details["person_ids"] == ",".join(sorted((ann, bob)))
    assert entry.details["digest"] == made.digest()
    chain_text = " ".join(str(r.details) for r in store.tables.audit)
    assert "Ann Lee" not in chain_text
    assert "Bob Stone" not in chain_text
    assert verify_chain(store.tables.audit).intact


def test_the_range_is_read_in_the_site_time_zone() -> None:
    start, end = period_of(date(2026, 2, 1), date(2026, 2, 28), "Europe/Berlin")
    assert start == datetime(2026, 1, 31, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    moment = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    assert period_of(moment, moment + timedelta(hours=2), "Europe/Berlin")[0] == moment


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"requesting_body": " "}, "requesting body"),
        ({"legal_basis": ""}, "legal basis"),
        ({"approved_by": ""}, "approved by"),
        ({"data_classes": frozenset()}, "at least one data class"),
        ({"start": date(2026, 3, 1), "end": date(2026, 2, 1)}, "end after it starts"),
        ({"approved_at": datetime(2027, 1, 1, tzinfo=UTC)}, "in the future"),
    ],
)
def test_an_incomplete_disclosure_is_refused_and_writes_nothing(
    context: ServiceContext, store: FakeStore, changes: dict[str, object], message: str
) -> None:
    ann = people.add_person(context, "Ann").id
    commits = store.commits
    with pytest.raises(ValidationError, match=message):
        disclosures.record_disclosure(context, request(ann, **changes))
    assert store.commits == commits
    assert store.tables.disclosures == {}


def test_unknown_people_and_scopes_are_refused(context: ServiceContext, store: FakeStore) -> None:
    with pytest.raises(NotFoundError):
        disclosures.record_disclosure(context, request("no-such-person"))
    with pytest.raises(ValidationError, match="at least one person"):
        disclosures.record_disclosure(context, request())
    with pytest.raises(ValidationError, match="unknown data class"):
        parse_data_classes("events,faces")
    assert parse_data_classes("events, consents") == {DataClass.EVENTS, DataClass.CONSENTS}
    assert store.tables.disclosures == {}


def test_the_export_shows_a_person_their_own_disclosures_only_where_allowed(
    context: ServiceContext, store: FakeStore
) -> None:
    ann = people.add_person(context, "Ann").id
    bob = people.add_person(context, "Bob").id
    shared = disclosures.record_disclosure(context, request(ann, bob))
    disclosures.record_disclosure(context, request(bob))
    document = rights.export_person(context, ann, include_disclosures=True)
    assert [d["id"] for d in document["disclosures"]] == [shared.id]
    assert bob not in str(document["disclosures"])
    hidden = rights.export_person(context, ann, include_disclosures=False)
    assert "disclosures" not in hidden
    exports = [r for r in store.tables.audit if r.action == "person.export"]
    assert [r.details["disclosures_included"] for r in exports] == [True, False]


def test_listing_is_audited_and_filters_by_person(
    context: ServiceContext, store: FakeStore
) -> None:
    ann = people.add_person(context, "Ann").id
    bob = people.add_person(context, "Bob").id
    first = disclosures.record_disclosure(context, request(ann))
    assert isinstance(context.clock, FakeClock)
    context.clock.advance(hours=1)
    second = disclosures.record_disclosure(context, request(bob))
    assert [d.id for d in disclosures.list_disclosures(context)] == [first.id, second.id]
    assert [d.id for d in disclosures.list_disclosures(context, bob)] == [second.id]
    lists = [r for r in store.tables.audit if r.action == "disclosure.list"]
    assert [(r.subject_id, r.details["count"]) for r in lists] == [(None, 2), (bob, 1)]


def test_disclosures_outlive_the_erasure_of_their_subject(context: ServiceContext) -> None:
    ann = people.add_person(context, "Ann").id
    made = disclosures.record_disclosure(context, request(ann))
    rights.erase_person(context, ann)
    assert [d.id for d in disclosures.list_disclosures(context, ann)] == [made.id]
