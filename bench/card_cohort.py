"""Face + card: does the rest of the gallery tell a lent card from the holder's own face?

At a face + card door (``all_of``) the face is checked 1:1 against the card holder's
templates at the 1:1 threshold (0.57). A stranger whose face is within 0.57 of the
holder's passes (the site bench's ``nuaa/0007`` was granted so at an edge gate; its
nearest resident, ``yale/subject04``, is 0.38 away).
This measures a cohort rule that also looks at the *other* people of the door's gallery,
with the site bench's own cast (:func:`facegate.sitebench.people.cast`: the same real
residents, strangers and presented images, descriptors cached) and its own fill (fitted
and drawn as ``facegate bench site`` draws it, to ``--residents`` in all): grant only
when the mean distance of the ``k`` nearest other people exceeds the claimed person's
distance by at least ``t`` (``k`` 1: the nearest other person alone, a margin; ``t`` < 0
lets others be up to ``-t`` nearer), for ``k`` in 1, 5, 20.

The real people are split per set (``split_people``, ``--seed``) into a *choose* half and
a *report* half. For each ``k``, ``t`` is chosen on the choose half: the strictest value
whose genuine refusals stay within ``--max-refused`` on photos and on video captures
apart; of the three, the one granting the fewest lent-card pairs on the choose half
(then the fewest genuine refusals, then the smallest ``k``) is the chosen rule, reported
on the report half. Counted per half (presenter and card holder both of it): genuine
presentations (a resident's own image with their own card) refused; strangers'
(stranger, resident) pairs with a lent card granted by some presented image, and those
images; residents holding another resident's card (a card swap) granted. Video (NUAA and
the two videos) and photos apart. The gallery holds every resident (real and fill), as a
door's does; ``real_only`` repeats it with the real residents alone.

Finally every genuine and lent-card presentation of the whole cast (the bench's
``nuaa/0007`` case included) is replayed through :func:`facegate.domain.policy.decide`
with the shipped rule (``--cohort-share``, ``--cohort-margin``), which must agree with the
sweep's counts.

    FACEGATE_CACHE_DIR=/tmp/cache PYTHONPATH=src python bench/card_cohort.py \
        --data ../shared/data [--residents 2000] [--seed 0] [--all-frames]

``--all-frames`` describes every frame of the video clips (not only the first, as the
bench's cache holds), a few minutes once, then cached.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from facegate.bootstrap import build_engine
from facegate.config import Settings
from facegate.domain.access import AccessRule, TimeWindow, WeeklySchedule
from facegate.domain.matching import (
    DEFAULT_COHORT_MARGIN,
    DEFAULT_COHORT_SHARE,
    DEFAULT_MATCH_THRESHOLD,
    Gallery,
    MatchPolicy,
    pairwise_distances,
)
from facegate.domain.people import Role
from facegate.domain.policy import (
    AccessData,
    FaceEvidence,
    PersonAccess,
    Presentation,
    SiteMode,
    Target,
    decide,
)
from facegate.domain.site import CredentialKind, CredentialMode
from facegate.services.dispense_rates import split_people
from facegate.sitebench import fill as fill_model
from facegate.sitebench import population
from facegate.sitebench.corpus import Corpus, RealPerson
from facegate.sitebench.load import Clip
from facegate.sitebench.people import Cast, cast
from facegate.sitebench.phases import shown_cards
from facegate.vision.engine import FaceEngine

Matrix = npt.NDArray[np.float64]
COHORT_SIZES = (1, 5, 20)
MARGINS = tuple(round(float(t), 2) for t in np.arange(-0.10, 0.305, 0.01))
KEEP = [21]
"""Nearest people kept per image: the largest cohort plus the claimed person (raised by
:func:`main` when the shipped share of a large gallery is more than 20 people)."""


@dataclass
class Images:
    """The presented images: their descriptors' distances to every gallery person.

    Attributes:
        who: the real person presenting each image.
        keys: each image's key (the descriptor cache's).
        video: whether each image is a camera frame (NUAA, the videos) or a photo.
        claimed_to: each image's distance to every real resident (columns: ``residents``).
        nearest: each image's ``KEEP`` nearest gallery people (column positions).
        nearest_d: their distances (ascending).
    """

    who: list[str]
    keys: list[str]
    video: npt.NDArray[np.bool_]
    claimed_to: Matrix
    nearest: npt.NDArray[np.int64]
    nearest_d: Matrix
    _rows: dict[tuple[str, bool], npt.NDArray[np.int64]] = field(default_factory=dict)

    def rows(self, name: str, video: bool) -> npt.NDArray[np.int64]:
        """The images of ``name`` of one kind (camera frames or photos)."""
        if not self._rows:
            grouped: dict[tuple[str, bool], list[int]] = {}
            for i, (n, v) in enumerate(zip(self.who, self.video.tolist(), strict=True)):
                grouped.setdefault((n, bool(v)), []).append(i)
            self._rows = {k: np.array(v, np.int64) for k, v in grouped.items()}
        return self._rows.get((name, video), np.empty(0, np.int64))


def _per_person(images: Matrix, templates: Matrix, starts: npt.NDArray[np.int64]) -> Matrix:
    """Each image's distance to each person (their nearest template), chunked by images."""
    parts = [
        np.minimum.reduceat(pairwise_distances(images[i : i + 64], templates), starts, axis=1)
        for i in range(0, len(images), 64)
    ]
    return np.concatenate(parts) if parts else np.empty((0, len(starts)))


