"""Request and response models of the HTTP API.

Responses mirror the library's dataclasses; the small ones (Location, Citations, Span,
Difference) are those dataclasses themselves, so a field is declared in one place.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.config import JsonDict

from qa.claims import ClaimVerdict, Difference, Span, Verdict
from qa.search import Citations, Location
from qa.text import check_text

QUESTION_EXAMPLE = "U创空间2017年的产值是多少？"
#: Marks a field whose maximum length is the server's QA_MAX_QUESTION_CHARS (filled in by api.openapi).
QUESTION_LIMIT: JsonDict = {"x-limit": "max_question_chars"}
#: Marks a top_k whose maximum is the server's QA_MAX_TOP_K.
TOP_K_LIMIT: JsonDict = {"x-limit": "max_top_k"}
#: Some character that is not whitespace, the spaces spelled out: ``\S`` means other spaces in
#: the server's regex engine than in JSON Schema's (ECMA-262), so the schema and the server would disagree.
NOT_BLANK = "[^\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"


def _iso_date_only(value: object) -> object:
    """Dates come as ISO strings: a number (``0``) is not read as a timestamp."""
    if value is not None and not isinstance(value, str | datetime.date):
        raise ValueError("a date is an ISO string such as 2021-06-30")
    return value


#: Any text of a request: unpaired surrogates (``"\udc00"``) are refused (422).
Text = Annotated[str, AfterValidator(check_text)]
#: A question, claim or message: at least one character that is not whitespace.
Query = Annotated[
    str, Field(min_length=1, pattern=NOT_BLANK, json_schema_extra=QUESTION_LIMIT), AfterValidator(check_text)
]
IsoDate = Annotated[datetime.date, BeforeValidator(_iso_date_only)]
TopK = Annotated[
    int, Field(ge=1, description="How many hits (at most the server's QA_MAX_TOP_K).", json_schema_extra=TOP_K_LIMIT)
]


class Filters(BaseModel):
    """Keep only hits from some documents or from documents dated within a range (inclusive)."""

    model_config = ConfigDict(extra="forbid")

    source: str | list[str] | None = Field(
        None, description="A document id, or a list of them.", examples=[["001_78f4f1f7e179c4c7.txt"]]
    )
    date_from: IsoDate | None = Field(
        None, description="Earliest document date (ISO); undated documents are left out.", examples=["2017-01-01"]
    )
    date_to: IsoDate | None = Field(
        None, description="Latest document date (ISO); undated documents are left out.", examples=["2024-12-31"]
    )

    def sources(self) -> set[str] | None:
        """The document ids asked for, or None for any."""
        if self.source is None:
            return None
        return {self.source} if isinstance(self.source, str) else set(self.source)


class AskRequest(BaseModel):
    """One question."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"question": QUESTION_EXAMPLE}]})

    question: Query = Field(..., description="The question, in Chinese or English.")
    top_k: TopK = 5
    filters: Filters | None = None


class Message(BaseModel):
    """One turn of a conversation."""

    role: Literal["user", "assistant", "system"]
    content: Query = Field(..., description="The message (a question when from the user).")


class ChatRequest(BaseModel):
    """A whole conversation (the server keeps no state): the last user message is answered."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "messages": [
                        {"role": "user", "content": "梦想小街产业园的主体建筑面积是多少？"},
                        {"role": "assistant", "content": "主体建筑面积10640平方米。[1]"},
                        {"role": "user", "content": "它2021年的税收是多少？"},
                    ]
                }
            ]
        },
    )

    messages: list[Message] = Field(
        ...,
        min_length=1,
        max_length=100,
        description="The turns, oldest first; at least one from the user, and the last user message is answered.",
        json_schema_extra={"contains": {"type": "object", "properties": {"role": {"const": "user"}}}},
    )
    top_k: TopK = 5
    filters: Filters | None = None


class HitContext(BaseModel):
    """The sentences around a cited one, and its paragraph's span of the original text."""

    previous: str
    next: str
    paragraph_start: int
    paragraph_end: int


