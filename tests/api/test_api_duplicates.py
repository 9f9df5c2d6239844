"""A face already enrolled for someone else: 409 through the API, or enrolled when allowed.

The API site's describer reads a photo named ``<seed>.png`` as the face of that seed, so
two people sent the same ``7.png`` have the same face.
"""

from __future__ import annotations

import io

from PIL import Image

from api_site import Site


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (120, 90, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


def person_with_consent(site: Site, name: str) -> str:
    client = site.client("operator")
    person = client.post("/api/v1/people", json={"name": name}).json()
    consent = client.post(f"/api/v1/people/{person['id']}/consents", json={"text_version": "v1"})
    assert consent.status_code == 201
    return str(person["id"])


def test_the_same_face_for_another_person_is_409_unless_allowed(site: Site) -> None:
    client = site.client("operator")
    first, second = person_with_consent(site, "Cai Wen"), person_with_consent(site, "Cai Wu")
    files = [("files", ("7.png", png(), "image/png"))]
    assert client.post(f"/api/v1/people/{first}/enrollment", files=files).status_code == 201

    refused = client.post(f"/api/v1/people/{second}/enrollment", files=files)
    assert refused.status_code == 409
    assert refused.json()["error"] == "duplicate_face"
    assert first in refused.json()["detail"]

    allowed = client.post(
        f"/api/v1/people/{second}/enrollment", files=files, data={"allow_duplicate": "true"}
    )
    assert allowed.status_code == 201
    assert allowed.json()["enrolled"] == 1

    other = client.post(
        f"/api/v1/people/{second}/enrollment", files=[("files", ("8.png", png(), "image/png"))]
    )
    assert other.status_code == 201
