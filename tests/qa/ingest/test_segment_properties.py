"""Properties of sentence chunks over generated mixed Chinese/English text, plain and HTML-wrapped."""

from __future__ import annotations

import html
import io
import re
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.ingest import HARD_CAP, decode_bytes, parse_document, segment
from qa.types import Chunk, Document

CHARS = (
    "中文数字经济发展高质量产业园区的一是"  # CJK
    "abcxyzABCXYZ0123456789"
    "   \t\u3000\u00a0\u2003"  # spaces, ideographic space, no-break space, em space
    "\n\n\r"
    "。！？!?；;.,，、…—”“‘’（）()「」:：%$'\"/"
)
TOKENS = (
    "\r\n",
    "\n\n",
    "...",
    "……",
    "——",
    "2.5亿元",
    "3.0版本",
    "v1.2.3",
    "1.",
    "（一）",
    "Mr. ",
    "e.g. ",
    "U.S. ",
    "Dr. Lee. ",
    "https://example.com/a.html?x=1",
    "www.gov.cn. ",
    "admin@example.com",
    "。”",
    "！」",
    "? ",
    ". The",
)
PIECES = st.one_of(st.sampled_from(CHARS), st.sampled_from(TOKENS))
TEXTS = st.one_of(
    st.lists(PIECES, max_size=120).map("".join),
    # long runs, to reach the length caps
    st.text(alphabet="数字经济ab1 ，,。", min_size=300, max_size=1200),
    st.text(alphabet="数字经济abc123", min_size=300, max_size=1200),
)
ENTITIES = ("&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&nbsp;", "&#x4E2D;", "&#25991;", "&hellip;", "&mdash;")
INLINE_TAGS = ("<b>", "</b>", '<span class="x">', "</span>", '<a href="https://a.cn/?q=1&amp;r=2">', "</a>")
HTML_PIECES = st.one_of(PIECES, st.sampled_from(ENTITIES), st.sampled_from(INLINE_TAGS))
HTML_BODIES = st.lists(HTML_PIECES, max_size=120).map("".join)


def text_mode(data: bytes) -> str:
    """What ``open(path, encoding="utf-8").read()`` returns for these bytes."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8").read()


def word_chars(text: str) -> str:
    return "".join(c for c in text if c.isalnum())


def check_common(doc: Document, chunks: list[Chunk]) -> None:
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert 0 <= chunk.start < chunk.end <= len(doc.original)
        assert doc.original[chunk.start : chunk.end] == chunk.cited
        assert chunk.text == chunk.text.strip() and chunk.text
        assert any(c.isalnum() for c in chunk.text), f"chunk without a word character: {chunk.text!r}"
        assert len(chunk.text) <= HARD_CAP
        assert chunk.line == doc.original.count("\n", 0, chunk.start) + 1
    for before, after in pairwise(chunks):
        assert before.end <= after.start, "chunks overlap or are out of order"
    # No word character of the clean text is lost or repeated.
    assert word_chars("".join(c.text for c in chunks)) == word_chars(doc.clean)


@settings(max_examples=250, deadline=None)
@given(body=TEXTS, bom=st.booleans())
def test_plain_text_chunks(body: str, bom: bool) -> None:
    data = (("\ufeff" if bom else "") + body).encode("utf-8")
    original = decode_bytes(data, "gen.txt")
    assert original == text_mode(data)
    doc = parse_document("gen.txt", original, "text")
    chunks = segment(doc)
    check_common(doc, chunks)
    covered = [0] * len(original)
    for chunk in chunks:
        assert chunk.cited.strip() == chunk.text
        assert len(chunk.cited) <= HARD_CAP
        assert chunk.cited[0] != "\ufeff"
        for i in range(chunk.start, chunk.end):
            covered[i] += 1
    for i, ch in enumerate(original):
        if ch.isalnum():
            assert covered[i] == 1, f"{ch!r} at {i} is in {covered[i]} chunks"


def tags_out(cited: str) -> str:
    """The cited HTML span as text: tags removed, entities decoded, whitespace folded."""
    text = html.unescape(re.sub(r"<[^>]*>", "", cited))
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


def fold(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


@settings(max_examples=200, deadline=None)
@given(body=HTML_BODIES, second=HTML_BODIES)
def test_html_wrapped_chunks_map_back(body: str, second: str) -> None:
    original = decode_bytes(f"<p>{body}</p>\n<p>{second}</p>\n".encode(), "gen.html")
    doc = parse_document("gen.html", original, "auto")
    chunks = segment(doc)
    check_common(doc, chunks)
    for chunk in chunks:
        assert tags_out(chunk.cited) == fold(chunk.text)
        assert set(re.findall(r"</?(\w+)", chunk.cited)) <= {"b", "span", "a"}, "a block tag inside a sentence"
