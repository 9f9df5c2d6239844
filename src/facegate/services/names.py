"""Names for ids: what the console shows where a record holds a person's, door's or key's id.

The console shows names, never ids (ids go into links only). A page collects the ids it
is about to show and asks :func:`names_for` once: the site's places, logins and device
keys are few and read whole; people are read by id in batched queries, so a page of 100
events costs the same few queries whatever its people. Reading names is part of the
page's own (audited) read and is not audited again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from facegate.services.context import ServiceContext


@dataclass(frozen=True, slots=True)
class Names:
    """Names by id, by kind of record.

    Attributes:
        people: person id to the person's name.
        places: door, lift and building id to its name.
        users: login id to its username.
        keys: device key id to its gate id (and label, when it has one).
    """

    people: dict[str, str] = field(default_factory=dict)
    places: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)

    def of(self, record_id: str | None) -> str | None:
        """The name of ``record_id`` whatever its kind; ``None`` when unknown."""
        if not record_id:
            return None
        for kind in (self.people, self.places, self.users, self.keys):
            if record_id in kind:
                return kind[record_id]
        return None

    def actor(self, actor: str) -> str:
        """An audit actor (``web:alice``, ``device:<key id>``, ``cli``) as people read it."""
        kind, _, rest = actor.partition(":")
        if kind == "device" and rest in self.keys:
            return f"{kind}:{self.keys[rest]}"
        return actor


def names_for(context: ServiceContext, person_ids: Iterable[str | None] = ()) -> Names:
    """Names of the site's places, logins and device keys, and of the people ``person_ids``.

    Args:
        context: the caller.
        person_ids: the people whose names the page shows (``None`` and unknown ids are
            skipped); any id may be given, only people's are looked up.

    Raises:
        DatabaseUnavailableError: the database cannot be reached.
    """
    wanted = {pid for pid in person_ids if pid}
    with context.store.unit_of_work() as uow:
        places = {d.id: d.name for d in uow.places.doors()}
        places.update({lift.id: lift.name for lift in uow.places.lifts()})
        places.update({b.id: b.name for b in uow.places.buildings()})
        users = {u.id: u.username for u in uow.accounts.users()}
        keys = {k.id: _key_name(k.gate_id, k.label) for k in uow.accounts.device_keys()}
        people = uow.reads.person_names(wanted) if wanted else {}
    return Names(people, places, users, keys)


def _key_name(gate_id: str, label: str) -> str:
    return f"{gate_id} ({label})" if label and label != gate_id else gate_id
