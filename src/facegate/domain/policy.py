"""The access policy: one pure decision function for every credential at a door or lift.

:func:`decide` takes what a reader saw (:class:`Presentation`: a face's evidence, a card
number, a PIN, a QR code), the place (:class:`Target`: a door or a lift), the site's
access data (:class:`AccessData`, what a gate's snapshot holds) and the moment, and
returns a :class:`Decision` whose reason is one of the closed
:class:`~facegate.domain.reasons.Reason` codes. No I/O and no clock reads: everything
comes in as arguments. Every doubt is a deny.

Order of the checks:

1. Site mode: ``lockdown`` denies everything, ``free_passage`` and ``fire`` grant
   everything (a lift then enables all its floors). Which mode holds when several are
   asked for is :func:`facegate.domain.site_mode.effective_mode`'s business.
2. Credentials: each presented credential is resolved to a person (or a visitor pass),
   or refused (``no_face``, ``low_quality``, ``spoof_suspected``, ``unknown_face``,
   ``below_margin``, ``unknown_credential``, ``wrong_pin``, ``pass_expired``...).
   ``any_of`` needs one good credential; ``all_of`` needs every kind the door accepts,
   all naming the same person; the face is then checked 1:1 against that person's
   templates (nobody else is named: the mode for places where identification is not
   allowed) and, with a cohort margin (:attr:`MatchPolicy.cohort_margin`), must be
   nearer to them than to the nearest others of the gallery by that margin
   (``below_margin``).
3. The person: alert list (deny, and the decision carries ``alert``), face consent in
   force for a face credential, moved out, then the access rules and their schedules.
   A lift's decision lists only the floors allowed now: the person's home floor and
   extra floors (:mod:`facegate.domain.lifts`); a visitor pass rides to its host's floor.

A PIN alone names nobody (PIN hashes are deliberately slow to test, so a gate cannot try
them all): a keypad sends the person's id with the PIN, or the PIN is checked against
the person another credential named.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from facegate.domain.access import AccessRule, AlertEntry, access_reason
from facegate.domain.credentials import VisitorPass, pin_matches, qr_code_hash
from facegate.domain.lifts import LiftCar, pass_floors, person_floors
from facegate.domain.matching import FloatArray, Gallery, MatchPolicy
from facegate.domain.passback import Presence, ZoneDoor
from facegate.domain.people import Role
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode, DoorLiveness


class SiteMode(StrEnum):
    """The site's operating mode, set by an operator, the city hub or a fire panel.

    ``free_passage`` (set by an operator) and ``fire`` (a fire panel) both open every
    door with no credential; ``fire`` outranks ``lockdown``, ``free_passage`` does not.
    """

    NORMAL = "normal"
    LOCKDOWN = "lockdown"
    FREE_PASSAGE = "free_passage"
    FIRE = "fire"

    @property
    def opens_freely(self) -> bool:
        """Whether doors stand open in this mode (no face or card needed)."""
        return self in (SiteMode.FREE_PASSAGE, SiteMode.FIRE)


@dataclass(frozen=True, slots=True)
class PersonAccess:
    """What the policy needs to know of one person.

    Attributes:
        role: their role (access rules may name roles).
        face_consent: whether a face_access consent was in force when the data was read.
        face_consent_until: when that consent was withdrawn, ``None`` while it holds (a
            face credential is refused from then).
        moved_out: whether they have left the site (every credential refused).
    """

    role: Role
    face_consent: bool = True
    face_consent_until: datetime | None = None
    moved_out: bool = False

    def face_allowed(self, now: datetime) -> bool:
        """Whether their face may be used at ``now``."""
        if not self.face_consent:
            return False
        return self.face_consent_until is None or now < self.face_consent_until


@dataclass(frozen=True, slots=True)
class AccessData:
    """Everything the policy reads about a site (a gate's snapshot holds one).

    Attributes:
        mode: the site's mode.
        people: person id to what the policy needs of them.
        gallery: face templates of people whose face consent is in force.
        match: threshold and margin for face comparisons (euclidean distance).
        cards: card number to person id.
        pins: person id to the PIN's scrypt hash.
        passes: QR code hash (:func:`qr_code_hash`) to the visitor pass.
        rules: the access rules.
        alerts: the alert list.
        home_floors: for a lift, person id to their unit's floor in the lift's building
            (see :mod:`facegate.domain.lifts`); empty for a door.
        presence: for a door in an anti-passback zone, person id to their presence in
            that zone (:mod:`facegate.domain.passback`); empty otherwise.
    """

    mode: SiteMode
    people: Mapping[str, PersonAccess]
    gallery: Gallery
    match: MatchPolicy
    cards: Mapping[str, str] = field(default_factory=dict)
    pins: Mapping[str, str] = field(default_factory=dict)
    passes: Mapping[str, VisitorPass] = field(default_factory=dict)
    rules: Sequence[AccessRule] = ()
    alerts: Sequence[AlertEntry] = ()
    home_floors: Mapping[str, int] = field(default_factory=dict)
    presence: Mapping[str, Presence] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Target:
    """Where the decision is for: a door (``floors`` empty) or a lift (``floors`` set).

    Attributes:
        id: the door's or lift's id.
        accepted: the credential kinds its reader takes.
        mode: how credentials combine.
        floors: the floors a lift serves; empty for a door.
        name: its display name (integrations such as Home Assistant show it).
        building_id: a lift's building (its residents' home floors and building-bound
            rules apply there); ``None`` for a door.
        liveness: how the door checks that a face is live (a lift: ``default``).
        zone: a door's anti-passback zone and direction (``None``: in no zone); checked
            by the door controller after the policy granted (:mod:`facegate.domain.passback`).
    """

    id: str
    accepted: frozenset[CredentialKind]
    mode: CredentialMode = CredentialMode.ANY_OF
    floors: tuple[int, ...] = ()
    name: str = ""
    building_id: str | None = None
    liveness: DoorLiveness = DoorLiveness.DEFAULT
    zone: ZoneDoor | None = None

    @property
    def is_lift(self) -> bool:
        """Whether this is a lift."""
        return bool(self.floors)

    @property
    def car(self) -> LiftCar:
        """The lift as :mod:`facegate.domain.lifts` sees it."""
        return LiftCar(self.floors, self.building_id)


@dataclass(frozen=True, slots=True)
class FaceEvidence:
    """What the camera pipeline made of one face.

    Attributes:
        descriptor: the 128-D descriptor, ``None`` when the face was refused before.
        refusal: why the face was refused before matching (``no_face``,
            ``multiple_faces``, ``low_quality``, ``spoof_suspected``), else ``None``.
    """

    descriptor: FloatArray | None = None
    refusal: Reason | None = None


@dataclass(frozen=True, slots=True)
class Presentation:
    """The credentials shown at one reader for one decision.

    Attributes:
        face: the face's evidence, if the camera took part.
        card_number: a card's number, if one was read.
        pin: a PIN typed on the keypad.
        pin_person_id: the person the keypad names with the PIN (user code), if any.
        qr_code: a QR pass's code, if one was scanned.
    """

    face: FaceEvidence | None = None
    card_number: str | None = None
    pin: str | None = None
    pin_person_id: str | None = None
    qr_code: str | None = None

    def kinds(self) -> frozenset[CredentialKind]:
        """The credential kinds present."""
        present = {
            CredentialKind.FACE: self.face is not None,
            CredentialKind.CARD: self.card_number is not None,
            CredentialKind.PIN: self.pin is not None,
            CredentialKind.QR: self.qr_code is not None,
        }
        return frozenset(kind for kind, shown in present.items() if shown)


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one presentation.

    Attributes:
        granted: whether to open (or enable floors).
        reason: why, from the closed list.
        person_id: who, when a credential named someone (also on a deny).
        credentials: the kinds that were used.
        floors: for a lift, the floors to enable for one ride (empty on a deny).
        alert: the person is on the alert list (raise an alarm, not only a deny).
        pass_id: the visitor pass used (its use must be counted).
        scores: measures behind it (``distance``, ``margin``), euclidean units.
    """

    granted: bool
    reason: Reason
    person_id: str | None = None
    credentials: frozenset[CredentialKind] = frozenset()
    floors: tuple[int, ...] = ()
    alert: bool = False
    pass_id: str | None = None
    scores: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.granted != (self.reason is Reason.GRANTED):
            raise ValueError("a decision is granted exactly when its reason is 'granted'")


