"""A segmented index directory: immutable segments shared by generations, one ``CURRENT`` pointer.

::

    DIR/CURRENT                        the live generation's name, replaced with one os.replace
    DIR/gen-000007/manifest.json       format 5: model, versions, the segments in order and what
                                       each lost since it was written, checksums of the files below
    DIR/gen-000007/seg-000003.deleted.npy   deleted rows of a segment (one small file per segment)
    DIR/segments/seg-000003/           one segment (qa.index.segment), never changed once written
    DIR/.lock                          held by the one writer (qa.index.layout.writing)

A write adds at most one small segment and a new generation (a manifest and the deleted-row
lists), never copies a segment: its cost is bounded by the documents it changes. It is
committed by pointing ``CURRENT`` at the new generation after every file is flushed, so the
directory holds the old index or the new one, whole, at every instant; readers that opened the
old generation keep reading it (its files stay open even once removed).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.atomic import fsync_tree
from qa.errors import IndexMismatchError, NotFoundError
from qa.index.context_view import check_context_view
from qa.index.layout import commit as point_current_at
from qa.index.layout import rebuild_hint, remove_stale_pointers
from qa.index.postings import load_array
from qa.index.segment import INFO, Segment, file_sha256
from qa.index.segmented import LiveSegment, SegmentedIndex

FORMAT_VERSION = 5
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
SEGMENTS = "segments"
_GENERATION = re.compile(r"gen-(\d{6,})")
_SEGMENT = re.compile(r"seg-(\d{6,})")
_OPEN_TRIES = 20


def is_segmented(directory: Path) -> bool:
    """Whether ``directory`` holds a committed segmented index (format 3 indexes have no segments folder)."""
    return (directory / CURRENT).is_file() and (directory / SEGMENTS).is_dir()


#: flush every file of the segments a generation names before committing it (tests of the logic alone turn it off)
DURABLE = True


def next_name(directory: Path, pattern: re.Pattern[str], prefix: str) -> str:
    """The next free ``prefix-NNNNNN`` name among the entries of ``directory``."""
    numbers = (
        [int(m.group(1)) for p in directory.iterdir() if (m := pattern.fullmatch(p.name))] if directory.is_dir() else []
    )
    return f"{prefix}-{max(numbers, default=0) + 1:06d}"


def new_segment_folder(directory: Path) -> Path:
    """The folder for the next segment (not created)."""
    folder = directory / SEGMENTS
    folder.mkdir(parents=True, exist_ok=True)
    return folder / next_name(folder, _SEGMENT, "seg")


def commit(directory: Path, header: dict[str, Any], parts: list[tuple[str, np.ndarray, frozenset[str]]]) -> str:
    """Write a generation naming ``parts`` (segment name, deleted rows, deleted documents) and make it current.

    Call with the writer lock held. Returns the generation's name.
    """
    name = next_name(directory, _GENERATION, "gen")
    folder = directory / name
    folder.mkdir()
    segments, files = [], {}
    for seg, rows, docs in parts:
        entry: dict[str, Any] = {"name": seg, "deleted_docs": sorted(docs), "deleted_rows": None}
        entry["info_sha256"] = file_sha256(directory / SEGMENTS / seg / INFO)
        if len(rows):
            entry["deleted_rows"] = f"{seg}.deleted.npy"
            np.save(folder / entry["deleted_rows"], np.unique(rows.astype(np.int64)))
            files[entry["deleted_rows"]] = file_sha256(folder / entry["deleted_rows"])
        segments.append(entry)
    manifest = {**header, "format_version": FORMAT_VERSION, "segments": segments, "files": files}
    manifest["saved_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    if DURABLE:
        for seg, _, _ in parts:
            fsync_tree(directory / SEGMENTS / seg)
    point_current_at(directory, folder)
    return name


def remove_unused(directory: Path) -> None:
    """Remove generations other than the current one, segments it does not name and temporary pointers left
    by a crashed commit (writer lock held: RuntimeError without it)."""
    current = read_manifest(directory)
    remove_stale_pointers(directory)
    keep = {s["name"] for s in current["segments"]}
    for path in directory.iterdir():
        if _GENERATION.fullmatch(path.name) and path.name != current["generation"]:
            shutil.rmtree(path, ignore_errors=True)
    segments = directory / SEGMENTS
    for path in segments.iterdir() if segments.is_dir() else []:
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of the current generation (with its name as ``generation``); refuses other formats.

    A generation removed by a commit between reading ``CURRENT`` and its manifest is followed to
    the one that replaced it; a ``CURRENT`` that keeps naming a missing generation is damage.
    """
    for _ in range(_OPEN_TRIES):
        name = _current_name(directory)
        try:
            return _manifest_named(directory, name)
        except IndexMismatchError:
            if _current_name(directory) == name:
                raise
    raise IndexMismatchError(f"{directory}: the index changed {_OPEN_TRIES} times while it was being opened")