def _presented(people: Cast) -> list[tuple[RealPerson, str]]:
    """Every presented image with a descriptor, with its person.

    The first frame of each clip as the bench describes them, or every frame of the
    video clips after ``--all-frames`` described them (:func:`_describe_frames`).
    """
    return [
        (p, key)
        for p in (*people.video, *people.photos)
        for clip in p.probes
        for key in clip
        if key in people.vectors
    ]


def _describe_frames(people: Cast, corpus: Corpus, engine: FaceEngine) -> None:
    """Describe every frame of the video people's clips (cached beside the bench's)."""
    keys = [k for p in people.video for clip in p.probes for k in clip]
    people.vectors.update(corpus.descriptors(engine, keys))


def _images(people: Cast, residents: list[str], fill: Matrix) -> Images:
    by_name = {p.name: p for p in (*people.video, *people.photos)}
    rows = [people.vectors[k] for n in residents for k in people.enrol_keys(by_name[n])]
    counts = [len(people.enrol_keys(by_name[n])) for n in residents] + [fill.shape[1]] * len(fill)
    templates = np.concatenate([np.asarray(rows, np.float64), fill.reshape(-1, 128)])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    shown = _presented(people)
    vectors = np.asarray([people.vectors[k] for _, k in shown], np.float64)
    distances = _per_person(vectors, templates, starts)
    order = np.argsort(distances, axis=1)[:, : KEEP[0]]
    return Images(
        [p.name for p, _ in shown],
        [k for _, k in shown],
        np.array([p.video for p, _ in shown]),
        distances[:, : len(residents)],
        order.astype(np.int64),
        np.take_along_axis(distances, order, axis=1),
    )


def _others(images: Images, rows: npt.NDArray[np.int64], claimed: int) -> Matrix:
    """The ``KEEP - 1`` nearest *other* people's distances of ``rows`` (claimed left out)."""
    near, dist = images.nearest[rows], images.nearest_d[rows]
    keep = near != claimed
    # Rows where the claimed person is not among the kept lose their last (farthest) one.
    keep[keep.all(axis=1), -1] = False
    return dist[keep].reshape(len(rows), KEEP[0] - 1)


Rule = Callable[[npt.NDArray[np.float64], Matrix], npt.NDArray[np.bool_]]


def cohort_rule(k: int, t: float) -> Rule:
    """Grant when the ``k`` nearest others' mean exceeds the claimed distance by ``t``."""
    return lambda claimed, others: (
        (claimed <= DEFAULT_MATCH_THRESHOLD) & (others[:, :k].mean(axis=1) - claimed >= t - 1e-9)
    )


def threshold_only(claimed: npt.NDArray[np.float64], others: Matrix) -> npt.NDArray[np.bool_]:
    """Today's 1:1 check: the claimed person within the threshold, nothing else."""
    return np.asarray(claimed <= DEFAULT_MATCH_THRESHOLD, np.bool_)


