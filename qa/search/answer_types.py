"""What a question asks for and what a sentence holds, by pattern: the fusion's answer-type bonus and label penalty.

A question asking 多少 or "how many" wants a number, one asking 哪一年 or "when" a date. Short
lines without closing punctuation (headings, captions) rarely answer, unless they hold what is
asked (a date line for 哪一天).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_CLOSING = re.compile(r"[。！？!?；;.…]")
_NUMBER_QUESTION = re.compile(
    r"多少|几[个家位名次年月天种项所条处栋座]|多[大高长远久重]|数量|how (?:many|much)|what percent"
)
_TIME_QUESTION = re.compile(r"哪一?年|哪一?天|何时|什么时候|哪个月|日期|\bwhen\b|what year|which year|what date")
HOLDS_NUMBER = re.compile(r"\d|[一二三四五六七八九十百千万亿两]+[个家位名次年月日天种项倍%％]")
HOLDS_TIME = re.compile(
    r"\d{2,4}\s*年|\d{1,2}\s*月|\d{1,2}\s*日|\b(?:1[0-9]|20)\d{2}\b|[一二三四五六七八九十〇零]{2,4}年"
)


def is_label(text: str) -> bool:
    """A short line without closing punctuation: a heading or caption, which rarely holds an answer."""
    return len(text) <= 30 and _CLOSING.search(text) is None


def answer_type_bonus(question: str, texts: Sequence[str]) -> np.ndarray:
    """1 for each text holding what the question asks for (a number for 多少/how many, a time for 何时/when), else 0."""
    lowered = question.lower()
    patterns = [p for q, p in ((_NUMBER_QUESTION, HOLDS_NUMBER), (_TIME_QUESTION, HOLDS_TIME)) if q.search(lowered)]
    if not patterns:
        return np.zeros(len(texts), dtype=np.float32)
    return np.array([1.0 if any(p.search(t) for p in patterns) else 0.0 for t in texts], dtype=np.float32)
