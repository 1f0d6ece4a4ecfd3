"""Question sets in, JSON lines of cited hits out: parsing, the output contract, resuming, duplicates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.cli import app
from qa.engine import Engine
from qa.errors import InputError
from qa.index import load_index
from qa.runs import Question, completed_ids, parse_questions, read_questions
from qa.search import RetrievalConfig

SHARED = "园区的范围西至鹅岭公园，东至人民大礼堂。"
DOCS = {
    "park.txt": (
        "上清寺园区简介\n\n"
        "上清寺互联网产业园位于重庆市渝中区。园区2018年新增企业300家。该园区入驻率达到百分之九十。\n\n"
        f"{SHARED}\n"
    ),
    "solar.md": (
        "# Solar Power Report\n\n"
        "The solar farm produced 120 megawatts in 2020. It employs 45 engineers.\n\n"
        "Maintenance happens every spring. The farm is located near the river.\n"
    ),
    "news/copy.txt": f"转载的新闻\n\n据介绍，本文转载自园区网站。\n\n{SHARED}这里还有一个咖啡馆。\n",
    "page.html": (
        "<html><head><title>Zoo &amp; Park</title></head><body>"
        "<p>熊猫馆周一闭馆维修。长颈鹿每天下午三点喂食&nbsp;。</p></body></html>\n"
    ),
}
QUESTIONS = [
    ("q1", "园区的范围西至哪里？"),
    ("q2", "How many engineers work at the solar farm?"),
    ("q3", "长颈鹿什么时候喂食？"),
    ("q4", "园区2018年新增多少企业？"),
    ("q5", "Where is the farm located?"),
]
FIELDS = ("rank", "score", "source", "start", "end", "text", "title")

runner = CliRunner()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(docs folder, index folder) built once for the module."""
    root = tmp_path_factory.mktemp("batch")
    docs = root / "docs"
    for name, text in DOCS.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text, encoding="utf-8")
    build_index([docs], root / "index", FakeEncoder(), None)
    return docs, root / "index"


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))


