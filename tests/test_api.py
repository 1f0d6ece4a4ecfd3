"""The HTTP API over a small corpus with the fake encoder (and the seeds with the real model)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app, resolve_follow_up
from embeddings.encoders import FakeEncoder
from qa.engine import Engine, build_index
from qa.retrieval import RetrievalConfig
from qa.settings import Settings

CORPUS = {
    "park.txt": "上清寺互联网产业园\n上清寺互联网产业园位于重庆市渝中区。该园区2018年新增企业300家。\n",
    "street.txt": "梦想小街产业园\n梦想小街产业园主体建筑面积约3万平方米。2021年，园区税收约2200万元。\n",
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("api")
    (root / "docs").mkdir()
    for name, text in CORPUS.items():
        (root / "docs" / name).write_text(text, encoding="utf-8")
    encoder = FakeEncoder()
    index, _ = build_index([root / "docs"], root / "index", encoder, None)
    settings = Settings(
        index_dir=root / "index",
        model="fake",
        max_top_k=20,
        max_question_chars=100,
        max_upload_bytes=2000,
        no_answer_cosine=0.0,
    )
    with TestClient(create_app(settings, Engine(index, encoder, RetrievalConfig()))) as test_client:
        yield test_client


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert ready["documents"] == 2
    assert ready["model"] == "fake-hash-64"


def test_ask_returns_hits_that_cite_the_original(client: TestClient) -> None:
    reply = client.post("/v1/ask", json={"question": "梦想小街2021年的税收是多少？", "top_k": 3}).json()
    top = reply["hits"][0]
    assert top["source"] == "street.txt"
    assert CORPUS["street.txt"][top["start"] : top["end"]] == top["text"]
    assert "税收约2200万元" in top["text"]
    assert reply["answer"].startswith(top["text"]) and "[1]" in reply["answer"]
    assert [h["rank"] for h in reply["hits"]] == list(range(1, len(reply["hits"]) + 1))


def test_ask_filters_by_source(client: TestClient) -> None:
    body = {"question": "梦想小街2021年的税收是多少？", "top_k": 3, "filters": {"source": ["park.txt"]}}
    hits = client.post("/v1/ask", json=body).json()["hits"]
    assert hits and {h["source"] for h in hits} == {"park.txt"}
    assert hits[0]["rank"] == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"question": ""}, 422, "invalid_request"),
        ({"question": "问" * 101}, 400, "bad_input"),
        ({"question": "园区", "top_k": 21}, 400, "bad_input"),
        ({"question": "园区", "top_k": 0}, 422, "invalid_request"),
        ({}, 422, "invalid_request"),
    ],
)
def test_ask_errors_are_json(client: TestClient, body: dict[str, object], status: int, code: str) -> None:
    response = client.post("/v1/ask", json=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_chat_resolves_a_follow_up(client: TestClient) -> None:
    messages = [
        {"role": "user", "content": "梦想小街产业园的主体建筑面积是多少？"},
        {"role": "assistant", "content": "约3万平方米。"},
        {"role": "user", "content": "它2021年的税收是多少？"},
    ]
    reply = client.post("/v1/chat", json={"messages": messages}).json()
    assert reply["question"] == "它2021年的税收是多少？"
    assert "税收约2200万元" in reply["hits"][0]["text"]


def test_chat_needs_a_last_user_message(client: TestClient) -> None:
    response = client.post("/v1/chat", json={"messages": [{"role": "assistant", "content": "你好"}]})
    assert response.status_code == 400


def test_follow_up_takes_the_subject_of_the_last_question() -> None:
    assert (
        resolve_follow_up(["梦想小街产业园的主体建筑面积是多少？"], "它的税收是多少？")
        == "梦想小街产业园的税收是多少？"
    )
    assert resolve_follow_up([], "它的税收是多少？") == "它的税收是多少？"
    standalone = "上清寺互联网产业园2018年新增了多少家企业？"
    assert resolve_follow_up(["梦想小街产业园的面积？"], standalone) == standalone


def test_documents_list_detail_and_span(client: TestClient) -> None:
    listed = client.get("/v1/documents").json()
    assert [d["id"] for d in listed] == ["park.txt", "street.txt"]
    detail = client.get("/v1/documents/street.txt").json()
    assert detail["text"] == CORPUS["street.txt"]
    start = CORPUS["street.txt"].index("2021年")
    span = client.get(f"/v1/documents/street.txt?start={start}&end={start + 4}").json()
    assert span["text"] == CORPUS["street.txt"][span["start"] : span["end"]]
    assert span["text"].startswith("2021年，园区税收约2200万元。")
    assert client.get("/v1/documents/nope.txt").status_code == 404
    assert client.get("/v1/documents/street.txt?start=5&end=2").status_code == 400


def test_batch_streams_one_line_per_question(client: TestClient) -> None:
    upload = "id,question\na,梦想小街2021年的税收是多少？\nb,上清寺园区在哪里？\n"
    response = client.post("/v1/batch?top_k=2", content=upload.encode(), headers={"content-type": "text/csv"})
    assert response.status_code == 200
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert all(len(r["hits"]) <= 2 for r in rows)
    files = {"file": ("q.txt", "梦想小街的面积是多少？\n".encode(), "text/plain")}
    assert client.post("/v1/batch", files=files).json()["id"] == "1"


def test_batch_limits(client: TestClient) -> None:
    big = client.post("/v1/batch", content=b"x" * 3000, headers={"content-type": "text/plain"})
    assert big.status_code == 413
    odd = client.post("/v1/batch", content=b"\x00", headers={"content-type": "image/png"})
    assert odd.status_code == 415
    assert odd.json()["error"]["code"] == "unsupported_media_type"


@pytest.fixture(scope="module")
def seed_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = Path(__file__).resolve().parents[1]
    index_dir = tmp_path_factory.mktemp("seed") / "index"
    settings = Settings(corpus=root / "seeds", index_dir=index_dir)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.model
def test_seed_ask_cites_the_figure(seed_client: TestClient) -> None:
    reply = seed_client.post("/v1/ask", json={"question": "U创空间2017年的产值是多少？"}).json()
    assert "2.5亿元" in reply["hits"][0]["text"]
    assert not reply["no_answer"]


@pytest.mark.model
def test_seed_chat_follow_up(seed_client: TestClient) -> None:
    messages = [
        {"role": "user", "content": "梦想小街产业园的主体建筑面积是多少？"},
        {"role": "user", "content": "它2021年的税收是多少？"},
    ]
    reply = seed_client.post("/v1/chat", json={"messages": messages}).json()
    assert "税收约2200万元" in reply["hits"][0]["text"]
