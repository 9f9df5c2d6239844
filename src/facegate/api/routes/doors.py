"""Doors: list and add, remote unlock, device keys, and a door's frames (gates only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, Field

from facegate.domain.accounts import DeviceKey, GateKind
from facegate.domain.challenge import ChallengeView
from facegate.domain.errors import (
    ImageTooLargeError,
    ImageTooSmallError,
    InvalidImageError,
    PolicyRefusedError,
    ServiceUnavailableError,
    ValidationError,
)
from facegate.domain.site import CredentialKind, CredentialMode, Door, DoorKind, DoorLiveness
from facegate.http.deps import (
    Admin,
    Deps,
    Device,
    Reader,
    ServerDeps,
    Staff,
    context_for,
    decider_of,
)
from facegate.http.security import Principal
from facegate.http.uploads import read_bounded
from facegate.services import accounts, activity, places
from facegate.services.gate_frames import DESK
from facegate.services.gate_health import BOARD

router = APIRouter(tags=["doors"])


class DoorCreate(BaseModel):
    """A door to add (it must accept a way in other than the face)."""

    name: str = Field(min_length=1, max_length=200)
    kind: DoorKind = DoorKind.ENTRANCE
    mode: CredentialMode = CredentialMode.ANY_OF
    accepted: list[CredentialKind] = Field(min_length=1)
    building_id: str | None = None
    liveness: DoorLiveness = DoorLiveness.DEFAULT


class DoorLivenessSet(BaseModel):
    """A door's live-face check: ``default``, ``passive`` or ``challenge``."""

    liveness: DoorLiveness


class DoorPublic(BaseModel):
    """A door (``liveness``: how it checks that a face is live, see ``DoorLiveness``)."""

    id: str
    name: str
    kind: DoorKind
    mode: CredentialMode
    accepted: list[CredentialKind]
    building_id: str | None
    liveness: DoorLiveness = DoorLiveness.DEFAULT

    @classmethod
    def of(cls, door: Door) -> DoorPublic:
        """From the domain record."""
        return cls(
            id=door.id,
            name=door.name,
            kind=door.kind,
            mode=door.mode,
            accepted=sorted(door.accepted),
            building_id=door.building_id,
            liveness=door.liveness,
        )


class KeyCreate(BaseModel):
    """A device key to issue, bound to a gate registered for one door or lift.

    ``target_id`` names the door or lift; ``kind`` is ``kiosk`` (posts frames and
    credentials to ``/doors/{id}/...``, reads nothing; the default) or ``edge`` (a gate
    in its own process: reads its door's snapshot, delivers its door's events).
    ``gate_id`` names the gate (an edge gate's ``FACEGATE_GATE__GATE_ID``; a new id when
    left out; an existing gate of the same door and kind gets another key). For
    compatibility, a body with ``gate_id`` alone issues a kiosk key for the door or lift
    ``gate_id``.
    """

    target_id: str | None = Field(default=None, max_length=64)
    kind: GateKind = GateKind.KIOSK
    gate_id: str | None = Field(default=None, max_length=36)
    label: str = Field(default="", max_length=200)

    def binding(self) -> tuple[str, str | None]:
        """The door or lift, and the gate id (``None``: a new one)."""
        if self.target_id is not None:
            return self.target_id, self.gate_id
        if self.gate_id is None:
            raise ValidationError("name the door or lift in target_id")
        return self.gate_id, None


class KeyPublic(BaseModel):
    """A device key (the secret only when just issued)."""

    id: str
    gate_id: str
    target_id: str
    kind: GateKind
    label: str
    created_at: datetime
    revoked_at: datetime | None
    secret: str | None = None

    @classmethod
    def of(cls, key: DeviceKey, secret: str | None = None) -> KeyPublic:
        """From the domain record."""
        return cls(
            id=key.id,
            gate_id=key.gate_id,
            target_id=key.target_id,
            kind=key.kind,
            label=key.label,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
            secret=secret,
        )


class ChallengePublic(BaseModel):
    """The prompts a challenge door shows, and the countdown.

    ``prompts``: every prompt, in order (``turn_left``, ``turn_right``, ``look_up``,
    ``blink``, ``open_mouth``: the person's own left and right); ``step``: how many are
    done; ``prompt``: the one to show now (``null`` once decided); ``remaining_s``:
    seconds left for it; ``response_s``: seconds each prompt allows; ``status``:
    ``pending``, ``passed`` or ``failed`` (then the answer is ``spoof_suspected``).
    """

    prompts: list[str]
    step: int
    prompt: str | None
    remaining_s: float
    response_s: float
    status: Literal["pending", "passed", "failed"]

    @classmethod
    def of(cls, view: ChallengeView | None) -> ChallengePublic | None:
        """From the domain view (``None`` stays ``None``)."""
        if view is None:
            return None
        return cls(
            prompts=[p.value for p in view.prompts],
            step=view.step,
            prompt=None if view.prompt is None else view.prompt.value,
            remaining_s=view.remaining_s,
            response_s=view.response_s,
            status=view.status,
        )


class DecisionPublic(BaseModel):
    """A door's decision on a frame, with its reason code.

    ``pending`` is true while the face in view is not decided yet (the liveness check,
    the challenge's prompts or the quality gate want more frames): the door stays shut,
    the reason is ``spoof_suspected`` meanwhile, and the client should send the next
    frames soon. ``challenge``: at a door in challenge mode, the prompts to show and
    the countdown (``null`` elsewhere and on credential answers).
    """

    granted: bool
    reason: str
    decided_at: datetime
    pending: bool = False
    challenge: ChallengePublic | None = None


