"""Fixtures of the page tests (see ``tests/api_site.py``)."""

from api_site import site

__all__ = ["site"]
