"""The index directory on disk: generations, the ``CURRENT`` pointer that commits one, the writer lock, the manifest.

::

    DIR/CURRENT        the name of the live generation ("gen-000007"), replaced with one os.replace
    DIR/gen-000007/    one whole index (manifest.json, documents.jsonl, ...), never changed once committed
    DIR/.lock          held by the one process that writes DIR

A new generation is written in full and flushed to disk before ``CURRENT`` names it, so DIR
holds the old index or the new one, whole, at every instant. A directory without ``CURRENT``
holds no index. Other ``gen-*`` folders (a write that crashed, the generation replaced by the
last commit) and temporary files are removed by the next writer.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock, Timeout

from embeddings.atomic import atomic_write_text, fsync_directory, fsync_tree
from qa.errors import IndexConflictError, IndexDamagedError, IndexMismatchError, InputError, NotFoundError

CURRENT = "CURRENT"
LOCK_FILE = ".lock"
MANIFEST = "manifest.json"
_GENERATION = re.compile(r"gen-(\d{6,})")
_POINTER_TMP = re.compile(rf"\.{CURRENT}\..*\.tmp")
#: what a format-2 index (its files directly in DIR) is made of; removed once a generation is committed
LEGACY_NAMES = frozenset({MANIFEST, "documents.jsonl", "chunks.jsonl", "sentence_vectors", "context_vectors"})

log = logging.getLogger(__name__)
#: the index directories whose writer lock this thread holds (and how many times, the lock being re-entrant)
_held = threading.local()

DirectoryState = Literal["absent", "empty", "index", "legacy", "foreign"]


def rebuild_hint(directory: Path) -> str:
    """The fix for an index that cannot be used."""
    return f"rebuild it with: qa index PATH --index {directory} --rebuild"


def damaged(directory: Path, what: str) -> IndexDamagedError:
    """The one-line refusal of a damaged index: what is wrong, where, and the fix."""
    return IndexDamagedError(f"{directory}: damaged index: {what}; {rebuild_hint(directory)}")


def read_current(directory: Path) -> str | None:
    """The text of ``CURRENT`` (the committed generation's name, unchecked), or None when there is none."""
    try:
        return (directory / CURRENT).read_text(encoding="utf-8", errors="replace").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise damaged(directory, f"{CURRENT} cannot be read ({exc.strerror or exc})") from None


def generation_dir(directory: Path, current: str) -> Path:
    """The folder of the generation ``CURRENT`` names; IndexDamagedError if it names none."""
    if not _GENERATION.fullmatch(current):
        raise damaged(directory, f"{CURRENT} does not name a generation ({current[:40]!r})")
    path = directory / current
    if not path.is_dir():
        raise damaged(directory, f"{CURRENT} names {current}, which is missing")
    return path


def _is_leftover(name: str) -> bool:
    # "segments" holds a segmented index's segments (qa.index.generations); alone it is a build that crashed
    return name in (LOCK_FILE, "segments") or bool(_GENERATION.fullmatch(name) or _POINTER_TMP.fullmatch(name))


def directory_state(directory: Path) -> DirectoryState:
    """What ``directory`` holds: nothing, a committed index, a format-2 index (or its remains), or other files."""
    if not directory.exists():
        return "absent"
    if not directory.is_dir():
        return "foreign"
    names = {p.name for p in directory.iterdir()}
    if CURRENT in names:
        return "index"
    names = {n for n in names if not _is_leftover(n)}
    if not names:
        return "empty"
    return "legacy" if names <= LEGACY_NAMES else "foreign"


@contextmanager
def writing(directory: Path, *, timeout: float = -1) -> Iterator[None]:
    """Hold the writer lock of ``directory`` (creating it if needed) for the body.

    Waits ``timeout`` seconds at most (-1: as long as it takes), then raises IndexConflictError.
    Re-entrant within a thread; other threads and processes wait. A directory holding anything
    but an index is refused (InputError) and left untouched.
    """
    if directory_state(directory) == "foreign":
        raise InputError(f"{directory}: this directory holds other files, not an index; give a new or empty one")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        lock = FileLock(directory / LOCK_FILE, is_singleton=True, preserve_lock_file=True)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if timeout == 0:
                raise
            log.warning("%s: waiting for another process writing this index", directory)
            lock.acquire(timeout=timeout)
    except Timeout:
        raise IndexConflictError(
            f"{directory}: another process is writing this index; try again when it has finished"
        ) from None
    except OSError as exc:
        raise InputError(f"{directory}: cannot write an index here ({exc.strerror or exc})") from None
    held = _held_here()
    key = directory.resolve()
    held[key] += 1
    try:
        yield
    finally:
        held[key] -= 1
        lock.release()


def _held_here() -> Counter[Path]:
    if not hasattr(_held, "locks"):
        _held.locks = Counter()
    locks: Counter[Path] = _held.locks
    return locks


def holds_lock(directory: Path) -> bool:
    """Whether this thread holds the writer lock of ``directory`` (inside :func:`writing`)."""
    return _held_here()[Path(directory).resolve()] > 0


def remove_stale_pointers(directory: Path) -> None:
    """Remove the temporary ``CURRENT`` files of commits that crashed before renaming theirs.

    Only the writer lock's holder writes one (and renames or removes it before its commit
    returns), so with the lock held every one present is stale; without it, RuntimeError.
    """
    if not holds_lock(directory):
        raise RuntimeError(f"{directory}: temporary pointers are only removed with the writer lock held")
    for path in directory.iterdir():
        if _POINTER_TMP.fullmatch(path.name):
            path.unlink(missing_ok=True)


def new_generation(directory: Path) -> Path:
    """Create the folder of the next generation (numbered after every one present)."""
    numbers = [int(m.group(1)) for p in directory.iterdir() if (m := _GENERATION.fullmatch(p.name))]
    path = directory / f"gen-{max(numbers, default=0) + 1:06d}"
    path.mkdir()
    return path


def commit(directory: Path, generation: Path) -> None:
    """Make a fully written generation the index: flush it to disk, then point ``CURRENT`` at it."""
    fsync_tree(generation)
    fsync_directory(directory)
    atomic_write_text(directory / CURRENT, generation.name + "\n")


def remove_leftovers(directory: Path) -> None:
    """Remove what no reader needs: uncommitted or replaced generations, temporary pointers and,
    once a generation is committed, a format-2 index's files and the segments of a segmented index it
    replaced (the memory store calls this with the writer lock held)."""
    current = read_current(directory)
    remove_stale_pointers(directory)
    for path in directory.iterdir():
        name = path.name
        replaced = current is not None and (name in LEGACY_NAMES or name == "segments")
        if (_GENERATION.fullmatch(name) and name != current) or replaced:
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def manifest_folder(directory: Path) -> Path:
    """The folder holding the manifest of the index at ``directory`` (a generation, or ``directory`` for format 2)."""
    current = read_current(directory)
    if current is not None:
        return generation_dir(directory, current)
    state = directory_state(directory)
    if state == "legacy":
        if not (directory / MANIFEST).is_file():
            raise damaged(directory, f"{MANIFEST} is missing")
        return directory
    if state == "foreign":
        raise IndexMismatchError(f"{directory}: not an index (it holds other files); give the directory of an index")
    raise NotFoundError(f"{directory}: no index here (build one with: qa index PATH --index {directory})")


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of the index at ``directory``; NotFoundError with a hint when there is none."""
    return read_manifest_in(Path(directory), manifest_folder(Path(directory)))


def read_manifest_in(directory: Path, folder: Path) -> dict[str, Any]:
    """The manifest in ``folder`` (a generation of ``directory``); damaged when missing or unreadable."""
    path = folder / MANIFEST
    where = path.relative_to(directory)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise damaged(directory, f"{where} is missing") from None
    except (OSError, ValueError) as exc:
        raise damaged(directory, f"{where} is unreadable ({exc})") from None
    if not isinstance(manifest, dict):
        raise damaged(directory, f"{where} is not a JSON object")
    return manifest


@lru_cache(maxsize=4)
def package_versions(names: tuple[str, ...]) -> dict[str, str]:
    """The installed version of each package of ``names`` (those not installed left out), for manifests."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
