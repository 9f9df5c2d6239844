"""Issue 16, F8 and F2 on a served app: login limits hold under concurrency, behind no
proxy and by timing; face work leaves the event loop free."""

from __future__ import annotations

import io
import logging
import logging.config
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import uvicorn
from PIL import Image

from api_site import PASSWORD, Site
from facegate.app import create_app
from facegate.config import ServerSettings, Settings
from facegate.domain.errors import NoFaceError
from facegate.http.serving import NoQueryStringFilter, access_log_config, uvicorn_options
from facegate.store.passwords import Argon2Hasher


class CountingHasher:
    """The real Argon2 hasher, counting its key derivations (hash and verify alike)."""

    def __init__(self) -> None:
        self._real = Argon2Hasher(time_cost=1, memory_kib=8 * 1024)
        self.derivations = 0
        self._lock = threading.Lock()

    def _count(self) -> None:
        with self._lock:
            self.derivations += 1

    def hash(self, password: str) -> str:
        self._count()
        return self._real.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        self._count()
        return self._real.verify(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return False


def test_concurrent_wrong_passwords_check_at_most_the_limit(site: Site) -> None:
    hasher = CountingHasher()
    site.deps.hasher = hasher
    client = site.client()
    body = {"username": "admin", "password": "wrong password"}

    def attempt(_: int) -> int:
        return client.post("/api/v1/auth/login", json=body).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(attempt, range(60)))
    assert statuses.count(401) == site.deps.limiter.attempts
    assert statuses.count(429) == 60 - site.deps.limiter.attempts
    assert hasher.derivations == site.deps.limiter.attempts


def test_an_unknown_username_costs_one_key_derivation_like_a_known_one(site: Site) -> None:
    hasher = CountingHasher()
    site.deps.hasher = hasher
    client = site.client()
    for username in ("admin", "nobody-here"):
        before = hasher.derivations
        answer = client.post("/api/v1/auth/login", json={"username": username, "password": "x"})
        assert answer.status_code == 401
        assert hasher.derivations - before == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def served(site: Site) -> Iterator[str]:
    """The site's app under uvicorn as ``facegate serve`` runs it, on a free local port."""
    options = uvicorn_options(ServerSettings(environment="development"))
    options["log_level"] = "warning"
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(site.deps), port=port, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


def test_forwarded_for_from_an_untrusted_peer_does_not_reset_the_limit(
    site: Site, served: str
) -> None:
    statuses = []
    with httpx.Client(base_url=served) as client:
        for n in range(site.deps.limiter.attempts + 2):
            answer = client.post(
                "/api/v1/auth/login",
                json={"username": "admin", "password": "wrong"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            )
            statuses.append(answer.status_code)
        right = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    assert statuses[-1] == 429
    assert right.status_code == 429


def test_trusted_proxies_are_a_setting() -> None:
    options = uvicorn_options(ServerSettings(trusted_proxies=("10.0.0.2",)))
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == ["10.0.0.2"]
    assert uvicorn_options(ServerSettings())["proxy_headers"] is False


def test_the_access_log_never_writes_a_query_string() -> None:
    logging.config.dictConfig(access_log_config())
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/reset?token=s3cret-token", "1.1", 200),
        None,
    )
    assert NoQueryStringFilter().filter(record)
    assert "s3cret" not in record.getMessage()
    assert "/reset" in record.getMessage()


class HeldDescriber:
    """Holds every photo until released (a slow model on a busy box), then says 'no face'.

    Called, it answers itself (it is its own describer factory). ``held`` counts the
    photos held now, ``timed_out`` the holds ended by the hang guard (``guard_s`` seconds).
    """

    model_id = "held-model"

    def __init__(self, guard_s: float = 30.0) -> None:
        self.guard_s = guard_s
        self.entered, self.release = threading.Event(), threading.Event()
        self.held = self.timed_out = 0
        self._lock = threading.Lock()

    def __call__(self) -> HeldDescriber:
        return self

    def describe(self, path: object) -> Any:
        with self._lock:
            self.held += 1
        self.entered.set()
        released = self.release.wait(self.guard_s)
        with self._lock:
            self.held -= 1
            self.timed_out += not released
        raise NoFaceError(f"{path}: no face found")


def test_health_answers_while_photos_are_checked(site: Site, served: str) -> None:
    describer = HeldDescriber()
    site.deps.describer = describer
    server = ServerSettings(environment="development", secure_cookies=False)  # plain HTTP
    site.deps.settings = Settings(server=server)
    admin = site.client("admin")
    consent = {"text_version": "v1"}
    assert admin.post(f"/api/v1/people/{site.resident_id}/consents", json=consent).is_success
    png = io.BytesIO()
    Image.new("RGB", (64, 64)).save(png, "PNG")
    with httpx.Client(base_url=served, timeout=60) as client:
        login = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
        client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        files = [("files", ("a.png", png.getvalue(), "image/png"))]
        path = f"/api/v1/people/{site.resident_id}/photos/check"
        with ThreadPoolExecutor(max_workers=1) as pool:
            checking = pool.submit(client.post, path, files=files)
            try:
                assert describer.entered.wait(10.0), "the photo never reached the describer"
                health = httpx.get(f"{served}/api/v1/health", timeout=60)
                held_at_health = describer.held  # an answer behind the check comes at 0
            finally:
                describer.release.set()
            assert checking.result().status_code == 200
    assert health.status_code == 200
    assert held_at_health == 1, "/health waited for the photo check"
    assert describer.timed_out == 0
