"""``facegate osdp key ADDRESS [--show]``: an OSDP device's Secure Channel key.

Makes ``<data-dir>/osdp/pd-<address>.scbk`` (16 random bytes, hex, mode 0600) when there
is none. ``--show`` prints the key (hex) for the installer to put into the device; it is
a secret: never paste it where others can read it. ``--json`` prints ``address``,
``file``, ``created`` (and ``key`` with ``--show``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from facegate.cli.context import settings_from
from facegate.cli.output import JsonFlag, emit_json, handles_errors

osdp_app = typer.Typer(help="OSDP readers and output boards.", no_args_is_help=True)


@osdp_app.command("key")
@handles_errors
def osdp_key(
    ctx: typer.Context,
    address: Annotated[int, typer.Argument(min=0, max=126, help="The device's OSDP address.")],
    show: Annotated[bool, typer.Option("--show", help="Print the key (hex).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Make (or find) the Secure Channel key of the OSDP device at ADDRESS."""
    from facegate.gate.osdp_keys import create_key, key_path

    data_dir = settings_from(ctx).data_dir
    key, created = create_key(data_dir, address)
    path = key_path(data_dir, address)
    payload: dict[str, object] = {"address": address, "file": str(path), "created": created}
    if show:
        payload["key"] = key.hex()
    if as_json:
        emit_json(payload)
        return
    typer.echo(f"OSDP key for address {address} {'created' if created else 'exists'}: {path}")
    if show:
        typer.echo(key.hex())


def register(app: typer.Typer) -> None:
    """Add the ``osdp`` commands."""
    app.add_typer(osdp_app, name="osdp")
