"""Input that once reached a traceback or a 500: unpaired surrogates, deep nesting, huge ids and fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app as cli
from api.schemas import NOT_BLANK
from embeddings.encoders import FakeEncoder
from qa.building import build_index
from tests.reliability.reliability_app import DOCS
from tests.sample_docs import write_docs

SURROGATE = "\udc00U创空间"
runner = CliRunner()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/ask", {"question": SURROGATE}),
        ("/v1/cite", {"claim": SURROGATE}),
        ("/v1/chat", {"messages": [{"role": "user", "content": SURROGATE}]}),
        ("/v1/documents", {"id": "x.txt", "text": SURROGATE}),
        ("/v1/documents", {"id": SURROGATE, "text": "正文。"}),
    ],
)
def test_unpaired_surrogates_are_a_422(client: TestClient, path: str, body: dict[str, object]) -> None:
    raw = json.dumps(body)  # ASCII escapes: the surrogate travels as \\udc00
    response = client.post(path, content=raw, headers={"content-type": "application/json", "X-API-Key": "test-key"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"


def batch_lines(client: TestClient, body: str, media: str) -> list[dict[str, object]]:
    response = client.post("/v1/batch", content=body.encode("utf-8"), headers={"content-type": media})
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def test_batch_answers_around_bad_lines(client: TestClient) -> None:
    lines = [
        json.dumps({"id": "ok1", "question": "U创空间2017年的产值是多少？"}),
        json.dumps({"id": "sur", "question": SURROGATE}),
        "[" * 100_000,
        '{"id": ' + "9" * 5000 + ', "question": "园区在哪里？"}',
        json.dumps({"id": "empty", "question": ""}),
        json.dumps({"id": SURROGATE, "question": "园区在哪里？"}),
        *(json.dumps({"id": f"q{i}", "question": f"园区{i}在哪里？"}) for i in range(40)),
    ]
    records = batch_lines(client, "\n".join(lines) + "\n", "application/x-ndjson")
    assert len(records) == len(lines)  # nothing cut: one line per input line
    errors = {str(r["id"]): r["error"] for r in records if "error" in r}
    assert set(errors) == {"sur", "3", "4", "empty", "\ufffdU创空间"}
    assert all(e["code"] == "bad_input" and e["message"] for e in errors.values())  # type: ignore[index]
    assert all(r["hits"] for r in records if "error" not in r)


def test_batch_csv_with_a_huge_field(client: TestClient) -> None:
    body = "id,question\nq1,园区在哪里？\nq2," + "问" * 200_000 + "\nq3,U创空间2017年的产值是多少？\n"
    records = batch_lines(client, body, "text/csv")
    assert [("error" in r) for r in records] == [False, True, False]
    assert [r["id"] for r in records if "hits" in r] == ["q1", "q3"]


@pytest.mark.parametrize("blank", ["", "   ", "\ufeff", "\u3000\n", "\x85"])
def test_blank_questions_are_a_422_as_the_schema_says(client: TestClient, blank: str) -> None:
    response = client.post("/v1/ask", json={"question": blank})
    assert response.status_code == 422, response.text
    pattern = client.get("/openapi.json").json()["components"]["schemas"]["AskRequest"]["properties"]["question"]
    assert pattern["pattern"] == NOT_BLANK and pattern["maxLength"] == 200
    assert "empty" in response.json()["error"]["message"] or not blank


def test_date_zero_is_not_1970(client: TestClient) -> None:
    response = client.post("/v1/ask", json={"question": "园区", "filters": {"date_to": 0}})
    assert response.status_code == 422 and "date_to" in response.json()["error"]["message"]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    build_index([write_docs(root / "docs", DOCS)], root / "index", FakeEncoder(), None)
    return root / "index"


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.parametrize("command", ["ask", "cite"])
def test_cli_refuses_a_byte_that_is_not_utf8(index_dir: Path, command: str) -> None:
    argument = b"U\xff\xe5\x88\x9b".decode("utf-8", "surrogateescape")  # what Python makes of $'U\xff创'
    result = runner.invoke(cli, [command, argument, "--index", str(index_dir), "--model", "fake"])
    assert result.exit_code == 2, result.output
    assert "0xFF" in result.stderr and "Traceback" not in result.output


def test_cli_cite_stdin_that_is_not_utf8(index_dir: Path) -> None:
    result = runner.invoke(cli, ["cite", "-", "--index", str(index_dir), "--model", "fake"], input=b"U\xff\n")
    assert result.exit_code == 2 and "not UTF-8" in result.stderr


def test_qa_batch_goes_on_past_bad_lines(index_dir: Path, tmp_path: Path) -> None:
    questions = tmp_path / "qs.jsonl"
    rows = [{"id": "a", "question": "园区在哪里？"}, {"id": "b", "question": ""}, {"id": "c", "question": SURROGATE}]
    questions.write_text("".join(json.dumps(r) + "\n" for r in [*rows, {"id": "d", "question": "产值？"}]), "utf-8")
    out = tmp_path / "out.jsonl"
    args = ["batch", str(questions), "-o", str(out), "--index", str(index_dir), "--model", "fake"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in records] == ["a", "b", "c", "d"]
    assert [sorted(r) for r in records if "error" in r] == [["error", "id"], ["error", "id"]]
    assert "2 could not be answered" in result.stderr
    assert "question b:" in result.stderr and "question c:" in result.stderr
    strict = runner.invoke(cli, [*args[:3], str(tmp_path / "strict.jsonl"), *args[4:], "--strict"])
    assert strict.exit_code == 2 and "question" in strict.stderr and not (tmp_path / "strict.jsonl").exists()


def test_qa_batch_reads_question_files_that_are_not_utf8(index_dir: Path, tmp_path: Path) -> None:
    gbk, stray = tmp_path / "gbk.txt", tmp_path / "stray.txt"
    gbk.write_bytes("园区在哪里？\nU创空间2017年的产值是多少？\n".encode("gbk"))
    stray.write_bytes("园区在哪里？\nU创空间2017年的产值是多少？\xff\n".encode("utf-8", "surrogateescape"))
    for path in (gbk, stray):
        out = tmp_path / f"{path.stem}.out.jsonl"
        result = runner.invoke(cli, ["batch", str(path), "-o", str(out), "--index", str(index_dir), "--model", "fake"])
        assert result.exit_code == 0, result.output
        records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
        assert records[0]["question"] == "园区在哪里？" and len(records) == 2
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x00\x01question")
    result = runner.invoke(cli, ["batch", str(binary), "-o", str(tmp_path / "b.jsonl"), "--index", str(index_dir)])
    assert result.exit_code == 2 and "not a text file" in result.stderr
