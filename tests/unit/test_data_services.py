"""The data use cases on hand-written fakes: consent, enrollment, credentials, erasure."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from facegate.domain.audit import verify_chain
from facegate.domain.errors import (
    AccessRefusedError,
    BadInputError,
    ConflictError,
    ConsentRequiredError,
    NotFoundError,
    SiteNotInitializedError,
    ValidationError,
)
from facegate.domain.matching import MatchPolicy
from facegate.domain.people import ConsentMethod, ConsentPurpose, Role
from facegate.ports import PhotoDescriber
from facegate.services import credentials, people, rights, site_admin
from facegate.services.consent import grant_consent, withdraw_consent
from facegate.services.context import ServiceContext
from facegate.services.enrollment import enroll
from facegate.services.identification import identify_probes, load_gallery
from fakes import FakeClock, FakeDescriber, FakeSealer, FakeStore, unit_descriptor

POLICY = MatchPolicy(threshold=0.57, min_margin=0.0)
FACE = ConsentPurpose.FACE_ACCESS


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def context(store: FakeStore) -> ServiceContext:
    context = ServiceContext(store=store, clock=FakeClock(), actor="cli:tester")
    site_admin.init_site(context, "Oak Court", "Europe/Berlin")
    return context


def consenting(context: ServiceContext, name: str = "Ann Lee") -> str:
    person = people.add_person(context, name)
    grant_consent(context, person.id, FACE, "2026-01", ConsentMethod.WRITTEN)
    return person.id


def enroll_seed(context: ServiceContext, person_id: str, seed: int) -> list[str]:
    describer = FakeDescriber()
    result = enroll(context, FakeSealer(), lambda: describer, person_id, [Path(f"{seed}.jpg")])
    return result.template_ids


def test_people_need_a_site(store: FakeStore) -> None:
    bare = ServiceContext(store=store, clock=FakeClock(), actor="cli:tester")
    with pytest.raises(SiteNotInitializedError, match="site init"):
        people.add_person(bare, "Ann")
    site, created = site_admin.init_site(bare, "Oak Court", "UTC")
    assert created
    assert site_admin.init_site(bare, "Other", "UTC") == (site, False)


def test_enrollment_without_consent_is_refused_before_reading_any_photo(
    context: ServiceContext, store: FakeStore
) -> None:
    person = people.add_person(context, "Ann Lee")
    built: list[PhotoDescriber] = []

    def factory() -> PhotoDescriber:
        built.append(FakeDescriber())
        return built[-1]

    commits = store.commits
    with pytest.raises(ConsentRequiredError, match="no face_access consent"):
        enroll(context, FakeSealer(), factory, person.id, [Path("1.jpg")])
    assert built == []
    assert store.commits == commits
    assert store.tables.templates == {}


def test_enrollment_reports_failures_and_seals_the_rest(
    context: ServiceContext, store: FakeStore
) -> None:
    person_id = consenting(context)
    describer = FakeDescriber()
    images = [Path("1.jpg"), Path("blurry.jpg"), Path("2.jpg")]
    result = enroll(context, FakeSealer(), lambda: describer, person_id, images)
    assert len(result.template_ids) == 2
    assert list(result.failures) == [Path("blurry.jpg")]
    assert result.model_id == "fake-model"
    stored = list(store.tables.templates.values())
    assert {t.model_id for t in stored} == {"fake-model"}
    assert all(t.person_id == person_id for t in stored)
    assert store.tables.keys[person_id].person_id == person_id
    assert store.tables.audit[-1].action == "face.enroll"


def test_enrollment_with_no_usable_photo_writes_nothing(
    context: ServiceContext, store: FakeStore
) -> None:
    person_id = consenting(context)
    before = store.commits
    with pytest.raises(BadInputError, match=r"nothing enrolled.*no face"):
        enroll(context, FakeSealer(), FakeDescriber, person_id, [Path("x.jpg")])
    assert store.commits == before
    assert store.tables.keys == {}


def test_unknown_ids_are_clear_errors(context: ServiceContext) -> None:
    with pytest.raises(NotFoundError, match="no person with id 'nobody'"):
        enroll(context, FakeSealer(), FakeDescriber, "nobody", [Path("1.jpg")])
    with pytest.raises(NotFoundError):
        credentials.add_card(context, "nobody", "0042")
    with pytest.raises(NotFoundError):
        grant_consent(context, "nobody", FACE, "1", ConsentMethod.WRITTEN)
    with pytest.raises(NotFoundError):
        rights.erase_person(context, "nobody")
    with pytest.raises(NotFoundError):
        rights.export_person(context, "nobody", include_disclosures=True)


def test_identification_finds_the_enrolled_and_fails_closed(context: ServiceContext) -> None:
    ann, bob = consenting(context, "Ann"), consenting(context, "Bob")
    enroll_seed(context, ann, 1)
    enroll_seed(context, bob, 2)
    gallery = load_gallery(context, FakeSealer(), "fake-model")
    found = identify_probes(gallery, [unit_descriptor(1), unit_descriptor(3), None], POLICY)
    assert [(f.person_id, f.decision) for f in found] == [
        (ann, "match"),
        (None, "unknown"),
        (None, "unknown"),
    ]
    assert found[2].reason.value == "low_quality"
    assert len(load_gallery(context, FakeSealer(), "another-model")) == 0


def test_withdrawal_destroys_face_data_and_keeps_the_card(
    context: ServiceContext, store: FakeStore
) -> None:
    person_id = consenting(context)
    enroll_seed(context, person_id, 1)
    credentials.add_card(context, person_id, "0042")
    result = withdraw_consent(context, person_id, FACE)
    assert result.templates_deleted == 1
    assert store.tables.templates == {}
    assert person_id not in store.tables.keys
    assert store.reclaims == 1
    assert [c.number for c in store.tables.cards.values()] == ["0042"]
    gallery = load_gallery(context, FakeSealer(), "fake-model")
    assert identify_probes(gallery, [unit_descriptor(1)], POLICY)[0].person_id is None
    with pytest.raises(ConsentRequiredError):
        enroll_seed(context, person_id, 1)
    with pytest.raises(NotFoundError, match="no face_access consent in force"):
        withdraw_consent(context, person_id, FACE)


def test_a_minors_consent_names_a_guardian(context: ServiceContext) -> None:
    child = people.add_person(context, "Kid", Role.HOUSEHOLD_MEMBER, minor=True)
    with pytest.raises(ValidationError, match="guardian"):
        grant_consent(context, child.id, FACE, "1", ConsentMethod.WRITTEN)
    record = grant_consent(context, child.id, FACE, "1", ConsentMethod.WRITTEN, guardian="Mum")
    assert record.guardian == "Mum"


def test_a_duplicate_card_writes_nothing(context: ServiceContext, store: FakeStore) -> None:
    ann, bob = consenting(context, "Ann"), consenting(context, "Bob")
    credentials.add_card(context, ann, "0042")
    audit_length = len(store.tables.audit)
    with pytest.raises(ConflictError, match="'0042' is already in use"):
        credentials.add_card(context, bob, " 0042 ")
    assert len(store.tables.audit) == audit_length
    assert len(store.tables.cards) == 1


def test_an_expired_pass_is_refused_and_writes_nothing(
    context: ServiceContext, store: FakeStore
) -> None:
    host = consenting(context)
    start = context.clock.now() - timedelta(days=2)
    commits = store.commits
    with pytest.raises(ValidationError, match="would have expired"):
        credentials.create_pass(context, host, "Guest", timedelta(hours=1), 1, start)
    assert store.commits == commits
    issued = credentials.create_pass(context, host, "Guest", timedelta(hours=1))
    assert issued.code not in repr(store.tables.passes)
    assert issued.visitor_pass.refusal(context.clock.now()) is None


def test_a_pass_code_never_starts_with_a_dash(
    context: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A code starting with '-' was read as an option by `facegate pass use` (1 in 64)."""
    drawn = iter(["-dashFirst", "_underscoreFirst"])
    monkeypatch.setattr(credentials.secrets, "token_urlsafe", lambda _: next(drawn))
    issued = credentials.create_pass(context, consenting(context), "Guest", timedelta(hours=1))
    assert issued.code == "_underscoreFirst"


