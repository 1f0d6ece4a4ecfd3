"""The real Milvus server of the test suite (fixture ``milvus_uri``, tests/milvus_server.py): driven through pymilvus
alone, the dense path the Milvus backend relies on (collections, inserts, filtered vector search, deletes by
expression, drop); a second server beside the first; and, without a server, how a failed start is reported."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient

from tests import milvus_server

real_server = pytest.mark.milvus_server

DIM = 8
SOURCES = ("a.txt", "b.txt", "c.txt")


@pytest.fixture
def client(milvus_uri: str) -> Iterator[MilvusClient]:
    """A client of the session's server."""
    client = MilvusClient(uri=milvus_uri)
    yield client
    client.close()


@pytest.fixture
def collection(client: MilvusClient) -> Iterator[str]:
    """A fresh collection (string id, source, unit vector; FLAT inner product; strong consistency), dropped after."""
    name = f"smoke_{uuid.uuid4().hex}"
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("source", DataType.VARCHAR, max_length=256)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    index = client.prepare_index_params()
    index.add_index("vec", index_type="FLAT", metric_type="IP")
    client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")
    yield name
    client.drop_collection(name)
    assert name not in client.list_collections()


def rows(count: int = 30) -> list[dict[str, Any]]:
    """Rows with unit vectors, their sources taking turns."""
    vectors = np.random.default_rng(7).standard_normal((count, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [
        {"id": f"s{i}", "source": SOURCES[i % len(SOURCES)], "vec": vector.tolist()} for i, vector in enumerate(vectors)
    ]


def search_ids(client: MilvusClient, name: str, vector: list[float], expression: str = "") -> list[str]:
    """Ids of the nearest rows (all of them at most) matching ``expression``, nearest first."""
    hits = client.search(name, [vector], limit=100, filter=expression, output_fields=["source"])[0]
    return [hit["id"] for hit in hits]


@real_server
def test_the_server_is_milvus_2_3_5(client: MilvusClient) -> None:
    assert client.get_server_version().startswith("v2.3.5")


@real_server
def test_filtered_search_returns_only_matching_rows_nearest_first(client: MilvusClient, collection: str) -> None:
    data = rows()
    assert client.insert(collection, data)["insert_count"] == len(data)
    by_id = {row["id"]: row for row in data}
    query = data[4]  # a b.txt row: its own nearest neighbour

    ids = search_ids(client, collection, query["vec"], 'source == "b.txt"')

    assert ids[0] == query["id"]
    assert sorted(ids) == sorted(row["id"] for row in data if row["source"] == "b.txt")
    others = search_ids(client, collection, query["vec"], 'source in ["a.txt", "c.txt"]')
    assert sorted(by_id[i]["source"] for i in others) == ["a.txt"] * 10 + ["c.txt"] * 10


@real_server
def test_rows_deleted_by_expression_never_come_back(client: MilvusClient, collection: str) -> None:
    data = rows()
    client.insert(collection, data)
    deleted = {row["id"] for row in data if row["source"] == "b.txt"}

    assert client.delete(collection, filter='source == "b.txt"')["delete_count"] == len(deleted)
    client.flush(collection)
    client.release_collection(collection)
    client.load_collection(collection)  # sealed segments read back from storage

    for row in data:
        assert deleted.isdisjoint(search_ids(client, collection, row["vec"]))
    assert client.query(collection, filter='source == "b.txt"', output_fields=["id"]) == []
    assert client.get(collection, ids=sorted(deleted)) == []
    assert client.query(collection, filter="", output_fields=["count(*)"])[0]["count(*)"] == len(data) - len(deleted)


@real_server
def test_a_prefix_of_the_string_primary_key_selects_rows(client: MilvusClient, collection: str) -> None:
    client.insert(collection, rows())  # the Milvus store finds its removals under way this way
    found = client.query(collection, filter='id like "s1%"', output_fields=["id"])
    assert sorted(r["id"] for r in found) == ["s1", *(f"s1{i}" for i in range(10))]


@real_server
def test_a_second_server_has_its_own_ports_and_data(
    milvus_uri: str, client: MilvusClient, collection: str, milvus_binaries: Path, tmp_path: Path
) -> None:
    second = milvus_server.start_server(tmp_path, milvus_binaries)
    try:
        other = MilvusClient(uri=second.uri)
        assert second.uri != milvus_uri
        assert collection in client.list_collections()
        assert collection not in other.list_collections()
        other.close()
    finally:
        second.stop()
    assert second.process.returncode is not None
    assert collection in client.list_collections()


def test_a_server_that_exits_at_start_is_reported_with_the_end_of_its_log(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "milvus").write_text("#!/bin/sh\necho 'listen tcp: address already in use' >&2\nexit 3\n")
    (bin_dir / "milvus").chmod(0o755)

    with pytest.raises(milvus_server.ServerStartError, match=r"exited with 3:\nlisten tcp: address already in use"):
        milvus_server.start_server(tmp_path / "data", bin_dir)


@pytest.mark.parametrize("ci", ["true", "1", "TRUE"])
def test_an_unavailable_server_fails_in_ci(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="Milvus server: no binaries"):
        milvus_server.unavailable("no binaries")


@pytest.mark.parametrize("ci", [None, "", "false"])
def test_an_unavailable_server_is_skipped_elsewhere(monkeypatch: pytest.MonkeyPatch, ci: str | None) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="Milvus server: no binaries"):
        milvus_server.unavailable("no binaries")
