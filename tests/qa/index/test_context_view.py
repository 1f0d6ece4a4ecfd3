"""Context vectors: composed from sentence and label vectors, the same in both stores, recorded in the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from embeddings import FakeEncoder
from qa.building import build_index
from qa.errors import IndexMismatchError
from qa.index import load_index
from qa.index.context_view import CONTEXT_VIEW, LABEL_WEIGHT, PREVIOUS_WEIGHT, compose_context
from qa.index.generations import open_segmented
from qa.index.layout import manifest_folder
from qa.ingest import context_label, iter_documents, segment
from qa.types import Chunk
from tests.sample_docs import PARK_TXT, SOLAR_MD, write_docs

DOCS = {"park.txt": PARK_TXT, "solar.md": SOLAR_MD}


def chunk(paragraph: int) -> Chunk:
    return Chunk("d", 0, 0, 1, "x", "x", 1, paragraph)


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_the_context_adds_the_previous_sentence_of_the_paragraph_and_the_label() -> None:
    sentences = np.stack([unit(1, 0, 0, 0), unit(0, 1, 0, 0), unit(0, 0, 1, 0)])
    labels = np.stack([unit(0, 0, 0, 1), unit(0, 0, 0, 1), np.zeros(4, np.float32)])
    out = compose_context([chunk(0), chunk(0), chunk(1)], sentences, labels)
    expected = [
        sentences[0] + LABEL_WEIGHT * labels[0],
        sentences[1] + PREVIOUS_WEIGHT * sentences[0] + LABEL_WEIGHT * labels[1],
        sentences[2],  # a new paragraph and no label: the sentence alone
    ]
    np.testing.assert_allclose(out, [e / np.linalg.norm(e) for e in expected], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)


def test_parts_that_cancel_out_leave_the_sentence_vector() -> None:
    sentences = np.stack([unit(1, 0), unit(-1, 0)])
    labels = np.stack([np.zeros(2, np.float32), unit(1, 0)])  # -1 + 0.5 * 1 + 0.5 * 1 = 0
    out = compose_context([chunk(0), chunk(0)], sentences, labels)
    np.testing.assert_allclose(out[1], sentences[1])


def context_vectors(index: object) -> dict[tuple[str, int], bytes]:
    """Each chunk's context vector by (document, sentence number), whatever ids the store gave."""
    out = {}
    for doc_id in index.documents:  # type: ignore[attr-defined]
        ids = np.array(index.document(doc_id).chunk_ids, dtype=np.int64)  # type: ignore[attr-defined]
        for n, vector in enumerate(index.context_index.vectors(ids)):  # type: ignore[attr-defined]
            out[(doc_id, n)] = vector.tobytes()
    return out


def test_both_stores_compose_the_same_context_vectors(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    encoder = FakeEncoder()
    memory, _ = build_index([docs], tmp_path / "memory", encoder, None)
    segmented, _ = build_index([docs], tmp_path / "segments", encoder, None, backend="segments")
    assert context_vectors(memory) == context_vectors(segmented)
    for doc in iter_documents([docs]):
        chunks = segment(doc)
        labels = np.stack([encoder.encode_documents([context_label(c, doc.meta)])[0] for c in chunks])
        expected = compose_context(chunks, encoder.encode_documents([c.text for c in chunks]), labels)
        ids = np.array(memory.document(doc.id).chunk_ids, dtype=np.int64)
        np.testing.assert_allclose(memory.context_index.vectors(ids), expected, atol=1e-6)


def built_the_old_way(directory: Path) -> None:
    """Rewrite the index's manifest as an index with encoded context texts had it: no ``context_view``."""
    path = manifest_folder(directory) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    assert manifest.pop("context_view") == CONTEXT_VIEW
    path.write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize("backend", ["memory", "segments"])
def test_an_index_of_another_context_view_is_refused_then_rebuilt(tmp_path: Path, backend: str) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    encoder = FakeEncoder()
    build_index([docs], tmp_path / "index", encoder, None, backend=backend)  # type: ignore[arg-type]
    built_the_old_way(tmp_path / "index")
    open_index = load_index if backend == "memory" else open_segmented
    with pytest.raises(IndexMismatchError, match=r"context vectors .*qa index PATH --index"):
        open_index(tmp_path / "index", model_id=encoder.model_id)
    _, summary = build_index([docs], tmp_path / "index", encoder, None, backend=backend)  # type: ignore[arg-type]
    assert summary.unchanged == 0 and summary.sentences > 0  # every document indexed again
    assert open_index(tmp_path / "index", model_id=encoder.model_id).documents.keys() == DOCS.keys()