@dataclass
class Half:
    """The people of one half: residents (column positions) and strangers."""

    residents: list[int]
    strangers: set[str]


def _count(images: Images, half: Half, names: list[str], rule: Rule) -> dict[str, object]:
    """Genuine refusals, lent-card grants and card-swap grants of ``half`` under ``rule``."""
    out: dict[str, object] = {}
    for kind, video in (("video", True), ("photos", False)):
        genuine = [0, 0]
        lent = {"pairs": 0, "pairs_granted": 0, "images": 0, "images_granted": 0}
        swap = {"pairs": 0, "pairs_granted": 0}
        for c in half.residents:
            own = images.rows(names[c], video)
            if len(own):
                ok = rule(images.claimed_to[own, c], _others(images, own, c))
                genuine[0] += int((~ok).sum())
                genuine[1] += len(own)
            for s in (*half.strangers, *(names[r] for r in half.residents if r != c)):
                rows = images.rows(s, video)
                if not len(rows):
                    continue
                ok = rule(images.claimed_to[rows, c], _others(images, rows, c))
                tally = lent if s in half.strangers else swap
                tally["pairs"] += 1
                tally["pairs_granted"] += int(ok.any())
                if s in half.strangers:
                    lent["images"] += len(rows)
                    lent["images_granted"] += int(ok.sum())
        out[kind] = {
            "genuine_refused": genuine[0],
            "genuine": genuine[1],
            "genuine_refused_share": round(genuine[0] / genuine[1], 4) if genuine[1] else None,
            "lent_card": lent,
            "card_swap": swap,
        }
    return out


def _share(counted: dict[str, object], kind: str) -> float:
    part = counted[kind]
    assert isinstance(part, dict)
    share = part["genuine_refused_share"]
    return 0.0 if share is None else float(share)


def _choose(
    images: Images, half: Half, names: list[str], k: int, limit: float
) -> tuple[float, dict[str, object]] | None:
    """The strictest ``t`` for ``k`` whose genuine refusals stay within ``limit`` on video
    and on photos apart (``None`` when even the most lenient one does not)."""
    chosen = None
    for t in MARGINS:
        counted = _count(images, half, names, cohort_rule(k, t))
        if _share(counted, "video") <= limit and _share(counted, "photos") <= limit:
            chosen = (t, counted)
    return chosen


def _granted_pairs(counted: dict[str, object], part: str = "lent_card") -> int:
    total = 0
    for kind in ("video", "photos"):
        tally = counted[kind]
        assert isinstance(tally, dict)
        total += int(tally[part]["pairs_granted"])
    return total


def _refused(counted: dict[str, object]) -> int:
    total = 0
    for kind in ("video", "photos"):
        tally = counted[kind]
        assert isinstance(tally, dict)
        total += int(tally["genuine_refused"])
    return total


def _sweep(
    images: Images, halves: dict[str, Half], names: list[str], limit: float
) -> dict[str, object]:
    """Today's counts, each ``k``'s choice on the choose half, the chosen rule's report."""
    part: dict[str, object] = {
        "today": {n: _count(images, h, names, threshold_only) for n, h in halves.items()}
    }
    candidates = []
    for k in COHORT_SIZES:
        chosen = _choose(images, halves["choose"], names, k, limit)
        if chosen is None:
            part[f"k{k}"] = None
            continue
        t, counted = chosen
        report = _count(images, halves["report"], names, cohort_rule(k, t))
        part[f"k{k}"] = {"t": t, "choose": counted, "report": report}
        candidates.append(((_granted_pairs(counted), _refused(counted), k), k, t))
    if candidates:
        _, k, t = min(candidates)
        part["chosen"] = {"k": k, "t": t}
        part["choose_sweep"] = {
            str(x): _count(images, halves["choose"], names, cohort_rule(k, x)) for x in MARGINS[::2]
        }
    return part


