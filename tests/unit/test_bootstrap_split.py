"""Ordinary CLI commands do not load the gate stack (MQTT, HTTP upstream, runner)."""

from __future__ import annotations

import subprocess
import sys

GATE_STACK = (
    "facegate.bootstrap_gate",
    "facegate.gate.mqtt",
    "facegate.gate.http_upstream",
    "facegate.gate.runner",
    "facegate.gate.store_upstream",
    "paho",
    "httpx",
)


def test_importing_the_cli_leaves_the_gate_stack_unloaded() -> None:
    probe = (
        "import sys, facegate.cli, facegate.bootstrap\n"
        f"print(','.join(m for m in {GATE_STACK!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == ""


def test_the_gate_builder_module_brings_the_gate_stack() -> None:
    probe = (
        "import sys, facegate.bootstrap_gate\n"
        f"print(','.join(m for m in {GATE_STACK!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == ",".join(GATE_STACK)
