"""Claim-checking benchmark: claims made from the corpus itself, with a known right verdict.

Usage: python scripts/bench_claims.py [CORPUS] [--index DIR] [--limit N]
       python scripts/bench_claims.py ZH_CORPUS --parallel EN_CORPUS EN_QUESTIONS ZH_QUESTIONS [--index DIR]

For every clause that states an Arabic-numeral figure (with the clauses before it in its
sentence, 16 characters at least), three claims are made: the words as they stand
(verbatim), in traditional characters with half-width punctuation (near-verbatim; skipped
when that changes nothing), and with one digit of the figure changed (mismatch: the
difference must pair the changed figure with the original one; skipped when the changed
words stand in the corpus too, and for bare one-digit numbers such as list markers). Prints
the accuracy of each kind (right verdict, and the first source is the sentence holding the
words) and the first failures.

With --parallel (XQuAD: the same passages and questions in English and Chinese), the claims
are English: each English sentence holding a question's answer, whose source must be the
Chinese sentence holding the same answer (any faithful verdict), and that sentence with one
digit changed (mismatch).
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

from qa.claims.figures import find_figures  # noqa: E402
from qa.claims.verdicts import ClaimCheck  # noqa: E402
from qa.engine import Engine, open_engine  # noqa: E402
from qa.ingest.jsonlines import iter_json_objects  # noqa: E402
from qa.ingest.reading import iter_documents  # noqa: E402
from qa.ingest.segment import segment  # noqa: E402
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


Case = tuple[str, str, str, int, int, int | None]  # kind, claim, source, start, end, changed figure's offset
_FAITHFUL = {"verbatim", "near-verbatim", "paraphrase"}


def corpus_cases(engine: Engine) -> list[Case]:
    """Verbatim, near-verbatim and mismatch claims made from the indexed corpus itself."""
    to_traditional = opencc.OpenCC("s2t")
    texts = [d.original for d in engine.index.documents.values()]
    cases: list[Case] = []
    for record in sorted(engine.index.chunks.values(), key=lambda r: (r.chunk.source, r.chunk.start)):
        chunk = record.chunk
        for words, start, end in clause_claims(chunk.cited, chunk.start):
            cases.append(("verbatim", words, chunk.source, start, end, None))
            near = to_traditional.convert(words).translate(_HALF)
            if near != words:
                cases.append(("near-verbatim", near, chunk.source, start, end, None))
            change = altered(words)
            if change is not None and not any(change[0] in t for t in texts):
                cases.append(("mismatch", change[0], chunk.source, start, end, change[1]))
    return cases


def parallel_cases(en_corpus: Path, en_questions: Path, zh_questions: Path) -> list[Case]:
    """English claims (the sentence holding each answer) whose source is the Chinese sentence holding it."""
    english = {d.id: (d, segment(d)) for d in iter_documents([en_corpus])}
    zh_gold = {row["id"]: row for _, row in iter_json_objects(zh_questions.read_text("utf-8").splitlines(), "zh")}
    cases: list[Case] = []
    seen: set[str] = set()
    for _, row in iter_json_objects(en_questions.read_text("utf-8").splitlines(), "en"):
        zh = zh_gold.get(row["id"])
        if zh is None:
            continue
        (a, b), (za, zb) = row["spans"][0], zh["spans"][0]
        _, chunks = english[row["source"]]
        sentence = next((c.cited for c in chunks if c.start <= a and b <= c.end), None)
        if sentence is None or sentence in seen:
            continue
        seen.add(sentence)
        cases.append(("paraphrase", sentence, zh["source"], za, zb, None))
        change = altered(sentence)
        if change is not None:
            cases.append(("mismatch", change[0], zh["source"], za, zb, change[1]))
    return cases


def judge_case(engine: Engine, case: Case) -> tuple[bool, ClaimCheck]:
    """Whether the claim got its verdict, its source and (for a mismatch) the changed figure paired."""
    kind, claim, source, start, end, changed = case
    check = engine.cite(claim)
    expected = _FAITHFUL if kind == "paraphrase" else {kind}
    ok = check.verdict in expected and holds(check, source, start, end)
    if ok and changed is not None:
        ok = any(d.source is not None and d.claim.start <= changed < d.claim.end for d in check.sources[0].differences)
    return ok, check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, default=ROOT / "seeds")
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "bench" / "claims" / "index")
    parser.add_argument("--limit", type=int, default=0, help="At most this many claims (0: all).")
    parser.add_argument("--parallel", nargs=3, type=Path, metavar=("EN_CORPUS", "EN_QUESTIONS", "ZH_QUESTIONS"))
    args = parser.parse_args()
    engine = open_engine(Settings(corpus=args.corpus, index_dir=args.index), build=True)
    cases = parallel_cases(*args.parallel) if args.parallel else corpus_cases(engine)
    if args.limit:
        cases = cases[: args.limit]
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    failures: list[str] = []
    began = time.perf_counter()
    for case in cases:
        ok, check = judge_case(engine, case)
        kind = case[0]
        total[kind] += 1
        right[kind] += ok
        verdicts[f"{kind} → {check.verdict}"] += 1
        if not ok and len(failures) < 25:
            got = check.sources[0] if check.sources else None
            found = got and [(d.claim.text, d.source and d.source.text) for d in got.differences]
            failures.append(f"{kind}: {case[1]} → {check.verdict}: {got and got.hit.chunk.cited[:60]} {found}")
    elapsed = time.perf_counter() - began
    for kind in total:
        print(f"{kind:14s} {right[kind] / total[kind]:.3f} ({right[kind]}/{total[kind]})")
    n, good = sum(total.values()), sum(right.values())
    print(f"all            {good / n:.3f} ({good}/{n}); {1000 * elapsed / n:.0f} ms a claim")
    print("verdicts:", ", ".join(f"{k}: {v}" for k, v in sorted(verdicts.items())))
    for line in failures:
        print("failed", line)


if __name__ == "__main__":
    main()
