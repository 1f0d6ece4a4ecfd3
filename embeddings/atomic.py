"""Durable, atomic file writes: the one helper every layer uses.

A file is written to a temporary sibling, flushed to disk, and renamed over its target with
one ``os.replace``, then the directory entry is flushed too: a reader sees the old file or the
new one, whole, and after a crash the new one survives once the call returned. It lives in the
lowest layer that writes files (vector indexes, the model cache); ``qa`` imports it from here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_text", "fsync_directory", "fsync_file", "fsync_tree"]


def fsync_file(path: Path) -> None:
    """Flush a written file's data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_directory(path: Path) -> None:
    """Flush a directory's entries (new, renamed or removed names) to disk; a no-op where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - platforms that cannot open a directory
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - file systems without directory fsync
        pass
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Flush every file and directory under ``root`` (and ``root`` itself), deepest first."""
    for folder, _, files in os.walk(root, topdown=False):
        for name in files:
            fsync_file(Path(folder) / name)
        fsync_directory(Path(folder))


def _temporary_sibling(path: Path) -> Path:
    """A name beside ``path`` that no other process or thread uses (``.NAME.PID.THREAD.tmp``)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Create or replace ``path`` atomically and durably; ``write`` fills the temporary file it is given.

    The temporary file is created by ``write`` (so under the umask) in the same directory, which
    must exist. On any error it is removed and ``path`` is left as it was.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"not a directory: {path.parent}")
    tmp = _temporary_sibling(path)
    try:
        write(tmp)
        fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    """Create or replace a UTF-8 text file atomically and durably."""
    atomic_write(path, lambda tmp: _write_text(tmp, text))


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
