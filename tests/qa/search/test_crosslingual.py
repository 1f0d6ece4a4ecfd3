"""English questions over Chinese text: the query vector moved by the language shift, and only then."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.encoders import FakeEncoder
from qa.search import crosslingual
from qa.search.crosslingual import english_shift, language_shift, toward_chinese
from qa.search.retrieval import RetrievalConfig, Retriever
from tests.qa.search.fake_index import fake_index

CORPUS = {
    "zh.txt": "梦想小街2021年的税收约2200万元。园区共有企业300家。\n",
    "en.txt": "The solar farm employs 45 engineers. It opened in 2019 near the river.\n",
}


@pytest.fixture(scope="module")
def index_and_encoder(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, FakeEncoder]:
    return fake_index(tmp_path_factory.mktemp("crosslingual"), CORPUS)


def _shift(dim: int) -> np.ndarray:
    return np.random.default_rng(3).normal(size=dim).astype(np.float32) * 0.1


def test_the_shift_is_the_difference_of_the_mean_vectors_and_the_moved_vector_has_unit_length() -> None:
    english, chinese = np.eye(4, dtype=np.float32)[:2], np.eye(4, dtype=np.float32)[2:]
    assert np.allclose(language_shift(english, chinese), [0.5, 0.5, -0.5, -0.5])
    moved = toward_chinese(english[0], language_shift(english, chinese))
    assert np.isclose(np.linalg.norm(moved), 1.0)
    assert moved @ chinese[0] > english[0] @ chinese[0]  # nearer the Chinese questions than before


def test_the_default_model_has_a_shipped_shift_and_an_unknown_model_none() -> None:
    shift = english_shift("multilingual-e5-small@onnx-int8")
    assert shift is not None and shift.shape == (384,) and np.isfinite(shift).all()
    assert 0.05 < float(np.linalg.norm(shift)) < 1.0
    assert english_shift("some-other-model") is None


def test_only_an_english_question_over_text_in_another_language_is_moved(
    index_and_encoder: tuple[object, FakeEncoder], monkeypatch: pytest.MonkeyPatch
) -> None:
    index, encoder = index_and_encoder
    shift = _shift(encoder.dim)
    monkeypatch.setattr(crosslingual, "_shifts", lambda: {encoder.model_id: shift})
    retriever = Retriever(index, encoder)  # type: ignore[arg-type]
    asked = [
        "How much tax did the dream street pay in 2021?",
        "梦想小街2021年的税收是多少？",
        "How many engineers does the solar farm employ?",
    ]
    vectors = encoder.encode_queries(asked)
    over_chinese, chinese, over_english = retriever.pools(asked, vectors)
    assert np.allclose(over_chinese.query, toward_chinese(vectors[0], shift))
    assert np.array_equal(chinese.query, vectors[1])  # a Chinese question
    assert np.array_equal(over_english.query, vectors[2])  # the index knows its words: English text
    dense = Retriever(index, encoder, RetrievalConfig(mode="dense"))  # type: ignore[arg-type]
    assert np.allclose(dense.pools(asked[:1], vectors[:1])[0].query, over_chinese.query)  # coverage read anyway
    off = Retriever(index, encoder, RetrievalConfig(language_shift=False))  # type: ignore[arg-type]
    assert off.english_shift is None and np.array_equal(off.pools(asked[:1], vectors[:1])[0].query, vectors[0])


def test_a_shift_of_another_size_than_the_vectors_is_not_applied(
    index_and_encoder: tuple[object, FakeEncoder], monkeypatch: pytest.MonkeyPatch
) -> None:
    index, encoder = index_and_encoder
    monkeypatch.setattr(crosslingual, "_shifts", lambda: {encoder.model_id: _shift(encoder.dim + 1)})
    question = ["How much tax did the dream street pay in 2021?"]
    vectors = encoder.encode_queries(question)
    assert np.array_equal(Retriever(index, encoder).pools(question, vectors)[0].query, vectors[0])  # type: ignore[arg-type]


@pytest.mark.model
def test_the_shipped_shift_brings_an_english_question_nearer_its_chinese_source(seed_engine: object) -> None:
    from qa.engine import Engine

    assert isinstance(seed_engine, Engine)
    question = "What share of the city total should Yuzhong reach for green loan balances by 2027?"
    [pool] = seed_engine.retriever.pools([question])
    source = next(i for i, c in seed_engine.index.chunks.items() if "绿色贷款余额全市占比25%以上" in c.chunk.text)
    plain = seed_engine.encoder.encode_queries([question])[0]
    vector = seed_engine.index.sentence_index.vectors(np.array([source]))[0]
    assert pool.query is not None and not np.array_equal(pool.query, plain)
    assert float(vector @ pool.query) > float(vector @ plain)


def test_no_source_found_and_the_hits_cosines_read_the_vector_as_encoded(
    index_and_encoder: tuple[object, FakeEncoder], monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa.search.answerability import answer_features

    index, encoder = index_and_encoder
    monkeypatch.setattr(crosslingual, "_shifts", lambda: {encoder.model_id: _shift(encoder.dim)})
    retriever = Retriever(index, encoder)  # type: ignore[arg-type]
    question = ["How much tax did the dream street pay in 2021?"]
    vector = encoder.encode_queries(question)
    [pool] = retriever.pools(question, vector)
    assert pool.encoded is not None and pool.encoded.encoded is None
    assert pool.encoded.query is not None and np.array_equal(pool.encoded.query, vector[0])
    off = Retriever(index, encoder, RetrievalConfig(language_shift=False))  # type: ignore[arg-type]
    [plain] = off.pools(question, vector)
    assert np.array_equal(pool.encoded.candidates, plain.candidates) and np.allclose(pool.encoded.dense, plain.dense)
    assert np.array_equal(answer_features(index, pool), answer_features(index, plain))  # type: ignore[arg-type]
    hits = retriever.ranked(pool, 5)
    by_id = dict(zip(plain.candidates.tolist(), plain.dense.tolist(), strict=True))
    assert [h.dense for h in hits] == pytest.approx([by_id[h.chunk_id] for h in hits], abs=1e-5)
    [chinese] = retriever.pools(["梦想小街的税收是多少？"])
    assert chinese.encoded is None
