"""The dashboard in a real browser: a door goes unlocked and back as its kiosk grants a card.

`facegate serve` as a process, Debian's Chromium via Playwright; the page is never reloaded
after the grant: the live event stream brings the change. Screenshots go to the test's
artefacts folder. Skips with a reason when Chromium or Playwright is absent.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from e2e_support import ARGS, CHROMIUM, Server, log_in, running_server, shot

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)"
)
WAIT_MS = 20_000
SILENT_AFTER_S = 2
"""The server's silence limit for edge gates here (seconds; 60 by default)."""
PHONE_PX = 390
"""The phone width the console must fit (the manager walks the site with one)."""
PHONE_PAGES = (
    "/console",
    "/console/people",
    "/console/doors",
    "/console/rules",
    "/console/alerts",
    "/console/events",
    "/console/audit",
    "/console/retention",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    quiet = {"FACEGATE_GATE__SILENT_AFTER_S": str(SILENT_AFTER_S)}
    with running_server(tmp_path_factory.mktemp("site"), extra_env=quiet) as running:
        yield running


def _setup(page: Any, server: Server) -> tuple[str, str, str]:
    """A door accepting cards, a resident with a card and a rule, a kiosk key.

    Returns:
        The door's id, the kiosk's device key and the resident's console page.
    """
    page.goto(f"{server.url}/console/doors")
    page.fill("#add-door input[name=name]", "Garden door")
    page.click("#add-door button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/doors\?done=door$"))
    row = page.locator("tr", has_text="Garden door")
    door_id = str(row.get_attribute("data-door"))
    page.goto(f"{server.url}/console/people")
    page.fill("#person-name", "Mei Wong")
    page.click("#add-person button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/people/[0-9a-f-]{36}\?done=added$"))
    person_url = page.url.split("?")[0]
    page.fill("input[name=number]", "CARD-77")
    page.click("form[action$='/cards'] button[type=submit]")
    page.wait_for_url(re.compile(r".*\?done=card$"))
    page.goto(f"{server.url}/console/rules?who=Mei")
    page.select_option("#person-pick", label="Mei Wong (Resident)")
    page.check(f"input[name=door_ids][value='{door_id}']")
    page.fill("input[name=start]", "00:00")
    page.fill("input[name=end]", "23:59")
    page.click("#rule-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/rules\?added=.+"))
    page.goto(f"{server.url}/console/doors")
    page.locator(f"tr[data-door='{door_id}'] button").click()
    return door_id, page.inner_text("#device-secret").strip(), person_url


