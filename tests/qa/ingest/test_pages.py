"""Pages through the pipeline: index store, kept original files, hits, citations, CLI and API (both stores)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import docx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.cli import app
from qa.engine import Engine
from qa.errors import IndexMismatchError, NotFoundError
from qa.index import open_index, original_file, read_current, read_original
from qa.search import RetrievalConfig, format_citations
from qa.settings import Settings
from qa.types import DocumentMeta
from tests import binary_docs
from tests.binary_docs import BinarySamples


@pytest.fixture(autouse=True, params=["memory", "segments"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs on both stores (the CLI and Settings through QA_INDEX_BACKEND)."""
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("QA_INDEX_BACKEND", request.param)
    return str(request.param)


@pytest.fixture
def corpus(binary_samples: BinarySamples, tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(binary_samples.feature_pdf, folder / "sample.pdf")
    shutil.copy(binary_samples.feature_docx, folder / "sample.docx")
    (folder / "note.txt").write_text("园区笔记\n园区2021年税收约2200万元。\n", encoding="utf-8")
    return folder


def test_citations_give_the_page() -> None:
    meta = DocumentMeta("数字经济样本", date="2021-05-10", publisher="渝中区统计局")
    cited = format_citations(meta, "sample.pdf", 3, page=2)
    assert cited.gbt7714 == "数字经济样本[Z]. 渝中区统计局, 2021-05-10: 2."
    assert cited.apa.endswith("(p. 2)")
    assert cited.plain == "sample.pdf:3, p. 2"
    assert format_citations(DocumentMeta("题名"), "a.pdf", page=7).gbt7714 == "题名[Z]: 7."


def test_pages_and_original_files_survive_a_save(corpus: Path, tmp_path: Path, backend: str) -> None:
    encoder = FakeEncoder()
    build_index([corpus], tmp_path / "index", encoder, None, backend=backend)  # type: ignore[arg-type]
    index = open_index(tmp_path / "index", model_id=encoder.model_id)
    pdf = index.document("sample.pdf")
    assert len(pdf.pages) == 3 and pdf.file_kind == "pdf"
    assert original_file(index, tmp_path / "index", pdf) == (corpus / "sample.pdf").read_bytes()
    for chunk in index.document_chunks("sample.pdf"):
        assert pdf.original[chunk.start : chunk.end] == chunk.cited
    spanning = next(c for c in index.document_chunks("sample.pdf") if c.cited == binary_docs.SPANNING)
    assert spanning.page == 1
    assert all(c.page is None for c in index.document_chunks("sample.docx"))
    assert all(c.page is None for c in index.document_chunks("note.txt"))
    with pytest.raises(NotFoundError, match="not read from a file"):
        original_file(index, tmp_path / "index", index.document("note.txt"))


def originals(directory: Path) -> Path:
    """Where the committed generation of the index at ``directory`` keeps the original files."""
    return directory / str(read_current(directory)) / "originals"


def test_reindex_goes_by_the_file_bytes_and_keeps_the_copies(corpus: Path, tmp_path: Path, backend: str) -> None:
    encoder = FakeEncoder()
    build_index([corpus], tmp_path / "index", encoder, None, backend=backend)  # type: ignore[arg-type]
    _, again = build_index([corpus], tmp_path / "index", encoder, None, backend=backend)  # type: ignore[arg-type]
    assert (again.unchanged, again.updated) == (3, 0)
    word = docx.Document(str(corpus / "sample.docx"))
    word.add_paragraph("新增的一段。")
    word.save(str(corpus / "sample.docx"))
    _, changed = build_index([corpus], tmp_path / "index", encoder, None, backend=backend)  # type: ignore[arg-type]
    assert (changed.unchanged, changed.updated) == (2, 1)
    reloaded = open_index(tmp_path / "index", model_id=encoder.model_id)
    for doc_id in ("sample.pdf", "sample.docx"):
        kept = original_file(reloaded, tmp_path / "index", reloaded.document(doc_id))
        assert kept == (corpus / doc_id).read_bytes()
    if backend == "segments":
        return
    assert sorted(p.name for p in originals(tmp_path / "index").iterdir()) == sorted(
        f"{reloaded.document(d).checksum}.{d.rsplit('.', 1)[1]}" for d in ("sample.pdf", "sample.docx")
    )


def test_a_damaged_copy_is_refused(corpus: Path, tmp_path: Path, backend: str) -> None:
    if backend == "segments":
        pytest.skip("a segment keeps the file inside its checksummed store (see tests/qa/index)")
    encoder = FakeEncoder()
    build_index([corpus], tmp_path / "index", encoder, None)
    index = open_index(tmp_path / "index", model_id=encoder.model_id)
    doc = index.document("sample.pdf")
    (originals(tmp_path / "index") / f"{doc.checksum}.pdf").write_bytes(b"%PDF-1.4 truncated")
    with pytest.raises(IndexMismatchError, match="damaged"):
        read_original(tmp_path / "index", doc)


def test_cli_shows_the_page(corpus: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    index = str(tmp_path / "index")
    pdf = str(corpus / "sample.pdf")
    assert runner.invoke(app, ["index", pdf, "--index", index, "--model", "fake"]).exit_code == 0
    result = runner.invoke(app, ["ask", binary_docs.SPANNING, "--index", index, "--model", "fake", "-k", "1"])
    assert result.exit_code == 0, result.output
    assert "sample.pdf:" in result.output and " p. 1 " in result.output


def test_batch_and_claims_over_a_pdf(corpus: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    index = str(tmp_path / "index")
    assert runner.invoke(app, ["index", str(corpus / "sample.pdf"), "--index", index, "--model", "fake"]).exit_code == 0
    questions = tmp_path / "q.txt"
    questions.write_text(binary_docs.SPANNING + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    args = ["batch", str(questions), "--index", index, "--output", str(output), "--model", "fake", "-k", "2"]
    assert runner.invoke(app, args).exit_code == 0
    top = json.loads(output.read_text(encoding="utf-8").splitlines()[0])["hits"][0]
    assert (top["text"], top["page"]) == (binary_docs.SPANNING, 1)
    encoder = FakeEncoder()
    engine = Engine(open_index(Path(index), model_id=encoder.model_id), encoder, RetrievalConfig())
    check = engine.cite(binary_docs.SPANNING.replace("第二页", "第三页"))
    assert check.sources[0].hit.chunk.page == 1
    assert check.sources[0].verdict in {"mismatch", "near-verbatim"}


def test_cli_refuses_an_encrypted_pdf_clearly(binary_samples: BinarySamples, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["index", str(binary_samples.encrypted_pdf), "--index", str(tmp_path / "i"), "--model", "fake"]
    )
    assert result.exit_code == 2
    assert "locked.pdf: the PDF is encrypted" in result.output and "Traceback" not in result.output


@pytest.fixture
def client(corpus: Path, tmp_path: Path, backend: str) -> TestClient:
    """The API over the PDF and the text note (the Word file shares the PDF's sentences; it is uploaded)."""
    (corpus / "sample.docx").unlink()
    encoder = FakeEncoder()
    index, _ = build_index([corpus], tmp_path / "index", encoder, None, backend=backend)  # type: ignore[arg-type]
    settings = Settings(
        _env_file=None, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", model="fake", api_key="k"
    )
    return TestClient(create_app(settings, Engine(index, encoder, RetrievalConfig())))


def test_api_hits_documents_and_files_carry_pages(client: TestClient, corpus: Path) -> None:
    hits = client.post("/v1/ask", json={"question": binary_docs.SPANNING, "top_k": 3}).json()["hits"]
    hit = next(h for h in hits if h["source"] == "sample.pdf")
    assert hit["page"] == 1 and hit["citation"]["plain"].endswith(", p. 1")
    doc = client.get("/v1/documents/sample.pdf").json()
    assert doc["text"][hit["start"] : hit["end"]] == hit["text"] == binary_docs.SPANNING
    assert len(doc["pages"]) == 3 and doc["file"] == "/v1/documents/sample.pdf/file"
    original = client.get(doc["file"])
    assert original.status_code == 200 and original.headers["content-type"] == "application/pdf"
    assert original.content == (corpus / "sample.pdf").read_bytes()
    assert client.get("/v1/documents/note.txt").json()["pages"] == []
    assert client.get("/v1/documents/note.txt/file").status_code == 404
    assert client.get("/v1/documents/missing.pdf/file").status_code == 404


def test_api_upload_of_pdf_and_docx_files(client: TestClient, binary_samples: BinarySamples) -> None:
    key = {"X-API-Key": "k"}
    data = binary_samples.feature_pdf.read_bytes()
    made = client.post(
        "/v1/documents",
        files={"file": ("report.pdf", data, "application/pdf")},
        data={"id": "up/report.pdf", "title": "上传的报告"},
        headers=key,
    )
    assert made.status_code == 201, made.text
    assert made.json()["sentences"] > 10
    doc = client.get("/v1/documents/up/report.pdf").json()
    assert doc["title"] == "上传的报告" and len(doc["pages"]) == 3
    assert client.get("/v1/documents/up/report.pdf/file").content == data
    word = binary_samples.feature_docx.read_bytes()
    assert client.post("/v1/documents", files={"file": ("w.docx", word)}, headers=key).status_code == 201
    assert client.get("/v1/documents/w.docx").json()["author"] == "渝中区统计局"
    locked = client.post(
        "/v1/documents", files={"file": ("l.pdf", binary_samples.encrypted_pdf.read_bytes())}, headers=key
    )
    assert locked.status_code == 400 and "encrypted" in locked.json()["error"]["message"]
    scanned = client.post(
        "/v1/documents", files={"file": ("s.pdf", binary_samples.scanned_pdf.read_bytes())}, headers=key
    )
    assert scanned.status_code == 400 and "no text layer" in scanned.json()["error"]["message"]
    old = client.post("/v1/documents", files={"file": ("old.doc", b"\xd0\xcf\x11\xe0")}, headers=key)
    assert old.status_code == 415 and "convert it to .docx" in old.json()["error"]["message"]
    json_body = client.post("/v1/documents", json={"id": "j.txt", "text": "园区笔记。"}, headers=key)
    assert json_body.status_code == 201
    bad = client.post("/v1/documents", json={"id": "j2.txt"}, headers=key)
    assert bad.status_code == 422


def test_api_upload_size_limit(corpus: Path, tmp_path: Path, binary_samples: BinarySamples) -> None:
    encoder = FakeEncoder()
    index, _ = build_index([corpus], tmp_path / "index", encoder, None)
    settings = Settings(_env_file=None, index_dir=tmp_path / "index", model="fake", api_key="k", max_upload_bytes=1000)
    small = TestClient(create_app(settings, Engine(index, encoder, RetrievalConfig())))
    files = {"file": ("big.pdf", binary_samples.feature_pdf.read_bytes())}
    reply = small.post("/v1/documents", files=files, headers={"X-API-Key": "k"})
    assert reply.status_code == 413
