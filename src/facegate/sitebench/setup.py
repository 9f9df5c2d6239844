"""The bench's site, built: the real people described, the fill fitted, the complex populated."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from facegate.bootstrap import SystemClock, build_engine, build_sealer, build_store
from facegate.config import Settings
from facegate.domain.errors import DuplicateFaceError
from facegate.domain.site import CredentialMode
from facegate.ports import TemplateSealer
from facegate.services.context import ServiceContext
from facegate.services.enrollment import DuplicateCheck
from facegate.sitebench import fill as fill_model
from facegate.sitebench import population, report
from facegate.sitebench.corpus import Corpus, RealPerson
from facegate.sitebench.people import Cast, cast
from facegate.store.unit_of_work import SqlStore

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class SiteBenchOptions:
    """What to run (defaults: the issue's default load).

    ``face_only``: face-or-card doors and faces alone at ``max_fpir`` 1 (1:N at the 1:1
    threshold); by default doors take face and card together, as shipped.
    """

    data: Path
    cache_dir: Path
    backend: Literal["sqlite", "postgresql"] = "sqlite"
    residents: int = 2000
    templates: int = 3
    duration_s: float = 120.0
    kiosks: int = 2
    kiosk_fps: float = 5.0
    gates: int = 2
    gate_fps: float = 5.0
    writer_interval_s: float = 5.0
    video_step: int = 5
    clip_frames: int = 20
    gap_frames: int = 12
    stills_s: float = 30.0
    ramp_step_s: float = 8.0
    settle_s: float = 2.0
    liveness: str = "motion"
    seed: int = 0
    work_dir: Path | None = None
    face_only: bool = False


@dataclass
class Built:
    """The populated site (``populate``: seconds drawing and writing the fill)."""

    settings: Settings
    store: SqlStore
    context: ServiceContext
    corpus: Corpus
    cast: Cast
    layout: population.Layout
    describer: population.CachedDescriber
    fill: fill_model.FillModel
    fill_residents: list[population.Resident]
    real: dict[str, population.Resident]
    staff_id: str
    keys: dict[str, str]
    roster: report.Roster
    model_id: str
    populate: dict[str, float]


def build(options: SiteBenchOptions, settings: Settings, say: Say) -> Built:
    """Describe the real people, fit the fill, and populate the site through the services."""
    engine = build_engine(settings)
    say(f"describing the real people (cached in {options.cache_dir / 'sitebench'}) ...")
    corpus = Corpus(options.data, options.cache_dir)
    people = cast(corpus, engine, options.video_step, options.clip_frames, population.BUILDINGS)
    model = fill_model.fit(people.groups(), options.seed)
    say(f"fill fitted: scale {model.scale:.2f}, KS {model.ks:.3f}; populating ...")
    store = build_store(settings)
    context = ServiceContext(store=store, clock=SystemClock(), actor="bench:site")
    sealer = build_sealer(settings)
    describer = population.CachedDescriber(engine.model_id, dict(people.vectors))
    mode = CredentialMode.ANY_OF if options.face_only else CredentialMode.ALL_OF
    layout = population.build_layout(context, mode)
    roster = report.Roster()
    check = DuplicateCheck(settings.matching.duplicate_threshold)
    real = _enrol_real(context, sealer, describer, layout, people, roster, check)
    count = max(0, options.residents - len(real))
    enrolled = [people.vectors[k] for n in real for k in people.enrol_keys(_person(people, n))]
    began = time.perf_counter()
    drawn = fill_model.distinct_people(
        model, count, options.templates, np.stack(enrolled), check.threshold, options.seed
    )
    drawn_at = time.perf_counter()
    fill_residents = population.add_fill(
        context, sealer, engine.model_id, layout, drawn, _progress(count, say)
    )
    populate = {
        "fill_draw_s": round(drawn_at - began, 1),
        "fill_write_s": round(time.perf_counter() - drawn_at, 1),
    }
    staff = population.add_staff(context, layout)
    door_keys = population.issue_keys(context, layout)
    say(f"site ready: {len(real)} real and {count} synthetic residents")
    parts = (corpus, people, layout, describer, model, fill_residents, real, staff, door_keys)
    return Built(settings, store, context, *parts, roster, engine.model_id, populate)


def _progress(count: int, say: Say) -> Callable[[int], None]:
    def progress(done: int) -> None:
        if done % 2500 == 0 or done == count:
            say(f"  {done} of {count} synthetic residents")

    return progress


def _person(people: Cast, name: str) -> RealPerson:
    return next(p for p in (*people.video, *people.photos) if p.name == name)


def _enrol_real(
    context: ServiceContext,
    sealer: TemplateSealer,
    describer: population.CachedDescriber,
    layout: population.Layout,
    people: Cast,
    roster: report.Roster,
    check: DuplicateCheck,
) -> dict[str, population.Resident]:
    """Enrol the real residents (with the duplicate check); refused ones become strangers."""
    real = {}
    for name, building in list(people.residents.items()):
        keys = people.enrol_keys(_person(people, name))
        try:
            real[name] = population.add_resident(
                context, sealer, describer, layout, name, keys, building, check
            )
        except DuplicateFaceError:
            people.residents.pop(name)
            people.refused.append(name)
            continue
        roster.set(name, building, time.time())
    return real