def deny(
    reason: Reason,
    person_id: str | None = None,
    *,
    alert: bool = False,
    pass_id: str | None = None,
    scores: Mapping[str, float] | None = None,
) -> Decision:
    """A deny with ``reason``, naming whom and what it concerns where known."""
    return Decision(
        False, reason, person_id, alert=alert, pass_id=pass_id, scores=dict(scores or {})
    )


@dataclass(frozen=True, slots=True)
class _Claim:
    """One credential resolved: a person, a pass, or a refusal."""

    kind: CredentialKind
    person_id: str | None = None
    refusal: Reason | None = None
    visitor_pass: VisitorPass | None = None
    scores: Mapping[str, float] = field(default_factory=dict)


def decide(presented: Presentation, target: Target, data: AccessData, now: datetime) -> Decision:
    """Decide whether ``presented`` opens ``target`` at ``now``.

    Args:
        presented: the credentials shown.
        target: the door or lift.
        data: the site's access data.
        now: the moment of the decision (aware).

    Returns:
        The decision; granted only when every check passed.
    """
    if data.mode is SiteMode.LOCKDOWN:
        return deny(Reason.LOCKDOWN)
    if data.mode.opens_freely:
        return Decision(True, Reason.GRANTED, floors=target.floors)
    kinds = presented.kinds() & target.accepted
    if not kinds:
        return deny(Reason.NOT_ALLOWED_HERE if presented.kinds() else Reason.NO_FACE)
    if target.mode is CredentialMode.ALL_OF:
        return _decide_all_of(presented, target, data, now)
    return _decide_any_of(presented, kinds, target, data, now)


