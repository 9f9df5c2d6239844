"""Server settings, the self-signed certificate, the webhook, the login limiter."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from pydantic import SecretStr

from facegate.config import ServerSettings
from facegate.domain.errors import BadInputError
from facegate.http.security import LoginLimiter
from facegate.http.tls import self_signed
from facegate.messaging.webhook import WebhookNotifier


def test_production_refuses_a_missing_or_short_session_secret() -> None:
    with pytest.raises(BadInputError, match="SESSION_SECRET"):
        ServerSettings().check_secrets()
    with pytest.raises(BadInputError):
        ServerSettings(session_secret=SecretStr("short")).check_secrets()
    ServerSettings(session_secret=SecretStr("x" * 32)).check_secrets()
    ServerSettings(environment="development").check_secrets()


def test_self_signed_certificate_names_the_hosts_and_keeps_the_key_private(
    tmp_path: Path,
) -> None:
    cert_path, key_path = self_signed(tmp_path, ["localhost", "192.168.1.5"])
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert key_path.stat().st_mode & 0o077 == 0
    assert self_signed(tmp_path, ["other"]) == (cert_path, key_path)  # kept, not replaced


def test_webhook_posts_json_and_logs_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500 if b"fail" in request.content else 204)

    notifier = WebhookNotifier("https://hooks.example/x", transport=httpx.MockTransport(answer))
    notifier({"event": "alert.added"})
    assert seen[0].headers["content-type"] == "application/json"
    notifier({"event": "fail"})
    assert "webhook https://hooks.example/x failed" in caplog.text


def test_login_limiter_window_expires() -> None:
    now = [0.0]
    limiter = LoginLimiter(attempts=2, window_s=10, now=lambda: now[0])
    for name in ("Ann", "ann"):
        assert limiter.reserve("1.2.3.4", name)
        limiter.failed("1.2.3.4", name)
    assert limiter.blocked("1.2.3.4", "ANN")
    assert not limiter.reserve("1.2.3.4", "ann")
    assert not limiter.blocked("5.6.7.8", "ann")
    now[0] = 11.0
    assert not limiter.blocked("1.2.3.4", "ann")


def test_login_limiter_lets_concurrent_correct_logins_through_one_after_another() -> None:
    """Twenty right passwords at once all get in; the limit binds failures only."""
    limiter = LoginLimiter(attempts=3, window_s=300, wait_s=5.0)
    results: list[bool] = []

    def log_in() -> None:
        took = limiter.reserve("10.0.0.1", "auditor")
        results.append(took)
        if took:
            time.sleep(0.01)  # the password check
            limiter.succeeded("10.0.0.1", "auditor")

    threads = [threading.Thread(target=log_in) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 20


def test_login_limiter_stops_concurrent_wrong_passwords_at_the_limit() -> None:
    limiter = LoginLimiter(attempts=3, window_s=300, wait_s=5.0)
    took: list[bool] = []

    def guess() -> None:
        ok = limiter.reserve("10.0.0.1", "admin")
        took.append(ok)
        if ok:
            time.sleep(0.01)
            limiter.failed("10.0.0.1", "admin")

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert took.count(True) == 3
