"""The HTTP API's document writes: API key, add/replace/delete, incremental index, queries during a write."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.engine import Engine
from qa.errors import NotFoundError
from qa.index import open_index
from qa.ingest import parse_document
from qa.search import RetrievalConfig
from qa.settings import Settings
from tests.sample_docs import fake_app

CORPUS = {
    "park.txt": "上清寺互联网产业园\n上清寺互联网产业园位于重庆市渝中区。该园区2018年新增企业300家。\n",
    "street.txt": "梦想小街产业园\n梦想小街产业园主体建筑面积约3万平方米。2021年，园区税收约2200万元。\n",
}
KEY = {"X-API-Key": "s3cret"}
NEW_DOC = {"id": "news/harbour.txt", "text": "江北嘴码头\n江北嘴码头2020年货物吞吐量达到450万吨。\n"}


class GatedEncoder(FakeEncoder):
    """The fake encoder, whose document embedding waits for ``release`` once ``gate`` is on."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = False
        self.started = threading.Event()
        self.release = threading.Event()

    def encode_documents(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if self.gate:
            self.started.set()
            assert self.release.wait(10), "the test never released the encoder"
        return super().encode_documents(texts)


def make_app(root: Path, encoder: FakeEncoder | None = None, api_key: str | None = "s3cret") -> FastAPI:
    """An app over CORPUS written under ``root`` (writes need ``api_key``; None turns them off)."""
    return fake_app(root, CORPUS, encoder=encoder, api_key=api_key, max_upload_bytes=2000, no_answer_cosine=0.0)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(make_app(tmp_path)) as test_client:
        yield test_client


def top_hit(client: TestClient, question: str) -> dict[str, Any]:
    hits = client.post("/v1/ask", json={"question": question, "top_k": 3}).json()["hits"]
    assert hits
    hit: dict[str, Any] = hits[0]
    return hit


def sources(client: TestClient, question: str) -> set[str]:
    hits = client.post("/v1/ask", json={"question": question, "top_k": 20}).json()["hits"]
    return {h["source"] for h in hits}


def test_writes_are_disabled_without_a_configured_key(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path, api_key=None)) as client:
        for response in (
            client.post("/v1/documents", json=NEW_DOC, headers=KEY),
            client.put("/v1/documents/park.txt", json={"text": "新的文本。"}, headers=KEY),
            client.delete("/v1/documents/park.txt", headers=KEY),
        ):
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "writes_disabled"
            assert "QA_API_KEY" in response.json()["error"]["message"]
        assert client.get("/v1/documents").json()["total"] == 2


