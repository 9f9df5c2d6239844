"""AES-GCM template sealing, the site key file, and where the site key comes from."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from facegate.bootstrap import ensure_site_key, load_site_key
from facegate.config import Settings
from facegate.domain.credentials import SealedTemplate, WrappedKey
from facegate.domain.errors import KeyFileError
from facegate.store.crypto import (
    AesGcmSealer,
    encode_site_key,
    generate_key,
    parse_site_key,
    read_site_key_file,
    write_site_key_file,
)
from fakes import FakeClock, unit_descriptor

NOW = FakeClock().now()


def sealed(sealer: AesGcmSealer, person_id: str = "p1") -> tuple[object, SealedTemplate]:
    key = sealer.new_data_key(person_id)
    blob = sealer.seal(key, "t1", "model-a", unit_descriptor(1))
    return key, SealedTemplate("t1", person_id, "model-a", NOW, blob)


def test_a_template_round_trips_and_hides_its_bytes() -> None:
    sealer = AesGcmSealer(generate_key())
    key, template = sealed(sealer)
    assert isinstance(key, type(sealer.new_data_key("x")))
    opened = sealer.open(key, template)  # type: ignore[arg-type]
    np.testing.assert_array_equal(opened, unit_descriptor(1))
    assert unit_descriptor(1).tobytes() not in template.sealed
    assert len(template.sealed) == 12 + 512 + 16


@pytest.mark.parametrize("field", ["id", "person_id", "model_id"])
def test_a_moved_or_relabelled_template_does_not_decrypt(field: str) -> None:
    sealer = AesGcmSealer(generate_key())
    key, template = sealed(sealer)
    moved = dataclasses.replace(template, **{field: "other"})
    with pytest.raises(KeyFileError):
        sealer.open(key, moved)  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["id", "person_id", "model_id"])
def test_opening_a_persons_templates_together_refuses_a_moved_one(field: str) -> None:
    sealer = AesGcmSealer(generate_key())
    key, template = sealed(sealer)
    assert isinstance(key, WrappedKey)
    (opened,) = sealer.open_person(key, [template])
    np.testing.assert_array_equal(opened, unit_descriptor(1))
    moved = dataclasses.replace(template, **{field: "other"})
    with pytest.raises(KeyFileError):
        sealer.open_person(key, [template, moved])


class CountingSealer(AesGcmSealer):
    """Counts the data keys unwrapped."""

    unwrapped = 0

    def _unwrap(self, key: WrappedKey) -> bytes:
        self.unwrapped += 1
        return super()._unwrap(key)


def test_opening_rows_in_bulk_gives_each_templates_descriptor_in_order() -> None:
    sealer = CountingSealer(generate_key())
    keys, rows = {}, []
    for n, person in enumerate(["p1", "p2", "p1", "p3"]):  # p1's rows apart: still one key
        keys.setdefault(person, sealer.new_data_key(person))
        sealed_bytes = sealer.seal(keys[person], f"t{n}", "m", unit_descriptor(n))
        rows.append((f"t{n}", person, sealed_bytes))
    sealer.unwrapped = 0
    opened = sealer.open_rows("m", rows, keys)
    assert sealer.unwrapped == 3  # once per person, their rows apart or not
    assert (opened.shape, opened.dtype) == ((4, 128), np.float32)
    for n, template in enumerate(rows):
        template_row = SealedTemplate(template[0], template[1], "m", NOW, template[2])
        np.testing.assert_array_equal(opened[n], sealer.open(keys[template[1]], template_row))
    opened[0, 0] = 2.0  # a writable array of its own
    assert sealer.open_rows("m", [], keys).shape == (0, 128)


@pytest.mark.parametrize("change", ["template", "person", "model", "key", "erased", "size"])
def test_opening_rows_in_bulk_refuses_a_moved_altered_or_unkeyed_template(change: str) -> None:
    sealer = AesGcmSealer(generate_key())
    keys = {p: sealer.new_data_key(p) for p in ("p1", "p2")}
    good = ("t1", "p1", sealer.seal(keys["p1"], "t1", "m", unit_descriptor(1)))
    bad = {
        "template": ("t9", "p1", good[2]),
        "person": ("t1", "p2", good[2]),
        "model": good,
        "key": ("t1", "p1", good[2]),
        "erased": ("t1", "p3", good[2]),
        "size": ("t1", "p1", _sealed_values(sealer, keys["p1"], "t1", "m", 127)),
    }[change]
    if change == "key":  # another site's key for p1
        keys["p1"] = AesGcmSealer(generate_key()).new_data_key("p1")
    model = "other" if change == "model" else "m"
    with pytest.raises(KeyFileError, match="127 values" if change == "size" else "t1|t9|p3|p1"):
        sealer.open_rows(model, [good, bad] if change != "key" else [bad], keys)


def _sealed_values(
    sealer: AesGcmSealer, key: WrappedKey, template_id: str, model_id: str, count: int
) -> bytes:
    """``count`` float32 values sealed as a template would be (seal() refuses != 128)."""
    nonce = os.urandom(12)
    aad = sealer._template_aad(key.person_id, template_id, model_id)
    plain = np.zeros(count, "<f4").tobytes()
    return nonce + AESGCM(sealer._unwrap(key)).encrypt(nonce, plain, aad)


def test_another_site_key_cannot_open_and_rotation_rewraps() -> None:
    old, new_key = AesGcmSealer(generate_key()), generate_key()
    key, template = sealed(old)
    with pytest.raises(KeyFileError, match=r"wrong site\.key"):
        AesGcmSealer(new_key).open(key, template)  # type: ignore[arg-type]
    rewrapped = old.rewrap(key, new_key)  # type: ignore[arg-type]
    np.testing.assert_array_equal(
        AesGcmSealer(new_key).open(rewrapped, template), unit_descriptor(1)
    )


@pytest.mark.parametrize(
    "text", ["", "not base64!", encode_site_key(b"short"), encode_site_key(b"x" * 33)]
)
def test_malformed_keys_are_refused(text: str) -> None:
    with pytest.raises(KeyFileError, match="malformed site key"):
        parse_site_key(text, "site.key")


def test_the_key_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "site.key"
    key = generate_key()
    write_site_key_file(path, key)
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_site_key_file(path) == key
    with pytest.raises(KeyFileError, match="cannot create"):
        write_site_key_file(path, generate_key())
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="readable by others"):
        read_site_key_file(path)
    with pytest.raises(KeyFileError, match="no site key"):
        read_site_key_file(tmp_path / "absent.key")


def test_the_environment_key_wins_and_init_creates_a_file(tmp_path: Path) -> None:
    env_key = generate_key()
    settings = Settings(data_dir=tmp_path, site_key=SecretStr(encode_site_key(env_key)))
    assert ensure_site_key(settings) == "environment"
    assert load_site_key(settings) == env_key
    assert not settings.site_key_path.exists()
    plain = Settings(data_dir=tmp_path)
    assert ensure_site_key(plain) == "created"
    assert ensure_site_key(plain) == "file"
    settings.site_key_path.write_text("garbage\n")
    with pytest.raises(KeyFileError, match="malformed"):
        ensure_site_key(plain)
