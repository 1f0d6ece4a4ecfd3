"""The ``qa`` command: the library's commands plus ``serve``, which needs the API layer.

``serve`` lives here, not in :mod:`qa.cli`, because the library never imports the API; the
``qa`` console script points at this module's ``app``.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Annotated

import typer

from qa.cli import IndexOpt, ModelOpt, app, notice, reported_errors
from qa.engine import open_engine
from qa.settings import Settings

__all__ = ["app"]


@app.command()
def serve(
    index: IndexOpt = None,
    model: ModelOpt = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on [env QA_HOST; default 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [env QA_PORT; default 8000].")] = None,
    corpus: Annotated[
        Path | None, typer.Option(help="Corpus indexed when there is no index yet [env QA_CORPUS; default seeds].")
    ] = None,
) -> None:
    """Serve the HTTP API (building the index from the corpus on first run, with a progress bar)."""
    import uvicorn

    from api.app import create_app
    from api.server import server_config

    given = {"index_dir": index, "model": model, "host": host, "port": port, "corpus": corpus}
    settings = Settings(**{key: value for key, value in given.items() if value is not None})  # type: ignore[arg-type]
    with reported_errors():
        engine = open_engine(settings, progress=sys.stderr.isatty(), report=notice, build=True)
    typer.echo(
        f"{settings.index_name()}: {len(engine.index.documents)} documents, {len(engine.index.chunks)} sentences "
        f"({engine.encoder.model_id}); writes {'enabled' if settings.api_key else 'disabled (QA_API_KEY unset)'}",
        err=True,
    )
    app = create_app(settings, engine)
    gc.freeze()  # what start-up loaded (jieba's dictionary, the models) stays out of every garbage collection
    uvicorn.Server(server_config(app, settings)).run()
