"""CSV import of units and people (the building office's spreadsheet)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace

from facegate.domain.errors import SiteNotInitializedError, ValidationError
from facegate.domain.people import MAX_NAME_LENGTH, Person, Role, check_name
from facegate.domain.site import FLOORS, Building, Unit
from facegate.ports import UnitOfWork
from facegate.services.context import ServiceContext, audit, new_id

MAX_ROWS = 5000
"""Most data rows one import takes (a large complex has a few thousand residents)."""
COLUMNS = ("name", "role", "building", "unit", "floor", "minor")
"""The columns a file may have; only ``name`` is required."""
MAX_FIELD_CHARS = 4 * MAX_NAME_LENGTH
"""Most characters in one CSV field (a name has at most 200; labels are shorter)."""
MAX_LABEL_CHARS = MAX_NAME_LENGTH
"""Most characters in a building name or unit label."""


@dataclass(slots=True)
class ImportReport:
    """What an import added.

    Attributes:
        people: people added.
        buildings: buildings added (named in the file, one per distinct name).
        units: units added (one per distinct building and unit label).
    """

    people: int = 0
    buildings: int = 0
    units: int = 0
    _buildings: dict[str, Building] = field(default_factory=dict)
    _units: dict[tuple[str, str], Unit] = field(default_factory=dict)


def _rows(text: str) -> list[dict[str, str]]:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:  # a lone surrogate: no database stores it
        raise ValidationError(f"the CSV holds a character that is not text ({err.reason})") from err
    try:
        return _parse(text)
    except csv.Error as err:
        raise ValidationError(f"not a readable CSV file ({err})") from err


def _parse(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "name" not in header:
        raise ValidationError(f"the CSV needs a 'name' column (columns: {', '.join(COLUMNS)})")
    reader.fieldnames = header
    rows: list[dict[str, str]] = []
    for line, row in enumerate(reader, start=2):
        if len(rows) >= MAX_ROWS:
            raise ValidationError(f"at most {MAX_ROWS} rows per import")
        cells = {k: (v if isinstance(v, str) else "").strip() for k, v in row.items() if k}
        if any(len(v) > MAX_FIELD_CHARS for v in cells.values()):
            raise ValidationError(f"line {line}: a field over {MAX_FIELD_CHARS} characters")
        rows.append(cells)
    return rows


def _floor(text: str, line: int) -> int:
    if not (text.lstrip("-").isascii() and text.lstrip("-").isdigit()) or len(text) > 4:
        raise ValidationError(f"line {line}: floor {text[:20]!r} is not a whole number")
    if int(text) not in FLOORS:
        raise ValidationError(f"line {line}: floor {text} is not between -99 and 999")
    return int(text)


def _unit_for(
    uow: UnitOfWork, site_id: str, report: ImportReport, row: dict[str, str], line: int
) -> str | None:
    label = row.get("unit", "")
    if not label:
        return None
    building_name = row.get("building", "") or "Main building"
    if max(len(label), len(building_name)) > MAX_LABEL_CHARS:
        raise ValidationError(f"line {line}: a unit or building over {MAX_LABEL_CHARS} characters")
    building = report._buildings.get(building_name)
    if building is None:
        building = Building(new_id(), site_id, building_name)
        uow.places.add(building)
        report._buildings[building_name] = building
        report.buildings += 1
    unit = report._units.get((building_name, label))
    if unit is None:
        unit = Unit(new_id(), building.id, label, _floor(row.get("floor", "") or "0", line))
        uow.places.add(unit)
        report._units[(building_name, label)] = unit
        report.units += 1
    return unit.id


def _person(context: ServiceContext, site_id: str, row: dict[str, str], line: int) -> Person:
    name, role_text = row.get("name", ""), row.get("role", "") or Role.RESIDENT.value
    try:
        name = check_name(name)
    except ValidationError as err:
        raise ValidationError(f"line {line}: {err}") from err
    if role_text not in {r.value for r in Role}:
        raise ValidationError(f"line {line}: unknown role {role_text[:40]!r}")
    minor = row.get("minor", "").lower() in {"1", "true", "yes", "y"}
    return Person(new_id(), site_id, name, Role(role_text), context.clock.now(), minor=minor)


def import_people_csv(context: ServiceContext, text: str) -> ImportReport:
    """Add the units and people of a CSV file, all or nothing (audited by counts).

    Columns (header row, any order): ``name`` (required), ``role`` (resident,
    household_member, staff, visitor; default resident), ``building``, ``unit``, ``floor``,
    ``minor`` (yes/no).

    Raises:
        ValidationError: a missing name column, a bad row (named by its line), too many rows.
        SiteNotInitializedError: no site yet.
    """
    rows = _rows(text)
    report = ImportReport()
    with context.store.unit_of_work() as uow:
        site = uow.site.get()
        if site is None:
            raise SiteNotInitializedError("no site yet: run 'facegate site init --name NAME'")
        for line, row in enumerate(rows, start=2):
            person = _person(context, site.id, row, line)
            unit_id = _unit_for(uow, site.id, report, row, line)
            uow.people.add(replace(person, unit_id=unit_id))
            report.people += 1
        counts = {"people": report.people, "units": report.units, "buildings": report.buildings}
        audit(uow, context, "person.import", None, counts)
        uow.commit()
    return report
