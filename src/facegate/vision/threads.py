"""The compute threads of a gate process, set in one place (sized for a 2-core box).

A gate decides one frame at a time; libraries that each start one worker per core
(OpenCV, the BLAS under numpy, ONNX Runtime's intra-op pool, TFLite) then fight over
two cores with each other and with the camera's decoder. :func:`limit_threads` caps
OpenCV and BLAS for the whole process; the ONNX Runtime session and the FaceMesh
interpreter take the same number when they are built (``bootstrap_gate``).
"""

from __future__ import annotations

import cv2
from threadpoolctl import threadpool_limits


def limit_threads(threads: int) -> int:
    """Cap OpenCV's and the BLAS libraries' thread pools for this process.

    Args:
        threads: threads per pool (at least 1; typical 1 on a 2-core gate, leaving the
            other core to decoding, liveness and the outbox).

    Returns:
        ``threads``, for the pools built afterwards (ONNX Runtime, TFLite).

    Raises:
        ValueError: ``threads`` is below 1.
    """
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    cv2.setNumThreads(threads)
    threadpool_limits(limits=threads)
    return threads
