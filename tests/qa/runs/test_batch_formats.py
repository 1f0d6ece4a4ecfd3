"""Batch output formats (JSONL, CSV, Markdown, TREC): what each writes, reads back, and how each resumes."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import ir_measures
import pytest
from ir_measures import RR, R, Success
from typer.testing import CliRunner, Result

from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.cli import app
from qa.engine import Engine
from qa.index import load_index
from qa.runs import (
    FORMATS,
    Question,
    docno,
    open_output,
    output_format,
    read_gold,
    read_questions,
    run_batch,
    write_records,
)
from qa.search import RetrievalConfig, compose

REPO = Path(__file__).resolve().parents[3]
SHARED = next((p for p in (REPO.parent / "shared", REPO.parents[1] / "shared") if p.is_dir()), REPO.parent / "shared")
SEED_DEV = SHARED / "eval" / "seed_questions_dev.jsonl"
SUFFIX = {"jsonl": "jsonl", "csv": "csv", "md": "md", "trec": "trec"}

pytestmark = pytest.mark.skipif(not SEED_DEV.is_file(), reason=f"seed dev questions not found at {SEED_DEV}")
runner = CliRunner()


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds indexed with the fake encoder."""
    directory = tmp_path_factory.mktemp("formats") / "index"
    build_index([REPO / "seeds"], directory, FakeEncoder(), None)
    return directory


@pytest.fixture(scope="module")
def engine(seed_index: Path) -> Engine:
    return Engine(load_index(seed_index), FakeEncoder(), RetrievalConfig())


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))


def cli(*args: str) -> Result:
    result = runner.invoke(app, [*args, "--model", "fake"])
    assert "Traceback" not in result.output
    return result


def batch(index: Path, out: Path, fmt: str, *extra: str) -> Result:
    return cli("batch", str(SEED_DEV), "-o", str(out), "--index", str(index), "--format", fmt, "-k", "5", *extra)


def written(engine: Engine, fmt: str, path: Path, questions: list[Question]) -> str:
    """Run the questions into ``path`` the way ``qa batch`` does (resuming); the file's text."""
    form = output_format(fmt)
    done = form.resume(path)
    with open_output(path, form) as out:
        run_batch(questions, engine.ask_many, out, render=form.render, top_k=5, skip=done, no_answer_cosine=0.88)
    return path.read_bytes().decode("utf-8")


# --- round trips ------------------------------------------------------------------------------------------------

SHARED_FIELDS = {
    "csv": ("rank", "score", "source", "start", "end", "line", "text"),
    "md": ("rank", "source", "start", "end", "line", "text"),
    "trec": ("rank", "score", "source", "start", "end"),
}


@pytest.mark.parametrize("fmt", ["csv", "md", "trec"])
def test_each_format_round_trips_on_seed_dev(seed_index: Path, tmp_path: Path, fmt: str) -> None:
    """What a format writes reads back as the JSONL contract says (the fields that format carries)."""
    reference = tmp_path / "out.jsonl"
    assert batch(seed_index, reference, "jsonl").exit_code == 0
    expected = [json.loads(line) for line in reference.read_text(encoding="utf-8").splitlines()]
    out = tmp_path / f"out.{SUFFIX[fmt]}"
    result = batch(seed_index, out, fmt)
    assert result.exit_code == 0, result.output
    back = output_format(fmt).read(out)
    assert [r["id"] for r in back] == [r["id"] for r in expected] == [q.id for q in read_questions(SEED_DEV)]
    for got, want in zip(back, expected, strict=True):
        if fmt != "trec":
            assert got["question"] == want["question"]
        keys = SHARED_FIELDS[fmt]
        assert [{k: h[k] for k in keys} for h in got["hits"]] == [{k: h[k] for k in keys} for h in want["hits"]]
        if fmt != "trec":
            assert [h["citation"] for h in got["hits"]] == [h["citation"]["gbt7714"] for h in want["hits"]]
    originals = {p.name: p.read_text(encoding="utf-8") for p in (REPO / "seeds").iterdir()}
    assert all(originals[h["source"]][h["start"] : h["end"]] for r in back for h in r["hits"])