def test_the_dashboard_shows_a_door_unlock_and_lock_again_as_a_kiosk_grants(
    server: Server, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots: list[Path] = []
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(locale="en-GB", viewport={"width": PHONE_PX, "height": 844})
        page.set_default_timeout(WAIT_MS)
        page.goto(f"{server.url}/console")
        log_in(page, server.admin, server.password)
        page.wait_for_url(re.compile(r".*/console$"))
        door_id, secret, person_url = _setup(page, server)
        page.goto(f"{server.url}/console")
        row = page.locator(f"#door-states tr[data-door='{door_id}']")
        expect(row).to_have_attribute("data-state", "locked")
        expect(page.locator("#live")).to_have_text(re.compile("Live"))
        shot(page, tmp_path, "dashboard_locked", shots)
        answer = page.request.post(
            f"{server.url}/api/v1/doors/{door_id}/credentials",
            data={"kind": "card", "value": "CARD-77"},
            headers={"x-device-key": secret},
        )
        assert answer.ok, answer.text()
        assert answer.json()["granted"] is True
        expect(row).to_have_attribute("data-state", "unlocked")
        expect(row.locator("td.entries")).to_have_text("1")
        expect(page.locator("#feed li.granted", has_text="Mei Wong")).to_have_count(1)
        shot(page, tmp_path, "dashboard_unlocked", shots)
        expect(row).to_have_attribute("data-state", "locked", timeout=WAIT_MS)
        page.goto(f"{server.url}/lang/zh?next=/console")
        zh = page.locator("main").inner_text()
        assert "已锁" in zh
        words = set(re.findall(r"[A-Za-z0-9_.\-]+", zh))  # a gate id "kiosk-12ab" is one word
        raw = words & {"locked", "unlocked", "granted", "kiosk", "edge", "motion", "unknown", "ok"}
        assert not raw, f"raw values {raw} on the Chinese dashboard"
        shot(page, tmp_path, "dashboard_zh", shots)
        page.goto(f"{server.url}/lang/en?next=/console")
        for name in PHONE_PAGES:
            page.goto(f"{server.url}{name}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE_PX, f"{name} is {width} px wide on a {PHONE_PX} px phone"
        _erasure_from_the_queue(browser, page, person_url, tmp_path, shots)
        browser.close()
    assert all(p.stat().st_size > 0 for p in shots)


def _erasure_from_the_queue(
    browser: Any, page: Any, person_url: str, folder: Path, shots: list[Path]
) -> None:
    """Mei asks for erasure in the portal; the administrator erases her from the queue."""
    from playwright.sync_api import expect

    page.goto(person_url)
    page.fill("#resident-login input[name=username]", "mei")
    page.fill("#resident-login input[name=password]", "mei's long passphrase 7")
    page.click("#resident-login button[type=submit]")
    page.wait_for_url(re.compile(r".*\?done=.+"))
    resident = browser.new_context(locale="en-GB", viewport={"width": PHONE_PX, "height": 844})
    mei = resident.new_page()
    mei.set_default_timeout(WAIT_MS)
    root = person_url.split("/console/")[0]
    mei.goto(f"{root}/portal")
    log_in(mei, "mei", "mei's long passphrase 7")
    mei.wait_for_url(re.compile(r".*/portal$"))
    mei.click("form[action='/portal/erasure'] button[type=submit]")
    mei.wait_for_url(re.compile(r".*/portal\?done=erasure$"))
    expect(mei.locator("#my-requests tr.request-open")).to_have_count(1)
    shot(mei, folder, "portal_erasure_requested", shots)
    page.goto(f"{root}/console/requests")
    row = page.locator("#requests tr.request", has_text="Mei Wong")
    expect(row).to_have_count(1)
    shot(page, folder, "queue_erasure_waiting", shots)
    row.locator("form[action$='/complete'] input[name=note]").fill("erased on her request")
    row.locator("form[action$='/complete'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/console/requests$"))
    expect(page.locator("#requests")).to_contain_text("No requests waiting.")
    page.goto(f"{root}/console/requests?everything=true")
    done = page.locator("#requests tr.request")
    expect(done).to_contain_text("Done")
    expect(done).not_to_contain_text("Mei Wong")  # erased: no name is left to show
    shot(page, folder, "queue_erasure_done", shots)
    assert page.goto(person_url).status == 404
    resident.close()


def _door_of(page: Any, server: Server, name: str) -> str:
    page.goto(f"{server.url}/console/doors")
    return str(page.locator("tr", has_text=name).get_attribute("data-door"))


def _register_edge_gate(page: Any, server: Server, door_id: str) -> str:
    """Register the edge gate ``yard-1`` on the gates page; its device key."""
    page.goto(f"{server.url}/console/gates")
    form = page.locator("#register-gate")
    form.locator("select[name=target_id]").select_option(door_id)
    form.locator("input[name=gate_id]").fill("yard-1")
    form.locator("select[name=kind]").select_option("edge")
    form.locator("input[name=camera]").fill("rtsp://10.0.0.21/stream1")
    form.locator("button[type=submit]").click()
    command = page.input_value("#start-command")
    assert "FACEGATE_GATE__GATE_ID=yard-1" in command
    return page.inner_text("#device-secret").strip()


def _forced(door_id: str) -> dict[str, Any]:
    return {
        "key": str(uuid.uuid4()),
        "gate_id": "yard-1",
        "kind": "door_forced_open",
        "door_id": door_id,
        "occurred_at": datetime.now(UTC).isoformat(),
        "granted": False,
        "reason": None,
        "person_id": None,
        "pass_id": None,
        "floors": [],
        "scores": {},
        "note": "contact opened while locked",
    }


def test_a_silent_gate_and_a_forced_door_raise_alarms_acknowledged_on_the_dashboard(
    server: Server, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots: list[Path] = []
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(locale="en-GB", viewport={"width": PHONE_PX, "height": 844})
        page.set_default_timeout(WAIT_MS)
        page.goto(f"{server.url}/console/gates")
        log_in(page, server.admin, server.password)
        page.wait_for_url(re.compile(r".*/console/gates$"))
        page.goto(f"{server.url}/console/doors")
        page.fill("#add-door input[name=name]", "Yard door")
        page.click("#add-door button[type=submit]")
        page.wait_for_url(re.compile(r".*/console/doors\?done=door$"))
        door_id = _door_of(page, server, "Yard door")
        secret = _register_edge_gate(page, server, door_id)
        shot(page, tmp_path, "gate_registered", shots)
        page.goto(f"{server.url}/console")
        expect(page.locator("#live")).to_have_text(re.compile("Live"))
        silent = page.locator("#alarms li.alarm[data-alarm=gate_silent]", has_text="Yard door")
        expect(silent).to_have_count(1)  # never polled: offline after the silence limit
        row = page.locator(f"#door-states tr[data-door='{door_id}']")
        expect(row.locator(".gate.offline")).to_have_count(1)
        answer = page.request.post(
            f"{server.url}/api/v1/gates/yard-1/events",
            data={"events": [_forced(door_id)]},
            headers={"x-device-key": secret},
        )
        assert answer.ok, answer.text()
        expect(row).to_have_attribute("data-state", "forced")
        forced = page.locator("#alarms li.alarm[data-alarm=door_forced_open]")
        expect(forced).to_have_count(1)
        shot(page, tmp_path, "dashboard_alarms", shots)
        forced.locator("input[name=note]").fill("checked on site: door was kicked")
        # The page is at /console already: wait for the form's own round trip.
        with page.expect_navigation(url=re.compile(r".*/console$")):
            forced.locator("button[type=submit]").click()
        expect(forced).to_have_count(0)
        expect(row).to_have_attribute("data-state", "locked")
        shot(page, tmp_path, "dashboard_acknowledged", shots)
        browser.close()
    assert all(p.stat().st_size > 0 for p in shots)
