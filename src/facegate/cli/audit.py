"""``facegate audit checkpoint`` and ``facegate audit verify --anchor``.

A checkpoint signs the audit chain's head (sequence number and hash) with the anchor key
(``<anchor-dir>/audit-anchor.key``, kept apart from the database and the site key) and
appends it to ``<anchor-dir>/audit-anchors.jsonl``. ``verify --anchor`` checks the chain
against every checkpoint and exits 3 when records were removed or rewritten before the
newest one. Records written after the newest checkpoint are not covered.
"""

from __future__ import annotations

from typing import Any

import typer

from facegate.cli.output import EXIT_BAD_INPUT, emit_json
from facegate.cli.site_context import iso, opened_site
from facegate.domain.audit import ChainReport
from facegate.domain.audit_anchor import SignedCheckpoint
from facegate.services.audit_anchor import (
    NOT_COVERED,
    AnchoredReport,
    take_checkpoint,
    verify_anchored,
)
from facegate.store.audit_anchors import AnchorFile


def checkpoint_payload(signed: SignedCheckpoint, anchor: AnchorFile) -> dict[str, Any]:
    """The JSON answer of ``audit checkpoint``."""
    return {
        "seq": signed.checkpoint.seq,
        "hash": signed.checkpoint.hash,
        "at": iso(signed.checkpoint.at),
        "key_id": signed.key_id,
        "file": str(anchor.log_path),
    }


def run_checkpoint(ctx: typer.Context, as_json: bool) -> None:
    """Take one checkpoint and print it."""
    with opened_site(ctx) as (settings, context):
        anchor = AnchorFile(settings.audit_anchor_folder)
        signed = take_checkpoint(context, anchor)
    payload = checkpoint_payload(signed, anchor)
    if as_json:
        emit_json(payload)
    else:
        typer.echo(
            f"checkpoint of record {payload['seq']} signed into {payload['file']} "
            f"(key {payload['key_id']})"
        )


def chain_payload(report: ChainReport) -> dict[str, Any]:
    """The JSON keys of ``audit verify`` (the contract's, unchanged)."""
    return {
        "intact": report.intact,
        "records": report.records,
        "broken_id": report.broken_id,
        "broken_seq": report.broken_seq,
        "problem": report.problem,
    }


def anchored_payload(report: AnchoredReport) -> dict[str, Any]:
    """``audit verify --anchor``'s JSON: the chain's keys, ``intact`` over both, ``anchor``."""
    anchor = report.anchor
    return {
        **chain_payload(report.chain),
        "intact": report.intact,
        "anchor": {
            "intact": anchor.intact,
            "checkpoints": anchor.checkpoints,
            "covered_seq": anchor.covered_seq,
            "covered_at": iso(anchor.covered_at),
            "broken_seq": anchor.broken_seq,
            "problem": anchor.problem,
            "not_covered": NOT_COVERED,
        },
    }


def run_anchored_verify(ctx: typer.Context, as_json: bool) -> None:
    """Verify the chain and against the checkpoints; exit 3 when either is broken."""
    with opened_site(ctx) as (settings, context):
        report = verify_anchored(context, AnchorFile(settings.audit_anchor_folder))
    if as_json:
        emit_json(anchored_payload(report))
    else:
        typer.echo(_anchored_text(report))
    if not report.intact:
        raise typer.Exit(EXIT_BAD_INPUT)


def _anchored_text(report: AnchoredReport) -> str:
    chain, anchor = report.chain, report.anchor
    if not chain.intact:
        first = f"broken at record {chain.broken_id}: {chain.problem}"
    else:
        first = f"audit chain intact ({chain.records} records)"
    if not anchor.intact:
        second = f"checkpoints contradict the chain: {anchor.problem}"
    else:
        second = (
            f"agrees with {anchor.checkpoints} signed checkpoint(s), the newest of record "
            f"{anchor.covered_seq} at {iso(anchor.covered_at)}"
        )
    return f"{first}\n{second}\nnote: {NOT_COVERED}"
