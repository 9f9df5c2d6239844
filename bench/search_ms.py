"""The search part of ``facegate bench gate`` alone: ``search_ms`` with more repeats.

Runs :func:`facegate.gate.bench.search_ms` (median ms of one ``Gallery.identify`` in
galleries of random unit templates, 3 per person, index built before timing) with the
BLAS pool at ``--threads`` (the gate's ``FACEGATE_GATE__THREADS``, default 1) and prints
the same JSON object as the bench's ``search_ms`` key, plus the load average before and
after. Point ``PYTHONPATH`` at another tree's ``src`` to time its search the same way.

    PYTHONPATH=src python bench/search_ms.py [--repeats 51] [--threads 1]
        [--sizes 1000,50000,1000000]
"""

from __future__ import annotations

import argparse
import json
import os

from threadpoolctl import threadpool_limits

from facegate.gate.bench import SEARCH_SIZES, search_ms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=51)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sizes", default=",".join(str(s) for s in SEARCH_SIZES))
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    before = round(os.getloadavg()[0], 2)
    with threadpool_limits(limits=args.threads):
        result = search_ms(sizes, args.repeats)
    after = round(os.getloadavg()[0], 2)
    print(json.dumps({"search_ms": result, "load_before": before, "load_after": after}))


if __name__ == "__main__":
    main()
