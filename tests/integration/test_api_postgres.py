"""Smoke test of the API on PostgreSQL: log in, add a person, consent, list, audit."""

from __future__ import annotations

from fastapi.testclient import TestClient

from facegate.app import create_app
from facegate.config import ServerSettings, Settings
from facegate.domain.accounts import AccountRole
from facegate.http.deps import ServerDeps
from facegate.services import accounts, site_admin
from facegate.services.context import ServiceContext
from facegate.store.crypto import AesGcmSealer, generate_key
from facegate.store.database import create_db_engine, upgrade
from facegate.store.passwords import Argon2Hasher
from facegate.store.unit_of_work import SqlStore
from fakes import FakeClock, FakeDescriber


def test_api_smoke_on_postgresql(postgres_url: str) -> None:
    engine = create_db_engine(postgres_url)
    upgrade(engine)
    store = SqlStore(engine)
    try:
        context = ServiceContext(store=store, clock=FakeClock(), actor="test")
        site_admin.init_site(context, "Oak Court", "Europe/Berlin")
        hasher = Argon2Hasher(time_cost=1, memory_kib=1024)
        accounts.create_user(context, hasher, "admin", "long enough pw", AccountRole.ADMIN)
        sealer = AesGcmSealer(generate_key())
        deps = ServerDeps(
            settings=Settings(server=ServerSettings(environment="development")),
            store=store,
            clock=context.clock,
            hasher=hasher,
            sealer=lambda: sealer,
            describer=FakeDescriber,
        )
        client = TestClient(create_app(deps), base_url="https://testserver")
        login = client.post(
            "/api/v1/auth/login", json={"username": "admin", "password": "long enough pw"}
        )
        client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        person = client.post("/api/v1/people", json={"name": "Ann"}).json()
        consent = client.post(
            f"/api/v1/people/{person['id']}/consents", json={"text_version": "v1"}
        )
        assert consent.status_code == 201
        assert [p["name"] for p in client.get("/api/v1/people").json()] == ["Ann"]
        assert client.get("/api/v1/audit/verify").json()["intact"] is True
    finally:
        store.close()
