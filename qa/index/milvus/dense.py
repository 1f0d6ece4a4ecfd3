"""A collection of one vector field under chunk ids: create, upsert, search with a filter, fetch, delete.

Each row also holds its document's id, version and date, which filter expressions and readers use.

These are the dense-vector operations of the Milvus backend, kept to what every Milvus server
since 2.3 offers (one vector field per collection, ``upsert``, filter expressions, delete by
expression), so they run on an older server too; the two dense views of an index are two such
collections.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from qa.index.milvus.connection import backend_errors

#: the longest document id a row holds, in UTF-8 bytes (Milvus's VARCHAR limit)
VARCHAR_BYTES = 65_535
#: room for a document's date (ISO)
DATE_BYTES = 128
_METRIC = "IP"


class DenseCollection:
    """One vector set (inner product, exact search) in the Milvus collection ``name``."""

    def __init__(self, client: Any, uri: str, name: str, dim: int) -> None:
        """Operations on ``name`` through ``client`` (connected to ``uri``), for vectors of width ``dim``."""
        self.client, self.uri, self.name, self.dim = client, uri, name, dim

    def exists(self) -> bool:
        """Whether the collection exists."""
        with backend_errors(self.uri):
            return bool(self.client.has_collection(self.name))

    def create(self) -> None:
        """Create the collection (id, document, version, vector) with an exact inner-product index, loaded."""
        from pymilvus import DataType

        with backend_errors(self.uri):
            schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("doc", DataType.VARCHAR, max_length=VARCHAR_BYTES)
            schema.add_field("version", DataType.INT64)
            schema.add_field("date", DataType.VARCHAR, max_length=DATE_BYTES)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
            index = self.client.prepare_index_params()
            index.add_index(field_name="vector", index_type="FLAT", metric_type=_METRIC)
            self.client.create_collection(self.name, schema=schema, index_params=index, consistency_level="Strong")

    def drop(self) -> None:
        """Remove the collection (nothing when it does not exist)."""
        with backend_errors(self.uri):
            if self.client.has_collection(self.name):
                self.client.drop_collection(self.name)

    def upsert(
        self,
        ids: Sequence[int],
        docs: Sequence[str],
        versions: Sequence[int],
        vectors: np.ndarray,
        dates: Sequence[str] | None = None,
    ) -> None:
        """Write (or overwrite) the rows of ``ids`` (``dates``: their documents' ISO dates, "" for none).

        A server keeps one row per id only through upsert (a plain insert would add a second).
        """
        days = dates if dates is not None else [""] * len(ids)
        rows = [
            {"id": int(i), "doc": d, "version": int(v), "date": day, "vector": vec.tolist()}
            for i, d, v, day, vec in zip(ids, docs, versions, days, np.asarray(vectors, dtype=np.float32), strict=True)
        ]
        if rows:
            with backend_errors(self.uri):
                self.client.upsert(self.name, rows)

    def search(self, queries: np.ndarray, k: int, where: str = "") -> list[list[tuple[int, float, str, int]]]:
        """Per query, up to ``k`` rows (id, inner product, document, version) matching ``where``, best first."""
        q = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        with backend_errors(self.uri):
            found = self.client.search(
                self.name,
                data=q.tolist(),
                filter=where,
                limit=k,
                anns_field="vector",
                output_fields=["doc", "version"],
                search_params={"metric_type": _METRIC},
            )
        return [
            [(int(h["id"]), float(h["distance"]), str(h["entity"]["doc"]), int(h["entity"]["version"])) for h in hits]
            for hits in found
        ]

    def vectors(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The stored vectors of those ``ids`` that exist."""
        if not len(ids):
            return {}
        with backend_errors(self.uri):
            rows = self.client.query(self.name, ids=[int(i) for i in ids], output_fields=["vector"])
        return {int(r["id"]): np.asarray(r["vector"], dtype=np.float32) for r in rows}

    def delete(self, where: str) -> None:
        """Delete the rows matching the filter expression ``where``."""
        with backend_errors(self.uri):
            self.client.delete(self.name, filter=where)

    def count(self) -> int:
        """How many rows the collection holds."""
        with backend_errors(self.uri):
            rows = self.client.query(self.name, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0
