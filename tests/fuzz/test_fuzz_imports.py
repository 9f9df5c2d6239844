"""Hypothesis over the CSV import: a report or a ``BadInputError``, never anything else.

The service gets generated text (lone surrogates, numbers up to 10^40 and 4,300 digits,
fields of 100,000 and 131,073 characters, NUL, broken quoting); the console's upload
route gets the same as bytes in UTF-8, UTF-8 with BOM, UTF-16, Latin-1 or any bytes.
Whatever an import refuses, it adds nothing (all or nothing).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given

from facegate.domain.errors import BadInputError
from facegate.services import imports, people
from fuzz_site import FuzzSite, fuzz_settings
from fuzz_values import CSV_BYTES, CSV_TEXT

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FACEGATE_FUZZ_EXAMPLES", "50")) * 2
"""Examples of each test."""


def test_import_answers_a_report_or_bad_input(fuzz_site: FuzzSite) -> None:
    context = fuzz_site.site.context

    @fuzz_settings(EXAMPLES)
    @given(text=CSV_TEXT)
    def check(text: str) -> None:
        before = len(people.list_people(context))
        try:
            report = imports.import_people_csv(context, text)
        except BadInputError:
            assert len(people.list_people(context)) == before
        else:
            assert len(people.list_people(context)) == before + report.people

    check()


def test_import_page_never_answers_a_server_error(fuzz_site: FuzzSite) -> None:
    client, csrf = fuzz_site.page_session("admin")

    @fuzz_settings(EXAMPLES // 2)
    @given(data=CSV_BYTES)
    def check(data: bytes) -> None:
        answer = client.post(
            "/console/people/import",
            data={"csrf_token": csrf},
            files={"file": ("people.csv", data, "text/csv")},
            follow_redirects=False,
        )
        assert answer.status_code < 500, answer.text[:300]
        assert answer.status_code in {303, 400, 409, 413, 415, 422}, answer.status_code

    check()
