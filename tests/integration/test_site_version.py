"""The site data version on SQLite and PostgreSQL: bumped with every change a decision
reads (and only then), cheap gate polls, delta decryption, an erasure reaching the gate's
memory and sealed file within 2 s, and the events' insertion sequence."""

from __future__ import annotations

import time as clock
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, text

from facegate.domain.access import TimeWindow
from facegate.domain.accounts import GateKind
from facegate.domain.credentials import SealedRow, SealedTemplate, WrappedKey
from facegate.domain.errors import ConflictError
from facegate.domain.events import Event
from facegate.domain.matching import FloatArray, MatchPolicy
from facegate.domain.people import ConsentMethod, ConsentPurpose, Role
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.runner import SnapshotHolder, SyncThread
from facegate.gate.snapshot_file import SnapshotFile
from facegate.gate.store_upstream import StoreUpstream
from facegate.services import accounts, credentials, people, places, rights, site_admin
from facegate.services.consent import grant_consent, grant_consent_in, withdraw_consent
from facegate.services.context import ServiceContext
from facegate.services.enrollment import DuplicateCheck, Enrollment, enroll, store_templates_in
from facegate.services.site_rows import RowMemo
from facegate.services.snapshots import build_snapshot
from facegate.services.template_cache import TemplateCache
from facegate.store.crypto import AesGcmSealer, generate_key
from facegate.store.database import create_db_engine, upgrade
from facegate.store.unit_of_work import SqlStore
from fakes import FakeClock, FakeDescriber, unit_descriptor

ALL_DAY = TimeWindow(frozenset(range(7)), time(0), time(23, 59, 59))
POLICY = MatchPolicy(0.57, 0.0)
MODEL = "fake-model"


@pytest.fixture
def context(migrated_db_url: str) -> Iterator[ServiceContext]:
    engine = create_db_engine(migrated_db_url)
    store = SqlStore(engine)
    context = ServiceContext(store=store, clock=FakeClock(), actor="cli:tester")
    site_admin.init_site(context, "Oak Court", "UTC")
    yield context
    store.close()


def version(context: ServiceContext) -> int:
    with context.store.unit_of_work() as uow:
        return uow.reads.data_version()


def resident(context: ServiceContext, sealer: AesGcmSealer, seed: int) -> str:
    person = people.add_person(context, f"P{seed}", Role.RESIDENT).id
    grant_consent(context, person, ConsentPurpose.FACE_ACCESS, "v1", ConsentMethod.WRITTEN)
    enroll(context, sealer, FakeDescriber, person, [Path(f"{seed}.jpg")])
    return person


def _statements(context: ServiceContext) -> list[str]:
    """A list that every SQL statement the site's store runs from now on is appended to."""
    store = context.store
    assert isinstance(store, SqlStore)
    statements: list[str] = []
    event.listen(
        store.engine, "before_cursor_execute", lambda *args: statements.append(str(args[2]))
    )
    return statements


def test_every_change_a_decision_reads_bumps_the_version(context: ServiceContext) -> None:
    sealer = AesGcmSealer(generate_key())
    steps: list[tuple[str, Callable[[], object]]] = []
    ann = resident(context, sealer, 3)
    door = places.add_door(
        context, "North", DoorKind.ENTRANCE, CredentialMode.ANY_OF, list(CredentialKind)
    ).id
    building = places.add_building(context, "A").id
    steps = [
        ("person", lambda: people.add_person(context, "Bo", Role.RESIDENT)),
        ("card", lambda: credentials.add_card(context, ann, "C-1")),
        ("pin", lambda: credentials.set_pin(context, ann, "482915")),
        ("pass", lambda: credentials.create_pass(context, ann, "Guest", timedelta(hours=1))),
        ("alert", lambda: credentials.add_alert(context, ann, "r", "b", timedelta(days=1))),
        (
            "rule",
            lambda: places.add_access_rule(context, [ALL_DAY], person_id=ann, door_ids=[door]),
        ),
        ("lift", lambda: places.add_lift(context, building, "L", [1, 2])),
        ("gate", lambda: accounts.issue_device_key(context, door, "k", GateKind.EDGE, "g-1")),
        ("enrol", lambda: enroll(context, sealer, FakeDescriber, ann, [Path("4.jpg")])),
        ("withdraw", lambda: withdraw_consent(context, ann, ConsentPurpose.FACE_ACCESS)),
        ("erase", lambda: rights.erase_person(context, ann)),
    ]
    for name, change in steps:
        before = version(context)
        change()
        assert version(context) > before, name


