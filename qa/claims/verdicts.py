"""Claim checking for writers: the source sentences of a claim, each with a verdict.

A source is *verbatim* when the claim stands in the document exactly as written,
*near-verbatim* when it does once punctuation, whitespace, character width, traditional
and simplified forms and letter case are folded away, *paraphrase* when the sentence says
the same in other words, and *mismatch* when the claim's figures, dates or names differ from
the source's; each difference is given on both sides. Sentences that are merely related are
left out; a claim with no source left is unsupported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.claims.details import Difference, Span, comparable_units, folded, read_figures, read_names
from qa.claims.vocabulary import UNSUPPORTED, VERDICTS, ClaimVerdict, Verdict
from qa.index.reader import IndexReader
from qa.search import Hit
from qa.text import has_han

_QUOTES = "\"'“”‘’「」『』《》 \t\n"
_END_MARKS = "。．.！!？?；;，,、…"
_CLAUSE_END = re.compile(r"[，,；;：:。！？!?]")

#: A sentence is a source of a claim when enough of the claim's words stand in it (and around
#: it), or when it is semantically close (default model, mean cosine alone and in context).
#: Measured on the seed corpus (see README, "Checking claims").
MIN_COVERAGE = 0.5
MIN_COSINE = 0.9
MIN_COVERAGE_WHEN_CLOSE = 0.3
#: A claim in English over Chinese text shares no words with it: the cosine alone decides, and
#: only sentences nearly as close as the closest one count. Measured on XQuAD (the English
#: sentence holding each answer over the Chinese passages, 798 claims): the source scores
#: 0.825 or more for 9 claims in 10, while for a third of them some sentence of another
#: document scores that much too (the margin below keeps those out).
MIN_COSINE_CROSS_LINGUAL = 0.825
CROSS_LINGUAL_MARGIN = 0.02


@dataclass(frozen=True)
class SourceCheck:
    """One source sentence of a claim and how faithfully the claim renders it."""

    hit: Hit
    verdict: Verdict
    match: Span | None
    differences: tuple[Difference, ...]
    coverage: float

    def as_dict(self) -> dict[str, object]:
        """The hit's JSON form plus verdict, match (document offsets) and differences."""
        return {
            **self.hit.as_dict(),
            "verdict": self.verdict,
            "match": self.match and self.match.as_dict(),
            "differences": [d.as_dict() for d in self.differences],
        }


@dataclass(frozen=True)
class ClaimCheck:
    """A claim and its sources, the most faithful first."""

    claim: str
    sources: tuple[SourceCheck, ...]

    @property
    def verdict(self) -> ClaimVerdict:
        """The best source's verdict, or ``unsupported`` when no sentence is a source."""
        return self.sources[0].verdict if self.sources else UNSUPPORTED

    @property
    def supported(self) -> bool:
        """Whether some source says what the claim says."""
        return any(s.verdict != "mismatch" for s in self.sources)

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "claim": self.claim,
            "verdict": self.verdict,
            "supported": self.supported,
            "sources": [s.as_dict() for s in self.sources],
        }


def claim_core(claim: str) -> str:
    """The claim without surrounding quotes, whitespace and closing punctuation."""
    core = claim.strip(_QUOTES)
    while core and core[-1] in _END_MARKS:
        core = core[:-1].rstrip(_QUOTES)
    return core


def _literal_match(core: str, original: str, hit: Hit) -> tuple[Verdict, Span] | None:
    """A verbatim or near-verbatim occurrence of the claim overlapping the hit's sentence."""
    lo = max(0, hit.chunk.start - len(core) - 8)
    hi = min(len(original), hit.chunk.end + len(core) + 8)
    window = original[lo:hi]
    at = window.find(core)
    while at >= 0:
        start, end = lo + at, lo + at + len(core)
        if start < hit.chunk.end and end > hit.chunk.start:
            return "verbatim", Span(start, end, core)
        at = window.find(core, at + 1)
    folded_core, folded_window = folded(core).text, folded(window)
    if not folded_core:
        return None
    at = folded_window.text.find(folded_core)
    while at >= 0:
        s, e = folded_window.span(at, at + len(folded_core))
        start, end = lo + s, lo + e
        if start < hit.chunk.end and end > hit.chunk.start:
            return "near-verbatim", Span(start, end, original[start:end])
        at = folded_window.text.find(folded_core, at + 1)
    return None


def _clauses(sentence: str) -> list[tuple[int, int]]:
    """Clause spans of a sentence, split after commas, semicolons and colons."""
    spans, start = [], 0
    for m in _CLAUSE_END.finditer(sentence):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(sentence.rstrip()):
        spans.append((start, len(sentence.rstrip())))
    return spans or [(0, len(sentence))]


