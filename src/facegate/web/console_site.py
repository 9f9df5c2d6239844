"""The console's site pages: doors and lifts, device keys, rules, alerts, events, audit."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from facegate.domain.access import TimeWindow
from facegate.domain.accounts import GateKind
from facegate.domain.errors import ValidationError
from facegate.domain.events import EventQuery
from facegate.domain.people import Role
from facegate.domain.reasons import Reason
from facegate.domain.site import FLOORS, CredentialKind, CredentialMode, DoorKind, DoorLiveness
from facegate.http.deps import server_deps
from facegate.http.security import Principal
from facegate.services import accounts, activity, credentials, overview, places, retention
from facegate.services.names import names_for
from facegate.services.paging import MAX_PAGE, MAX_QUERY
from facegate.web.i18n import translator
from facegate.web.labels import audit_lines, ids_in
from facegate.web.picker import pick
from facegate.web.render import (
    ADMINS,
    AUDITORS,
    READERS,
    STAFF,
    context_of,
    language,
    poster,
    redirect,
    render,
    viewer,
)

router = APIRouter(prefix="/console", include_in_schema=False)
EVENTS_SHOWN = 100
"""Most recent events the events page shows at once (the filters narrow them)."""
DONE = frozenset({"door", "building", "lift", "revoked", "alert", "liveness"})
"""What a site-page form reports done (``?done=...``; message ``done.<code>``)."""
AUDIT_SHOWN = 200
"""Audit records the audit page shows at once (newest first)."""

Reader = Annotated[Principal, Depends(viewer(READERS))]
AuditReader = Annotated[Principal, Depends(viewer(AUDITORS))]
StaffPost = Annotated[Principal, Depends(poster(STAFF))]
AdminPost = Annotated[Principal, Depends(poster(ADMINS))]


@router.get("/doors", response_class=HTMLResponse)
def doors(
    request: Request, principal: Reader, done: Annotated[str, Query(max_length=32)] = ""
) -> Response:
    """Doors, lifts and (for administrators) device keys; ``done`` confirms a form."""
    context = context_of(request, principal)
    is_admin = principal.user is not None and principal.user.role in ADMINS
    doors, lifts = places.list_doors(context), overview.list_lifts(context)
    return render(
        request,
        "doors.html",
        doors=doors,
        lifts=lifts,
        buildings=places.list_buildings(context),
        keys=accounts.list_device_keys(context) if is_admin else [],
        target_names={**{d.id: d.name for d in doors}, **{x.id: x.name for x in lifts}},
        # The kiosk first: the form's default, as the route's (an edge key is asked for).
        gate_kinds=[GateKind.KIOSK.value, GateKind.EDGE.value],
        kinds=[k.value for k in DoorKind],
        modes=[m.value for m in CredentialMode],
        livenesses=list(DoorLiveness),
        credential_kinds=[k.value for k in CredentialKind],
        done=done if done in DONE else "",
    )


@router.post("/doors")
def add_door(
    request: Request,
    principal: StaffPost,
    name: Annotated[str, Form(min_length=1, max_length=200)],
    kind: Annotated[DoorKind, Form()] = DoorKind.ENTRANCE,
    mode: Annotated[CredentialMode, Form()] = CredentialMode.ANY_OF,
    accepted: Annotated[list[CredentialKind] | None, Form()] = None,
    liveness: Annotated[DoorLiveness, Form()] = DoorLiveness.DEFAULT,
) -> Response:
    """Add a door."""
    context = context_of(request, principal)
    places.add_door(context, name, kind, mode, accepted or [], None, liveness)
    return redirect("/console/doors?done=door")


@router.post("/doors/{door_id}/liveness")
def set_door_liveness(
    request: Request,
    principal: StaffPost,
    door_id: str,
    liveness: Annotated[DoorLiveness, Form()],
) -> Response:
    """Change how a door checks that a face is live (audited)."""
    places.set_door_liveness(context_of(request, principal), door_id, liveness)
    return redirect("/console/doors?done=liveness")


@router.post("/buildings")
def add_building(
    request: Request,
    principal: StaffPost,
    name: Annotated[str, Form(min_length=1, max_length=200)],
) -> Response:
    """Add a building (its lifts and doors come next)."""
    places.add_building(context_of(request, principal), name)
    return redirect("/console/doors?done=building")


MAX_FLOORS = 500


def _floors(text: str) -> list[int]:
    """The floors of a comma-separated list such as ``-1, 0, 1, 2``.

    Raises:
        ValidationError: an entry is not a whole number, there is none, or too many.
    """
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        floors = [int(p) for p in parts if len(p) <= 5]
    except ValueError as err:
        raise ValidationError(f"floors are whole numbers separated by commas ({err})") from err
    if len(floors) < len(parts) or any(f not in FLOORS for f in floors):
        raise ValidationError(f"floors are between {FLOORS[0]} and {FLOORS[-1]}")
    if not floors:
        raise ValidationError("a lift serves at least one floor")
    if len(floors) > MAX_FLOORS:
        raise ValidationError(f"a lift serves at most {MAX_FLOORS} floors")
    return floors


@router.post("/lifts")
def add_lift(
    request: Request,
    principal: StaffPost,
    building_id: Annotated[str, Form(min_length=1, max_length=64)],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    floors: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    """Add a lift to a building, serving a comma-separated list of floors."""
    places.add_lift(context_of(request, principal), building_id, name, _floors(floors))
    return redirect("/console/doors?done=lift")


@router.post("/doors/{door_id}/keys", response_class=HTMLResponse)
def issue_key(
    request: Request,
    principal: AdminPost,
    door_id: str,
    label: Annotated[str, Form(max_length=100)] = "",
    kind: Annotated[GateKind, Form()] = GateKind.KIOSK,
    gate_id: Annotated[str, Form(max_length=36)] = "",
) -> Response:
    """Issue a device key for a door's kiosk or edge gate; its secret is shown once."""
    issued = accounts.issue_device_key(
        context_of(request, principal), door_id, label, kind, gate_id.strip() or None
    )
    return render(request, "key.html", key=issued.key, secret=issued.secret)


