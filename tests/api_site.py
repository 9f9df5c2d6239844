"""An API on a real SQLite site with fakes for the clock and the face engine (fixture `site`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from brokers import free_port
from facegate.app import create_app
from facegate.config import ServerSettings, Settings
from facegate.domain.accounts import AccountRole
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.matching import MatchPolicy
from facegate.domain.people import Role
from facegate.domain.policy import SiteMode
from facegate.gate.loop import LoopOptions
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.server_side import ActuatorPool, PipelineDecider
from facegate.gate.store_upstream import StoreUpstream
from facegate.http.deps import ServerDeps
from facegate.http.security import LoginLimiter
from facegate.services import accounts, people, site_admin
from facegate.services.context import ServiceContext
from facegate.store.crypto import AesGcmSealer, generate_key
from facegate.store.passwords import Argon2Hasher
from facegate.store.unit_of_work import SqlStore
from facegate.vision.images import ImageLimits
from fakes import FakeClock, FakeDescriber, FakeDoor, FakeFaceEngine
from migrated import migrated_engine

PASSWORD = "correct horse battery"


@dataclass
class Site:
    deps: ServerDeps
    context: ServiceContext
    resident_id: str
    other_id: str
    notified: list[dict[str, str]]
    _app: tuple[Settings, FastAPI] | None = None

    def app(self) -> FastAPI:
        """The site's web application, built once per ``deps.settings`` (building one costs
        about 0.1 s: FastAPI analyses every route; the settings are all it reads then)."""
        if self._app is None or self._app[0] is not self.deps.settings:
            self._app = (self.deps.settings, create_app(self.deps))
        return self._app[1]

    def client(self, username: str | None = None) -> TestClient:
        client = TestClient(self.app(), base_url="https://testserver")
        if username is not None:
            answer = client.post(
                "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
            )
            assert answer.status_code == 200, answer.text
            client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        return client


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with site_on(f"sqlite:///{tmp_path / 'facegate.db'}") as built:
        yield built


@contextmanager
def site_on(url: str) -> Iterator[Site]:
    """A site with two residents and an account of each role, on the database at ``url``."""
    store = SqlStore(migrated_engine(url))
    clock = FakeClock()
    context = ServiceContext(store=store, clock=clock, actor="test")
    site_admin.init_site(context, "Oak Court", "Europe/Berlin")
    hasher = Argon2Hasher(time_cost=1, memory_kib=1024)
    resident = people.add_person(context, "Ann Lee", Role.RESIDENT)
    other = people.add_person(context, "Bo Chen", Role.RESIDENT)
    for name, role in (
        ("admin", AccountRole.ADMIN),
        ("operator", AccountRole.OPERATOR),
        ("auditor", AccountRole.AUDITOR),
    ):
        accounts.create_user(context, hasher, name, PASSWORD, role)
    accounts.create_user(context, hasher, "ann", PASSWORD, AccountRole.RESIDENT, resident.id)
    accounts.create_user(context, hasher, "bo", PASSWORD, AccountRole.RESIDENT, other.id)
    sealer = AesGcmSealer(generate_key())
    notified: list[dict[str, str]] = []
    deps = ServerDeps(
        settings=Settings(server=ServerSettings(environment="development")),
        store=store,
        clock=clock,
        hasher=hasher,
        sealer=lambda: sealer,
        describer=FakeDescriber,
        notify=notified.append,
        limiter=LoginLimiter(attempts=3, window_s=60),
    )
    yield Site(deps, context, resident.id, other.id, notified)
    store.close()


def build_site(url: str) -> Iterator[Site]:
    """:func:`site_on` as a generator, for fixtures (``yield from build_site(url)``)."""
    with site_on(url) as built:
        yield built


@contextmanager
def served(app: Any) -> Iterator[str]:
    """``app`` on a real uvicorn server (one event loop, as in production); its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10.0
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10.0)


def site_upstream(site: Site) -> StoreUpstream:
    """The server's upstream of the site's doors (the fake face model, threshold 0.57)."""
    return StoreUpstream(
        lambda: site.deps.store,
        site.deps.sealer(),
        site.deps.clock,
        "fake-model",
        MatchPolicy(0.57, 0.0),
        SiteMode.NORMAL,
    )


def kiosk_pipeline(site: Site, tmp_path: Path, refresh_s: float | None = None) -> None:
    """The server's real pipeline for kiosk frames and credentials, with the fake face engine.

    ``refresh_s``: as the server's (its doors' snapshots refreshed by a thread each
    ``refresh_s`` seconds, decisions from the snapshot held); ``None``: each decision
    checks its door's snapshot first.
    """
    upstream = site_upstream(site)
    options = LoopOptions("server", 3.0, 0.6, LivenessSchedule(), 10.0)
    site.deps.decider = PipelineDecider(
        FakeFaceEngine,
        ActuatorPool(lambda target: FakeDoor(), upstream),
        SqliteOutbox(tmp_path / "server-outbox.db"),
        lambda: None,
        site.deps.clock,
        options,
        ImageLimits(),
        refresh_s=refresh_s,
    )