def _bench_rotation(
    people: Cast, residents: list[str], images: Images, rule: Rule
) -> dict[str, object]:
    """The site bench's own lent cards (:func:`facegate.sitebench.phases.shown_cards`).

    At a door of each building the bench presents every clip (video: the first 4 clips
    of each person, at the 4 buildings' doors; photos: the first 2 of each, at the
    kiosks of buildings 1 and 2), its residents' clips twice, and lends each stranger the
    card of a real resident of that building in turn. Counted: lent-card clips, those
    with some frame granted, and frames granted (each granted clip as [building,
    stranger, card holder, frames granted]); residents' own clips with some frame
    refused, and frames refused.
    """
    position = {name: i for i, name in enumerate(residents)}
    holder_of = {population.card_of(n): n for n in residents}
    row_of = {key: i for i, key in enumerate(images.keys)}
    out: dict[str, object] = {}
    for kind, video, per_person, buildings in (("video", True, 4, 4), ("photos", False, 2, 2)):
        group = people.video if video else people.photos
        clips = [(p.name, clip) for p in group for clip in p.probes[:per_person]]
        tally: dict[str, object] = {}
        counts = dict.fromkeys(
            ("lent_clips", "clips_granted", "frames", "frames_granted", "own_clips"), 0
        )
        counts.update(own_clips_refused=0, own_frames=0, own_frames_refused=0)
        granted: list[list[object]] = []
        for building in range(buildings):
            mine = [c for c in clips if people.residents.get(c[0]) == building]
            rotation = [*clips, *mine]
            lent = shown_cards([Clip(who, ()) for who, _ in rotation], people.residents, building)
            for (who, keys), shown in zip(rotation, lent, strict=True):
                rows = np.array([row_of[k] for k in keys if k in row_of], np.int64)
                if shown.card is None or not len(rows):
                    continue
                claimed = position[holder_of[shown.card]]
                ok = rule(images.claimed_to[rows, claimed], _others(images, rows, claimed))
                if who in people.residents:
                    counts["own_clips"] += 1
                    counts["own_clips_refused"] += int(not ok.all())
                    counts["own_frames"] += len(rows)
                    counts["own_frames_refused"] += int((~ok).sum())
                    continue
                counts["lent_clips"] += 1
                counts["clips_granted"] += int(ok.any())
                counts["frames"] += len(rows)
                counts["frames_granted"] += int(ok.sum())
                if ok.any():  # building numbered from 1 as the bench names doors
                    granted.append([building + 1, who, holder_of[shown.card], int(ok.sum())])
        tally.update(counts)
        tally["granted"] = granted
        out[kind] = tally
    return out


def _access(
    residents: list[str], fill: Matrix, people: Cast, share: float, margin: float | None
) -> AccessData:
    by_name = {p.name: p for p in (*people.video, *people.photos)}
    gallery = Gallery()
    for name in residents:
        gallery.add(name, [people.vectors[k] for k in people.enrol_keys(by_name[name])])
    for i, templates in enumerate(fill):
        gallery.add(f"fill-{i}", np.asarray(templates, np.float32))
    always = WeeklySchedule("UTC", (TimeWindow(frozenset(range(7)), time(0), time(23, 59)),))
    rule = AccessRule("all", always, role=Role.RESIDENT, door_ids=frozenset({"door"}))
    match = MatchPolicy(DEFAULT_MATCH_THRESHOLD, 0.06, cohort_margin=margin, cohort_share=share)
    return AccessData(
        mode=SiteMode.NORMAL,
        people={n: PersonAccess(Role.RESIDENT) for n in residents},
        gallery=gallery,
        match=match,
        cards={population.card_of(n): n for n in residents},
        rules=(rule,),
    )


CASE = ("nuaa/0007", "yale/subject04")
"""The stranger granted in the site bench and its nearest resident (bench/card_lookalikes.py)."""


def _replay(people: Cast, residents: list[str], data: AccessData) -> dict[str, object]:
    """Every genuine and lent-card image of the whole cast through the policy itself."""
    door = Target(
        "door", frozenset({CredentialKind.FACE, CredentialKind.CARD}), CredentialMode.ALL_OF
    )
    now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    reasons: dict[str, dict[str, int]] = {"genuine": {}, "lent_card": {}}
    case: list[object] = []
    for person, key in _presented(people):
        face = FaceEvidence(descriptor=people.vectors[key])
        own = person.name in residents
        for holder in [person.name] if own else residents:
            shown = Presentation(face=face, card_number=population.card_of(holder))
            decision = decide(shown, door, data, now)
            tally = reasons["genuine" if own else "lent_card"]
            tally[decision.reason.value] = tally.get(decision.reason.value, 0) + 1
            if (person.name, holder) == CASE:
                scores = {k: round(v, 4) for k, v in decision.scores.items()}
                case.append([decision.reason.value, scores])
    return {"reasons": reasons, f"{CASE[0]} with {CASE[1]}'s card": case}