@router.post("/keys/{key_id}/revoke")
def revoke_key(request: Request, principal: AdminPost, key_id: str) -> Response:
    """Revoke a device key at once."""
    accounts.revoke_device_key(context_of(request, principal), key_id)
    return redirect("/console/doors?done=revoked")


@router.get("/rules", response_class=HTMLResponse)
def rules(
    request: Request,
    principal: Reader,
    added: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    who: Annotated[str, Query(max_length=MAX_QUERY)] = "",
) -> Response:
    """A page of the access rules in force (the read is audited) and a form for new ones.

    ``who`` searches people by name for the form's person picker.
    """
    context = context_of(request, principal)
    doors = places.list_doors(context)
    found = places.list_rules(context, page)
    names = names_for(context, (r.person_id for r in found.items))
    return render(
        request,
        "rules.html",
        rules=found.items,
        listing=found,
        q="",
        door_names=names.places,
        names=names,
        doors=doors,
        roles=[r.value for r in Role],
        added=added,
        picker=pick(context, who),
    )


def _window(days: list[int], start: str, end: str) -> TimeWindow:
    try:
        return TimeWindow(frozenset(days), time.fromisoformat(start), time.fromisoformat(end))
    except ValueError as err:
        raise ValidationError(f"times are HH:MM ({err})") from err


@router.post("/rules")
def add_rule(
    request: Request,
    principal: StaffPost,
    door_ids: Annotated[list[str], Form()],
    days: Annotated[list[int], Form()],
    role: Annotated[Role | None, Form()] = None,
    person_id: Annotated[str, Form(max_length=64)] = "",
    start: Annotated[str, Form(max_length=5)] = "00:00",
    end: Annotated[str, Form(max_length=5)] = "23:59",
) -> Response:
    """Let a role or a person through doors in a weekly window (site time zone)."""
    rule = places.add_access_rule(
        context_of(request, principal),
        [_window(days, start, end)],
        person_id=person_id or None,
        role=None if person_id else role,
        door_ids=door_ids,
    )
    return redirect(f"/console/rules?added={rule.id}")


