"""Claim verdicts on the seed corpus with the real default model."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.engine import Engine, open_engine
from qa.runs import read_claim_gold, score_claims
from qa.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SHARED_CLAIMS = REPO.parent / "shared" / "eval" / "seed_claims_dev.jsonl"
OWN_CLAIMS = REPO / "eval" / "seed_claims_verdicts.jsonl"

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    index_dir = tmp_path_factory.mktemp("claims") / "index"
    return open_engine(Settings(_env_file=None, corpus=SEEDS, index_dir=index_dir), build=True)


@pytest.mark.skipif(not SHARED_CLAIMS.is_file(), reason=f"shared claims not found at {SHARED_CLAIMS}")
def test_every_seed_dev_claim_gets_the_right_verdict_and_source(engine: Engine) -> None:
    gold = read_claim_gold(SHARED_CLAIMS)
    scores = score_claims(gold, [engine.cite(g.claim) for g in gold])
    assert scores.wrong == (), scores.describe()


def test_verbatim_near_verbatim_paraphrase_mismatch_and_unsupported_claims(engine: Engine) -> None:
    gold = read_claim_gold(OWN_CLAIMS)
    assert {v for g in gold for v in g.verdicts} == {
        "verbatim",
        "near-verbatim",
        "paraphrase",
        "mismatch",
        "unsupported",
    }
    scores = score_claims(gold, [engine.cite(g.claim) for g in gold])
    assert scores.wrong == (), scores.describe()


def test_mismatch_marks_the_differing_figure_on_both_sides(engine: Engine) -> None:
    claim = "到2027年，渝中区全区算力规模达到2100PFLOPS。"
    check = engine.cite(claim)
    assert check.verdict == "mismatch" and not check.supported
    first = check.sources[0]
    original = engine.index.document(first.hit.chunk.source).original
    (difference,) = first.differences
    assert difference.claim.text == claim[difference.claim.start : difference.claim.end] == "2100PFLOPS"
    assert difference.source is not None
    assert original[difference.source.start : difference.source.end] == "1200PFLOPS"
    assert first.match is not None
    assert original[first.match.start : first.match.end] == "全区算力规模达到1200PFLOPS"
