"""Commands on the building's data: site, people, consent, audit, retention.

``facegate audit verify`` exits 0 when the chain is intact and 3 (bad input) when it is
broken, printing the first broken record's id: a tampered log is stored data that cannot
be trusted, the same family as an unreadable input file, neither a policy refusal (4)
nor an outage (5). ``--anchor`` also checks it against the signed checkpoints
(:mod:`facegate.cli.audit`), with the same exit codes.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from facegate.cli import (
    backup,
    credentials,
    disclosure,
    enrollment,
    lifts,
    places,
    purge,
    site_mode,
    zones,
)
from facegate.cli.context import settings_from
from facegate.cli.output import EXIT_BAD_INPUT, JsonFlag, emit_json, handles_errors
from facegate.cli.site_context import iso, opened_site
from facegate.domain.people import ConsentMethod, ConsentPurpose, Person, Role
from facegate.services import people, rights, site_admin
from facegate.services.consent import grant_consent, withdraw_consent

site_app = typer.Typer(
    help="The site: create it, rotate its key, back it up, restore it.", no_args_is_help=True
)
person_app = typer.Typer(help="People: add, list, export, erase.", no_args_is_help=True)
consent_app = typer.Typer(help="Consent records: grant, withdraw.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)

PersonId = Annotated[str, typer.Argument(help="The person's id (from 'person add').")]
PurposeOption = Annotated[ConsentPurpose, typer.Option("--purpose", help="What it is for.")]


def _done(as_json: bool, payload: dict[str, Any], text: str) -> None:
    if as_json:
        emit_json(payload)
    else:
        typer.echo(text)


@site_app.command("init")
@handles_errors
def site_init(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="The site's display name.")],
    time_zone: Annotated[
        str, typer.Option("--time-zone", help="IANA time zone schedules are written in.")
    ] = "UTC",
    as_json: JsonFlag = False,
) -> None:
    """Create the site: its key (unless FACEGATE_SITE_KEY), its database at the newest schema.

    Safe to run again: an existing site is kept and its schema upgraded.
    """
    settings = settings_from(ctx)
    from facegate.bootstrap import ensure_site_key
    from facegate.store.database import describe_url

    key_source = ensure_site_key(settings)
    with opened_site(ctx, migrate=True) as (_, context):
        site, created = site_admin.init_site(context, name, time_zone)
    database = describe_url(settings.database_url)
    payload = {
        "site_id": site.id,
        "name": site.name,
        "time_zone": site.time_zone,
        "created": created,
        "site_key": key_source,
        "database": database,
    }
    verb = "created" if created else "already existed; schema upgraded"
    _done(as_json, payload, f"site {site.name!r} ({site.id}) {verb}; database {database}")


@site_app.command("rotate-key")
@handles_errors
def site_rotate_key(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Make a new site key and re-wrap every person's data key under it.

    With the key in a file, the file is replaced. With FACEGATE_SITE_KEY, the new key is
    left in <data-dir>/site.key.new for you to move into the environment's secret store.
    """
    with opened_site(ctx) as (settings, context):
        from facegate.bootstrap import rotate_site_key

        rotation = rotate_site_key(settings, context)
    payload = {
        "keys_rewrapped": rotation.keys,
        "site_key_id": rotation.site_key_id,
        "staged": None if rotation.staged is None else str(rotation.staged),
    }
    where = "installed" if rotation.staged is None else f"staged at {rotation.staged}"
    _done(as_json, payload, f"{rotation.keys} data key(s) re-wrapped; new site key {where}")


def _person_json(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "name": person.name,
        "role": person.role.value,
        "unit_id": person.unit_id,
        "minor": person.minor,
        "created_at": iso(person.created_at),
        "moved_out_at": iso(person.moved_out_at),
    }


