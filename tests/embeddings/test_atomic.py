"""The one atomic-write helper: a reader sees the old file or the new one, never a part."""

from __future__ import annotations

from pathlib import Path

import pytest

from embeddings.atomic import atomic_write, atomic_write_text


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "CURRENT"
    atomic_write_text(target, "gen-000001\n")
    atomic_write_text(target, "gen-000002\n")
    assert target.read_text(encoding="utf-8") == "gen-000002\n"
    assert [p.name for p in tmp_path.iterdir()] == ["CURRENT"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_bytes(b"ne")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_fail)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_the_folder_must_exist(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a directory"):
        atomic_write_text(tmp_path / "missing" / "file.txt", "x")
