"""Answers: a short extractive answer citing the hits as [1], [2], and a "no source found" signal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa.search.hits import Hit
from qa.search.metadata import MetadataHit, metadata_hits

# A question whose best sentence is no closer than this (mean of the cosines alone and in
# context, default model) has no source. Measured on the seed corpus: 25 of 27 dev questions
# and claims score above it, 19 of 20 questions the seeds cannot answer
# (eval/unanswerable_seed_questions.txt) score below it.
NO_ANSWER_COSINE = 0.88
_ANSWER_SENTENCES = 2
_CLOSE_SCORE = 1.0


@dataclass(frozen=True)
class Answer:
    """The reply to one question: hits, an extractive answer over them, and whether any source fits."""

    question: str
    answer: str
    hits: tuple[Hit, ...]
    no_answer: bool
    metadata: tuple[MetadataHit, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """JSON form (the hits in the batch-contract form; ``metadata_hits`` when the question asks for one)."""
        out: dict[str, object] = {
            "question": self.question,
            "answer": self.answer,
            "no_answer": self.no_answer,
            "hits": [h.as_dict() for h in self.hits],
        }
        if self.metadata:
            out["metadata_hits"] = [f.as_dict() for f in self.metadata]
        return out


def is_unanswered(hits: Sequence[Hit], threshold: float = NO_ANSWER_COSINE) -> bool:
    """True when no hit is semantically close enough to count as a source."""
    return not hits or max(h.dense for h in hits) < threshold


def compose(
    question: str,
    hits: Sequence[Hit],
    threshold: float = NO_ANSWER_COSINE,
    *,
    no_answer: bool | None = None,
    asked: str | None = None,
) -> Answer:
    """Build the answer: the best sentence, plus the next one when it scores nearly as well.

    ``no_answer`` is the answerability model's verdict; without one the cosine ``threshold`` decides.
    ``asked`` is the stand-alone question the hits were found for when it is not ``question`` (a
    follow-up completed from earlier turns): it tells which document metadata is asked for.
    """
    facts = tuple(metadata_hits(question if asked is None else asked, hits))
    if not hits or (no_answer if no_answer is not None else is_unanswered(hits, threshold)):
        return Answer(question, "", tuple(hits), True, facts)
    chosen = [h for h in hits[:_ANSWER_SENTENCES] if hits[0].score - h.score <= _CLOSE_SCORE]
    text = " ".join(f"{h.chunk.text}[{h.rank}]" for h in chosen)
    return Answer(question, text, tuple(hits), False, facts)
