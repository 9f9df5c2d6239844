from __future__ import annotations

from facegate.domain.policy import Decision, deny
from facegate.domain.reasons import Reason
from facegate.gate.bench import search_ms, summarize
from facegate.gate.loop import Outcome


def test_search_reports_each_size() -> None:
    result = search_ms((10, 200), repeats=2)
    assert set(result) == {"10", "200"}
    assert all(value >= 0 for value in result.values())


def test_summary_counts_reasons_and_has_the_contract_keys() -> None:
    outcomes = [
        Outcome(Decision(True, Reason.GRANTED), 1, 5, 40.0, 240.0, "k1"),
        Outcome(deny(Reason.SPOOF_SUSPECTED), 2, 9, 60.0, 300.0, "k2"),
    ]
    report = summarize(outcomes, 2.0)
    assert report["p50_ms"] == 50.0
    assert report["decisions_per_s"] == 1.0
    assert report["reasons"] == {"granted": 1, "spoof_suspected": 1}
    assert {"p95_ms", "time_to_decision_p50_ms"} <= set(report)
