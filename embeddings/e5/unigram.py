"""The default model's tokenizer with a compact Unigram search: the ids of ``tokenizer.json`` in a tenth of the memory.

``tokenizers`` keeps the 250,002 pieces of the Unigram model in a byte trie of about 240 MB.
Here the normalizer and pre-tokenizer of the same ``tokenizer.json`` (character map, space
runs, metaspace, unknown characters isolated) still run in ``tokenizers``, built without the
model, and the Viterbi search over the piece scores runs over a plain dict of pieces (about
30 MB). It visits start positions left to right and, at each, pieces from shortest to
longest, keeping the first of equally scored paths, as the ``tokenizers`` Unigram model does;
a character without a piece of its own is ``<unk>``. Then ``<s>`` … ``</s>``, at most
``max_tokens`` ids in all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from embeddings.errors import EncoderError

_UNK_PENALTY = 10.0  # the tokenizers Unigram model scores <unk> 10 under the lowest piece


class UnigramTokenizer:
    """Token ids of texts, as the ``tokenizers`` tokenizer of a Unigram ``tokenizer.json`` gives them."""

    def __init__(self, path: Path) -> None:
        """Read ``path`` (a ``tokenizer.json`` with a Unigram model without byte fallback)."""
        from tokenizers import Tokenizer

        config: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
        model = config.get("model") or {}
        if model.get("type") != "Unigram" or model.get("byte_fallback"):
            raise EncoderError(f"{path}: not a Unigram tokenizer without byte fallback")
        vocab = model["vocab"]
        self._ids = {str(piece): i for i, (piece, _) in enumerate(vocab)}
        self._scores = [float(score) for _, score in vocab]
        self._unk = int(model["unk_id"])
        self._unk_score = min(self._scores) - _UNK_PENALTY
        self._reach: dict[str, int] = {}  # first character -> longest piece starting with it
        for piece in self._ids:
            if piece and len(piece) > self._reach.get(piece[0], 0):
                self._reach[piece[0]] = len(piece)
        del vocab, model
        config.update(model={"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]]}, added_tokens=[])
        config.update(post_processor=None, decoder=None, truncation=None, padding=None)
        steps = Tokenizer.from_str(json.dumps(config))
        self._normalizer, self._pre_tokenizer = steps.normalizer, steps.pre_tokenizer
        try:
            self.bos, self.eos, self.pad = (self._ids[p] for p in ("<s>", "</s>", "<pad>"))
        except KeyError as exc:
            raise EncoderError(f"{path}: no {exc.args[0]} piece") from None

    def encode(self, text: str, max_tokens: int = 512) -> list[int]:
        """``<s>``, the ids of ``text`` (cut to fit), ``</s>``."""
        normalized = self._normalizer.normalize_str(text) if self._normalizer else text
        words = self._pre_tokenizer.pre_tokenize_str(normalized) if self._pre_tokenizer else [(normalized, None)]
        ids: list[int] = []
        for word, _ in words:
            ids += self._best_path(word)
            if len(ids) >= max_tokens - 2:
                break
        return [self.bos, *ids[: max_tokens - 2], self.eos]

    def _best_path(self, word: str) -> list[int]:
        """The ids of the highest-scoring split of ``word`` into pieces (Viterbi)."""
        n, ids, scores, reach = len(word), self._ids, self._scores, self._reach
        best, start, token = [0.0] * (n + 1), [-1] * (n + 1), [0] * (n + 1)
        for i in range(n):
            here, single = best[i], False
            for end in range(i + 1, min(n, i + reach.get(word[i], 0)) + 1):
                piece = ids.get(word[i:end])
                if piece is None:
                    continue
                single = single or end == i + 1
                score = here + scores[piece]
                if start[end] < 0 or score > best[end]:
                    best[end], start[end], token[end] = score, i, piece
            if not single and (start[i + 1] < 0 or here + self._unk_score > best[i + 1]):
                best[i + 1], start[i + 1], token[i + 1] = here + self._unk_score, i, self._unk
        out, end = [], n
        while end > 0:
            out.append(token[end])
            end = start[end]
        return out[::-1]
