"""The command line starts light: heavy libraries load only in the commands that use them.

Each probe runs in a fresh interpreter, so what another test imported does not count.
"""

from __future__ import annotations

import os
import subprocess
import sys

HEAVY = (
    "sklearn",
    "scipy",
    "matplotlib",
    "cv2",
    "dlib",
    "onnxruntime",
    "ai_edge_litert",
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "pydantic",  # the settings; Typer itself loads it for a group's --help
    "facegate.bootstrap",
    "facegate.vision.engine",
)


def _loaded(code: str) -> list[str]:
    probe = (
        f"import sys\n{code}\n"
        f"print('LOADED:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "100"},
    )
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith("LOADED:"), done.stdout
    return [name for name in line.removeprefix("LOADED:").split(",") if name]


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert _loaded("import facegate.cli") == []


def test_help_and_version_load_no_heavy_library() -> None:
    for argv in (["--version"], ["--help"], ["liveness", "--help"], ["bench", "--help"]):
        code = (
            "import facegate.cli\n"
            f"sys.argv = ['facegate', *{argv!r}]\n"
            "try:\n    facegate.cli.main()\nexcept SystemExit:\n    pass\n"
        )
        loaded = _loaded(code)
        if argv[0] != "--version" and argv != ["--help"]:
            loaded = [name for name in loaded if name != "pydantic"]
        assert loaded == [], argv


def test_the_liveness_check_module_leaves_scikit_learn_unloaded() -> None:
    # A gate with the motion cue alone (the default) never needs scikit-learn.
    loaded = _loaded("import facegate.vision.liveness.check")
    assert "sklearn" not in loaded
    assert "scipy" not in loaded
