"""The OpenAI-compatible endpoints, driven by the official ``openai`` client over the app (fake encoder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from fastapi.testclient import TestClient

from tests.sample_docs import SOLAR_MD, fake_app, write_docs

CORPUS = {
    "park.txt": "上清寺互联网产业园\n上清寺互联网产业园位于重庆市渝中区。该园区2018年新增企业300家。\n",
    "street.txt": "梦想小街产业园\n梦想小街产业园主体建筑面积约3万平方米。2021年，园区税收约2200万元。\n",
    "solar.md": SOLAR_MD,
}
KEY = "s3cret"


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_docs(tmp_path_factory.mktemp("openai") / "docs", CORPUS)


@pytest.fixture(scope="module")
def http(docs: Path) -> Iterator[TestClient]:
    app = fake_app(docs.parent, CORPUS, api_key=KEY, no_answer_cosine=0.0, max_question_chars=100)
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def client(http: TestClient) -> openai.OpenAI:
    """The official client, its requests served by the app in-process."""
    return openai.OpenAI(base_url=f"{http.base_url}/v1", api_key="any-key", http_client=http, max_retries=0)


def test_models_name_the_index(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["chuchu"]
    assert client.models.retrieve("chuchu").owned_by == "chuchu"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_completion_is_the_cited_answer(client: openai.OpenAI, docs: Path) -> None:
    completion = client.chat.completions.create(
        model="chuchu", messages=[{"role": "user", "content": "How many engineers work at the solar farm?"}]
    )
    (choice,) = completion.choices
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    content = choice.message.content or ""
    citations = (completion.model_extra or {})["citations"]
    top = citations[0]
    original = (docs / top["source"]).read_text(encoding="utf-8")
    assert original[top["start"] : top["end"]] == top["text"]
    answer, label, *sources = content.split("\n\n")
    assert "[1]" in answer and label == "Sources:"
    assert len(sources) == len(citations)
    assert sources[0] == f"[1] {top['title']} ({top['source']}:{top['line']}): {top['text']}"
    assert completion.object == "chat.completion" and completion.model == "chuchu"


def test_streaming_sends_the_same_content_in_chunks(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "梦想小街产业园2021年的税收是多少？"}]
    whole = client.chat.completions.create(model="chuchu", messages=messages)  # type: ignore[arg-type]
    chunks = list(client.chat.completions.create(model="chuchu", messages=messages, stream=True))  # type: ignore[arg-type]
    assert len(chunks) > 3 and all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert (chunks[0].model_extra or {})["citations"] == (whole.model_extra or {})["citations"]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == whole.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert "来源：" in (whole.choices[0].message.content or "")


def test_stream_ends_with_done(http: TestClient) -> None:
    body = {"model": "chuchu", "stream": True, "messages": [{"role": "user", "content": "园区新增多少企业？"}]}
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line]
    assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"


def test_follow_up_resolves_as_chat_does(client: openai.OpenAI, http: TestClient) -> None:
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "梦想小街产业园的主体建筑面积是多少？"},
        {"role": "assistant", "content": "梦想小街产业园主体建筑面积约3万平方米。[1]"},
        {"role": "user", "content": [{"type": "text", "text": "它2021年的税收是多少？"}]},
    ]
    completion = client.chat.completions.create(model="chuchu", messages=messages)  # type: ignore[arg-type]
    plain = [*messages[:-1], {"role": "user", "content": "它2021年的税收是多少？"}]
    chat = http.post("/v1/chat", json={"messages": plain}).json()
    assert chat["follow_up"] is True
    assert (completion.model_extra or {})["citations"] == chat["hits"]
    assert any("2200万元" in h["text"] for h in chat["hits"])


def test_unknown_model_is_a_404_in_the_openai_shape(client: openai.OpenAI, http: TestClient) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "园区在哪里？"}])
    assert caught.value.code == "model_not_found"
    body = http.post("/v1/chat/completions", json={"model": "x", "messages": [{"role": "user", "content": "q"}]})
    assert body.status_code == 404
    assert body.json() == {
        "error": {
            "message": "the model 'x' does not exist",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }


def test_bad_requests_are_client_errors(client: openai.OpenAI) -> None:
    for messages in (
        [{"role": "assistant", "content": "渝中区"}],
        [{"role": "user", "content": "   "}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]}],
        [{"role": "user", "content": "问" * 101}],
    ):
        with pytest.raises(openai.UnprocessableEntityError) as caught:
            client.chat.completions.create(model="chuchu", messages=messages)  # type: ignore[arg-type]
        assert caught.value.message


def test_bearer_key_is_accepted_for_writes(http: TestClient) -> None:
    doc = {"id": "news/harbour.txt", "text": "江北嘴码头\n江北嘴码头2020年货物吞吐量达到450万吨。\n"}
    refused = http.post("/v1/documents", json=doc, headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 401
    created = http.post("/v1/documents", json=doc, headers={"Authorization": f"Bearer {KEY}"})
    assert created.status_code == 201, created.text
    assert http.delete(f"/v1/documents/{doc['id']}", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
