"""What a sentence adds to the question, and how it hangs on its neighbours.

An answer holds something the question does not: a sentence that only restates the question's
words (a heading, a topic sentence) adds nothing. And an answer often continues the sentence
before it ("在他去世的时候，…" after the sentence naming him): it opens with a reference, while
the question's words stand in its neighbour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from qa.search.sentence_facts import SentenceFacts, covered

DISCOURSE_FEATURES = ("novel_words", "novel_share", "opens_reference", "prev_cover", "next_cover")
#: Openings that refer back to what the sentence before named (folded text).
REFERENCES = (
    "他", "她", "它", "其", "此", "这", "该", "那", "上述", "前者", "后者", "同时", "随后", "此后", "然而", "但",
    "he ", "she ", "it ", "they ", "this ", "these ", "that ", "those ", "its ", "their ", "his ", "her ",
)  # fmt: skip


def _words(tokens: Iterable[str]) -> set[str]:
    return {t for t in tokens if not t.startswith("#")}


def discourse_columns(sentences: Sequence[SentenceFacts], question: set[str]) -> np.ndarray:
    """:data:`DISCOURSE_FEATURES` per candidate (``question``: the question's tokens)."""
    asked = _words(question)
    rows = np.zeros((len(sentences), len(DISCOURSE_FEATURES)), dtype=np.float32)
    for i, s in enumerate(sentences):
        words = _words(s.tokens)
        novel = words - asked
        covers = [covered(question, near) for near in s.neighbour_tokens]
        rows[i] = (len(novel), len(novel) / len(words) if words else 0.0, s.folded.startswith(REFERENCES), *covers)
    return rows