def _margin(text: str) -> float | None:
    """A cohort margin from the command line (``none``: the rule off)."""
    return None if text.lower() == "none" else float(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-refused", type=float, default=0.01)
    parser.add_argument("--cohort-share", type=float, default=DEFAULT_COHORT_SHARE)
    parser.add_argument("--cohort-margin", type=_margin, default=DEFAULT_COHORT_MARGIN)
    parser.add_argument("--all-frames", action="store_true")
    args = parser.parse_args()
    settings = Settings()
    engine = build_engine(settings)
    corpus = Corpus(args.data, settings.cache_dir)
    people = cast(corpus, engine, 5, 20, population.BUILDINGS)
    if args.all_frames:
        _describe_frames(people, corpus, engine)
    residents = _enrolled(people, settings.matching.duplicate_threshold)
    model = fill_model.fit(people.groups(), args.seed)
    count = max(0, args.residents - len(residents))
    drawn = fill_model.distinct_people(
        model, count, 3, _templates(people, residents), 0.35, args.seed
    )
    everyone = [p.name for p in (*people.video, *people.photos)]
    choose, report = split_people(dict.fromkeys(everyone, ()), args.seed)
    sides = {"choose": set(choose), "report": set(report), "all": set(everyone)}
    halves = {
        name: Half([i for i, r in enumerate(residents) if r in side], side - set(residents))
        for name, side in sides.items()
    }
    result: dict[str, object] = {
        "residents": {"real": len(residents), "fill": len(drawn)},
        "halves": {
            n: {"residents": len(h.residents), "strangers": len(h.strangers)}
            for n, h in halves.items()
        },
        "max_refused": args.max_refused,
    }
    policy = MatchPolicy(
        DEFAULT_MATCH_THRESHOLD,
        0.06,
        cohort_margin=args.cohort_margin,
        cohort_share=args.cohort_share,
    )
    for gallery, fill in (("site", drawn), ("real_only", drawn[:0])):
        k = policy.cohort_count(len(residents) + len(fill) - 1)
        KEEP[0] = max(21, k + 1)
        shipped = (
            threshold_only if args.cohort_margin is None else cohort_rule(k, args.cohort_margin)
        )
        images = _images(people, residents, np.asarray(fill, np.float64))
        part = _sweep(images, halves, residents, args.max_refused)
        part["shipped_rule"] = {"share": args.cohort_share, "k": k, "t": args.cohort_margin}
        part["shipped"] = {n: _count(images, h, residents, shipped) for n, h in halves.items()}
        part["bench_rotation"] = {
            "today": _bench_rotation(people, residents, images, threshold_only),
            "shipped": _bench_rotation(people, residents, images, shipped),
        }
        c = residents.index(CASE[1])
        rows = images.rows(CASE[0], True)
        others = _others(images, rows, c)
        part["case_lead_by_k"] = {
            str(n): np.round(others[:, :n].mean(axis=1) - images.claimed_to[rows, c], 4).tolist()
            for n in (*COHORT_SIZES, k)
        }
        result[gallery] = part
    data = _access(residents, drawn, people, args.cohort_share, args.cohort_margin)
    result["replay"] = _replay(people, residents, data)
    print(json.dumps(result, indent=1))


def _templates(people: Cast, residents: list[str]) -> npt.NDArray[np.float32]:
    by_name = {p.name: p for p in (*people.video, *people.photos)}
    return np.stack([people.vectors[k] for n in residents for k in people.enrol_keys(by_name[n])])


def _enrolled(people: Cast, threshold: float) -> list[str]:
    """The real residents the bench enrols (in order; a duplicate enrolment is refused)."""
    kept: list[str] = []
    for name in list(people.residents):
        mine = _templates(people, [name])
        if kept and pairwise_distances(mine, _templates(people, kept)).min() <= threshold:
            people.residents.pop(name)
            people.refused.append(name)
            continue
        kept.append(name)
    return kept


if __name__ == "__main__":
    main()
