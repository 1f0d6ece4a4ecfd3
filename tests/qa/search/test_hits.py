"""Hits: the context of a cited sentence (previous, next, its paragraph's span) on every store."""

from __future__ import annotations

from pathlib import Path

import pytest

from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.search import Scored, build_hits

#: one long paragraph (far longer than the window read around a hit), a short one, then a last line
LONG = "".join(f"第{i}句讲园区的第{i}件事。" for i in range(60))
TEXT = f"{LONG}\n\n短段第一句。短段第二句。\n\n最后一句。\n"


@pytest.mark.parametrize("backend", ["memory", "segments"])
def test_a_hit_knows_its_neighbours_and_its_whole_paragraph(tmp_path: Path, backend: str) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "long.txt").write_text(TEXT, encoding="utf-8")
    index, _ = build_index([tmp_path / "docs"], tmp_path / "index", FakeEncoder(), None, backend=backend)  # type: ignore[arg-type]
    chunks = index.document_chunks("long.txt")
    paragraphs = {c.paragraph for c in chunks}
    assert len(chunks) == 63 and len(paragraphs) == 3
    ids = index.document("long.txt").chunk_ids
    for at in (0, 1, 30, 59, 60, 61, 62):
        chunk = chunks[at]
        hit = build_hits(index, [Scored(ids[at], 1.0, 0.5, 0.5)], 1)[0]
        same = [c for c in chunks if c.paragraph == chunk.paragraph]
        assert hit.chunk == chunk
        assert hit.previous_sentence == (chunks[at - 1].cited if at else "")
        assert hit.next_sentence == (chunks[at + 1].cited if at + 1 < len(chunks) else "")
        assert (hit.paragraph_start, hit.paragraph_end) == (same[0].start, same[-1].end)
        assert TEXT[hit.paragraph_start : hit.paragraph_end].startswith(same[0].text)
