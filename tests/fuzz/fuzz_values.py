"""Generated inputs the fuzz tests share: CSV files of the people import."""

from __future__ import annotations

import csv
import io

from hypothesis import strategies as st

from facegate.domain.people import Role
from facegate.services.imports import COLUMNS

_CELL_TEXT = st.text(max_size=20)  # any code point, lone surrogates included
CELL = st.one_of(
    _CELL_TEXT,
    st.sampled_from([r.value for r in Role] + ["yes", "no", "1", "Main", "A", ""]),
    st.integers().map(str),
    st.integers(min_value=10**18, max_value=10**40).map(str),
    st.sampled_from(["-0", "+1", " 3 ", "1e3", "١٢", "²", "0x10", "-" + "9" * 4300]),
    st.sampled_from(["x" * 201, "x" * 100_000, "y" * 131_073, "\x00", "a\r\nb", '"', "\ud800"]),
)
"""One cell: text, role names, numbers from small to 10^40 and 4,300 digits, long and odd
text (131,073 characters passes the csv module's field limit), NUL, a lone surrogate."""

HEADER = st.lists(
    st.one_of(st.sampled_from([*COLUMNS, " Name ", "NAME", "", "extra"]), _CELL_TEXT),
    min_size=0,
    max_size=8,
).map(lambda names: ["name", *names] if names and "name" not in names else names)


@st.composite
def csv_text(draw: st.DrawFn) -> str:
    """A CSV file's text: a header (usually with ``name``) and up to 6 rows of cells."""
    header = draw(HEADER)
    width = draw(st.integers(0, len(header) + 2))
    rows = draw(st.lists(st.lists(CELL, min_size=width, max_size=width), max_size=6))
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    text = out.getvalue()
    if draw(st.booleans()):  # sometimes damage the quoting
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.sampled_from(['"', "\r", "\n", ",", '"x', "\x00"])) + text[cut:]
    return text


CSV_TEXT = csv_text()
"""CSV text as the import service receives it (lone surrogates possible)."""
CSV_BYTES = st.one_of(
    CSV_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
    CSV_TEXT.map(lambda t: ("\ufeff" + t).encode("utf-8", "surrogatepass")),
    CSV_TEXT.map(lambda t: t.encode("utf-16", "surrogatepass")),
    CSV_TEXT.map(lambda t: t.encode("latin-1", "replace")),
    st.binary(max_size=64),
)
"""A CSV upload's bytes: UTF-8 (with and without BOM; surrogates as CESU bytes), UTF-16,
Latin-1, or any bytes."""
