"""Request and response models of the HTTP API: JSON mirrors of the library's dataclasses."""

from __future__ import annotations

import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

QUESTION_EXAMPLE = "U创空间2017年的产值是多少？"


class Filters(BaseModel):
    """Keep only hits from some documents or from documents dated within a range (inclusive)."""

    model_config = ConfigDict(extra="forbid")

    source: str | list[str] | None = Field(
        None, description="A document id, or a list of them.", examples=[["001_78f4f1f7e179c4c7.txt"]]
    )
    date_from: datetime.date | None = Field(
        None, description="Earliest document date (ISO); undated documents are left out.", examples=["2017-01-01"]
    )
    date_to: datetime.date | None = Field(
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

    question: str = Field(..., min_length=1, description="The question, in Chinese or English.")
    top_k: int = Field(5, ge=1, description="How many hits (at most the server's QA_MAX_TOP_K).")
    filters: Filters | None = None


class Message(BaseModel):
    """One turn of a conversation."""

    role: Literal["user", "assistant", "system"]
    content: str


class ChatRequest(BaseModel):
    """A whole conversation (the server keeps no state): the last message, from the user, is answered."""

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

    messages: list[Message] = Field(..., min_length=1, max_length=100)
    top_k: int = Field(5, ge=1, description="How many hits (at most the server's QA_MAX_TOP_K).")
    filters: Filters | None = None


class HitContext(BaseModel):
    """The sentences around a cited one, and its paragraph's span of the original text."""

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
    page: int | None = None


class HitScores(BaseModel):
    """The evidence behind a hit's score."""

    dense: float = Field(..., description="Cosine of the question with the sentence (mean of alone and in context).")
    lexical: float = Field(..., description="BM25 score of the sentence.")


class Citations(BaseModel):
    """A reference to the document in each citation style, from its metadata (missing fields left out)."""

    gbt7714: str = Field(
        ...,
        description="GB/T 7714-2015: 主要责任者. 题名[类型]. 出版者, 出版日期: 页码[引用日期]. URL. (页码: a hit's)",
        examples=["西湖区加快培育数字经济生态圈[N]. 江西日报, 2022-03-17."],
    )
    apa: str = Field(
        ...,
        description="APA 7: Author. (Year, Month Day). Title. Publisher. URL",
        examples=["西湖区加快培育数字经济生态圈. (2022, March 17). 江西日报."],
    )
    plain: str = Field(
        ...,
        description="source:line for a hit (then `, p. N` where it has a page), the document id for a document.",
        examples=["001_78f4f1f7e179c4c7.txt:20"],
    )


class HitModel(BaseModel):
    """A ranked sentence and its citation: ``original[start:end] == text`` of document ``source``."""

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
    context: HitContext
    scores: HitScores
    citation: Citations
    also_at: list[Location] = Field(default_factory=list, description="Other places with the same sentence.")


class AskResponse(BaseModel):
    """Hits, an extractive answer citing them as [1], [2], and whether any source fits."""

    question: str
    answer: str = Field(..., description="The best sentence(s) with [n] citing hit n; empty when no_answer.")
    no_answer: bool = Field(..., description="True when no sentence is close enough to count as a source.")
    hits: list[HitModel]


class ChatResponse(AskResponse):
    """An answer to the last user message, with the stand-alone query used to retrieve it."""

    query: str = Field(..., description="What was searched: the question, completed from earlier turns if needed.")
    follow_up: bool = Field(..., description="Whether the question was read as a follow-up of earlier turns.")


class DocumentSummary(BaseModel):
    """A document of the index."""

    id: str
    title: str
    date: str | None = None
    publisher: str | None = None
    author: str | None = None
    url: str | None = None
    sentences: int = Field(..., description="How many sentences (citable chunks) it has.")


class DocumentList(BaseModel):
    """A page of the documents, sorted by id."""

    total: int
    offset: int
    documents: list[DocumentSummary]


class DocumentDetail(DocumentSummary):
    """A document with its original text (the text every offset refers to)."""

    checksum: str = Field(..., description="sha256 of the original text (of the file, for a PDF or DOCX).")
    extra: dict[str, str] = Field(
        default_factory=dict, description="Other metadata fields (type: the GB/T 7714 document type code)."
    )
    length: int = Field(..., description="Length of the original text in characters.")
    citation: Citations = Field(..., description="The whole document cited in each style.")
    text: str = Field(..., description="The original text; for a PDF or DOCX, the text extracted from the file.")
    pages: list[int] = Field(
        default_factory=list, description="Offset in text where each page starts (page n at pages[n-1]); empty if none."
    )
    file: str | None = Field(
        None, description="Path of the original file kept by the index (PDF, DOCX), e.g. to open it at a page."
    )


class Sentence(BaseModel):
    """A sentence of a document with its place in the original text."""

    index: int
    start: int
    end: int
    line: int
    text: str
    in_span: bool = Field(..., description="Whether it overlaps the requested span.")


class DocumentSpan(DocumentSummary):
    """A span of a document, and the sentences overlapping it plus one on each side."""

    start: int
    end: int
    text: str = Field(..., description="original[start:end].")
    context_start: int
    context_end: int
    context: str = Field(..., description="original[context_start:context_end]: the span within whole sentences.")
    around: list[Sentence]


class DocumentIn(BaseModel):
    """A document's text and the metadata given with it (front matter in the text adds to it)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(..., min_length=1, description="Original text (plain, Markdown or HTML).")
    kind: Literal["auto", "text", "markdown", "html"] = Field("auto", description="How to read the text.")
    title: str | None = Field(None, description="Title (default: found in the text).")
    date: str | None = Field(None, description="Date (any form with year, month and day).", examples=["2021-06-30"])
    publisher: str | None = None
    author: str | None = None
    url: str | None = None
    extra: dict[str, str] = Field(default_factory=dict, description="Other metadata fields.")

    def fields(self) -> dict[str, str]:
        """The metadata fields as the reader takes them."""
        given = {
            "title": self.title,
            "date": self.date,
            "publisher": self.publisher,
            "author": self.author,
            "url": self.url,
        }
        return {**self.extra, **{k: v for k, v in given.items() if v}}


class DocumentCreate(DocumentIn):
    """A new document: its id (any string; it names no file) and its text."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"id": "notes/park.txt", "text": "梦想小街产业园\n园区2021年税收约2200万元。"}]
        },
    )

    id: str = Field(..., min_length=1, max_length=512, pattern=r"^[^\x00-\x1f\x7f]+$", description="Document id.")


