"""Site key rotation on a real SQLite site: every data key re-wrapped, templates still open."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from facegate.bootstrap import (
    build_sealer,
    build_store,
    ensure_site_key,
    rotate_site_key,
    service_context,
)
from facegate.config import Settings
from facegate.domain.errors import KeyFileError
from facegate.domain.matching import MatchPolicy
from facegate.domain.people import ConsentMethod, ConsentPurpose
from facegate.services import people, site_admin
from facegate.services.consent import grant_consent
from facegate.services.enrollment import enroll
from facegate.services.identification import identify_probes, load_gallery
from facegate.store.crypto import encode_site_key, generate_key, read_site_key_file
from fakes import FakeDescriber, unit_descriptor


def enrolled_site(settings: Settings) -> str:
    ensure_site_key(settings)
    store = build_store(settings, migrate=True)
    context = service_context(settings, store)
    site_admin.init_site(context, "Oak Court", "UTC")
    person = people.add_person(context, "Ann")
    grant_consent(context, person.id, ConsentPurpose.FACE_ACCESS, "1", ConsentMethod.WRITTEN)
    enroll(context, build_sealer(settings), FakeDescriber, person.id, [Path("1.jpg")])
    store.close()
    return person.id


def identified(settings: Settings) -> str | None:
    store = build_store(settings)
    try:
        gallery = load_gallery(
            service_context(settings, store), build_sealer(settings), "fake-model"
        )
    finally:
        store.close()
    return identify_probes(gallery, [unit_descriptor(1)], MatchPolicy(0.57, 0.0))[0].person_id


def test_rotation_replaces_the_key_file_and_keeps_faces_readable(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    person_id = enrolled_site(settings)
    old_key = read_site_key_file(settings.site_key_path)
    store = build_store(settings)
    rotation = rotate_site_key(settings, service_context(settings, store))
    store.close()
    assert (rotation.keys, rotation.staged) == (1, None)
    assert read_site_key_file(settings.site_key_path) != old_key
    assert settings.site_key_path.stat().st_mode & 0o777 == 0o600
    assert identified(settings) == person_id
    stale = Settings(data_dir=tmp_path, site_key=SecretStr(encode_site_key(old_key)))
    with pytest.raises(KeyFileError, match="wrapped by site key"):
        identified(stale)


def test_rotation_with_an_environment_key_stages_the_new_one(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, site_key=SecretStr(encode_site_key(generate_key())))
    person_id = enrolled_site(settings)
    store = build_store(settings)
    rotation = rotate_site_key(settings, service_context(settings, store))
    assert rotation.staged == tmp_path / "site.key.new"
    with pytest.raises(KeyFileError, match="did not finish"):
        rotate_site_key(settings, service_context(settings, store))
    store.close()
    new_key = encode_site_key(read_site_key_file(rotation.staged))
    assert identified(Settings(data_dir=tmp_path, site_key=SecretStr(new_key))) == person_id