class HitScores(BaseModel):
    """The evidence behind a hit's score."""

    dense: float = Field(..., description="Cosine of the question with the sentence (mean of alone and in context).")
    lexical: float = Field(..., description="BM25 score of the sentence.")


class HitModel(BaseModel):
    """A ranked sentence and its citation: ``original[start:end] == text`` of document ``source``."""

    model_config = ConfigDict(use_attribute_docstrings=True)  # the library's dataclasses document their fields

    rank: int
    score: float
    source: str = Field(..., description="Document id.")
    start: int = Field(..., description="Offset of the sentence in the document's original text.")
    end: int
    text: str = Field(..., description="The sentence, exactly as it stands in the original.")
    title: str
    line: int = Field(..., description="1-based line of the sentence's start.")
    paragraph: int
    heading: list[str]
    page: int | None = Field(
        None, description="1-based page of the sentence's start (PDF; DOCX where the file records pages), else null."
    )
    date: str | None = None
    publisher: str | None = None
    author: str | None = None
    context: HitContext
    scores: HitScores
    citation: Citations
    also_at: list[Location] = Field(default_factory=list, description="Other places with the same sentence.")


class MetadataHitModel(BaseModel):
    """A fact from a document's metadata that its text does not state."""

    kind: Literal["metadata"] = "metadata"
    field: Literal["date", "publisher", "author"]
    value: str
    source: str = Field(..., description="Document id.")
    title: str


class AskResponse(BaseModel):
    """Hits, an extractive answer citing them as [1], [2], and whether any source fits."""

    question: str
    answer: str = Field(..., description="The best sentence(s) with [n] citing hit n; empty when no_answer.")
    no_answer: bool = Field(..., description="True when no sentence is close enough to count as a source.")
    hits: list[HitModel]
    metadata_hits: list[MetadataHitModel] = Field(
        default_factory=list, description="Asked document metadata that the text states nowhere (cited to it)."
    )


class ChatResponse(AskResponse):
    """An answer to the last user message, with the stand-alone query used to retrieve it."""

    query: str = Field(..., description="What was searched: the question, completed from earlier turns if needed.")
    follow_up: bool = Field(..., description="Whether the question was read as a follow-up of earlier turns.")


class Health(BaseModel):
    """The process is alive."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Whether the index is loaded, and what it holds."""

    status: Literal["ready", "loading"]
    model: str | None = None
    dim: int | None = None
    documents: int = 0
    sentences: int = 0


class ErrorBody(BaseModel):
    """What went wrong: a stable code for programs and a message for people."""

    code: str = Field(..., examples=["not_found"])
    message: str = Field(..., examples=["no document 'x.txt' in the index"])


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorBody


class CiteRequest(BaseModel):
    """A claim or quote from a draft."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"claim": "到2027年，渝中区全区算力规模达到2100PFLOPS。"}]}
    )

    claim: Query = Field(..., description="The claim, in Chinese or English.")
    top_k: int = Field(
        3,
        ge=1,
        description="At most this many sources (at most the server's QA_MAX_TOP_K).",
        json_schema_extra=TOP_K_LIMIT,
    )


class SourceModel(HitModel):
    """A source sentence of the claim, with its verdict."""

    verdict: Verdict = Field(
        ...,
        description="verbatim: the claim stands in the text as written; near-verbatim: it does but for punctuation, "
        "whitespace, width, traditional/simplified forms or case; paraphrase: same facts in other words; "
        "mismatch: a figure, date or name differs.",
    )
    match: Span | None = Field(
        ..., description="The part of the document the claim renders (offsets into the original text)."
    )
    differences: list[Difference]


class CiteResponse(BaseModel):
    """A claim's sources, the most faithful first."""

    claim: str
    verdict: ClaimVerdict = Field(
        ..., description="The first source's verdict, or unsupported when no sentence is a source of the claim."
    )
    supported: bool = Field(..., description="Whether some source says what the claim says.")
    sources: list[SourceModel]