def test_markdown_has_the_composed_answer(seed_index: Path, engine: Engine, tmp_path: Path) -> None:
    questions = read_questions(SEED_DEV)[:4]
    written(engine, "md", tmp_path / "out.md", questions)
    for record, question in zip(output_format("md").read(tmp_path / "out.md"), questions, strict=True):
        reply = compose(question.question, engine.ask(question.question, 5), 0.88)
        assert (record["answer"] if not record["no_answer"] else "") == reply.answer
        assert record["no_answer"] == reply.no_answer


def test_markdown_and_csv_keep_awkward_text(tmp_path: Path) -> None:
    """Markdown marks, quotes, commas and line breaks in a sentence survive both formats."""
    hit = {
        "rank": 1,
        "score": 2.5,
        "source": "a b#1.txt",
        "start": 3,
        "end": 20,
        "line": 2,
        "page": 4,
        "text": '**粗体** [1] <br> a_b, "引号"\n第二行 ## 标题 `code` \\ |',
        "citation": {"gbt7714": "题名[Z]. *出版者*, 2024.", "apa": "x", "plain": "a b#1.txt:2"},
    }
    record = {"id": "q 1#", "question": "问题, 带 `标记`?", "hits": [hit], "answer": hit["text"] + "[1]"}
    for fmt in ("csv", "md"):
        form = output_format(fmt)
        path = tmp_path / f"out.{fmt}"
        path.write_text(form.header + form.render(record), encoding="utf-8", newline="")
        (back,) = form.read(path)
        assert (back["id"], back["question"]) == (record["id"], record["question"])
        (got,) = back["hits"]
        assert {k: got[k] for k in ("rank", "source", "start", "end", "line", "page", "text")} == {
            k: hit[k] for k in ("rank", "source", "start", "end", "line", "page", "text")
        }
        assert got["citation"] == hit["citation"]["gbt7714"]
    md = output_format("md").render(record)
    assert "p. 4" in md and md.count("\n## ") == 0 and md.startswith("## ")


def test_trec_docno_encodes_what_would_break_a_column() -> None:
    assert docno("000_ca0f.txt", 991, 1026) == "000_ca0f.txt#991-1026"
    assert docno("my notes/a b#2%.txt", 0, 5) == "my%20notes/a%20b%232%25.txt#0-5"
    line = output_format("trec").render(
        {"id": "q1", "hits": [{"rank": 1, "score": 1.5, "source": "a b", "start": 0, "end": 5}]}
    )
    assert line == "q1 Q0 a%20b#0-5 1 1.5 chuchu\n"


