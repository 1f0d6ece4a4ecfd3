"""Facts in short lines and in document metadata: a date line is not a label, metadata is citable."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.engine import Engine
from qa.runs import batch_record
from qa.runs.questions import Question
from qa.search import RetrievalConfig, asked_field, compose, metadata_hits
from qa.search.retrieval import Retriever

NOTICE = (
    "重庆市渝中区人民政府办公室\n\n"
    "关于印发《渝中区数字经济实施方案》的通知\n\n"
    "《渝中区数字经济实施方案》已经区政府同意，现印发给你们，请认真组织实施。\n\n"
    "2024年11月25日\n\n"
    "渝中区数字经济实施方案\n\n"
    "到2027年，全区数字经济增加值达到500亿元。\n"
)
QUESTION = "这份实施方案是哪一天印发的？"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = tmp_path_factory.mktemp("meta")
    (root / "docs").mkdir()
    (root / "docs" / "notice.txt").write_text(NOTICE, encoding="utf-8")
    rows = [
        {
            "id": "report",
            "title": "园区年报",
            "text": "园区今年新增企业300家。园区入驻率达到百分之九十。",
            "date": "2023-05-04",
        }
    ]
    (root / "reports.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    encoder = FakeEncoder()
    index, _ = build_index([root / "docs", root / "reports.jsonl"], root / "index", encoder, None)
    return Engine(index, encoder, RetrievalConfig())


def test_questions_about_the_document_itself_ask_a_metadata_field() -> None:
    assert asked_field(QUESTION) == "date"
    assert asked_field("這份通知是哪個單位印發的？") == "publisher"
    assert asked_field("这篇报道的作者是谁？") == "author"
    assert asked_field("When was this notice issued?") == "date"
    assert asked_field("该园区哪一年设立？") is None
    assert asked_field("到2027年数字经济增加值达到多少？") is None


def test_a_short_line_holding_the_asked_answer_type_is_not_pushed_down_as_a_label(engine: Engine) -> None:
    def fused_of(text: str, penalty: float) -> float:
        config = replace(RetrievalConfig(), label_penalty=penalty, candidates=50)
        pool = Retriever(engine.index, engine.encoder, config).pools([QUESTION])[0]
        texts = [engine.index.chunks[int(c)].chunk.text for c in pool.candidates]
        return float(pool.fused[texts.index(text)])

    assert fused_of("2024年11月25日", 1.0) == pytest.approx(fused_of("2024年11月25日", 0.0))
    assert fused_of("渝中区数字经济实施方案", 1.0) < fused_of("渝中区数字经济实施方案", 0.0) - 0.5


def test_the_line_stating_the_asked_metadata_is_cited_first(engine: Engine) -> None:
    top = engine.ask(QUESTION, 5)[0]
    original = engine.index.document(top.chunk.source).original
    assert top.chunk.cited == "2024年11月25日" == original[top.chunk.start : top.chunk.end]
    assert engine.ask("这份通知是哪个单位印发的？", 5)[0].chunk.cited == "重庆市渝中区人民政府办公室"
    assert metadata_hits(QUESTION, engine.ask(QUESTION, 5)) == []


def test_metadata_the_text_does_not_state_is_a_metadata_hit_beside_the_text_hits(engine: Engine) -> None:
    question = "这份园区年报是哪一天发布的？"
    hits = [h for h in engine.ask(question, 10) if h.chunk.source == "report"]
    assert hits
    record = batch_record(Question("q1", question), hits)
    assert record["metadata_hits"] == [
        {"kind": "metadata", "field": "date", "value": "2023-05-04", "source": "report", "title": "园区年报"}
    ]
    for hit in record["hits"]:  # every text hit still cites text[start:end]
        assert hit["text"] == engine.index.document("report").original[hit["start"] : hit["end"]]  # type: ignore[index,misc]
    assert "metadata_hits" not in batch_record(Question("q2", "园区新增了多少家企业？"), hits)
    assert compose(question, hits).as_dict()["metadata_hits"] == record["metadata_hits"]
