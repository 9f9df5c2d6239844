"""Fixtures of the fuzz tests (see ``fuzz_site.py``)."""

from fuzz_site import fuzz_site, fuzz_template

__all__ = ["fuzz_site", "fuzz_template"]
