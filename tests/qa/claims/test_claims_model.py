"""Claim verdicts on the seed corpus with the real default model."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.engine import Engine
from qa.runs import read_claim_gold, score_claims

REPO = Path(__file__).resolve().parents[3]
SEEDS = REPO / "seeds"
SHARED_CLAIMS = REPO.parent / "shared" / "eval" / "seed_claims_dev.jsonl"
OWN_CLAIMS = REPO / "eval" / "seed_claims_verdicts.jsonl"

pytestmark = pytest.mark.model


@pytest.mark.skipif(not SHARED_CLAIMS.is_file(), reason=f"shared claims not found at {SHARED_CLAIMS}")
def test_every_seed_dev_claim_gets_the_right_verdict_and_source(seed_engine: Engine) -> None:
    gold = read_claim_gold(SHARED_CLAIMS)
    scores = score_claims(gold, [seed_engine.cite(g.claim) for g in gold])
    assert scores.wrong == (), scores.describe()


def test_verbatim_near_verbatim_paraphrase_mismatch_and_unsupported_claims(seed_engine: Engine) -> None:
    gold = read_claim_gold(OWN_CLAIMS)
    assert {v for g in gold for v in g.verdicts} == {
        "verbatim",
        "near-verbatim",
        "paraphrase",
        "mismatch",
        "unsupported",
    }
    scores = score_claims(gold, [seed_engine.cite(g.claim) for g in gold])
    assert scores.wrong == (), scores.describe()


def test_mismatch_marks_the_differing_figure_on_both_sides(seed_engine: Engine) -> None:
    claim = "到2027年，渝中区全区算力规模达到2100PFLOPS。"
    check = seed_engine.cite(claim)
    assert check.verdict == "mismatch" and not check.supported
    first = check.sources[0]
    original = seed_engine.index.document(first.hit.chunk.source).original
    (difference,) = first.differences
    assert difference.claim.text == claim[difference.claim.start : difference.claim.end] == "2100PFLOPS"
    assert difference.source is not None
    assert original[difference.source.start : difference.source.end] == "1200PFLOPS"
    assert first.match is not None
    assert original[first.match.start : first.match.end] == "全区算力规模达到1200PFLOPS"
