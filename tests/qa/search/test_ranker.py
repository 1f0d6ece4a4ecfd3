"""The learned re-ranker, its features, the English-to-Chinese lexical terms and the answerability model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings.cache import EmbeddingCache
from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.engine import Engine, open_engine
from qa.index import CorpusIndex
from qa.search import Ranker, RetrievalConfig, Retriever, compose, load_ranker, sentence_facts
from qa.search.answerability import ANSWER_FEATURES, answer_features
from qa.search.features import FEATURE_NAMES, candidate_features
from qa.search.retrieval import head_of
from qa.search.translation import rendered, translate
from qa.settings import Settings

CORPUS = {
    "park.txt": "上清寺互联网产业园\n该园区位于渝中区。2018年新增企业300家。入驻率达到九成。\n园区西至鹅岭公园。\n",
    "street.txt": "梦想小街产业园\n主体建筑面积约3万平方米。2021年，园区税收约2200万元。园区有企业120家。\n",
    "solar.txt": "太阳能电站\n该电站2020年发电120兆瓦。电站雇用了45名工程师。\n",
}
QUESTIONS = ["园区2018年新增了多少家企业？", "梦想小街的税收是多少？", "How many engineers does the plant employ?"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CorpusIndex, FakeEncoder]:
    root = tmp_path_factory.mktemp("ranker")
    docs = root / "docs"
    docs.mkdir()
    for name, text in CORPUS.items():
        (docs / name).write_text(text, encoding="utf-8")
    encoder = FakeEncoder()
    with EmbeddingCache(root / "cache.sqlite") as cache:
        index, _ = build_index([docs], root / "index", encoder, cache)
    return root, index, encoder


def _reversing_ranker(depth: int) -> Ranker:
    """A model trained to prefer the worst fused rank: it turns the head upside down."""
    return Ranker(_reversing_model(), depth)


def _reversing_model() -> str:
    """The text of :func:`_reversing_ranker`'s model."""
    import lightgbm

    rng = np.random.default_rng(0)
    column = FEATURE_NAMES.index("fused_rank")
    x = rng.normal(size=(2000, len(FEATURE_NAMES))).astype(np.float32)
    x[:, column] = np.tile(np.arange(10), 200)
    y = x[:, column].astype(int)  # graded: the worse the fused rank, the better
    params = {"objective": "lambdarank", "verbose": -1, "seed": 1, "deterministic": True, "num_threads": 1}
    data = lightgbm.Dataset(x, y, group=[10] * 200, feature_name=list(FEATURE_NAMES))
    booster = lightgbm.train(params, data, num_boost_round=20)
    return str(booster.model_to_string())


def test_features_have_one_named_column_each(corpus: tuple[Path, CorpusIndex, FakeEncoder]) -> None:
    _, index, encoder = corpus
    for pool in Retriever(index, encoder).pools(QUESTIONS):
        rows = candidate_features(index, pool)
        assert rows.shape == (len(pool.candidates), len(FEATURE_NAMES))
        assert np.isfinite(rows).all()
        assert answer_features(index, pool).shape == (len(ANSWER_FEATURES),)


def test_every_store_gives_the_same_features(corpus: tuple[Path, CorpusIndex, FakeEncoder]) -> None:
    root, memory, encoder = corpus
    segmented, _ = build_index([root / "docs"], root / "segmented", encoder, None, backend="segments")
    for question in QUESTIONS:
        got = []
        for index in (segmented, memory):
            sentence_facts._SENTENCES.clear()  # each store's own reads, not what the other left in the cache
            got.append(candidate_features(index, Retriever(index, encoder).pools([question])[0]))
        assert got[0].shape == got[1].shape
        np.testing.assert_allclose(got[0], got[1], atol=1e-5)  # the coverage columns need each sentence's tokens


def test_the_reranker_orders_the_head_by_its_model_and_keeps_the_tail(
    corpus: tuple[Path, CorpusIndex, FakeEncoder],
) -> None:
    _, index, encoder = corpus
    fused = Retriever(index, encoder)
    reranked = Retriever(index, encoder, reranker=_reversing_ranker(depth=4))
    for pool in fused.pools(QUESTIONS):
        before = [s.chunk_id for s in fused.ranked(pool, 8)]
        after = [s.chunk_id for s in reranked.ranked(pool, 8)]
        assert after[:4] == before[:4][::-1]
        assert after[4:] == before[4:]
        assert after == [s.chunk_id for s in reranked.ranked(pool, 8)]


