"""The original files of binary documents (PDF, DOCX), kept inside the index directory.

Each is stored once per generation as ``originals/<sha256>.<kind>`` (the checksum is of the file
bytes). A save writes the files of new documents from memory and hard-links (or copies) the others
from the generation being replaced, all inside the new generation, which is committed whole: the
files change together with the index, atomically, and an unchanged file is never copied.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import IndexMismatchError, NotFoundError
from qa.index.layout import read_current

if TYPE_CHECKING:  # the store imports this module to save the files
    from qa.index.store import StoredDocument

log = logging.getLogger(__name__)

ORIGINALS_DIR = "originals"
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def _name(doc: StoredDocument) -> str:
    return f"{doc.checksum}.{doc.file_kind}"


def write_originals(target: Path, previous: Path | None, docs: Iterable[StoredDocument]) -> None:
    """Put the file of every binary document under ``target/originals``.

    A document read in this process writes its bytes; one loaded from an index takes its copy
    from ``previous`` (the generation being replaced). A copy that cannot be found there is
    reported and left out: the rest of the index is still saved.
    """
    folder = target / ORIGINALS_DIR
    for doc in docs:
        if doc.file_kind is None:
            continue
        folder.mkdir(exist_ok=True)
        dest = folder / _name(doc)
        if dest.exists():
            continue
        if doc.file_data is not None:
            dest.write_bytes(doc.file_data)
            continue
        source = previous / ORIGINALS_DIR / _name(doc) if previous is not None else None
        if source is None or not source.is_file():
            log.warning("%s: its original file is missing from the index; re-index it to keep it", doc.id)
            continue
        try:
            os.link(source, dest)
        except OSError:
            shutil.copyfile(source, dest)


def read_original(directory: Path | None, doc: StoredDocument) -> bytes:
    """The original file of a binary document: from memory, or its checked copy in the index at ``directory``
    (its current generation)."""
    if doc.file_kind is None:
        raise NotFoundError(f"document {doc.id!r} was not read from a file kept by the index (not a PDF or DOCX)")
    if doc.file_data is not None:
        return doc.file_data
    generation = read_current(directory) if directory is not None else None
    path = directory / generation / ORIGINALS_DIR / _name(doc) if directory is not None and generation else None
    if path is None or not path.is_file():
        raise NotFoundError(f"the index keeps no copy of the original file of {doc.id!r}; re-index it")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != doc.checksum:
        raise IndexMismatchError(f"{path}: the kept copy of {doc.id!r} is damaged (checksum differs); re-index it")
    return data
