"""A damaged index is refused with one line naming the file and the fix; it is never served or rebuilt.

Each damage is tried twice: as found on disk (the file no longer matches the checksum the
manifest recorded), and with the manifest's checksums rewritten to match, so the checks of
structure (counts and ids across files) and, for ``qa check``, of content must catch it alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.errors import IndexDamagedError
from qa.index import MANIFEST, load_index, read_current
from qa.index.generation import file_digest
from qa.settings import Settings

DOCS = {
    "park.txt": "上清寺互联网产业园\n园区位于重庆市渝中区。该园区2018年新增企业300家。\n",
    "street.txt": "梦想小街产业园\n主体建筑面积约3万平方米。2021年，园区税收约2200万元。园区有企业80家。\n",
}
FAISS_FILE = "sentence_vectors/vectors.faiss"


def live(directory: Path) -> Path:
    current = read_current(directory)
    assert current is not None
    return directory / current


def drop_chunk_lines(folder: Path) -> str:
    path = folder / "chunks.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:2] + lines[4:]), encoding="utf-8")
    return "chunks.jsonl"


def empty_chunks(folder: Path) -> str:
    (folder / "chunks.jsonl").write_text("", encoding="utf-8")
    return "chunks.jsonl"


def remove_vector_ids(folder: Path) -> str:
    index = faiss.read_index(str(folder / FAISS_FILE))
    index.remove_ids(np.array([0, 1], dtype=np.int64))
    faiss.write_index(index, str(folder / FAISS_FILE))
    return "sentence_vectors"


def cut_text_short(folder: Path) -> str:
    path = folder / "documents.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows[0]["text"] = rows[0]["text"][:12]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return "documents.jsonl"


def garble_faiss(folder: Path) -> str:
    path = folder / FAISS_FILE
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle - 2048 : middle + 2048] = np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return "sentence_vectors"


def delete_manifest(folder: Path) -> str:
    (folder / MANIFEST).unlink()
    return MANIFEST


DAMAGES = [drop_chunk_lines, empty_chunks, remove_vector_ids, cut_text_short, garble_faiss, delete_manifest]


def rewrite_checksums(folder: Path) -> None:
    """Make the manifest agree with the damaged files, as a careless tool might."""
    path = folder / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["files"] = {name: file_digest(folder / name) for name in manifest["files"]}
    path.write_text(json.dumps(manifest), encoding="utf-8")


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    build_index([docs], tmp_path / "index", FakeEncoder(), None, backend="memory")  # damages the memory store's files
    return tmp_path / "index"


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def one_error_line(output: str, directory: Path, named: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert "Traceback" not in output
    assert lines[0].startswith(f"error: {directory}: damaged index: "), lines[0]
    assert named in lines[0] and lines[0].endswith(f"qa index PATH --index {directory} --rebuild"), lines[0]
    return lines[0]


@pytest.mark.parametrize("damage", DAMAGES, ids=[d.__name__ for d in DAMAGES])
def test_a_damaged_index_is_refused_by_every_reader(
    index_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Callable[[Path], str]
) -> None:
    named = damage(live(index_dir))
    before = snapshot(index_dir)
    with pytest.raises(IndexDamagedError, match=named):
        load_index(index_dir)
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # a folder with a corpus in it: still nothing is rebuilt
    runner = CliRunner()
    for command in (["ask", "园区在哪里？"], ["check"], ["serve"]):
        result = runner.invoke(
            app, [*command, "--index", str(index_dir), *(["--model", "fake"] * (command != ["check"]))]
        )
        assert result.exit_code == 2, (command, result.output)
        one_error_line(result.stderr, index_dir, named)
    settings = Settings(_env_file=None, model="fake", index_dir=index_dir, corpus=tmp_path / "docs")
    with pytest.raises(IndexDamagedError), TestClient(create_app(settings)):
        pass  # the server never starts, so never reports ready
    assert snapshot(index_dir) == before


@pytest.mark.parametrize("damage", DAMAGES[:-1], ids=[d.__name__ for d in DAMAGES[:-1]])
def test_damage_behind_matching_checksums_is_still_found(index_dir: Path, damage: Callable[[Path], str]) -> None:
    named = damage(live(index_dir))
    rewrite_checksums(live(index_dir))
    with pytest.raises(IndexDamagedError, match=r"--rebuild$") as info:
        load_index(index_dir, deep=True)
    # a text cut short is found through the sentences that cite past its end
    assert ("'park.txt', whose text has 12 characters" if damage is cut_text_short else named) in str(info.value)


def test_qa_check_passes_a_whole_index(index_dir: Path) -> None:
    result = CliRunner().invoke(app, ["check", "--index", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{index_dir}: ok (gen-000001: 2 documents, ")


def test_an_update_refuses_a_damaged_index_and_a_rebuild_replaces_it(index_dir: Path, tmp_path: Path) -> None:
    cut_text_short(live(index_dir))
    with pytest.raises(IndexDamagedError, match=r"--rebuild$"):
        build_index([tmp_path / "docs"], index_dir, FakeEncoder(), None, backend="memory")
    build_index([tmp_path / "docs"], index_dir, FakeEncoder(), None, rebuild=True)
    assert set(load_index(index_dir, deep=True).documents) == set(DOCS)
    assert sorted(p.name for p in index_dir.iterdir()) == [".lock", "CURRENT", "gen-000002"]
