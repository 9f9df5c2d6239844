"""The city's wire formats and the hub's schema have no place for a person, a template or
an image; signatures bind each body to its sender; notices are checked before use."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel

from facegate.city import wire
from facegate.city.keys import new_private_key
from facegate.city.wire import EventBatch, Notice, SignatureRefusedError, WireEvent, seal, unseal
from facegate.domain.errors import BadInputError
from facegate.domain.policy import SiteMode
from facegate.domain.reasons import Reason
from facegate.hub.schema import metadata
from facegate.uplink.notices import NoticeReceiver
from facegate.uplink.state import UplinkFiles

FORBIDDEN = ("person", "resident", "template", "descriptor", "embedding", "image", "photo",
             "snapshot", "face", "name", "scores")  # fmt: skip
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _fields(model: type[BaseModel], seen: set[str] | None = None) -> set[str]:
    found: set[str] = set()
    for name, info in model.model_fields.items():
        found.add(name)
        annotation = info.annotation
        for inner in (*getattr(annotation, "__args__", ()), annotation):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                found |= _fields(inner)
    return found


@pytest.mark.parametrize(
    "model", [wire.WireEvent, wire.EventBatch, wire.Health, wire.DailySummary, wire.Notice]
)
def test_wire_models_have_no_place_for_personal_data(model: type[BaseModel]) -> None:
    fields = _fields(model)
    assert fields
    assert not [f for f in fields if any(bad in f for bad in FORBIDDEN)], fields
    assert model.model_config.get("extra") == "forbid"


def test_hub_schema_has_no_place_for_personal_data() -> None:
    columns = {f"{t.name}.{c.name}" for t in metadata.tables.values() for c in t.columns}
    assert "events.door_id" in columns
    bad = [c for c in columns if any(w in c.split(".")[1] for w in FORBIDDEN)]
    # the complex's name, and the login of the hub's own operators: no resident anywhere
    assert sorted(bad) == ["accounts.username", "sites.name"]


def test_an_event_with_a_person_is_refused_by_the_wire() -> None:
    raw = {"key": "k", "seq": 1, "door_id": "d", "occurred_at": NOW.isoformat(),
           "granted": True, "reason": "granted", "person_id": "p"}  # fmt: skip
    with pytest.raises(ValueError, match="person_id"):
        WireEvent.model_validate(raw)


def _batch(site: str) -> EventBatch:
    event = WireEvent(key="k", seq=1, door_id="d", occurred_at=NOW, granted=False,
                      reason=Reason.UNKNOWN_FACE)  # fmt: skip
    return EventBatch(site_id=site, sent_at=NOW, events=[event])


def test_signature_binds_body_to_key() -> None:
    mine, other = new_private_key(), new_private_key()
    raw = seal(_batch("s1"), mine)
    assert unseal(raw, mine.public_key(), EventBatch).site_id == "s1"
    with pytest.raises(SignatureRefusedError):
        unseal(raw, other.public_key(), EventBatch)
    envelope = json.loads(raw)
    envelope["body"] = envelope["body"].replace('"s1"', '"s2"')
    with pytest.raises(SignatureRefusedError):
        unseal(json.dumps(envelope).encode(), mine.public_key(), EventBatch)
    with pytest.raises(BadInputError):
        unseal(b"not json", mine.public_key(), EventBatch)


class _RecordingPort:
    """A site-mode port that keeps what it was asked (the real one is the service)."""

    def __init__(self) -> None:
        self.modes: list[tuple[SiteMode, datetime]] = []
        self.texts: list[str] = []

    def request_city_mode(self, mode: SiteMode, until: datetime, notice_seq: int) -> None:
        self.modes.append((mode, until))

    def announce(self, text: str, until: datetime, notice_seq: int) -> None:
        self.texts.append(text)

    def asked(self) -> SiteMode:
        return self.modes[-1][0] if self.modes else SiteMode.NORMAL


class _Receiver:
    def __init__(self, tmp_path: Path, opt_in: bool = False) -> None:
        self.hub = new_private_key()
        self.mode = _RecordingPort()
        self.audited: list[tuple[str, dict[str, object]]] = []
        self.receiver = NoticeReceiver(
            UplinkFiles(tmp_path), "s1", self.hub.public_key(), self.mode,
            lambda a, d: self.audited.append((a, d)), lambda: NOW, opt_in,
        )  # fmt: skip

    def notice(self, seq: int = 1, kind: str = "lockdown", **changes: object) -> Notice:
        values: dict[str, object] = {"seq": seq, "site_id": "s1", "kind": kind}
        values.update(issued_at=NOW, ends_at=NOW + timedelta(hours=1))
        values.update(changes)
        return Notice.model_validate(values)

    def why(self) -> object:
        action, details = self.audited[-1]
        return details["why"] if action == "city_notice.refuse" else action


def test_notice_applied(tmp_path: Path) -> None:
    r = _Receiver(tmp_path)
    assert r.receiver.receive(seal(r.notice(), r.hub)) is not None
    assert r.why() == "city_notice.apply"
    assert r.mode.modes == [(SiteMode.LOCKDOWN, NOW + timedelta(hours=1))]
    assert r.receiver.receive(seal(r.notice(seq=2, kind="announcement", text="hi"), r.hub))
    assert r.mode.texts == ["hi"]


@pytest.mark.parametrize(
    ("case", "why"),
    [
        ("unsigned", "malformed"),
        ("altered", "signature"),
        ("foreign_key", "signature"),
        ("expired", "expired"),
        ("other_site", "other_site"),
        ("replayed", "replayed"),
        ("free_passage", "not_opted_in"),
    ],
)
def test_bad_notices_are_refused_and_logged(tmp_path: Path, case: str, why: str) -> None:
    r = _Receiver(tmp_path)
    raw = seal(r.notice(), r.hub)
    if case == "unsigned":
        raw = r.notice().model_dump_json().encode()
    elif case == "altered":
        envelope = json.loads(raw)
        envelope["body"] = envelope["body"].replace("lockdown", "normal")
        raw = json.dumps(envelope).encode()
    elif case == "foreign_key":
        raw = seal(r.notice(), new_private_key())
    elif case == "expired":
        raw = seal(r.notice(ends_at=NOW - timedelta(seconds=1)), r.hub)
    elif case == "other_site":
        raw = seal(r.notice(site_id="s2"), r.hub)
    elif case == "replayed":
        assert r.receiver.receive(seal(r.notice(seq=5), r.hub)) is not None
        raw = seal(r.notice(seq=5, kind="normal"), r.hub)
    elif case == "free_passage":
        raw = seal(r.notice(kind="free_passage"), r.hub)
    assert r.receiver.receive(raw) is None
    assert r.why() == why
    expected = SiteMode.LOCKDOWN if case == "replayed" else SiteMode.NORMAL
    assert r.mode.asked() is expected


def test_a_site_whose_clock_is_behind_still_applies_a_lockdown(tmp_path: Path) -> None:
    """Before, a notice issued more than 5 minutes ahead of the site's clock was refused
    (``malformed``): a site whose clock ran 10 minutes slow refused every lockdown."""
    r = _Receiver(tmp_path)  # the site's clock reads NOW
    issued = NOW + timedelta(minutes=10)  # the hub's clock
    notice = r.notice(issued_at=issued, ends_at=issued + timedelta(hours=1))
    assert r.receiver.receive(seal(notice, r.hub)) is not None
    assert r.mode.asked() is SiteMode.LOCKDOWN


def test_free_passage_for_a_site_that_opted_in(tmp_path: Path) -> None:
    r = _Receiver(tmp_path, opt_in=True)
    assert r.receiver.receive(seal(r.notice(kind="free_passage"), r.hub)) is not None
    assert r.mode.asked() is SiteMode.FREE_PASSAGE


def test_a_cursor_left_empty_by_a_power_cut_sends_everything_again(tmp_path: Path) -> None:
    files = UplinkFiles(tmp_path)
    files.save_cursor(41)
    assert files.cursor() == 41
    files.cursor_path.write_text("")  # what a power cut may leave of a file not fsynced
    assert files.cursor() == 0


def test_a_batch_read_event_by_event_still_takes_no_unknown_field() -> None:
    """A batch that does not parse whole is read event by event (its site would resend it
    forever otherwise); an event with a field the wire does not know is refused, and a
    batch with one is refused whole."""
    good = json.loads(WireEvent(key="k1", seq=1, door_id="d", occurred_at=NOW, granted=True,
                                reason=Reason.GRANTED).model_dump_json())  # fmt: skip
    events = [good, {**good, "key": "k2", "seq": 2, "face": "x"}, {"seq": 3}, {"seq": "4"}]
    body = {"site_id": "s1", "sent_at": NOW.isoformat(), "events": events}
    sifted = wire.sift_batch(json.dumps(body).encode())
    assert [e.key for e in sifted.events] == ["k1"]
    assert (sifted.seqs, sifted.refused) == ([1, 2, 3], 3)
    assert "face" in sifted.why
    with pytest.raises(BadInputError):
        wire.sift_batch(json.dumps({**body, "photo": "x"}).encode())
    with pytest.raises(BadInputError):
        wire.sift_batch(json.dumps({**body, "events": []}).encode())
