"""A small message catalogue in English and Simplified Chinese, chosen per request.

The language comes from the ``facegate_lang`` cookie (set by the switch in the page
header), else from ``Accept-Language``, else English. A key missing from a catalogue
falls back to English, and a key missing there shows as itself (so a gap is visible).
"""

from __future__ import annotations

from collections.abc import Callable

from facegate.web.messages_console import CONSOLE_EN, CONSOLE_ZH
from facegate.web.messages_en import EN as _EN
from facegate.web.messages_zh import ZH as _ZH

EN = _EN | CONSOLE_EN
"""English messages (the reference catalogue)."""
ZH = _ZH | CONSOLE_ZH
"""Simplified Chinese messages."""

LANG_COOKIE = "facegate_lang"
"""Cookie holding the chosen interface language (``en`` or ``zh``)."""
CATALOGUES: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}
"""Interface language code to its messages."""


def _from_header(header: str) -> str | None:
    weighted: list[tuple[float, str]] = []
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        weighted.append((weight, tag.strip().lower()[:2]))
    for _, code in sorted(weighted, key=lambda item: -item[0]):
        if code in CATALOGUES:
            return code
    return None


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The interface language for a request: the cookie, then the header, then ``en``."""
    if cookie in CATALOGUES:
        return str(cookie)
    return _from_header(accept_language or "") or "en"


def translator(lang: str, catalogues: dict[str, dict[str, str]] = CATALOGUES) -> Callable[..., str]:
    """A ``t(key, **values)`` function for ``lang`` (values fill ``{name}`` fields).

    ``catalogues`` are this module's unless an app adds its own words (the city hub).
    """
    english = catalogues["en"]
    catalogue = catalogues.get(lang, english)

    def translate(key: str, **values: object) -> str:
        text = catalogue.get(key) or english.get(key) or key
        return text.format(**values) if values else text

    return translate
