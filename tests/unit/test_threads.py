from __future__ import annotations

import cv2
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from facegate.vision.threads import limit_threads


def test_limit_threads_caps_opencv_and_blas() -> None:
    opencv_before = cv2.getNumThreads()
    blas_before = {pool["internal_api"]: pool["num_threads"] for pool in threadpool_info()}
    try:
        assert limit_threads(1) == 1
        assert cv2.getNumThreads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    finally:
        cv2.setNumThreads(opencv_before)
        threadpool_limits(limits=blas_before)


def test_limit_threads_refuses_zero() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        limit_threads(0)
