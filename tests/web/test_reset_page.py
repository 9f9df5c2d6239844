"""The page of a one-time password reset link, in English and Chinese."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.testclient import TestClient

from api_site import PASSWORD, Site

NEW_PASSWORD = "a brand new secret"


def _link(site: Site, username: str = "ann") -> str:
    admin = site.client("admin")
    users = {u["username"]: u["id"] for u in admin.get("/api/v1/users").json()}
    path: str = admin.post(f"/api/v1/users/{users[username]}/reset-link").json()["path"]
    assert path.startswith("/reset?token=")
    return path


def _post(client: TestClient, token: str, password: str, confirm: str) -> tuple[int, str]:
    data = {"token": token, "password": password, "confirm": confirm}
    answer = client.post("/reset", data=data)
    return answer.status_code, answer.text


def test_reset_link_sets_the_password_once_and_ends_sessions(site: Site) -> None:
    ann = site.client("ann")
    link = _link(site)
    token = link.split("token=")[1]
    anon = site.client()
    form = anon.get(link, headers={"Accept-Language": "en"})
    assert form.status_code == 200
    assert f'name="token" value="{token}"' in form.text
    assert "Choose a new password" in form.text
    assert form.headers["referrer-policy"] == "no-referrer"
    assert form.headers["cache-control"] == "no-store"
    assert _post(anon, token, NEW_PASSWORD, NEW_PASSWORD + "!")[0] == 400
    status, text = _post(anon, token, "short", "short")
    assert (status, "at least 10 characters" in text) == (400, True)
    status, text = _post(anon, token, NEW_PASSWORD, NEW_PASSWORD)
    assert (status, 'id="reset-done"' in text) == (200, True)
    status, text = _post(anon, token, "another new secret", "another new secret")
    assert (status, "unknown, already used or expired" in text) == (404, True)
    assert ann.get("/api/v1/auth/me").status_code == 401
    for password, expected in ((PASSWORD, 401), (NEW_PASSWORD, 200)):
        login = {"username": "ann", "password": password}
        assert anon.post("/api/v1/auth/login", json=login).status_code == expected


def test_reset_page_in_chinese_keeps_the_token_across_the_language_switch(site: Site) -> None:
    link = _link(site)
    client = site.client()
    page = client.get(link, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "设置新密码" in page.text
    switch = f"/lang/en?next={quote(link, safe='/')}"
    assert switch in page.text
    answer = client.get(switch, follow_redirects=False)
    assert answer.headers["location"] == link
    english = client.get(link, headers={"Accept-Language": "zh-CN"})
    assert "Choose a new password" in english.text
    status, text = _post(client, "no-such-token", NEW_PASSWORD, NEW_PASSWORD)
    assert (status, "unknown, already used or expired" in text) == (404, True)


def test_reset_page_without_token_or_with_markup_in_it(site: Site) -> None:
    client = site.client()
    bare = client.get("/reset", headers={"Accept-Language": "zh"})
    assert bare.status_code == 400
    assert "此重置链接无效" in bare.text
    assert 'id="reset-form"' not in bare.text
    hostile = client.get("/reset", params={"token": '"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in hostile.text
    assert "&#34;&gt;&lt;script&gt;" in hostile.text or "&quot;&gt;&lt;script&gt;" in hostile.text
