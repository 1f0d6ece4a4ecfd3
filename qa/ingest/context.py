"""What is embedded for each sentence besides the sentence itself: its context.

A sentence whose subject sits in the previous sentence (``该园区……入驻率达50%``) or in the
document's title must still match a question that names that subject, so the dense leg
embeds every sentence twice: alone, and together with its document title, its heading and
the previous sentence of the same paragraph. The alone vector tells neighbouring sentences
apart; the context vector finds the right neighbourhood. The citation stays the sentence.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.types import Chunk, DocumentMeta

CONTEXT_VERSION = "1"
_PREVIOUS_MAX = 120


def context_texts(chunks: Sequence[Chunk], meta: DocumentMeta) -> list[str]:
    """The context text to embed for each chunk of a document (chunks in document order)."""
    texts = []
    for i, chunk in enumerate(chunks):
        parts = [meta.title] if meta.title else []
        parts.extend(h for h in chunk.heading[-1:] if h != meta.title)
        prefix = "；".join(parts)
        previous = chunks[i - 1].text[-_PREVIOUS_MAX:] if i and chunks[i - 1].paragraph == chunk.paragraph else ""
        body = f"{previous} {chunk.text}".strip() if previous else chunk.text
        texts.append(f"{prefix}\n{body}" if prefix else body)
    return texts
