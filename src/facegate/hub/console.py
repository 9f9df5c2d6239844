"""The hub console: server-rendered pages over the same scoped reads as the API.

Sign-in takes a hub account's API token and keeps it in an HttpOnly, SameSite=Strict
cookie; the pages only read (no form changes state except sign-in). A district viewer
sees their districts only: another district's site page answers 404. Event pages are
audited like the API's event search. English and Simplified Chinese, chosen as on the
site console (the ``facegate_lang`` cookie set by ``/lang/<code>``, else
``Accept-Language``), with the site console's words for reasons and modes.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from facegate.domain.errors import BadInputError, NotFoundError
from facegate.hub import queries
from facegate.hub.access import HubAccount, HubAction
from facegate.hub.bootstrap import Hub, utc_now
from facegate.hub.messages import HUB_CATALOGUES
from facegate.web.auth import switch_language
from facegate.web.i18n import translator
from facegate.web.render import language

COOKIE = "hub_token"
"""The console's cookie (the account's API token)."""

ONLINE_WITHIN = timedelta(minutes=2)
"""A site whose last health message is this recent is shown online (typical 4 x 30 s)."""


@functools.cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("facegate.hub", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )


def _page(
    request: Request, name: str, title: str | None, account: HubAccount | None, **values: Any
) -> HTMLResponse:
    """Render page ``name``; ``title`` is a message key, or ``None`` with ``heading`` given."""
    lang = language(request)
    t = translator(lang, HUB_CATALOGUES)
    heading = t(title) if title is not None else str(values.pop("heading"))
    html = (
        _templates()
        .get_template("console.html")
        .render(
            page=name,
            title=heading,
            account=account,
            t=t,
            lang=lang,
            path=request.url.path,
            **values,
        )
    )
    return HTMLResponse(html)


def _day(text: str | None, field: str, days_after: int = 0) -> datetime | None:
    """``YYYY-MM-DD`` (a form's date) as the start of that day in UTC; empty: none.

    ``days_after=1`` gives the end of that day (the form's "until" includes its day).
    """
    if not text:
        return None
    try:
        day = date.fromisoformat(text) + timedelta(days=days_after)
        return datetime.combine(day, time(), UTC)
    except (ValueError, OverflowError) as err:  # OverflowError: the day after 9999-12-31
        raise BadInputError(f"{field} is a date YYYY-MM-DD") from err


def _signed_in(request: Request, action: HubAction) -> HubAccount | None:
    hub: Hub = request.app.state.hub
    token = request.cookies.get(COOKIE)
    account = hub.store.account_for(token) if token else None
    if account is not None:
        account.require(action)
    return account


def install(app: FastAPI) -> None:  # noqa: C901
    """Add the console pages to the hub's app."""

    @app.get("/console/login", response_class=HTMLResponse)
    def login_page(request: Request) -> HTMLResponse:
        return _page(request, "login", "hub.sign_in", None)

    @app.post("/console/login", response_model=None)
    def login(request: Request, token: Annotated[str, Form()]) -> Response:
        hub: Hub = request.app.state.hub
        if hub.store.account_for(token) is None:
            return _page(request, "login", "hub.sign_in", None, error="hub.unknown_token")
        answer = RedirectResponse("/console", status_code=303)
        answer.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/console")
        return answer

    @app.get("/console", response_model=None)
    def sites_page(request: Request) -> Response:
        account = _signed_in(request, HubAction.READ_SITES)
        if account is None:
            return RedirectResponse("/console/login", status_code=303)
        hub: Hub = request.app.state.hub
        rows = hub.store.sites(account.scope())
        now = utc_now()
        for row in rows:
            row["online"] = row["last_seen"] is not None and now - row["last_seen"] < ONLINE_WITHIN
        return _page(request, "sites", "hub.nav.sites", account, sites=rows)

    @app.get("/console/sites/{site_id}", response_model=None)
    def site_page(request: Request, site_id: str) -> Response:
        account = _signed_in(request, HubAction.READ_SITES)
        if account is None:
            return RedirectResponse("/console/login", status_code=303)
        hub: Hub = request.app.state.hub
        found = [s for s in hub.store.sites(account.scope()) if s["id"] == site_id]
        if not found:
            raise NotFoundError(f"no site {site_id!r}")
        return _page(request, "site", None, account, site=found[0], heading=found[0]["name"])

    @app.get("/console/events", response_model=None)
    def events_page(
        request: Request,
        district: str | None = None,
        site_id: str | None = None,
        door_id: str | None = None,
        reason: str | None = None,
        outcome: str | None = None,
        since: str | None = None,
        until: str | None = None,
        after: str | None = None,
    ) -> Response:
        account = _signed_in(request, HubAction.READ_EVENTS)
        if account is None:
            return RedirectResponse("/console/login", status_code=303)
        hub: Hub = request.app.state.hub
        parts = after.split("|", 2) if after else []
        query = queries.EventFilter(
            district=district or None,
            site_id=site_id or None,
            door_id=door_id or None,
            reason=reason or None,
            granted={"granted": True, "refused": False}.get(outcome or ""),
            since=_day(since, "since"),
            until=_day(until, "until", days_after=1),
            after=(parts[0], parts[1], parts[2]) if len(parts) == 3 else None,
        )
        rows = queries.search_events(hub.store, account, query, utc_now())
        following = None
        if len(rows) == query.page_size:
            last = rows[-1]
            cursor = f"{last['occurred_at'].isoformat()}|{last['site_id']}|{last['event_key']}"
            given = {"district": district, "site_id": site_id, "door_id": door_id,
                     "reason": reason, "outcome": outcome, "since": since, "until": until,
                     "after": cursor}  # fmt: skip
            following = "/console/events?" + urlencode({k: v for k, v in given.items() if v})
        shown = {"outcome": outcome or "", "since": since or "", "until": until or ""}
        return _page(
            request, "events", "hub.nav.events", account, events=rows, query=query,
            following=following, shown=shown,
        )  # fmt: skip

    @app.get("/console/alarms", response_model=None)
    def alarms_page(request: Request) -> Response:
        account = _signed_in(request, HubAction.READ_ALARMS)
        if account is None:
            return RedirectResponse("/console/login", status_code=303)
        hub: Hub = request.app.state.hub
        alarms = queries.recent_alarms(hub.store, account)
        return _page(request, "alarms", "hub.nav.alarms", account, alarms=alarms)

    app.get("/lang/{code}")(switch_language)
