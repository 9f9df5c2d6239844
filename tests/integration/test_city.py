"""The city with the real broker (a private Mosquitto with accounts and ACLs) and the real
PostgreSQL: join and revoke, ordering and dedup, forged batches, notices down."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, select, text

from city_support import EVENTS_BASE, CityBroker, add_events, serve_in_thread, wait_until
from facegate.bootstrap import build_store, service_context
from facegate.city.wire import EventBatch, WireEvent, seal, topic
from facegate.config import Settings
from facegate.domain.errors import PolicyRefusedError
from facegate.domain.policy import SiteMode
from facegate.domain.reasons import Reason
from facegate.hub import notices
from facegate.hub.bootstrap import Hub, build_hub, build_workers
from facegate.hub.ingest import IngestWorker
from facegate.hub.mqtt_link import HubPublisher
from facegate.hub.schema import events
from facegate.hub.settings import HubSettings
from facegate.hub.web import create_hub_app
from facegate.services import site_mode
from facegate.store.unit_of_work import SqlStore
from facegate.uplink.join import join
from facegate.uplink.notices import NoticeReceiver, site_audit
from facegate.uplink.runner import Uplink
from facegate.uplink.site_mode_port import Announcements, ServiceSiteMode
from facegate.uplink.state import UplinkFiles


@pytest.fixture(scope="module")
def hub_db(postgres_admin: Engine) -> Iterator[str]:
    name = f"facegate_hub_test_{uuid.uuid4().hex[:10]}"
    with postgres_admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with postgres_admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CityBroker]:
    own = CityBroker(tmp_path_factory.mktemp("broker"))
    own.start()
    yield own
    own.kill()


@pytest.fixture(scope="module")
def hub(hub_db: str, broker: CityBroker, tmp_path_factory: pytest.TempPathFactory) -> Hub:
    settings = HubSettings(
        db_url=hub_db,
        data_dir=tmp_path_factory.mktemp("hub"),
        broker_port=broker.hub_port,
        site_broker_port=broker.port,
        broker_passwd_file=broker.passwd,
        broker_pid_file=broker.pid_file,
        broker_credentials=("hub", broker.hub_password),
    )
    return build_hub(settings)


@pytest.fixture(scope="module")
def hub_url(hub: Hub) -> Iterator[str]:
    url, stop = serve_in_thread(create_hub_app(hub))
    yield url
    stop()


@pytest.fixture(scope="module")
def workers(hub: Hub) -> Iterator[list[IngestWorker]]:
    running = build_workers(hub, 2, prefix=f"test-ingest-{uuid.uuid4().hex[:6]}")
    for worker in running:
        worker.start()
    yield running
    for worker in running:
        worker.stop()


class Site:
    """A site: its SQLite database, its uplink files, joined to the hub."""

    def __init__(self, folder: Path, hub: Hub, hub_url: str, district: str) -> None:
        self.settings = Settings(data_dir=folder)
        self.store: SqlStore = build_store(self.settings, migrate=True)
        fields = {"name": f"complex {district}", "district": district}
        self.site_id, token = hub.store.add_site(fields, datetime.now(UTC))
        self.files = UplinkFiles(folder / "uplink")
        self.config = join(self.files, hub_url, token)
        self.key = self.files.key_path
        self.notices: list[bytes] = []
        from facegate.city.keys import load_private

        self.uplink = Uplink(
            self.files, self.config, load_private(self.key), self.store.engine, self.notices.append
        )

    def drain(self) -> None:
        """Publish every event until the broker has acknowledged all of them."""
        wait_until(lambda: self.uplink.step() == 0 and self.uplink.backlog() == 0, what="drain")


def _hub_rows(hub: Hub, site_id: str) -> list[tuple[str, int]]:
    with hub.store.engine.connect() as connection:
        rows = connection.execute(
            select(events.c.event_key, events.c.seq)
            .where(events.c.site_id == site_id)
            .order_by(events.c.seq)
        )
        return [(r.event_key, r.seq) for r in rows]


def test_join_ship_dedup_and_revoke(
    tmp_path: Path, hub: Hub, hub_url: str, workers: list[IngestWorker], broker: CityBroker
) -> None:
    site = Site(tmp_path / "a", hub, hub_url, "north")
    assert site.config.broker_password is not None  # a broker account of its own
    keys = add_events(site.store.engine, 25)
    site.uplink.connect()
    site.drain()
    wait_until(lambda: len(_hub_rows(hub, site.site_id)) == 25, what="25 events at the hub")
    assert [k for k, _ in _hub_rows(hub, site.site_id)] == keys  # seq order kept
    assert [s for _, s in _hub_rows(hub, site.site_id)] == list(range(1, 26))

    # Redelivery (cursor lost): every event is sent again and stored once.
    site.files.save_cursor(0)
    site.uplink.cursor = 0
    site.drain()
    add_events(site.store.engine, 5, start=100)
    site.drain()
    wait_until(lambda: len(_hub_rows(hub, site.site_id)) == 30, what="30 events")
    assert len({k for k, _ in _hub_rows(hub, site.site_id)}) == 30

    # The token is spent: a second join with it is refused.
    with pytest.raises(PolicyRefusedError):
        join(UplinkFiles(tmp_path / "again"), hub_url, "x" * 43)

    hub.store.revoke(site.site_id, datetime.now(UTC))
    assert hub.accounts is not None
    hub.accounts.remove(site.site_id)
    refused_before = sum(w.counters.refused.get("signature", 0) for w in workers)
    add_events(site.store.engine, 3, start=200)

    def refused() -> bool:  # the broker drops the link or answers "not authorized", or ingest
        site.uplink.step()
        ingest = sum(w.counters.refused.get("signature", 0) for w in workers) > refused_before
        return ingest or site.uplink.refused_batches > 0 or not site.uplink.connected

    wait_until(refused, what="refusal of the revoked site's batch")
    for _ in range(20):  # a second more of trying: nothing of it reaches the hub
        site.uplink.step()
        time.sleep(0.05)
    assert len(_hub_rows(hub, site.site_id)) == 30
    assert site.uplink.cursor == 30  # moves on the hub's commit, not on the broker's PUBACK
    site.uplink.close()

    # And the broker refuses the revoked site's account on a new connection.
    probe = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    probe.username_pw_set(site.site_id, site.config.broker_password)
    codes: list[object] = []
    probe.on_connect = lambda _c, _u, _f, code, _p: codes.append(code)
    probe.connect("127.0.0.1", broker.port)
    probe.loop_start()
    wait_until(lambda: bool(codes), what="CONNACK")
    probe.loop_stop()
    assert getattr(codes[0], "is_failure", False)


def test_batch_signed_by_another_site_is_refused(
    tmp_path: Path, hub: Hub, hub_url: str, workers: list[IngestWorker], broker: CityBroker
) -> None:
    victim = Site(tmp_path / "v", hub, hub_url, "south")
    forger = Site(tmp_path / "f", hub, hub_url, "south")
    event = WireEvent(
        key=str(uuid.uuid4()),
        seq=1,
        door_id="d",
        occurred_at=datetime.now(UTC),
        granted=True,
        reason=Reason.GRANTED,
    )
    batch = EventBatch(site_id=victim.site_id, sent_at=datetime.now(UTC), events=[event])
    from facegate.city.keys import load_private

    forged = seal(batch, load_private(forger.key))  # claims the victim, signed by the forger
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set("hub", broker.hub_password)  # the ACL would stop the forger itself
    client.connect("127.0.0.1", broker.hub_port)
    client.loop_start()
    before = sum(w.counters.refused.get("signature", 0) for w in workers)
    client.publish(topic(victim.site_id, "events"), forged, qos=1).wait_for_publish(5)
    client.publish(topic(forger.site_id, "events"), forged, qos=1).wait_for_publish(5)
    wait_until(
        lambda: sum(w.counters.refused.get("signature", 0) for w in workers) >= before + 2,
        what="two refusals",
    )
    client.loop_stop()
    assert _hub_rows(hub, victim.site_id) == []
    assert _hub_rows(hub, forger.site_id) == []


def test_notice_reaches_the_site_and_a_replay_is_refused(
    tmp_path: Path, hub: Hub, hub_url: str, broker: CityBroker
) -> None:
    site = Site(tmp_path / "n", hub, hub_url, "east")
    site.uplink.connect()
    wait_until(site.uplink._client.is_connected, what="site connected")
    time_now = datetime.now(UTC)
    credentials = ("hub", broker.hub_password)
    link = HubPublisher("127.0.0.1", broker.hub_port, "hub-notices-test", credentials)
    try:
        issued = notices.issue(
            hub.store, hub.key, link.publish,
            ("lockdown", time_now + timedelta(hours=1), ""),
            ([site.site_id], []), time_now, "test",
        )  # fmt: skip
        with pytest.raises(PolicyRefusedError):  # not opted in: refused at the hub
            notices.issue(
                hub.store, hub.key, link.publish,
                ("free_passage", time_now + timedelta(hours=1), ""),
                ([site.site_id], []), time_now, "test",
            )  # fmt: skip
    finally:
        link.close()
    assert len(issued.sent) == 1
    wait_until(lambda: len(site.notices) == 1, what="the notice at the site")
    context = service_context(site.settings, site.store)
    port = ServiceSiteMode(context, Announcements(site.files.announcement_path))
    receiver = NoticeReceiver(
        site.files, site.site_id, hub.key.public_key(), port, site_audit(context),
        lambda: datetime.now(UTC),
    )  # fmt: skip
    assert receiver.receive(site.notices[0]) is not None
    state = site_mode.show_mode(context)  # the site-mode service holds the hub's request
    assert state.mode is SiteMode.LOCKDOWN
    assert state.deciding is not None
    assert state.deciding.source.value == "hub"
    assert receiver.receive(site.notices[0]) is None  # the same message again: a replay
    with site.store.engine.connect() as connection:
        logged = connection.execute(
            text("SELECT action, details FROM audit_log ORDER BY seq")
        ).all()
    assert [a for a, _ in logged] == ["site.mode", "city_notice.apply", "city_notice.refuse"]
    assert '"why": "replayed"' in logged[2][1]
    site.uplink.close()


def test_the_live_hub_schema_has_no_place_for_a_person_template_or_image(hub: Hub) -> None:
    with hub.store.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'facegate_hub'"
            )
        ).all()
    columns = {f"{t}.{c}" for t, c, _ in rows}
    assert {"events.site_id", "events.event_key", "events.reason"} <= columns
    words = ("person", "resident", "template", "descriptor", "embedding", "image", "photo",
             "snapshot", "face", "score")  # fmt: skip
    assert [c for c in columns if any(w in c for w in words)] == []
    assert [f"{t}.{c}" for t, c, d in rows if d == "bytea"] == []  # no blob of any kind


def test_every_hub_route_by_role(hub: Hub) -> None:
    from fastapi.testclient import TestClient

    from facegate.hub.access import HubRole

    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:6]
    north, south = f"north-{tag}", f"south-{tag}"
    mine, _ = hub.store.add_site({"name": "A", "district": north}, now)
    theirs, _ = hub.store.add_site({"name": "B", "district": south}, now)
    for site_id in (mine, theirs):
        event = WireEvent(key=f"k-{site_id}", seq=1, door_id="d", occurred_at=now,
                          granted=True, reason=Reason.GRANTED)  # fmt: skip
        hub.store.store_events([(site_id, event)], now)
    tokens = {role: hub.store.add_account(f"{role}-{tag}", role, [north], now) for role in HubRole}
    client = TestClient(create_hub_app(hub))
    notice = {"kind": "announcement", "ends_at": (now + timedelta(hours=1)).isoformat(),
              "sites": [theirs]}  # fmt: skip
    routes = [
        ("GET", "/hub/v1/sites", None),
        ("GET", f"/hub/v1/sites/{mine}", None),
        ("GET", f"/hub/v1/sites/{theirs}", None),
        ("GET", f"/hub/v1/events?site_id={theirs}", None),
        ("GET", f"/hub/v1/events?district={south}", None),
        ("GET", "/hub/v1/events", None),
        ("GET", "/hub/v1/events?door_id=d", None),  # a door only within a site: 422
        ("GET", "/hub/v1/alarms", None),
        ("GET", "/hub/v1/audit/event-reads", None),
        ("POST", "/hub/v1/notices", notice),
    ]
    for method, path, body in routes:
        assert client.request(method, path, json=body).status_code == 401, path
    seen: dict[tuple[HubRole, str], object] = {}
    for role, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        for method, path, body in routes:
            answer = client.request(method, path, json=body, headers=headers)
            seen[(role, path)] = answer.status_code
            text_ = answer.text
            if role is HubRole.DISTRICT_VIEWER and answer.status_code == 200:
                assert theirs not in text_, (path, text_)
            if path == "/hub/v1/sites" and answer.status_code == 200:
                assert (theirs in text_) is (role is not HubRole.DISTRICT_VIEWER)
                assert mine in text_
    viewer, operator, auditor = (HubRole.DISTRICT_VIEWER, HubRole.CITY_OPERATOR, HubRole.AUDITOR)
    assert seen[(viewer, f"/hub/v1/sites/{theirs}")] == 404
    assert seen[(viewer, f"/hub/v1/sites/{mine}")] == 200
    assert seen[(viewer, "/hub/v1/audit/event-reads")] == 403
    assert seen[(viewer, "/hub/v1/notices")] == 403
    assert seen[(auditor, "/hub/v1/notices")] == 403
    assert seen[(operator, "/hub/v1/audit/event-reads")] == 403
    assert seen[(operator, "/hub/v1/notices")] == 403  # no broker link in this app
    assert seen[(auditor, "/hub/v1/audit/event-reads")] == 200
    assert {seen[(role, "/hub/v1/events?door_id=d")] for role in HubRole} == {422}
    reads = client.get(
        "/hub/v1/audit/event-reads", headers={"Authorization": f"Bearer {tokens[auditor]}"}
    ).json()
    assert {r["actor"] for r in reads} >= {f"{role}-{tag}" for role in HubRole}


def test_transparency_report_hides_small_counts(tmp_path: Path, hub: Hub) -> None:
    from fastapi.testclient import TestClient

    from facegate.city.wire import DailySummary
    from facegate.hub import transparency
    from facegate.uplink.summary import daily_summary

    now = datetime.now(UTC)
    district = f"west-{uuid.uuid4().hex[:6]}"
    site_id, _ = hub.store.add_site({"name": "=HYPERLINK()", "district": district}, now)
    store = build_store(Settings(data_dir=tmp_path), migrate=True)
    add_events(store.engine, 9)
    built = daily_summary(store.engine, site_id, EVENTS_BASE.date())
    assert built.counts["entries"] == 6
    assert built.counts["denials"] == 3
    assert built.denials_by_reason == {Reason.UNKNOWN_FACE: 3}
    today = now.date()
    counts = dict(built.counts, residents=120, face_enrolled=80, card_pin_only=3)
    hub.store.store_summary(
        DailySummary(site_id=site_id, day=today, counts=counts,
                     denials_by_reason={Reason.UNKNOWN_FACE: 7, Reason.WRONG_PIN: 2},
                     disclosure_bases={"court order": 1}),
        now,
    )  # fmt: skip
    client = TestClient(create_hub_app(hub))
    document = client.get("/transparency.json").json()
    mine = next(s for s in document["sites"] if s["site_id"] == site_id)
    assert (mine["residents"], mine["face_enrolled"], mine["entries"]) == (120, 80, 6)
    assert mine["card_pin_only"] == "<5"
    assert mine["denials_by_reason"] == {"unknown_face": 7, "wrong_pin": "<5"}
    assert mine["denials"] == "7–11"  # the sum of the reasons shown
    assert mine["disclosure_bases"] == {transparency.OTHER_BASES: "<5"}  # the basis unnamed
    assert next(d for d in document["districts"] if d["district"] == district)["residents"] == 120
    assert document["retention_days"] == 90
    csv_text = client.get("/transparency.csv").text
    assert "'=HYPERLINK()" in csv_text
    assert "\n=HYPERLINK" not in csv_text
    page = client.get("/transparency")
    assert page.status_code == 200
    assert "&lt;5" in page.text
    store.close()


def test_retention_drops_whole_old_partitions(hub: Hub) -> None:
    from facegate.hub import schema

    now = datetime.now(UTC)
    site_id, _ = hub.store.add_site({"name": "R", "district": f"r-{uuid.uuid4().hex[:6]}"}, now)
    old = datetime(2025, 1, 15, tzinfo=UTC)
    for moment in (old, now):
        event = WireEvent(key=f"k{moment.year}", seq=moment.year, door_id="d",
                          occurred_at=moment, granted=True, reason=Reason.GRANTED)  # fmt: skip
        hub.store.store_events([(site_id, event)], now)
    with hub.store.engine.connect() as connection:
        names = [n for n, _ in schema.partitions(connection)]
    assert "events_y2025m01" in names
    dropped = hub.store.drop_expired(now, 90)
    assert "events_y2025m01" in dropped
    assert schema.partition_name(schema.month_start(now)) not in dropped
    assert [k for k, _ in _hub_rows(hub, site_id)] == [f"k{now.year}"]


def test_console_pages_are_scoped_like_the_api(hub: Hub) -> None:
    from fastapi.testclient import TestClient

    from facegate.hub.access import HubRole

    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:6]
    mine, _ = hub.store.add_site({"name": f"Mine {tag}", "district": f"n-{tag}"}, now)
    theirs, _ = hub.store.add_site({"name": f"Theirs {tag}", "district": f"s-{tag}"}, now)
    for site_id in (mine, theirs):
        event = WireEvent(key=f"c-{site_id}", seq=1, door_id="d", occurred_at=now,
                          granted=False, reason=Reason.UNKNOWN_FACE)  # fmt: skip
        hub.store.store_events([(site_id, event)], now)
    token = hub.store.add_account(f"v-{tag}", HubRole.DISTRICT_VIEWER, [f"n-{tag}"], now)
    client = TestClient(create_hub_app(hub))
    assert client.get("/console", follow_redirects=False).status_code == 303
    assert client.post("/console/login", data={"token": "nope" * 10}).status_code == 200
    client.post("/console/login", data={"token": token})
    sites_page = client.get("/console")
    assert f"Mine {tag}" in sites_page.text
    assert f"Theirs {tag}" not in sites_page.text
    assert client.get(f"/console/sites/{mine}").status_code == 200
    assert client.get(f"/console/sites/{theirs}").status_code == 404
    events_page = client.get("/console/events")
    assert mine in events_page.text
    assert theirs not in events_page.text
    assert "No events." in client.get(f"/console/events?site_id={theirs}").text
    assert client.get("/console/alarms").status_code == 200
    with hub.store.engine.connect() as connection:
        reads = connection.execute(
            text("SELECT count(*) FROM facegate_hub.event_reads WHERE actor = :a"),
            {"a": f"v-{tag}"},
        ).scalar_one()
    assert reads == 2


def test_a_killed_ingest_worker_resumes_its_session(tmp_path: Path, hub: Hub, hub_db: str) -> None:
    """SIGKILL a worker, publish while it is dead, restart it with the same client id: the
    broker kept its persistent session, so every event arrives once. Its own broker, so
    that no other worker of the share group takes the messages meanwhile."""
    import json
    import multiprocessing
    import os
    import signal

    from facegate.city.keys import new_private_key, public_text
    from facegate.citybench.ingest_proc import ingest_process

    (tmp_path / "broker").mkdir()
    own = CityBroker(tmp_path / "broker")
    own.start()
    now = datetime.now(UTC)
    site_id, token = hub.store.add_site({"name": "K", "district": "kill"}, now)
    site_key = new_private_key()
    hub.store.join(token, public_text(site_key), now)
    client_id, report = f"kill-test-{uuid.uuid4().hex[:6]}", tmp_path / "ingest.json"
    spawn = multiprocessing.get_context("spawn")

    def worker() -> multiprocessing.process.BaseProcess:
        args = (hub_db, own.hub_port, client_id, report, hub.settings.key_path,
                ("hub", own.hub_password))  # fmt: skip
        process = spawn.Process(target=ingest_process, args=args, daemon=True)
        process.start()
        return process

    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    publisher.username_pw_set("hub", own.hub_password)
    publisher.connect("127.0.0.1", own.hub_port)
    publisher.loop_start()
    keys = [f"kill-{seq}" for seq in range(1, 211)]

    def send(first: int, count: int) -> None:
        batch = [WireEvent(key=f"kill-{seq}", seq=seq, door_id="d", occurred_at=now,
                           granted=False, reason=Reason.UNKNOWN_FACE)
                 for seq in range(first, first + count)]  # fmt: skip
        body = EventBatch(site_id=site_id, sent_at=now, events=batch)
        publisher.publish(topic(site_id, "events"), seal(body, site_key), qos=1).wait_for_publish(5)

    first = worker()
    try:

        def first_stored() -> bool:  # resent until the worker's subscription takes it
            send(1, 10)
            time.sleep(0.2)
            return len(_hub_rows(hub, site_id)) == 10

        wait_until(first_stored, 30, "the first batch")
        os.kill(first.pid or 0, signal.SIGKILL)
        first.join(10)
        report.unlink(missing_ok=True)
        for start in range(11, 211, 50):  # while the worker is dead
            send(start, 50)
        assert len(_hub_rows(hub, site_id)) == 10
        second = worker()
        try:
            wait_until(lambda: len(_hub_rows(hub, site_id)) == 210, 30, "the queued batches")
            wait_until(lambda: report.is_file() and json.loads(report.read_text())["connects"] > 0)
            counters = json.loads(report.read_text())
        finally:
            second.kill()
            second.join(10)
    finally:
        if first.is_alive():
            first.kill()
        publisher.loop_stop()
        own.kill()
    assert counters["sessions_resumed"] == counters["connects"] == 1
    assert [k for k, _ in _hub_rows(hub, site_id)] == keys  # none lost, none twice


def test_every_console_route_by_role_and_in_chinese(hub: Hub) -> None:
    from fastapi.testclient import TestClient

    from facegate.hub.access import HubRole

    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:6]
    north, south = f"cn-{tag}", f"cs-{tag}"
    mine, _ = hub.store.add_site({"name": f"Mine {tag}", "district": north}, now)
    theirs, _ = hub.store.add_site({"name": f"Theirs {tag}", "district": south}, now)
    for site_id in (mine, theirs):
        event = WireEvent(key=f"z-{site_id}", seq=1, door_id="d", occurred_at=now,
                          granted=False, reason=Reason.WRONG_PIN)  # fmt: skip
        hub.store.store_events([(site_id, event)], now)
    routes = [
        "/console",
        f"/console/sites/{mine}",
        f"/console/sites/{theirs}",
        "/console/events",
        f"/console/events?site_id={theirs}",
        f"/console/events?district={south}&outcome=refused&since={now.date().isoformat()}",
        "/console/alarms",
    ]
    anonymous = TestClient(create_hub_app(hub))
    for path in routes:
        answer = anonymous.get(path, follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (303, "/console/login"), path
    for role in HubRole:
        token = hub.store.add_account(f"c-{role}-{tag}", role, [north], now)
        client = TestClient(create_hub_app(hub))
        client.post("/console/login", data={"token": token})
        viewer = role is HubRole.DISTRICT_VIEWER
        for path in routes:
            answer = client.get(path)
            expected = 404 if viewer and path == f"/console/sites/{theirs}" else 200
            assert answer.status_code == expected, (role, path)
            if viewer and expected == 200:  # (the search form may echo the id asked for)
                assert f'href="/console/sites/{theirs}"' not in answer.text, (role, path)
                assert f"Theirs {tag}" not in answer.text, (role, path)
        assert f"Theirs {tag}" in client.get("/console").text or viewer
        today = now.date().isoformat()  # "until" a day includes that day
        english = client.get(f"/console/events?site_id={mine}&until={today}").text
        assert "<td>wrong PIN</td>" in english
        client.get("/lang/zh?next=/console", follow_redirects=False)
        chinese = client.get(f"/console/events?site_id={mine}").text
        assert "<td>密码错误</td>" in chinese
        assert '<html lang="zh-CN">' in chinese
        assert "事件" in chinese
        assert "No events." not in chinese
        assert {"city_operator": "城市运营方", "district_viewer": "区级查看者",
                "auditor": "审计员"}[role.value] in chinese  # fmt: skip
        assert ">Events<" not in chinese
