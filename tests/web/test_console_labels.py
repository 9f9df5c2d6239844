"""Names everywhere: no id shown as a label on any console page, no raw enum on a zh page."""

from __future__ import annotations

import re

import pytest
from pages import log_in
from populated import console_walker, populate, visible, walk_console

from api_site import Site
from facegate.services import accounts
from facegate.web.labels import ENUMS, UUID

TOKEN = re.compile(r"[A-Za-z0-9_.\-]+")
RAW_ENUM_VALUES = frozenset(m.value for _, enum in ENUMS for m in enum)
"""Every stored enum value: none may stand as a word on a Chinese page."""


def test_no_console_page_shows_an_id_as_a_label(site: Site) -> None:
    made = populate(site)
    pages = walk_console(console_walker(site, "en"))
    assert len(pages) >= 12, sorted(pages)
    assert any(url.startswith("/console/people/") for url in pages)
    for url, html in pages.items():
        text = " | ".join(visible(html).parts)
        found = UUID.search(text)
        shown = text[max(found.start() - 80, 0) : found.end() + 40] if found else ""
        assert found is None, f"{url} shows an id as a label: ...{shown}..."
    events = pages["/console/events"]
    assert "Front lobby" in events
    assert "Ann Lee" in events
    assert "a removed record" in pages["/console/audit"]  # the erased person's records
    disclosed = re.search(r"<td>a disclosure</td><td>([^<]*)</td>", pages["/console/audit"])
    assert disclosed is not None
    assert re.search(
        r"people: (Ann Lee, a removed record|a removed record, Ann Lee)(;|$)", disclosed.group(1)
    )
    assert "north-1" in pages["/console/doors"]
    assert made.entrance_id in events  # ids do stay in links and filters


def test_a_chinese_console_shows_no_raw_enum_value(site: Site) -> None:
    populate(site)
    pages = walk_console(console_walker(site, "zh"))
    # Login names are people's own words (the fixture's are admin, operator, auditor).
    logins = {u.username for u in accounts.list_users(site.context)}
    for url, html in pages.items():
        words = {w for part in visible(html).words for w in TOKEN.findall(part)}
        raw = sorted(words & RAW_ENUM_VALUES - logins)
        assert not raw, f"{url} shows raw values {raw}"
    assert "小区入口" in pages["/console/doors"]
    assert "任选其一" in pages["/console/doors"]


@pytest.mark.parametrize(("who", "shown"), [("Lee", "Ann Lee"), ("nobody-here", "nobody-here")])
def test_the_rules_form_picks_a_person_by_name(site: Site, who: str, shown: str) -> None:
    client, _ = log_in(site, "operator")
    html = client.get("/console/rules", params={"who": who}).text
    assert shown in html
    picked = re.search(r'<select name="person_id" id="person-pick">(.*?)</select>', html, re.S)
    if who == "Lee":
        assert picked is not None
        assert f'value="{site.resident_id}"' in picked.group(1)
        assert site.other_id not in picked.group(1)
    else:
        assert picked is None


def test_the_audit_log_shows_the_newest_first_and_pages_back(site: Site) -> None:
    populate(site)
    client, _ = log_in(site, "auditor")
    html = client.get("/console/audit").text
    seqs = [int(s) for s in re.findall(r'<tr data-seq="(\d+)"', html)]
    assert len(seqs) > 10
    assert seqs == sorted(seqs, reverse=True)
    older = re.search(r'href="/console/audit\?before_seq=(\d+)"', html)
    if len(seqs) < 200:
        assert seqs[-1] == 1
        assert older is None
    back = client.get("/console/audit", params={"before_seq": seqs[2]}).text
    assert [int(s) for s in re.findall(r'<tr data-seq="(\d+)"', back)][:2] == seqs[3:5]
