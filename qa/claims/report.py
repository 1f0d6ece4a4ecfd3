"""Claim checks in a readable form for people (what ``qa cite`` prints without ``--json``)."""

from __future__ import annotations

from qa.claims.verdicts import ClaimCheck

_MARKS = {"verbatim": "=", "near-verbatim": "≈", "paraphrase": "~", "mismatch": "≠"}


def _marked(text: str, offset: int, spans: list[tuple[int, int]]) -> str:
    """``text`` (which starts at ``offset``) with each span wrapped in ⟦ ⟧."""
    out, at = [], 0
    for start, end in sorted(spans):
        s, e = max(start - offset, at), min(end - offset, len(text))
        if s >= e:
            continue
        out += [text[at:s], "⟦", text[s:e], "⟧"]
        at = e
    return "".join([*out, text[at:]])


def describe_check(check: ClaimCheck, style: str) -> list[str]:
    """The lines ``qa cite`` prints for a check: the verdict, then each source with its differences marked ⟦ ⟧."""
    if not check.sources:
        return [f"unsupported: no sentence of the index supports “{check.claim}”"]
    lines = [f"verdict: {check.verdict}"]
    for source in check.sources:
        hit, c = source.hit, source.hit.chunk
        marked = [(d.source.start, d.source.end) for d in source.differences if d.source]
        lines.append(f"[{hit.rank}] {_MARKS[source.verdict]} {source.verdict}: {_marked(c.cited, c.start, marked)}")
        for d in source.differences:
            stated = f"the source says “{d.source.text}”" if d.source else "the source does not say it"
            lines.append(f"    {d.kind}: the claim says “{d.claim.text}”, {stated}")
        lines.append(f"    {c.source}:{c.line} [{c.start}:{c.end}]  {hit.citation.as_dict()[style]}")
    return lines
