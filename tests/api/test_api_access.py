"""Who may do what: roles, residents' own data, CSRF, login rate limit, device keys."""

from __future__ import annotations

import io

from PIL import Image

from api_site import PASSWORD, Site
from facegate.domain.events import Event
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.services import places
from facegate.services.context import ServiceContext, new_id


def add_event(context: ServiceContext, door_id: str, person_id: str | None) -> None:
    with context.store.unit_of_work() as uow:
        uow.events.add(
            Event(new_id(), door_id, context.clock.now(), True, Reason.GRANTED, person_id)
        )
        uow.commit()


def frame() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_nothing_without_a_login(site: Site) -> None:
    client = site.client()
    answer = client.get("/api/v1/people")
    assert answer.status_code == 401
    assert answer.json()["error"] == "not_authenticated"


def test_cookie_is_http_only_and_secure(site: Site) -> None:
    client = site.client()
    answer = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "secure" in cookie
    assert "samesite=lax" in cookie


def test_unsafe_request_without_csrf_token_is_refused(site: Site) -> None:
    client = site.client("operator")
    del client.headers["X-CSRF-Token"]
    answer = client.post("/api/v1/people", json={"name": "X"})
    assert answer.status_code == 403
    assert answer.json()["error"] == "csrf"
    client.headers["X-CSRF-Token"] = "wrong"
    assert client.post("/api/v1/people", json={"name": "X"}).status_code == 403


def test_login_is_rate_limited(site: Site) -> None:
    client = site.client()
    wrong = {"username": "admin", "password": "wrong password!"}
    codes = [client.post("/api/v1/auth/login", json=wrong).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    right = {"username": "admin", "password": PASSWORD}
    assert client.post("/api/v1/auth/login", json=right).status_code == 429
    other = {"username": "operator", "password": PASSWORD}
    assert client.post("/api/v1/auth/login", json=other).status_code == 200
    assert "facegate_logins_failed_total 5" in client.get("/api/v1/metrics").text


def test_auditor_reads_everything_and_changes_nothing(site: Site) -> None:
    client = site.client("auditor")
    assert client.get("/api/v1/people").status_code == 200
    assert client.get("/api/v1/audit").status_code == 200
    assert client.get("/api/v1/audit/verify").json()["intact"] is True
    assert client.post("/api/v1/people", json={"name": "X"}).status_code == 403
    assert client.delete(f"/api/v1/people/{site.resident_id}").status_code == 403


def test_operator_cannot_read_the_audit_log_or_erase(site: Site) -> None:
    client = site.client("operator")
    assert client.get("/api/v1/audit").status_code == 403
    assert client.delete(f"/api/v1/people/{site.resident_id}").status_code == 403
    admin = site.client("admin")
    assert admin.delete(f"/api/v1/people/{site.other_id}").status_code == 200
    actions = [r["action"] for r in admin.get("/api/v1/audit").json()]
    assert "person.erase" in actions
    assert "user.login" in actions


def test_resident_sees_only_their_own_history(site: Site) -> None:
    door = places.add_door(
        site.context, "Gate", DoorKind.ENTRANCE, CredentialMode.ANY_OF, [CredentialKind.CARD]
    )
    add_event(site.context, door.id, site.resident_id)
    add_event(site.context, door.id, site.other_id)
    ann = site.client("ann")
    mine = ann.get("/api/v1/me/events").json()
    assert [e["person_id"] for e in mine] == [site.resident_id]
    assert ann.get("/api/v1/events").status_code == 403
    assert ann.get(f"/api/v1/people/{site.other_id}/export").status_code == 403
    assert ann.get("/api/v1/me/export").json()["person"]["id"] == site.resident_id


def test_resident_consents_withdraws_invites_and_asks_for_erasure(site: Site) -> None:
    ann = site.client("ann")
    assert ann.post("/api/v1/me/consents", json={"text_version": "v1"}).status_code == 201
    withdrawn = ann.delete("/api/v1/me/consents/face_access").json()
    assert withdrawn["withdrawn_at"] is not None
    invite = ann.post("/api/v1/me/passes", json={"visitor_name": "Mum", "hours": 5}).json()
    assert invite["host_id"] == site.resident_id
    assert invite["qr_svg"]
    assert ann.post("/api/v1/me/erasure-request").status_code == 202
    actions = [r["action"] for r in site.client("auditor").get("/api/v1/audit").json()]
    assert "person.erasure_requested" in actions


def test_device_key_posts_frames_for_its_door_only_until_revoked(site: Site) -> None:
    context = site.context
    kinds = [CredentialKind.CARD, CredentialKind.FACE]
    door = places.add_door(context, "Lobby", DoorKind.BUILDING, CredentialMode.ANY_OF, kinds)
    other = places.add_door(context, "Back", DoorKind.BUILDING, CredentialMode.ANY_OF, kinds)
    admin = site.client("admin")
    issued = admin.post("/api/v1/devices/keys", json={"gate_id": door.id}).json()
    gate = site.client()
    gate.headers["X-Device-Key"] = issued["secret"]
    files = {"file": ("f.jpg", frame(), "image/jpeg")}
    assert gate.post(f"/api/v1/doors/{other.id}/frames", files=files).status_code == 403
    # No decision pipeline is wired in yet: the door answers 503, never a silent pass.
    assert gate.post(f"/api/v1/doors/{door.id}/frames", files=files).status_code == 503
    assert gate.get("/api/v1/people").status_code == 403
    assert admin.delete(f"/api/v1/devices/keys/{issued['id']}").json()["revoked_at"]
    assert gate.post(f"/api/v1/doors/{door.id}/frames", files=files).status_code == 401


def test_events_filter_and_live_stream(site: Site) -> None:
    door = places.add_door(
        site.context, "Gate", DoorKind.ENTRANCE, CredentialMode.ANY_OF, [CredentialKind.CARD]
    )
    add_event(site.context, door.id, site.resident_id)
    client = site.client("operator")
    found = client.get("/api/v1/events", params={"person_id": site.resident_id}).json()
    assert len(found) == 1
    assert client.get("/api/v1/events", params={"door_id": "elsewhere"}).json() == []
    since = found[0]["occurred_at"]
    with client.stream(
        "GET", "/api/v1/events/stream", params={"since": since, "duration_s": 0}
    ) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = "".join(stream.iter_text())
    assert "event: access" in text
    assert found[0]["id"] in text


def test_password_reset_link_is_one_time(site: Site) -> None:
    admin = site.client("admin")
    users = {u["username"]: u["id"] for u in admin.get("/api/v1/users").json()}
    link = admin.post(f"/api/v1/users/{users['ann']}/reset-link").json()["path"]
    token = link.split("token=")[1]
    anon = site.client()
    body = {"token": token, "password": "a brand new secret"}
    assert anon.post("/api/v1/auth/reset", json=body).status_code == 204
    assert anon.post("/api/v1/auth/reset", json=body).status_code == 404
    login = {"username": "ann", "password": "a brand new secret"}
    assert anon.post("/api/v1/auth/login", json=login).status_code == 200
