"""Values a schema-following generator never sends, in every operation's JSON body and query.

Schemathesis generates valid JSON text of valid Unicode. An attacker sends more: lone
surrogates (``"\\ud800"``), ``NaN`` and ``Infinity`` (Python's ``json`` reads them),
numbers past any float or 64-bit integer, dates without a time zone or at the ends of
the calendar, NUL, very long strings, and objects or lists where a string goes. Each
example takes a schema-conforming request (schemathesis, positive mode) of one operation,
puts one such value at one place (a body field, a list item, the body itself or a query
parameter), and sends it as the administrator (the kiosk or edge key on the gate-only
operations). No answer may be a 5xx.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from fuzz_api_support import OPERATIONS, TAKES_INPUT, credentials, documented, principals, realistic
from fuzz_site import FuzzSite, fuzz_settings

schemathesis = pytest.importorskip("schemathesis", reason="pip install schemathesis")

pytestmark = pytest.mark.fuzz

HOSTILE_EXAMPLES = int(os.environ.get("FACEGATE_FUZZ_EXAMPLES", "50")) // 2
"""Hostile examples per operation."""
BIG = "\x00BIG\x00"
"""Stands for a number literal JSON allows but no float holds (``1e400``)."""

HOSTILE_TEXT = st.sampled_from(
    [
        "\ud800",
        "a\udfffb",
        "\x00",
        "name\x00x",
        "x" * 201,
        "x" * 70_000,
        "2026-01-01",
        "2026-01-01T00:00:00",
        "9999-12-31T23:59:59",
        "9999-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00+00:00",
        "0001-01-01T00:00:00-23:59",
        "2026-02-30T00:00:00Z",
        "NaN",
        "1e400",
        "-0",
        "99999999999999999999999",
        "../../etc/passwd",
        "%00",
        "\u202e\ufeff",
    ]
)
HOSTILE_JSON = st.one_of(
    HOSTILE_TEXT,
    st.sampled_from([float("nan"), float("inf"), float("-inf"), BIG, -(10**30), 10**30]),
    st.sampled_from([2**63, -(2**63) - 1, 2**64, 1e308, -1e-320, True, None]),
    st.sampled_from([{}, [], {"$gt": ""}, [[[[[]]]]], ["x"] * 1000]),
)


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value a hostile value can go (the root too)."""
    places = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            places += _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            places += _leaves(item, (*path, index))
    return places


def _put(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    value[path[0]] = _put(value[path[0]], path[1:], new)
    return value


def _encode(body: Any) -> bytes:
    text = json.dumps(body, allow_nan=True)  # ensure_ascii: lone surrogates as \\ud800
    return text.replace(json.dumps(BIG), "1e400").encode()


def _send(client: TestClient, headers: dict[str, str], case: Any, data: st.DataObject) -> Any:
    path = case.formatted_path
    query = dict(case.query or {})
    targets = ["query"] * bool(query) + ["body"] * (case.media_type == "application/json")
    where = data.draw(st.sampled_from(targets or ["query"]))
    content = None
    if where == "body":
        body = case.body if isinstance(case.body, dict | list) else {}
        place = data.draw(st.sampled_from(_leaves(body)))
        content = _encode(_put(body, place, data.draw(HOSTILE_JSON)))
        headers = {**headers, "Content-Type": "application/json"}
    else:
        name = data.draw(st.sampled_from(sorted(query) or ["since"]))
        query[name] = data.draw(HOSTILE_TEXT.filter(_fits_a_url))
    return client.request(case.method, path, params=query, content=content, headers=headers)


def _fits_a_url(text: str) -> bool:
    """Whether ``text`` goes into a URL (no lone surrogate, shorter than httpx allows)."""
    try:
        return len(text.encode()) < 10_000
    except UnicodeEncodeError:
        return False


HOSTILE_OPERATIONS = [op for op in OPERATIONS if TAKES_INPUT[op]]


@pytest.mark.parametrize(
    ("method", "path"), HOSTILE_OPERATIONS, ids=[f"{m} {p}" for m, p in HOSTILE_OPERATIONS]
)
def test_hostile_values_get_no_server_error(fuzz_site: FuzzSite, method: str, path: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", documented(fuzz_site.site.app()))
    operation = schema[path][method]
    strategy = operation.as_strategy()
    who = principals(method, path)[0]
    headers, cookies = credentials(fuzz_site, who)
    client = fuzz_site.site.client()
    client.cookies.update(cookies)

    @fuzz_settings(HOSTILE_EXAMPLES)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        case = data.draw(strategy)
        realistic(case, fuzz_site, data)
        if operation.path == "/api/v1/events/stream":
            case.query = {**(case.query or {}), "duration_s": 0}
        if operation.path == "/api/v1/gates/{gate_id}/mode":
            case.query = {**(case.query or {}), "wait_s": 0}
        answer = _send(client, headers, case, data)
        assert answer.status_code < 500, (
            f"{method} {answer.request.url} answered {answer.status_code}: {answer.text[:300]}"
        )

    check()
