"""An index held in Milvus (Milvus Lite for tests and small local use, a Milvus server at scale)."""

from __future__ import annotations

from qa.index.milvus.connection import MilvusTarget, check_version, parse_version
from qa.index.milvus.reads import MilvusIndex, filter_expression
from qa.index.milvus.update import create_milvus, is_built, open_milvus, sync_milvus
from qa.index.milvus.writes import apply_changes

__all__ = [
    "MilvusIndex",
    "MilvusTarget",
    "apply_changes",
    "check_version",
    "create_milvus",
    "filter_expression",
    "is_built",
    "open_milvus",
    "parse_version",
    "sync_milvus",
]