def test_pins_are_stored_hashed(context: ServiceContext, store: FakeStore) -> None:
    person_id = consenting(context)
    credentials.set_pin(context, person_id, "482913")
    assert "482913" not in store.tables.pins[person_id].pin_hash


def test_export_holds_everything_and_is_audited(context: ServiceContext) -> None:
    person_id = consenting(context)
    enroll_seed(context, person_id, 1)
    credentials.add_card(context, person_id, "0042")
    credentials.add_alert(context, person_id, "theft", "case 17", timedelta(days=3))
    document = rights.export_person(context, person_id, include_disclosures=True)
    assert document["person"]["name"] == "Ann Lee"
    assert [c["number"] for c in document["cards"]] == ["0042"]
    assert len(document["face_templates"]) == 1
    assert "sealed" not in str(document["face_templates"])
    assert document["consents"][0]["purpose"] == "face_access"
    assert document["alert_entries"][0]["legal_basis"] == "case 17"
    last = context.store.unit_of_work().audit.last()
    assert last is not None
    assert (last.action, last.subject_id) == ("person.export", person_id)


def test_erasure_removes_everything_but_the_consent_proof(
    context: ServiceContext, store: FakeStore
) -> None:
    person_id = consenting(context)
    enroll_seed(context, person_id, 1)
    credentials.add_card(context, person_id, "0042")
    credentials.create_pass(context, person_id, "Guest", timedelta(hours=1))
    erasure = rights.erase_person(context, person_id)
    assert erasure.counts["face_templates"] == 1
    tables = store.tables
    assert person_id not in tables.people
    assert person_id not in tables.keys
    assert tables.templates == {}
    assert tables.cards == {}
    assert tables.passes == {}
    (proof,) = tables.consents.values()
    assert proof.withdrawn_at == context.clock.now()
    assert store.reclaims == 1
    assert verify_chain(tables.audit).intact
    assert all("Ann" not in repr(record) for record in tables.audit)


def test_a_pass_opens_until_it_is_used_up_or_expired(
    context: ServiceContext, store: FakeStore
) -> None:
    host = consenting(context)
    issued = credentials.create_pass(context, host, "Guest", timedelta(hours=1), max_uses=1)
    assert credentials.use_pass(context, issued.code).uses == 1
    with pytest.raises(AccessRefusedError) as used_up:
        credentials.use_pass(context, issued.code)
    assert used_up.value.reason == "pass_used_up"
    later = credentials.create_pass(context, host, "Guest", timedelta(hours=1), max_uses=3)
    clock = context.clock
    assert isinstance(clock, FakeClock)
    clock.advance(hours=2)
    with pytest.raises(AccessRefusedError) as expired:
        credentials.use_pass(context, later.code)
    assert expired.value.reason == "pass_expired"
    assert store.tables.passes[later.visitor_pass.id].uses == 0
    with pytest.raises(AccessRefusedError) as unknown:
        credentials.use_pass(context, "not-a-code")
    assert unknown.value.reason == "unknown_credential"
