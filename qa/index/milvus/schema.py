"""The Milvus collections of one index, named ``PREFIX_<name>``, and their schemas.

- ``chunks``: one row per sentence: document id and version, place (index, offsets, line,
  paragraph, heading, page), texts, lexical tokens, content keys, the document's date (for
  filters) and the lexical leg: the tokens as opaque words (``lex``) that Milvus's BM25 function
  turns into the sparse vector ``sparse``.
- ``sentence`` and ``context``: the two dense views (:class:`~qa.index.milvus.dense.DenseCollection`).
- ``documents``: one row per document: its current version, checksum, metadata, sentence count.
- ``texts``: document texts (and the rare sentence too long for one field) in parts under a VARCHAR's size.
- ``meta``: what the index was built with (model, dimension, segmenter and tokenizer versions), and
  the removals under way (see qa.index.milvus.writes).

Collections that need no vector of their own carry a 2-dimensional placeholder (Milvus wants one).
"""

from __future__ import annotations

from typing import Any

from qa.errors import IndexBackendError
from qa.index.milvus.connection import backend_errors
from qa.index.milvus.dense import VARCHAR_BYTES, DenseCollection

#: BM25 parameters, the local stores' own
K1, B = 1.2, 0.75
PLACEHOLDER = [0.0, 0.0]
#: analyzer of ``lex``: our tokens arrive as ASCII words (see qa.index.milvus.lexical), which it keeps whole
ANALYZER = {"tokenizer": "standard"}


def _base(client: Any, key_type: str) -> Any:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    if key_type == "int":
        schema.add_field("id", DataType.INT64, is_primary=True)
    else:
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=VARCHAR_BYTES)
    return schema


def _chunks_schema(client: Any) -> tuple[Any, Any]:
    from pymilvus import DataType, Function, FunctionType

    schema = _base(client, "int")
    schema.add_field("doc", DataType.VARCHAR, max_length=VARCHAR_BYTES)
    for name in ("version", "idx", "start", "end", "line", "paragraph", "page"):
        schema.add_field(name, DataType.INT64)
    for name in ("heading", "text", "cited", "tokens"):
        schema.add_field(name, DataType.VARCHAR, max_length=VARCHAR_BYTES)
    schema.add_field("spilled", DataType.BOOL)
    for name in ("key", "context_key", "date"):
        schema.add_field(name, DataType.VARCHAR, max_length=128)
    schema.add_field("lex", DataType.VARCHAR, max_length=VARCHAR_BYTES, enable_analyzer=True, analyzer_params=ANALYZER)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["lex"], output_field_names=["sparse"])
    )
    index = client.prepare_index_params()
    # nested "params": Milvus Lite silently drops BM25 parameters given flat (checked by verify_bm25)
    index.add_index(
        field_name="sparse",
        index_type="SPARSE_INVERTED_INDEX",
        metric_type="BM25",
        params={"params": {"bm25_k1": K1, "bm25_b": B}},
    )
    return schema, index


def _placeholder_schema(client: Any, fields: dict[str, str]) -> tuple[Any, Any]:
    from pymilvus import DataType

    schema = _base(client, "str")
    kinds = {"int": DataType.INT64, "json": DataType.JSON}
    for name, kind in fields.items():
        if kind == "str":
            schema.add_field(name, DataType.VARCHAR, max_length=VARCHAR_BYTES)
        else:
            schema.add_field(name, kinds[kind])
    schema.add_field("placeholder", DataType.FLOAT_VECTOR, dim=len(PLACEHOLDER))
    index = client.prepare_index_params()
    index.add_index(field_name="placeholder", index_type="FLAT", metric_type="L2")
    return schema, index


_DOCUMENT_FIELDS = {
    "version": "int",
    "checksum": "str",
    "meta": "json",
    "chunks": "int",
    "pages": "str",
    "parts": "int",
}
_TEXT_FIELDS = {"owner": "str", "doc": "str", "version": "int", "part": "int", "text": "str"}
_META_FIELDS = {"value": "str"}


class Collections:
    """The collections of the index ``prefix`` on one Milvus."""

    def __init__(self, client: Any, uri: str, prefix: str, dim: int) -> None:
        """Collections named ``prefix_*`` through ``client`` (connected to ``uri``); vectors of width ``dim``."""
        self.client, self.uri, self.prefix, self.dim = client, uri, prefix, dim
        self.chunks, self.documents = f"{prefix}_chunks", f"{prefix}_documents"
        self.texts, self.meta = f"{prefix}_texts", f"{prefix}_meta"
        self.sentence = DenseCollection(client, uri, f"{prefix}_sentence", dim)
        self.context = DenseCollection(client, uri, f"{prefix}_context", dim)

    @property
    def scalar(self) -> tuple[str, ...]:
        """The names of the collections other than the dense views."""
        return (self.chunks, self.documents, self.texts, self.meta)

    def exists(self) -> bool:
        """Whether the index's collections are all there."""
        with backend_errors(self.uri):
            return all(self.client.has_collection(n) for n in self.scalar) and self.sentence.exists()

    def create(self) -> None:
        """Create every collection that is missing (loaded, strongly consistent) and check the BM25 parameters."""
        schemas = {
            self.chunks: lambda: _chunks_schema(self.client),
            self.documents: lambda: _placeholder_schema(self.client, _DOCUMENT_FIELDS),
            self.texts: lambda: _placeholder_schema(self.client, _TEXT_FIELDS),
            self.meta: lambda: _placeholder_schema(self.client, _META_FIELDS),
        }
        with backend_errors(self.uri):
            for name, make in schemas.items():
                if not self.client.has_collection(name):
                    schema, index = make()
                    self.client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")
        for dense in (self.sentence, self.context):
            if not dense.exists():
                dense.create()
        self.verify_bm25()

    def load(self) -> None:
        """Load every collection for reading (a Milvus Lite database starts with them released)."""
        with backend_errors(self.uri):
            for name in (*self.scalar, self.sentence.name, self.context.name):
                self.client.load_collection(name)

    def verify_bm25(self) -> None:
        """Refuse a chunks collection whose BM25 index lost its parameters (they would score unlike the local store)."""
        with backend_errors(self.uri):
            params = self.client.describe_index(self.chunks, "sparse")
        params = params.get("params", params)
        got = (float(params.get("bm25_k1", -1)), float(params.get("bm25_b", -1)))
        if got != (K1, B):
            raise IndexBackendError(
                f"Milvus at {self.uri}: {self.chunks} has BM25 k1/b {got}, not {(K1, B)}; "
                "rebuild it with: qa index PATH --rebuild"
            )

    def drop(self) -> None:
        """Remove every collection of the index."""
        with backend_errors(self.uri):
            for name in self.scalar:
                if self.client.has_collection(name):
                    self.client.drop_collection(name)
        self.sentence.drop()
        self.context.drop()
