"""A site worth fuzzing: a door with its gate pipeline wired (simulated lock), a device
key, an enrolled resident with a card, PIN, pass and access rule, a lift, an alert entry.

The ids of what it holds are offered to the fuzzers (:attr:`FuzzSite.ids`), so that
generated requests reach past the first ``404 not found`` into the services.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import time, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from PIL import Image

from api_site import PASSWORD, Site
from facegate.bootstrap_server import wire_gate_pipeline
from facegate.config import ServerSettings, Settings
from facegate.domain.access import TimeWindow
from facegate.domain.accounts import AccountRole, GateKind
from facegate.domain.gate import GateEvent, GateEventKind
from facegate.domain.people import ConsentMethod, ConsentPurpose, Role
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.outbox import event_to_json
from facegate.http.deps import ServerDeps
from facegate.http.key_rate import KeyRate
from facegate.http.security import LoginLimiter
from facegate.services import accounts, credentials, people, places, site_admin
from facegate.services.consent import grant_consent
from facegate.services.context import ServiceContext
from facegate.services.enrollment import enroll
from facegate.store.crypto import AesGcmSealer, generate_key
from facegate.store.database import create_db_engine, upgrade
from facegate.store.passwords import Argon2Hasher
from facegate.store.unit_of_work import SqlStore
from fakes import FakeClock, FakeDescriber

LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]+)"')
PAGE_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
ALL_DAY = TimeWindow(frozenset(range(7)), time(0), time(23, 59, 59))


def fuzz_settings(max_examples: int) -> settings:
    """Hypothesis settings of the fuzz tests: seeded (every run sends the same inputs),
    no deadline, no example database, and no shrinking (a failure is reported as it was
    generated: shrinking one costs minutes on a busy machine).

    For a longer hunt: ``FACEGATE_FUZZ_RANDOM=1`` (new inputs each run) and
    ``FACEGATE_FUZZ_EXAMPLES=500`` (the API's positive examples; the rest scale with it).
    """
    return settings(
        max_examples=max_examples,
        derandomize=os.environ.get("FACEGATE_FUZZ_RANDOM") != "1",
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate),
    )


SHARED_DATA = Path(
    os.environ.get("FACEGATE_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)
FACE_PHOTO = SHARED_DATA / "faces" / "lfw10" / "Tony_Blair" / "Tony_Blair_0001.jpg"
"""A real face (read where the shared data is present) for the frames endpoint."""


def upload_images() -> list[bytes]:
    """Valid uploads to swap in for generated file bytes: small JPEG and PNG, a face."""
    images = [small_image("JPEG"), small_image("PNG")]
    if FACE_PHOTO.is_file():
        images.append(FACE_PHOTO.read_bytes())
    return images


def small_image(fmt: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    """A small valid encoded image (grey gradient), ``fmt`` as Pillow names it."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


@dataclass
class FuzzSite:
    """The :class:`api_site.Site` and what was added to it.

    Attributes:
        site: the API site (SQLite, fake clock and describer).
        door_id: a door accepting every credential, with the resident allowed all day.
        kiosk_secret: a live key of the door's kiosk (frames and credentials).
        edge_secret: a live key of the door's edge gate (snapshot and events).
        edge_gate_id: the edge gate's id.
        pass_code: a visitor pass hosted by the resident (3 uses).
        ids: real ids by the parameter or field name that takes them.
    """

    site: Site
    door_id: str
    kiosk_secret: str
    edge_secret: str
    edge_gate_id: str
    pass_code: str
    ids: dict[str, list[str]] = field(default_factory=dict)

    def event_json(self) -> dict[str, object]:
        """A well-formed event of the door's gate, as the outbox sends it."""
        event = GateEvent(
            key=str(uuid.uuid4()),
            gate_id=self.edge_gate_id,
            kind=GateEventKind.DECISION,
            door_id=self.door_id,
            occurred_at=self.site.deps.clock.now(),
            granted=True,
            reason=Reason.GRANTED,
            person_id=self.site.resident_id,
            pass_id=None,
            floors=(),
            scores={"face": 0.9},
            note="",
        )
        return event_to_json(event)

    def page_session(self, username: str) -> tuple[TestClient, str]:
        """A client logged in through the login form, and its session's CSRF token."""
        client = self.site.client()
        token = LOGIN_CSRF.search(client.get("/login").text)
        assert token is not None
        form = {"username": username, "password": PASSWORD, "login_csrf": token.group(1)}
        page = client.post("/login", data=form)
        csrf = PAGE_CSRF.search(page.text)
        assert page.status_code == 200, page.text
        assert csrf is not None, page.text
        return client, csrf.group(1)

    def session(self, username: str) -> tuple[dict[str, str], dict[str, str]]:
        """Headers (the CSRF token) and cookies of a fresh API session of ``username``."""
        client = self.site.client()
        answer = client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        return {"X-CSRF-Token": answer.json()["csrf_token"]}, dict(client.cookies.items())


def build_fuzz_site(site: Site) -> FuzzSite:
    """Put a door, its gate key, credentials, a lift and an alert into ``site``.

    The gate pipeline is not wired here (see :func:`fuzz_site`).
    """
    context = site.context
    kinds = list(CredentialKind)
    building = places.add_building(context, "A")
    door = places.add_door(
        context, "North", DoorKind.ENTRANCE, CredentialMode.ANY_OF, kinds, building.id
    )
    lift = places.add_lift(context, building.id, "Lift A", [0, 1, 2])
    ann = site.resident_id
    grant_consent(context, ann, ConsentPurpose.FACE_ACCESS, "v1", ConsentMethod.WRITTEN)
    enroll(context, site.deps.sealer(), FakeDescriber, ann, [Path("7.jpg")])
    credentials.add_card(context, ann, "CARD-1234")
    credentials.set_pin(context, ann, "482916")
    rule = places.add_access_rule(context, [ALL_DAY], person_id=ann, door_ids=[door.id])
    issued = credentials.create_pass(context, ann, "Visitor", timedelta(hours=24), 3)
    credentials.add_alert(context, site.other_id, "fuzz", "test", timedelta(days=30))
    kiosk = accounts.issue_device_key(context, door.id, "fuzz", GateKind.KIOSK)
    edge = accounts.issue_device_key(context, door.id, "fuzz", GateKind.EDGE)
    users = [u.id for u in accounts.list_users(context)]
    people = [ann, site.other_id]
    ids = {
        "person_id": people,
        "host_id": people,
        "door_id": [door.id, lift.id],
        "door_ids": [door.id],
        "gate_id": [edge.key.gate_id],
        "target": [door.id, lift.id],
        "building_id": [building.id],
        "key_id": [kiosk.key.id, edge.key.id],
        "user_id": users,
        "rule_id": [rule.id],
        "username": ["admin", "ann", "bo"],
        "password": [PASSWORD],
        "code": [issued.code],
        "value": ["CARD-1234", "482916", issued.code],
        "pass_id": [issued.visitor_pass.id],
    }
    return FuzzSite(site, door.id, kiosk.secret, edge.secret, edge.key.gate_id, issued.code, ids)


def _new_site(db_path: Path) -> tuple[Site, AesGcmSealer]:
    """The ``site`` fixture's site (``tests/api_site.py``) in a file of its own."""
    engine = create_db_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    store = SqlStore(engine)
    context = ServiceContext(store=store, clock=FakeClock(), actor="test")
    site_admin.init_site(context, "Oak Court", "Europe/Berlin")
    hasher = Argon2Hasher(time_cost=1, memory_kib=1024)
    ann = people.add_person(context, "Ann Lee", Role.RESIDENT)
    bo = people.add_person(context, "Bo Chen", Role.RESIDENT)
    for name, role in (
        ("admin", AccountRole.ADMIN),
        ("operator", AccountRole.OPERATOR),
        ("auditor", AccountRole.AUDITOR),
    ):
        accounts.create_user(context, hasher, name, PASSWORD, role)
    accounts.create_user(context, hasher, "ann", PASSWORD, AccountRole.RESIDENT, ann.id)
    accounts.create_user(context, hasher, "bo", PASSWORD, AccountRole.RESIDENT, bo.id)
    sealer = AesGcmSealer(generate_key())
    return _open_site(store, sealer, ann.id, bo.id), sealer


def _open_site(store: SqlStore, sealer: AesGcmSealer, ann: str, bo: str) -> Site:
    """A :class:`Site` over an existing site database (fake clock, fast hashing)."""
    clock = FakeClock()
    notified: list[dict[str, str]] = []
    deps = ServerDeps(
        settings=Settings(server=ServerSettings(environment="development")),
        store=store,
        clock=clock,
        hasher=Argon2Hasher(time_cost=1, memory_kib=1024),
        sealer=lambda: sealer,
        describer=FakeDescriber,
        notify=notified.append,
        limiter=LoginLimiter(attempts=3, window_s=60),
        device_rate=KeyRate(0.0, 1),  # off: a fuzzer's key would get 429 before the routes
    )
    context = ServiceContext(store=store, clock=clock, actor="test")
    return Site(deps, context, ann, bo, notified)


@dataclass(frozen=True)
class Template:
    """A fuzz site built once, copied for each test (building one costs about a second)."""

    path: Path
    sealer: AesGcmSealer
    built: FuzzSite


@pytest.fixture(scope="session")
def fuzz_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The :func:`build_fuzz_site` site in a database file that tests copy."""
    path = tmp_path_factory.mktemp("fuzz-template") / "facegate.db"
    site, sealer = _new_site(path)
    built = build_fuzz_site(site)
    site.deps.store.close()
    return Template(path, sealer, built)


@pytest.fixture
def fuzz_site(fuzz_template: Template, tmp_path: Path) -> Iterator[FuzzSite]:
    """A fresh copy of the template site, with the gate pipeline wired (simulated lock)."""
    path = tmp_path / "facegate.db"
    shutil.copyfile(fuzz_template.path, path)
    built = fuzz_template.built
    store = SqlStore(create_db_engine(f"sqlite:///{path}"))
    site = _open_site(store, fuzz_template.sealer, built.site.resident_id, built.site.other_id)
    wire_gate_pipeline(site.deps)
    yield replace(built, site=site)
    store.close()
