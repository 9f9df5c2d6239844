"""The hub's HTTP app: join, the scoped read API, notices, the public transparency report.

Built on the shared ``facegate.http`` layer (errors mapped to HTTP in one table,
security headers). Accounts present ``Authorization: Bearer <token>``
(``facegate hub account add``). A district viewer asking for a site outside their
districts gets 404, as if it did not exist.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from facegate import __version__
from facegate.city.keys import public_from_text, public_text
from facegate.domain.errors import NotFoundError, PolicyRefusedError
from facegate.http import errors
from facegate.http.deps import NotAuthenticatedError
from facegate.http.headers import SecurityHeadersMiddleware
from facegate.hub import console, notices, queries
from facegate.hub.access import HubAccount, HubAction
from facegate.hub.bootstrap import Hub, utc_now
from facegate.hub.mqtt_link import HubPublisher


class JoinRequest(BaseModel):
    """A site's join: its one-time token and its public key."""

    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=10, max_length=200)
    public_key: str = Field(min_length=40, max_length=64)


class JoinAnswer(BaseModel):
    """What a joined site needs: its id, the broker, the hub key to pin."""

    site_id: str
    broker_host: str
    broker_port: int
    hub_public_key: str
    broker_password: str | None = None


class NoticeRequest(BaseModel):
    """A notice to sites and/or districts."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["lockdown", "free_passage", "normal", "announcement"]
    ends_at: AwareDatetime
    text: str = Field(default="", max_length=1000)
    sites: list[str] = Field(default_factory=list, max_length=10_000)
    districts: list[str] = Field(default_factory=list, max_length=1000)


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def _account(request: Request) -> HubAccount:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticatedError("sign in with an API token (Authorization: Bearer ...)")
    account = _hub(request).store.account_for(token.strip())
    if account is None:
        raise NotAuthenticatedError("unknown API token")
    return account


def allowed(action: HubAction) -> Callable[[Request], HubAccount]:
    """A dependency: the signed-in account, refused unless its role allows ``action``."""

    def dependency(request: Request) -> HubAccount:
        account = _account(request)
        account.require(action)
        return account

    return dependency


HubDep = Annotated[Hub, Depends(_hub)]


def create_hub_app(hub: Hub, publisher: Callable[[], HubPublisher] | None = None) -> FastAPI:
    """The hub's web application over ``hub``.

    Args:
        hub: the built hub.
        publisher: makes the broker link for notices (on first use).
    """
    app = FastAPI(title="facegate hub", version=__version__)
    app.state.hub = hub
    app.add_middleware(SecurityHeadersMiddleware)
    errors.install(app)
    _routes(app, publisher)
    _transparency_routes(app)
    console.install(app)
    app.mount("/static", StaticFiles(packages=[("facegate.web", "static")]), name="static")
    return app


def _routes(app: FastAPI, publisher: Callable[[], HubPublisher] | None) -> None:  # noqa: C901
    @app.get("/hub/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.post("/hub/v1/join")
    def join(body: JoinRequest, hub: HubDep) -> JoinAnswer:
        public_from_text(body.public_key)
        site_id = hub.store.join(body.token, body.public_key, utc_now())
        password = hub.accounts.add(site_id) if hub.accounts is not None else None
        broker_host, broker_port = hub.settings.sites_broker
        return JoinAnswer(
            site_id=site_id,
            broker_host=broker_host,
            broker_port=broker_port,
            hub_public_key=public_text(hub.key),
            broker_password=password,
        )

    @app.get("/hub/v1/sites")
    def list_sites(
        hub: HubDep, account: Annotated[HubAccount, Depends(allowed(HubAction.READ_SITES))]
    ) -> list[dict[str, Any]]:
        return [_public_site(s) for s in hub.store.sites(account.scope())]

    @app.get("/hub/v1/sites/{site_id}")
    def one_site(
        site_id: str,
        hub: HubDep,
        account: Annotated[HubAccount, Depends(allowed(HubAction.READ_SITES))],
    ) -> dict[str, Any]:
        found = [s for s in hub.store.sites(account.scope()) if s["id"] == site_id]
        if not found:
            raise NotFoundError(f"no site {site_id!r}")
        return _public_site(found[0])

    @app.get("/hub/v1/events")
    def search(
        hub: HubDep,
        account: Annotated[HubAccount, Depends(allowed(HubAction.READ_EVENTS))],
        district: str | None = None,
        site_id: str | None = None,
        door_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        granted: bool | None = None,
        reason: str | None = None,
        after: Annotated[str | None, Query(description="occurred_at|site_id|event_key")] = None,
        page_size: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
    ) -> dict[str, Any]:
        parts = after.split("|", 2) if after else []
        cursor = (parts[0], parts[1], parts[2]) if len(parts) == 3 else None
        query = queries.EventFilter(
            district,
            site_id,
            door_id,
            since,
            until,
            granted,
            reason,
            cursor,
            page_size,
        )
        rows = queries.search_events(hub.store, account, query, utc_now())
        following = None
        if len(rows) == page_size:
            last = rows[-1]
            following = f"{last['occurred_at'].isoformat()}|{last['site_id']}|{last['event_key']}"
        return {"events": rows, "next": following}

    @app.get("/hub/v1/alarms")
    def alarm_feed(
        hub: HubDep, account: Annotated[HubAccount, Depends(allowed(HubAction.READ_ALARMS))]
    ) -> list[dict[str, Any]]:
        return queries.recent_alarms(hub.store, account)

    @app.get("/hub/v1/audit/event-reads")
    def reads(
        hub: HubDep, _account: Annotated[HubAccount, Depends(allowed(HubAction.READ_AUDIT))]
    ) -> list[dict[str, Any]]:
        return queries.event_read_log(hub.store)

    @app.post("/hub/v1/notices")
    def send_notice(
        body: NoticeRequest,
        hub: HubDep,
        account: Annotated[HubAccount, Depends(allowed(HubAction.SEND_NOTICE))],
    ) -> dict[str, Any]:
        if publisher is None:
            raise PolicyRefusedError("this hub has no broker link for notices")
        issued = notices.issue(
            hub.store,
            hub.key,
            publisher().publish,
            (body.kind, body.ends_at, body.text),
            (body.sites, body.districts),
            utc_now(),
            f"hub:{account.username}",
        )
        return {"sent": [n.model_dump(mode="json") for n in issued.sent], "skipped": issued.skipped}


def _transparency_routes(app: FastAPI) -> None:
    from facegate.hub import transparency

    def current(hub: Hub) -> dict[str, Any]:
        return transparency.report(hub.store, utc_now().date())

    @app.get("/transparency.json")
    def report_json(hub: HubDep) -> dict[str, Any]:
        return {**current(hub), "retention_days": hub.settings.retention_days}

    @app.get("/transparency.csv")
    def report_csv(hub: HubDep) -> Response:
        return Response(transparency.as_csv(current(hub)), media_type="text/csv; charset=utf-8")

    @app.get("/transparency", response_class=HTMLResponse)
    def report_page(hub: HubDep) -> HTMLResponse:
        page = (
            _templates()
            .get_template("transparency.html")
            .render(
                report=current(hub),
                columns=(*transparency.STOCK, *transparency.FLOW),
                retention_days=hub.settings.retention_days,
            )
        )
        return HTMLResponse(page)


@functools.cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("facegate.hub", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )


def _public_site(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("join_token_hash", "public_key")}
