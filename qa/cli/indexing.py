"""``qa chunks``, ``qa index`` and ``qa check``: reading a corpus, building an index, verifying one."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from qa.building import build_index, lazy_encoder, open_cache
from qa.cli.common import (
    DEFAULT_CORPUS,
    IndexOpt,
    ModelOpt,
    PathsArg,
    QuietOpt,
    app,
    emit,
    fail,
    notice,
    progress_wanted,
    reported_errors,
    settings_for,
)
from qa.errors import QAError
from qa.index import load_index
from qa.index.generations import check_segmented, is_segmented
from qa.index.milvus import open_milvus
from qa.index.reader import IndexReader
from qa.ingest import iter_documents, segment


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


@app.command("index")
def index_cmd(
    paths: PathsArg = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    rebuild: Annotated[bool, typer.Option(help="Start from an empty index.")] = False,
    keep_missing: Annotated[bool, typer.Option(help="Keep indexed documents that are no longer in PATHS.")] = False,
    allow_empty: Annotated[
        bool, typer.Option(help="Accept PATHS without any document (which empties the index).")
    ] = False,
    quiet: QuietOpt = False,
) -> None:
    """Build or update an index: new documents added, changed ones re-embedded, missing ones removed.

    Only an absent or empty directory, or an index, is written to; the model is loaded only when
    something must be embedded.
    """
    settings = settings_for(index, model)
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
                allow_empty=allow_empty,
                progress=progress_wanted(quiet),
                backend=settings.index_backend,
                kind=settings.vector_index,
                milvus=settings.milvus_target(),
            )
    if not quiet:
        typer.echo(f"{settings.index_name()}: {summary.describe()}", err=True)


@app.command()
def check(index: IndexOpt = None) -> None:
    """Verify an index deeply: every file against its checksum, the files against each other, every text and vector."""
    settings = settings_for(index)
    with reported_errors():
        loaded: IndexReader = (
            open_milvus(settings.milvus_target())
            if settings.index_backend == "milvus"
            else check_segmented(settings.index_dir)
            if is_segmented(settings.index_dir)
            else load_index(settings.index_dir, for_query=False, deep=True)
        )
    typer.echo(
        f"{settings.index_name()}: ok ({loaded.generation or 'milvus'}: {len(loaded.documents)} documents, "
        f"{len(loaded.chunks)} sentences, model {loaded.model_id})"
    )
