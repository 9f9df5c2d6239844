from __future__ import annotations

import stat
from pathlib import Path

import pytest

from facegate import files
from facegate.files import write_atomically


def test_writes_the_whole_file_with_its_mode_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.bin"
    write_atomically(target, b"first")
    write_atomically(target, b"second", mode=0o644)
    assert target.read_bytes() == b"second"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.bin"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.bin"
    write_atomically(target, b"old")

    def broken_replace(source: str, destination: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_write_that_is_not_durable_is_still_atomic(tmp_path: Path) -> None:
    target = tmp_path / "cursor"
    write_atomically(target, b"1\n", durable=False)
    write_atomically(target, b"2\n", durable=False)
    assert target.read_bytes() == b"2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["cursor"]  # no temporary left
