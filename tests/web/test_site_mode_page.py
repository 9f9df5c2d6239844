"""The site mode page of the console: shown to readers, switched by staff."""

from __future__ import annotations

from pages import log_in

from api_site import Site
from facegate.services.site_mode import show_mode


def test_an_operator_switches_free_passage_in_the_console(site: Site) -> None:
    client, csrf = log_in(site, "operator")
    page = client.get("/console/site-mode").text
    assert 'data-mode="normal"' in page
    assert 'id="set-mode"' in page
    answer = client.post(
        "/console/site-mode",
        data={"mode": "free_passage", "reason": "moving day", "minutes": "90", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/console/site-mode").text
    assert 'data-mode="free_passage"' in page
    assert "moving day" in page
    state = show_mode(site.context)
    assert state.deciding is not None
    assert state.deciding.until is not None
    auditor, _ = log_in(site, "auditor")
    assert 'id="set-mode"' not in auditor.get("/console/site-mode").text
    zh = auditor.get("/console/site-mode", headers={"Accept-Language": "zh"}).text
    assert "自由通行" in zh