def test_the_shipped_ranker_loads_and_reorders_deterministically(
    corpus: tuple[Path, CorpusIndex, FakeEncoder],
) -> None:
    _, index, encoder = corpus
    ranker = load_ranker()
    retriever = Retriever(index, encoder, reranker=ranker)
    for pool in retriever.pools(QUESTIONS):
        head = head_of(pool, ranker.depth)
        scores = ranker.scores(index, head)
        expected = [int(head.candidates[i]) for i in np.argsort(-scores, kind="stable")]
        assert [s.chunk_id for s in retriever.ranked(pool, len(expected))] == expected
    assert Engine(index, encoder, RetrievalConfig(), ranker).ask_many(QUESTIONS) == Engine(
        index, encoder, RetrievalConfig(), ranker
    ).ask_many(QUESTIONS)


def test_switching_the_ranker_off_restores_the_fused_order(corpus: tuple[Path, CorpusIndex, FakeEncoder]) -> None:
    root, index, encoder = corpus
    ranker = load_ranker()

    def places(engine: Engine) -> list[list[tuple[str, int]]]:
        return [[(h.chunk.source, h.chunk.start) for h in hits] for hits in engine.ask_many(QUESTIONS, 10)]

    today = places(Engine(index, encoder, RetrievalConfig()))
    assert places(Engine(index, encoder, RetrievalConfig(), ranker)) != today
    settings = Settings(_env_file=None, model="fake", corpus=root / "docs", index_dir=root / "index")  # type: ignore[call-arg]
    for switch in ({"ranker": "off", "no_answer": "cosine"}, {}):  # off, or a model the ranker was not trained for
        off = open_engine(settings.model_copy(update=switch))
        assert off.reranker is None and off.answerability is None
        assert places(off) == today
        assert all(flag is None for _, flag in off.ask_checked(QUESTIONS))


def test_english_words_become_chinese_terms() -> None:
    terms = {t for group in translate("How many engineers does the solar plant employ in 2020?") for t in group}
    assert {"工程师", "2020"} <= terms
    assert translate("什么") == []


def test_a_verdict_of_the_model_overrides_the_cosine_rule(corpus: tuple[Path, CorpusIndex, FakeEncoder]) -> None:
    _, index, encoder = corpus
    hits = Engine(index, encoder, RetrievalConfig()).ask(QUESTIONS[0], 3)
    assert compose(QUESTIONS[0], hits, threshold=2.0).no_answer
    assert not compose(QUESTIONS[0], hits, threshold=2.0, no_answer=False).no_answer
    assert compose(QUESTIONS[0], hits, threshold=-1.0, no_answer=True).no_answer


def test_an_english_question_over_chinese_text_gets_a_translated_lexical_leg(
    corpus: tuple[Path, CorpusIndex, FakeEncoder],
) -> None:
    _, index, encoder = corpus
    retriever = Retriever(index, encoder, RetrievalConfig())
    english, chinese = retriever.pools(["How many companies does the park have?", "园区有多少家企业？"])
    assert english.translated is not None and len(english.translated) == len(english.candidates)
    assert 0.5 < english.translation <= 1.0
    assert chinese.translated is None and chinese.translation == 0.0
    off = Retriever(index, encoder, RetrievalConfig(translated_weight=0.0)).pools([english.question])[0]
    assert off.translated is None
    groups, share = rendered("the engineers of zyxwv")
    assert share == 0.5 and len(groups) == 1


def test_overlap_and_named_answer_features(corpus: tuple[Path, CorpusIndex, FakeEncoder]) -> None:
    _, index, encoder = corpus
    pool = Retriever(index, encoder).pools(["梦想小街的税收是多少？"])[0]
    rows = candidate_features(index, pool)
    texts = [index.chunks[int(c)].chunk.text for c in pool.candidates]
    run = rows[:, FEATURE_NAMES.index("longest_common")]
    best = texts[int(np.argmax(run))]
    assert "税收" in best or "梦想小街" in best
    assert rows[:, FEATURE_NAMES.index("char_cover")].max() <= 1.0
    places = rows[:, FEATURE_NAMES.index("holds_place")]
    assert places[texts.index("园区西至鹅岭公园。")] == 1.0


def test_a_model_keeps_the_fused_order_for_a_language_it_was_not_trained_on(
    corpus: tuple[Path, CorpusIndex, FakeEncoder], tmp_path: Path
) -> None:
    _, index, encoder = corpus
    reversing = _reversing_ranker(10)
    (tmp_path / "m.txt").write_text(_reversing_model(), encoding="utf-8")
    (tmp_path / "m.json").write_text('{"languages": ["zh"]}', encoding="utf-8")
    chinese_only = load_ranker(tmp_path / "m.txt", 10)
    english, chinese = Retriever(index, encoder).pools([QUESTIONS[2], QUESTIONS[0]])
    assert list(chinese_only.scores(index, english)) == list(english.fused)
    assert list(chinese_only.scores(index, chinese)) == list(reversing.scores(index, chinese))
    assert load_ranker(tmp_path / "m.txt").languages == {"zh"}
