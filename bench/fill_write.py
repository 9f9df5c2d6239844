"""Seconds to write the site bench's synthetic fill (``population.add_fill``) into a fresh site.

Only the write is timed (the fill's vectors are random unit vectors here: the cost of
enrolment does not depend on them). A fresh SQLite file (or PostgreSQL URL), a fresh
site key, the bench's layout (4 buildings, 20 doors, 4 lifts), then ``--residents``
residents of ``--templates`` templates through the services' own steps.

    PYTHONPATH=src .venv/bin/python bench/fill_write.py --residents 2000 \
        --url sqlite:////tmp/fillbench.db [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from facegate.services import site_admin
from facegate.services.context import ServiceContext
from facegate.sitebench import population
from facegate.store.crypto import AesGcmSealer, generate_key
from facegate.store.database import create_db_engine, upgrade
from facegate.store.unit_of_work import SqlStore

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


class Clock:
    """A fixed clock."""

    def now(self) -> datetime:
        """The bench's moment."""
        return NOW


def run(url: str, residents: int, templates: int, profile: bool) -> dict[str, object]:
    """Fill a fresh site; the write's wall and CPU seconds and the load average."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    engine = create_db_engine(url)
    upgrade(engine)
    store = SqlStore(engine)
    context = ServiceContext(store=store, clock=Clock(), actor="bench:fill")
    site_admin.init_site(context, "Bench", "UTC")
    layout = population.build_layout(context)
    sealer = AesGcmSealer(generate_key())
    rng = np.random.default_rng(0)
    fill = rng.standard_normal((residents, templates, 128)).astype(np.float32)
    fill /= np.linalg.norm(fill, axis=2, keepdims=True)
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    population.add_fill(context, sealer, "bench-model", layout, fill)
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    result: dict[str, object] = {
        "backend": engine.dialect.name,
        "residents": residents,
        "templates": residents * templates,
        "write_s": round(time.perf_counter() - wall, 2),
        "write_cpu_s": round(time.process_time() - cpu, 2),
        "load": os.getloadavg()[0],
    }
    store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="sqlite:////tmp/fillbench.db")
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--templates", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run(args.url, args.residents, args.templates, args.profile)), flush=True)


if __name__ == "__main__":
    main()
