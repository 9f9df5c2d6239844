"""The person picker: find people by name, choose one from a list (never type an id).

A page with a form that names a person (a rule, an alert-list entry, the events filter)
takes ``who`` in its query; the people whose name holds it (a page of them, the same
search as the people list) become the choices of a ``person_id`` select. It works
without JavaScript: the search is a GET of the same page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from facegate.domain.people import Person
from facegate.services import overview
from facegate.services.context import ServiceContext


@dataclass(frozen=True, slots=True)
class Picker:
    """What the picker shows.

    Attributes:
        who: the name searched for ("" before any search).
        matches: the people found (at most a page of them), by name.
        total: how many people match in all.
    """

    who: str = ""
    matches: list[Person] = field(default_factory=list)
    total: int = 0


def pick(context: ServiceContext, who: str) -> Picker:
    """The people whose name holds ``who`` (none searched when it is blank)."""
    who = who.strip()
    if not who:
        return Picker()
    found = overview.people_overview(context, 1, who)
    return Picker(who, [s.person for s in found.items], found.total)
