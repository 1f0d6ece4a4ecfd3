"""What the re-ranker's features know of one indexed sentence whatever the question is.

Its tokens alone, each neighbour's, and all of them with its title's, the answer types it holds (numbers,
dates, durations by pattern; names of people and places by jieba's dictionary tags), whether it
is a label, its length, share of Han characters and place in its document. They are computed
once a sentence and kept for the sentences of recent questions (per index).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from qa.index import tokenize
from qa.index.reader import IndexReader, chunks_of
from qa.index.store import StoredDocument
from qa.search.answer_types import HOLDS_NUMBER, HOLDS_TIME, is_label
from qa.text import fold
from qa.types import Chunk

HOLDS = {
    "number": HOLDS_NUMBER,
    "time": HOLDS_TIME,
    "duration": re.compile(r"\d+\s*(?:年|个月|周|天|小时|分钟|秒)|\b\d+\s*(?:years?|months?|days?|hours?|minutes?)\b"),
}
#: jieba part-of-speech tags of the answer types a pattern cannot see: a person's or a place's name.
NAMED = {"person": ("nr", "nrfg", "nrt"), "place": ("ns",)}
#: One Han character (the share of them in a sentence, the characters of a question).
HAN_CHAR = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class SentenceFacts:
    """What a candidate's features need that no question changes: token sets, answer types held, place."""

    tokens: tuple[str, ...]  # distinct; tuples of strings, unlike sets, cost the garbage collector nothing
    with_context: tuple[str, ...]
    folded: str
    holds: tuple[bool, ...]
    values: tuple[float, ...]
    neighbours: tuple[int | None, int | None]
    neighbour_tokens: tuple[tuple[str, ...], tuple[str, ...]]  # distinct; () where there is no neighbour


def covered(question: set[str], tokens: tuple[str, ...]) -> float:
    """The share of the question's tokens among ``tokens`` (0 for a question without tokens)."""
    return len(question.intersection(tokens)) / len(question) if question else 0.0


#: Sentences seen by recent questions, keyed by everything their features depend on.
_SENTENCES: dict[tuple[object, ...], SentenceFacts] = {}
_SENTENCES_MAX = 50_000


def sentence_facts(index: IndexReader, chunk_id: int) -> SentenceFacts:
    """The facts of the sentence ``chunk_id`` of ``index``, from the cache when a recent question saw it."""
    item = index.chunks[chunk_id]
    chunk = item.chunk
    # a changed document is indexed anew, under new chunk ids; another index has other chunks
    key = (id(index.chunks), chunk_id, chunk)
    found = _SENTENCES.get(key)
    if found is not None:
        return found
    doc = index.document(chunk.source)
    before, after = _neighbour_ids(doc, chunk)
    around = set(_title_tokens(doc.meta.title))
    near = tuple(tuple(set(index.chunks[n].tokens)) if n is not None else () for n in (before, after))
    for tokens_near in near:
        around.update(tokens_near)
    text = chunk.text
    holds = (*(bool(p.search(text)) for p in HOLDS.values()), *_names_held(text))
    han = len(HAN_CHAR.findall(text))
    values = (
        *map(float, holds),
        float(is_label(text)),
        float(len(text)),
        han / max(1, len(text)),
        float(chunk.index),
        chunk.index / max(1, len(doc.chunk_ids) - 1),
    )
    tokens = set(item.tokens)
    if len(_SENTENCES) >= _SENTENCES_MAX:
        _SENTENCES.clear()
    found = _SENTENCES[key] = SentenceFacts(
        tuple(tokens), tuple(tokens | around), fold(text), holds, values, (before, after), (near[0], near[1])
    )
    return found


def _names_held(text: str) -> tuple[bool, ...]:
    """Whether ``text`` names a person, a place (jieba's dictionary tags, without its HMM guesses)."""
    import jieba.posseg

    flags = {pair.flag for pair in jieba.posseg.cut(text, HMM=False)}
    return tuple(bool(flags.intersection(tags)) for tags in NAMED.values())


def _neighbour_ids(doc: StoredDocument, chunk: Chunk) -> tuple[int | None, int | None]:
    ids = doc.chunk_ids
    before = ids[chunk.index - 1] if chunk.index > 0 else None
    after = ids[chunk.index + 1] if chunk.index + 1 < len(ids) else None
    return before, after


def read_neighbours(index: IndexReader, chunk_ids: np.ndarray) -> None:
    """Read the neighbours of the candidates not seen lately in one go (a store read per hit then has them)."""
    near = []
    for chunk_id, chunk in zip(chunk_ids.tolist(), chunks_of(index, chunk_ids), strict=True):
        if (id(index.chunks), chunk_id, chunk) not in _SENTENCES:
            near += [n for n in _neighbour_ids(index.document(chunk.source), chunk) if n is not None]
    chunks_of(index, near)


@lru_cache(maxsize=8192)
def _title_tokens(title: str) -> frozenset[str]:
    return frozenset(tokenize(title))
