"""What the last snapshot versions delivered held, per door: template ids, section digests.

An edge gate names the version it holds when it polls; to answer it with a delta (the
templates added and removed since, :mod:`facegate.gate.snapshot_delta`) instead of the
whole snapshot, the server must know which templates that version's gallery held. It
keeps, in this process's memory, for each (door or lift, model), the template ids of
the last :data:`KEEP_VERSIONS` versions it delivered there, for the last
:data:`KEEP_MODELS` models delivered to each door or lift.

Why this and not a change log in the database: the ids are what was *delivered*, so a
delta is exact whatever happened in between (an erasure, a withdrawal and a new consent,
a restored backup), nothing is written per poll, and nothing outlives the process. What
it costs: the id tuple is the gallery's own (:meth:`Gallery.template_ids`, one object
per gallery, shared by every door and version that holds the same gallery), so a kept
version costs one reference, and a distinct gallery 8 bytes per template (0.6 MB at
75,000 templates; the id strings are the gallery's). When the version is not known here
(a server restarted, another server process, a gate away for more than
:data:`KEEP_VERSIONS` changes) the gate gets the whole snapshot, as before.

With the ids it keeps the digest of each part of the access data delivered
(:data:`facegate.gate.access_wire.PARTS`: a section, or one of the 64 buckets of the
people, cards and PIN hashes; 197 digests of 64 hex characters, about 25 kB a version),
so a delta leaves out the parts unchanged since the gate's version.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

KEEP_VERSIONS = 8
"""How many delivered versions are remembered per (door or lift, model) (typical 8).

A gate polls every second or so, so it is rarely more than one version behind; one that
was away longer gets the whole snapshot."""
KEEP_MODELS = 4
"""How many descriptor models' versions are remembered per door or lift (typical 4).

A door's gates ask for one model (two while a site moves to another); the model is the
poll's own word, so a gate asking for ever new model names (a buggy or hostile one) makes
the least recently delivered model forgotten, not this process's memory grow (each
model's version costs its section digests, above)."""


@dataclass(frozen=True, slots=True)
class Delivered:
    """What one version delivered to a door held.

    Attributes:
        ids: its gallery's template ids.
        sections: its access data's parts to their digests (empty: not known).
    """

    ids: tuple[str, ...]
    sections: Mapping[str, str] = field(default_factory=dict)


class GalleryHistory:
    """Template ids of the last versions delivered, per (target, model); thread-safe.

    Args:
        keep: versions remembered per (target, model) (the oldest is forgotten first).
        models: models remembered per target (the least recently delivered is forgotten
            first).
    """

    def __init__(self, keep: int = KEEP_VERSIONS, models: int = KEEP_MODELS) -> None:
        self._keep, self._models = keep, models
        self._lock = threading.Lock()
        self._slots: dict[str, OrderedDict[str, OrderedDict[str, Delivered]]] = {}

    def record(
        self,
        target_id: str,
        model_id: str,
        version: str,
        ids: tuple[str, ...],
        sections: Mapping[str, str] | None = None,
    ) -> None:
        """``version`` of ``target_id``'s snapshot for ``model_id`` was delivered with ``ids``.

        ``sections``: its access data's parts' digests (``None``: not known).
        """
        with self._lock:
            models = self._slots.setdefault(target_id, OrderedDict())
            slot = models.setdefault(model_id, OrderedDict())
            models.move_to_end(model_id)
            while len(models) > self._models:
                models.popitem(last=False)
            slot[version] = Delivered(ids, dict(sections or {}))
            slot.move_to_end(version)
            while len(slot) > self._keep:
                slot.popitem(last=False)

    def at(self, target_id: str, model_id: str, version: str) -> Delivered | None:
        """What was delivered at ``version``; ``None`` when not remembered."""
        with self._lock:
            models = self._slots.get(target_id)
            slot = None if models is None else models.get(model_id)
            return None if slot is None else slot.get(version)

    def clear(self) -> None:
        """Forget every version (as a restarted server has; for tests)."""
        with self._lock:
            self._slots.clear()


GALLERIES = GalleryHistory()
"""The process's history of delivered galleries."""
