"""Where a Chinese question's words stand around its question word, and whether a sentence repeats them.

Questions are often a source sentence with the answer replaced by a question word: "该公司于哪一年
成立？" asks of "该公司于1998年成立". The words just before the question word (the left anchor) and
just after it (the right anchor), found in a sentence with a short gap between them, point at the
sentence that holds the answer in that gap. Character pairs of the question found in the sentence
catch the same words where jieba cuts question and sentence differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.search.sentence_facts import HAN_CHAR

_QUESTION_WORD = re.compile(
    r"为什么|为何|什么|怎么样?|怎样|如何|多少|多[大高长远重久]|哪[一个些里儿位家种所座年天月国]?|谁|几|何(?:时|地|处|人|种)?"
)
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")
_TRAILING = re.compile(r"(?:吗|呢|呀)?[\W_]*$")
#: The longest anchor looked for, in characters.
LONGEST = 16
#: The widest gap between the anchors that still counts as an answer slot, in characters.
WIDEST_SLOT = 30
ANCHOR_FEATURES = ("anchor_left", "anchor_right", "anchor_share", "anchor_slot", "pair_cover")


@dataclass(frozen=True)
class Anchors:
    """A question's left and right anchors (up to LONGEST characters each) and its Han character pairs."""

    left: str
    right: str
    pairs: frozenset[str]


def question_anchors(folded_question: str, asking: frozenset[str]) -> Anchors:
    """The anchors around the first question word of a folded question, and its pairs not made of ``asking`` alone."""
    match = _QUESTION_WORD.search(folded_question)
    left = right = ""
    if match:
        left = _EDGE.sub("", folded_question[: match.start()])[-LONGEST:]
        right = _EDGE.sub("", _TRAILING.sub("", folded_question[match.end() :]))[:LONGEST]
    han = "".join(HAN_CHAR.findall(folded_question))
    pairs = frozenset(han[i : i + 2] for i in range(len(han) - 1) if not (han[i] in asking and han[i + 1] in asking))
    return Anchors(left, right, pairs)


def _longest_suffix(anchor: str, text: str) -> int:
    k = 0
    while k < len(anchor) and anchor[len(anchor) - k - 1 :] in text:
        k += 1
    return k


def _longest_prefix(anchor: str, text: str) -> int:
    k = 0
    while k < len(anchor) and anchor[: k + 1] in text:
        k += 1
    return k


def _slot(left: str, right: str, text: str) -> float:
    """The narrowest gap from an occurrence of ``left`` to a later one of ``right`` (-1: none within WIDEST_SLOT)."""
    best = -1
    start = text.find(left)
    while start >= 0:
        end = start + len(left)
        after = text.find(right, end)
        if 0 <= after - end <= WIDEST_SLOT and (best < 0 or after - end < best):
            best = after - end
        start = text.find(left, start + 1)
    return float(best)


def anchor_row(anchors: Anchors, text: str) -> list[float]:
    """:data:`ANCHOR_FEATURES` of one folded sentence."""
    k_left = _longest_suffix(anchors.left, text)
    k_right = _longest_prefix(anchors.right, text)
    wanted = len(anchors.left) + len(anchors.right)
    slot = -1.0
    if k_left >= 2 and k_right >= 2:
        slot = _slot(anchors.left[len(anchors.left) - k_left :], anchors.right[:k_right], text)
    pairs = sum(p in text for p in anchors.pairs) / len(anchors.pairs) if anchors.pairs else 0.0
    return [float(k_left), float(k_right), (k_left + k_right) / wanted if wanted else 0.0, slot, pairs]
