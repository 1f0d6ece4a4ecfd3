"""Measure the English-minus-Chinese shift of the default encoder's query vectors (qa/search/crosslingual.py).

Usage: python scripts/language_shift.py [--check]

The English questions are XQuAD's (``xquad_en``; ``xquad_en_over_xquad_zh`` asks the same ones),
the Chinese ones cmrc2018's and drcd's: ``english_minus_chinese`` is the difference of their mean
query vectors, written to qa/search/models/language_shift.json under the encoder's model id. The
candidate pools of ``scripts/train_ranker.py`` give an XQuAD question the shift measured on the
other half of the articles (:func:`held_out_shifts`), so that no held-out figure rests on its own
question. Query vectors come from the shared embedding cache. ``--check`` prints how far the
shipped file is from a new measurement, and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_sets import SETS, QueryCachingEncoder, article_half, query_vectors  # noqa: E402

from embeddings.atomic import atomic_write_text  # noqa: E402
from embeddings.encoders import Encoder  # noqa: E402
from qa.building import open_cache, open_encoder  # noqa: E402
from qa.runs.evaluation import read_gold  # noqa: E402
from qa.search.crosslingual import SHIFT_FILE, language_shift  # noqa: E402
from qa.settings import Settings  # noqa: E402

ENGLISH = "xquad_en"
CHINESE = ("cmrc2018_dev", "drcd_dev")
TARGET = ROOT / "qa" / "search" / "models" / SHIFT_FILE


def _english(half_left_out: str | None = None) -> list[str]:
    return [
        g.question
        for g in read_gold(SETS[ENGLISH][1])
        if half_left_out is None or article_half(g.source) != half_left_out
    ]


def _chinese() -> list[str]:
    return [g.question for name in CHINESE for g in read_gold(SETS[name][1])]


def held_out_shifts(encoder: Encoder) -> dict[str, np.ndarray]:
    """Per half of XQuAD's articles ("even", "odd"), the shift measured without that half's English questions."""
    chinese = query_vectors(_chinese(), encoder)
    return {half: language_shift(query_vectors(_english(half), encoder), chinese) for half in ("even", "odd")}


def measure(encoder: Encoder) -> dict[str, object]:
    """The shipped file's entry for ``encoder``'s model: the shift and the questions it was measured on."""
    english, chinese = _english(), _chinese()
    shift = language_shift(query_vectors(english, encoder), query_vectors(chinese, encoder))
    return {
        "english_minus_chinese": [round(float(x), 6) for x in shift],
        "english_questions": {ENGLISH: len(english)},
        "chinese_questions": {name: len(read_gold(SETS[name][1])) for name in CHINESE},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the shipped file, write nothing")
    args = parser.parse_args()
    settings = Settings()
    with open_cache(settings) as cache:
        encoder = QueryCachingEncoder(open_encoder(settings), cache)
        entry = measure(encoder)
        model = encoder.model_id
    new = np.array(entry["english_minus_chinese"])
    if args.check:
        shipped = json.loads(TARGET.read_text(encoding="utf-8"))["models"].get(model)
        if shipped is None:
            raise SystemExit(f"no shift shipped for {model}")
        print(f"{model}: largest difference {np.abs(new - np.array(shipped['english_minus_chinese'])).max():.2e}")
        return
    atomic_write_text(TARGET, json.dumps({"models": {model: entry}}, indent=1) + "\n")
    print(f"wrote {TARGET} ({model}; norm of the shift {np.linalg.norm(new):.3f})")


if __name__ == "__main__":
    main()
