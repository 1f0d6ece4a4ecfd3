"""qa.search.answers.compose: the extractive answer cites its hits, and too-distant hits mean "no answer"."""

from __future__ import annotations

from qa.search import NO_ANSWER_COSINE, Hit, compose, format_citations, is_unanswered
from qa.types import Chunk, DocumentMeta


def make_hit(rank: int, text: str, *, score: float, dense: float, cited: str | None = None) -> Hit:
    chunk = Chunk("doc.txt", rank - 1, 10 * rank, 10 * rank + len(cited or text), text, cited or text, rank, 1)
    citation = format_citations(DocumentMeta("标题"), chunk.source, chunk.line)
    return Hit(rank, score, chunk, "标题", None, None, "", "", 0, 100, dense, 0.0, citation)


def test_no_hits_is_no_answer() -> None:
    answer = compose("园区在哪里？", [])
    assert answer.no_answer is True
    assert answer.answer == ""
    assert answer.hits == ()
    assert answer.as_dict() == {"question": "园区在哪里？", "answer": "", "no_answer": True, "hits": []}


def test_hits_below_the_threshold_are_no_answer() -> None:
    hits = [
        make_hit(1, "园区位于渝中区。", score=3.0, dense=0.79),
        make_hit(2, "园区有三百家企业。", score=2.9, dense=0.5),
    ]
    answer = compose("园区在哪里？", hits, threshold=0.8)
    assert answer.no_answer is True
    assert answer.answer == ""
    assert answer.hits == tuple(hits)  # the hits are still shown
    assert is_unanswered(hits, 0.8)
    # the best *dense* score decides, not the fused score or the rank
    hits.append(make_hit(3, "渝中区是重庆的中心。", score=0.1, dense=0.81))
    assert not compose("园区在哪里？", hits, threshold=0.8).no_answer
    # the default threshold is the module's
    assert compose("?", [make_hit(1, "x", score=1.0, dense=NO_ANSWER_COSINE - 0.01)]).no_answer
    assert not compose("?", [make_hit(1, "x", score=1.0, dense=NO_ANSWER_COSINE)]).no_answer


def test_answer_quotes_the_top_hit_with_its_citation() -> None:
    top = make_hit(1, "园区位于重庆市渝中区。", score=3.0, dense=0.9)
    far = make_hit(2, "园区有三百家企业。", score=1.0, dense=0.85)
    answer = compose("园区在哪里？", [top, far], threshold=0.8)
    assert answer.no_answer is False
    assert answer.answer.startswith("园区位于重庆市渝中区。[1]")
    assert "[2]" not in answer.answer  # scored more than a point below the top hit

    close = make_hit(2, "渝中区是重庆的中心。", score=2.5, dense=0.85)
    answer = compose("园区在哪里？", [top, close, make_hit(3, "第三句。", score=2.9, dense=0.9)], threshold=0.8)
    assert answer.answer == "园区位于重庆市渝中区。[1] 渝中区是重庆的中心。[2]"
    assert answer.as_dict()["no_answer"] is False
    assert [h.rank for h in answer.hits] == [1, 2, 3]


def test_answer_uses_clean_text_while_the_hit_cites_the_original() -> None:
    top = make_hit(1, "A & B merged.", cited="A &amp; B merged.", score=2.0, dense=0.95)
    answer = compose("Who merged?", [top], threshold=0.8)
    assert answer.answer == "A & B merged.[1]"
    assert answer.hits[0].as_dict()["text"] == "A &amp; B merged."
