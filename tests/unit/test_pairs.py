"""Unit tests of :mod:`facegate.services.pairs`: LFW ``pairs.txt`` and pair CSVs."""

from __future__ import annotations

from pathlib import Path

import pytest

from facegate.domain.errors import BadInputError, DataSetError
from facegate.services.pairs import PairSpec, read_pairs

ROOT = Path("/data/lfw")

GENUINE = "Aaron_Peirsol\t1\t2"
IMPOSTOR = "AJ_Cook\t1\tMarsha_Thomason\t1"


def _lfw(name: str, number: int) -> Path:
    return ROOT / name / f"{name}_{number:04d}.jpg"


def _write(tmp_path: Path, text: str, name: str = "pairs.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


EXPECTED_LFW = [
    PairSpec(_lfw("Aaron_Peirsol", 1), _lfw("Aaron_Peirsol", 2), True),
    PairSpec(_lfw("AJ_Cook", 1), _lfw("Marsha_Thomason", 1), False),
]


# --- LFW pairs.txt ------------------------------------------------------------------


@pytest.mark.parametrize("header", ["2\t3\n", "6\n", "10 300\n", ""])
def test_lfw_header_is_optional(tmp_path: Path, header: str) -> None:
    path = _write(tmp_path, f"{header}{GENUINE}\n{IMPOSTOR}\n")

    assert read_pairs(path, ROOT) == EXPECTED_LFW


def test_lfw_genuine_and_impostor_lines(tmp_path: Path) -> None:
    text = "1\t4\nGeorge_W_Bush 10 24\nTom_Hanks 7 9\nA_B 3 C_D 12\nE_F 1 G_H 1234\n"

    pairs = read_pairs(_write(tmp_path, text), ROOT)

    assert pairs == [
        PairSpec(_lfw("George_W_Bush", 10), _lfw("George_W_Bush", 24), True),
        PairSpec(_lfw("Tom_Hanks", 7), _lfw("Tom_Hanks", 9), True),
        PairSpec(_lfw("A_B", 3), _lfw("C_D", 12), False),
        PairSpec(_lfw("E_F", 1), _lfw("G_H", 1234), False),
    ]
    assert pairs[0].first == Path("/data/lfw/George_W_Bush/George_W_Bush_0010.jpg")


def test_lfw_blank_lines_and_crlf_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "pairs.txt"
    path.write_bytes(f"2\t3\r\n\r\n{GENUINE}\r\n\r\n{IMPOSTOR}\r\n\r\n".encode())

    assert read_pairs(path, ROOT) == EXPECTED_LFW


def test_lfw_paths_are_under_the_given_root(tmp_path: Path) -> None:
    other_root = tmp_path / "images"

    pairs = read_pairs(_write(tmp_path, f"{GENUINE}\n"), other_root)

    assert pairs[0].first == other_root / "Aaron_Peirsol" / "Aaron_Peirsol_0001.jpg"
    assert pairs[0].second == other_root / "Aaron_Peirsol" / "Aaron_Peirsol_0002.jpg"


@pytest.mark.parametrize(
    ("line", "fields"),
    [("Aaron_Peirsol 1", 2), ("a 1 b 2 3", 5), ("a 1 b 2 c 3", 6), ("lonely", 1)],
)
def test_lfw_wrong_field_count_names_the_line(tmp_path: Path, line: str, fields: int) -> None:
    path = _write(tmp_path, f"2\t3\n{GENUINE}\n\n{line}\n{IMPOSTOR}\n")

    with pytest.raises(DataSetError, match=rf"pairs\.txt:4: .*got {fields} fields"):
        read_pairs(path, ROOT)


@pytest.mark.parametrize(
    "line",
    [
        "Aaron_Peirsol 1 two",
        "Aaron_Peirsol x 2",
        "AJ_Cook 1 Marsha_Thomason -1",
        "AJ_Cook 1.5 Marsha_Thomason 1",
        "Aaron_Peirsol 1 ²",  # a digit to str.isdigit, yet not a number to int()
    ],
)
def test_lfw_non_numeric_image_number_names_the_line(tmp_path: Path, line: str) -> None:
    path = _write(tmp_path, f"{GENUINE}\n{line}\n")

    with pytest.raises(DataSetError, match=r"pairs\.txt:2: image number"):
        read_pairs(path, ROOT)


def test_header_only_file_has_no_pairs(tmp_path: Path) -> None:
    with pytest.raises(DataSetError, match="no pairs"):
        read_pairs(_write(tmp_path, "10\t300\n"), ROOT)


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file_has_no_pairs(tmp_path: Path, text: str) -> None:
    with pytest.raises(DataSetError, match="no pairs"):
        read_pairs(_write(tmp_path, text), ROOT)


def test_missing_file_is_a_data_set_error(tmp_path: Path) -> None:
    with pytest.raises(DataSetError, match="cannot read"):
        read_pairs(tmp_path / "absent.txt", ROOT)


def test_non_utf8_file_is_a_data_set_error(tmp_path: Path) -> None:
    path = tmp_path / "pairs.txt"
    path.write_bytes(b"\xff\xfe\x00bad bytes \x81\n")

    with pytest.raises(DataSetError, match="cannot read"):
        read_pairs(path, ROOT)


def test_data_set_error_is_bad_input() -> None:
    assert issubclass(DataSetError, BadInputError)


# --- CSV ----------------------------------------------------------------------------


def test_csv_yes_and_no(tmp_path: Path) -> None:
    text = "file_x,file_y,decision\na/1.jpg,a/2.jpg,Yes\na/1.jpg,b/1.jpg,No\n"

    pairs = read_pairs(_write(tmp_path, text, "pairs.csv"), ROOT)

    assert pairs == [
        PairSpec(ROOT / "a/1.jpg", ROOT / "a/2.jpg", True),
        PairSpec(ROOT / "a/1.jpg", ROOT / "b/1.jpg", False),
    ]


@pytest.mark.parametrize(
    ("decision", "same"),
    [
        ("Yes", True),
        ("YES", True),
        ("yes", True),
        (" yEs ", True),
        ("No", False),
        ("NO", False),
        ("no", False),
        (" nO ", False),
    ],
)
def test_csv_decision_is_case_insensitive(tmp_path: Path, decision: str, same: bool) -> None:
    text = f"file_x,file_y,decision\nx.jpg,y.jpg,{decision}\n"

    (pair,) = read_pairs(_write(tmp_path, text, "pairs.csv"), ROOT)

    assert pair.same is same


def test_csv_extra_columns_any_order_and_header_case(tmp_path: Path) -> None:
    text = (
        "id,Decision, File_Y ,note,FILE_X\n"
        "1,yes, p/2.png ,ok,p/1.png\n"
        '2,no,"q/with, comma.png",,p/1.png\n'
    )

    pairs = read_pairs(_write(tmp_path, text, "pairs.csv"), ROOT)

    assert pairs == [
        PairSpec(ROOT / "p/1.png", ROOT / "p/2.png", True),
        PairSpec(ROOT / "p/1.png", ROOT / "q/with, comma.png", False),
    ]


def test_csv_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    path.write_bytes(b"\xef\xbb\xbffile_x,file_y,decision\r\na.jpg,b.jpg,No\r\n")

    assert read_pairs(path, ROOT) == [PairSpec(ROOT / "a.jpg", ROOT / "b.jpg", False)]


def test_csv_bad_decision_names_the_line(tmp_path: Path) -> None:
    text = "file_x,file_y,decision\na.jpg,b.jpg,Yes\nc.jpg,d.jpg,maybe\n"

    with pytest.raises(DataSetError, match=r"pairs\.csv:3: decision must be Yes or No.*maybe"):
        read_pairs(_write(tmp_path, text, "pairs.csv"), ROOT)


def test_csv_short_row_names_the_line(tmp_path: Path) -> None:
    text = "file_x,file_y,decision\na.jpg,b.jpg\n"

    with pytest.raises(DataSetError, match=r"pairs\.csv:2: decision"):
        read_pairs(_write(tmp_path, text, "pairs.csv"), ROOT)


@pytest.mark.parametrize("row", [",b.jpg,Yes", "a.jpg,,No", "a.jpg,  ,No"])
def test_csv_missing_file_names_the_line(tmp_path: Path, row: str) -> None:
    text = f"file_x,file_y,decision\nok1.jpg,ok2.jpg,Yes\n{row}\n"

    with pytest.raises(DataSetError, match=r"pairs\.csv:3: both file_x and file_y"):
        read_pairs(_write(tmp_path, text, "pairs.csv"), ROOT)


@pytest.mark.parametrize(
    ("header", "missing"),
    [("file_x,file_y,label", "decision"), ("file_x,decision", "file_y")],
)
def test_csv_missing_column(tmp_path: Path, header: str, missing: str) -> None:
    text = f"{header}\na.jpg,b.jpg,Yes\n"

    with pytest.raises(DataSetError, match=rf"lacks the column\(s\) {missing}"):
        read_pairs(_write(tmp_path, text, "pairs.csv"), ROOT)


def test_csv_header_only_has_no_pairs(tmp_path: Path) -> None:
    with pytest.raises(DataSetError, match="no pairs"):
        read_pairs(_write(tmp_path, "file_x,file_y,decision\n", "pairs.csv"), ROOT)
