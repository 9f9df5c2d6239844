"""The device keys' token buckets (:mod:`facegate.http.key_rate`), on an injected clock."""

from __future__ import annotations

import pytest

from facegate.config import ServerSettings
from facegate.http.key_rate import KeyRate, RateLimitedError
from fakes import FakeTicks


def test_a_key_gets_its_burst_then_its_rate_and_another_key_is_unaffected() -> None:
    clock = FakeTicks()
    rate = KeyRate(2.0, 3, now=clock)
    for _ in range(3):
        rate.take("a")
    with pytest.raises(RateLimitedError) as refused:
        rate.take("a")
    assert refused.value.retry_after_s == pytest.approx(0.5)  # one token at 2 a second
    rate.take("b")  # a key of its own
    clock.at += 0.5
    rate.take("a")
    with pytest.raises(RateLimitedError):
        rate.take("a")
    clock.at += 60.0  # a quiet spell refills up to the burst, no more
    for _ in range(3):
        rate.take("a")
    with pytest.raises(RateLimitedError):
        rate.take("a")


def test_a_charge_leaves_the_key_in_debt_and_its_next_requests_wait_it_out() -> None:
    clock = FakeTicks()
    rate = KeyRate(2.0, 3, now=clock)
    rate.take("a")
    rate.charge("a", 10.0)  # 2 - 10: 8 tokens owed
    with pytest.raises(RateLimitedError) as refused:
        rate.take("a")
    assert refused.value.retry_after_s == pytest.approx(4.5)  # (1 + 8) / 2
    clock.at += 4.5
    rate.take("a")


def test_no_rate_limits_nothing_and_keeps_no_bucket() -> None:
    rate = KeyRate(0.0, 1, now=FakeTicks())
    for _ in range(100):
        rate.take("a")
    rate.charge("a", 1000.0)
    rate.take("a")
    assert rate.tracked() == 0


def test_a_forgotten_key_starts_full_and_the_settings_size_it() -> None:
    rate = KeyRate(1.0, 1, now=FakeTicks())
    rate.take("wrong")
    rate.forget("wrong")
    assert rate.tracked() == 0
    rate.take("wrong")
    sized = KeyRate.of(ServerSettings(device_rate_per_s=5.0, device_burst=7))
    assert (sized.rate_per_s, sized.burst) == (5.0, 7)
    assert (ServerSettings().device_rate_per_s, ServerSettings().device_burst) == (30.0, 60)
