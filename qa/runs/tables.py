"""Batch output for people: CSV (one row per hit) and Markdown (one section per question), both readable back."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from qa.runs.blocks import Block, lines, not_an_output

CSV_COLUMNS = ("id", "question", "rank", "score", "source", "start", "end", "line", "page", "text", "citation")
#: Written first, so that spreadsheet programs read the file as UTF-8.
BOM = "\ufeff"
_INTS = ("rank", "start", "end", "line")


def _csv_text(rows: Sequence[Sequence[object]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


CSV_HEADER = BOM + _csv_text([CSV_COLUMNS])


def render_csv(record: Mapping[str, Any], style: str) -> str:
    """The rows of one question: one per hit (a question without hits gets one row with no hit fields)."""
    head = [record["id"], record["question"]]
    hits = record["hits"]
    if not hits:
        return _csv_text([head + [""] * (len(CSV_COLUMNS) - 2)])
    keys = ("rank", "score", "source", "start", "end", "line")
    return _csv_text([head + [h[k] for k in keys] + [h.get("page", ""), h["text"], h["citation"][style]] for h in hits])


def _csv_hit(row: dict[str, str]) -> dict[str, object]:
    hit: dict[str, object] = {k: row[k] for k in ("source", "text", "citation")}
    hit.update({k: int(row[k]) for k in _INTS}, score=float(row["score"]))
    if row["page"]:
        hit["page"] = int(row["page"]) if row["page"].isdigit() else row["page"]
    return hit


def parse_csv(text: str, name: str) -> list[Block]:
    """The questions of a CSV batch output, each with its hits; a torn last row is left for the resume."""
    if CSV_HEADER.startswith(text):  # empty, or the header torn
        return []
    units = list(lines(text, newline=""))
    rows = csv.reader(line for _, line in units)
    header = next(rows)
    if [header[0].removeprefix(BOM), *header[1:]] != list(CSV_COLUMNS):
        raise not_an_output(name, 1, "a CSV batch output (its header differs)")
    blocks: list[Block] = []
    hits: list[dict[str, object]] = []
    for first, row in _rows_from(rows):
        if len(row) != len(CSV_COLUMNS):
            if rows.line_num < len(units):  # not the last row: not torn, wrong
                raise not_an_output(name, first + 1, "a CSV batch output row")
            break  # torn: whichever question it belonged to is the last block, answered again
        values = dict(zip(CSV_COLUMNS, row, strict=True))
        if not blocks or blocks[-1].id != values["id"]:
            hits = []
            blocks.append(Block(values["id"], units[first][0], {**values, "hits": hits}))
        if values["rank"]:
            hits.append(_csv_hit(values))
    return [Block(b.id, b.start, {k: b.data[k] for k in ("id", "question", "hits")} if b.data else {}) for b in blocks]


def _rows_from(rows: Any) -> Iterator[tuple[int, list[str]]]:
    """(index of the physical line it starts on, row) of each row a csv reader reads."""
    while True:
        first = rows.line_num
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error:  # an unterminated quote: a torn last row
            yield first, []
            return
        yield first, row


_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")
_ESCAPED = re.compile(r"\\(.)|<br>")
_QUESTION, _ANSWER, _NO_ANSWER = "**Question:** ", "**Answer:** ", "no source found; the closest sentences:"
_ITEM = re.compile(r"(\d+)\. (.*?) {0,2}$")
_WHERE = re.compile(r" {3}`(.+):(\d+)`(?: p\. (\S+))? \[(\d+)–(\d+)\](?: · (.*))?$")


def md_escape(text: str) -> str:
    """Text shown literally in Markdown, on one line (a line break becomes ``<br>``)."""
    return _SPECIAL.sub(r"\\\1", text).replace("\r\n", "\n").replace("\n", "<br>")


def md_unescape(text: str) -> str:
    """The text :func:`md_escape` was given."""
    return _ESCAPED.sub(lambda m: m.group(1) if m.group(1) is not None else "\n", text)


def _where(hit: Mapping[str, Any]) -> str:
    page = f" p. {hit['page']}" if hit.get("page") not in (None, "") else ""
    return f"`{hit['source']}:{hit['line']}`{page} [{hit['start']}–{hit['end']}]"


def render_markdown(record: Mapping[str, Any], style: str) -> str:
    """One section: the id as heading, the question, the answer, then every hit with its citation."""
    answer = _NO_ANSWER if record.get("no_answer") else md_escape(str(record.get("answer", "")))
    out = [f"## {md_escape(record['id'])}", "", _QUESTION + md_escape(record["question"]), "", _ANSWER + answer, ""]
    for hit in record["hits"]:
        out.append(f"{hit['rank']}. {md_escape(hit['text'])}  ")
        out.append(f"   {_where(hit)} · {md_escape(hit['citation'][style])}")
    return "\n".join([*out, "", ""]) if record["hits"] else "\n".join([*out, ""])


def _md_hits(body: list[str]) -> list[dict[str, object]]:
    hits: list[dict[str, object]] = []
    for line in body:
        item, where = _ITEM.match(line), _WHERE.match(line)
        if where and hits:
            source, number, page, start, end, citation = where.groups()
            hits[-1].update(source=source, line=int(number), start=int(start), end=int(end))
            hits[-1]["citation"] = md_unescape(citation or "")
            if page is not None:
                hits[-1]["page"] = int(page) if page.isdigit() else page
        elif item:
            hits.append({"rank": int(item.group(1)), "text": md_unescape(item.group(2))})
    return hits


def _md_section(block: Block, body: list[str]) -> Block:
    data: dict[str, object] = {"id": block.id, "question": "", "answer": "", "hits": _md_hits(body)}
    for line in body:
        for key, mark in (("question", _QUESTION), ("answer", _ANSWER)):
            if line.startswith(mark):
                data[key] = md_unescape(line.removeprefix(mark))
    data["no_answer"] = data["answer"] == _NO_ANSWER
    return Block(block.id, block.start, data)


def parse_markdown(text: str, name: str) -> list[Block]:
    """The questions of a Markdown batch output: id, question, answer and each hit's sentence and place."""
    sections: list[tuple[Block, list[str]]] = []
    for number, (at, line) in enumerate(lines(text), 1):
        if line.startswith("## ") or "## ".startswith(line):  # the latter: a heading torn at the end
            sections.append((Block(md_unescape(line[3:].rstrip("\n")), at), []))
        elif sections:
            sections[-1][1].append(line.rstrip("\n"))
        elif line.strip():
            raise not_an_output(name, number, "a Markdown batch output (sections start with '## id')")
    return [_md_section(block, body) for block, body in sections]
