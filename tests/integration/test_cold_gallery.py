"""The bulk gallery of a snapshot (cold and after changes) against the plain per-template one.

:func:`facegate.services.identification.load_gallery` reads people, consents and keys
one by one through the repositories and opens each template alone: the independent
reference the bulk path (one scan, one array, a cache refreshed by merging) must equal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from facegate.domain import gallery_delta
from facegate.domain.gallery_delta import gallery_digest
from facegate.domain.matching import Gallery, MatchPolicy
from facegate.domain.people import ConsentMethod, ConsentPurpose, Role
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.services import people, places, rights, site_admin
from facegate.services.consent import grant_consent, withdraw_consent
from facegate.services.context import ServiceContext
from facegate.services.enrollment import enroll
from facegate.services.identification import load_gallery
from facegate.services.site_rows import RowMemo
from facegate.services.snapshots import build_snapshot
from facegate.services.template_cache import TemplateCache, open_templates
from facegate.store.crypto import AesGcmSealer, generate_key
from facegate.store.database import create_db_engine
from facegate.store.site_reads import SqlSiteReads
from facegate.store.unit_of_work import SqlStore
from fakes import FakeClock, FakeDescriber

POLICY = MatchPolicy(0.57, 0.0)
MODEL = FakeDescriber.model_id


@pytest.fixture
def context(migrated_db_url: str) -> Iterator[ServiceContext]:
    store = SqlStore(create_db_engine(migrated_db_url))
    context = ServiceContext(store=store, clock=FakeClock(), actor="cli:tester")
    site_admin.init_site(context, "Oak Court", "UTC")
    yield context
    store.close()


def _resident(context: ServiceContext, sealer: AesGcmSealer, seeds: list[int]) -> str:
    person = people.add_person(context, f"P{seeds[0]}", Role.RESIDENT).id
    grant_consent(context, person, ConsentPurpose.FACE_ACCESS, "v1", ConsentMethod.WRITTEN)
    enroll(context, sealer, FakeDescriber, person, [Path(f"{s}.jpg") for s in seeds])
    return person


def _door_gallery(
    context: ServiceContext, sealer: AesGcmSealer
) -> Callable[[TemplateCache], Gallery]:
    """A new door; a function building its snapshot's gallery (a fresh row memo each time)."""
    kinds = list(CredentialKind)
    door = places.add_door(context, "D", DoorKind.ENTRANCE, CredentialMode.ANY_OF, kinds).id

    def built(cache: TemplateCache) -> Gallery:
        snapshot = build_snapshot(context, sealer, door, MODEL, POLICY, cache=cache, memo=RowMemo())
        return snapshot.access.gallery

    return built


def _content(gallery: Gallery) -> list[tuple[str, bytes]]:
    """The gallery as a sorted list of (person, descriptor bytes): its rows' order aside."""
    return sorted((person, row.tobytes()) for person, row in gallery.rows())


def test_the_bulk_gallery_equals_the_per_template_one_cold_and_after_changes(
    context: ServiceContext,
) -> None:
    sealer = AesGcmSealer(generate_key())
    residents = [_resident(context, sealer, [10 * n + 1, 10 * n + 2]) for n in range(6)]
    withdrawn, erased, moved, host = residents[:4]
    withdraw_consent(context, withdrawn, ConsentPurpose.FACE_ACCESS)
    rights.erase_person(context, erased)
    people.move_out(context, moved)
    cache, built = TemplateCache(), _door_gallery(context, sealer)

    cold = built(cache)
    assert len(cold) == 6  # three usable residents, two templates each
    assert {withdrawn, erased, moved}.isdisjoint(cold.person_ids())
    assert _content(cold) == _content(load_gallery(context, sealer, MODEL))
    opened = cache.opened
    newcomer = _resident(context, sealer, [91])  # a change: merged into the held block
    enroll(context, sealer, FakeDescriber, host, [Path("92.jpg")])
    withdraw_consent(context, residents[5], ConsentPurpose.FACE_ACCESS)
    warm = built(cache)
    assert cache.opened == opened + 2  # only the two new templates were decrypted
    assert newcomer in warm.person_ids()
    assert residents[5] not in warm.person_ids()
    assert _content(warm) == _content(load_gallery(context, sealer, MODEL))
    assert _content(built(TemplateCache())) == _content(warm)


