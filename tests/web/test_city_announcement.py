"""A city announcement the uplink accepted shows on the dashboard and the kiosk until its
end time, in the page's language, escaped."""

from __future__ import annotations

from datetime import timedelta

from pages import log_in

from api_site import Site
from facegate.uplink.site_mode_port import Announcements

TEXT = "Water off 9-12 <b>tomorrow</b>"


def test_announcement_shows_on_dashboard_and_kiosk_until_its_end(site: Site) -> None:
    client, _ = log_in(site, "operator")
    kiosk = site.client()
    assert 'id="announcement"' not in client.get("/console").text
    assert kiosk.get("/announcement.json").json() == {"text": None, "until": None}
    assert 'id="announcement" class="announcement" role="status" data-poll-s="60" hidden' in (
        kiosk.get("/kiosk/door-1").text
    )

    until = site.deps.clock.now() + timedelta(hours=2)
    Announcements.of_site(site.deps.settings.data_dir).put(TEXT, until, notice_seq=7)
    escaped = "Water off 9-12 &lt;b&gt;tomorrow&lt;/b&gt;"
    for page in ("/console", "/console/panel"):
        html = client.get(page).text
        assert 'id="announcement"' in html, page
        assert escaped in html, page
    zh = kiosk.get("/kiosk/door-1", headers={"Accept-Language": "zh-CN"}).text
    assert "城市公告" in zh
    assert escaped in zh
    assert " hidden>" not in zh.split('id="announcement"')[1].split("</p>")[0]
    assert kiosk.get("/announcement.json").json() == {"text": TEXT, "until": until.isoformat()}

    site.deps.clock.advance(hours=2, seconds=1)  # past its end time: gone everywhere
    assert 'id="announcement"' not in client.get("/console/panel").text
    assert kiosk.get("/announcement.json").json() == {"text": None, "until": None}


def test_a_damaged_announcement_file_shows_nothing_and_breaks_no_page(site: Site) -> None:
    path = Announcements.of_site(site.deps.settings.data_dir).path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    client, _ = log_in(site, "operator")
    assert client.get("/console").status_code == 200
    assert site.client().get("/announcement.json").json() == {"text": None, "until": None}
