"""A claim check for people: the verdict, each source with the differing figures marked ⟦ ⟧, its citation."""

from __future__ import annotations

from collections.abc import Iterator

from qa.claims.verdicts import ClaimCheck

_MARKS = {"verbatim": "=", "near-verbatim": "≈", "paraphrase": "~", "mismatch": "≠"}


def marked(text: str, offset: int, spans: list[tuple[int, int]]) -> str:
    """``text`` (which starts at ``offset``) with each span wrapped in ⟦ ⟧."""
    out, at = [], 0
    for start, end in sorted(spans):
        s, e = max(start - offset, at), min(end - offset, len(text))
        if s >= e:
            continue
        out += [text[at:s], "⟦", text[s:e], "⟧"]
        at = e
    return "".join([*out, text[at:]])


def check_lines(check: ClaimCheck, style: str) -> Iterator[str]:
    """The lines ``qa cite`` prints for one claim, citations in ``style`` (gbt7714, apa or plain)."""
    if not check.sources:
        yield f"unsupported: no sentence of the index supports “{check.claim}”"
        return
    yield f"verdict: {check.verdict}"
    for source in check.sources:
        hit, c = source.hit, source.hit.chunk
        spans = [(d.source.start, d.source.end) for d in source.differences if d.source]
        yield f"[{hit.rank}] {_MARKS[source.verdict]} {source.verdict}: {marked(c.cited, c.start, spans)}"
        for d in source.differences:
            stated = f"the source says “{d.source.text}”" if d.source else "the source does not say it"
            yield f"    {d.kind}: the claim says “{d.claim.text}”, {stated}"
        yield f"    {c.source}:{c.line} [{c.start}:{c.end}]  {hit.citation.as_dict()[style]}"
