"""The ``qa`` command: the library's commands plus ``serve``, which needs the API layer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from api.app import create_app
from qa.cli import IndexOpt, ModelOpt, app
from qa.settings import Settings

__all__ = ["app"]


@app.command()
def serve(
    index: IndexOpt = None,
    model: ModelOpt = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on [env QA_HOST; default 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [env QA_PORT; default 8000].")] = None,
    corpus: Annotated[
        Path | None, typer.Option(help="Corpus indexed on first run [env QA_CORPUS; default seeds].")
    ] = None,
) -> None:
    """Serve the HTTP API (building the index from the corpus on first run)."""
    overrides = {
        key: value
        for key, value in {"index_dir": index, "model": model, "host": host, "port": port, "corpus": corpus}.items()
        if value is not None
    }
    settings = Settings(**overrides)  # type: ignore[arg-type]
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)