def _best_clauses(claim_units: frozenset[str], hit: Hit) -> Span:
    """The run of the sentence's clauses that best matches the claim (F1 of shared units), in document offsets."""
    sentence = hit.chunk.cited
    clauses = _clauses(sentence)
    best, best_f1 = (0, len(sentence)), -1.0
    for i in range(len(clauses)):
        for j in range(i, len(clauses)):
            units = comparable_units(sentence[clauses[i][0] : clauses[j][1]])
            shared = len(units & claim_units)
            f1 = 2 * shared / (len(units) + len(claim_units)) if units or claim_units else 0.0
            if f1 > best_f1:
                best, best_f1 = (clauses[i][0], clauses[j][1]), f1
    start, end = hit.chunk.start + best[0], hit.chunk.start + best[1]
    return Span(start, end, sentence[best[0] : best[1]])


def _surroundings(index: IndexReader, hit: Hit) -> str:
    """What a claim's details may come from besides the sentence: title, headings, previous sentence, the rest of
    the paragraph."""
    original, c = index.document(hit.chunk.source).original, hit.chunk
    before, after = original[hit.paragraph_start : c.start], original[c.end : hit.paragraph_end]
    return "\n".join([hit.title, *c.heading, hit.previous_sentence, before, after])


def _coverage(claim_units: frozenset[str], surroundings: str, sentence: str) -> float:
    """Share of the claim's units found in the sentence (or, for half weight, only around it)."""
    if not claim_units:
        return 0.0
    in_sentence = claim_units & comparable_units(sentence)
    around = (claim_units - in_sentence) & comparable_units(surroundings)
    return (len(in_sentence) + 0.5 * len(around)) / len(claim_units)


def _related(hit: Hit, coverage: float, cross_lingual: bool) -> bool:
    if cross_lingual:
        return hit.dense >= MIN_COSINE_CROSS_LINGUAL
    return coverage >= MIN_COVERAGE or (hit.dense >= MIN_COSINE and coverage >= MIN_COVERAGE_WHEN_CLOSE)


def _cross_lingual(claim: str, sentence: str) -> bool:
    """A claim in a Latin script over a Chinese sentence (or the other way round)."""
    return has_han(claim) != has_han(sentence)


def check_source(index: IndexReader, claim: str, hit: Hit) -> SourceCheck | None:
    """How faithfully ``claim`` renders the hit's sentence; None when the sentence is not a source of it."""
    core = claim_core(claim) or claim
    original = index.document(hit.chunk.source).original
    surroundings = _surroundings(index, hit)
    claim_units = comparable_units(core)
    coverage = _coverage(claim_units, surroundings, hit.chunk.cited)
    literal = _literal_match(core, original, hit)
    if literal is not None:
        return SourceCheck(hit, literal[0], literal[1], (), coverage)
    cross_lingual = _cross_lingual(core, hit.chunk.cited)
    if not _related(hit, coverage, cross_lingual):
        return None
    match = _best_clauses(claim_units, hit)
    figures = read_figures(core, hit, surroundings, match)
    names = [] if cross_lingual else read_names(core, hit, surroundings)
    differences = tuple(sorted((*figures.differences, *names), key=lambda d: d.claim.start))
    if figures.contradicted or names:
        return SourceCheck(hit, "mismatch", match, differences, coverage)
    if figures.elsewhere:
        return None
    if differences:  # figures stated nowhere near: a mismatch only where the sentence says the rest of the claim
        return SourceCheck(hit, "mismatch", match, differences, coverage) if coverage >= MIN_COVERAGE else None
    return SourceCheck(hit, "paraphrase", match, (), coverage)


def _vouches(check: SourceCheck) -> bool:
    """A source that supports the claim or states one of its details otherwise (not merely leaves one out)."""
    return check.verdict != "mismatch" or any(d.source is not None for d in check.differences)


def check_claim(index: IndexReader, claim: str, hits: Sequence[Hit], k: int = 3) -> ClaimCheck:
    """Check ``claim`` against its retrieved ``hits``: up to ``k`` sources, the most faithful first (then the
    one sharing most of the claim).

    A sentence sharing less than half of what the closest one shares is only related. A
    mismatching sentence is kept beside a supporting one only when it matches the claim at least
    as closely (two sources that disagree), and one that merely leaves a figure out only when no
    firmer source matches as closely; otherwise each states a different fact.
    """
    checks = [c for c in (check_source(index, claim, h) for h in hits) if c is not None]
    crossed = [c.hit.dense for c in checks if _cross_lingual(claim, c.hit.chunk.cited)]
    if crossed:
        near = max(crossed) - CROSS_LINGUAL_MARGIN
        checks = [c for c in checks if c.hit.dense >= near or not _cross_lingual(claim, c.hit.chunk.cited)]
    if checks:
        best = max(c.coverage for c in checks)
        checks = [c for c in checks if c.coverage >= best / 2]
    for keep in (lambda c: c.verdict != "mismatch", _vouches):
        ahead = [c.coverage for c in checks if keep(c)]
        if ahead:
            checks = [c for c in checks if keep(c) or c.coverage >= max(ahead)]
    checks.sort(key=lambda c: (VERDICTS.index(c.verdict), not _vouches(c), -c.coverage, c.hit.rank))
    return ClaimCheck(claim, tuple(checks[:k]))
