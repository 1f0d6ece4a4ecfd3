"""What a claim's figures, dates and names become against one source sentence: agreements, differences
(each given on both sides) and details stated only around the sentence."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache

from qa.claims.figures import Figure, find_figures
from qa.claims.names import Name, proper_names
from qa.claims.vocabulary import DifferenceKind
from qa.search import Hit
from qa.text import Folded, content_units, fold_text

# The same claim, sentence and paragraph are read for every candidate sentence and every
# claim about the same passage: their readings are kept (all of them are pure functions).
_CACHE = 8192


@lru_cache(maxsize=_CACHE)
def _figures(text: str) -> tuple[Figure, ...]:
    return tuple(find_figures(text))


@lru_cache(maxsize=_CACHE)
def folded(text: str) -> Folded:
    return fold_text(text)


@lru_cache(maxsize=_CACHE)
def _names(text: str) -> tuple[Name, ...]:
    return tuple(proper_names(text))


@dataclass(frozen=True)
class Span:
    """``text == whole[start:end]``, where ``whole`` is the claim or the document."""

    start: int
    end: int
    text: str

    def as_dict(self) -> dict[str, object]:
        """JSON form: the fields, in order."""
        return asdict(self)


@dataclass(frozen=True)
class Difference:
    """A figure, date or name that the claim and the source state differently."""

    kind: DifferenceKind
    claim: Span
    """The claim's words: offsets into the claim."""
    source: Span | None
    """The source's words: offsets into the document's original text; null when it does not say."""

    def as_dict(self) -> dict[str, object]:
        """JSON form: the fields, in order (spans as objects)."""
        return asdict(self)


@lru_cache(maxsize=_CACHE)
def comparable_units(text: str) -> frozenset[str]:
    """Content units with every figure read as its value (四十多名 and 40余名 share a unit)."""
    figures = _figures(text)
    plain = list(text)
    for f in figures:
        plain[f.start : f.end] = ["\n"] * (f.end - f.start)
    return frozenset(content_units("".join(plain)) | {f"={f.value:g}" for f in figures})


def pair_figures(missing: Sequence[Figure], spare: Sequence[Figure], match: Span, offset: int) -> dict[int, Figure]:
    """Which source figure each missing claim figure stands in for (by index into ``missing``).

    A pair needs the same kind and unit (a bare number pairs with any unit, 5015 with 2015). The best pairs are
    taken first: the source figure nearest the clauses that match the claim, then the closest in
    amount, so 3300万元 pairs with 2500万元 rather than with 12亿元 wherever each stands.
    """
    candidates = []
    for i, figure in enumerate(missing):
        for j, f in enumerate(spare):
            same_kind = f.kind == figure.kind or not (f.unit or figure.unit)
            if same_kind and (f.unit == figure.unit or not figure.unit):
                distance = max(match.start - (offset + f.end), offset + f.start - match.end, 0)
                ratio = abs(math.log((abs(f.value) + 1) / (abs(figure.value) + 1)))
                candidates.append((distance, ratio, i, j))
    pairs: dict[int, Figure] = {}
    used: set[int] = set()
    for _, _, i, j in sorted(candidates):
        if i not in pairs and j not in used:
            pairs[i] = spare[j]
            used.add(j)
    return pairs


@dataclass(frozen=True)
class FigureReading:
    """How the claim's figures and names fare against one sentence."""

    differences: tuple[Difference, ...]
    contradicted: bool  # some claim detail is stated otherwise in the sentence
    elsewhere: bool  # some claim figure is stated around the sentence, not in it: a neighbour is the source


def read_figures(claim: str, hit: Hit, surroundings: str, match: Span) -> FigureReading:
    """The claim's figures against the sentence's: each missing one paired with the figure the sentence states
    instead, or noted as stated around the sentence."""
    sentence, offset = hit.chunk.cited, hit.chunk.start
    claimed, stated = _figures(claim), _figures(sentence)
    around = _figures(surroundings)
    spare = list(stated)  # each stated figure vouches for one claim figure at most, the same unit first
    missing = []
    for figure in claimed:
        twin = next((f for f in spare if figure.agrees(f) and f.unit == figure.unit), None)
        twin = twin or next((f for f in spare if figure.agrees(f)), None)
        if twin is not None:
            spare.remove(twin)
        elif not (figure.kind == "date" and any(figure.agrees(f) for f in around)):  # a year may come from a heading
            missing.append(figure)
    pairs = pair_figures(missing, spare, match, offset)
    differences, elsewhere = [], False
    for i, figure in enumerate(missing):
        partner = pairs.get(i)
        if partner is None and any(figure.agrees(f) for f in around):
            elsewhere = True  # stated around the sentence, not in it: a neighbour is the source
            continue
        source = None
        if partner is not None:
            source = Span(offset + partner.start, offset + partner.end, sentence[partner.start : partner.end])
        stated_as = Span(figure.start, figure.end, claim[figure.start : figure.end])
        differences.append(Difference(figure.kind, stated_as, source))
    return FigureReading(tuple(differences), bool(pairs), elsewhere)


def read_names(claim: str, hit: Hit, surroundings: str) -> list[Difference]:
    """Names of the claim found nowhere near the sentence, paired with a name of the same kind in it."""
    folded_around = folded(surroundings).text
    folded_claim = folded(claim).text
    claimed = [n for n in _names(claim) if folded(n.text).text not in folded_around]
    if not claimed:
        return []
    offset = hit.chunk.start
    spare = [n for n in _names(hit.chunk.cited) if folded(n.text).text not in folded_claim]
    differences = []
    for name in claimed:
        partner = next((n for n in spare if n.kind == name.kind), None)
        if partner is not None:
            spare.remove(partner)
            source = Span(offset + partner.start, offset + partner.end, partner.text)
            differences.append(Difference("name", Span(name.start, name.end, name.text), source))
    return differences