def _current_name(directory: Path) -> str:
    try:
        return (directory / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        if (directory / MANIFEST).is_file():
            raise IndexMismatchError(
                f"{directory}: an index in an older format (not {FORMAT_VERSION}); {rebuild_hint(directory)}"
            ) from None
        raise NotFoundError(f"{directory}: no index here (build one with: qa index PATH --index {directory})") from None


def _manifest_named(directory: Path, name: str) -> dict[str, Any]:
    if not _GENERATION.fullmatch(name) or not (directory / name / MANIFEST).is_file():
        raise IndexMismatchError(
            f"{directory}: damaged index: {CURRENT} names {name[:40]!r}; {rebuild_hint(directory)}"
        )
    try:
        manifest = json.loads((directory / name / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexMismatchError(
            f"{directory}: damaged index: {name}/{MANIFEST} ({exc}); {rebuild_hint(directory)}"
        ) from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{directory}: index format {manifest.get('format_version')} is not {FORMAT_VERSION}; "
            f"{rebuild_hint(directory)}"
        )
    return {**manifest, "generation": name}


def open_segmented(directory: Path, *, model_id: str | None = None, nprobe: int | None = None) -> SegmentedIndex:
    """Open the current generation for reading; refuses another model, context view, format or damaged files.

    A generation replaced (and removed) by another process while it was being opened is
    followed to the one that replaced it.
    """
    for _ in range(_OPEN_TRIES):
        manifest = read_manifest(directory)
        if model_id is not None and manifest.get("model_id") != model_id:
            raise IndexMismatchError(
                f"{directory}: index was built with model {manifest.get('model_id')!r}, not {model_id!r}; "
                f"use that model or {rebuild_hint(directory)}"
            )
        check_context_view(manifest, directory)
        try:
            parts = _open_parts(directory, manifest, nprobe)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            if read_manifest(directory)["generation"] != manifest["generation"]:
                continue
            raise IndexMismatchError(f"{directory}: damaged index ({exc}); {rebuild_hint(directory)}") from None
        return SegmentedIndex(manifest["model_id"], int(manifest["dim"]), parts, manifest, directory, nprobe)
    raise IndexMismatchError(f"{directory}: the index changed {_OPEN_TRIES} times while it was being opened")


def _open_parts(directory: Path, manifest: dict[str, Any], nprobe: int | None) -> list[LiveSegment]:
    generation = directory / manifest["generation"]
    parts, base = [], 0
    for entry in manifest["segments"]:
        folder = directory / SEGMENTS / entry["name"]
        if file_sha256(folder / INFO) != entry["info_sha256"]:
            raise ValueError(f"{entry['name']}/{INFO} does not match its checksum")
        rows = np.empty(0, np.int64)
        if entry["deleted_rows"]:
            path = generation / entry["deleted_rows"]
            if file_sha256(path) != manifest["files"][entry["deleted_rows"]]:
                raise ValueError(f"{path.name} does not match its checksum")
            rows = load_array(path)
        segment = Segment(folder, nprobe=nprobe)
        parts.append(LiveSegment(segment, base, rows, frozenset(entry["deleted_docs"])))
        base += segment.rows
    return parts


def check_segmented(directory: Path) -> SegmentedIndex:
    """Open the current generation and check every file of its segments against its checksum (``qa check``)."""
    index = open_segmented(directory)
    for part in index.parts:
        try:
            part.segment.verify()
        except (OSError, ValueError) as exc:
            raise IndexMismatchError(f"{directory}: damaged index ({exc}); {rebuild_hint(directory)}") from None
    return index