def _decide_any_of(
    presented: Presentation,
    kinds: frozenset[CredentialKind],
    target: Target,
    data: AccessData,
    now: datetime,
) -> Decision:
    outcomes = []
    for kind in sorted(kinds):
        claim = _resolve(kind, presented, target, data, now, None)
        outcome = _judge(claim, frozenset({kind}), target, data, now)
        if outcome.granted:
            return outcome
        outcomes.append(outcome)
    alerts = [o for o in outcomes if o.alert]
    return alerts[0] if alerts else outcomes[0]


def _decide_all_of(
    presented: Presentation, target: Target, data: AccessData, now: datetime
) -> Decision:
    missing = target.accepted - presented.kinds()
    if missing - {CredentialKind.FACE}:
        return deny(Reason.UNKNOWN_CREDENTIAL)
    # Card and QR first: they name the person the face is then checked against (1:1); a
    # card shown without the face yet is checked first: an unknown card is refused as such
    # at once, a known one waits for the face (``no_face``). The PIN last: a second factor
    # checked against whoever the others named.
    order = sorted(
        target.accepted, key=lambda k: (k is CredentialKind.PIN, k is CredentialKind.FACE, k.value)
    )
    claimed: str | None = None
    scores: dict[str, float] = {}
    for kind in order:
        if kind in missing:
            return deny(Reason.NO_FACE)
        claim = _resolve(kind, presented, target, data, now, claimed)
        if claim.refusal is not None:
            return deny(claim.refusal, person_id=claimed, scores=claim.scores)
        if claimed is not None and claim.person_id != claimed:
            return deny(Reason.UNKNOWN_CREDENTIAL, person_id=claimed)
        claimed = claim.person_id
        scores.update(claim.scores)
    final = _Claim(CredentialKind.CARD, person_id=claimed, scores=scores)
    return _judge(final, target.accepted, target, data, now)


def _resolve(
    kind: CredentialKind,
    presented: Presentation,
    target: Target,
    data: AccessData,
    now: datetime,
    claimed: str | None,
) -> _Claim:
    """Resolve one credential; ``claimed`` is the person other credentials named."""
    if kind is CredentialKind.FACE:
        return _resolve_face(presented.face or FaceEvidence(refusal=Reason.NO_FACE), data, claimed)
    if kind is CredentialKind.CARD:
        person = data.cards.get(presented.card_number or "")
        refusal = None if person is not None else Reason.UNKNOWN_CREDENTIAL
        return _Claim(kind, person_id=person, refusal=refusal)
    if kind is CredentialKind.PIN:
        return _resolve_pin(presented, data, claimed)
    return _resolve_qr(presented.qr_code or "", data, now, target)


def _resolve_face(face: FaceEvidence, data: AccessData, claimed: str | None) -> _Claim:
    kind = CredentialKind.FACE
    if face.refusal is not None or face.descriptor is None:
        return _Claim(kind, refusal=face.refusal or Reason.NO_FACE)
    if claimed is not None:
        return _verify_claim(face.descriptor, data, claimed)
    # 1:N: the threshold for this gallery's size (lower as it grows; -inf when no
    # threshold keeps strangers under the FPIR target: the face alone names nobody).
    found, limit = data.gallery.search(face.descriptor, data.match)
    measures = (("distance", found.distance), ("margin", found.margin), ("threshold", limit))
    scores = {name: value for name, value in measures if math.isfinite(value)}
    refusal = None if found.reason is Reason.GRANTED else found.reason
    return _Claim(kind, person_id=found.person_id, refusal=refusal, scores=scores)