class WriteResult(BaseModel):
    """What a write did."""

    id: str
    status: Literal["created", "replaced", "unchanged", "deleted"]
    sentences: int = Field(..., description="Sentences of the document now (0 once deleted).")
    documents: int = Field(..., description="Documents in the index now.")


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

    claim: str = Field(..., min_length=1, description="The claim, in Chinese or English.")
    top_k: int = Field(3, ge=1, description="At most this many sources (at most the server's QA_MAX_TOP_K).")


class TextSpan(BaseModel):
    """``text == whole[start:end]``."""

    start: int
    end: int
    text: str


class Difference(BaseModel):
    """A figure, date or name that the claim and the source state differently."""

    kind: Literal["number", "date", "name"]
    claim: TextSpan = Field(..., description="The claim's words: offsets into the claim.")
    source: TextSpan | None = Field(
        ..., description="The source's words: offsets into the document's original text; null when it does not say."
    )


class SourceModel(HitModel):
    """A source sentence of the claim, with its verdict."""

    verdict: Literal["verbatim", "near-verbatim", "paraphrase", "mismatch"] = Field(
        ...,
        description="verbatim: the claim stands in the text as written; near-verbatim: it does but for punctuation, "
        "whitespace, width, traditional/simplified forms or case; paraphrase: same facts in other words; "
        "mismatch: a figure, date or name differs.",
    )
    match: TextSpan | None = Field(
        ..., description="The part of the document the claim renders (offsets into the original text)."
    )
    differences: list[Difference]


class CiteResponse(BaseModel):
    """A claim's sources, the most faithful first."""

    claim: str
    verdict: Literal["verbatim", "near-verbatim", "paraphrase", "mismatch", "unsupported"] = Field(
        ..., description="The first source's verdict, or unsupported when no sentence is a source of the claim."
    )
    supported: bool = Field(..., description="Whether some source says what the claim says.")
    sources: list[SourceModel]
