"""Seed dev questions over the seeds as .txt, PDF and DOCX, with the real default model.

Every format must find the gold answers about as well as the .txt (Recall@5 within 0.05), cite
the extracted text at its offsets, and, for a PDF, give the page the sentence starts on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from embeddings.cache import EmbeddingCache
from qa.building import build_index, open_encoder
from qa.engine import Engine
from qa.search import RetrievalConfig
from qa.settings import Settings
from tests.binary_docs import BinarySamples
from tests.format_recall import GOLD, FormatScore, load_gold, score_format

ROOT = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.model, pytest.mark.skipif(not GOLD.is_file(), reason=f"no dev questions at {GOLD}")]


@pytest.fixture(scope="module")
def scores(binary_samples: BinarySamples, tmp_path_factory: pytest.TempPathFactory) -> dict[str, FormatScore]:
    """Recall@5 of the dev questions for each format (one embedding cache: shared sentences embed once)."""
    root = tmp_path_factory.mktemp("formats")
    encoder = open_encoder(Settings(_env_file=None))
    gold = load_gold()
    out = {}
    with EmbeddingCache(root / "cache.sqlite") as cache:
        for name, folder in (
            ("txt", ROOT / "seeds"),
            ("pdf", binary_samples.seeds_pdf),
            ("docx", binary_samples.seeds_docx),
        ):
            index, _ = build_index([folder], root / name, encoder, cache)
            out[name] = score_format(Engine(index, encoder, RetrievalConfig()), gold, folder)
    return out


def test_pdf_and_docx_find_the_gold_answers_as_the_txt_does(scores: dict[str, FormatScore]) -> None:
    txt = scores["txt"].recall
    print({name: round(s.recall, 3) for name, s in scores.items()})
    for name in ("pdf", "docx"):
        assert scores[name].recall >= txt - 0.05, (name, scores[name].recall, txt)


def test_answering_hits_cite_the_extracted_text_and_the_right_page(scores: dict[str, FormatScore]) -> None:
    for score in scores.values():
        assert score.problems == []
    assert scores["pdf"].pages_checked == scores["pdf"].found > 0
