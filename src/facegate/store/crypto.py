"""Template protection: AES-GCM under per-person data keys wrapped by the site key.

Layout: a person's 256-bit data key is encrypted ("wrapped") with AES-GCM under the
256-bit site key, with associated data binding it to the person's id; each template
(128 float32, little-endian) is encrypted with AES-GCM under the data key, with
associated data binding it to the person's id, the template's id and the descriptor
model's id. A stored value is ``nonce (12 bytes) || ciphertext || tag (16 bytes)``.
A ciphertext copied to another person or template, or a key file from another site,
fails to decrypt rather than yielding a wrong face.

The site key is never in the database: it comes from ``FACEGATE_SITE_KEY`` or from the
key file (:attr:`facegate.config.Settings.site_key_path`: base64 of 32 bytes, one line,
mode 0600), which ``facegate site init`` creates. Destroying a person's wrapped key
destroys every copy of their templates, backups included.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from facegate.domain.credentials import SealedRow, SealedTemplate, WrappedKey
from facegate.domain.errors import KeyFileError
from facegate.domain.matching import DESCRIPTOR_SIZE, FloatArray, as_descriptor_matrix
from facegate.domain.snapshots import SealedSnapshot

KEY_BYTES = 32
"""Length of the site key and of every data key (AES-256)."""
NONCE_BYTES = 12
_KEY_AAD = b"facegate/data-key/v1|"
_TEMPLATE_AAD = b"facegate/template/v1|"
_SNAPSHOT_KEY_AAD = b"facegate/snapshot-key/v1|"
_SNAPSHOT_AAD = b"facegate/snapshot/v1|"


def generate_key() -> bytes:
    """A fresh random 256-bit key."""
    return AESGCM.generate_key(bit_length=8 * KEY_BYTES)


def encode_site_key(key: bytes) -> str:
    """The text form of a site key (standard base64, 44 characters)."""
    return base64.b64encode(key).decode("ascii")


def parse_site_key(text: str, source: str) -> bytes:
    """Decode a site key from its text form.

    Raises:
        KeyFileError: not base64 of exactly 32 bytes.
    """
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as err:
        raise KeyFileError(f"{source}: malformed site key (not base64)") from err
    if len(key) != KEY_BYTES:
        raise KeyFileError(
            f"{source}: malformed site key ({len(key)} bytes, expected {KEY_BYTES} in base64)"
        )
    return key


def read_site_key_file(path: Path) -> bytes:
    """Read the site key file, refusing one that others could read.

    Raises:
        KeyFileError: missing, unreadable, readable by group or others, or malformed.
    """
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii")
    except FileNotFoundError as err:
        raise KeyFileError(
            f"{path}: no site key (run 'facegate site init' or set FACEGATE_SITE_KEY)"
        ) from err
    except (OSError, UnicodeDecodeError) as err:
        raise KeyFileError(f"{path}: unreadable site key ({err})") from err
    if mode & 0o077:
        raise KeyFileError(f"{path}: the site key is readable by others; chmod 600 it")
    return parse_site_key(text, str(path))


def write_site_key_file(path: Path, key: bytes) -> None:
    """Create the site key file with mode 0600; never overwrites an existing one.

    Raises:
        KeyFileError: the file already exists or cannot be written.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as err:
        raise KeyFileError(f"{path}: cannot create the site key ({err})") from err
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(encode_site_key(key) + "\n")


def site_key_id(key: bytes) -> str:
    """A fingerprint of a site key (16 hex digits), stored next to what it wrapped."""
    return hashlib.sha256(b"facegate/site-key-id|" + key).hexdigest()[:16]


def _encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _decrypt(key: bytes | AESGCM, sealed: bytes, aad: bytes, what: str) -> bytes:
    aead = key if isinstance(key, AESGCM) else AESGCM(key)
    try:
        return aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except (InvalidTag, ValueError) as err:
        raise KeyFileError(f"{what} does not decrypt: altered, moved, or another key") from err


_DESCRIPTOR_BYTES = 4 * DESCRIPTOR_SIZE


def _aad_head(person_id: str) -> bytes:
    """A template's associated data up to its template id (the person's part)."""
    return _TEMPLATE_AAD + f"{person_id}|".encode()


def _aad_tail(model_id: str) -> bytes:
    """A template's associated data after its template id (the model's part)."""
    return f"|{model_id}".encode()


def _descriptor(template_id: str, plaintext: bytes) -> FloatArray:
    descriptor = np.frombuffer(plaintext, dtype="<f4").astype(np.float32)
    if descriptor.shape != (DESCRIPTOR_SIZE,):
        raise KeyFileError(f"template {template_id} holds {descriptor.size} values")
    return descriptor


