"""Proper names in Chinese text (people, places, organisations), found by jieba's part-of-speech tagger."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from qa.text import has_han

#: jieba tags of proper names, by kind: person, place, organisation.
_KINDS = {"nr": "person", "nrfg": "person", "nrt": "person", "ns": "place", "nt": "organisation"}


@dataclass(frozen=True)
class Name:
    """``text`` stands at ``[start, end)`` of the tagged text."""

    start: int
    end: int
    text: str
    kind: str


@lru_cache(maxsize=1)
def _posseg() -> Any:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    return jieba.posseg


def proper_names(text: str) -> list[Name]:
    """Names of two or more Chinese characters in ``text``, in order."""
    names, at = [], 0
    for pair in _posseg().cut(text):
        word, flag = pair.word, pair.flag
        start = text.find(word, at)
        if start < 0:
            continue
        at = start + len(word)
        if flag in _KINDS and len(word) >= 2 and has_han(word):
            names.append(Name(start, at, word, _KINDS[flag]))
    return names
