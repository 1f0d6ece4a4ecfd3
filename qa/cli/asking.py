"""``qa ask`` and ``qa cite``: one question, or claims, answered from the index."""

from __future__ import annotations

from typing import Annotated

import typer

from qa.claims import check_lines
from qa.cli.common import (
    IndexOpt,
    ModelOpt,
    StyleOpt,
    TopKOpt,
    app,
    checked,
    emit,
    engine_for,
    fail,
    read_stdin,
    settings_for,
)
from qa.errors import QAError
from qa.search import check_style, compose


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in Chinese or English.")],
    index: IndexOpt = None,
    model: ModelOpt = None,
    top_k: TopKOpt = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of the readable form.")] = False,
) -> None:
    """Ask one question; print the ranked source sentences with their citations."""
    if not checked(question, "question").strip():
        raise fail("the question is empty")
    settings = settings_for(index, model)
    [(hits, unanswerable)] = engine_for(index, model).ask_checked([question], top_k)
    reply = compose(question, hits, settings.no_answer_cosine, no_answer=unanswerable)
    if as_json:
        emit(reply.as_dict())
        return
    typer.echo(f"answer: {reply.answer}" if not reply.no_answer else "no source found; the closest sentences:")
    for hit in reply.hits:
        c = hit.chunk
        typer.echo(f"[{hit.rank}] {c.cited}")
        typer.echo(f"    {hit.title} — {c.where()} score {hit.score:.2f}")


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
    texts = read_stdin().splitlines() if claims == ["-"] else claims
    texts = [checked(t.strip(), "claim") for t in texts if t.strip()]
    if not texts:
        raise fail("no claim given")
    engine = engine_for(index, model)
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
