"""One enrolment with the duplicate check on a large site kept by ``bench/snapshot_scale.py``.

The site (SQLite) and its key (``<file>.key``) come from an earlier
``snapshot_scale.py --people N --url sqlite:///<file>`` run. A new resident is added
with consent, enrolled with one photo (a fixed descriptor) through
:func:`facegate.services.enrollment.enroll` and its duplicate check, and erased again.
``--warm`` first builds a door's snapshot in this process, as the server has (its
template cache then holds the gallery's templates). Prints the enrolment's CPU and wall
seconds and the load average.

    PYTHONPATH=src .venv/bin/python bench/enrol_scale.py --url sqlite:////tmp/snap25k.db [--warm]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from facegate.domain.matching import FloatArray
from facegate.domain.people import ConsentMethod, ConsentPurpose, Role
from facegate.gate.store_upstream import StoreUpstream
from facegate.services import people, rights
from facegate.services.consent import grant_consent
from facegate.services.enrollment import enroll
from kept_site import open_site
from snapshot_scale import MODEL, POLICY, Clock


class Describer:
    """Describes any photo as one fixed unit vector."""

    model_id = MODEL

    def describe(self, path: object) -> FloatArray:
        """The fixed descriptor."""
        vector = np.random.default_rng(7).normal(size=128).astype(np.float32)
        return (vector / np.linalg.norm(vector)).astype(np.float32)


def run(url: str, warm: bool) -> dict[str, object]:
    """Enrol one person on the kept site; the enrolment's CPU and wall seconds."""
    site = open_site(url)
    store, sealer, context = site.store, site.sealer, site.context
    if warm:
        upstream = StoreUpstream(lambda: store, sealer, Clock(), MODEL, POLICY)
        upstream.poll_snapshot("g", site.door, None)
    person = people.add_person(context, "Newcomer", Role.RESIDENT).id
    grant_consent(context, person, ConsentPurpose.FACE_ACCESS, "v1", ConsentMethod.WRITTEN)
    cpu, wall = time.process_time(), time.perf_counter()
    enroll(context, sealer, Describer, person, [Path("a.jpg")])
    result: dict[str, object] = {
        "warm": warm,
        "enrol_cpu_s": round(time.process_time() - cpu, 2),
        "enrol_wall_s": round(time.perf_counter() - wall, 2),
        "load": os.getloadavg()[0],
    }
    rights.erase_person(context, person)
    store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="sqlite:////tmp/snapbench.db")
    parser.add_argument("--warm", action="store_true", help="build a snapshot first")
    args = parser.parse_args()
    print(json.dumps(run(args.url, args.warm)), flush=True)


if __name__ == "__main__":
    main()