def _verify_claim(descriptor: FloatArray, data: AccessData, claimed: str) -> _Claim:
    """1:1 against the person the other credentials named, then against the others.

    The face must be within the 1:1 threshold of the claimed person's templates
    (``unknown_face`` else) and, with a cohort margin set, the mean distance of the
    nearest other people of the gallery (:attr:`MatchPolicy.cohort_share`) must exceed
    the claimed one by that margin (``below_margin`` else: the face is not distinctively
    the card holder's, as a stranger's holding a look-alike's card). The decision names
    nobody else; its ``margin`` score is that mean less the claimed distance.
    """
    kind = CredentialKind.FACE
    distance = data.gallery.person_distance(descriptor, claimed)
    scores = {"distance": distance} if math.isfinite(distance) else {}
    # Written so a NaN threshold or margin fails closed.
    if not distance <= data.match.threshold:
        return _Claim(kind, person_id=None, refusal=Reason.UNKNOWN_FACE, scores=scores)
    margin = data.match.cohort_margin
    if margin is not None:
        count = data.match.cohort_count(data.gallery.people_count() - 1)
        cohort = data.gallery.nearest_other_distances(descriptor, claimed, count)
        lead = float(cohort.mean()) - distance if len(cohort) else math.inf
        if math.isfinite(lead):
            scores["margin"] = lead
        if not lead >= margin:
            return _Claim(kind, person_id=None, refusal=Reason.BELOW_MARGIN, scores=scores)
    return _Claim(kind, person_id=claimed, scores=scores)


def _resolve_pin(presented: Presentation, data: AccessData, claimed: str | None) -> _Claim:
    kind = CredentialKind.PIN
    person = claimed or presented.pin_person_id
    stored = data.pins.get(person or "")
    if person is None or stored is None:
        return _Claim(kind, refusal=Reason.UNKNOWN_CREDENTIAL)
    if not pin_matches(presented.pin or "", stored):
        return _Claim(kind, person_id=person, refusal=Reason.WRONG_PIN)
    return _Claim(kind, person_id=person)


def _resolve_qr(code: str, data: AccessData, now: datetime, target: Target) -> _Claim:
    kind = CredentialKind.QR
    visitor_pass = data.passes.get(qr_code_hash(code))
    if visitor_pass is None:
        return _Claim(kind, refusal=Reason.UNKNOWN_CREDENTIAL)
    refusal = visitor_pass.refusal(now, counting_uses=not target.is_lift)
    return _Claim(kind, refusal=refusal, visitor_pass=visitor_pass)


def _judge(
    claim: _Claim,
    used: frozenset[CredentialKind],
    target: Target,
    data: AccessData,
    now: datetime,
) -> Decision:
    """Decide on a resolved credential: refusals, then the person's standing and rules."""
    if claim.refusal is not None:
        return deny(claim.refusal, person_id=claim.person_id, scores=claim.scores)
    if claim.visitor_pass is not None:
        return _pass_decision(claim.visitor_pass, used, target, data)
    person_id = claim.person_id or ""
    standing = _standing(person_id, used, data, now)
    if isinstance(standing, Decision):
        return standing
    role = standing.role
    if target.is_lift:
        return _lift_floors(person_id, role, used, target, data, now, claim.scores)
    reason = access_reason(data.rules, person_id, role, target.id, now)
    return Decision(
        reason is Reason.GRANTED, reason, person_id, credentials=used, scores=claim.scores
    )


def _standing(
    person_id: str, used: frozenset[CredentialKind], data: AccessData, now: datetime
) -> Decision | PersonAccess:
    """A deny for who the person is (alert list, consent, moved out), else the person."""
    person = data.people.get(person_id)
    if person is None:
        return deny(Reason.UNKNOWN_CREDENTIAL)
    if any(entry.person_id == person_id and entry.active(now) for entry in data.alerts):
        return deny(Reason.ALERT_LIST, person_id=person_id, alert=True)
    if CredentialKind.FACE in used and not person.face_allowed(now):
        return deny(Reason.CONSENT_WITHDRAWN, person_id=person_id)
    if person.moved_out:
        return deny(Reason.NOT_ALLOWED_HERE, person_id=person_id)
    return person


def _pass_decision(
    visitor_pass: VisitorPass, used: frozenset[CredentialKind], target: Target, data: AccessData
) -> Decision:
    """A good pass opens a door; in a lift it rides to its host's home floor only."""
    if not target.is_lift:
        return Decision(True, Reason.GRANTED, credentials=used, pass_id=visitor_pass.id)
    host = data.people.get(visitor_pass.host_id)
    home = data.home_floors.get(visitor_pass.host_id)
    reason, floors = pass_floors(None if host is None or host.moved_out else home, target.car)
    if not floors:
        return deny(reason, pass_id=visitor_pass.id)
    return Decision(True, reason, credentials=used, floors=floors, pass_id=visitor_pass.id)


def _lift_floors(
    person_id: str,
    role: Role,
    used: frozenset[CredentialKind],
    target: Target,
    data: AccessData,
    now: datetime,
    scores: Mapping[str, float],
) -> Decision:
    home = data.home_floors.get(person_id)
    reason, floors = person_floors(data.rules, person_id, role, home, target.car, now)
    if not floors:
        return deny(reason, person_id=person_id)
    return Decision(True, reason, person_id, used, floors=floors, scores=scores)
