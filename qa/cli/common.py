"""What every ``qa`` command shares: the app, the options, error reporting, settings and the engine."""

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
from qa.engine import Engine, open_engine
from qa.errors import QAError
from qa.settings import Settings
from qa.text import check_text

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


def read_stdin() -> str:
    """Standard input as text; bytes that are not UTF-8 are a clear error, not a traceback."""
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"stdin: byte {exc.start} is not UTF-8 (0x{data[exc.start]:02X})") from None


def checked(text: str, what: str) -> str:
    """``text`` if it is valid Unicode (an argument holding a byte that is not UTF-8 is not), else a clear error."""
    try:
        return check_text(text, what)
    except QAError as exc:
        raise fail(str(exc)) from None


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s: %(message)s", force=True
    )


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


def progress_wanted(quiet: bool) -> bool:
    """Whether to draw a progress bar: on a terminal, unless --quiet."""
    return not quiet and sys.stderr.isatty()


def settings_for(index: Path | None = None, model: str | None = None) -> Settings:
    """The settings, with the index and model a command was given in place of the configured ones."""
    overrides: dict[str, object] = {}
    if index is not None:
        overrides["index_dir"] = index
    if model is not None:
        overrides["model"] = model
    return Settings(**overrides)  # type: ignore[arg-type]


def engine_for(index: Path | None, model: str | None, *, quiet: bool = False) -> Engine:
    """The engine over the command's index (loaded and verified; an error for people when it cannot be)."""
    with reported_errors():
        return open_engine(settings_for(index, model), progress=progress_wanted(quiet), report=notice)
