"""Connecting to Milvus (a Milvus Lite ``.db`` path or a server URI), checking its version, and its errors.

The whole backend needs Milvus 2.5 or later (the BM25 function turns the lexical leg into a
sparse vector inside Milvus); Milvus Lite 3.x has it. The dense collections alone
(:mod:`qa.index.milvus.dense`) also run on older servers with one vector field per collection.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import IndexBackendError

#: the oldest server the whole backend runs on, and what it needs from it
MIN_VERSION = (2, 5)
NEEDS = "its BM25 function scores the lexical leg"
#: how long a reader keeps what it read for the other reads of the same question (a write here forgets it)
KEEP_SECONDS = 1.0
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class MilvusTarget:
    """Where an index lives in Milvus: the URI (a Lite ``.db`` path or ``http://host:19530``), token, name prefix."""

    uri: str = "var/milvus.db"
    token: str | None = None
    prefix: str = "chuchu"


def is_lite(uri: str) -> bool:
    """Whether ``uri`` names a Milvus Lite database file rather than a server."""
    return "://" not in uri


def connect(uri: str, token: str | None = None) -> Any:
    """A ``pymilvus.MilvusClient`` for ``uri`` (a Lite file's folder is created), or IndexBackendError."""
    from pymilvus import MilvusClient

    # errors reach the user as IndexBackendError; the client's and Lite's own logs would repeat them as tracebacks
    for name in ("pymilvus", "grpc._server", "milvus_lite"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    if is_lite(uri):
        Path(uri).expanduser().parent.mkdir(parents=True, exist_ok=True)
    with backend_errors(uri):
        return MilvusClient(uri=str(Path(uri).expanduser()) if is_lite(uri) else uri, token=token or "")


@contextmanager
def backend_errors(uri: str) -> Iterator[None]:
    """Turn a failing Milvus call into IndexBackendError naming the URI (no traceback for users)."""
    from pymilvus import MilvusException

    try:
        yield
    except MilvusException as exc:
        raise IndexBackendError(f"Milvus at {uri}: {exc.message or exc}") from None
    except (ConnectionError, OSError, TimeoutError) as exc:
        raise IndexBackendError(f"Milvus at {uri}: cannot connect ({exc})") from None


def parse_version(text: str) -> tuple[int, int, int] | None:
    """The (major, minor, patch) of a server version string; None when it names Milvus Lite or none is found."""
    if text.startswith("milvus_lite") or text.startswith("milvus-lite"):
        return None
    found = _VERSION.search(text)
    if found is None:
        return None
    return int(found[1]), int(found[2]), int(found[3] or 0)


def check_version(version: str, uri: str, *, minimum: tuple[int, int] = MIN_VERSION, needs: str = NEEDS) -> None:
    """Refuse a server older than ``minimum`` with one line saying what the index needs (Lite 3.x passes)."""
    parsed = parse_version(version)
    if parsed is not None and parsed[:2] < minimum:
        wanted = ".".join(map(str, minimum))
        raise IndexBackendError(
            f"Milvus at {uri} is version {version}; this index needs Milvus {wanted} or later ({needs}): "
            "upgrade the server, or use Milvus Lite (QA_MILVUS_URI=var/milvus.db)"
        )


def server_version(client: Any, uri: str) -> str:
    """The version string the server reports."""
    with backend_errors(uri):
        return str(client.get_server_version())


def literal(value: str) -> str:
    """``value`` as a string literal of a Milvus filter expression."""
    return json.dumps(value, ensure_ascii=False)
