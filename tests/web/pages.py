"""Helpers for the page tests: log in through the form, read the CSRF token of a page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api_site import PASSWORD, Site

CSRF = re.compile(r'name="csrf-token" content="([^"]*)"')
LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "page carries no CSRF token"
    assert found.group(1), "the page's CSRF token is empty"
    return found.group(1)


def log_in(site: Site, username: str) -> tuple[TestClient, str]:
    """A client logged in through the login form, and the session's CSRF token."""
    client = site.client()
    form = client.get("/login")
    token = LOGIN_CSRF.search(form.text)
    assert token is not None
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "login_csrf": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    page = client.get(answer.headers["location"])
    assert page.status_code == 200, page.text
    return client, csrf_of(page.text)
