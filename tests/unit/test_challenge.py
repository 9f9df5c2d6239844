"""Challenge mode's pure logic: prompts, references, timing, wrong moves, the track."""

from __future__ import annotations

import itertools
import random

import pytest

from facegate.domain.challenge import (
    Challenge,
    ChallengeSettings,
    PoseSample,
    Prompt,
    draw_prompts,
)

NEUTRAL = {"yaw": 0.0, "pitch": 0.3, "eyes": 0.3, "mouth": 0.02}
SETTINGS = ChallengeSettings(prompts=2, response_s=2.0)


def _at(time_s: float, track: int = 1, **pose: float) -> PoseSample:
    values = {**NEUTRAL, **pose}
    return PoseSample(
        time_s, track, values["yaw"], values["pitch"], values["eyes"], values["mouth"]
    )


def _feed(challenge: Challenge, samples: list[PoseSample]) -> str:
    for sample in samples:
        challenge.observe(sample)
    return challenge.status


def _still(start: float, end: float, **pose: float) -> list[PoseSample]:
    return [_at(round(start + i * 0.1, 2), **pose) for i in range(round((end - start) / 0.1))]


def test_prompts_are_random_and_never_repeat_back_to_back() -> None:
    prompts = draw_prompts(random.Random(3), 200)
    assert set(prompts) == set(Prompt)
    assert all(a != b for a, b in itertools.pairwise(prompts))


def test_every_prompt_has_plain_words_in_english_and_chinese() -> None:
    from facegate.web.messages_en import EN
    from facegate.web.messages_zh import ZH

    for prompt in Prompt:
        assert EN[f"challenge.{prompt.value}"]
        assert ZH[f"challenge.{prompt.value}"]
        assert EN[f"challenge.{prompt.value}"] != ZH[f"challenge.{prompt.value}"]


def test_following_the_prompts_in_order_passes() -> None:
    challenge = Challenge((Prompt.TURN_LEFT, Prompt.BLINK), SETTINGS, start_s=1.0)
    samples = [*_still(0.5, 1.2), _at(1.2, yaw=0.15), _at(1.3, yaw=0.3)]
    assert _feed(challenge, samples) == "pending"
    assert challenge.prompt is Prompt.BLINK
    # back to the middle, then a blink
    samples = [_at(1.5, yaw=0.1), _at(1.7), _at(1.8, eyes=0.1)]
    assert _feed(challenge, samples) == "passed"
    assert challenge.prompt is None


def test_no_move_in_time_fails_and_the_countdown_runs_out() -> None:
    challenge = Challenge((Prompt.OPEN_MOUTH, Prompt.BLINK), SETTINGS, start_s=1.0)
    assert challenge.remaining_s(1.5) == pytest.approx(1.5)
    assert _feed(challenge, _still(0.5, 3.5)) == "failed"
    assert "within the time" in challenge.reason
    assert challenge.remaining_s(3.5) == 0.0


def test_the_wrong_move_does_not_pass() -> None:
    challenge = Challenge((Prompt.TURN_LEFT, Prompt.BLINK), SETTINGS, start_s=1.0)
    samples = [*_still(0.5, 1.1), _at(1.2, yaw=-0.4), _at(1.3, pitch=0.1), _at(3.1, yaw=-0.4)]
    assert _feed(challenge, samples) == "failed"
    assert "no turn_left within the time" in challenge.reason


def test_the_prompted_moves_in_the_wrong_order_fail() -> None:
    # Turn left was asked first, then a blink: a blink then a turn (a replay that happens
    # to make both moves) passes the first prompt with its turn but shows no blink after.
    challenge = Challenge((Prompt.TURN_LEFT, Prompt.BLINK), SETTINGS, start_s=1.0)
    samples = [*_still(0.5, 1.1), _at(1.2, eyes=0.05), _at(1.3), _at(1.4, yaw=0.3)]
    assert _feed(challenge, samples) == "pending"
    assert challenge.prompt is Prompt.BLINK
    assert _feed(challenge, _still(1.5, 3.6, yaw=0.3)) == "failed"
    assert "no blink within the time" in challenge.reason


def test_the_view_shows_the_prompt_the_step_and_the_countdown() -> None:
    challenge = Challenge((Prompt.LOOK_UP, Prompt.BLINK), SETTINGS, start_s=1.0)
    _feed(challenge, [*_still(0.5, 1.1), _at(1.2, pitch=0.1)])
    view = challenge.view(1.7)
    assert (view.prompt, view.step, view.status) == (Prompt.BLINK, 1, "pending")
    assert view.remaining_s == pytest.approx(1.5)  # 2 s from the move that did look up
    assert challenge.expire(3.3) == "failed"
    assert challenge.view(3.3).remaining_s == 0.0
    assert challenge.view(3.3).prompt is None


def test_unasked_blinks_and_speech_do_not_fail() -> None:
    challenge = Challenge((Prompt.LOOK_UP, Prompt.TURN_RIGHT), SETTINGS, start_s=1.0)
    samples = [*_still(0.5, 1.1), _at(1.2, eyes=0.05), _at(1.3, mouth=0.5), _at(1.4, pitch=0.1)]
    assert _feed(challenge, samples) == "pending"
    assert challenge.prompt is Prompt.TURN_RIGHT


def test_another_track_fails() -> None:
    challenge = Challenge((Prompt.BLINK, Prompt.TURN_LEFT), SETTINGS, start_s=1.0)
    assert _feed(challenge, [*_still(0.5, 1.1), _at(1.2, track=2)]) == "failed"
    assert "another track" in challenge.reason


def test_the_move_is_measured_against_the_pose_at_the_prompt() -> None:
    # The head is already turned left when the challenge starts: staying there is no turn.
    challenge = Challenge((Prompt.TURN_LEFT, Prompt.BLINK), SETTINGS, start_s=1.0)
    assert _feed(challenge, _still(0.5, 3.2, yaw=0.5)) == "failed"


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="1-10 prompts"):
        ChallengeSettings(prompts=0)
    with pytest.raises(ValueError, match="at least one prompt"):
        Challenge((), SETTINGS, 0.0)


def test_a_kiosk_doors_check_follows_its_setting_and_the_sites_passive_mode() -> None:
    from facegate.domain.site import DoorLiveness, kiosk_check

    assert kiosk_check(DoorLiveness.DEFAULT, "layered") == "challenge"
    assert kiosk_check(DoorLiveness.DEFAULT, "none") == "none"  # liveness off: tests, benches
    assert kiosk_check(DoorLiveness.PASSIVE, "layered") == "layered"
    assert kiosk_check(DoorLiveness.CHALLENGE, "none") == "challenge"
