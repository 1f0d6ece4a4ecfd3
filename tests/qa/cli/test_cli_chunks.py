"""`qa chunks`: JSON lines citing the files exactly; a clean one-line error for a missing path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli import app

REPO = Path(__file__).resolve().parents[3]
SEEDS = REPO / "seeds"
FIELDS = {"source", "start", "end", "text", "line", "paragraph", "heading"}

runner = CliRunner()


def records(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_chunks_of_seeds_cite_the_files() -> None:
    result = runner.invoke(app, ["chunks", str(SEEDS)])
    assert result.exit_code == 0, result.output
    rows = records(result.stdout)
    assert len(rows) > 100
    sources = {str(row["source"]) for row in rows}
    assert sources == {p.name for p in SEEDS.iterdir() if p.is_file()}
    originals: dict[str, str] = {}
    for name in sources:
        with (SEEDS / name).open(encoding="utf-8") as handle:
            originals[name] = handle.read()
    for row in rows:
        assert set(row) >= FIELDS
        original = originals[str(row["source"])]
        start, end = row["start"], row["end"]
        assert isinstance(start, int) and isinstance(end, int)
        assert original[start:end] == row["text"]
        assert row["line"] == original.count("\n", 0, start) + 1
        assert isinstance(row["paragraph"], int)
        assert isinstance(row["heading"], list)
    html_rows = [r for r in rows if str(r["source"]).startswith("001_")]
    assert html_rows and not any("<p>" in str(r.get("clean_text", r["text"])) for r in html_rows)


def test_chunks_default_path_is_seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    default = runner.invoke(app, ["chunks"])
    explicit = runner.invoke(app, ["chunks", "seeds"])
    assert default.exit_code == 0, default.output
    assert default.stdout == explicit.stdout
    assert len(records(default.stdout)) > 100


def test_chunks_of_one_file(tmp_path: Path) -> None:
    path = tmp_path / "one.txt"
    path.write_text("标题\n第一句。第二句。\n", encoding="utf-8")
    result = runner.invoke(app, ["chunks", str(path)])
    assert result.exit_code == 0, result.output
    rows = records(result.stdout)
    assert [(r["source"], r["start"], r["end"], r["text"], r["line"]) for r in rows] == [
        ("one.txt", 0, 2, "标题", 1),
        ("one.txt", 3, 7, "第一句。", 2),
        ("one.txt", 7, 11, "第二句。", 2),
    ]
    assert rows[1]["heading"] == ["标题"]


def test_missing_path_is_a_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_folder"
    result = runner.invoke(app, ["chunks", str(missing)])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "no_such_folder" in lines[0]
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an uncaught error
