"""The site bench's own logic: the fill's distances, the judging of decisions, the keys."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import numpy as np
import pytest

from facegate.domain.matching import pairwise_distances
from facegate.ports import Frame
from facegate.sitebench import fill
from facegate.sitebench.clients import FrameAnswer, Presented, reach_every_door
from facegate.sitebench.edge import WithCards, read_cards, watch_cards
from facegate.sitebench.load import Clip, EdgeRun, edges_reach, write_gate_frames
from facegate.sitebench.phases import shown_cards
from facegate.sitebench.population import card_of
from facegate.sitebench.report import (
    CONTRACT_KEYS,
    Roster,
    frame_figures,
    json_safe,
    judge,
    missing_keys,
)


def _real_like(people: int, per_person: int, seed: int) -> dict[str, np.ndarray]:
    """People drawn from an anisotropic two-level model (as real descriptors are shaped)."""
    rng = np.random.default_rng(seed)
    spread = np.linspace(0.02, 0.09, 128)
    centres = rng.standard_normal((people, 128)) * spread
    return {
        f"p{i}": (centres[i] + rng.standard_normal((per_person, 128)) * spread * 0.45).astype(
            np.float32
        )
        for i in range(people)
    }


@pytest.fixture(scope="module")
def real() -> dict[str, np.ndarray]:
    return _real_like(100, 4, seed=1)


@pytest.fixture(scope="module")
def model(real: dict[str, np.ndarray]) -> fill.FillModel:
    return fill.fit(real, seed=2)


def test_the_fill_is_as_far_from_real_faces_as_real_strangers_are(
    real: dict[str, np.ndarray], model: fill.FillModel
) -> None:
    measured = fill.impostor_distances(real)
    drawn = model.people(400, 3, seed=3).reshape(-1, 128)  # not the draws it was fitted on
    to_real = pairwise_distances(drawn, np.concatenate(list(real.values()))).ravel()
    assert model.ks < 0.08
    assert fill.ks_statistic(to_real, measured) < 0.08
    # The low tail, where false matches happen: within a factor e at its quantiles
    # 0.1 % to 3 %, and within a factor 2 at the 5th percentile.
    assert fill.tail_gap(to_real, measured) < 1.0
    low = float(np.quantile(measured, 0.05))
    assert 0.025 < fill.fraction_below(to_real, low) < 0.1


def test_random_vectors_would_not_pass_the_same_check(real: dict[str, np.ndarray]) -> None:
    measured = fill.impostor_distances(real)
    rng = np.random.default_rng(4)
    random = rng.standard_normal((400, 128)).astype(np.float32)
    random /= np.linalg.norm(random, axis=1, keepdims=True)
    to_real = pairwise_distances(random, np.concatenate(list(real.values()))).ravel()
    assert fill.ks_statistic(to_real, measured) > 0.5


def test_a_synthetic_person_s_templates_are_closer_to_each_other_than_to_others(
    model: fill.FillModel,
) -> None:
    people = model.people(50, 3, seed=5)
    within = [pairwise_distances(p, p)[np.triu_indices(3, 1)].mean() for p in people]
    between = pairwise_distances(people[:, 0], people[:, 0])[np.triu_indices(50, 1)]
    assert float(np.mean(within)) < float(np.mean(between))


def _shown(who: str, door: str, at: float, *answers: tuple[str, bool, bool]) -> Presented:
    rows = [FrameAnswer(at, 10.0, 200, r, g, p) for r, g, p in answers]
    return Presented(who, door, at, rows)


def test_decisions_are_judged_by_who_was_shown_where_and_when() -> None:
    roster = Roster()
    roster.set("ann", 0, 0.0)
    roster.set("bo", 1, 0.0)
    roster.set("bo", None, 100.0)  # erased at t=100
    doors = {"d0": 0, "d1": 1}
    presented = [
        _shown("ann", "d0", 10.0, ("spoof_suspected", False, True), ("granted", True, False)),
        _shown("ann", "d1", 20.0, ("not_allowed_here", False, False)),
        _shown("cy", "d0", 30.0, ("unknown_face", False, False)),
        _shown("bo", "d1", 40.0, ("granted", True, False)),
        _shown("bo", "d1", 101.0, ("granted", True, False)),  # within 2 s: not judged
        _shown("bo", "d1", 110.0, ("granted", True, False)),  # erased yet granted: wrong
        _shown("ann", "d0", 120.0, ("spoof_suspected", False, True)),  # undecided: wrong
        _shown("cy", "d1", 130.0, ("granted", True, False)),  # a stranger granted: wrong
    ]
    judged = judge(roster, presented, doors, settle_s=2.0)
    assert judged["wrong_decisions"] == 3
    assert judged["unsettled"] == 1
    assert judged["by_category"] == {
        "own_door": {"granted": 2, "undecided": 1},
        "others_door": {"not_allowed_here": 1},
        "stranger": {"unknown_face": 1, "granted": 1},
        "erased": {"granted": 1},
    }
    assert [(w["who"], w["category"], w["outcome"]) for w in judged["wrong"]] == [
        ("bo", "erased", "granted"),
        ("ann", "own_door", "undecided"),
        ("cy", "stranger", "granted"),
    ]


def test_frame_figures_count_503_and_429_apart_from_latencies() -> None:
    answers = [FrameAnswer(0.0, float(ms), 200) for ms in range(1, 101)]
    answers += [FrameAnswer(0.0, 1.0, 503)] * 4 + [FrameAnswer(0.0, 1.0, 429)] * 2
    figures = frame_figures(answers)
    assert figures["frame_p50_ms"] == 50.5
    assert figures["rejected_fraction"] == round(4 / 106, 4)
    assert (figures["frames_rate_limited"], figures["frames_failed"]) == (2, 0)  # not failures


def test_the_contract_keys_are_the_agreed_ones() -> None:
    assert set(CONTRACT_KEYS) == {
        "frame_p50_ms", "frame_p95_ms", "frame_p99_ms", "rejected_fraction",
        "snapshot_check_ms", "snapshot_rebuild_ms", "change_to_all_doors_s",
        "audit_rows_per_hour", "peak_rss_mb", "wrong_decisions", "saturation_frames_per_s",
        "console_p95_ms", "stranger_fpir",
    }  # fmt: skip
    assert missing_keys(dict.fromkeys(CONTRACT_KEYS, 0)) == []
    assert missing_keys({}) == list(CONTRACT_KEYS)


def test_the_fill_holds_no_face_an_enrolment_would_refuse_as_a_duplicate(
    real: dict[str, np.ndarray], model: fill.FillModel
) -> None:
    existing = np.concatenate(list(real.values()))
    threshold = float(np.quantile(fill.impostor_distances(real), 1e-4))
    people = fill.distinct_people(model, 60, 3, existing, threshold, seed=6)
    assert people.shape == (60, 3, 128)
    assert pairwise_distances(people.reshape(-1, 128), existing).min() > threshold
    for i in range(60):
        others = np.delete(people, i, axis=0).reshape(-1, 128)
        assert pairwise_distances(people[i], others).min() > threshold


def test_the_report_never_holds_nan() -> None:
    assert json_safe({"a": float("nan"), "b": [1.0, float("inf")], "c": {"d": 2}}) == {
        "a": None,
        "b": [1.0, None],
        "c": {"d": 2},
    }


def test_residents_show_their_own_card_and_strangers_a_resident_s_of_that_building() -> None:
    residents = {"ann": 0, "bob": 0, "cy": 1}
    clips = [Clip(who, (b"jpeg",)) for who in ("ann", "cy", "stranger", "other stranger")]
    shown = {c.who: c.card for c in shown_cards(clips, residents, building=0)}
    assert shown["ann"] == card_of("ann")
    assert shown["cy"] == card_of("cy")  # a resident at another building's door: their own
    assert {shown["stranger"], shown["other stranger"]} == {card_of("ann"), card_of("bob")}
    assert len({card_of(n) for n in ("ann", "bob", "cy")}) == 3


def test_an_edge_gate_reads_each_presentation_s_card_with_its_frames(tmp_path: Path) -> None:
    clips = [Clip("ann", (b"a", b"a"), "CARD-ANN"), Clip("someone", (b"s",), None)]
    ranges = write_gate_frames(tmp_path, "door", clips, gap_frames=1, total=10, seed=0)
    cards = read_cards(tmp_path)
    for start, end, who in ranges:
        expected = {i: "CARD-ANN" for i in range(start, end)} if who == "ann" else {}
        assert {i: c for i, c in cards.items() if start <= i <= end} == expected
    presented: list[str] = []

    class Frames:
        description = "frames"

        def __init__(self) -> None:
            self.index = 0

        def read(self) -> Frame | None:
            if self.index >= 10:
                return None
            self.index += 1
            return Frame(np.zeros((2, 2, 3), np.uint8), self.index - 1, 0.0)

        def close(self) -> None: ...

    source = WithCards(Frames(), cards, presented.append)
    while source.read() is not None:
        pass
    assert presented == [cards[i] for i in sorted(cards)]
    assert read_cards(tmp_path / "nothing here") == {}


def test_an_edge_gate_reports_a_watched_card_once_it_is_in_its_snapshot() -> None:
    held = {"cards": {"C-1": "p"}}
    snapshot = lambda: SimpleNamespace(access=SimpleNamespace(cards=dict(held["cards"])))  # noqa: E731
    rows: list[dict[str, object]] = []
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch_cards, args=(snapshot, "BENCH-", rows.append, stop, 0.001)
    )
    watcher.start()
    time.sleep(0.05)
    assert rows == []  # other cards are not watched
    held["cards"] = {"C-1": "p", "BENCH-000002": "staff"}
    deadline = time.monotonic() + 5
    while not rows and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.02)
    stop.set()
    watcher.join()
    assert [r["cards"] for r in rows] == [["BENCH-000002"]]  # once, not on every look


def test_a_change_reaches_the_edge_gates_when_the_last_one_has_it() -> None:
    first = EdgeRun("d1", None, [], 5.0)  # type: ignore[arg-type]
    second = EdgeRun("d2", None, [], 5.0)  # type: ignore[arg-type]
    first.cards_seen["BENCH-1"], second.cards_seen["BENCH-1"] = 100.4, 101.5
    assert edges_reach([first, second], "BENCH-1", 100.0, threading.Event()) == pytest.approx(1.5)
    missing = edges_reach([first, second], "BENCH-2", time.time(), threading.Event(), 0.1)
    assert missing is None


def test_the_fill_draws_on_past_twenty_batches_while_they_keep_people(
    real: dict[str, np.ndarray], model: fill.FillModel
) -> None:
    existing = np.concatenate(list(real.values()))
    people = fill.distinct_people(model, 30, 3, existing, 0.3, seed=6, batch=1)
    assert people.shape == (30, 3, 128)  # a 25,000-resident fill needs ~50 batches of 512


def test_a_changes_reach_is_timed_by_asking_the_doors_at_once() -> None:
    keys = {f"door-{n}": f"key-{n}" for n in range(8)}
    together = threading.Barrier(len(keys), timeout=10.0)  # the timeout: a hang guard
    in_flight, peak = [0], [0]
    lock = threading.Lock()

    def busy_door(request: httpx.Request) -> httpx.Response:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        # One decision at a busy door: it ends once every door is asked. Asked in turn,
        # the first waits out the guard and the rest find the barrier broken.
        with contextlib.suppress(threading.BrokenBarrierError):
            together.wait()
        with lock:
            in_flight[0] -= 1
        return httpx.Response(200, json={"granted": False, "reason": "no_face"})

    reach = reach_every_door(
        "http://site",
        keys,
        "C1",
        time.time(),
        threading.Event(),
        60.0,
        httpx.MockTransport(busy_door),
    )
    assert reach is not None
    assert peak[0] == len(keys), f"at most {peak[0]} of 8 doors asked at once"
    assert not together.broken
