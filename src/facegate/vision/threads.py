"""The compute threads of a gate process, set in one place (sized for a 2-core box).

A gate decides one frame at a time; libraries that each start one worker per core
(OpenCV, the BLAS under numpy, ONNX Runtime's intra-op pool, TFLite) then fight over
two cores with each other and with the camera's decoder. :func:`limit_threads` caps
OpenCV and BLAS for the whole process; the ONNX Runtime session and the FaceMesh
interpreter take the same number when they are built (``bootstrap_gate``).

The pools are set once per process, before any worker computes: resizing OpenBLAS's or
OpenCV's pool while another thread runs in it corrupts the heap (a server that built one
engine per worker thread, each call resizing the pools, died with ``malloc(): invalid
size`` under the site bench's load).
"""

from __future__ import annotations

import threading

import cv2
from threadpoolctl import threadpool_limits

_set_to: list[int] = []
"""The pool size this process was given (empty until :func:`limit_threads` first runs)."""
_setting = threading.Lock()


def limit_threads(threads: int) -> int:
    """Cap OpenCV's and the BLAS libraries' thread pools for this process.

    Args:
        threads: threads per pool (at least 1; typical 1 on a 2-core gate, leaving the
            other core to decoding, liveness and the outbox).

    Only the first call of a process touches the pools; later calls (one per engine a
    worker thread builds) return the size already set and leave the running pools alone.

    Returns:
        the pool size in force, for the pools built afterwards (ONNX Runtime, TFLite).

    Raises:
        ValueError: ``threads`` is below 1.
    """
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    with _setting:
        if not _set_to:
            cv2.setNumThreads(threads)
            threadpool_limits(limits=threads)
            _set_to.append(threads)
        return _set_to[0]
