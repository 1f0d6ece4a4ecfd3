"""Claim-checking benchmark: claims made from the corpus itself, with a known right verdict.

Usage: python scripts/bench_claims.py [CORPUS] [--index DIR] [--limit N]

For every sentence clause that states an Arabic-numeral figure, three claims are made: the
clause as it stands (verbatim), the clause in traditional characters with half-width
punctuation (near-verbatim), and the clause with one digit of the figure changed (mismatch:
the difference must pair the changed figure with the original one). Prints the accuracy of
each kind (right verdict and the first source holds the clause) and the first failures.
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
    """(clause, document start, document end) of each clause of 8–80 characters with an Arabic figure."""
    out = []
    for m in _CLAUSE.finditer(text):
        clause = m.group().strip()
        if 8 <= len(clause) <= 80 and any(ch.isdigit() for ch in clause) and find_figures(clause):
            at = text.index(clause, m.start())
            out.append((clause, start + at, start + at + len(clause)))
    return out


def altered(clause: str) -> tuple[str, int] | None:
    """The clause with the first digit of its first Arabic figure changed, and that figure's position."""
    for figure in find_figures(clause):
        words = clause[figure.start : figure.end]
        digit = next((i for i, ch in enumerate(words) if ch.isdigit()), None)
        if digit is None:
            continue
        at = figure.start + digit
        new = str((int(clause[at]) + 3) % 10 or 7)
        return clause[:at] + new + clause[at + 1 :], figure.start
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
    if args.limit:
        cases = cases[: args.limit]
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    failures: list[str] = []
    began = time.perf_counter()
    for source, clause, start, end in cases:
        claims = {"verbatim": clause, "near-verbatim": to_traditional.convert(clause).translate(_HALF)}
        change = altered(clause)
        if change is not None:
            claims["mismatch"] = change[0]
        for kind, claim in claims.items():
            check = engine.cite(claim)
            ok = check.verdict == kind and holds(check, source, start, end)
            if ok and kind == "mismatch":
                first = check.sources[0]
                ok = any(d.source is not None and d.claim.start <= change[1] < d.claim.end for d in first.differences)
            total[kind] += 1
            right[kind] += ok
            if not ok and len(failures) < 15:
                failures.append(f"{kind}: {claim} → {check.verdict}")
    elapsed = time.perf_counter() - began
    for kind in total:
        print(f"{kind:14s} {right[kind] / total[kind]:.3f} ({right[kind]}/{total[kind]})")
    n, good = sum(total.values()), sum(right.values())
    print(f"all            {good / n:.3f} ({good}/{n}); {1000 * elapsed / n:.0f} ms a claim")
    for line in failures:
        print("failed", line)


if __name__ == "__main__":
    main()