def test_a_transaction_of_many_changes_bumps_the_version_once(context: ServiceContext) -> None:
    before = version(context)
    with context.store.unit_of_work() as uow:  # a bulk import's batch: a flush per person
        for n in range(5):
            people.add_person_in(uow, context, f"P{n}", Role.RESIDENT)
            uow.people.all()  # a query flushes the person
        uow.commit()
    assert version(context) == before + 1
    with context.store.unit_of_work() as uow:
        people.add_person_in(uow, context, "Late", Role.RESIDENT)
        uow.commit()
    assert version(context) == before + 2


def test_events_audit_and_refused_changes_leave_the_version(context: ServiceContext) -> None:
    sealer = AesGcmSealer(generate_key())
    ann = resident(context, sealer, 3)
    credentials.add_card(context, ann, "C-1")
    door = _door(context)
    before = version(context)
    with context.store.unit_of_work() as uow:
        uow.events.add(
            Event(str(uuid.uuid4()), "d", context.clock.now(), False, Reason.NO_FACE, None, {})
        )
        uow.events.add_receipt(str(uuid.uuid4()), "g", context.clock.now())
        uow.commit()
    build_snapshot(context, sealer, door, MODEL, POLICY)  # audited read
    with pytest.raises(ConflictError):
        credentials.add_card(context, ann, "C-1")
    assert version(context) == before


def _door(context: ServiceContext) -> str:
    kinds = list(CredentialKind)
    return places.add_door(context, "D", DoorKind.ENTRANCE, CredentialMode.ANY_OF, kinds).id


def test_a_rebuild_decrypts_only_new_templates_and_forgets_erased_ones(
    context: ServiceContext,
) -> None:
    sealer = AesGcmSealer(generate_key())
    ann, bo = resident(context, sealer, 3), resident(context, sealer, 5)
    door = _door(context)
    cache = TemplateCache()
    first = build_snapshot(context, sealer, door, MODEL, POLICY, cache=cache)
    assert (len(first.access.gallery), cache.opened) == (2, 2)
    build_snapshot(context, sealer, door, MODEL, POLICY, cache=cache)
    assert cache.opened == 2
    resident(context, sealer, 7)
    third = build_snapshot(context, sealer, door, MODEL, POLICY, cache=cache)
    assert (len(third.access.gallery), cache.opened) == (3, 3)
    rights.erase_person(context, ann)
    withdraw_consent(context, bo, ConsentPurpose.FACE_ACCESS)
    last = build_snapshot(context, sealer, door, MODEL, POLICY, cache=cache)
    assert len(last.access.gallery) == 1
    assert ann not in last.access.gallery.person_ids()
    with context.store.unit_of_work() as uow:  # the cache holds no descriptor of either
        assert len(cache.gallery(uow, sealer, MODEL, {ann, bo})) == 0


class CountingSealer(AesGcmSealer):
    """Counts data keys unwrapped (each costs an AES-GCM decryption)."""

    unwrapped = 0
    opened = 0
    """Templates decrypted."""

    def _unwrap(self, key: WrappedKey) -> bytes:
        self.unwrapped += 1
        return super()._unwrap(key)

    def open_person(self, key: WrappedKey, templates: Sequence[SealedTemplate]) -> list[FloatArray]:
        self.opened += len(templates)
        return super().open_person(key, templates)

    def open(self, key: WrappedKey, template: SealedTemplate) -> FloatArray:
        self.opened += 1
        return super().open(key, template)

    def open_rows(
        self, model_id: str, rows: Sequence[SealedRow], keys: Mapping[str, WrappedKey]
    ) -> FloatArray:
        self.opened += len(rows)
        return super().open_rows(model_id, rows, keys)


