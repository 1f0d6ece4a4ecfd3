"""The benchmark question sets: where each corpus and question file lives, and which dataset each comes from."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from embeddings.cache import EmbeddingCache, content_key, embed_with_cache  # noqa: E402
from embeddings.encoders import Encoder  # noqa: E402

#: ../shared beside the checkout (or beside the folder of worktrees holding it).
SHARED = next((p / "shared" for p in ROOT.parents[:2] if (p / "shared").is_dir()), ROOT.parent / "shared")


def _bench(name: str) -> tuple[Path, Path]:
    return SHARED / "bench" / name / "corpus.jsonl", SHARED / "bench" / name / "questions.jsonl"


SETS: dict[str, tuple[Path, Path]] = {
    "seed_dev": (ROOT / "seeds", SHARED / "eval" / "seed_questions_dev.jsonl"),
    "cmrc2018_dev": _bench("cmrc2018_dev"),
    "drcd_dev": _bench("drcd_dev"),
    "xquad_zh": _bench("xquad_zh"),
    "xquad_en_over_xquad_zh": _bench("xquad_en_over_xquad_zh"),
    "xquad_en": _bench("xquad_en"),
}
#: The dataset each set comes from: sets of one dataset (translations of each other) are held out together.
DATASET = {
    "seed_dev": "seed",
    "cmrc2018_dev": "cmrc",
    "drcd_dev": "drcd",
    "xquad_zh": "xquad",
    "xquad_en_over_xquad_zh": "xquad",
    "xquad_en": "xquad",
}


def article_half(source: str) -> str | None:
    """ "even" or "odd": the half of XQuAD's articles a ``xquad_AA_PP`` passage is from (None for another source)."""
    parts = source.split("_")
    if len(parts) != 3 or parts[0] != "xquad" or not parts[1].isdigit():
        return None
    return "odd" if int(parts[1]) % 2 else "even"


def query_vectors(questions: list[str], encoder: Encoder) -> np.ndarray:
    """Query vectors of ``questions``, 64 at a time."""
    return np.concatenate([encoder.encode_queries(questions[i : i + 64]) for i in range(0, len(questions), 64)])


#: Questions the seed corpus cannot answer (a test of "no source found" only).
UNANSWERABLE_SEED = ROOT / "eval" / "unanswerable_seed_questions.txt"


def use_first_passages(name: str, passages: int, folder: Path) -> None:
    """Replace a set by its first ``passages`` passages (file order) and their questions, written under FOLDER.

    A reproducible subsample for when embedding the whole corpus takes too long.
    """
    corpus_path, questions_path = SETS[name]
    out = folder / f"{name}_first{passages}"
    out.mkdir(parents=True, exist_ok=True)
    lines = corpus_path.read_text(encoding="utf-8").splitlines()[:passages]
    kept = {json.loads(line)["id"] for line in lines}
    questions = [q for q in questions_path.read_text(encoding="utf-8").splitlines() if json.loads(q)["source"] in kept]
    (out / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "questions.jsonl").write_text("\n".join(questions) + "\n", encoding="utf-8")
    SETS[name] = (out / "corpus.jsonl", out / "questions.jsonl")


def apply_subsamples(specs: list[str], folder: Path) -> None:
    """Apply ``NAME=PASSAGES`` subsample options."""
    for spec in specs:
        name, count = spec.split("=", 1)
        use_first_passages(name, int(count), folder)


class QueryCachingEncoder:
    """An encoder whose query vectors are kept in the embedding cache too (model id '<model>:query').

    Benchmarks ask the same questions in several modes and runs; each is encoded once.
    """

    def __init__(self, encoder: Encoder, cache: EmbeddingCache) -> None:
        self.encoder, self.cache = encoder, cache
        self.model_id, self.dim = encoder.model_id, encoder.dim

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors, from the cache where present."""
        keys = [content_key(t) for t in texts]
        vectors, _ = embed_with_cache(
            self.encoder.encode_queries, f"{self.model_id}:query", list(texts), keys, self.cache, batch_size=64
        )
        return vectors

    def encode_documents(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Passage vectors (the index build caches these itself)."""
        return self.encoder.encode_documents(texts, batch_size=batch_size, progress=progress)
