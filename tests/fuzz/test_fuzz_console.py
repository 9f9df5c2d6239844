"""Hypothesis over the pages' forms and queries (not in the OpenAPI document): no 5xx.

Every route of the console, the portal, login, reset, kiosk and notice pages is found
from the routers themselves (a new form is fuzzed without editing this file). Each
example fills the route's form fields and query parameters from generated text, the
site's real ids and enum values, and hostile values (NUL, 70,000 characters, 10^30,
``nan``, ``1e400``, dates at the ends of the calendar, bytes that are not UTF-8), leaves
some fields out and repeats others, and posts it logged in (the administrator; the
resident ``ann`` on the portal) with the session's CSRF token (left out now and then).
A CSV import gets generated CSV files (see ``test_fuzz_imports``).
"""

from __future__ import annotations

import os
import re
import typing
import urllib.parse
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from api_site import PASSWORD
from facegate.http.security import CSRF_FIELD
from facegate.services import accounts
from facegate.web.pages import PAGE_MODULES
from fuzz_site import LOGIN_CSRF, FuzzSite, fuzz_settings
from fuzz_values import CSV_BYTES

pytestmark = pytest.mark.fuzz

FORM_EXAMPLES = int(os.environ.get("FACEGATE_FUZZ_EXAMPLES", "50")) * 3 // 5
"""Examples per route that takes a form or a query."""
PLAIN_EXAMPLES = 5
"""Examples per route that takes nothing (the CSRF token and path ids still vary)."""

ODD_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "x" * 201,
    "x" * 2001,
    "x" * 70_000,
    "9999-12-31",
    "0001-01-01",
    "2026-01-01",
    "2026-02-30",
    "10000-01-01",
    "24:00",
    "23:59",
    "99:99",
    "nan",
    "inf",
    "-inf",
    "1e400",
    "-1",
    "0",
    "-0",
    str(10**30),
    f"-{10**30}",
    "2147483648",
    "9223372036854775808",
    "1,2,3",
    "-1, 0, 1",
    ",".join(str(i) for i in range(600)),
    f"{10**30},1",
    "true",
    "on",
    "../x",
    "%00",
    "\u202e\ufeff",
]
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
VALUE = st.one_of(
    TEXT,
    st.sampled_from(ODD_TEXT),
    st.integers().map(str),
    st.floats().map(repr),
    st.binary(max_size=12),
)


@dataclass(frozen=True)
class Field:
    """A form field or query parameter of a page route."""

    name: str
    choices: tuple[str, ...]
    is_list: bool
    is_file: bool


@dataclass(frozen=True)
class PageRoute:
    """A page route and what it reads."""

    method: str
    path: str
    form: tuple[Field, ...]
    query: tuple[Field, ...]
    path_params: tuple[str, ...]

    @property
    def takes_input(self) -> bool:
        return bool(self.form or self.query or self.path_params)


def _field(param: Any) -> Field:
    annotation = param.field_info.annotation
    is_list = typing.get_origin(annotation) is list or "list[" in str(annotation)
    enums = [
        a
        for a in (annotation, *typing.get_args(annotation), *_inner(annotation))
        if isinstance(a, type) and issubclass(a, Enum)
    ]
    choices = tuple(str(m.value) for e in enums for m in e)
    if annotation is bool:
        choices = ("true", "false", "on", "1", "0")
    is_file = "UploadFile" in str(annotation)
    return Field(param.alias or param.name, choices, is_list, is_file)


def _inner(annotation: Any) -> list[Any]:
    return [i for a in typing.get_args(annotation) for i in typing.get_args(a)]


def _params(dependant: Any, kind: str) -> list[Any]:
    found = list(getattr(dependant, kind))
    for sub in dependant.dependencies:
        found += _params(sub, kind)
    return found


def _routes() -> list[PageRoute]:
    found = []
    for module in PAGE_MODULES:  # every module the app mounts, so a new page is fuzzed too
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            dependant = route.dependant
            for method in sorted(route.methods):
                found.append(
                    PageRoute(
                        method,
                        route.path,
                        tuple(_field(p) for p in _params(dependant, "body_params")),
                        tuple(_field(p) for p in _params(dependant, "query_params")),
                        tuple(p.name for p in _params(dependant, "path_params")),
                    )
                )
    return found


ROUTES = _routes()