def test_writes_need_the_right_key(client: TestClient) -> None:
    for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}):
        response = client.post("/v1/documents", json=NEW_DOC, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
    assert client.delete("/v1/documents/park.txt", headers={"X-API-Key": "S3CRET"}).status_code == 401
    assert client.get("/v1/documents").json()["total"] == 2


def test_a_new_document_is_found_by_ask(client: TestClient, tmp_path: Path) -> None:
    body = {**NEW_DOC, "title": "码头年报", "date": "2021-01-08", "publisher": "港务局", "extra": {"lang": "zh"}}
    created = client.post("/v1/documents", json=body, headers=KEY)
    assert created.status_code == 201
    assert created.json() == {"id": "news/harbour.txt", "status": "created", "sentences": 2, "documents": 3}
    hit = top_hit(client, "江北嘴码头2020年的货物吞吐量是多少？")
    assert hit["source"] == "news/harbour.txt"
    assert NEW_DOC["text"][hit["start"] : hit["end"]] == hit["text"] == "江北嘴码头2020年货物吞吐量达到450万吨。"
    assert hit["title"] == "码头年报" and hit["date"] == "2021-01-08" and hit["publisher"] == "港务局"
    detail = client.get("/v1/documents/news/harbour.txt").json()
    assert detail["text"] == NEW_DOC["text"] and detail["extra"] == {"lang": "zh"}
    saved = open_index(tmp_path / "index")
    assert set(saved.documents) == {"park.txt", "street.txt", "news/harbour.txt"}
    again = client.post("/v1/documents", json=NEW_DOC, headers=KEY)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_put_replaces_adds_and_skips_unchanged(client: TestClient) -> None:
    new_text = "梦想小街产业园\n2022年，梦想小街产业园税收约3100万元。\n"
    replaced = client.put("/v1/documents/street.txt", json={"text": new_text}, headers=KEY)
    assert replaced.status_code == 200 and replaced.json()["status"] == "replaced"
    hit = top_hit(client, "梦想小街产业园的税收是多少？")
    assert hit["text"] == "2022年，梦想小街产业园税收约3100万元。"
    assert not any("2200万元" in h["text"] for h in client.post("/v1/ask", json={"question": "税收"}).json()["hits"])
    same = client.put("/v1/documents/street.txt", json={"text": new_text}, headers=KEY)
    assert same.json()["status"] == "unchanged"
    retitled = client.put("/v1/documents/street.txt", json={"text": new_text, "title": "小街"}, headers=KEY)
    assert retitled.json()["status"] == "replaced"
    added = client.put(
        "/v1/documents/extra.md", json={"text": "# 附录\n\n附录一句话。\n", "kind": "markdown"}, headers=KEY
    )
    assert added.status_code == 201 and added.json()["status"] == "created" and added.json()["documents"] == 3


def test_delete_makes_its_hits_disappear(client: TestClient, tmp_path: Path) -> None:
    assert "street.txt" in sources(client, "梦想小街产业园的税收是多少？")
    deleted = client.delete("/v1/documents/street.txt", headers=KEY)
    assert deleted.status_code == 200
    assert deleted.json() == {"id": "street.txt", "status": "deleted", "sentences": 0, "documents": 1}
    assert "street.txt" not in sources(client, "梦想小街产业园的税收是多少？")
    assert client.get("/v1/documents/street.txt").status_code == 404
    assert set(open_index(tmp_path / "index").documents) == {"park.txt"}
    again = client.delete("/v1/documents/street.txt", headers=KEY)
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"
    assert client.delete("/v1/documents/park.txt", headers=KEY).status_code == 200
    empty = client.post("/v1/ask", json={"question": "园区"}).json()
    assert empty["hits"] == [] and empty["no_answer"] is True
    assert client.get("/readyz").json()["sentences"] == 0


def test_document_ids_never_name_server_files(client: TestClient) -> None:
    assert client.get("/v1/documents/..%2F..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert client.get("/v1/documents//etc/passwd").status_code == 404
    doc = {"id": "../../etc/passwd", "text": "只是一个名字。"}
    assert client.post("/v1/documents", json=doc, headers=KEY).status_code == 201
    assert client.get("/v1/documents/../../etc/passwd").json()["error"]["code"] == "not_found"  # URL normalised
    listed = [d["id"] for d in client.get("/v1/documents").json()["documents"]]
    assert "../../etc/passwd" in listed
    fetched = client.get("/v1/documents/..%2F..%2Fetc%2Fpasswd").json()
    assert fetched["text"] == "只是一个名字。"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"id": "", "text": "一句话。"}, 422),
        ({"id": "a\nb", "text": "一句话。"}, 422),
        ({"id": "a.txt", "text": ""}, 422),
        ({"id": "a.txt"}, 422),
        ({"id": "a.txt", "text": "一句话。", "kind": "pdf"}, 422),
        ({"id": "a.txt", "text": "一句话。", "path": "/etc/passwd"}, 422),
        ({"id": "a.txt", "text": "长" * 1000}, 413),
    ],
)
def test_bad_document_writes(client: TestClient, body: dict[str, object], status: int) -> None:
    response = client.post("/v1/documents", json=body, headers=KEY)
    assert response.status_code == status
    assert response.json()["error"]["code"] in {"invalid_request", "too_large"}