def test_a_cold_rebuild_unwraps_each_persons_key_once(context: ServiceContext) -> None:
    sealer = CountingSealer(generate_key())
    residents = []
    for seed in (3, 5, 7):
        person = resident(context, sealer, seed)
        enroll(context, sealer, FakeDescriber, person, [Path(f"{seed + 1}.jpg")])
        residents.append(person)
    door = _door(context)
    sealer.unwrapped = 0
    cold = build_snapshot(context, sealer, door, MODEL, POLICY, cache=TemplateCache())
    assert len(cold.access.gallery) == 6
    assert sealer.unwrapped == 3  # one per person, not one per template (was 6)
    probe = unit_descriptor(8)
    assert cold.access.gallery.person_distance(probe, residents[2]) == 0.0


def test_a_one_person_change_at_a_large_gallery_decrypts_only_that_person(
    context: ServiceContext,
) -> None:
    """The server's kiosk doors (StoreUpstream.prepare) after each kind of change."""
    sealer = CountingSealer(generate_key())
    with context.store.unit_of_work() as uow:  # 150 residents, 2 templates each
        for n in range(150):
            person = people.add_person_in(uow, context, f"R{n}", Role.RESIDENT).id
            grant_consent_in(
                uow, context, person, ConsentPurpose.FACE_ACCESS, "v1", ConsentMethod.WRITTEN
            )
            images = {Path(f"{n}/{t}"): unit_descriptor(1000 + 2 * n + t) for t in range(2)}
            store_templates_in(
                uow, context, sealer, Enrollment(person, MODEL), images, DuplicateCheck(0.0)
            )
        uow.commit()
    doors = [_door(context), _door(context)]
    upstream = StoreUpstream(lambda: context.store, sealer, FakeClock(), MODEL, POLICY)
    assert upstream.prepare("server", doors) == 2
    assert sealer.opened == 300
    newcomer = resident(context, sealer, 7)  # one enrolment
    assert upstream.prepare("server", doors) == 2
    assert sealer.opened == 301
    enroll(context, sealer, FakeDescriber, newcomer, [Path("8.jpg")])  # one more template
    upstream.prepare("server", doors)
    assert sealer.opened == 302
    rights.erase_person(context, newcomer)  # one erasure: nothing to decrypt
    upstream.prepare("server", doors)
    assert sealer.opened == 302
    for door in doors:
        gallery = upstream.fetch_snapshot("server", door).access.gallery
        assert len(gallery) == 300
        assert newcomer not in gallery.person_ids()


def test_doors_after_the_first_reuse_the_gallery_of_the_version(context: ServiceContext) -> None:
    sealer = AesGcmSealer(generate_key())
    resident(context, sealer, 3)
    doors = [_door(context) for _ in range(3)]
    cache, memo = TemplateCache(), RowMemo()
    built = [
        build_snapshot(context, sealer, d, MODEL, POLICY, cache=cache, memo=memo) for d in doors
    ]
    assert cache.walks == 1  # was one walk per door
    assert built[0].access.gallery is built[2].access.gallery
    resident(context, sealer, 5)  # a new version: walked again, once
    for d in doors:
        build_snapshot(context, sealer, d, MODEL, POLICY, cache=cache, memo=memo)
    assert cache.walks == 2
    person = people.add_person(context, "Card only", Role.RESIDENT).id
    credentials.add_card(context, person, "CARD-1")  # new versions, the same faces
    again = [
        build_snapshot(context, sealer, d, MODEL, POLICY, cache=cache, memo=memo) for d in doors
    ]
    assert cache.walks == 2
    assert len(again[0].access.gallery) == 2