def _digits(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(str)


PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "start": st.times().map(lambda t: t.strftime("%H:%M")),
    "end": st.times().map(lambda t: t.strftime("%H:%M")),
    "since": st.dates().map(str),
    "until": st.dates().map(str),
    "floors": st.lists(st.integers(-5, 60), min_size=1, max_size=6).map(
        lambda floors: ", ".join(map(str, floors))
    ),
    "days": _digits(0, 6),
    "hours": st.floats(0.01, 200).map(str),
    "uses": _digits(1, 20),
    "before_seq": _digits(1, 50),
    "password": st.sampled_from([PASSWORD, "Another-long-passphrase-42", "short"]),
    "confirm": st.sampled_from([PASSWORD, "Another-long-passphrase-42", "short"]),
    "next": st.sampled_from(["/", "/console/people", "//evil.example", "https://evil.example/"]),
    "outcome": st.sampled_from(["granted", "refused", ""]),
    "code": st.sampled_from(["en", "zh", "xx"]),
    "number": st.from_regex(r"[0-9A-Z-]{1,20}", fullmatch=True),
    "username": st.from_regex(r"[a-z][a-z0-9_.]{0,15}", fullmatch=True),
}
"""Values a field of that name usually gets (so that most examples pass validation)."""
NAME = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=30)


def _plausible(field: Field, ids: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    known = [*field.choices, *ids.get(field.name, []), *ids.get(field.name + "s", [])]
    known += ids.get(field.name.removesuffix("s"), [])
    options = [st.sampled_from(known)] if known else []
    if field.name in PLAUSIBLE:
        options.append(PLAUSIBLE[field.name])
    return st.one_of(*options) if options else NAME


def _pairs(
    fields: tuple[Field, ...], ids: dict[str, list[str]], data: st.DataObject
) -> list[tuple[str, Any]]:
    """Form or query pairs: plausible values, one field (or none) hostile."""
    hostile = data.draw(st.sampled_from([None, *(f.name for f in fields)]))
    pairs: list[tuple[str, Any]] = []
    for field in fields:
        if field.is_file:
            continue
        most = 3 if field.is_list else 1
        count = data.draw(st.sampled_from([1, most, most, most, 0, 2]))
        values = VALUE if field.name == hostile else _plausible(field, ids)
        pairs += [(field.name, data.draw(values)) for _ in range(count)]
    return pairs


def _url(route: PageRoute, ids: dict[str, list[str]], data: st.DataObject) -> str:
    path = route.path
    for name in route.path_params:
        value = data.draw(st.one_of(st.sampled_from(ids.get(name, ["x"])), TEXT))
        path = path.replace("{" + name + "}", urllib.parse.quote(value, safe=""))
    return path


def _send(
    client: TestClient, route: PageRoute, fuzz: FuzzSite, csrf: str, data: st.DataObject
) -> Any:
    ids = fuzz.ids
    url = _url(route, ids, data)
    # A URL over httpx's 65,536 characters never leaves the client: shorter ones only.
    fitting = [(k, v) for k, v in _pairs(route.query, ids, data) if len(v) < 8_000]
    query = urllib.parse.urlencode(fitting)
    url = f"{url}?{query}" if query else url
    if route.method == "GET":
        return client.get(url, follow_redirects=False)
    pairs = _pairs(route.form, ids, data)
    token = data.draw(st.sampled_from([csrf] * 8 + ["", "wrong"]))
    if token:
        pairs.append((CSRF_FIELD, token))
    files = [f for f in route.form if f.is_file]
    if files:
        upload = {files[0].name: ("people.csv", data.draw(CSV_BYTES), "text/csv")}
        text_pairs = {k: v if isinstance(v, str) else v.decode("latin-1") for k, v in pairs}
        return client.post(url, data=text_pairs, files=upload, follow_redirects=False)
    body = urllib.parse.urlencode(pairs).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return client.post(url, content=body, headers=headers, follow_redirects=False)


def _client(fuzz: FuzzSite, route: PageRoute) -> tuple[TestClient, str]:
    user = "ann" if route.path.startswith("/portal") else "admin"
    client, csrf = fuzz.page_session(user)
    found = LOGIN_CSRF.search(client.get("/login").text)
    if found is not None:
        fuzz.ids["login_csrf"] = [found.group(1)]
    context = fuzz.site.context
    fuzz.ids["token"] = [accounts.reset_token_for_person(context, fuzz.site.resident_id)]
    return client, csrf


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
def test_page_route_never_answers_a_server_error(fuzz_site: FuzzSite, route: PageRoute) -> None:
    client, csrf = _client(fuzz_site, route)

    @fuzz_settings(FORM_EXAMPLES if route.form or route.query else PLAIN_EXAMPLES)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        answer = _send(client, route, fuzz_site, csrf, data)
        text = re.sub(r"\s+", " ", answer.text)[:300]
        assert answer.status_code < 500, (
            f"{route.method} {answer.request.url} answered {answer.status_code}: {text}"
        )

    check()


def test_every_form_is_found() -> None:
    posts = {r.path for r in ROUTES if r.method == "POST"}
    assert {"/console/people", "/console/rules", "/portal/passes", "/login"} <= posts
    rules = next(r for r in ROUTES if r.path == "/console/rules" and r.method == "POST")
    assert {f.name for f in rules.form} >= {"door_ids", "days", "start", "end"}
    assert any(f.is_list for f in rules.form)
