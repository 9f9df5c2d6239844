"""Read pair protocols: LFW's ``pairs.txt`` and a ``file_x,file_y,decision`` CSV.

LFW's format has an optional header of one or two integers (folds, pairs per fold), then
``name n1 n2`` lines for genuine pairs and ``name1 n1 name2 n2`` lines for impostor
pairs, the images being ``ROOT/name/name_NNNN.jpg``. The CSV names two image paths
relative to ROOT and a ``Yes``/``No`` decision (same person or not).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from facegate.domain.errors import DataSetError

_YES = {"yes", "y", "true", "1", "same"}
_NO = {"no", "n", "false", "0", "different"}


@dataclass(frozen=True, slots=True)
class PairSpec:
    """Two images and whether they show the same person."""

    first: Path
    second: Path
    same: bool


def read_pairs(pairs_file: Path, root: Path) -> list[PairSpec]:
    """Parse a pair file of either format (told apart by a ``file_x`` CSV header).

    Raises:
        DataSetError: unreadable file, malformed line (with its number), or no pairs.
    """
    try:
        text = pairs_file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise DataSetError(f"{pairs_file}: cannot read the pair file ({err})") from err
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    if "file_x" in first_line.replace(" ", "").lower().split(","):
        pairs = _read_csv(text, pairs_file, root)
    else:
        pairs = _read_lfw(text, pairs_file, root)
    if not pairs:
        raise DataSetError(f"{pairs_file}: no pairs found")
    return pairs


def _lfw_image(root: Path, name: str, number: str, where: str) -> Path:
    # ASCII only: "²".isdigit() is true, yet int("²") raises ValueError.
    if not (number.isascii() and number.isdigit()):
        raise DataSetError(f"{where}: image number {number!r} is not a positive integer")
    return root / name / f"{name}_{int(number):04d}.jpg"


def _read_lfw(text: str, pairs_file: Path, root: Path) -> list[PairSpec]:
    pairs: list[PairSpec] = []
    lines = [(n, line.split()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if lines and len(lines[0][1]) <= 2 and all(t.isdigit() for t in lines[0][1]):
        lines = lines[1:]
    for number, tokens in lines:
        where = f"{pairs_file}:{number}"
        if len(tokens) == 3:
            name, a, b = tokens
            pairs.append(
                PairSpec(_lfw_image(root, name, a, where), _lfw_image(root, name, b, where), True)
            )
        elif len(tokens) == 4:
            name_a, a, name_b, b = tokens
            first, second = _lfw_image(root, name_a, a, where), _lfw_image(root, name_b, b, where)
            pairs.append(PairSpec(first, second, False))
        else:
            raise DataSetError(
                f"{where}: expected 'name n1 n2' or 'name1 n1 name2 n2', got {len(tokens)} fields"
            )
    return pairs


def _read_csv(text: str, pairs_file: Path, root: Path) -> list[PairSpec]:
    reader = csv.DictReader(io.StringIO(text))
    fields = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    missing = {"file_x", "file_y", "decision"} - fields.keys()
    if missing:
        raise DataSetError(f"{pairs_file}: CSV lacks the column(s) {', '.join(sorted(missing))}")
    pairs = []
    for row in reader:
        where = f"{pairs_file}:{reader.line_num}"
        first = (row.get(fields["file_x"]) or "").strip()
        second = (row.get(fields["file_y"]) or "").strip()
        decision = (row.get(fields["decision"]) or "").strip().lower()
        if not first or not second:
            raise DataSetError(f"{where}: both file_x and file_y are needed")
        if decision not in _YES | _NO:
            raise DataSetError(f"{where}: decision must be Yes or No, got {decision!r}")
        pairs.append(PairSpec(root / first, root / second, decision in _YES))
    return pairs
