"""What each sentence is indexed with besides itself: its context.

A sentence whose subject sits in the previous sentence (``该园区……入驻率达50%``) or in the
document's title must still match a question that names that subject, so each sentence is
indexed with its context too: its document title, its heading and the previous sentence of
the same paragraph. The lexical leg indexes the words of that context text; the dense leg
has a context vector beside the sentence's own (see :mod:`qa.index.context_view`). The
citation stays the sentence.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.types import Chunk, DocumentMeta

CONTEXT_VERSION = "1"
_PREVIOUS_MAX = 120


def context_label(chunk: Chunk, meta: DocumentMeta) -> str:
    """What names a chunk's place: the document title and the chunk's nearest heading ("" when neither)."""
    parts = [meta.title] if meta.title else []
    parts.extend(h for h in chunk.heading[-1:] if h != meta.title)
    return "；".join(parts)


def follows_in_paragraph(chunks: Sequence[Chunk], i: int) -> bool:
    """Whether chunk ``i`` has a previous sentence in the same paragraph."""
    return i > 0 and chunks[i - 1].paragraph == chunks[i].paragraph


def context_texts(chunks: Sequence[Chunk], meta: DocumentMeta) -> list[str]:
    """The context text of each chunk of a document (chunks in document order), as the lexical leg indexes it."""
    texts = []
    for i, chunk in enumerate(chunks):
        prefix = context_label(chunk, meta)
        previous = chunks[i - 1].text[-_PREVIOUS_MAX:] if follows_in_paragraph(chunks, i) else ""
        body = f"{previous} {chunk.text}".strip() if previous else chunk.text
        texts.append(f"{prefix}\n{body}" if prefix else body)
    return texts
