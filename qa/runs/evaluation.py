"""Recall@k and MRR@10 of ranked citations against gold spans, scored the way ``judge.py`` scores them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.errors import InputError
from qa.ingest import iter_json_objects

KS = (1, 5, 10)
MAX_CITED_CHARS = 400


@dataclass(frozen=True)
class Gold:
    """A question with the source and the answer spans that a correct citation must contain."""

    id: str
    question: str
    source: str
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Scores:
    """Recall at 1/5/10 and MRR@10 over ``n`` questions."""

    n: int
    recall: Mapping[int, float]
    mrr: float

    def describe(self) -> str:
        """Lines for people, in judge.py's wording."""
        lines = [f"recall@{k}: {self.recall[k]:.3f}" for k in KS]
        return "\n".join([*lines, f"mrr@10: {self.mrr:.3f}", f"questions: {self.n}"])


def read_gold(path: Path) -> list[Gold]:
    """Gold questions: ``source`` plus ``start``/``end`` or ``spans``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read gold file ({exc})") from None
    items = []
    for number, row in iter_json_objects(text.splitlines(), str(path)):
        try:
            spans = row["spans"] if "spans" in row else [[row["start"], row["end"]]]
            items.append(
                Gold(str(row["id"]), row["question"], row["source"], tuple((int(a), int(b)) for a, b in spans))
            )
        except (KeyError, TypeError, ValueError):
            raise InputError(
                f"{path}:{number}: a gold line needs id, question, source and start/end or spans"
            ) from None
    return items


def first_correct_rank(gold: Gold, hits: Sequence[Mapping[str, object]]) -> int | None:
    """1-based rank of the first hit from the gold source that contains a whole gold span (top 10)."""
    for rank, hit in enumerate(hits[:10], 1):
        start, end = int(str(hit["start"])), int(str(hit["end"]))
        if end - start > MAX_CITED_CHARS:
            continue
        if hit["source"] == gold.source and any(start <= a and b <= end for a, b in gold.spans):
            return rank
    return None


def score(gold: Sequence[Gold], results: Mapping[str, Sequence[Mapping[str, object]]]) -> Scores:
    """Recall@1/5/10 and MRR@10; a question without results counts as a miss."""
    found = dict.fromkeys(KS, 0)
    reciprocal = 0.0
    for item in gold:
        rank = first_correct_rank(item, results.get(item.id, []))
        if rank is None:
            continue
        reciprocal += 1.0 / rank
        for k in KS:
            found[k] += rank <= k
    n = max(len(gold), 1)
    return Scores(len(gold), {k: found[k] / n for k in KS}, reciprocal / n)