def write_jsonl(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("".join(json.dumps({"id": i, "question": q}, ensure_ascii=False) + "\n" for i, q in rows), "utf-8")
    return path


def run_batch_cli(questions: str, output: Path, index: Path, stdin: str | None = None, *more: str) -> Result:
    args = ["batch", questions, "--index", str(index), "--output", str(output), "--model", "fake", *more]
    return runner.invoke(app, args, input=stdin)


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- question sets -------------------------------------------------------------------------------------------


def test_jsonl_questions_ignore_extra_fields(tmp_path: Path) -> None:
    path = tmp_path / "qs.jsonl"
    path.write_text(
        '{"id": "a", "question": " 园区在哪里？ ", "answer": "渝中区", "source": "park.txt"}\n'
        "\n"
        '{"id": 7, "question": "How many?", "meta": {"x": 1}}\n'
        '{"question": "no id here"}\n',
        encoding="utf-8",
    )
    assert read_questions(path) == [
        Question("a", "园区在哪里？"),
        Question("7", "How many?"),
        Question("4", "no id here"),
    ]


def test_csv_questions(tmp_path: Path) -> None:
    path = tmp_path / "qs.csv"
    path.write_text('id,question,notes\nx1,园区在哪里？,ignored\nx2,"How many, exactly?",\n', encoding="utf-8")
    assert read_questions(path) == [Question("x1", "园区在哪里？"), Question("x2", "How many, exactly?")]
    # detected from the header when the file has another extension
    other = tmp_path / "qs.data"
    other.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    assert read_questions(other) == read_questions(path)


def test_plain_text_questions_are_numbered_by_line(tmp_path: Path) -> None:
    path = tmp_path / "qs.txt"
    path.write_text("第一个问题？\n\n  Second question?  \n第三个\n", encoding="utf-8")
    assert read_questions(path) == [
        Question("1", "第一个问题？"),
        Question("3", "Second question?"),
        Question("4", "第三个"),
    ]


def test_bad_jsonl_line_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "qs.jsonl"
    path.write_text('{"id": "a", "question": "ok"}\n{"id": "b", "question": \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"qs\.jsonl:2: not valid JSON"):
        read_questions(path, strict=True)
    path.write_text('{"id": "a", "question": "ok"}\n\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"qs\.jsonl:3: .*question"):
        read_questions(path, strict=True)
    bad = read_questions(path)[1]
    assert bad.id == "b" and bad.error is not None and "qs.jsonl:3" in bad.error


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ('{"id": "a", "question": "one"}\n{"id": "a", "question": "two"}\n', "jsonl"),
        ("id,question\nz,one\nz,two\n", "csv"),
    ],
)
def test_duplicate_ids_are_refused(text: str, fmt: str) -> None:
    with pytest.raises(InputError, match=r"'(a|z)' appears twice"):
        parse_questions(text, "set", fmt, strict=True)
    first, second = parse_questions(text, "set", fmt)
    assert first.error is None and second.error is not None and "appears twice" in second.error


def test_questions_from_stdin(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    _, index = corpus
    out = tmp_path / "out.jsonl"
    result = run_batch_cli("-", out, index, stdin="园区的范围西至哪里？\n\nWhere is the farm located?\n")
    assert result.exit_code == 0, result.output
    rows = records(out)
    assert [(r["id"], r["question"]) for r in rows] == [
        ("1", "园区的范围西至哪里？"),
        ("3", "Where is the farm located?"),
    ]
    assert all(r["hits"] for r in rows)


def test_bad_question_file_is_a_one_line_error_when_strict(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    _, index = corpus
    path = tmp_path / "qs.jsonl"
    path.write_text('{"id": "a", "question": "ok"}\nnot json\n', encoding="utf-8")
    result = run_batch_cli(str(path), tmp_path / "out.jsonl", index, None, "--strict")
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "qs.jsonl:2" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


# --- the output contract -------------------------------------------------------------------------------------


def test_batch_output_contract(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    docs, index = corpus
    questions = write_jsonl(tmp_path / "qs.jsonl", QUESTIONS)
    out = tmp_path / "out" / "answers.jsonl"
    result = run_batch_cli(str(questions), out, index)
    assert result.exit_code == 0, result.output
    assert f"{out}: 5 answered, 0 already there" in result.stderr
    assert result.stdout == ""

    originals = {name: (docs / name).open(encoding="utf-8").read() for name in DOCS}
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(QUESTIONS)
    for line, (qid, question) in zip(lines, QUESTIONS, strict=True):
        row = json.loads(line)
        assert list(row) == ["id", "question", "hits"]
        assert (row["id"], row["question"]) == (qid, question)
        assert 0 < len(row["hits"]) <= 10
        assert [h["rank"] for h in row["hits"]] == list(range(1, len(row["hits"]) + 1))
        scores = [h["score"] for h in row["hits"]]
        assert scores == sorted(scores, reverse=True)
        for hit in row["hits"]:
            assert list(hit)[: len(FIELDS)] == list(FIELDS)
            assert originals[hit["source"]][hit["start"] : hit["end"]] == hit["text"]
            assert hit["text"].strip() and hit["end"] - hit["start"] <= 400
            for loc in hit.get("also_at", []):
                assert originals[loc["source"]][loc["start"] : loc["end"]].strip()
    by_id = {r["id"]: r for r in records(out)}
    assert by_id["q2"]["hits"][0]["text"] == "It employs 45 engineers."
    assert by_id["q2"]["hits"][0]["title"] == "Solar Power Report"
    # the HTML document is cited in its original markup coordinates
    html_hits = [h for r in records(out) for h in r["hits"] if h["source"] == "page.html"]
    assert any("&nbsp;" in h["text"] for h in html_hits)


def test_batch_resumes_and_repairs_a_torn_line(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    _, index = corpus
    out = tmp_path / "out.jsonl"
    questions = write_jsonl(tmp_path / "qs.jsonl", QUESTIONS[:3])
    result = run_batch_cli(str(questions), out, index)
    assert result.exit_code == 0, result.output
    assert "3 answered, 0 already there" in result.stderr
    first = out.read_text(encoding="utf-8")

    write_jsonl(questions, QUESTIONS)
    result = run_batch_cli(str(questions), out, index)
    assert result.exit_code == 0, result.output
    assert "2 answered, 3 already there" in result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith(first)
    assert [r["id"] for r in records(out)] == ["q1", "q2", "q3", "q4", "q5"]

    # a crash while writing the last record leaves half a line: it is cut and that question answered again
    whole = text.splitlines(keepends=True)
    torn = "".join(whole[:-1]) + whole[-1][: len(whole[-1]) // 2]
    out.write_text(torn, encoding="utf-8")
    result = run_batch_cli(str(questions), out, index)
    assert result.exit_code == 0, result.output
    assert "1 answered, 4 already there" in result.stderr
    assert out.read_text(encoding="utf-8") == text

    # nothing left to do
    result = run_batch_cli(str(questions), out, index)
    assert "0 answered, 5 already there" in result.stderr
    assert out.read_text(encoding="utf-8") == text


def test_completed_ids_cuts_only_the_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    good = '{"id": "a", "hits": []}\n{"id": 2, "hits": []}\n'
    path.write_text(good + '{"id": "c", "hi', encoding="utf-8")
    assert completed_ids(path) == {"a", "2"}
    assert path.read_text(encoding="utf-8") == good
    path.write_text(good + '{"id": "c", "hits": []}', encoding="utf-8")  # whole JSON but no newline yet
    assert completed_ids(path) == {"a", "2"}
    assert path.read_text(encoding="utf-8") == good
    assert completed_ids(tmp_path / "absent.jsonl") == set()


def test_a_bad_line_before_the_last_is_not_cut(tmp_path: Path) -> None:
    """Only a torn *last* line is a crash; an earlier bad line means the file is something else."""
    path = tmp_path / "notes.jsonl"
    text = 'some notes, not results\n{"id": "a", "hits": []}\n'
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"notes\.jsonl:1: "):
        completed_ids(path)
    assert path.read_text(encoding="utf-8") == text  # nothing lost


def test_batch_output_errors_are_one_line(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    _, index = corpus
    questions = write_jsonl(tmp_path / "qs.jsonl", QUESTIONS[:1])
    folder = tmp_path / "a-folder"
    folder.mkdir()
    notes = tmp_path / "notes.jsonl"
    notes.write_text('not json\n{"id": "q1", "hits": []}\n', encoding="utf-8")
    for output in (folder, notes):
        result = run_batch_cli(str(questions), output, index)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {output}"), result.stderr
    assert notes.read_text(encoding="utf-8") == 'not json\n{"id": "q1", "hits": []}\n'


# --- duplicates ----------------------------------------------------------------------------------------------


def test_same_sentence_in_two_documents_is_one_hit(corpus: tuple[Path, Path]) -> None:
    docs, index_dir = corpus
    engine = Engine(load_index(index_dir), FakeEncoder(), RetrievalConfig())
    hits = engine.ask("园区的范围西至哪里？", 10)
    same = [h for h in hits if h.chunk.text == SHARED]
    assert len(same) == 1
    hit = same[0]
    assert len(hit.also_at) == 1
    other = hit.also_at[0]
    assert {hit.chunk.source, other.source} == {"park.txt", "news/copy.txt"}
    original = (docs / other.source).read_text(encoding="utf-8")
    assert original[other.start : other.end] == SHARED
    assert other.line == original[: other.start].count("\n") + 1
    data = hit.as_dict()
    assert data["also_at"] == [{"source": other.source, "start": other.start, "end": other.end, "line": other.line}]
    # ranks stay consecutive after collapsing
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert len({h.chunk.text for h in hits}) == len(hits)
