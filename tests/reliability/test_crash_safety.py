"""A save killed at any filesystem step leaves the old index or the new one at the path, whole.

Every filesystem call a save makes (open, mkdir, fsync, rename, unlink, rmtree, faiss writes)
is a numbered step. For each step in turn, the save is "killed" there: that call fails, before
or after doing its work, and so does every call after it, as if the process had died (no
cleanup handler gets to run either). The index at the path must then load, verify deeply,
and be exactly the old index or exactly the new one; the next writer must clean up what the
dead one left and commit normally.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import faiss
import pytest

from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.errors import NotFoundError
from qa.index import load_index, open_for_update, save_index, update_index
from qa.ingest import iter_documents

OLD = {"a.txt": "第一份文件。园区有企业120家。\n", "b.txt": "第二份文件。它在渝中区。\n"}
NEW = {"a.txt": "第一份文件。园区有企业150家。\n", "c.txt": "第三份文件。新的内容在这里。\n"}
STEPS: list[tuple[Any, str]] = [
    (builtins, "open"),
    (io, "open"),
    (os, "open"),
    (os, "mkdir"),
    (os, "fsync"),
    (os, "replace"),
    (os, "rename"),
    (os, "unlink"),
    (os, "rmdir"),
    (shutil, "rmtree"),
    (faiss, "write_index"),
]


class Killed(BaseException):
    """The process died here (a BaseException, so no ``except Exception`` handler catches it)."""


class Killer:
    """Counts filesystem steps; the ``at``-th one dies (``after`` its work or before it), then every later one."""

    def __init__(self, at: int, *, after: bool) -> None:
        self.at, self.after, self.steps, self.dead = at, after, 0, False

    def wrap(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def step(*args: Any, **kwargs: Any) -> Any:
            if self.dead:
                raise Killed
            self.steps += 1
            if self.steps == self.at and not self.after:
                self.dead = True
                raise Killed
            result = real(*args, **kwargs)
            if self.steps == self.at:
                self.dead = True
                raise Killed
            return result

        return step


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def contents(directory: Path) -> dict[str, str] | None:
    """The documents of the index at ``directory`` (verified deeply), or None when there is no index."""
    try:
        index = load_index(directory, deep=True)
    except NotFoundError:
        return None
    assert len(index.chunks) == len(index.sentence_index) == len(index.context_index)
    return {doc_id: doc.original for doc_id, doc in index.documents.items()}


@pytest.fixture
def work(tmp_path: Path) -> Iterator[Path]:
    """A scratch folder, in memory where the machine has /dev/shm (a hundred saves run here)."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(dir=shm, prefix="chuchu-crash-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def killed_saves(work: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[Path, Path], Iterator[tuple[int, bool]]]:
    """Yields (step, completed) for each step at which a save into ``directory`` is killed in turn."""

    # durability cannot be observed by failing calls; a no-op fsync (still a step) keeps the test fast
    monkeypatch.setattr(os, "fsync", lambda fd: None)

    def run(template: Path | None, directory: Path) -> Iterator[tuple[int, bool]]:
        for after in (False, True):
            at = 0
            while True:
                at += 1
                shutil.rmtree(directory, ignore_errors=True)
                if template is not None:
                    shutil.copytree(template, directory)
                index, _ = open_for_update(directory, FakeEncoder())
                update_index(index, iter_documents([work / "new"]), FakeEncoder(), None)
                killer = Killer(at, after=after)
                with monkeypatch.context() as patch:
                    for module, name in STEPS:
                        patch.setattr(module, name, killer.wrap(getattr(module, name)))
                    with contextlib.suppress(Killed):
                        save_index(index, directory)
                completed = killer.steps < at
                yield at, completed
                if completed:
                    break

    return run  # type: ignore[return-value]


def test_a_save_killed_at_any_step_leaves_the_old_or_the_new_index(work: Path, killed_saves: Any) -> None:
    write_docs(work / "new", NEW)
    template = work / "template"
    build_index([write_docs(work / "old", OLD)], template, FakeEncoder(), None, backend="memory")
    directory = work / "index"
    seen = []
    for at, completed in killed_saves(template, directory):
        found = contents(directory)
        assert found in (OLD, NEW), f"killed at step {at}: the index holds {found}"
        seen.append(found == NEW)
        # the next writer cleans up after the dead one and commits
        build_index([write_docs(work / "next", {"d.txt": "后来的文件。\n"})], directory, FakeEncoder(), None)
        assert contents(directory) == {"d.txt": "后来的文件。\n"}
        assert sorted(p.name for p in directory.iterdir() if not p.name.startswith("gen-")) == [".lock", "CURRENT"]
        assert len([p for p in directory.iterdir() if p.name.startswith("gen-")]) == 1
        if completed:
            assert found == NEW
    assert len(seen) > 40, "the save should take many filesystem steps"
    assert not all(seen) and any(seen)  # killed early: the old index; after the commit: the new one


def test_a_first_build_killed_at_any_step_leaves_no_index_or_the_whole_new_one(work: Path, killed_saves: Any) -> None:
    write_docs(work / "new", NEW)
    directory = work / "index"
    outcomes = set()
    for at, _ in killed_saves(None, directory):
        found = contents(directory)
        assert found in (None, NEW), f"killed at step {at}: the index holds {found}"
        outcomes.add(found is None)
        _, reusable = open_for_update(directory, FakeEncoder())  # leftovers never look like an index
        assert reusable == (found is not None)
    assert outcomes == {True, False}
