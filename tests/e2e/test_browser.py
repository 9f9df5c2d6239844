"""The web pages in a real browser: `facegate serve` as a process, Debian's Chromium via Playwright.

Skips with a reason when Chromium, Playwright or the shared LFW photos are absent.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import ARGS, CHROMIUM, PNG_SIGNATURE, Server, running_server
from e2e_support import log_in as _log_in
from e2e_support import shot as _shot

LFW = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "faces" / "lfw10"
PHOTOS = [LFW / "Tony_Blair" / f"Tony_Blair_000{n}.jpg" for n in (1, 2, 3)]
RESIDENT_PASSWORD = "tony's long passphrase 42"

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)"
    ),
    pytest.mark.skipif(
        not all(p.exists() for p in PHOTOS), reason=f"shared LFW photos absent under {LFW}"
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``facegate serve`` on a fresh site for this module."""
    with running_server(tmp_path_factory.mktemp("site")) as running:
        yield running


def _console(page: Any, server: Server, folder: Path, shots: list[Path]) -> None:
    page.goto(f"{server.url}/console/people")
    assert "/login" in page.url
    _shot(page, folder, "login", shots)
    _log_in(page, server.admin, server.password)
    page.wait_for_url(re.compile(r".*/console/people$"))
    page.fill("#person-name", "Tony Resident")
    page.click("#add-person button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/people/[0-9a-f-]{36}\?done=added$"))
    person_url = page.url.split("?")[0]
    assert page.locator("#enroll").count() == 0  # the consent step comes first
    page.click("#record-consent")
    page.wait_for_selector("#enroll")
    page.set_input_files("#photos", [str(p) for p in PHOTOS])
    page.click("#check-photos")
    page.wait_for_selector("#verdicts li")
    assert page.locator("#verdicts li.ok").count() >= 1
    _shot(page, folder, "enrollment_feedback", shots)
    page.click("#enroll-accepted")
    # Locators, not wait_for_function: the CSP forbids eval, which that needs.
    page.locator("#template-count", has_text=re.compile(r": [1-9]")).wait_for(state="attached")
    page.fill("#resident-login input[name=username]", "tony")
    page.fill("#resident-login input[name=password]", RESIDENT_PASSWORD)
    page.click("#resident-login button")
    page.wait_for_url(f"{person_url}?done=login")
    assert "Login created" in page.inner_text("#done")
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


def test_a_busy_server_slows_the_kiosk_down_without_an_error_on_screen(server: Server) -> None:
    """A 503 with Retry-After (every frame worker busy): the kiosk waits, and says nothing."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    camera = [*ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    posted: list[float] = []

    def busy(route: Any) -> None:
        posted.append(time.monotonic())
        body = '{"error": "service_busy", "detail": "all 2 frames workers are busy"}'
        route.fulfill(status=503, headers={"Retry-After": "2"}, body=body)

    with sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=camera)
        page = browser.new_page(locale="en-GB")
        page.route("**/api/v1/doors/*/frames", busy)
        page.goto(f"{server.url}/kiosk/north-door")
        page.fill("#device-key", "fgk_any")
        page.click("#save-key")
        deadline = time.monotonic() + 60.0  # a hang guard, not a speed claim
        while len(posted) < 3 and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        shown = page.inner_text("#decision")
        browser.close()
    assert shown == "Please look at the camera"
    assert len(posted) >= 3, posted
    # Retry-After honoured: each ask waits at least the 2 s asked (0.7 s apart when not
    # busy). Only a lower bound, which a loaded machine can only make longer.
    assert all(b - a >= 1.8 for a, b in itertools.pairwise(posted)), posted
