"""The HTTP API over the seed corpus with the real default model."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

pytestmark = pytest.mark.model


def test_seed_ask_cites_the_figure(seed_client: TestClient) -> None:
    reply = seed_client.post("/v1/ask", json={"question": "U创空间2017年的产值是多少？"}).json()
    top = reply["hits"][0]
    assert "2.5亿元" in top["text"]
    original = (SEEDS / top["source"]).read_text(encoding="utf-8")
    assert original[top["start"] : top["end"]] == top["text"]
    assert not reply["no_answer"] and "[1]" in reply["answer"]


def test_seed_chat_follow_up(seed_client: TestClient) -> None:
    messages = [
        {"role": "user", "content": "梦想小街产业园的主体建筑面积是多少？"},
        {"role": "assistant", "content": "主体建筑面积10640平方米。[1]"},
        {"role": "user", "content": "它2021年的税收是多少？"},
    ]
    reply = seed_client.post("/v1/chat", json={"messages": messages}).json()
    assert reply["follow_up"] is True
    assert reply["query"] == "梦想小街产业园2021年的税收是多少？"
    top = reply["hits"][0]
    assert "税收约2200万元" in top["text"]
    assert top["source"] == "001_78f4f1f7e179c4c7.txt"
    assert not reply["no_answer"] and reply["answer"].startswith(top["text"])
