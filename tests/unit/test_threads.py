from __future__ import annotations

import cv2
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from facegate.vision import threads as threads_module
from facegate.vision.threads import limit_threads


def test_limit_threads_caps_opencv_and_blas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads_module, "_set_to", [])  # as in a fresh process
    opencv_before = cv2.getNumThreads()
    blas_before = {pool["internal_api"]: pool["num_threads"] for pool in threadpool_info()}
    try:
        assert limit_threads(1) == 1
        assert cv2.getNumThreads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    finally:
        cv2.setNumThreads(opencv_before)
        threadpool_limits(limits=blas_before)


def test_the_pools_are_set_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server builds one engine per worker thread: only the first may resize the pools.

    Resizing OpenBLAS's or OpenCV's pool while another worker computes in it corrupted
    the server's heap under load (``malloc(): invalid size``).
    """
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(threads_module, "_set_to", [])
    monkeypatch.setattr(threads_module.cv2, "setNumThreads", lambda n: calls.append(("cv", n)))
    monkeypatch.setattr(
        threads_module, "threadpool_limits", lambda limits: calls.append(("blas", limits))
    )
    assert limit_threads(1) == 1
    assert limit_threads(2) == 1  # the size in force, pools untouched
    assert limit_threads(1) == 1
    assert calls == [("cv", 1), ("blas", 1)]


def test_limit_threads_refuses_zero() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        limit_threads(0)