def test_templates_opened_for_a_duplicate_check_equal_the_held_ones(
    context: ServiceContext,
) -> None:
    sealer = AesGcmSealer(generate_key())
    for n in range(3):
        _resident(context, sealer, [10 * n + 1, 10 * n + 2])
    cache = TemplateCache()
    with context.store.unit_of_work() as uow:
        index = uow.reads.template_index(MODEL)
        cold_people, cold = open_templates(uow, sealer, MODEL, index, cache)  # none held
        usable = {p for _, p in index}
        cold_gallery = cache.gallery(uow, sealer, MODEL, usable)  # cold: in the order read
        assert cache.gallery(uow, sealer, MODEL, usable) is cold_gallery  # kept, not re-sorted
        held_people, held = open_templates(uow, sealer, MODEL, index, cache)  # all held
    assert sorted(zip(cold_people, map(bytes, cold), strict=True)) == sorted(
        zip(held_people, map(bytes, held), strict=True)
    )
    assert len(cold_people) == 6


def test_the_gallery_digest_carried_to_the_next_version_is_that_gallerys(
    context: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    sealer = AesGcmSealer(generate_key())
    residents = [_resident(context, sealer, [10 * n + 1, 10 * n + 2]) for n in range(4)]
    cache, built = TemplateCache(), _door_gallery(context, sealer)

    first = built(cache)
    gallery_digest(first)  # known to a server that sent this version by delta
    hashed: list[int] = []
    row_sum = gallery_delta._row_sum
    monkeypatch.setattr(gallery_delta, "_row_sum", lambda g: hashed.append(len(g)) or row_sum(g))
    _resident(context, sealer, [91])  # one template in, three out
    rights.erase_person(context, residents[0])
    withdraw_consent(context, residents[1], ConsentPurpose.FACE_ACCESS)
    enroll(context, sealer, FakeDescriber, residents[2], [Path("92.jpg")])
    second = built(cache)
    assert second is not first
    assert len(second) == 6
    carried = gallery_digest(second)
    assert sorted(hashed) == [2, 4]  # the rows gone and added, not the gallery
    names, labels, matrix = second.as_index()
    whole = Gallery.from_index(names, labels, matrix.copy(), second.template_ids())
    assert gallery_digest(whole) == carried  # the same as computed whole


def test_a_cold_build_reads_the_template_index_with_the_templates(
    context: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cold cache's one scan of the templates answers the index too (was read apart)."""
    sealer = AesGcmSealer(generate_key())
    residents = [_resident(context, sealer, [10 * n + 1, 10 * n + 2]) for n in range(3)]
    withdraw_consent(context, residents[0], ConsentPurpose.FACE_ACCESS)
    kinds = list(CredentialKind)
    door = places.add_door(context, "D", DoorKind.ENTRANCE, CredentialMode.ANY_OF, kinds).id
    indexes: list[str] = []
    read_index = SqlSiteReads.template_index

    def counted(reads: SqlSiteReads, model_id: str) -> list[tuple[str, str]]:
        indexes.append(model_id)
        return read_index(reads, model_id)

    monkeypatch.setattr(SqlSiteReads, "template_index", counted)
    cache, memo = TemplateCache(), RowMemo()
    cold = build_snapshot(context, sealer, door, MODEL, POLICY, cache=cache, memo=memo)
    assert indexes == []
    assert _content(cold.access.gallery) == _content(load_gallery(context, sealer, MODEL))
    with context.store.unit_of_work() as uow:
        version = uow.reads.data_version()
        held = memo.rows(context.store, uow, version, context.clock.now()).indexes[MODEL]
        assert sorted(held) == read_index(uow.reads, MODEL)  # every template, withdrawn too
    warm = build_snapshot(context, sealer, door, MODEL, POLICY, cache=cache, memo=RowMemo())
    assert indexes == [MODEL]  # templates held: the index is read alone, nothing opened
    assert warm.access.gallery is cold.access.gallery
