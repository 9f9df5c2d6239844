"""The web pages in a real browser: `facegate serve` as a process, Debian's Chromium via Playwright.

Skips with a reason when Chromium, Playwright or the shared LFW photos are absent.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LFW = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "faces" / "lfw10"
PHOTOS = [LFW / "Tony_Blair" / f"Tony_Blair_000{n}.jpg" for n in (1, 2, 3)]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RESIDENT_PASSWORD = "tony's long passphrase 42"

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)"
    ),
    pytest.mark.skipif(
        not all(p.exists() for p in PHOTOS), reason=f"shared LFW photos absent under {LFW}"
    ),
]


@dataclass
class Server:
    url: str
    admin: str
    password: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _facegate() -> str:
    found = shutil.which("facegate", path=str(Path(sys.executable).parent))
    assert found is not None, "the facegate command is not installed next to this Python"
    return found


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"facegate serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("facegate serve did not become healthy in time")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("site")
    password = secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "FACEGATE_DATA_DIR": str(data),
        "FACEGATE_SERVER__ENVIRONMENT": "development",
        "FACEGATE_SERVER__SECURE_COOKIES": "false",
        "FACEGATE_ADMIN_USER": "admin",
        "FACEGATE_ADMIN_PASSWORD": password,
    }
    fg = _facegate()
    subprocess.run([fg, "site", "init", "--name", "E2E Court"], env=env, check=True)
    port = _free_port()
    log = (data / "serve.log").open("wb")
    process = subprocess.Popen(
        [fg, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield Server(url, "admin", password)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _shot(page: Any, folder: Path, name: str, shots: list[Path]) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    shots.append(path)


def _log_in(page: Any, username: str, password: str) -> None:
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login")


def _console(page: Any, server: Server, folder: Path, shots: list[Path]) -> None:
    page.goto(f"{server.url}/console/people")
    assert "/login" in page.url
    _shot(page, folder, "login", shots)
    _log_in(page, server.admin, server.password)
    page.wait_for_url(re.compile(r".*/console/people$"))
    page.fill("#person-name", "Tony Resident")
    page.click("#add-person button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/people/[0-9a-f-]{36}$"))
    person_url = page.url
    assert page.locator("#enroll").count() == 0  # the consent step comes first
    page.click("#record-consent")
    page.wait_for_selector("#enroll")
    page.set_input_files("#photos", [str(p) for p in PHOTOS])
    page.click("#check-photos")
    page.wait_for_selector("#verdicts li")
    assert page.locator("#verdicts li.ok").count() >= 1
    _shot(page, folder, "enrollment_feedback", shots)
    page.click("#enroll-accepted")
    page.wait_for_function("document.querySelector('#template-count').textContent.match(/: [1-9]/)")
    page.fill("#resident-login input[name=username]", "tony")
    page.fill("#resident-login input[name=password]", RESIDENT_PASSWORD)
    page.click("#resident-login button")
    page.wait_for_url(person_url)
    page.goto(f"{server.url}/console/people")
    row = page.locator("tr", has_text="Tony Resident")
    assert row.locator("td.consent").inner_text() == "given"
    assert int(row.locator("td.templates").inner_text()) >= 1
    _shot(page, folder, "people", shots)
    for name in ("doors", "events", "alerts", "audit", "retention"):
        page.goto(f"{server.url}/console/{name}")
        _shot(page, folder, name, shots)
    page.goto(f"{server.url}/privacy")
    _shot(page, folder, "privacy", shots)
    page.click("#logout")
    page.wait_for_url(re.compile(r".*/login$"))


def _portal(page: Any, server: Server, folder: Path, shots: list[Path]) -> None:
    _log_in(page, "tony", RESIDENT_PASSWORD)
    page.wait_for_url(re.compile(r".*/portal$"))
    assert "Consent to face access given" in page.inner_text("#consent-state")
    assert page.inner_text("#template-count").endswith(("1", "2", "3"))
    _shot(page, folder, "portal", shots)
    page.click("#withdraw-consent")
    page.wait_for_url(re.compile(r".*/portal\?done=withdrawn$"))
    assert page.inner_text("#consent-state") == "No consent to face access is in force."
    assert page.inner_text("#template-count").endswith(": 0")
    page.goto(f"{server.url}/kiosk/no-such-door")
    page.wait_for_selector("#decision")
    _shot(page, folder, "kiosk", shots)


def test_console_enroll_then_portal_withdraw(server: Server, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    shots: list[Path] = []
    with sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(locale="en-GB")
        page.set_default_timeout(20_000)
        _console(page, server, tmp_path, shots)
        _portal(page, server, tmp_path, shots)
        browser.close()
    assert len(shots) == 11
    for shot in shots:
        assert shot.read_bytes()[:8] == PNG_SIGNATURE, f"{shot.name} is not a PNG"
