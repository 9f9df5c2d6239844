"""QR codes of visitor pass codes, as SVG text or PNG bytes (segno; nothing fetched)."""

from __future__ import annotations

import io

import segno


def qr_svg(code: str) -> str:
    """An SVG image of ``code`` as a QR code (error correction M, 4 px modules)."""
    buffer = io.BytesIO()
    segno.make(code, error="m").save(buffer, kind="svg", scale=4, xmldecl=False)
    return buffer.getvalue().decode("utf-8")


def qr_png(code: str) -> bytes:
    """A PNG image of ``code`` as a QR code, large enough to print (8 px modules)."""
    buffer = io.BytesIO()
    segno.make(code, error="m").save(buffer, kind="png", scale=8)
    return buffer.getvalue()