@router.get("/doors")
def list_doors(deps: Deps, principal: Reader) -> list[DoorPublic]:
    """Every door."""
    return [DoorPublic.of(d) for d in places.list_doors(context_for(deps, principal))]


@router.post("/doors", status_code=201)
def add_door(deps: Deps, principal: Staff, body: DoorCreate) -> DoorPublic:
    """Add a door."""
    door = places.add_door(
        context_for(deps, principal),
        body.name,
        body.kind,
        body.mode,
        body.accepted,
        body.building_id,
        body.liveness,
    )
    return DoorPublic.of(door)


@router.put("/doors/{door_id}/liveness")
def set_liveness(deps: Deps, principal: Staff, door_id: str, body: DoorLivenessSet) -> DoorPublic:
    """Set how a door checks that a face is live (audited; the door's next snapshot has it)."""
    door = places.set_door_liveness(context_for(deps, principal), door_id, body.liveness)
    return DoorPublic.of(door)


@router.post("/doors/{door_id}/unlock", status_code=204)
def unlock(deps: Deps, principal: Staff, door_id: str) -> None:
    """Open a door once by remote command (audited, with whether it worked)."""
    if deps.opener is None:
        raise ServiceUnavailableError("no door driver is configured on this server")
    activity.remote_unlock(context_for(deps, principal), deps.opener, door_id)


@router.post("/doors/{door_id}/frames")
async def post_frame(
    deps: Deps,
    principal: Device,
    door_id: str,
    file: Annotated[UploadFile, File(description="One camera frame, JPEG or PNG.")],
    card: Annotated[
        str | None,
        Form(
            min_length=1,
            max_length=200,
            description="A card number read with the frame (a face-and-card door).",
        ),
    ] = None,
) -> DecisionPublic:
    """A gate's (or kiosk's) frame for its own door, answered with the decision.

    ``card``: a card read at the door with the frame; on an ``all_of`` face-and-card
    door it waits the gate's ``card_window_s`` for the face, which is then checked 1:1
    against the card holder's templates (a card alone opens nothing there).

    The frame is read here, then decoded (once) and decided on one of the server's
    frame workers, never on the event loop; when every worker is busy the answer is an
    immediate 503 with ``Retry-After``, as it is for a frame of a door whose last frame
    is still being decided (a door's frames are decided one at a time). The posting
    gate counts as seen (``/health``), its camera ``ok`` when the frame decodes,
    ``failed`` when it does not. While an administrator asks this kiosk's frame
    (:mod:`facegate.services.gate_frames`), the frame is also handed to their page (in
    memory, never stored).
    """
    gate_id = _own_door(deps, principal, door_id)
    data = await read_bounded(file, deps.settings.server.max_upload_bytes)
    DESK.offer(gate_id, data)  # taken only while an administrator asks this kiosk's frame
    decider = decider_of(deps)
    try:
        decision = await deps.frame_pool.run(decider.decide_frame, door_id, data, card, key=door_id)
    except (InvalidImageError, ImageTooLargeError, ImageTooSmallError):
        BOARD.seen(gate_id, deps.clock.now(), camera="failed")
        raise
    BOARD.seen(gate_id, deps.clock.now(), camera="ok")
    return DecisionPublic(
        granted=decision.granted,
        reason=decision.reason,
        decided_at=decision.decided_at,
        pending=decision.pending,
        challenge=ChallengePublic.of(decision.challenge),
    )


def _own_door(deps: ServerDeps, principal: Principal, door_id: str) -> str:
    """The posting gate's id, once its key is shown to be for ``door_id``; marks it seen.

    Raises:
        PolicyRefusedError: not a device key, or one for another door or lift.
    """
    device = principal.device
    if device is None or device.target_id != door_id:
        raise PolicyRefusedError("this device key is for another door")
    BOARD.seen(device.gate_id, deps.clock.now())
    return device.gate_id


class CredentialShown(BaseModel):
    """A credential typed or scanned at a door's kiosk (the fallback to the face)."""

    kind: Literal["card", "pin", "qr"]
    value: str = Field(min_length=1, max_length=200)


@router.post("/doors/{door_id}/credentials")
def post_credential(
    deps: Deps, principal: Device, door_id: str, body: CredentialShown
) -> DecisionPublic:
    """A card number, PIN or QR code shown at a door's kiosk, answered with the decision.

    The posting gate counts as seen (``/health``), its camera state unchanged.
    """
    _own_door(deps, principal, door_id)
    decision = decider_of(deps).decide_credential(door_id, body.kind, body.value)
    return DecisionPublic(
        granted=decision.granted, reason=decision.reason, decided_at=decision.decided_at
    )


@router.get("/devices/keys")
def list_keys(deps: Deps, principal: Admin) -> list[KeyPublic]:
    """Every device key (never their secrets)."""
    return [KeyPublic.of(k) for k in accounts.list_device_keys(context_for(deps, principal))]


@router.post("/devices/keys", status_code=201)
def issue_key(deps: Deps, principal: Admin, body: KeyCreate) -> KeyPublic:
    """Issue a gate's key; its secret comes back once."""
    target_id, gate_id = body.binding()
    issued = accounts.issue_device_key(
        context_for(deps, principal), target_id, body.label, body.kind, gate_id
    )
    return KeyPublic.of(issued.key, issued.secret)


@router.delete("/devices/keys/{key_id}")
def revoke_key(deps: Deps, principal: Admin, key_id: str) -> KeyPublic:
    """Revoke a device key at once."""
    return KeyPublic.of(accounts.revoke_device_key(context_for(deps, principal), key_id))