def test_prepare_builds_every_changed_door_in_one_commit(context: ServiceContext) -> None:
    sealer = AesGcmSealer(generate_key())
    resident(context, sealer, 3)
    doors = [_door(context) for _ in range(3)]
    upstream = StoreUpstream(lambda: context.store, sealer, context.clock, MODEL, POLICY)
    held = {d: upstream.fetch_snapshot("server", d).version for d in doors}
    assert upstream.prepare("server", doors) == 0  # nothing changed: nothing built
    resident(context, sealer, 5)
    store = context.store
    assert isinstance(store, SqlStore)
    commits: list[int] = []
    event.listen(store.engine, "commit", lambda _connection: commits.append(1))
    audited = _count(context, "audit_log")
    assert upstream.prepare("server", doors) == 3
    assert len(commits) == 1
    assert _count(context, "audit_log") == audited + 3  # still one record per door
    for d in doors:
        fresh = upstream.poll_snapshot("server", d, held[d])
        assert fresh is not None
        assert len(fresh.access.gallery) == 2
    assert len(commits) == 1  # the polls answered what prepare built
    assert _count(context, "audit_log") == audited + 3


def test_an_unchanged_poll_is_one_cheap_read_without_audit(context: ServiceContext) -> None:
    sealer = AesGcmSealer(generate_key())
    resident(context, sealer, 3)
    door = _door(context)
    upstream = StoreUpstream(lambda: context.store, sealer, context.clock, MODEL, POLICY)
    first = upstream.poll_snapshot("g", door, None)
    assert first is not None
    audit_rows = _count(context, "audit_log")
    statements = _statements(context)
    for _ in range(20):
        assert upstream.poll_snapshot("g", door, first.version) is None
    # cheap by construction, not by a timing (timings are benches' business): a poll that
    # finds its version unchanged reads the version stamps and nothing else
    assert len(statements) <= 20 * 2, statements[:4]
    assert not any("template" in sql.lower() for sql in statements)
    assert _count(context, "audit_log") == audit_rows


def test_a_round_over_many_doors_where_nothing_changed_is_one_transaction(
    context: ServiceContext,
) -> None:
    """The server's kiosk doors: ``prepare`` checks them all at once, their polls read
    nothing more (before: three reads per door in ``prepare`` and again in each poll)."""
    sealer = AesGcmSealer(generate_key())
    resident(context, sealer, 3)
    doors = [_door(context) for _ in range(4)]
    upstream = StoreUpstream(lambda: context.store, sealer, context.clock, MODEL, POLICY)
    held = {d: upstream.fetch_snapshot("server", d).version for d in doors}
    statements = _statements(context)
    assert upstream.prepare("server", doors) == 0
    assert len(statements) <= 3, statements  # data version, zone stamps (the mode: memo)
    statements.clear()
    assert all(upstream.poll_snapshot("server", d, held[d]) is None for d in doors)
    assert statements == []  # the versions prepare read
    assert upstream.poll_snapshot("server", doors[0], held[doors[0]]) is None
    assert statements  # once: a later poll reads its own
    upstream.prepare("server", doors)
    clock = context.clock
    assert isinstance(clock, FakeClock)
    clock.advance(seconds=5)
    statements.clear()
    assert upstream.poll_snapshot("server", doors[1], held[doors[1]]) is None
    assert statements  # an old check is not taken: read again


def test_a_batchs_audit_records_come_after_every_doors_build(context: ServiceContext) -> None:
    """The write lock (SQLite) or the chain's lock (PostgreSQL) is taken by the first
    audit record: after it only the records are written, no door is read or built (before:
    each door's record came right after its build, the lock held for all the others)."""
    sealer = AesGcmSealer(generate_key())
    resident(context, sealer, 3)
    doors = [_door(context) for _ in range(3)]
    upstream = StoreUpstream(lambda: context.store, sealer, context.clock, MODEL, POLICY)
    for d in doors:
        upstream.fetch_snapshot("server", d)
    resident(context, sealer, 5)
    statements = _statements(context)
    assert upstream.prepare("server", doors) == 3
    locking = ("BEGIN IMMEDIATE", "pg_advisory_xact_lock", "INSERT")
    first = next(i for i, sql in enumerate(statements) if any(k in sql for k in locking))
    after = [sql for sql in statements[first:] if "audit_log" not in sql]
    assert all(
        sql.split()[0] in {"BEGIN", "SAVEPOINT", "RELEASE", "SET", "SELECT"} for sql in after
    )
    assert not [sql for sql in after if sql.startswith("SELECT") and "pg_advisory" not in sql]


