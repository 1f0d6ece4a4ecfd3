"""Encoder threads when none are set: one on a busy machine, the engine's own otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from embeddings import encoders
from embeddings.encoders import DEFAULT_MODEL_ENGINES, EngineRequest, FakeEncoder, fitting_threads, load_encoder


def machine(monkeypatch: pytest.MonkeyPatch, load: float, cores: int) -> None:
    monkeypatch.setattr(encoders.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(encoders.os, "cpu_count", lambda: cores)


@pytest.mark.parametrize(("load", "cores", "threads"), [(2.0, 2, 1), (9.5, 2, 1), (1.9, 2, None), (3.0, 1, None)])
def test_one_thread_when_the_machine_is_busy(
    monkeypatch: pytest.MonkeyPatch, load: float, cores: int, threads: int | None
) -> None:
    machine(monkeypatch, load, cores)
    assert fitting_threads() == threads


def test_the_default_model_gets_them_unless_threads_are_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    machine(monkeypatch, 8.0, 2)
    asked: list[int | None] = []

    def engine(request: EngineRequest) -> FakeEncoder:
        asked.append(request.threads)
        return FakeEncoder()

    monkeypatch.setitem(DEFAULT_MODEL_ENGINES, "onnx", engine)
    load_encoder(None, model_dir=tmp_path, backend="onnx")
    load_encoder(None, model_dir=tmp_path, backend="onnx", threads=2)
    assert asked == [1, 2]
