"""People, consent, enrollment, credentials, passes and alerts through the API."""

from __future__ import annotations

import io

from PIL import Image

from api_site import Site
from support import png_header_only


def png(size: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (120, 90, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_health_and_openapi_need_no_login(site: Site) -> None:
    client = site.client()
    assert client.get("/api/v1/health").json()["status"] == "ok"
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/people" in paths
    assert "/api/v1/doors/{door_id}/frames" in paths


def test_add_person_consent_then_enroll_from_uploads(site: Site) -> None:
    client = site.client("operator")
    person = client.post("/api/v1/people", json={"name": "Cai Wen"}).json()
    files = [("files", ("7.png", png(), "image/png"))]
    refused = client.post(f"/api/v1/people/{person['id']}/enrollment", files=files)
    assert refused.status_code == 403
    assert refused.json()["error"] == "consent_required"
    consent = client.post(
        f"/api/v1/people/{person['id']}/consents", json={"text_version": "2026-01"}
    )
    assert consent.status_code == 201
    files = [("files", ("7.png", png(), "image/png")), ("files", ("blur.png", png(), "image/png"))]
    verdicts = client.post(f"/api/v1/people/{person['id']}/photos/check", files=files).json()
    assert [v["accepted"] for v in verdicts] == [True, False]
    assert "no face" in verdicts[1]["reason"]
    enrolled = client.post(f"/api/v1/people/{person['id']}/enrollment", files=files).json()
    assert enrolled["enrolled"] == 1
    assert enrolled["failures"][0]["name"] == "blur.png"
    listed = client.get("/api/v1/people").json()
    assert "Cai Wen" in [p["name"] for p in listed]


def test_uploads_are_bounded_with_a_reason(site: Site) -> None:
    client = site.client("operator")
    pid = site.resident_id
    client.post(f"/api/v1/people/{pid}/consents", json={"text_version": "v1"})
    url = f"/api/v1/people/{pid}/enrollment"
    huge = client.post(
        url, files=[("files", ("1.png", png_header_only(30000, 30000), "image/png"))]
    )
    assert huge.status_code == 413
    assert "pixels" in huge.json()["detail"]
    junk = client.post(url, files=[("files", ("1.png", b"not an image", "image/png"))])
    assert junk.status_code == 415
    none = client.post(url, files=[])
    assert none.status_code == 422


def test_byte_limit_refuses_early(site: Site) -> None:
    from dataclasses import replace

    site.deps.settings = site.deps.settings.model_copy(
        update={"server": replace(site.deps.settings.server, max_upload_bytes=100)}
    )
    client = site.client("operator")
    url = f"/api/v1/people/{site.resident_id}/photos/check"
    answer = client.post(url, files=[("files", ("1.png", png(), "image/png"))])
    assert answer.status_code == 413
    assert "100 bytes" in answer.json()["detail"]


def test_unknown_person_is_404_and_duplicate_card_409(site: Site) -> None:
    client = site.client("operator")
    assert client.post("/api/v1/people/nope/cards", json={"number": "1"}).status_code == 404
    url = f"/api/v1/people/{site.resident_id}/cards"
    assert client.post(url, json={"number": "C-1"}).status_code == 201
    duplicate = client.post(url, json={"number": "C-1"})
    assert duplicate.status_code == 409
    assert duplicate.json()["error"] == "conflict"


def test_pass_comes_with_a_qr_code_once(site: Site) -> None:
    client = site.client("operator")
    issued = client.post(
        f"/api/v1/people/{site.resident_id}/passes", json={"visitor_name": "Dee", "hours": 2}
    ).json()
    assert issued["code"]
    assert issued["qr_svg"].lstrip().startswith("<svg")
    listed = client.get(f"/api/v1/people/{site.resident_id}/passes").json()
    assert listed[0]["code"] is None
    image = client.post("/api/v1/passes/qr.png", json={"code": issued["code"]})
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")


def test_alerts_carry_reason_basis_expiry_and_notify(site: Site) -> None:
    client = site.client("operator")
    body = {"person_id": site.other_id, "reason": "threats", "legal_basis": "court order 12"}
    added = client.post("/api/v1/alerts", json=body)
    assert added.status_code == 201
    entry = client.get("/api/v1/alerts").json()[0]
    assert (entry["reason"], entry["legal_basis"]) == ("threats", "court order 12")
    assert entry["expires_at"] > entry["added_at"]
    assert site.notified[0]["alert_id"] == entry["id"]
    assert "name" not in site.notified[0]
