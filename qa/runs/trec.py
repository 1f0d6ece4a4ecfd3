"""TREC run files (``qid Q0 docno rank score tag``) and qrels, so trec_eval-style tools can score a batch run.

A docno names one cited sentence: ``source#start-end`` (the document id, with whitespace, ``%`` and
``#`` percent-encoded, and the sentence's character offsets).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, unquote

from qa.errors import InputError
from qa.runs.blocks import Block, lines, not_an_output
from qa.runs.evaluation import MAX_CITED_CHARS, Gold

TAG = "chuchu"
_UNSAFE = re.compile(r"[\s%#]")
_DOCNO = re.compile(r"(.+)#(\d+)-(\d+)")


def docno(source: str, start: int, end: int) -> str:
    """The docno of the sentence ``source[start:end]``."""
    return f"{_UNSAFE.sub(lambda m: quote(m.group()), source)}#{start}-{end}"


def parse_docno(value: str) -> tuple[str, int, int]:
    """(source, start, end) of a docno; InputError when it is not one."""
    m = _DOCNO.fullmatch(value)
    if not m:
        raise InputError(f"{value!r} is not a docno (source#start-end)")
    return unquote(m.group(1)), int(m.group(2)), int(m.group(3))


def check_ids(ids: Iterable[str]) -> None:
    """A TREC qid has no whitespace: InputError naming the first id that has."""
    for qid in ids:
        if not qid or re.search(r"\s", qid):
            raise InputError(f"question id {qid!r} cannot be a TREC qid (it must be non-empty, without spaces)")


def render_run(record: Mapping[str, Any], tag: str = TAG) -> str:
    """The run lines of one question, one per hit, in rank order."""
    return "".join(
        f"{record['id']} Q0 {docno(h['source'], h['start'], h['end'])} {h['rank']} {h['score']} {tag}\n"
        for h in record["hits"]
    )


def parse_run(text: str, name: str) -> list[Block]:
    """The questions of a run file, each with its hits (rank, score, source, start, end)."""
    blocks: list[Block] = []
    hits: list[dict[str, object]] = []
    numbered = list(enumerate(lines(text), 1))
    for number, (at, line) in numbered:
        fields = line.split()
        try:
            qid, _, doc, rank, value, _ = fields
            source, start, end = parse_docno(doc)
            hit: dict[str, object] = {"rank": int(rank), "score": float(value), "source": source}
        except (ValueError, InputError):
            if number < len(numbered) or line.endswith("\n"):
                raise not_an_output(name, number, "a TREC run line (qid Q0 source#start-end rank score tag)") from None
            break  # a torn last line: its question is (at the latest) the last block, answered again
        hit.update(start=start, end=end)
        if not blocks or blocks[-1].id != qid:
            hits = []
            blocks.append(Block(qid, at, {"id": qid, "hits": hits}))
        hits.append(hit)
    return blocks


def qrels(gold: Sequence[Gold], sentences: Callable[[str], Sequence[tuple[int, int]]]) -> str:
    """Qrels of a gold set: every sentence of the gold source that holds a whole gold span is relevant.

    ``sentences(source)`` gives the (start, end) of each indexed sentence of a document. A span
    that no sentence holds is listed as its own docno, so a tool counts that question as missed,
    the way ``qa eval`` does.
    """
    out = []
    for item in gold:
        spans = [(s, e) for s, e in sentences(item.source) if e - s <= MAX_CITED_CHARS]
        relevant = {(s, e) for s, e in spans if any(s <= a and b <= e for a, b in item.spans)}
        for start, end in sorted(relevant) or item.spans[:1]:
            out.append(f"{item.id} 0 {docno(item.source, start, end)} 1\n")
    return "".join(out)