def _count(context: ServiceContext, table: str) -> int:
    store = context.store
    assert isinstance(store, SqlStore)
    with store.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def test_an_erasure_reaches_the_gate_and_its_file_at_the_next_sync_round(
    context: ServiceContext, tmp_path: Path
) -> None:
    sealer = AesGcmSealer(generate_key())
    ann = resident(context, sealer, 3)
    door = _door(context)
    places.add_access_rule(context, [ALL_DAY], person_id=ann, door_ids=[door])
    credentials.add_card(context, ann, "C-ANN")
    upstream = StoreUpstream(lambda: context.store, sealer, context.clock, MODEL, POLICY)
    saved = SnapshotFile(tmp_path / "snapshot.g.bin", "g", generate_key(), context.clock)
    holder = SnapshotHolder(upstream, "g", door, saved)
    holder.refresh()
    assert ann in holder().access.gallery.person_ids()
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    sync = SyncThread(holder, outbox, interval_s=1.0)
    rounds: list[tuple[int, bool]] = []  # per refresh: its sync round, ann still held
    real_refresh = holder.refresh

    def recording_refresh() -> bool:
        changed = real_refresh()
        rounds.append((sync.rounds, ann in holder().access.gallery.person_ids()))
        return changed

    holder.refresh = recording_refresh  # type: ignore[method-assign]
    sync.start()
    try:
        rights.erase_person(context, ann)
        erased_in = sync.rounds  # a round counted by now may have read before the erasure
        deadline = clock.monotonic() + 30.0  # a hang guard, not a speed claim
        while not any(r > erased_in for r, _ in rounds) and clock.monotonic() < deadline:
            clock.sleep(0.05)
        after = [held for r, held in rounds if r > erased_in]
        assert after, "no sync round ran after the erasure"
        assert after[0] is False, "the first sync round after the erasure kept the person"
    finally:
        sync.stop()
        sync.join(5.0)
        outbox.close()
    on_disk = saved.load(door)
    assert ann not in on_disk.access.gallery.person_ids()
    assert on_disk.access.cards == {}
    assert ann not in on_disk.access.people


def test_events_are_numbered_in_insertion_order(context: ServiceContext) -> None:
    keys = [str(uuid.uuid4()) for _ in range(3)]
    when = datetime(2026, 3, 2, tzinfo=UTC)
    for offset, key in zip((5, 1, 3), keys, strict=True):
        with context.store.unit_of_work() as uow:
            uow.events.add(
                Event(key, "d", when + timedelta(minutes=offset), False, Reason.NO_FACE, None, {})
            )
            uow.commit()
    store = context.store
    assert isinstance(store, SqlStore)
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT id, seq FROM events ORDER BY seq")).all()
    assert [row[0] for row in rows] == keys
    assert len({row[1] for row in rows}) == 3


def test_keys_issued_before_gates_were_records_become_edge_gates_of_their_door(
    db_url: str,
) -> None:
    engine = create_db_engine(db_url)
    upgrade(engine, "0005")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO device_keys (id, gate_id, key_hash, label, created_at) "
                "VALUES ('k1', 'door-1', :hash, 'old', :at)"
            ),
            {"hash": "ab" * 32, "at": datetime(2026, 1, 1, tzinfo=UTC)},
        )
    upgrade(engine)
    store = SqlStore(engine)
    try:
        with store.unit_of_work() as uow:
            key = uow.accounts.device_key("k1")
            assert uow.reads.data_version() >= 1
        assert (key.gate_id, key.target_id, key.kind) == ("door-1", "door-1", GateKind.EDGE)
    finally:
        store.close()
