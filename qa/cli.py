"""The ``qa`` command line: a thin layer over the library (JSON lines out by default)."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from embeddings import EmbeddingsError
from qa.claims import check_lines
from qa.engine import Engine, build_index, lazy_encoder, open_cache, open_engine
from qa.errors import QAError
from qa.index import load_index
from qa.index.generations import check_segmented, is_segmented
from qa.index.reader import IndexReader
from qa.ingest import iter_documents, segment
from qa.runs import (
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
from qa.search import check_style, compose
from qa.settings import Settings

app = typer.Typer(
    rich_markup_mode=None,
    help="chuchu (出处): ask questions about documents and get the exact source sentences back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEFAULT_CORPUS = Path("seeds")
PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Folders, files (.txt .md .html) or corpus .jsonl files. Default: seeds/."),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print an error for people (no stack trace) and return the exit to raise."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn an error the library raises on purpose (of ``qa`` or of the embeddings layer) into a message and exit 2."""
    try:
        yield
    except (QAError, EmbeddingsError) as exc:
        raise fail(str(exc)) from None


def notice(message: str) -> None:
    """Tell the user on stderr about slow one-time work (the first-run model conversion)."""
    typer.echo(f"[chuchu] {message}", err=True)


def emit(record: dict[str, object]) -> None:
    """Write one JSON line to stdout."""
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s: %(message)s")


@app.command()
def chunks(paths: PathsArg = None) -> None:
    """Print every sentence chunk as JSON lines (source, start, end, text, line, paragraph, heading)."""
    try:
        for doc in iter_documents(paths or [DEFAULT_CORPUS]):
            for chunk in segment(doc):
                emit(chunk.as_dict())
    except QAError as exc:
        raise fail(str(exc)) from None
    except BrokenPipeError:
        sys.stderr.close()


IndexOpt = Annotated[
    Path | None, typer.Option("--index", "-i", help="Index directory [env QA_INDEX_DIR; default var/index].")
]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Embedding model [env QA_MODEL].")]
TopKOpt = Annotated[int, typer.Option("--top-k", "-k", min=1, max=100, help="How many hits per question.")]
FormatOpt = Annotated[
    str, typer.Option("--format", "-f", help="jsonl (the judge.py contract), csv (a row per hit), md or trec (a run).")
]
StyleOpt = Annotated[
    str, typer.Option(help="Citation style shown: gbt7714 (GB/T 7714-2015), apa or plain (source:line).")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary line.")]


def _progress(quiet: bool) -> bool:
    """Whether to draw a progress bar: on a terminal, unless --quiet."""
    return not quiet and sys.stderr.isatty()


def _settings(index: Path | None = None, model: str | None = None) -> Settings:
    overrides: dict[str, object] = {}
    if index is not None:
        overrides["index_dir"] = index
    if model is not None:
        overrides["model"] = model
    return Settings(**overrides)  # type: ignore[arg-type]


@app.command("index")
def index_cmd(
    paths: PathsArg = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    rebuild: Annotated[bool, typer.Option(help="Start from an empty index.")] = False,
    keep_missing: Annotated[bool, typer.Option(help="Keep indexed documents that are no longer in PATHS.")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Build or update an index: new documents added, changed ones re-embedded, missing ones removed.

    Only an absent or empty directory, or an index, is written to; the model is loaded only when
    something must be embedded.
    """
    settings = _settings(index, model)
    with reported_errors():
        encoder = lazy_encoder(settings, report=notice)
        with open_cache(settings) as cache:
            _, summary = build_index(
                paths or [settings.corpus],
                settings.index_dir,
                encoder,
                cache,
                rebuild=rebuild,
                keep_missing=keep_missing,
                progress=_progress(quiet),
                backend=settings.index_backend,
                kind=settings.vector_index,
            )
    if not quiet:
        typer.echo(f"{settings.index_dir}: {summary.describe()}", err=True)


@app.command()
def check(index: IndexOpt = None) -> None:
    """Verify an index deeply: every file against its checksum, the files against each other, every text and vector."""
    settings = _settings(index)
    with reported_errors():
        loaded: IndexReader = (
            check_segmented(settings.index_dir)
            if is_segmented(settings.index_dir)
            else load_index(settings.index_dir, for_query=False, deep=True)
        )
    typer.echo(
        f"{settings.index_dir}: ok ({loaded.generation}: {len(loaded.documents)} documents, "
        f"{len(loaded.chunks)} sentences, model {loaded.model_id})"
    )


def _engine(index: Path | None, model: str | None, *, quiet: bool = False) -> Engine:
    with reported_errors():
        return open_engine(_settings(index, model), progress=_progress(quiet), report=notice)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in Chinese or English.")],
    index: IndexOpt = None,
    model: ModelOpt = None,
    top_k: TopKOpt = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of the readable form.")] = False,
) -> None:
    """Ask one question; print the ranked source sentences with their citations."""
    if not question.strip():
        raise fail("the question is empty")
    settings = _settings(index, model)
    reply = compose(question, _engine(index, model).ask(question, top_k), settings.no_answer_cosine)
    if as_json:
        emit(reply.as_dict())
        return
    typer.echo(f"answer: {reply.answer}" if not reply.no_answer else "no source found; the closest sentences:")
    for hit in reply.hits:
        c = hit.chunk
        typer.echo(f"[{hit.rank}] {c.cited}")
        typer.echo(f"    {hit.title} — {c.source}:{c.line} [{c.start}:{c.end}] score {hit.score:.2f}")


@app.command()
def cite(
    claims: Annotated[list[str], typer.Argument(help="Claims or quotes to check; - reads one a line from stdin.")],
    index: IndexOpt = None,
    model: ModelOpt = None,
    top_k: TopKOpt = 3,
    style: StyleOpt = "gbt7714",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line per claim.")] = False,
) -> None:
    """Find the source of a claim and say how faithful it is: verbatim, near-verbatim, paraphrase or mismatch."""
    try:
        check_style(style)
    except QAError as exc:
        raise fail(str(exc)) from None
    texts = [line.strip() for line in sys.stdin] if claims == ["-"] else claims
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise fail("no claim given")
    engine = _engine(index, model)
    for number, claim in enumerate(texts):
        check = engine.cite(claim, top_k)
        if as_json:
            emit(check.as_dict())
            continue
        if number:
            typer.echo("")
        typer.echo(f"claim: {claim}")
        for line in check_lines(check, style):
            typer.echo(line)


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
    quiet: QuietOpt = False,
) -> None:
    """Answer a question set into a file of ranked citations (resumable, in every format)."""
    try:
        out_format = output_format(fmt, style)
        items = parse_questions(sys.stdin.read(), "stdin") if str(questions) == "-" else read_questions(questions)
        out_format.check_ids(q.id for q in items)
        done = out_format.resume(output)
    except QAError as exc:
        raise fail(str(exc)) from None
    engine = _engine(index, model, quiet=quiet)
    cosine = _settings(index, model).no_answer_cosine if out_format.answers else None
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
                progress=_progress(quiet),
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
    engine = _engine(index, model)
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
    engine = _engine(index, model) if found is None or qrels_out else None
    if qrels_out and engine:
        _write_qrels(qrels_out, items, engine)
    if found is None and engine:
        found = {r["id"]: r["hits"] for r in answer_records(items, engine.ask_many, 10)}
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
