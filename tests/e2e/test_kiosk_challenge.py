"""Challenge mode on the kiosk page in a real browser: prompts in plain words, a countdown.

`facegate serve` runs as a process. Through the API: a door that accepts face and card,
set to ``challenge``, and a kiosk key. A Chromium whose fake camera plays
``talking_head.mp4`` (a face nobody enrolled) opens the door's kiosk page: it must show
a prompt in plain English, the countdown and the step, and the face refused in the end
(it is nobody's, and a recorded video rarely follows the prompts); after switching the
page to Chinese, at a second such door, the prompt and countdown in Chinese. Skips when
Chromium or the data is absent.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from e2e_support import CHROMIUM, Server, camera_args, read_frames, running_server, write_y4m

VIDEO = (
    Path(
        os.environ.get(
            "FACEGATE_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"
        )
    )
    / "video"
    / "talking_head.mp4"
)
WAIT_MS = 40_000
PROMPTS_EN = (
    "Turn your head to your left",
    "Turn your head to your right",
    "Look up",
    "Blink your eyes",
    "Open your mouth",
)
PROMPTS_ZH = ("请向您的左边转头", "请向您的右边转头", "请抬头", "请眨眼", "请张嘴")

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)"
    ),
    pytest.mark.skipif(not VIDEO.exists(), reason=f"shared video absent: {VIDEO}"),
]


def _challenge_door(driver: Any, server: Server) -> tuple[str, str]:
    """A face-and-card door set to challenge, and its kiosk key (through the API)."""
    api = driver.request.new_context(base_url=server.url)
    login = {"username": server.admin, "password": server.password}
    answer = api.post("/api/v1/auth/login", data=login)
    assert answer.status == 200, answer.text()
    headers = {"X-CSRF-Token": answer.json()["csrf_token"]}
    door = api.post(
        "/api/v1/doors",
        data={"name": "Kiosk door", "accepted": ["face", "card"], "liveness": "challenge"},
        headers=headers,
    )
    assert door.status == 201, door.text()
    assert door.json()["liveness"] == "challenge"
    door_id = door.json()["id"]
    key = api.post("/api/v1/devices/keys", data={"target_id": door_id}, headers=headers)
    assert key.status == 201, key.text()
    return door_id, key.json()["secret"]


def _shown(page: Any, selector: str, pattern: re.Pattern[str]) -> str:
    try:
        page.locator(selector, has_text=pattern).wait_for(state="visible")
    except Exception as err:  # Playwright's TimeoutError: say what the page showed
        raise AssertionError(f"{selector}: {page.inner_text('body')!r}") from err
    return str(page.inner_text(selector))


def test_the_kiosk_shows_the_prompts_and_a_countdown_in_english_and_chinese(
    tmp_path: Path,
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    camera = write_y4m(read_frames(VIDEO, 0.0, 50), tmp_path / "face.y4m")
    data = tmp_path / "site"
    data.mkdir()
    # Liveness "none" for the site: only this door's own setting asks for the challenge.
    with (
        running_server(data, "Challenge Court", {"FACEGATE_GATE__LIVENESS": "none"}) as server,
        sync_api.sync_playwright() as driver,
    ):
        door_id, secret = _challenge_door(driver, server)
        # A second door for the Chinese half: its own presentation, so its own challenge.
        # (The first door's refusal stands for the face still in view: one decision per
        # presence; whether a new challenge comes there depends on when the track ends.)
        door_zh, secret_zh = _challenge_door(driver, server)
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=camera_args(camera))
        page = browser.new_page(locale="en-GB")
        page.set_default_timeout(WAIT_MS)
        page.goto(f"{server.url}/kiosk/{door_id}")
        page.fill("#device-key", secret)
        page.click("#save-key")

        prompt = _shown(page, "#challenge-prompt", re.compile("|".join(PROMPTS_EN)))
        assert prompt in PROMPTS_EN
        assert "To show you are really here" in page.inner_text("#challenge")
        assert re.fullmatch(r"Step [1-4] of 4", page.inner_text("#challenge-step"))
        first = page.inner_text("#challenge-countdown")
        assert re.fullmatch(r"\d\.\d s left", first), first
        page.wait_for_timeout(400)
        later = page.inner_text("#challenge-countdown")
        if page.is_visible("#challenge") and page.inner_text("#challenge-prompt") == prompt:
            assert later != first  # the same prompt: its countdown ran meanwhile
        # Nobody enrolled this face: refused in the end, whatever the moves.
        _shown(page, "#decision.refused", re.compile("Sorry, the door stays closed."))

        page.click("a[href^='/lang/zh']")  # the language is the session's, for every page
        page.goto(f"{server.url}/kiosk/{door_zh}")
        page.fill("#device-key", secret_zh)
        page.click("#save-key")
        prompt = _shown(page, "#challenge-prompt", re.compile("|".join(PROMPTS_ZH)))
        assert prompt in PROMPTS_ZH
        assert re.fullmatch(r"还剩 \d\.\d 秒", page.inner_text("#challenge-countdown"))
        assert re.fullmatch(r"第 [1-4] 步，共 4 步", page.inner_text("#challenge-step"))
        page.screenshot(path=str(tmp_path / "kiosk_challenge_zh.png"), full_page=True)
        browser.close()
