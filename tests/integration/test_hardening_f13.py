"""Issue 16, F13: page headers, password strength, reset links, metrics labels, file modes,
the login form's signed CSRF token."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from api_site import PASSWORD, Site, build_site
from facegate.domain.accounts import AccountRole, check_password_strength
from facegate.domain.errors import NotFoundError, ValidationError
from facegate.services import accounts
from facegate.store.database import create_db_engine, upgrade

TEMPLATES = Path(__file__).parents[2] / "src" / "facegate" / "web" / "templates"


@pytest.fixture
def db_site(migrated_db_url: str) -> Iterator[Site]:
    yield from build_site(migrated_db_url)


@pytest.fixture
def sqlite_site(tmp_path: Path) -> Iterator[Site]:
    yield from build_site(f"sqlite:///{tmp_path / 'facegate.db'}")


def test_pages_forbid_framing_and_inline_scripts(sqlite_site: Site) -> None:
    client = sqlite_site.client("admin")
    door = client.post("/api/v1/doors", json={"name": "Gate", "accepted": ["card"]}).json()
    for path in ("/login", "/console/people", f"/kiosk/{door['id']}", "/api/v1/health"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        policy = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
    kiosk = client.get(f"/kiosk/{door['id']}")
    assert "camera=(self)" in kiosk.headers["permissions-policy"]


def test_templates_hold_no_inline_script_or_handler() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name


@pytest.mark.parametrize(
    "password", ["aaaaaaaaaa", "password123", "qwertyuiop", "1234567890", "iloveyou12"]
)
def test_common_or_repetitive_passwords_are_refused(password: str) -> None:
    with pytest.raises(ValidationError):
        check_password_strength(password)


def test_weak_passwords_are_refused_by_the_api(sqlite_site: Site) -> None:
    client = sqlite_site.client("admin")
    body = {"username": "eve", "password": "aaaaaaaaaa", "role": "operator"}
    assert client.post("/api/v1/users", json=body).status_code == 422
    body["password"] = "eve's long passphrase 42"
    assert client.post("/api/v1/users", json=body).status_code == 201


def test_a_newer_reset_link_retires_the_older_ones(db_site: Site) -> None:
    context, hasher = db_site.context, db_site.deps.hasher
    user = accounts.create_user(
        context, hasher, "ida", "ida's long passphrase 7", AccountRole.OPERATOR
    )
    first = accounts.issue_reset_token(context, user.id, timedelta(hours=24))
    second = accounts.issue_reset_token(context, user.id, timedelta(hours=24))
    with pytest.raises(NotFoundError):
        accounts.reset_password(context, hasher, first, "another long passphrase 1")
    accounts.reset_password(context, hasher, second, "another long passphrase 2")


def test_using_a_reset_link_retires_every_other(db_site: Site) -> None:
    context, hasher = db_site.context, db_site.deps.hasher
    user = accounts.create_user(
        context, hasher, "jo", "jo's long passphrase 7", AccountRole.OPERATOR
    )
    older = accounts.issue_reset_token(context, user.id, timedelta(hours=24))
    with db_site.deps.store.unit_of_work() as uow:  # a link issued before this release
        newer = accounts.secrets.token_urlsafe(32)
        token = accounts.ResetToken(
            accounts.secret_hash(newer), user.id, context.clock.now() + timedelta(hours=1)
        )
        uow.accounts.add_reset_token(token)
        uow.commit()
    accounts.reset_password(context, hasher, newer, "another long passphrase 3")
    with pytest.raises(NotFoundError):
        accounts.reset_password(context, hasher, older, "another long passphrase 4")


def test_made_up_methods_share_one_metrics_label(sqlite_site: Site) -> None:
    client = sqlite_site.client()
    for method in ("FOO", "BAR", "BAZ"):
        client.request(method, "/api/v1/health")
    metrics = client.get("/api/v1/metrics").text
    assert 'method="other"' in metrics
    for method in ("FOO", "BAR", "BAZ"):
        assert f'method="{method}"' not in metrics


def test_the_sqlite_database_and_its_wal_are_private(tmp_path: Path) -> None:
    path = tmp_path / "facegate.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
        files = [p for p in tmp_path.iterdir() if p.name.startswith("facegate.db")]
        assert {p.name for p in files} >= {"facegate.db", "facegate.db-wal", "facegate.db-shm"}
        for member in files:
            assert stat.S_IMODE(member.stat().st_mode) == 0o600, member.name
    engine.dispose()


def test_a_planted_login_cookie_is_refused(sqlite_site: Site) -> None:
    client = sqlite_site.client()
    planted = "attacker-chosen-token"
    client.cookies.set("facegate_login_csrf", planted)
    form = {"username": "admin", "password": PASSWORD, "login_csrf": planted}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 403
    token = re.search(r'name="login_csrf" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    form["login_csrf"] = token.group(1)
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