class AesGcmSealer:
    """Seals and opens templates (a :class:`facegate.ports.TemplateSealer`).

    Args:
        site_key: the 32-byte site key.
    """

    def __init__(self, site_key: bytes) -> None:
        if len(site_key) != KEY_BYTES:
            raise KeyFileError(f"a site key has {KEY_BYTES} bytes, got {len(site_key)}")
        self._site_key = site_key
        self._site_aead = AESGCM(site_key)  # one key schedule, not one per unwrap
        self._site_key_id = site_key_id(site_key)

    @property
    def site_key_id(self) -> str:
        """Fingerprint of the site key in use."""
        return self._site_key_id

    def new_data_key(self, person_id: str) -> WrappedKey:
        """A fresh data key for ``person_id``, wrapped by the site key."""
        return self._wrap(person_id, generate_key(), self._site_key)

    def _wrap(self, person_id: str, data_key: bytes, site_key: bytes) -> WrappedKey:
        wrapped = _encrypt(site_key, data_key, _KEY_AAD + person_id.encode())
        return WrappedKey(person_id, site_key_id(site_key), wrapped)

    def _unwrap(self, key: WrappedKey) -> bytes:
        if key.site_key_id != self._site_key_id:
            raise KeyFileError(
                f"person {key.person_id}'s data key was wrapped by site key {key.site_key_id}, "
                f"but the key in use is {self._site_key_id}: wrong site.key or FACEGATE_SITE_KEY"
            )
        aad = _KEY_AAD + key.person_id.encode()
        return _decrypt(self._site_aead, key.wrapped, aad, f"person {key.person_id}'s data key")

    @staticmethod
    def _template_aad(person_id: str, template_id: str, model_id: str) -> bytes:
        return _aad_head(person_id) + template_id.encode() + _aad_tail(model_id)

    def seal(
        self, key: WrappedKey, template_id: str, model_id: str, descriptor: FloatArray
    ) -> bytes:
        """Encrypt ``descriptor`` bound to the key's person, ``template_id`` and ``model_id``."""
        row = as_descriptor_matrix(descriptor)
        if row.shape[0] != 1:
            raise ValueError("seal one descriptor at a time")
        plaintext = row[0].astype("<f4").tobytes()
        aad = self._template_aad(key.person_id, template_id, model_id)
        return _encrypt(self._unwrap(key), plaintext, aad)

    def open(self, key: WrappedKey, template: SealedTemplate) -> FloatArray:
        """Decrypt ``template`` (raises :class:`KeyFileError` when it does not decrypt)."""
        if template.person_id != key.person_id:
            raise KeyFileError(f"template {template.id} is not person {key.person_id}'s")
        aad = self._template_aad(template.person_id, template.id, template.model_id)
        plaintext = _decrypt(self._unwrap(key), template.sealed, aad, f"template {template.id}")
        return _descriptor(template.id, plaintext)

    def open_person(self, key: WrappedKey, templates: Sequence[SealedTemplate]) -> list[FloatArray]:
        """Decrypt several of ``key``'s person's templates, unwrapping the data key once."""
        data_key = AESGCM(self._unwrap(key))
        opened = []
        for template in templates:
            if template.person_id != key.person_id:
                raise KeyFileError(f"template {template.id} is not person {key.person_id}'s")
            aad = self._template_aad(template.person_id, template.id, template.model_id)
            plaintext = _decrypt(data_key, template.sealed, aad, f"template {template.id}")
            opened.append(_descriptor(template.id, plaintext))
        return opened

    def open_rows(
        self, model_id: str, rows: Sequence[SealedRow], keys: Mapping[str, WrappedKey]
    ) -> FloatArray:
        """Decrypt ``rows``, templates of ``model_id``, each under its person's key in ``keys``.

        The bulk form of :meth:`open_person` for a whole gallery: each person's data key
        is unwrapped once, and the plaintexts are written one after another into one
        ``(n, 128)`` array (no array, and no object, per template; numpy asks for huge
        pages for it, where a growing byte string took a page fault each 4 KiB: 9,400 at
        75,000 templates). One AES-GCM context is held at a time, for a run of one
        person's rows (a person's templates are mostly stored, and read, together): one
        kept per person until the end (25,000 at a large site, 28 MB) made the loop 10
        to 25% slower.

        Returns:
            ``(len(rows), 128)`` float32, row ``i`` the descriptor of ``rows[i]``.

        Raises:
            KeyFileError: a key or template does not decrypt (altered, moved to another
                person or template, another site key), a template is not 128 values, or
                a template's person has no key in ``keys``.
        """
        matrix = np.empty((len(rows), DESCRIPTOR_SIZE), "<f4")  # huge pages: few faults
        out, at = matrix.reshape(-1).view(np.uint8).data, 0  # its bytes, written in turn
        tail = _aad_tail(model_id)
        unwrapped: dict[str, bytes] = {}  # person to data key: 32 bytes each, not a context
        template_id, last = "", None
        try:
            for template_id, person_id, sealed in rows:
                if person_id != last:  # a new run of rows: the last one's context freed
                    plain_key = unwrapped.get(person_id)
                    if plain_key is None:
                        plain_key = unwrapped[person_id] = self._unwrap_of(keys, person_id)
                    data_key, head, last = AESGCM(plain_key), _aad_head(person_id), person_id
                aad = head + template_id.encode() + tail
                plaintext = data_key.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
                if len(plaintext) != _DESCRIPTOR_BYTES:
                    _descriptor(template_id, plaintext)  # raises, naming the template
                out[at : at + _DESCRIPTOR_BYTES] = plaintext
                at += _DESCRIPTOR_BYTES
        except (InvalidTag, ValueError) as err:
            raise KeyFileError(
                f"template {template_id} does not decrypt: altered, moved, or another key"
            ) from err
        opened: FloatArray = matrix.astype(np.float32, copy=False)  # a copy on big-endian only
        return opened

    def _unwrap_of(self, keys: Mapping[str, WrappedKey], person_id: str) -> bytes:
        key = keys.get(person_id)
        if key is None:
            raise KeyFileError(f"person {person_id} has no data key (erased)")
        return self._unwrap(key)

    def rewrap(self, key: WrappedKey, new_site_key: bytes) -> WrappedKey:
        """``key``'s data key wrapped by ``new_site_key`` instead."""
        return self._wrap(key.person_id, self._unwrap(key), new_site_key)

    def seal_snapshot(
        self, snapshot_id: str, image: bytes, person_key: WrappedKey | None = None
    ) -> SealedSnapshot:
        """Encrypt an event snapshot, bound to ``snapshot_id``.

        Under the person's data key when the decision named someone (erasing them
        destroys the key, and with it every copy of the snapshot, backups included);
        else under a fresh data key of its own, wrapped by the site key.
        """
        aad = _SNAPSHOT_AAD + snapshot_id.encode()
        if person_key is not None:
            return SealedSnapshot("", b"", _encrypt(self._unwrap(person_key), image, aad))
        data_key = generate_key()
        wrapped = _encrypt(self._site_key, data_key, _SNAPSHOT_KEY_AAD + snapshot_id.encode())
        return SealedSnapshot(self._site_key_id, wrapped, _encrypt(data_key, image, aad))

    def open_snapshot(
        self, snapshot_id: str, snapshot: SealedSnapshot, person_key: WrappedKey | None = None
    ) -> bytes:
        """Decrypt an event snapshot (raises :class:`KeyFileError` when it does not).

        ``person_key``: the person's data key, for a snapshot sealed under it.
        """
        if snapshot.on_person_key:
            if person_key is None:
                raise KeyFileError(f"snapshot {snapshot_id}'s person key is gone (erased)")
            data_key = self._unwrap(person_key)
        else:
            data_key = self._open_snapshot_key(snapshot_id, snapshot)
        what = f"snapshot {snapshot_id}"
        return _decrypt(data_key, snapshot.sealed, _SNAPSHOT_AAD + snapshot_id.encode(), what)

    def rewrap_snapshot(
        self, snapshot_id: str, snapshot: SealedSnapshot, new_site_key: bytes
    ) -> SealedSnapshot:
        """``snapshot`` with its data key wrapped by ``new_site_key`` instead.

        One sealed under a person's key is returned as it is (that key is re-wrapped with
        the person's).
        """
        if snapshot.on_person_key:
            return snapshot
        data_key = self._open_snapshot_key(snapshot_id, snapshot)
        aad = _SNAPSHOT_KEY_AAD + snapshot_id.encode()
        wrapped = _encrypt(new_site_key, data_key, aad)
        return SealedSnapshot(site_key_id(new_site_key), wrapped, snapshot.sealed)

    def _open_snapshot_key(self, snapshot_id: str, snapshot: SealedSnapshot) -> bytes:
        if snapshot.site_key_id != self._site_key_id:
            raise KeyFileError(
                f"snapshot {snapshot_id} was sealed under site key {snapshot.site_key_id}, "
                f"but the key in use is {self._site_key_id}"
            )
        aad = _SNAPSHOT_KEY_AAD + snapshot_id.encode()
        return _decrypt(self._site_key, snapshot.wrapped_key, aad, f"snapshot {snapshot_id}'s key")
