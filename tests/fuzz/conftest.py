"""Fixtures of the fuzz tests: the API site of ``tests/api_site.py`` with more in it."""

from __future__ import annotations

from api_site import site
from fuzz_site import fuzz_site, fuzz_template

__all__ = ["fuzz_site", "fuzz_template", "site"]
