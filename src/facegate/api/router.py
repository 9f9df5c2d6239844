"""Every resource's router of the JSON API under :data:`API_PREFIX`."""

from __future__ import annotations

from fastapi import APIRouter

from facegate.api.routes import (
    alarms,
    alerts,
    audit,
    auth,
    credentials,
    disclosures,
    doors,
    enrollment,
    events,
    gates,
    health,
    layout,
    lifts,
    me,
    people,
    requests,
    site,
    snapshots,
    users,
    zones,
)

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    """Every resource's router under :data:`API_PREFIX`."""
    router = APIRouter(prefix=API_PREFIX)
    for module in (
        health,
        auth,
        users,
        people,
        enrollment,
        credentials,
        alerts,
        alarms,
        events,
        audit,
        doors,
        gates,
        lifts,
        me,
        layout,
        disclosures,
        requests,
        snapshots,
        site,
        zones,
    ):
        router.include_router(module.router)
    return router
