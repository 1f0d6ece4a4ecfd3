"""One behavioural suite over every index backend: the local store and Milvus (Lite), through the HTTP API.

Add, find, update, delete (and the deleted never coming back), filters, a chat follow-up, cite
and batch must behave the same whatever holds the index.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from qa.settings import IndexBackend
from tests.sample_docs import ask, fake_app

CORPUS = {
    "park.txt": "上清寺互联网产业园\n2019年3月1日\n上清寺互联网产业园位于重庆市渝中区。该园区2018年新增企业300家。\n",
    "street.txt": "梦想小街产业园\n梦想小街产业园主体建筑面积约3万平方米。2021年，园区税收约2200万元。\n",
    "notes/space.md": (
        "---\ntitle: U创空间\ndate: 2018-06-01\n---\n# U创空间\n\nU创空间2017年产值约2.5亿元。园区入驻企业120家。\n"
    ),
}
KEY = {"X-API-Key": "s3cret"}
BACKENDS: list[IndexBackend] = ["memory", "segments", "milvus"]


@pytest.fixture(params=BACKENDS)
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    app = fake_app(tmp_path, CORPUS, backend=request.param, api_key="s3cret", no_answer_cosine=0.0, max_top_k=20)
    with TestClient(app) as test_client:
        yield test_client


def cites_original(client: TestClient, hit: dict[str, Any]) -> bool:
    doc = client.get(f"/v1/documents/{hit['source']}").json()
    return bool(doc["text"][hit["start"] : hit["end"]] == hit["text"])


def test_find_cites_the_original(client: TestClient) -> None:
    hits = ask(client, "梦想小街产业园的主体建筑面积是多少？", top_k=3)["hits"]
    assert hits[0]["source"] == "street.txt" and "3万平方米" in hits[0]["text"]
    assert all(cites_original(client, h) for h in hits)
    assert client.get("/readyz").json()["documents"] == 3


def test_add_update_delete(client: TestClient) -> None:
    doc = {"id": "news/harbour.txt", "text": "江北嘴码头\n江北嘴码头2020年货物吞吐量达到450万吨。\n"}
    assert client.post("/v1/documents", json=doc, headers=KEY).status_code in (200, 201)
    assert client.post("/v1/documents", json=doc, headers=KEY).status_code == 409
    hit = ask(client, "江北嘴码头2020年货物吞吐量是多少？", top_k=1)["hits"][0]
    assert hit["source"] == "news/harbour.txt" and "450万吨" in hit["text"] and cites_original(client, hit)
    changed = {"text": "江北嘴码头\n江北嘴码头2020年货物吞吐量达到600万吨。\n"}
    assert client.put("/v1/documents/news/harbour.txt", json=changed, headers=KEY).status_code == 200
    texts = [h["text"] for h in ask(client, "江北嘴码头2020年货物吞吐量是多少？", top_k=10)["hits"]]
    assert any("600万吨" in t for t in texts) and not any("450万吨" in t for t in texts)
    assert client.delete("/v1/documents/news/harbour.txt", headers=KEY).status_code == 200
    assert client.get("/v1/documents/news/harbour.txt").status_code == 404
    assert client.delete("/v1/documents/news/harbour.txt", headers=KEY).status_code == 404
    for _ in range(2):  # the deleted document never comes back, however often it is asked for
        sources = {h["source"] for h in ask(client, "江北嘴码头2020年货物吞吐量", top_k=20)["hits"]}
        assert "news/harbour.txt" not in sources
    listed = client.get("/v1/documents?offset=0&limit=100").json()
    assert "news/harbour.txt" not in json.dumps(listed, ensure_ascii=False)


def test_filters(client: TestClient) -> None:
    hits = ask(client, "梦想小街2021年的税收是多少？", top_k=3, filters={"source": "park.txt"})["hits"]
    assert hits and {h["source"] for h in hits} == {"park.txt"}
    early = ask(client, "园区", top_k=20, filters={"date_from": "2018-01-01", "date_to": "2018-12-31"})["hits"]
    assert early and {h["source"] for h in early} == {"notes/space.md"}


def test_chat_follow_up(client: TestClient) -> None:
    messages = [
        {"role": "user", "content": "梦想小街产业园的主体建筑面积是多少？"},
        {"role": "assistant", "content": "约3万平方米。[1]"},
        {"role": "user", "content": "它2021年的税收是多少？"},
    ]
    reply = client.post("/v1/chat", json={"messages": messages, "top_k": 3}).json()
    assert reply["follow_up"] is True and reply["query"] == "梦想小街产业园2021年的税收是多少？"
    assert reply["hits"][0]["source"] == "street.txt" and "税收约2200万元" in reply["hits"][0]["text"]


def test_cite(client: TestClient) -> None:
    reply = client.post("/v1/cite", json={"claim": "U创空间2017年产值约3.5亿元。", "top_k": 3}).json()
    assert reply["verdict"] == "mismatch"
    assert reply["sources"][0]["source"] == "notes/space.md"


def test_batch(client: TestClient) -> None:
    upload = "id,question\n1,梦想小街产业园的主体建筑面积是多少？\n2,U创空间2017年的产值是多少？\n"
    response = client.post("/v1/batch?top_k=2", content=upload.encode(), headers={"content-type": "text/csv"})
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["id"] for line in lines] == ["1", "2"]
    assert [line["hits"][0]["source"] for line in lines] == ["street.txt", "notes/space.md"]
