"""The HTTP API's read endpoints and error paths, over a small corpus with the fake encoder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from qa.search import is_follow_up, resolve, resolve_conversation, subject
from qa.settings import Settings
from tests.sample_docs import ask, fake_app

CORPUS = {
    "park.txt": "上清寺互联网产业园\n2019年3月1日\n上清寺互联网产业园位于重庆市渝中区。该园区2018年新增企业300家。\n",
    "street.txt": "梦想小街产业园\n梦想小街产业园主体建筑面积约3万平方米。2021年，园区税收约2200万元。\n",
    "notes/space.md": (
        "---\ntitle: U创空间\ndate: 2018-06-01\n---\n# U创空间\n\nU创空间2017年产值约2.5亿元。园区入驻企业120家。\n"
    ),
}
HIT_KEYS = ["rank", "score", "source", "start", "end", "text", "title", "line", "paragraph", "heading"]


def make_app(root: Path, **overrides: object) -> FastAPI:
    """An app over CORPUS written under ``root``, with small limits and the fake encoder."""
    limits = {"max_top_k": 20, "max_question_chars": 100, "max_upload_bytes": 4000, "no_answer_cosine": 0.0}
    return fake_app(root, CORPUS, **{**limits, **overrides})


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(make_app(tmp_path_factory.mktemp("api"))) as test_client:
        yield test_client


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready == {
        "status": "ready",
        "model": "fake-hash-64",
        "dim": 64,
        "documents": 3,
        "sentences": ready["sentences"],
    }
    assert ready["sentences"] >= 6


def test_not_ready_before_the_index_is_loaded(tmp_path: Path) -> None:
    app = create_app(Settings(_env_file=None, model="fake", index_dir=tmp_path / "none"))
    client = TestClient(app)  # no lifespan: nothing loaded
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503
    response = client.post("/v1/ask", json={"question": "园区"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "not_ready"


def test_ask_returns_hits_that_cite_the_original(client: TestClient) -> None:
    reply = ask(client, "梦想小街2021年的税收是多少？", top_k=3)
    hits = reply["hits"]
    assert isinstance(hits, list) and hits
    top = hits[0]
    assert list(top)[: len(HIT_KEYS)] == HIT_KEYS
    assert top["source"] == "street.txt"
    assert CORPUS["street.txt"][top["start"] : top["end"]] == top["text"]
    assert "税收约2200万元" in top["text"]
    assert set(top["context"]) == {"previous", "next", "paragraph_start", "paragraph_end"}
    assert set(top["scores"]) == {"dense", "lexical"}
    assert reply["question"] == "梦想小街2021年的税收是多少？"
    assert str(reply["answer"]).startswith(top["text"]) and "[1]" in str(reply["answer"])
    assert reply["no_answer"] is False
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))


def test_ask_filters_by_source(client: TestClient) -> None:
    hits = ask(client, "梦想小街2021年的税收是多少？", top_k=3, filters={"source": "park.txt"})["hits"]
    assert isinstance(hits, list) and hits
    assert {h["source"] for h in hits} == {"park.txt"}
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    both = ask(client, "园区", top_k=20, filters={"source": ["park.txt", "notes/space.md"]})["hits"]
    assert isinstance(both, list)
    assert {h["source"] for h in both} == {"park.txt", "notes/space.md"}


def test_ask_filters_by_date(client: TestClient) -> None:
    dated = ask(client, "园区", top_k=20, filters={"date_from": "2019-01-01"})["hits"]
    assert isinstance(dated, list) and dated
    assert {h["source"] for h in dated} == {"park.txt"}
    assert all(h["date"] == "2019-03-01" for h in dated)
    early = ask(client, "园区", top_k=20, filters={"date_from": "2018-01-01", "date_to": "2018-12-31"})["hits"]
    assert isinstance(early, list)
    assert {h["source"] for h in early} == {"notes/space.md"}  # undated street.txt is left out
    none = ask(client, "园区", filters={"date_to": "2000-01-01"})
    assert none["hits"] == [] and none["no_answer"] is True and none["answer"] == ""


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"question": ""}, "question"),
        ({"question": "   "}, "empty"),
        ({"question": "问" * 101}, "100"),
        ({"question": "园区", "top_k": 21}, "top_k"),
        ({"question": "园区", "top_k": 0}, "top_k"),
        ({"question": "园区", "top_k": "many"}, "top_k"),
        ({}, "question"),
        ({"question": "园区", "colour": "red"}, "colour"),
        ({"question": "园区", "filters": {"date_from": "yesterday"}}, "date_from"),
        ({"question": "园区", "filters": {"source": 3}}, "source"),
    ],
)
def test_ask_errors_are_json(client: TestClient, body: dict[str, object], where: str) -> None:
    response = client.post("/v1/ask", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert where in error["message"]


def test_malformed_json_and_unknown_routes(client: TestClient) -> None:
    bad = client.post("/v1/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
    missing = client.get("/v1/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = client.get("/v1/ask")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"


def test_chat_resolves_a_follow_up(client: TestClient) -> None:
    messages = [
        {"role": "system", "content": "Answer from the sources."},
        {"role": "user", "content": "梦想小街产业园的主体建筑面积是多少？"},
        {"role": "assistant", "content": "约3万平方米。[1]"},
        {"role": "user", "content": "它2021年的税收是多少？"},
    ]
    reply = client.post("/v1/chat", json={"messages": messages, "top_k": 3}).json()
    assert reply["question"] == "它2021年的税收是多少？"
    assert reply["query"] == "梦想小街产业园2021年的税收是多少？"
    assert reply["follow_up"] is True
    assert "税收约2200万元" in reply["hits"][0]["text"]
    assert reply["hits"][0]["source"] == "street.txt"
    assert "[1]" in reply["answer"]


def test_chat_prefers_the_previous_documents(client: TestClient) -> None:
    messages = [
        {"role": "user", "content": "U创空间2017年的产值是多少？"},
        {"role": "user", "content": "那入驻企业呢？"},
    ]
    reply = client.post("/v1/chat", json={"messages": messages, "top_k": 2}).json()
    assert reply["follow_up"] is True
    assert reply["hits"][0]["source"] == "notes/space.md"


def test_chat_standalone_question_and_errors(client: TestClient) -> None:
    messages = [
        {"role": "user", "content": "梦想小街产业园的主体建筑面积是多少？"},
        {"role": "user", "content": "上清寺互联网产业园2018年新增了多少家企业？"},
    ]
    reply = client.post("/v1/chat", json={"messages": messages}).json()
    assert reply["follow_up"] is False and reply["query"] == messages[1]["content"]
    assert reply["hits"][0]["source"] == "park.txt"
    last_not_user = client.post("/v1/chat", json={"messages": [{"role": "assistant", "content": "你好"}]})
    assert last_not_user.status_code == 422 and "user" in last_not_user.json()["error"]["message"]
    assert client.post("/v1/chat", json={"messages": []}).status_code == 422
    bad_role = client.post("/v1/chat", json={"messages": [{"role": "robot", "content": "hi"}]})
    assert bad_role.status_code == 422 and bad_role.json()["error"]["code"] == "invalid_request"


def test_follow_up_resolution() -> None:
    assert subject("梦想小街产业园的主体建筑面积是多少？") == "梦想小街产业园"
    assert subject("U创空间2017年的产值是多少？") == "U创空间"
    assert subject("请问上清寺互联网产业园位于哪里？") == "上清寺互联网产业园"
    assert subject("What is the floor area of Dream Street?") is None
    assert is_follow_up("它的税收是多少？") and is_follow_up("那2020年呢？") and is_follow_up("What about its tax?")
    assert not is_follow_up("上清寺互联网产业园2018年新增了多少家企业？")
    assert not is_follow_up("尤其是其他园区的情况如何，请详细说明一下")
    assert resolve("梦想小街产业园的主体建筑面积是多少？", "它的税收是多少？") == "梦想小街产业园的税收是多少？"
    assert (
        resolve("What is the area of Dream Street?", "And its tax?") == "What is the area of Dream Street? And its tax?"
    )
    standalone = "上清寺互联网产业园2018年新增了多少家企业？"
    assert resolve("梦想小街产业园的面积？", standalone) == standalone
    chain = resolve_conversation(["梦想小街产业园的面积是多少？", "它的税收是多少？", "那2020年呢？"])
    assert chain.previous == "梦想小街产业园的税收是多少？"
    assert chain.query == "梦想小街产业园的税收是多少？ 那2020年呢？"
    assert not resolve_conversation(["它的税收是多少？"]).follow_up
    assert resolve("U创空间2017年的产值是多少？", "它2018年呢？") == "U创空间2017年的产值是多少？ 它2018年呢？"
    assert resolve("梦想小街产业园的面积是多少？", "该园区有多少家企业？") == "梦想小街产业园园区有多少家企业？"
    assert resolve("梦想小街产业园的面积是多少？", "税收？") == "梦想小街产业园的面积是多少？ 税收？"


def test_documents_list_and_detail(client: TestClient) -> None:
    listed = client.get("/v1/documents").json()
    assert listed["total"] == 3 and listed["offset"] == 0
    assert [d["id"] for d in listed["documents"]] == ["notes/space.md", "park.txt", "street.txt"]
    space = listed["documents"][0]
    assert space["title"] == "U创空间" and space["date"] == "2018-06-01" and space["sentences"] >= 2
    page = client.get("/v1/documents?offset=1&limit=1").json()
    assert page["total"] == 3 and [d["id"] for d in page["documents"]] == ["park.txt"]
    detail = client.get("/v1/documents/notes/space.md").json()
    assert detail["text"] == CORPUS["notes/space.md"] and detail["length"] == len(CORPUS["notes/space.md"])
    assert len(detail["checksum"]) == 64
    missing = client.get("/v1/documents/nope.txt")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert client.get("/v1/documents?limit=0").status_code == 422


def test_document_span_comes_with_its_sentences(client: TestClient) -> None:
    text = CORPUS["street.txt"]
    start = text.index("2021年")
    span = client.get(f"/v1/documents/street.txt?start={start}&end={start + 5}").json()
    assert span["text"] == text[start : start + 5]
    assert span["context"] == text[span["context_start"] : span["context_end"]]
    inside = [s for s in span["around"] if s["in_span"]]
    assert [s["text"] for s in inside] == ["2021年，园区税收约2200万元。"]
    assert any("主体建筑面积" in s["text"] and not s["in_span"] for s in span["around"])
    assert all(text[s["start"] : s["end"]] == s["text"] for s in span["around"])
    for query in ("start=5&end=2", f"start=0&end={len(text) + 1}", "start=-1"):
        bad = client.get(f"/v1/documents/street.txt?{query}")
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


def test_batch_streams_one_line_per_question(client: TestClient) -> None:
    upload = "id,question\na,梦想小街2021年的税收是多少？\nb,上清寺园区在哪里？\n"
    response = client.post("/v1/batch?top_k=2", content=upload.encode(), headers={"content-type": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert [list(r) for r in rows] == [["id", "question", "hits"]] * 2
    assert all(1 <= len(r["hits"]) <= 2 for r in rows)
    assert list(rows[0]["hits"][0])[: len(HIT_KEYS)] == HIT_KEYS
    assert "税收约2200万元" in rows[0]["hits"][0]["text"]


def test_batch_reads_jsonl_text_and_multipart(client: TestClient) -> None:
    jsonl = '{"id": "x", "question": "U创空间的产值？"}\n{"id": "y", "question": "园区税收？"}\n'
    rows = client.post("/v1/batch", content=jsonl.encode(), headers={"content-type": "application/x-ndjson"})
    assert [json.loads(line)["id"] for line in rows.text.splitlines()] == ["x", "y"]
    files = {"file": ("q.txt", "梦想小街的面积是多少？\n\n园区在哪里？\n".encode(), "text/plain")}
    lines = client.post("/v1/batch", files=files).text.splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["1", "3"]
    as_jsonl = {"file": ("q.jsonl", jsonl.encode(), "application/octet-stream")}
    assert len(client.post("/v1/batch", files=as_jsonl).text.splitlines()) == 2
    forced = client.post("/v1/batch?format=txt", content=b"question\n", headers={"content-type": "text/plain"})
    assert json.loads(forced.text)["question"] == "question"


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        (b"x" * 4001, {"content-type": "text/plain"}, 413, "too_large"),
        (b"\x89PNG", {"content-type": "image/png"}, 415, "unsupported_media_type"),
        (b"a\x00b\n", {"content-type": "text/plain"}, 415, "unsupported_media_type"),
        (b"\xff\xfe\xfa", {"content-type": "text/plain"}, 400, "bad_input"),
        (b"id,text\n1,hello\n", {"content-type": "text/csv"}, 400, "bad_input"),
        (b"\n\n", {"content-type": "text/plain"}, 400, "bad_input"),
    ],
)
def test_batch_errors(
    client: TestClient, content: bytes | str, headers: dict[str, str], status: int, code: str
) -> None:
    data = content.encode() if isinstance(content, str) else content
    response = client.post("/v1/batch", content=data, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_batch_limits(client: TestClient) -> None:
    assert client.post("/v1/batch?top_k=21", content=b"q\n", headers={"content-type": "text/plain"}).status_code == 422
    no_file = client.post("/v1/batch", files={"other": ("q.txt", b"q\n", "text/plain")})
    assert no_file.status_code == 422 and "file" in no_file.json()["error"]["message"]
    odd_file = client.post("/v1/batch", files={"file": ("q.png", b"q\n", "image/png")})
    assert odd_file.status_code == 415

    def chunks() -> Iterator[bytes]:
        yield from [b"q" * 1000 + b"\n"] * 5

    chunked = client.post("/v1/batch", content=chunks(), headers={"content-type": "text/plain"})
    assert chunked.status_code == 413 and chunked.json()["error"]["code"] == "too_large"


def test_openapi_describes_every_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {
        "/v1/ask",
        "/v1/chat",
        "/v1/documents",
        "/v1/documents/{doc_id}",
        "/v1/batch",
        "/healthz",
        "/readyz",
    } <= set(spec["paths"])
    assert {"get", "put", "delete"} <= set(spec["paths"]["/v1/documents/{doc_id}"])
    schemas = spec["components"]["schemas"]
    assert {"AskRequest", "AskResponse", "ChatRequest", "HitModel", "ErrorResponse"} <= set(schemas)
    upload = spec["paths"]["/v1/documents"]["post"]["requestBody"]["content"]
    assert upload["application/json"]["schema"]["title"] == "DocumentCreate"
    assert upload["multipart/form-data"]["schema"]["required"] == ["file"]
    assert "application/pdf" in spec["paths"]["/v1/documents/{doc_id}/file"]["get"]["responses"]["200"]["content"]
    assert spec["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    assert "422" in spec["paths"]["/v1/ask"]["post"]["responses"]


def test_cors(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path, cors_origins=["https://example.org"])) as client:
        preflight = client.options(
            "/v1/ask",
            headers={"origin": "https://example.org", "access-control-request-method": "POST"},
        )
        assert preflight.headers["access-control-allow-origin"] == "https://example.org"
        other = client.get("/healthz", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
