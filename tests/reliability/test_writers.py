"""One writer at a time, no lost updates, a server that follows the index on disk, and reads that never write."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import api.state
from api.app import create_app
from api.cli import app
from embeddings.atomic import atomic_write_text
from embeddings.encoders import FakeEncoder
from qa import building
from qa import engine as engine_module
from qa.building import build_index
from qa.engine import Engine
from qa.errors import IndexConflictError, IndexMismatchError, NotFoundError
from qa.index import MANIFEST, directory_state, load_index, open_index, read_current, save_index, writing
from qa.search import RetrievalConfig
from qa.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
KEY = {"X-API-Key": "s3cret"}
CORPUS = {
    "park.txt": "上清寺互联网产业园\n园区位于重庆市渝中区。\n",
    "street.txt": "梦想小街产业园\n园区税收约2200万元。\n",
}


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def run_qa(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_CACHE_DIR": str(cwd / "cache"), "QA_MODEL": "fake"}
    command = [sys.executable, "-c", "from api.cli import app; app()", *args]
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setattr(api.state, "WATCH_SECONDS", 3600.0)  # the tests call refresh() themselves
    index, _ = build_index([write_docs(tmp_path / "docs", CORPUS)], tmp_path / "index", FakeEncoder(), None)
    settings = Settings(
        _env_file=None, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", model="fake", api_key="s3cret"
    )
    return TestClient(create_app(settings, Engine(index, FakeEncoder(), RetrievalConfig())))


def listed(client: TestClient) -> set[str]:
    return {d["id"] for d in client.get("/v1/documents").json()["documents"]}


def test_an_api_write_after_a_cli_update_keeps_both(server: TestClient, tmp_path: Path) -> None:
    extra = write_docs(tmp_path / "extra", {"harbour.txt": "江北嘴码头\n货物吞吐量达到450万吨。\n"})
    with server as client:
        result = CliRunner().invoke(
            app, ["index", str(extra), "--index", str(tmp_path / "index"), "--keep-missing", "--model", "fake"]
        )
        assert result.exit_code == 0, result.output
        note = {"id": "note.txt", "text": "笔记\n这是一条笔记。\n"}
        assert client.post("/v1/documents", json=note, headers=KEY).status_code == 201
        assert listed(client) == {*CORPUS, "harbour.txt", "note.txt"}
    assert set(open_index(tmp_path / "index").documents) == {*CORPUS, "harbour.txt", "note.txt"}


def test_the_server_serves_an_index_committed_by_another_process(server: TestClient, tmp_path: Path) -> None:
    extra = write_docs(tmp_path / "extra", {"harbour.txt": "江北嘴码头\n货物吞吐量达到450万吨。\n"})
    with server as client:
        process = run_qa("index", str(extra), "--index", "index", "--keep-missing", cwd=tmp_path)
        assert process.wait(120) == 0, process.communicate()
        assert listed(client) == set(CORPUS)
        state = client.app.state.qa  # type: ignore[attr-defined]
        assert state.refresh() is True
        assert listed(client) == {*CORPUS, "harbour.txt"}
        assert state.refresh() is False


def test_the_watcher_picks_up_a_commit_and_keeps_serving_when_the_new_one_is_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(api.state, "WATCH_SECONDS", 0.05)
    docs = write_docs(tmp_path / "docs", CORPUS)
    index, _ = build_index([docs], tmp_path / "index", FakeEncoder(), None)
    settings = Settings(_env_file=None, index_dir=tmp_path / "index", model="fake")
    with TestClient(create_app(settings, Engine(index, FakeEncoder(), RetrievalConfig()))) as client:
        write_docs(docs, {"new.txt": "新的文件。\n"})
        build_index([docs], tmp_path / "index", FakeEncoder(), None)
        deadline = time.monotonic() + 30
        while listed(client) != {*CORPUS, "new.txt"}:
            assert time.monotonic() < deadline, "the server never served the new generation"
            time.sleep(0.05)
        # a damaged generation committed by a careless tool: built aside, damaged, then pointed at
        staging = tmp_path / "staging"
        shutil.copytree(tmp_path / "index", staging)
        write_docs(docs, {"newer.txt": "更新的文件。\n"})
        build_index([docs], staging, FakeEncoder(), None)
        generation = str(read_current(staging))
        (staging / generation / "chunks.jsonl").write_text("", encoding="utf-8")
        shutil.copytree(staging / generation, tmp_path / "index" / generation)
        atomic_write_text(tmp_path / "index" / "CURRENT", generation + "\n")
        deadline = time.monotonic() + 30
        while "the one on disk is refused" not in caplog.text:
            assert time.monotonic() < deadline, "the damaged generation was never refused"
            time.sleep(0.05)
        assert listed(client) == {*CORPUS, "new.txt"}
        assert client.get("/readyz").status_code == 200


def test_a_write_while_another_process_holds_the_lock_is_a_409(
    server: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.state, "WRITE_WAIT_SECONDS", 0.2)
    script = "import sys, time; from filelock import FileLock; lock = FileLock(sys.argv[1]); lock.acquire(); "
    script += "print('held', flush=True); time.sleep(60)"
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "index" / ".lock")],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with server as client:
            response = client.post("/v1/documents", json={"id": "n.txt", "text": "一句话。\n"}, headers=KEY)
            assert response.status_code == 409
            assert response.json()["error"]["code"] == "conflict"
            assert "another process is writing" in response.json()["error"]["message"]
    finally:
        holder.kill()
        holder.wait()


def test_a_stale_copy_is_never_saved_over_newer_work(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", CORPUS)
    stale, _ = build_index([docs], tmp_path / "index", FakeEncoder(), None)
    write_docs(docs, {"new.txt": "新的文件。\n"})
    build_index([docs], tmp_path / "index", FakeEncoder(), None)
    with pytest.raises(IndexConflictError, match="changed on disk"):
        save_index(stale, tmp_path / "index")
    assert "new.txt" in open_index(tmp_path / "index").documents


def test_two_indexing_processes_are_serialized(tmp_path: Path) -> None:
    build_index([write_docs(tmp_path / "docs", CORPUS)], tmp_path / "index", FakeEncoder(), None)
    folders = [
        write_docs(tmp_path / f"more{i}", {f"doc{i}-{j}.txt": f"第{i}组第{j}份。\n" for j in range(30)}) for i in (1, 2)
    ]
    processes = [run_qa("index", str(f), "--index", "index", "--keep-missing", cwd=tmp_path) for f in folders]
    for process in processes:
        assert process.wait(120) == 0, process.communicate()
    documents = set(open_index(tmp_path / "index").documents)
    assert documents == {*CORPUS, *(f"doc{i}-{j}.txt" for i in (1, 2) for j in range(30))}
    assert read_current(tmp_path / "index") == "gen-000003"


def test_a_read_never_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    write_docs(tmp_path / "seeds", CORPUS)  # the default corpus, right here
    result = CliRunner().invoke(app, ["ask", "园区在哪里？", "--model", "fake", "--index", "idx"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: idx: no index here (build one with: qa index PATH --index idx)"
    assert not (tmp_path / "idx").exists()
    with pytest.raises(NotFoundError):
        engine_module.open_engine(Settings(_env_file=None, model="fake", index_dir=tmp_path / "idx"))


def test_a_first_run_build_goes_only_into_an_absent_or_empty_directory(tmp_path: Path) -> None:
    corpus = write_docs(tmp_path / "docs", CORPUS)
    for name, setup in (("absent", None), ("empty", "")):
        if setup is not None:
            (tmp_path / name).mkdir()
        settings = Settings(_env_file=None, model="fake", index_dir=tmp_path / name, corpus=corpus)
        assert set(engine_module.open_engine(settings, build=True).index.documents) == set(CORPUS)
    foreign = write_docs(tmp_path / "home", {"diary.txt": "私人日记。\n"})
    settings = Settings(_env_file=None, model="fake", index_dir=foreign, corpus=corpus)
    with pytest.raises(IndexMismatchError, match="not an index"):
        engine_module.open_engine(settings, build=True)
    result = CliRunner().invoke(app, ["index", str(corpus), "--index", str(foreign), "--model", "fake", "--rebuild"])
    assert result.exit_code == 2 and "holds other files" in result.stderr
    assert sorted(p.name for p in foreign.iterdir()) == ["diary.txt"]


def test_an_unchanged_corpus_is_reindexed_without_loading_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = write_docs(tmp_path / "docs", CORPUS)
    build_index([docs], tmp_path / "index", FakeEncoder(), None)
    loads = []
    real = building.open_encoder
    monkeypatch.setattr(building, "open_encoder", lambda *args, **kwargs: loads.append(1) or real(*args, **kwargs))
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    command = ["index", str(docs), "--index", str(tmp_path / "index"), "--model", "fake"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    assert "2 unchanged" in result.stderr and loads == []
    assert read_current(tmp_path / "index") == "gen-000001"  # nothing written either
    write_docs(docs, {"new.txt": "新的文件。\n"})
    assert CliRunner().invoke(app, command).exit_code == 0
    assert loads == [1]


def test_a_format_2_index_is_refused_for_queries_and_replaced_by_qa_index(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", CORPUS)
    build_index([docs], tmp_path / "new", FakeEncoder(), None)
    old = tmp_path / "old"
    generation = tmp_path / "new" / "gen-000001"
    generation.rename(old)  # the files of a generation directly in the directory, as format 2 kept them
    manifest = json.loads((old / MANIFEST).read_text(encoding="utf-8"))
    (old / MANIFEST).write_text(json.dumps({**manifest, "format_version": 2}), encoding="utf-8")
    assert directory_state(old) == "legacy"
    with pytest.raises(
        IndexMismatchError, match=rf"format 2 is not 3; rebuild it with: qa index PATH --index {old} --rebuild"
    ):
        load_index(old)
    build_index([docs], old, FakeEncoder(), None)
    assert set(load_index(old).documents) == set(CORPUS)
    assert sorted(p.name for p in old.iterdir()) == [".lock", "CURRENT", "gen-000001"]


def test_the_writer_lock_is_reentrant_in_a_thread_and_creates_the_directory(tmp_path: Path) -> None:
    with writing(tmp_path / "deep" / "index"), writing(tmp_path / "deep" / "index", timeout=0):
        assert (tmp_path / "deep" / "index" / ".lock").is_file()
    result = CliRunner().invoke(app, ["index", str(tmp_path), "--index", "/proc/nope/idx", "--model", "fake"])
    assert result.exit_code == 2 and result.stderr.startswith("error: /proc/nope/idx: cannot write an index here")
