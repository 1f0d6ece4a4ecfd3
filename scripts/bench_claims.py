"""Claim-checking benchmark: claims made from the corpus itself, with a known right verdict.

Usage: python scripts/bench_claims.py [CORPUS] [--index DIR] [--limit N]

For every clause that states an Arabic-numeral figure (with the clauses before it in its
sentence, 16 characters at least), three claims are made: the words as they stand
(verbatim), in traditional characters with half-width punctuation (near-verbatim; skipped
when that changes nothing), and with one digit of the figure changed (mismatch: the
difference must pair the changed figure with the original one; skipped when the changed
words stand in the corpus too, and for bare one-digit numbers such as list markers). Prints
the accuracy of each kind (right verdict, and the first source is the sentence holding the
words) and the first failures.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import opencc  # noqa: E402

from qa.claims import ClaimCheck  # noqa: E402
from qa.engine import open_engine  # noqa: E402
from qa.figures import find_figures  # noqa: E402
from qa.settings import Settings  # noqa: E402

_CLAUSE = re.compile(r"[^，,；;：:。！？!?]+")
_HALF = str.maketrans("，；：！？（）", ",;:!?()")


def clause_claims(text: str, start: int) -> list[tuple[str, int, int]]:
    """(words, document start, document end): each clause with a figure, with the clauses before it."""
    out = []
    spans = [(m.start(), m.end()) for m in _CLAUSE.finditer(text)]
    for i, (a, b) in enumerate(spans):
        clause = text[a:b]
        if not any(ch.isdigit() for ch in clause) or not find_figures(clause):
            continue
        first = i
        while first > 0 and b - spans[first][0] < 16:
            first -= 1
        words = text[spans[first][0] : b].strip()
        if 16 <= len(words) <= 100:
            at = text.index(words, spans[first][0])
            out.append((words, start + at, start + at + len(words)))
    return out


def altered(words: str) -> tuple[str, int] | None:
    """The words with the first digit of their last telling Arabic figure changed, and that figure's position."""
    for figure in reversed(find_figures(words)):
        stated = words[figure.start : figure.end]
        digits = [i for i, ch in enumerate(stated) if ch.isdigit()]
        if not digits or (len(digits) == 1 and not figure.unit):
            continue
        at = figure.start + digits[0]
        new = str((int(words[at]) + 3) % 10 or 7)
        return words[:at] + new + words[at + 1 :], figure.start
    return None


def holds(check: ClaimCheck, source: str, start: int, end: int) -> bool:
    """Whether the first source is the sentence holding [start, end)."""
    if not check.sources:
        return False
    chunk = check.sources[0].hit.chunk
    return chunk.source == source and chunk.start <= start and end <= chunk.end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, default=ROOT / "seeds")
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "bench" / "claims" / "index")
    parser.add_argument("--limit", type=int, default=0, help="At most this many clauses (0: all).")
    args = parser.parse_args()
    engine = open_engine(Settings(corpus=args.corpus, index_dir=args.index))
    to_traditional = opencc.OpenCC("s2t")
    cases = []
    for record in engine.index.chunks.values():
        chunk = record.chunk
        cases += [(chunk.source, *c) for c in clause_claims(chunk.cited, chunk.start)]
    cases.sort()
    texts = [d.original for d in engine.index.documents.values()]
    if args.limit:
        cases = cases[: args.limit]
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    failures: list[str] = []
    began = time.perf_counter()
    for source, clause, start, end in cases:
        claims = {"verbatim": clause}
        near = to_traditional.convert(clause).translate(_HALF)
        if near != clause:
            claims["near-verbatim"] = near
        change = altered(clause)
        if change is not None and not any(change[0] in t for t in texts):
            claims["mismatch"] = change[0]
        for kind, claim in claims.items():
            check = engine.cite(claim)
            ok = check.verdict == kind and holds(check, source, start, end)
            if ok and kind == "mismatch":
                first = check.sources[0]
                ok = any(d.source is not None and d.claim.start <= change[1] < d.claim.end for d in first.differences)
            total[kind] += 1
            right[kind] += ok
            if not ok and len(failures) < 25:
                got = check.sources[0] if check.sources else None
                detail = got and f"{got.hit.chunk.cited[:60]} {[(d.claim.text, d.source and d.source.text) for d in got.differences]}"
                failures.append(f"{kind}: {claim} → {check.verdict}: {detail}")
    elapsed = time.perf_counter() - began
    for kind in total:
        print(f"{kind:14s} {right[kind] / total[kind]:.3f} ({right[kind]}/{total[kind]})")
    n, good = sum(total.values()), sum(right.values())
    print(f"all            {good / n:.3f} ({good}/{n}); {1000 * elapsed / n:.0f} ms a claim")
    for line in failures:
        print("failed", line)


if __name__ == "__main__":
    main()
