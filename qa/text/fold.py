"""Text folded for comparison, with a map back to the original offsets.

Folding drops whitespace and punctuation, turns full-width forms into half-width ones,
traditional characters into simplified ones and letters into lower case: two texts that
differ only in those ways fold to the same string.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from qa.text.cjk import HAN_RUN

_ALNUM_RUN = re.compile(r"[0-9a-z]+(?:\.[0-9]+)?")


@dataclass(frozen=True)
class Folded:
    """``text`` folded; ``positions[i]`` is the offset in the source text of folded character ``i``."""

    text: str
    positions: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Source offsets covering the folded range ``[start, end)``."""
        return self.positions[start], self.positions[end - 1] + 1


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """Traditional→simplified, full-width→half-width (NFKC), lower case; the length may change."""
    return _converter().convert(unicodedata.normalize("NFKC", text)).lower()


def _kept(ch: str) -> bool:
    category = unicodedata.category(ch)
    return not (category.startswith(("P", "Z", "C")) or ch.isspace())


def fold_width(text: str) -> str:
    """Full-width digits, letters and signs as their half-width forms, one character for one (offsets hold)."""
    out = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch)
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


def fold_text(text: str) -> Folded:
    """Fold ``text`` (see the module docstring), one folded character per kept source character."""
    chars: list[str] = []
    positions: list[int] = []
    for i, folded in enumerate(fold_width(text)):
        if _kept(folded):
            chars.append(folded.lower())
            positions.append(i)
    joined = "".join(chars)
    converted = fold(joined)
    if len(converted) != len(joined):  # a phrase rule changed the length: convert one character at a time
        converted = "".join(c2 if len(c2 := fold(c)) == 1 else c for c in joined)
    return Folded(converted, tuple(positions))


def content_units(text: str) -> set[str]:
    """What two texts are compared by: the CJK character bigrams (a lone character stands for itself) and the
    Latin/digit words of ``text`` folded."""
    folded = fold(text)
    units: set[str] = set()
    for run in HAN_RUN.findall(folded):
        if len(run) == 1:
            units.add(run)
        units.update(run[i : i + 2] for i in range(len(run) - 1))
    units.update(_ALNUM_RUN.findall(folded))
    return units
