"""Request and response models of the HTTP API (mirrors of the library's dataclasses)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Filters(BaseModel):
    """Restrict hits to some documents or a date range (ISO dates, inclusive)."""

    source: list[str] | None = Field(None, description="Document ids to search in.")
    date_from: str | None = Field(None, examples=["2022-01-01"])
    date_to: str | None = Field(None, examples=["2024-12-31"])


class AskRequest(BaseModel):
    """One question."""

    question: str = Field(..., min_length=1, examples=["U创空间2017年的产值是多少？"])
    top_k: int = Field(5, ge=1)
    filters: Filters | None = None


class Message(BaseModel):
    """One turn of a conversation."""

    role: Literal["user", "assistant", "system"]
    content: str


class ChatRequest(BaseModel):
    """A conversation; the last user message is answered, earlier turns resolve follow-ups."""

    messages: list[Message] = Field(..., min_length=1)
    top_k: int = Field(5, ge=1)


class Context(BaseModel):
    """The sentences around a cited one, and its paragraph's span."""

    previous: str
    next: str
    paragraph_start: int
    paragraph_end: int


class Location(BaseModel):
    """Another place where the same sentence stands."""

    source: str
    start: int
    end: int
    line: int


class HitModel(BaseModel):
    """A ranked sentence with its citation (the batch-output contract plus context)."""

    rank: int
    score: float
    source: str
    start: int
    end: int
    text: str
    title: str
    line: int
    paragraph: int
    heading: list[str]
    date: str | None = None
    publisher: str | None = None
    context: Context
    scores: dict[str, float]
    also_at: list[Location] = []


class AskResponse(BaseModel):
    """Hits, an extractive answer citing them as [1], [2], and whether any source fits."""

    question: str
    answer: str
    no_answer: bool
    hits: list[HitModel]


class DocumentSummary(BaseModel):
    """A document of the index."""

    id: str
    title: str
    date: str | None = None
    publisher: str | None = None
    author: str | None = None
    sentences: int


class DocumentDetail(DocumentSummary):
    """A document with its text (or the requested span and the sentences around it)."""

    text: str
    start: int = 0
    end: int


class ErrorBody(BaseModel):
    """The body of every error response."""

    code: str
    message: str


class ErrorResponse(BaseModel):
    """``{"error": {"code", "message"}}``."""

    error: ErrorBody
