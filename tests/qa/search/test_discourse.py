"""What a candidate adds to the question, and how it hangs on the sentence before it."""

from __future__ import annotations

from pathlib import Path

from embeddings.cache import EmbeddingCache
from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.search import Retriever
from qa.search.features import FEATURE_NAMES, candidate_features

#: A title line, then three sentences (a sentence's tokens hold its title's too).
TEXT = "蒙古\n成吉思汗死后帝国继续扩张。他去世的时候，帝国从里海一直延伸到日本海。帝国的首都是哈拉和林。\n"


def rows_by_sentence(tmp_path: Path, question: str) -> dict[str, dict[str, float]]:
    (tmp_path / "doc.txt").write_text(TEXT, encoding="utf-8")
    encoder = FakeEncoder()
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        index, _ = build_index([tmp_path / "doc.txt"], tmp_path / "index", encoder, cache)
        pool = Retriever(index, encoder).pools([question])[0]
        matrix = candidate_features(index, pool)
        texts = [index.chunks[int(c)].chunk.text for c in pool.candidates]
    return {
        text[:4]: dict(zip(FEATURE_NAMES, map(float, row), strict=True))
        for text, row in zip(texts, matrix, strict=True)
    }


def test_a_sentence_that_continues_its_neighbour_opens_with_a_reference_and_its_neighbour_covers_the_question(
    tmp_path: Path,
) -> None:
    rows = rows_by_sentence(tmp_path, "成吉思汗死后帝国的西边到哪里？")
    first, second, third = rows["成吉思汗"], rows["他去世的"], rows["帝国的首"]
    assert second["opens_reference"] == 1.0 and first["opens_reference"] == third["opens_reference"] == 0.0
    assert second["prev_cover"] == first["cover"] > 0.0 and second["next_cover"] == third["cover"]
    assert first["prev_cover"] == 0.0 and third["next_cover"] == 0.0  # no neighbour there


def test_a_sentence_restating_the_question_adds_fewer_words_than_the_answer(tmp_path: Path) -> None:
    rows = rows_by_sentence(tmp_path, "成吉思汗死后帝国继续扩张了吗？")
    restating, answering = rows["成吉思汗"], rows["他去世的"]
    assert restating["novel_share"] < answering["novel_share"]
    assert restating["novel_words"] < answering["novel_words"]
    assert 0.0 <= restating["novel_share"] <= 1.0
