"""What the API fuzz tests share: the operations, who asks, and real ids in generated cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from hypothesis import strategies as st

from facegate.api.router import api_router
from fuzz_site import FuzzSite, upload_images

DEVICE_ONLY = frozenset(
    {
        ("POST", "/api/v1/doors/{door_id}/frames"),
        ("POST", "/api/v1/doors/{door_id}/credentials"),
        ("GET", "/api/v1/gates/{gate_id}/snapshot"),
        ("GET", "/api/v1/gates/{gate_id}/mode"),
        ("POST", "/api/v1/gates/{gate_id}/events"),
        ("POST", "/api/v1/gates/{gate_id}/frame"),
        ("POST", "/api/v1/gates/{gate_id}/snapshots"),
    }
)


def _operations() -> dict[tuple[str, str], bool]:
    """Every operation of the document, and whether it takes any input."""
    app = FastAPI()  # the routes only: building the real app needs its dependencies
    app.include_router(api_router())
    document = app.openapi()
    return {
        (method.upper(), path): bool(spec.get("parameters") or spec.get("requestBody"))
        for path, methods in document["paths"].items()
        for method, spec in methods.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }


TAKES_INPUT = _operations()
UPLOADS = upload_images()
OPERATIONS = sorted(TAKES_INPUT, key=lambda op: (op[1], op[0]))


def principals(method: str, path: str) -> list[str]:
    """Who sends an operation's requests: the device key, a resident, the administrator."""
    if (method, path) in DEVICE_ONLY:
        return ["edge" if path.startswith("/api/v1/gates/") else "kiosk", "admin"]
    if path.startswith("/api/v1/me/") or path == "/api/v1/me":
        return ["ann", "admin"]
    return ["admin"]


def _swap(
    value: Any, name: str, ids: dict[str, list[str]], choose: Callable[[list[Any]], Any]
) -> Any:
    """``value``, or a real id for ``name`` when the fuzzer says so."""
    real = ids.get(name)
    if not real or not choose([False, True]):
        return value
    if isinstance(value, list):
        return [choose(real)]
    return choose(real)


ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=5,
)


def realistic(case: Any, fuzz: FuzzSite, data: st.DataObject) -> None:
    """Swap some generated values for real ones (in place)."""

    def choose(options: list[Any]) -> Any:
        return data.draw(st.sampled_from(options))

    for name, value in list((case.path_parameters or {}).items()):
        case.path_parameters[name] = _swap(value, name, fuzz.ids, choose)
    for name, value in list((case.query or {}).items()):
        case.query[name] = _swap(value, name, fuzz.ids, choose)
    if isinstance(case.body, dict):
        for name, value in list(case.body.items()):
            if name in {"file", "files"} and choose([False, True]):
                image = choose(UPLOADS)
                case.body[name] = [image] if isinstance(value, list) else image
            else:
                case.body[name] = _swap(value, name, fuzz.ids, choose)
    if case.operation.path.endswith("/events") and isinstance(case.body, dict) and choose([0, 1]):
        event = fuzz.event_json()
        if choose([False, True]):
            event[choose(sorted(event))] = data.draw(ANY_JSON)
        case.body = {"events": [event]}


def credentials(fuzz: FuzzSite, who: str) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and cookies of ``who``: ``kiosk`` or ``edge`` (the door's keys) or a user."""
    if who in {"kiosk", "edge"}:
        key = fuzz.kiosk_secret if who == "kiosk" else fuzz.edge_secret
        return {"X-Device-Key": key}, {}
    return fuzz.session(who)
