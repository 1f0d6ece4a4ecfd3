"""Request and response models of the document endpoints (``/v1/documents``): listing, reading, writing."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import IsoDate, Text
from qa.search import Citations


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

    model_config = ConfigDict(use_attribute_docstrings=True)

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

    text: Text = Field(..., min_length=1, description="Original text (plain, Markdown or HTML).")
    kind: Literal["auto", "text", "markdown", "html"] = Field("auto", description="How to read the text.")
    title: Text | None = Field(None, description="Title (default: found in the text).")
    date: IsoDate | None = Field(None, description="Date of the document (ISO).", examples=["2021-06-30"])
    publisher: Text | None = None
    author: Text | None = None
    url: Text | None = None
    extra: dict[Text, Text] = Field(default_factory=dict, description="Other metadata fields.")

    def fields(self) -> dict[str, str]:
        """The metadata fields as the reader takes them."""
        given = {
            "title": self.title,
            "date": self.date and self.date.isoformat(),
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

    id: Text = Field(..., min_length=1, max_length=512, pattern=r"^[^\x00-\x1f\x7f]+$", description="Document id.")


class WriteResult(BaseModel):
    """What a write did."""

    id: str
    status: Literal["created", "replaced", "unchanged", "deleted"]
    sentences: int = Field(..., description="Sentences of the document now (0 once deleted).")
    documents: int = Field(..., description="Documents in the index now.")
