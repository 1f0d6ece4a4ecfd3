"""Files that once stopped `qa index` with a traceback, skipped a document, or emptied an index without a word."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app as cli
from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.errors import InputError
from qa.index import open_index
from qa.ingest import iter_documents, segment
from tests.reliability.reliability_app import API_KEY

runner = CliRunner()
TEXT = "上清寺互联网产业园\n上清寺互联网产业园位于重庆市渝中区。该园区2018年新增企业300家。\n"


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))


def index_cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["index", *args, "--model", "fake"])
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr


def test_gbk_jsonl_corpus_is_read(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_bytes(
        json.dumps({"id": "d1", "title": "园区", "text": TEXT}, ensure_ascii=False).encode("gbk") + b"\n"
    )
    code, stderr = index_cli(str(corpus), "--index", str(tmp_path / "index"))
    assert code == 0, stderr
    assert open_index(tmp_path / "index").document("d1").original == TEXT


def test_stray_byte_in_a_txt_is_replaced_not_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = TEXT.encode("utf-8")
    cut = data.index("位于".encode())
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "park.txt").write_bytes(data[:cut] + b"\xff" + data[cut:])
    with caplog.at_level(logging.WARNING):
        (doc,) = list(iter_documents([tmp_path / "docs"]))
    assert f"park.txt: bytes that are not UTF-8 at byte {cut}" in caplog.text
    assert doc.original == TEXT[: TEXT.index("位于")] + "\ufffd" + TEXT[TEXT.index("位于") :]
    assert all(doc.original[c.start : c.end] == c.cited for c in segment(doc))


def test_stray_byte_in_a_jsonl_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    line = json.dumps({"id": "d1", "text": TEXT}, ensure_ascii=False).encode("utf-8")
    corpus.write_bytes(line.replace("位于".encode(), b"\xff" + "位于".encode()) + b"\n")
    code, stderr = index_cli(str(corpus), "--index", str(tmp_path / "index"))
    assert code == 0 and "byte" in stderr


class CountingEncoder(FakeEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return super().encode_documents(texts)


def test_an_index_path_that_cannot_be_written_fails_before_embedding(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(TEXT, "utf-8")
    (tmp_path / "a-file").write_text("x", "utf-8")
    encoder = CountingEncoder()
    with pytest.raises(InputError, match="cannot write an index here"):
        build_index([tmp_path / "docs"], tmp_path / "a-file" / "idx", encoder, None)
    assert encoder.calls == 0
    code, stderr = index_cli(str(tmp_path / "docs"), "--index", str(tmp_path / "a-file" / "idx"))
    assert code == 2 and "cannot write an index here" in stderr


def test_an_empty_folder_does_not_empty_the_index(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(TEXT, "utf-8")
    (tmp_path / "empty").mkdir()
    index = str(tmp_path / "index")
    assert index_cli(str(tmp_path / "docs"), "--index", index)[0] == 0
    code, stderr = index_cli(str(tmp_path / "empty"), "--index", index)
    assert code == 2 and "--allow-empty" in stderr
    assert list(open_index(tmp_path / "index").documents) == ["a.txt"]
    assert index_cli(str(tmp_path / "empty"), "--index", index, "--allow-empty")[0] == 0
    assert not open_index(tmp_path / "index").documents


@pytest.mark.parametrize(
    ("row", "field"),
    [({"date": "notadate"}, "date"), ({"title": {"a": "b"}}, '"title"'), ({"publisher": {"x": 1}}, '"publisher"')],
)
def test_metadata_that_cannot_be_used_names_the_field(tmp_path: Path, row: dict[str, object], field: str) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"id": "d1", "text": TEXT, **row}, ensure_ascii=False) + "\n", "utf-8")
    code, stderr = index_cli(str(corpus), "--index", str(tmp_path / "index"))
    assert code == 2 and "corpus.jsonl:1" in stderr and field in stderr


def test_a_mapping_title_in_front_matter_names_the_field(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("---\ntitle:\n  a: b\n---\n" + TEXT, "utf-8")
    code, stderr = index_cli(str(tmp_path / "docs"), "--index", str(tmp_path / "index"))
    assert code == 2 and "a.md: front matter" in stderr and '"title"' in stderr


def test_api_refuses_a_date_that_is_not_a_date(client: TestClient) -> None:
    body = {"id": "n.txt", "text": TEXT, "date": "notadate"}
    response = client.post("/v1/documents", json=body, headers={"X-API-Key": API_KEY})
    assert response.status_code == 422 and "date" in response.json()["error"]["message"]


def test_unpaired_surrogates_in_a_jsonl_corpus_are_repaired(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"id": "d\udc00", "title": "\ud800园区", "text": "\udc00" + TEXT}) + "\n", "utf-8")
    (doc,) = list(iter_documents([corpus]))
    assert doc.id == "d\ufffd" and doc.meta.title == "\ufffd园区" and doc.original == "\ufffd" + TEXT
    code, stderr = index_cli(str(corpus), "--index", str(tmp_path / "index"))
    assert code == 0 and "surrogates" in stderr
