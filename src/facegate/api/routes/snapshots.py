"""Event snapshots: the sealed face crop of a denied decision, for the allowed roles."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from facegate.domain.errors import PolicyRefusedError
from facegate.http.deps import AnyUser, Deps, context_for
from facegate.services import event_snapshots

router = APIRouter(tags=["events"])


@router.get(
    "/events/{event_id}/snapshot",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "the face crop"}},
)
def event_snapshot(deps: Deps, principal: AnyUser, event_id: str) -> Response:
    """The face crop kept with a denied decision (JPEG; each view audited).

    Only the roles in ``FACEGATE_SNAPSHOTS__ROLES`` (default administrators); 404 when
    none was kept (snapshots off, purged, or the person erased).
    """
    if principal.user is None:
        raise PolicyRefusedError("log in to see snapshots")
    _, image = event_snapshots.view_snapshot(
        context_for(deps, principal),
        deps.sealer(),
        event_id,
        principal.user.role,
        deps.settings.snapshots.roles,
    )
    headers = {"Cache-Control": "no-store"}
    return Response(image, media_type="image/jpeg", headers=headers)
