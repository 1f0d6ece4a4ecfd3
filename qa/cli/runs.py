"""``qa batch`` and ``qa eval``: question sets answered into files, and scored against gold files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, cast

import typer

from qa.cli.common import (
    FormatOpt,
    IndexOpt,
    ModelOpt,
    QuietOpt,
    StyleOpt,
    TopKOpt,
    app,
    engine_for,
    fail,
    progress_wanted,
    read_stdin,
    settings_for,
)
from qa.engine import Engine
from qa.errors import QAError
from qa.runs import (
    BatchRecord,
    Gold,
    answer_records,
    open_output,
    output_format,
    parse_questions,
    qrels,
    read_claim_gold,
    read_gold,
    read_questions,
    read_results,
    run_batch,
    score,
    score_claims,
)


@app.command()
def batch(
    questions: Annotated[
        Path, typer.Argument(help="Questions: .jsonl (id, question), .csv, or text one per line; - for stdin.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file; rerunning skips ids already in it.")],
    index: IndexOpt = None,
    model: ModelOpt = None,
    top_k: TopKOpt = 10,
    fmt: FormatOpt = "jsonl",
    style: StyleOpt = "gbt7714",
    strict: Annotated[
        bool, typer.Option(help="Stop at the first line that cannot be answered (default: record it and go on).")
    ] = False,
    quiet: QuietOpt = False,
) -> None:
    """Answer a question set into a file of ranked citations (resumable, in every format).

    A line that cannot be read or answered is written as {"id", "error": {"code", "message"}}
    (JSON lines; the other formats leave it out) and reported on stderr; the run goes on (unless --strict).
    """
    limit = settings_for(index, model).max_question_chars
    try:
        out_format = output_format(fmt, style)
        if str(questions) == "-":
            items = parse_questions(read_stdin(), "stdin", max_chars=limit, strict=strict)
        else:
            items = read_questions(questions, max_chars=limit, strict=strict)
        out_format.check_ids(q.id for q in items)
        done = out_format.resume(output)
    except QAError as exc:
        raise fail(str(exc)) from None
    engine = engine_for(index, model, quiet=quiet)
    cosine = settings_for(index, model).no_answer_cosine if out_format.answers else None
    started = time.perf_counter()
    try:
        with open_output(output, out_format) as out:
            summary = run_batch(
                items,
                engine.ask_many,
                out,
                render=out_format.render,
                top_k=top_k,
                skip=done,
                no_answer_cosine=cosine,
                progress=progress_wanted(quiet),
                strict=strict,
            )
    except QAError as exc:
        raise fail(str(exc)) from None
    if not quiet:
        typer.echo(f"{output}: {summary.describe(time.perf_counter() - started)}", err=True)


def _eval_claims(gold: Path, index: Path | None, model: str | None) -> None:
    try:
        items = read_claim_gold(gold)
    except QAError as exc:
        raise fail(str(exc)) from None
    engine = engine_for(index, model)
    typer.echo(score_claims(items, [engine.cite(g.claim) for g in items]).describe())


@app.command("eval")
def eval_cmd(
    gold: Annotated[Path, typer.Argument(help="Gold JSONL: id, question, source, start/end or spans.")],
    index: IndexOpt = None,
    model: ModelOpt = None,
    claims: Annotated[
        bool, typer.Option("--claims", help="GOLD holds claims (faithful or verdict): score `qa cite` verdicts.")
    ] = False,
    results: Annotated[
        Path | None, typer.Option("--results", help="Score this batch output (of --format) instead of answering.")
    ] = None,
    fmt: FormatOpt = "jsonl",
    qrels_out: Annotated[
        Path | None, typer.Option("--qrels", help="Also write the TREC qrels of GOLD over the index's sentences.")
    ] = None,
) -> None:
    """Recall@1/5/10 and MRR@10 of the index's answers to a gold question set (or, with --claims, verdict accuracy)."""
    if claims:
        _eval_claims(gold, index, model)
        return
    try:
        items = read_gold(gold)
        found = read_results(results, output_format(fmt)) if results else None
    except QAError as exc:
        raise fail(str(exc)) from None
    engine = engine_for(index, model) if found is None or qrels_out else None
    if qrels_out and engine:
        _write_qrels(qrels_out, items, engine)
    if found is None and engine:
        records = answer_records(items, engine.ask_many, 10)
        found = {r["id"]: cast(BatchRecord, r)["hits"] for r in records if "hits" in r}
    typer.echo(score(items, found or {}).describe())


def _write_qrels(path: Path, items: list[Gold], engine: Engine) -> None:
    index = engine.index

    def sentences(source: str) -> list[tuple[int, int]]:
        chunks = index.document_chunks(source) if source in index.documents else []
        return [(c.start, c.end) for c in chunks]

    try:
        path.write_text(qrels(items, sentences), encoding="utf-8")
    except OSError as exc:
        raise fail(f"{path}: cannot write the qrels ({exc})") from None
