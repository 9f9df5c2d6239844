from __future__ import annotations

from pages import LOGIN_CSRF, log_in

from api_site import Site


def test_pages_redirect_to_login_when_logged_out(site: Site) -> None:
    client = site.client()
    answer = client.get("/console/people", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/console/people"
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_login_lands_by_role(site: Site) -> None:
    for username, home in (("admin", "/console"), ("auditor", "/console/audit")):
        client = site.client()
        token = LOGIN_CSRF.search(client.get("/login").text)
        assert token is not None
        answer = client.post(
            "/login",
            data={
                "username": username,
                "password": "correct horse battery",
                "login_csrf": token.group(1),
            },
            follow_redirects=False,
        )
        assert answer.headers["location"] == home
        assert "httponly" in answer.headers["set-cookie"].lower()


def test_wrong_password_and_missing_login_token_are_refused(site: Site) -> None:
    client = site.client()
    token = LOGIN_CSRF.search(client.get("/login").text)
    assert token is not None
    wrong = client.post(
        "/login", data={"username": "admin", "password": "nope", "login_csrf": token.group(1)}
    )
    assert wrong.status_code == 401
    assert "wrong password" in wrong.text
    other = site.client()
    forged = other.post(
        "/login", data={"username": "admin", "password": "x", "login_csrf": "forged"}
    )
    assert forged.status_code == 403


def test_login_is_rate_limited(site: Site) -> None:
    client = site.client()
    statuses = []
    for _ in range(4):
        token = LOGIN_CSRF.search(client.get("/login").text)
        assert token is not None
        answer = client.post(
            "/login", data={"username": "ann", "password": "bad", "login_csrf": token.group(1)}
        )
        statuses.append(answer.status_code)
    assert statuses == [401, 401, 401, 429]


def test_logout_needs_the_csrf_token_and_ends_the_session(site: Site) -> None:
    client, csrf = log_in(site, "operator")
    assert client.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    answer = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.headers["location"] == "/login"
    client.cookies.clear()
    assert client.get("/console/people", follow_redirects=False).status_code == 303


def test_language_follows_the_header_then_the_switch(site: Site) -> None:
    client = site.client()
    assert "登录" in client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert "Log in" in client.get("/login", headers={"Accept-Language": "fr, en;q=0.5"}).text
    client.get("/lang/zh?next=/login")
    assert "用户名" in client.get("/login", headers={"Accept-Language": "en"}).text
    answer = client.get("/lang/en?next=//evil.example", follow_redirects=False)
    assert answer.headers["location"] == "/"


def test_roles_are_kept_apart_on_pages(site: Site) -> None:
    operator, _ = log_in(site, "operator")
    assert operator.get("/console/audit").status_code == 403
    assert operator.get("/portal").status_code == 403
    resident, _ = log_in(site, "ann")
    assert resident.get("/console/people").status_code == 403
    auditor, _ = log_in(site, "auditor")
    assert auditor.get("/console/audit").status_code == 200