@router.get("/alerts", response_class=HTMLResponse)
def alerts(
    request: Request,
    principal: Reader,
    who: Annotated[str, Query(max_length=MAX_QUERY)] = "",
    done: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """The alert list with each entry's reason, legal basis and expiry.

    ``who`` searches people by name for the form's person picker.
    """
    context = context_of(request, principal)
    found = activity.list_alerts(context)
    names = names_for(context, (a.person_id for a in found))
    picker = pick(context, who)
    shown = done if done in DONE else ""
    return render(request, "alerts.html", alerts=found, names=names, picker=picker, done=shown)


@router.post("/alerts")
def add_alert(
    request: Request,
    principal: StaffPost,
    person_id: Annotated[str, Form(min_length=1, max_length=64)],
    reason: Annotated[str, Form(min_length=1, max_length=500)],
    legal_basis: Annotated[str, Form(min_length=1, max_length=500)],
    days: Annotated[int, Form(ge=1, le=365)] = 30,
) -> Response:
    """Put a person on the alert list for ``days`` (reason and legal basis required)."""
    context = context_of(request, principal)
    credentials.add_alert(context, person_id, reason, legal_basis, timedelta(days=days))
    return redirect("/console/alerts?done=alert")


def _day(text: str, end: bool = False) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
        return moment + timedelta(days=1) if end else moment
    except (ValueError, OverflowError) as err:
        raise ValidationError(f"dates are YYYY-MM-DD up to 9999-12-30 ({err})") from err


@router.get("/events", response_class=HTMLResponse)
def events(
    request: Request,
    principal: Reader,
    door_id: str = "",
    person_id: str = "",
    outcome: str = "",
    reason: Reason | None = None,
    since: str = "",
    until: str = "",
    who: Annotated[str, Query(max_length=MAX_QUERY)] = "",
) -> Response:
    """Access decisions with filters (door, person, outcome, reason, dates).

    ``who`` finds people by name: one match filters by them, several fill a select.
    """
    context = context_of(request, principal)
    picker = pick(context, who)
    if not person_id and picker.total == 1:
        person_id = picker.matches[0].id
    query = EventQuery(
        door_id=door_id or None,
        person_id=person_id or None,
        granted={"granted": True, "refused": False}.get(outcome),
        reason=reason,
        since=_day(since),
        until=_day(until, end=True),
        limit=EVENTS_SHOWN,
    )
    found = activity.search_events(context, query)
    filters = {"door_id": door_id, "person_id": person_id, "outcome": outcome, "since": since}
    filters |= {"until": until, "reason": reason.value if reason else ""}
    return render(
        request,
        "events.html",
        events=found,
        doors=places.list_doors(context),
        reasons=[r.value for r in Reason],
        filters=filters,
        names=names_for(context, [person_id, *(e.person_id for e in found)]),
        picker=picker,
        picker_chosen=person_id,
    )


@router.get("/audit", response_class=HTMLResponse)
def audit(
    request: Request, principal: AuditReader, before_seq: Annotated[int | None, Query(ge=1)] = None
) -> Response:
    """The audit log, newest first (administrators and auditors; the read is audited).

    ``before_seq`` pages back: the records below it.
    """
    context = context_of(request, principal)
    records = activity.read_audit_newest(context, before_seq, AUDIT_SHOWN)
    names = names_for(context, ids_in(records))
    lines = audit_lines(records, names, translator(language(request)))
    return render(request, "audit.html", records=records, lines=lines)


@router.get("/retention", response_class=HTMLResponse)
def retention_page(request: Request, principal: Reader, purged: str = "") -> Response:
    """Retention periods in force (set by ``FACEGATE_RETENTION__*``) and a purge button."""
    policy = server_deps(request).settings.retention
    return render(request, "retention.html", periods=asdict(policy), purged=purged)


@router.post("/retention/purge")
def purge(request: Request, principal: AdminPost) -> Response:
    """Delete what has outlived its retention period now."""
    deps = server_deps(request)
    report = retention.purge(context_of(request, principal), deps.settings.retention)
    return redirect(f"/console/retention?purged={report.total}")
