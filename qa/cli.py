"""The ``qa`` command line: a thin layer over the library (JSON lines out by default)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from embeddings import EmbeddingsError
from qa.claims import ClaimCheck
from qa.engine import Engine, build_index, open_cache, open_encoder, open_engine
from qa.errors import QAError
from qa.ingest import iter_documents, segment
from qa.runs import (
    completed_ids,
    parse_questions,
    read_claim_gold,
    read_gold,
    read_questions,
    run_batch,
    score,
    score_claims,
)
from qa.search import compose
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
) -> None:
    """Build or update an index: new documents added, changed ones re-embedded, missing ones removed."""
    settings = _settings(index, model)
    with reported_errors():
        encoder = open_encoder(settings, report=notice)
        with open_cache(settings) as cache:
            _, summary = build_index(
                paths or [settings.corpus],
                settings.index_dir,
                encoder,
                cache,
                rebuild=rebuild,
                keep_missing=keep_missing,
                progress=sys.stderr.isatty(),
                kind=settings.vector_index,
            )
    typer.echo(f"{settings.index_dir}: {summary.describe()}", err=True)


def _engine(index: Path | None, model: str | None) -> Engine:
    with reported_errors():
        return open_engine(_settings(index, model), progress=sys.stderr.isatty(), report=notice)


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


def _print_check(check: ClaimCheck, style: str) -> None:
    if not check.sources:
        typer.echo(f"unsupported: no sentence of the index supports “{check.claim}”")
        return
    typer.echo(f"verdict: {check.verdict}")
    for source in check.sources:
        hit, c = source.hit, source.hit.chunk
        marked = [(d.source.start, d.source.end) for d in source.differences if d.source]
        typer.echo(f"[{hit.rank}] {_MARKS[source.verdict]} {source.verdict}: {_marked(c.cited, c.start, marked)}")
        for d in source.differences:
            stated = f"the source says “{d.source.text}”" if d.source else "the source does not say it"
            typer.echo(f"    {d.kind}: the claim says “{d.claim.text}”, {stated}")
        typer.echo(f"    {c.source}:{c.line} [{c.start}:{c.end}]  {hit.citation.as_dict()[style]}")


@app.command()
def cite(
    claims: Annotated[list[str], typer.Argument(help="Claims or quotes to check; - reads one a line from stdin.")],
    index: IndexOpt = None,
    model: ModelOpt = None,
    top_k: TopKOpt = 3,
    style: Annotated[
        str, typer.Option(help="Citation style shown: gbt7714 (GB/T 7714-2015), apa or plain (source:line).")
    ] = "gbt7714",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line per claim.")] = False,
) -> None:
    """Find the source of a claim and say how faithful it is: verbatim, near-verbatim, paraphrase or mismatch."""
    if style not in {"gbt7714", "apa", "plain"}:
        raise fail(f"unknown citation style {style!r}: use gbt7714, apa or plain")
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
        _print_check(check, style)


@app.command()
def batch(
    questions: Annotated[
        Path, typer.Argument(help="Questions: .jsonl (id, question), .csv, or text one per line; - for stdin.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="JSONL output; rerunning skips ids already in it.")],
    index: IndexOpt = None,
    model: ModelOpt = None,
    top_k: TopKOpt = 10,
) -> None:
    """Answer a question set into a JSONL file of ranked citations (resumable)."""
    try:
        items = parse_questions(sys.stdin.read(), "stdin") if str(questions) == "-" else read_questions(questions)
        done = completed_ids(output)
    except QAError as exc:
        raise fail(str(exc)) from None
    engine = _engine(index, model)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("a", encoding="utf-8") as out:
        summary = run_batch(
            items,
            lambda qs: [[h.as_dict() for h in hits] for hits in engine.ask_many(qs, top_k)],
            out,
            skip=done,
            progress=sys.stderr.isatty(),
        )
    typer.echo(f"{output}: {summary.answered} answered, {summary.skipped} already there", err=True)


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
) -> None:
    """Recall@1/5/10 and MRR@10 of the index's answers to a gold question set (or, with --claims, verdict accuracy)."""
    if claims:
        _eval_claims(gold, index, model)
        return
    try:
        items = read_gold(gold)
    except QAError as exc:
        raise fail(str(exc)) from None
    engine = _engine(index, model)
    results: dict[str, list[dict[str, object]]] = {}
    for start in range(0, len(items), 64):
        group = items[start : start + 64]
        for item, hits in zip(group, engine.ask_many([g.question for g in group], 10), strict=True):
            results[item.id] = [h.as_dict() for h in hits]
    typer.echo(score(items, results).describe())