def test_queries_are_answered_from_the_old_index_during_a_write(tmp_path: Path) -> None:
    encoder = GatedEncoder()
    with TestClient(make_app(tmp_path, encoder)) as client:
        encoder.gate = True
        new_text = "梦想小街产业园\n2023年，梦想小街产业园税收约9900万元。\n"
        result: dict[str, object] = {}

        def write() -> None:
            result["response"] = client.put("/v1/documents/street.txt", json={"text": new_text}, headers=KEY)

        writer = threading.Thread(target=write)
        writer.start()
        try:
            assert encoder.started.wait(10), "the write never reached the encoder"
            during = client.post("/v1/ask", json={"question": "梦想小街产业园的税收是多少？", "top_k": 5}).json()
            texts = [h["text"] for h in during["hits"]]
            assert "2021年，园区税收约2200万元。" in texts and not any("9900" in t for t in texts)
            assert client.get("/readyz").json()["documents"] == 2
            assert client.get("/v1/documents/street.txt").json()["text"] == CORPUS["street.txt"]
        finally:
            encoder.release.set()
            writer.join(10)
        assert result["response"].status_code == 200  # type: ignore[attr-defined]
        assert top_hit(client, "梦想小街产业园的税收是多少？")["text"] == "2023年，梦想小街产业园税收约9900万元。"


def test_concurrent_writes_lose_nothing(client: TestClient) -> None:
    def add(i: int) -> None:
        doc = {"id": f"doc{i}.txt", "text": f"第{i}号文档\n第{i}号文档记录了{i}件事。\n"}
        assert client.post("/v1/documents", json=doc, headers=KEY).status_code == 201

    threads = [threading.Thread(target=add, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert client.get("/v1/documents").json()["total"] == 8


def test_a_restart_serves_the_saved_writes_and_a_new_server_builds_its_index(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        assert client.post("/v1/documents", json=NEW_DOC, headers=KEY).status_code == 201
    settings = Settings(_env_file=None, model="fake", index_dir=tmp_path / "index", cache_dir=tmp_path / "cache")
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").json()["documents"] == 3
        assert top_hit(client, "江北嘴码头2020年的货物吞吐量是多少？")["source"] == "news/harbour.txt"
    fresh = Settings(
        _env_file=None,
        model="fake",
        corpus=tmp_path / "docs",
        index_dir=tmp_path / "fresh",
        cache_dir=tmp_path / "cache",
    )
    with TestClient(create_app(fresh)) as client:
        assert client.get("/readyz").json()["documents"] == 2
    assert open_index(tmp_path / "fresh").documents.keys() == set(CORPUS)


def test_with_changes_leaves_the_old_engine_untouched(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    for name, text in CORPUS.items():
        (tmp_path / "docs" / name).write_text(text, encoding="utf-8")
    encoder = FakeEncoder()
    index, _ = build_index([tmp_path / "docs"], tmp_path / "index", encoder, None)
    old = Engine(index, encoder, RetrievalConfig())
    before = (dict(index.documents), len(index.chunks), len(index.sentence_index), len(index.context_index))
    new = old.with_changes([parse_document("new.txt", "新文档的一句话。")], ["park.txt"])
    assert (dict(index.documents), len(index.chunks), len(index.sentence_index), len(index.context_index)) == before
    assert set(new.index.documents) == {"street.txt", "new.txt"}
    assert len(new.index.sentence_index) == len(new.index.chunks) == len(new.index.context_index)
    assert {h.chunk.source for h in old.ask("上清寺互联网产业园", 20)} >= {"park.txt"}
    assert "park.txt" not in {h.chunk.source for h in new.ask("上清寺互联网产业园", 20)}
    with pytest.raises(NotFoundError):
        old.with_changes(removals=["missing.txt"])
