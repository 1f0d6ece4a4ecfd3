"""Batch output formats: JSON lines (the contract ``judge.py`` reads), CSV, Markdown and TREC runs.

Each format renders one record per question, resumes from a file it wrote (see
:mod:`qa.runs.blocks`) and reads that file back. An error record (``{"id", "error"}``) is a
JSON line of its own in JSONL; the other formats leave it out of the file (the caller reports
it), so a rerun tries that question again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any

from qa.errors import InputError
from qa.ingest import iter_json_objects
from qa.runs import tables, trec
from qa.runs.batch import completed_ids, json_line
from qa.runs.blocks import Parse, read_output, resume_blocks
from qa.search import check_style


@dataclass(frozen=True)
class OutputFormat:
    """How one format writes, resumes and reads a batch output."""

    name: str
    render: Callable[[Mapping[str, Any]], str]
    resume: Callable[[Path], set[str]]
    read: Callable[[Path], list[dict[str, Any]]]
    header: str = ""
    #: Whether records need the composed answer (``answer``, ``no_answer``).
    answers: bool = False
    check_ids: Callable[[Iterable[str]], None] = lambda ids: None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [row for _, row in iter_json_objects(read_output(path).splitlines(), str(path))]


def _blocks(parse: Parse) -> Callable[[Path], list[dict[str, Any]]]:
    def read(path: Path) -> list[dict[str, Any]]:
        return [b.data for b in parse(read_output(path), str(path))]

    return read


def _skip_errors(render: Callable[[Mapping[str, Any]], str]) -> Callable[[Mapping[str, Any]], str]:
    return lambda record: "" if "error" in record else render(record)


def output_format(name: str, style: str = "gbt7714") -> OutputFormat:
    """The format called ``name`` (jsonl, csv, md, trec); ``style`` is the citation style CSV and Markdown show."""
    check_style(style)
    if name == "jsonl":
        return OutputFormat("jsonl", json_line, completed_ids, _read_jsonl)
    if name == "csv":
        render = _skip_errors(partial(tables.render_csv, style=style))
        resume = partial(resume_blocks, parse=tables.parse_csv, keep=len(tables.CSV_HEADER))
        return OutputFormat("csv", render, resume, _blocks(tables.parse_csv), tables.CSV_HEADER)
    if name == "md":
        render = _skip_errors(partial(tables.render_markdown, style=style))
        resume = partial(resume_blocks, parse=tables.parse_markdown)
        return OutputFormat("md", render, resume, _blocks(tables.parse_markdown), answers=True)
    if name == "trec":
        resume = partial(resume_blocks, parse=trec.parse_run)
        render = _skip_errors(trec.render_run)
        return OutputFormat("trec", render, resume, _blocks(trec.parse_run), check_ids=trec.check_ids)
    raise InputError(f"unknown output format {name!r}: use jsonl, csv, md or trec")


FORMATS = ("jsonl", "csv", "md", "trec")


@contextmanager
def open_output(path: Path, fmt: OutputFormat) -> Iterator[IO[str]]:
    """``path`` opened for appending records (its header written first when it is new); InputError if it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        out = path.open("a", encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot write this output file ({exc})") from None
    with out:
        if out.tell() == 0:
            out.write(fmt.header)
        yield out


def read_results(path: Path, fmt: OutputFormat) -> dict[str, list[dict[str, Any]]]:
    """The hits of each question in a batch output, in rank order (for scoring a run that is already written)."""
    out = {}
    for record in fmt.read(path):
        if "hits" in record:
            out[str(record["id"])] = sorted(record["hits"], key=lambda h: int(h["rank"]))
    return out
