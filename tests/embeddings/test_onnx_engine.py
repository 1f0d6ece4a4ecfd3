"""The engines of the default model: factory choice, variant ids an index enforces, the atomic
ONNX export, and (marked ``model``) ONNX vectors against torch fp32."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embeddings import DEFAULT_MODEL_NAME, EncoderError, FakeEncoder, ProvisionError, encoders, load_encoder
from embeddings.e5 import CONVERTER_VERSION, MARKER_FILE, REQUIRED_FILES, SOURCE_SHA256
from embeddings.e5.onnx_export import ONNX_FILE, ensure_onnx_model, onnx_folder
from embeddings.encoders import AUTO_ENGINE, EngineRequest, load_onnx_default, onnx_model_id
from qa.building import build_index
from qa.errors import IndexMismatchError
from qa.index import load_index
from qa.settings import Settings

REPO = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- factory


@pytest.fixture
def engines(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, EngineRequest]]:
    """Replace every engine of the default model by a recorder."""
    calls: list[tuple[str, EngineRequest]] = []
    for name in encoders.DEFAULT_MODEL_ENGINES:

        def record(request: EngineRequest, name: str = name) -> FakeEncoder:
            calls.append((name, request))
            return FakeEncoder(model_id=name)

        monkeypatch.setitem(encoders.DEFAULT_MODEL_ENGINES, name, record)
    return calls


@pytest.mark.parametrize(
    ("backend", "device", "engine"),
    [("torch", None, "torch"), ("onnx", None, "onnx"), ("auto", None, AUTO_ENGINE), ("auto", "cuda", "torch")],
)
def test_factory_picks_the_engine_by_setting(
    engines: list[tuple[str, EngineRequest]], tmp_path: Path, backend: str, device: str | None, engine: str
) -> None:
    encoder = load_encoder(None, model_dir=tmp_path, backend=backend, device=device, threads=1, progress=print)
    assert encoder.model_id == engine
    assert engines == [(engine, EngineRequest(tmp_path, device, 1, print))]


def test_auto_runs_the_default_model_on_onnx() -> None:
    assert AUTO_ENGINE == "onnx"


def test_factory_refuses_bad_backends(engines: list[tuple[str, EngineRequest]], tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match="unknown encoder backend 'tensorflow'"):
        load_encoder(None, model_dir=tmp_path, backend="tensorflow")
    with pytest.raises(EncoderError, match="only the default model"):
        load_encoder("some-org/other-model", backend="onnx")
    assert load_encoder("fake:8", backend="onnx").dim == 8  # the fake is its own engine
    assert engines == []


def test_onnx_engine_is_cpu_only(tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match="cpu"):
        load_encoder(None, model_dir=tmp_path, backend="onnx", device="cuda")


def test_settings_name_the_engine_and_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_ENCODER_BACKEND", "onnx")
    monkeypatch.setenv("QA_THREADS", "1")
    settings = Settings(_env_file=None)
    assert (settings.encoder_backend, settings.threads) == ("onnx", 1)
    monkeypatch.setenv("QA_ENCODER_BACKEND", "tensorflow")
    with pytest.raises(ValueError, match="encoder_backend"):
        Settings(_env_file=None)


def test_variant_ids() -> None:
    assert onnx_model_id("fp32") == DEFAULT_MODEL_NAME  # the same vectors as torch fp32
    assert onnx_model_id("int8") == f"{DEFAULT_MODEL_NAME}@onnx-int8"


# --------------------------------------------------------------------------- an index and its variant


def test_index_of_one_variant_is_refused_by_the_other(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("重庆是直辖市。杭州在浙江。", encoding="utf-8")
    fp32, int8 = FakeEncoder(model_id=DEFAULT_MODEL_NAME), FakeEncoder(model_id=onnx_model_id("int8"))
    build_index([docs], tmp_path / "index", int8, None)
    assert load_index(tmp_path / "index", model_id=int8.model_id).chunks
    with pytest.raises(IndexMismatchError, match=r"onnx-int8.*--rebuild"):
        load_index(tmp_path / "index", model_id=fp32.model_id)
    (docs / "b.txt").write_text("成都在四川。", encoding="utf-8")
    with pytest.raises(IndexMismatchError, match=r"onnx-int8.*--rebuild"):  # qa index refuses to embed with it
        build_index([docs], tmp_path / "index", fp32, None)


# --------------------------------------------------------------------------- atomic export


def _fake_base_folder(model_dir: Path) -> None:
    """A converted folder that is_provisioned() accepts, so no real conversion runs."""
    folder = model_dir / DEFAULT_MODEL_NAME
    folder.mkdir(parents=True)
    for name in REQUIRED_FILES:
        (folder / name).write_text("fake")
    marker = {"source_sha256": SOURCE_SHA256, "converter_version": CONVERTER_VERSION}
    (folder / MARKER_FILE).write_text(json.dumps(marker))


def _fake_exporter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, body: str) -> None:
    """Make the export child process a shell script (args: -m MODULE BASE DEST PRECISION)."""
    script = tmp_path / "fake-python"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(sys, "executable", str(script))


def test_crash_mid_export_leaves_nothing_that_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    models = tmp_path / "models"
    _fake_base_folder(models)
    _fake_exporter(monkeypatch, tmp_path, 'printf half > "$4/model.onnx"; kill -KILL $$')
    told: list[str] = []
    with pytest.raises(ProvisionError, match="exporting the default model to ONNX failed"):
        ensure_onnx_model(models, "int8", progress=told.append)
    assert sorted(p.name for p in models.iterdir()) == [f".{DEFAULT_MODEL_NAME}.lock", DEFAULT_MODEL_NAME]
    assert told and "exporting the default model to ONNX (int8)" in told[0]
    with pytest.raises(EncoderError, match="for ONNX"):
        load_onnx_default(models)


def test_export_installs_once_and_a_half_folder_is_redone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    models = tmp_path / "models"
    _fake_base_folder(models)
    half = onnx_folder(models, "int8")
    half.mkdir()
    (half / ONNX_FILE).write_text("half, no marker")
    _fake_exporter(monkeypatch, tmp_path, 'printf graph > "$4/model.onnx"')
    assert ensure_onnx_model(models, "int8") == half
    assert (half / ONNX_FILE).read_text() == "graph" and (half / "tokenizer.json").read_text() == "fake"
    _fake_exporter(monkeypatch, tmp_path, "exit 1")  # a complete export is not redone
    assert ensure_onnx_model(models, "int8") == half
    (models / DEFAULT_MODEL_NAME / MARKER_FILE).write_text(json.dumps({"source_sha256": SOURCE_SHA256}))
    with pytest.raises(ProvisionError):  # a reconverted base folder invalidates the export (here: fails to redo)
        ensure_onnx_model(models, "fp32")
    with pytest.raises(ProvisionError, match="precision"):
        ensure_onnx_model(models, "int4")


# --------------------------------------------------------------------------- the real model


def _seed_sentences() -> list[str]:
    out: list[str] = []
    for path in sorted((REPO / "seeds").glob("*.txt")):
        out += [s for s in re.split("[。！？\n]", path.read_text(encoding="utf-8")) if s.strip()]
    return out


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return Settings(_env_file=None).model_dir


@pytest.mark.model
@pytest.mark.parametrize(("precision", "floor_min", "floor_mean"), [("fp32", 0.999, 0.9999), ("int8", 0.985, 0.995)])
def test_onnx_vectors_match_torch_fp32(model_dir: Path, precision: str, floor_min: float, floor_mean: float) -> None:
    sentences = [*_seed_sentences(), "literal specials <s> </s> <pad> inside", "长" * 2000]
    torch_encoder = load_encoder(None, model_dir=model_dir, backend="torch", device="cpu")
    onnx_encoder = load_onnx_default(model_dir, precision=precision)
    for method in ("encode_documents", "encode_queries"):
        ours, theirs = getattr(onnx_encoder, method)(sentences), getattr(torch_encoder, method)(sentences)
        assert ours.shape == theirs.shape and ours.dtype == np.float32
        cosines = np.sum(ours * theirs, axis=1)
        print(f"{precision} {method}: min {cosines.min():.5f} mean {cosines.mean():.5f} over {len(sentences)}")
        assert cosines.min() >= floor_min and cosines.mean() >= floor_mean


@pytest.mark.model
def test_onnx_engine_imports_no_torch(model_dir: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from embeddings import load_encoder; "
        f"e = load_encoder(None, model_dir=Path({str(model_dir)!r}), backend='onnx'); "
        "assert e.encode_queries(['重庆是哪一级城市？']).shape == (1, 384); "
        "bad = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]; "
        "sys.exit(repr(bad) if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + done.stdout
