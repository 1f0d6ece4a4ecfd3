"""The ``qa`` command line: a thin layer over the library (JSON lines out by default)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from qa.errors import QAError
from qa.reading import iter_documents
from qa.segment import segment

app = typer.Typer(
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
