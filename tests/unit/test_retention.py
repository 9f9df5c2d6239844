"""Purge by retention period, with the audit trim's checkpoint; site key rotation."""

from __future__ import annotations

from pathlib import Path

from facegate.domain.audit import TRIM_ACTION, verify_chain
from facegate.domain.events import Event
from facegate.domain.people import ConsentMethod, ConsentPurpose
from facegate.domain.reasons import Reason
from facegate.domain.retention import RetentionPolicy
from facegate.services import credentials, people, retention, site_admin
from facegate.services.consent import grant_consent
from facegate.services.context import ServiceContext
from facegate.services.enrollment import enroll
from fakes import FakeClock, FakeDescriber, FakeSealer, FakeStore


def make_context() -> tuple[ServiceContext, FakeStore, FakeClock]:
    store, clock = FakeStore(), FakeClock()
    context = ServiceContext(store=store, clock=clock, actor="cli:tester")
    site_admin.init_site(context, "Oak Court", "UTC")
    return context, store, clock


def test_purge_deletes_what_is_past_retention_and_the_chain_still_verifies() -> None:
    context, store, clock = make_context()
    person = people.add_person(context, "Ann")
    with store.unit_of_work() as uow:
        uow.events.add(Event("old", "door", clock.now(), True, Reason.GRANTED, person.id))
        uow.commit()
    clock.advance(days=40)
    with store.unit_of_work() as uow:
        uow.events.add(Event("new", "door", clock.now(), False, Reason.UNKNOWN_FACE))
        uow.commit()
    report = retention.purge(context, RetentionPolicy(events_days=30, audit_days=10))
    assert report.counts["events"] == 1
    assert set(store.tables.events) == {"new"}
    assert report.counts["audit_records"] == 2  # site.init and person.add, 40 days old
    assert store.tables.audit[0].action == TRIM_ACTION
    actions = [r.action for r in store.tables.audit]
    assert actions == [TRIM_ACTION, "retention.purge"]
    assert verify_chain(store.tables.audit).intact
    assert store.reclaims == 1


def test_purge_removes_templates_of_people_who_moved_out() -> None:
    context, store, _clock = make_context()
    stays, leaves = people.add_person(context, "Ann"), people.add_person(context, "Bob")
    for seed, person in enumerate((stays, leaves), start=1):  # two faces, not one twice
        grant_consent(context, person.id, ConsentPurpose.FACE_ACCESS, "1", ConsentMethod.WRITTEN)
        enroll(context, FakeSealer(), FakeDescriber, person.id, [Path(f"{seed}.jpg")])
    credentials.add_card(context, leaves.id, "7")
    people.move_out(context, leaves.id)
    report = retention.purge(context, RetentionPolicy())
    assert report.counts["moved_out_templates"] == 1
    assert {t.person_id for t in store.tables.templates.values()} == {stays.id}
    assert set(store.tables.keys) == {stays.id}
    assert len(store.tables.cards) == 1


def test_rotation_rewraps_every_key_in_one_audited_transaction() -> None:
    context, store, _ = make_context()
    for seed, name in enumerate(("Ann", "Bob"), start=1):  # two faces, not one twice
        person = people.add_person(context, name)
        grant_consent(context, person.id, ConsentPurpose.FACE_ACCESS, "1", ConsentMethod.WRITTEN)
        enroll(context, FakeSealer(), FakeDescriber, person.id, [Path(f"{seed}.jpg")])
    assert site_admin.rotate_site_key(context, FakeSealer(), b"\x01" * 32) == 2
    assert {k.site_key_id for k in store.tables.keys.values()} == {"01" * 32}
    assert store.tables.audit[-1].action == "site.rotate_key"
