"""``facegate bench site``: one complex under load, on SQLite or PostgreSQL.

Order of a run: a fresh site (``facegate site init``, a scratch database for
PostgreSQL), the real people described and the fill fitted, the complex populated
through the services (:mod:`facegate.sitebench.setup`), ``facegate serve`` started, the
edge gates started, then for ``duration_s`` the kiosks, edge gates, console user,
snapshot puller and writer at once; then the ramp (unpaced kiosks) for the saturation
rate; then, with ``stills_s``, a second server with liveness off for the photo people
(reported apart) (:mod:`facegate.sitebench.phases`); last the FPIR of the real strangers
against the gallery as stored.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

from facegate.bootstrap import build_sealer
from facegate.config import Settings
from facegate.domain.matching import pairwise_distances
from facegate.services.identification import load_gallery
from facegate.sitebench import fill as fill_model
from facegate.sitebench import report
from facegate.sitebench.phases import main_phase, stills_phase
from facegate.sitebench.processes import scratch_postgres, site_env, site_init
from facegate.sitebench.setup import Built, Say, SiteBenchOptions, build

__all__ = ["SiteBenchOptions", "run_site_bench"]

FACE_ONLY_VARIABLE = "FACEGATE_MATCHING__MAX_FPIR"
"""Set to 1 for the site's processes in a ``--face-only`` run."""


@contextmanager
def _database(backend: str) -> Iterator[str | None]:
    if backend == "postgresql":
        with scratch_postgres() as url:
            yield url
    else:
        with nullcontext():
            yield None


def run_site_bench(options: SiteBenchOptions, say: Say) -> dict[str, object]:
    """Run the whole bench; the report (the contract's keys and more)."""
    folder = (
        nullcontext(str(options.work_dir))
        if options.work_dir is not None
        else tempfile.TemporaryDirectory(prefix="facegate-bench-site-")
    )
    with folder as tmp, _database(options.backend) as db_url:
        root = Path(tmp)
        (root / "site").mkdir(parents=True)
        env = site_env(root / "site", options.cache_dir, db_url, options.liveness)
        settings = Settings(data_dir=root / "site", cache_dir=options.cache_dir, db_url=db_url)
        if options.face_only:  # a face alone names someone at the 1:1 threshold
            env[FACE_ONLY_VARIABLE] = "1"
            matching = dataclasses.replace(settings.matching, max_fpir=1.0)
            settings = settings.model_copy(update={"matching": matching})
        site_init(env)
        built = build(options, settings, say)
        try:
            result = main_phase(options, built, env, root, say)
            if options.stills_s > 0:
                result["stills"] = stills_phase(options, built, env, root, say)
            result.update(_fpir(built))
            result["populate"] = built.populate
        finally:
            built.store.close()
    head = {
        "backend": options.backend,
        "residents": options.residents,
        "doors": "face_or_card" if options.face_only else "face_and_card",
        **report.machine(),
    }
    tail = {"liveness": options.liveness, "duration_s": options.duration_s}
    safe = report.json_safe({**head, **result, **tail})
    return safe if isinstance(safe, dict) else {}


def _fpir(built: Built) -> dict[str, object]:
    """Real strangers' images searched in the gallery as stored (and the fill's fit)."""
    policy, _ = built.settings.match_policy(built.model_id)
    gallery = load_gallery(built.context, build_sealer(built.settings), built.model_id)
    probes = built.cast.stranger_vectors()
    searched = [gallery.search(p, policy) for p in probes]  # the 1:N threshold for its size
    matched = sum(found.matched for found, _ in searched)
    limit = searched[0][1] if searched else None
    groups = built.cast.groups()
    measured = fill_model.impostor_distances(groups)
    real = np.concatenate(list(groups.values()))
    drawn = built.fill.people(300, 1, 7)[:, 0, :]
    synthetic = pairwise_distances(drawn, real).ravel()
    return {
        "stranger_fpir": round(matched / len(probes), 4) if len(probes) else None,
        "stranger_probes": len(probes),
        "real_residents": len(built.real),
        "real_refused_as_duplicates": built.cast.refused,
        "gallery_templates": len(gallery),
        "threshold": policy.threshold,
        "identification_threshold": limit,
        "max_fpir": policy.max_fpir,
        "min_margin": policy.min_margin,
        "fill_fit": {
            "scale": round(built.fill.scale, 3),
            "ks": round(built.fill.ks, 4),
            "real_impostor_fmr": round(fill_model.fraction_below(measured, policy.threshold), 5),
            "synthetic_to_real_fmr": round(
                fill_model.fraction_below(synthetic, policy.threshold), 5
            ),
        },
    }
