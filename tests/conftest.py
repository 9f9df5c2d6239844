"""Shared fixtures: where the real face data is, and an engine on the real models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from facegate.bootstrap import build_engine
from facegate.config import Settings
from facegate.vision.engine import FaceEngine

SHARED_DATA = Path(
    os.environ.get("FACEGATE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real face data of ../shared/data; tests that need it skip where it is absent."""
    if not (SHARED_DATA / "faces").is_dir():
        pytest.skip(f"real face data not found at {SHARED_DATA} (set FACEGATE_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def session_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary cache directory shared by the session (converted once, never the user's)."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _isolated_state(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    session_cache_dir: Path,
) -> None:
    """No test reads or writes the user's real data or cache directory."""
    for name in list(os.environ):
        if name.startswith("FACEGATE_") and name != "FACEGATE_SHARED_DATA":
            monkeypatch.delenv(name)
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.setenv("FACEGATE_CACHE_DIR", str(session_cache_dir))


@pytest.fixture(scope="session")
def engine(session_cache_dir: Path) -> FaceEngine:
    """The default face engine on the real models (loaded once per test session)."""
    return build_engine(Settings(cache_dir=session_cache_dir))
