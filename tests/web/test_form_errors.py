"""Errors in place: every console form, posted with bad input, answers on its own page.

The walk reads every console page of a populated site (as an administrator, who sees
every form), posts each form once with every field wrong (too long, not a number, a
choice not offered) and checks the answer: the form's page (HTML, not JSON), a message
next to a field or on top of the form, and the typed values back in their fields.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from pages import log_in
from populated import console_walker, populate, walk_console

from api_site import Site
from facegate.domain.gate import GateEvent, GateEventKind
from facegate.services.alarm_log import alarm_recorder
from facegate.services.alarms import AlarmFeed, AlarmService
from facegate.web.form_errors import FormProblem, mark_form

TOO_LONG = 5000
"""Characters sent to a text field with no ``maxlength`` (longer than any limit)."""


@dataclass
class Form:
    """A posted form on a page: where it posts and its fields."""

    action: str
    page: str
    fields: list[dict[str, str]] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=dict)


class Forms(HTMLParser):
    """The ``method="post"`` forms of a page, their inputs, selects and textareas."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {k: v or "" for k, v in attrs}
        if tag == "form" and named.get("method", "").lower() == "post":
            self._form = Form(named.get("action", ""), self.page)
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "select", "textarea") and "name" in named:
            self._form.fields.append({"tag": tag, **named})
            self._select = named["name"] if tag == "select" else None
        elif self._form is not None and tag == "option" and self._select is not None:
            self._form.options.setdefault(self._select, []).append(named.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        if tag == "select":
            self._select = None


def _bad(spec: dict[str, str]) -> str | None:
    """A wrong value for the field ``spec`` (``None``: leave it out)."""
    kind = spec.get("type", "text")
    if kind in ("hidden", "submit", "button", "file", "password"):
        return None
    if spec["tag"] == "select" or kind in ("checkbox", "radio"):
        return "no-such-choice"
    if kind == "number":
        return "many"
    if kind in ("date", "time", "datetime-local"):
        return "not-a-date"
    limit = int(spec.get("maxlength") or TOO_LONG)
    return "x" * (limit + 1)


def _forms(pages: dict[str, str]) -> dict[str, Form]:
    """One form per posting path shape (ids replaced), from every page walked."""
    found: dict[str, Form] = {}
    for url, page in pages.items():
        parser = Forms(url)
        parser.feed(page)
        for form in parser.forms:
            shape = re.sub(r"[0-9a-f-]{36}", "{id}", form.action)
            shape = re.sub(r"/alarms/[^/]+/", "/alarms/{key}/", shape)
            if form.action.startswith("/console") and shape not in found:
                found[shape] = form
    return found


def _with_work(site: Site) -> None:
    """An alarm to acknowledge and a resident's request in the queue (their forms)."""
    site.deps.alarms = AlarmService([], AlarmFeed(), record=alarm_recorder(site.context))
    made = populate(site)
    now = site.deps.clock.now()
    forced = GateEvent("forced-1", "north-1", GateEventKind.DOOR_FORCED_OPEN, made.entrance_id, now)
    site.deps.alarms.raise_event(forced)
    ann, csrf = log_in(site, "ann")
    assert ann.post("/portal/export-request", data={"csrf_token": csrf}).status_code == 200


def test_every_console_form_answers_bad_input_beside_the_field(site: Site) -> None:
    _with_work(site)
    client = console_walker(site, "en")
    pages = walk_console(client)
    pages["/console/requests"] = client.get("/console/requests").text
    forms = _forms(pages)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console").text)
    assert csrf is not None
    checked = []
    for shape, form in sorted(forms.items()):
        data = {"csrf_token": csrf.group(1)}
        data |= {f["name"]: v for f in form.fields if (v := _bad(f)) is not None}
        if len(data) == 1:
            continue  # a button alone (withdraw, revoke): nothing to get wrong
        headers = {"Referer": f"https://testserver{form.page}"}
        answer = client.post(form.action, data=data, headers=headers, follow_redirects=False)
        assert answer.status_code in (404, 409, 422), (shape, answer.status_code, answer.text[:300])
        assert answer.headers["content-type"].startswith("text/html"), shape
        assert 'class="field-error"' in answer.text or 'id="form-error"' in answer.text, shape
        typed = [v for k, v in data.items() if k != "csrf_token" and v.startswith("x")]
        for value in typed:
            assert f'value="{value}"' in answer.text or f">{value}</textarea>" in answer.text, (
                shape,
                value[:20],
            )
        checked.append(shape)
    assert len(checked) >= 12, checked
    for expected in (
        "/console/gates",
        "/console/people",
        "/console/rules",
        "/console/alarms/{key}/ack",
        "/console/requests/{id}/refuse",
    ):
        assert expected in checked, checked


def test_a_chinese_page_says_what_is_wrong_in_chinese_and_keeps_no_password(site: Site) -> None:
    client, csrf = log_in(site, "admin")
    client.cookies.set("facegate_lang", "zh")
    person = f"/console/people/{site.resident_id}"
    data = {"csrf_token": csrf, "username": "u" * 65, "password": "secret-typed-here"}
    answer = client.post(f"{person}/account", data=data, headers={"Referer": person})
    assert answer.status_code == 422
    assert "太长：最多 64 个字符。" in answer.text
    assert 'value="' + "u" * 65 + '"' in answer.text
    assert "secret-typed-here" not in answer.text


def test_marking_puts_values_back_and_messages_beside_their_fields() -> None:
    page = (
        '<form method="post" action="/a"><input name="q"></form>'
        '<form method="post" action="/b"><label>N <input name="n" value="1"></label>'
        '<select name="s"><option value="1" selected>one</option><option value="2">two</option>'
        '</select><textarea name="t">old</textarea><input type="password" name="p"></form>'
    )
    problem = FormProblem(
        {"n": "bad <n>"},
        "whole form",
        {"n": '7"><b>', "s": "2", "t": "new", "p": "pw"},
        {"s": ["2"]},
    )
    marked = mark_form(page, "/b", problem)
    assert marked is not None
    assert marked.startswith('<form method="post" action="/a"><input name="q"></form>')
    assert f'value="{html.escape(chr(55) + chr(34) + "><b>")}"' in marked
    assert 'aria-invalid="true"' in marked
    assert '<span class="field-error" role="alert" id="error-n">bad &lt;n&gt;</span>' in marked
    assert '<option value="2" selected>' in marked
    assert '<option value="1">' in marked
    assert '<textarea name="t">new</textarea>' in marked
    assert 'id="form-error">whole form</p>' in marked
    assert "pw" not in marked
    assert mark_form(page, "/c", problem) is None


def test_a_resident_s_portal_form_answers_in_place_too(site: Site) -> None:
    ann, csrf = log_in(site, "ann")
    data = {"csrf_token": csrf, "visitor_name": "v" * 201, "hours": "24"}
    answer = ann.post("/portal/passes", data=data, headers={"Referer": "/portal"})
    assert answer.status_code == 422
    assert 'id="error-visitor_name"' in answer.text
    assert 'value="' + "v" * 201 + '"' in answer.text
