"""The console's people and rules lists come a page at a time, in a fixed number of queries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import time
from typing import Any

from pages import log_in
from sqlalchemy import event

from api_site import Site
from facegate.domain.access import TimeWindow
from facegate.domain.people import ConsentMethod, ConsentPurpose, Role
from facegate.services import people, places
from facegate.services.consent import grant_consent
from facegate.services.paging import PAGE_SIZE
from facegate.store.unit_of_work import SqlStore

ROW = re.compile(r'<tr data-person="[^"]+">')
RULE = re.compile(r'<tr data-rule="[^"]+">')


def add_people(site: Site, count: int, start: int = 0) -> None:
    """``count`` residents named ``Resident NNN``; every tenth gives face consent."""
    for n in range(start, start + count):
        person = people.add_person(site.context, f"Resident {n:03d}", Role.RESIDENT)
        if n % 10 == 0:
            grant_consent(
                site.context, person.id, ConsentPurpose.FACE_ACCESS, "v1", ConsentMethod.WRITTEN
            )


@contextmanager
def counting(site: Site) -> Iterator[list[str]]:
    """The SQL statements run on the site's engine while the block runs."""
    store = site.deps.store
    assert isinstance(store, SqlStore)
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def test_people_come_fifty_to_a_page_with_the_total(site: Site) -> None:
    add_people(site, 118)  # with the site's two residents: 120
    client, _ = log_in(site, "operator")
    first = client.get("/console/people").text
    assert PAGE_SIZE == 50
    assert len(ROW.findall(first)) == 50
    assert "120 in all" in first
    assert "Page 1 of 3" in first
    assert 'rel="next" href="?page=2"' in first
    assert 'rel="prev"' not in first
    third = client.get("/console/people?page=3").text
    assert len(ROW.findall(third)) == 20
    assert 'rel="prev" href="?page=2"' in third
    assert 'rel="next"' not in third
    beyond = client.get("/console/people?page=9")
    assert beyond.status_code == 200
    assert ROW.findall(beyond.text) == []
    assert "No one on this page." in beyond.text
    assert client.get("/console/people?page=0").status_code == 422
    assert client.get("/console/people?q=" + "x" * 201).status_code == 422


def test_the_name_search_filters_and_the_links_keep_it(site: Site) -> None:
    add_people(site, 118)
    client, _ = log_in(site, "operator")
    found = client.get("/console/people?q=resident 01").text  # case-insensitive substring
    assert len(ROW.findall(found)) == 10
    assert "10 in all" in found
    assert "Ann Lee" not in found
    assert "Ann Lee" in client.get("/console/people?q=ANN").text
    many = client.get("/console/people?q=resident").text
    assert 'href="?page=2&amp;q=resident"' in many
    assert ROW.findall(client.get("/console/people?q=%25").text) == []  # no LIKE wildcard
    with site.context.store.unit_of_work() as uow:
        last = uow.audit.all()[-1]
    assert last.action == "person.list"
    assert "resident" not in str(last.details)  # the search is personal data: not audited


def test_a_page_of_people_costs_the_same_queries_however_many_people(site: Site) -> None:
    client, _ = log_in(site, "operator")
    add_people(site, 58)  # 60 people in all
    client.get("/console/people")  # warm any first-use reads
    with counting(site) as sixty:
        assert client.get("/console/people").status_code == 200
    add_people(site, 60, start=58)  # 120
    with counting(site) as hundred_twenty:
        assert client.get("/console/people").status_code == 200
    assert len(hundred_twenty) == len(sixty), hundred_twenty
    assert len(sixty) < 30


def test_rules_come_fifty_to_a_page(site: Site) -> None:
    window = TimeWindow(frozenset({0}), time(6), time(22))
    for _ in range(60):
        places.add_access_rule(site.context, [window], role=Role.RESIDENT, floors=[1])
    client, _ = log_in(site, "operator")
    first = client.get("/console/rules").text
    assert len(RULE.findall(first)) == 50
    assert "60 in all" in first
    second = client.get("/console/rules?page=2").text
    assert len(RULE.findall(second)) == 10
    assert 'rel="prev" href="?page=1"' in second
    assert client.get("/console/rules?page=0").status_code == 422
