"""Which store an index directory uses, and opening it by its own format.

``QA_INDEX_BACKEND=auto`` (the default) lets the index decide: an existing index is read,
updated and rebuilt in the format it was written in, and a new one is a memory store below
:data:`SEGMENTS_FROM_BYTES` of input and a segmented store from there on. The size is that of
the input files as found on disk (a corpus JSONL, or the files under a folder), taken before
anything is read: about 100 bytes a sentence for Chinese text in UTF-8.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from qa.index.generations import is_segmented, open_segmented
from qa.index.layout import CURRENT, MANIFEST
from qa.index.reader import IndexReader
from qa.index.store import load_index

Store = Literal["memory", "segments"]
#: input size from which ``auto`` builds a segmented store (about 2,500 sentences; see README, Scale)
SEGMENTS_FROM_BYTES = 256 * 1024
#: settings that let the index decide its store (``local``: a local store, as opposed to ``milvus``)
DECIDING = ("auto", "local")


def store_of(directory: Path) -> Store | None:
    """The store of the index committed at ``directory``, or None when it holds none."""
    if is_segmented(directory):
        return "segments"
    return "memory" if (directory / CURRENT).is_file() or (directory / MANIFEST).is_file() else None


def input_bytes(paths: Sequence[Path], limit: int = SEGMENTS_FROM_BYTES) -> int:
    """The bytes of the files under ``paths`` (counting stops once ``limit`` is reached)."""
    total = 0
    for path in paths:
        if path.is_file():
            total += path.stat().st_size
        for root, _, files in os.walk(path) if path.is_dir() else ():
            for name in files:
                total += (Path(root) / name).stat().st_size
                if total >= limit:
                    return total
        if total >= limit:
            return total
    return total


def choose_store(setting: str, directory: Path, paths: Sequence[Path]) -> Store:
    """The store a build writes: the setting when it names one; for ``auto`` the existing index's own,
    else (a new index) by the size of ``paths``."""
    if setting not in DECIDING:
        return setting  # type: ignore[return-value]  # a store named by the setting
    existing = store_of(directory)
    if existing is not None:
        return existing
    return "segments" if input_bytes(paths) >= SEGMENTS_FROM_BYTES else "memory"


def open_index(
    directory: Path, *, setting: str = "auto", model_id: str | None = None, nprobe: int | None = None
) -> IndexReader:
    """The index at ``directory`` opened for queries: as the setting names, or (``auto``) by its own format."""
    store = setting if setting not in DECIDING else store_of(directory) or "memory"
    if store == "segments":
        return open_segmented(directory, model_id=model_id, nprobe=nprobe)
    return load_index(directory, model_id=model_id)
