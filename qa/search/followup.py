"""Stand-alone queries for follow-up questions in a conversation (the server keeps no state).

A user turn is a follow-up when it points back (它, 该, 其, 这个, it, they ...) or leaves out
what it asks about (那2020年呢？, 它2018年呢？, or any very short question). Turns are resolved
in order, each against the previous resolved one. In a whole question, the pointing word is
replaced by the previous question's subject (the words before its first 的/是/在/number/question
word: 梦想小街产业园的主体建筑面积是多少？ → 梦想小街产业园), so 它2021年的税收是多少？ becomes
梦想小街产业园2021年的税收是多少？. An elliptic turn, or one whose previous question has no subject
found this way (English), is appended to the previous resolved question. The chat route also
prefers hits from the documents that answered the previous question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.text import has_han

_ANAPHOR = re.compile(
    r"它们|它|他们|她们|(?<!应)该|(?<![尤极])其(?![他它余次实])|(?<![因如从彼])此(?![外])|这个|那个|这些|那些|这家|那家"
    r"|这里|那里|上述|\b(?:it|its|they|them|their|this|that|these|those|there)\b",
    re.IGNORECASE,
)
_ELLIPTIC = re.compile(r"^\s*(?:那么?|还有|另外|and\b|what about\b|how about\b)|呢\s*[？?]?\s*$", re.IGNORECASE)
_SUBJECT_END = re.compile(
    r"的|是|有|在|位于|将|要|于|共|(?:19|20)\d{2}\s*年|\d|多少|哪|什么|如何|怎么|是否|为何|为什么|[，,。？?！!\s]"
)
_LEADING = re.compile(r"^\s*(?:请问|请|那么?|还有|另外)\s*")
_PUNCTUATION = re.compile(r"[\s\W_]+")
SHORT_QUESTION = 8


@dataclass(frozen=True)
class Resolved:
    """The query for the last user turn and, for a follow-up, the previous turn it builds on."""

    query: str
    previous: str | None

    @property
    def follow_up(self) -> bool:
        """Whether the last turn was read as a follow-up."""
        return self.previous is not None


def is_elliptic(question: str) -> bool:
    """Whether a question leaves out what it asks about (那2020年呢？, 它2018年呢？, 面积？)."""
    if _ELLIPTIC.search(question):
        return True
    return len(_PUNCTUATION.sub("", question)) <= SHORT_QUESTION and not _ANAPHOR.search(question)


def is_follow_up(question: str) -> bool:
    """Whether a question points back to earlier turns or is too short to stand alone."""
    return bool(_ANAPHOR.search(question)) or is_elliptic(question)


def subject(question: str) -> str | None:
    """The leading words of a Chinese question, before its first particle, verb, number or question word."""
    text = _LEADING.sub("", question)
    end = _SUBJECT_END.search(text)
    found = text[: end.start()] if end else ""
    return found if len(found) >= 2 and has_han(found) and not _ANAPHOR.search(found) else None


def resolve(previous: str, question: str) -> str:
    """Make ``question`` stand alone, given the previous (already resolved) question."""
    if not is_follow_up(question):
        return question
    found = subject(previous)
    if found and not is_elliptic(question):
        return _ANAPHOR.sub(lambda _: found, question, count=1)
    return f"{previous.strip()} {question.strip()}"


def resolve_conversation(user_turns: list[str]) -> Resolved:
    """The query for the last user turn, each earlier turn resolved against the one before it."""
    previous: str | None = None
    for turn in user_turns[:-1]:
        previous = turn if previous is None else resolve(previous, turn)
    last = user_turns[-1]
    if previous is None or not is_follow_up(last):
        return Resolved(last, None)
    return Resolved(resolve(previous, last), previous)
