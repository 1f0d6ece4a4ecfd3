"""The compact Unigram tokenizer gives the ids of the ``tokenizers`` tokenizer it is read from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings.e5 import E5File, build_tokenizer
from embeddings.e5.unigram import UnigramTokenizer
from embeddings.errors import EncoderError

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
# pieces whose scores make the best split differ from the longest-first one; 中文 ties 中 + 文
PIECES = {
    "▁": -2.0, "a": -3.0, "b": -3.0, "c": -3.0, "中": -2.5, "文": -2.5, "国": -4.0, "ab": -4.0, "bc": -4.0,
    "abc": -5.5, "▁a": -3.5, "▁ab": -3.0, "中文": -5.0, "文国": -4.0, "中国": -4.0, "<": -5.0, ">": -5.0, "s": -5.0,
}  # fmt: skip


@pytest.fixture(scope="module")
def tokenizer_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = E5File(
        hparams={},
        pieces=SPECIALS + list(PIECES),
        scores=np.array([0.0] * len(SPECIALS) + list(PIECES.values()), dtype=np.float32),
        specials={"bos": 0, "pad": 1, "eos": 2, "unk": 3},
        norm_map={ord("Ａ"): "A", ord("Ｂ"): "b", ord("\u3000"): " "},  # mapped characters
    )
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    build_tokenizer(src).save(str(path))
    return path


def reference_ids(path: Path, texts: list[str], max_tokens: int) -> list[list[int]]:
    from tokenizers import Tokenizer

    reference = Tokenizer.from_file(str(path))
    reference.encode_special_tokens = True  # as the ONNX engine encoded before: "<s>" in a text is text
    reference.enable_truncation(max_tokens)
    return [e.ids for e in reference.encode_batch(texts)]


TEXT = st.text(alphabet="abc中文国▁ <s>ＡＢ\u3000xyé", max_size=40)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(TEXT, min_size=1, max_size=8), max_tokens=st.sampled_from([4, 7, 512]))
def test_the_ids_are_those_of_tokenizers(tokenizer_file: Path, texts: list[str], max_tokens: int) -> None:
    compact = UnigramTokenizer(tokenizer_file)
    assert [compact.encode(t, max_tokens) for t in texts] == reference_ids(tokenizer_file, texts, max_tokens)


def test_known_splits(tokenizer_file: Path) -> None:
    compact = UnigramTokenizer(tokenizer_file)
    assert (compact.bos, compact.eos, compact.pad) == (0, 2, 1)
    # "▁abc": "▁ab" + "c" (-6.0) beats "▁a" + "bc" (-7.5) and "▁" + "abc" (-7.5); x has no piece: <unk>, each
    assert compact.encode("abcxx") == [0, 15, 7, 3, 3, 2]
    assert compact.encode("") == [0, 2]


def test_a_tokenizer_of_another_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tokenizer.json"
    path.write_text('{"model": {"type": "BPE", "vocab": {}, "merges": []}}', encoding="utf-8")
    with pytest.raises(EncoderError, match="not a Unigram"):
        UnigramTokenizer(path)