@person_app.command("add")
@handles_errors
def person_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="The person's name.")],
    role: Annotated[Role, typer.Option("--role", help="What they are to the site.")] = (
        Role.RESIDENT
    ),
    unit: Annotated[str | None, typer.Option("--unit", help="Their unit's id.")] = None,
    minor: Annotated[bool, typer.Option("--minor", help="Under the age of consent.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Add a person; prints their id."""
    with opened_site(ctx) as (_, context):
        person = people.add_person(context, name, role, unit_id=unit, minor=minor)
    _done(as_json, _person_json(person), person.id)


@person_app.command("list")
@handles_errors
def person_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List everyone (the read is audited)."""
    with opened_site(ctx) as (_, context):
        everyone = people.list_people(context)
    lines = "\n".join(f"{p.id}  {p.role.value:16}  {p.name}" for p in everyone)
    _done(as_json, {"people": [_person_json(p) for p in everyone]}, lines)


@person_app.command("move-out")
@handles_errors
def person_move_out(ctx: typer.Context, person_id: PersonId, as_json: JsonFlag = False) -> None:
    """Record that a person left; their face templates go at the next purge."""
    with opened_site(ctx) as (_, context):
        person = people.move_out(context, person_id)
    _done(as_json, _person_json(person), f"{person.id} moved out")


@person_app.command("export")
@handles_errors
def person_export(ctx: typer.Context, person_id: PersonId, as_json: JsonFlag = False) -> None:
    """Print everything held about a person as JSON (the export is audited)."""
    with opened_site(ctx) as (settings, context):
        visible = settings.disclosures_visible_to_person
        document = rights.export_person(context, person_id, include_disclosures=visible)
    emit_json(document)


@person_app.command("erase")
@handles_errors
def person_erase(
    ctx: typer.Context,
    person_id: PersonId,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Erase a person: key, templates, credentials, passes, alerts; events anonymised."""
    if not yes:
        raise typer.BadParameter("erasure cannot be undone: repeat with --yes", param_hint="--yes")
    with opened_site(ctx) as (_, context):
        erasure = rights.erase_person(context, person_id)
    payload = {"erased": erasure.person_id, "counts": erasure.counts}
    _done(as_json, payload, f"{erasure.person_id} erased: {erasure.counts}")


@consent_app.command("grant")
@handles_errors
def consent_grant(
    ctx: typer.Context,
    person_id: PersonId,
    purpose: PurposeOption = ConsentPurpose.FACE_ACCESS,
    text_version: Annotated[
        str, typer.Option("--text-version", help="Version of the consent text shown.")
    ] = "1",
    method: Annotated[
        ConsentMethod, typer.Option("--method", help="How it was given.")
    ] = ConsentMethod.WRITTEN,
    guardian: Annotated[
        str | None, typer.Option("--guardian", help="Who consents for a minor.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a person's consent."""
    with opened_site(ctx) as (_, context):
        record = grant_consent(context, person_id, purpose, text_version, method, guardian)
    payload = {
        "id": record.id,
        "person_id": record.person_id,
        "purpose": record.purpose.value,
        "granted_at": iso(record.granted_at),
    }
    _done(as_json, payload, f"consent {record.id} recorded")


@consent_app.command("withdraw")
@handles_errors
def consent_withdraw(
    ctx: typer.Context,
    person_id: PersonId,
    purpose: PurposeOption = ConsentPurpose.FACE_ACCESS,
    as_json: JsonFlag = False,
) -> None:
    """Withdraw consent; for face_access the face templates are destroyed at once."""
    with opened_site(ctx) as (_, context):
        result = withdraw_consent(context, person_id, purpose)
    payload = {
        "id": result.record.id,
        "person_id": person_id,
        "purpose": purpose.value,
        "withdrawn_at": iso(result.record.withdrawn_at),
        "templates_deleted": result.templates_deleted,
    }
    _done(as_json, payload, f"withdrawn; {result.templates_deleted} face template(s) destroyed")


@audit_app.command("verify")
@handles_errors
def audit_verify(
    ctx: typer.Context,
    anchor: Annotated[
        bool,
        typer.Option(
            "--anchor",
            help="Also check the chain against the signed checkpoints (audit checkpoint); "
            "records after the newest checkpoint are not covered.",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Check the audit chain end to end; exit 3 naming the first broken record."""
    from facegate.cli import audit as audit_cli  # cryptography loads only when needed

    if anchor:
        audit_cli.run_anchored_verify(ctx, as_json)
        return
    with opened_site(ctx) as (_, context):
        report = site_admin.verify_audit(context)
    payload = audit_cli.chain_payload(report)
    if report.intact:
        _done(as_json, payload, f"audit chain intact ({report.records} records)")
        return
    _done(as_json, payload, f"broken at record {report.broken_id}: {report.problem}")
    raise typer.Exit(EXIT_BAD_INPUT)


@audit_app.command("checkpoint")
@handles_errors
def audit_checkpoint(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Sign the chain's head with the anchor key into <anchor-dir>/audit-anchors.jsonl."""
    from facegate.cli import audit as audit_cli

    audit_cli.run_checkpoint(ctx, as_json)


def register(app: typer.Typer) -> None:
    """Add the data commands to ``app``."""
    backup.register(site_app)
    site_mode.register(site_app)
    app.add_typer(site_app, name="site")
    app.add_typer(person_app, name="person")
    app.add_typer(consent_app, name="consent")
    app.add_typer(audit_app, name="audit")
    app.command()(purge.purge)
    credentials.register(app)
    enrollment.register(app)
    places.register(app)
    zones.register(app, places.door_app)
    lifts.register(app)
    disclosure.register(app)