# --- resuming ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_resumes_to_the_same_file(engine: Engine, tmp_path: Path, fmt: str) -> None:
    """A run stopped anywhere (between questions or inside one) and rerun gives the file of a run never stopped."""
    questions = read_questions(SEED_DEV)[:6]
    whole = written(engine, fmt, tmp_path / "whole", questions)
    assert written(engine, fmt, tmp_path / "whole", questions) == whole  # nothing left to do
    part = tmp_path / "part"
    written(engine, fmt, part, questions[:3])
    assert written(engine, fmt, part, questions) == whole
    raw = whole.encode("utf-8")
    for cut in sorted({1, 7, len(raw) // 3, len(raw) // 2, len(raw) - 2, len(raw) - 1}):
        torn = tmp_path / f"torn{cut}"
        torn.write_bytes(raw[:cut].decode("utf-8", errors="ignore").encode("utf-8"))
        assert written(engine, fmt, torn, questions) == whole, cut


@pytest.mark.parametrize(
    ("fmt", "text"), [("csv", "a,b\n1,2\n"), ("md", "# notes\n\nhello\n"), ("trec", "q1 x\nq2 y\n")]
)
def test_a_file_of_something_else_is_refused_and_kept(seed_index: Path, tmp_path: Path, fmt: str, text: str) -> None:
    out = tmp_path / "notes"
    out.write_text(text, encoding="utf-8")
    result = batch(seed_index, out, fmt)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: {out}:1: not a")
    assert out.read_text(encoding="utf-8") == text


def test_jsonl_output_is_refused_as_csv(seed_index: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert batch(seed_index, out, "jsonl").exit_code == 0
    before = out.read_bytes()
    assert batch(seed_index, out, "csv").exit_code == 2
    assert out.read_bytes() == before


def test_trec_refuses_ids_with_spaces(seed_index: Path, tmp_path: Path) -> None:
    questions = tmp_path / "qs.jsonl"
    questions.write_text('{"id": "q 1", "question": "园区在哪里？"}\n', encoding="utf-8")
    result = cli("batch", str(questions), "-o", str(tmp_path / "run"), "--index", str(seed_index), "--format", "trec")
    assert result.exit_code == 2 and "'q 1' cannot be a TREC qid" in result.stderr
    assert not (tmp_path / "run").exists()


def test_unknown_format_and_style_are_one_line_errors(seed_index: Path, tmp_path: Path) -> None:
    for fmt, *extra in (["xml"], ["csv", "--style", "mla"]):
        result = batch(seed_index, tmp_path / "out", fmt, *extra)
        assert result.exit_code == 2 and result.stderr.startswith("error: unknown"), result.stderr
        assert not (tmp_path / "out").exists()


def test_error_records_stay_out_of_the_human_formats(caplog: pytest.LogCaptureFixture) -> None:
    """An error record is a JSON line in JSONL and no row in the other formats; every format warns of it."""
    record = {"id": "bad", "error": {"code": "invalid_request", "message": "empty question"}}
    assert json.loads(output_format("jsonl").render(record)) == record
    for fmt in ("csv", "md", "trec"):
        assert output_format(fmt).render(record) == ""

    for fmt in FORMATS:
        out = io.StringIO()
        with caplog.at_level(logging.WARNING):
            write_records([record], out, output_format(fmt).render)
        assert (out.getvalue() == "") == (fmt != "jsonl")
    assert caplog.text.count("question bad: empty question") == len(FORMATS)


# --- progress ---------------------------------------------------------------------------------------------------


def test_summary_line_and_quiet(seed_index: Path, tmp_path: Path) -> None:
    result = batch(seed_index, tmp_path / "out.csv", "csv")
    assert result.exit_code == 0
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{tmp_path / 'out.csv'}: 21 answered, 0 already there in ") and "questions/s" in line
    quiet = batch(seed_index, tmp_path / "out2.csv", "csv", "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == ""
    indexed = cli("index", str(REPO / "seeds" / "000_ca0f24476244f5bc.txt"), "--index", str(tmp_path / "i"), "-q")
    assert indexed.exit_code == 0 and indexed.stderr == ""


# --- TREC and an independent scorer ----------------------------------------------------------------------------


def test_qrels_and_ir_measures_agree_with_qa_eval(seed_index: Path, tmp_path: Path) -> None:
    """ir_measures (pytrec_eval) scores the TREC run against the qrels exactly as qa eval scores it."""
    run, qrels = tmp_path / "run.trec", tmp_path / "seed.qrels"
    assert batch(seed_index, run, "trec", "-k", "10").exit_code == 0
    result = cli("eval", str(SEED_DEV), "--index", str(seed_index), "--qrels", str(qrels))
    assert result.exit_code == 0, result.output
    ours = dict(line.split(": ") for line in result.stdout.splitlines())
    assert len(qrels.read_text(encoding="utf-8").splitlines()) == len(read_gold(SEED_DEV))
    theirs = ir_measures.calc_aggregate(
        [R @ 1, R @ 5, RR @ 10, Success @ 1, Success @ 5, Success @ 10],
        list(ir_measures.read_trec_qrels(str(qrels))),
        list(ir_measures.read_trec_run(str(run))),
    )
    for measure, key in ((R @ 1, "recall@1"), (R @ 5, "recall@5"), (Success @ 10, "recall@10"), (RR @ 10, "mrr@10")):
        assert f"{theirs[measure]:.3f}" == ours[key], measure
    rescored = cli("eval", str(SEED_DEV), "--results", str(run), "--format", "trec")
    assert rescored.stdout == result.stdout
