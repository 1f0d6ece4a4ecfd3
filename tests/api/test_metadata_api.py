"""Document metadata the text states nowhere is cited the same way by /v1/ask, /v1/chat and chat completions."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.sample_docs import fake_app

CORPUS = {
    "report.txt": "园区年报\n园区今年新增企业300家。园区入驻率达到百分之九十。\n",
    "report.txt.meta.json": json.dumps({"date": "2023-05-04"}),
    "harbour.txt": "江北嘴码头\n江北嘴码头2020年货物吞吐量达到450万吨。\n",
}
QUESTION = "这份园区年报是哪一天发布的？"
FACT = {"kind": "metadata", "field": "date", "value": "2023-05-04", "source": "report.txt", "title": "园区年报"}


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = fake_app(tmp_path_factory.mktemp("metadata"), CORPUS, no_answer_cosine=0.0)
    with TestClient(app) as client:
        yield client


def completion(http: TestClient, messages: list[dict[str, str]], **extra: object) -> dict[str, object]:
    body = {"model": "chuchu", "messages": messages, **extra}
    response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_ask_and_chat_carry_the_metadata_hit(http: TestClient) -> None:
    ask = http.post("/v1/ask", json={"question": QUESTION}).json()
    chat = http.post("/v1/chat", json={"messages": [{"role": "user", "content": QUESTION}]}).json()
    assert ask["metadata_hits"] == chat["metadata_hits"] == [FACT]


def test_a_follow_up_asking_for_the_metadata_carries_it(http: TestClient) -> None:
    messages = [
        {"role": "user", "content": "这份园区年报讲了什么？"},
        {"role": "assistant", "content": "园区今年新增企业300家。[1]"},
        {"role": "user", "content": "它是哪一天发布的？"},
    ]
    chat = http.post("/v1/chat", json={"messages": messages}).json()
    assert chat["follow_up"] is True and chat["question"] == "它是哪一天发布的？"
    assert chat["metadata_hits"] == [FACT]
    assert completion(http, messages)["citations"][-1] == FACT  # type: ignore[index]


def test_chat_completions_cite_the_metadata_after_the_hits(http: TestClient) -> None:
    reply = completion(http, [{"role": "user", "content": QUESTION}])
    chat = http.post("/v1/chat", json={"messages": [{"role": "user", "content": QUESTION}]}).json()
    assert reply["citations"] == [*chat["hits"], FACT]
    number = len(chat["hits"]) + 1
    content = reply["choices"][0]["message"]["content"]  # type: ignore[index]
    first, *_ = content.split("\n\n")
    assert first == f"《园区年报》的日期：2023-05-04[{number}]"
    assert content.endswith(f"[{number}] 园区年报 (report.txt, 日期): 2023-05-04")


def test_streamed_citations_hold_the_metadata_too(http: TestClient) -> None:
    body = {"model": "chuchu", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        first = next(line for line in response.iter_lines() if line)
    assert json.loads(first.removeprefix("data: "))["citations"][-1] == FACT


def test_a_question_about_the_text_cites_no_metadata(http: TestClient) -> None:
    reply = completion(http, [{"role": "user", "content": "江北嘴码头2020年货物吞吐量是多少？"}])
    assert all("kind" not in c for c in reply["citations"])  # type: ignore[union-attr]
    assert http.post("/v1/ask", json={"question": "园区新增了多少企业？"}).json()["metadata_hits"] == []
