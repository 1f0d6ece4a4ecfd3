"""Metadata overrides: sidecar files and JSONL fields beat front matter and the text; the index and API follow."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.engine import Engine
from qa.errors import InputError
from qa.index import load_index
from qa.ingest import iter_documents, read_file
from qa.search import RetrievalConfig
from qa.settings import Settings

NEWS = (
    "---\ntitle: 前言标题\ndate: 2019-03-01\n---\n"
    "重庆日报\n记者 王五\n上清寺互联网产业园2018年新增企业300家，园区位于重庆市渝中区。\n"
)
SIDECAR_YAML = (
    "title: 上清寺互联网产业园年报\n"
    "date: 2020年1月8日\n"
    "publisher: 渝中区融媒体中心\n"
    "author: [张三, 李四]\n"
    "url: https://example.cn/park\n"
    "type: R\n"
    "section: 产业\n"
)
SIDECAR_JSON = {
    "title": "Park annual report",
    "date": "2021-06-30",
    "publisher": "Yuzhong Media",
    "author": "Jane Doe",
    "url": "https://example.org/park",
    "type": "EB/OL",
    "pages": 12,
}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_without_sidecar_metadata_comes_from_front_matter_and_text(tmp_path: Path) -> None:
    meta = read_file(write(tmp_path, "a.txt", NEWS), "a.txt").meta
    assert meta.as_dict() == {"title": "前言标题", "date": "2019-03-01", "publisher": "重庆日报", "author": "记者 王五"}


@pytest.mark.parametrize("suffix", [".meta.yaml", ".meta.yml"])
def test_yaml_sidecar_overrides_front_matter_and_text(tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path, "a.txt", NEWS)
    write(tmp_path, "a.txt" + suffix, SIDECAR_YAML)
    doc = read_file(path, "a.txt")
    assert doc.meta.as_dict() == {
        "title": "上清寺互联网产业园年报",
        "date": "2020-01-08",
        "publisher": "渝中区融媒体中心",
        "author": "张三, 李四",
        "url": "https://example.cn/park",
        "extra": {"type": "R", "section": "产业"},
    }
    assert doc.original == NEWS  # the sidecar never changes the cited text


def test_json_sidecar_overrides_front_matter_and_text(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", NEWS)
    write(tmp_path, "a.txt.meta.json", json.dumps(SIDECAR_JSON))
    meta = read_file(path, "a.txt").meta
    assert meta.as_dict() == {
        "title": "Park annual report",
        "date": "2021-06-30",
        "publisher": "Yuzhong Media",
        "author": "Jane Doe",
        "url": "https://example.org/park",
        "extra": {"type": "EB/OL", "pages": "12"},
    }


def test_partial_sidecar_keeps_the_other_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", NEWS)
    write(tmp_path, "a.txt.meta.yaml", "author: 赵六\n")
    meta = read_file(path, "a.txt").meta
    assert meta.as_dict() == {"title": "前言标题", "date": "2019-03-01", "publisher": "重庆日报", "author": "赵六"}


def test_empty_yaml_sidecar_changes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", NEWS)
    write(tmp_path, "a.txt.meta.yaml", "# nothing yet\n")
    assert read_file(path, "a.txt").meta.title == "前言标题"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.txt.meta.yaml", "title: ok\n  bad: indentation: here\n", r"a\.txt\.meta\.yaml:2: not valid YAML"),
        ("a.txt.meta.json", '{\n  "title": "x",\n}\n', r"a\.txt\.meta\.json:3: not valid JSON"),
        ("a.txt.meta.yml", "- 张三\n- 李四\n", r"a\.txt\.meta\.yml: a metadata sidecar must hold a mapping.*list"),
        ("a.txt.meta.json", '"只有标题"', r"a\.txt\.meta\.json: a metadata sidecar must hold a mapping.*str"),
        ("a.txt.meta.yaml", "date: 明年春天\n", r"a\.txt\.meta\.yaml: date '明年春天' has no year, month and day"),
    ],
)
def test_bad_sidecar_is_an_input_error_naming_it(tmp_path: Path, name: str, text: str, message: str) -> None:
    write(tmp_path, "a.txt", NEWS)
    write(tmp_path, name, text)
    with pytest.raises(InputError, match=message):
        list(iter_documents([tmp_path]))


def test_binary_sidecar_and_two_sidecars_are_input_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", NEWS)
    (tmp_path / "a.txt.meta.yaml").write_bytes(b"\x00\x01\x02")
    with pytest.raises(InputError, match=r"a\.txt\.meta\.yaml: a metadata sidecar must be a text file"):
        read_file(path, "a.txt")
    write(tmp_path, "a.txt.meta.yaml", "author: 张三\n")
    write(tmp_path, "a.txt.meta.json", '{"author": "李四"}')
    with pytest.raises(InputError, match=r"several metadata sidecars \(a\.txt\.meta\.yaml, a\.txt\.meta\.json\)"):
        read_file(path, "a.txt")


def test_sidecars_are_never_documents(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", NEWS)
    write(tmp_path, "a.txt.meta.yaml", SIDECAR_YAML)
    write(tmp_path, "orphan.md.meta.json", json.dumps(SIDECAR_JSON))
    assert [d.id for d in iter_documents([tmp_path])] == ["a.txt"]
    with pytest.raises(InputError, match=r"a\.txt\.meta\.yaml: a metadata sidecar, not a document"):
        list(iter_documents([tmp_path / "a.txt.meta.yaml"]))


def test_jsonl_fields_override_front_matter(tmp_path: Path) -> None:
    text = (
        "---\nauthor: 前言作者\ndate: 2019-03-01\npublisher: 前言出版者\nurl: https://old.example\ntype: Z\n---\n"
        "记者 王五\n正文一句。\n"
    )
    row = {
        "id": "j1",
        "text": text,
        "author": ["张三", "李四"],
        "url": "https://new.example",
        "type": "N",
        "date": "2021-06-30",
        "publisher": "重庆日报",
    }
    path = write(tmp_path, "corpus.jsonl", json.dumps(row, ensure_ascii=False) + "\n")
    (doc,) = iter_documents([path])
    assert doc.meta.author == "张三, 李四"
    assert doc.meta.url == "https://new.example"
    assert doc.meta.date == "2021-06-30"
    assert doc.meta.publisher == "重庆日报"
    assert dict(doc.meta.extra) == {"type": "N"}


def test_changing_only_the_sidecar_updates_the_index(tmp_path: Path) -> None:
    docs, directory, encoder = tmp_path / "docs", tmp_path / "index", FakeEncoder()
    docs.mkdir()
    write(docs, "a.txt", NEWS)
    _, first = build_index([docs], directory, encoder, None)
    assert (first.added, first.updated) == (1, 0)
    write(docs, "a.txt.meta.yaml", SIDECAR_YAML)
    index, second = build_index([docs], directory, encoder, None)
    assert (second.added, second.updated, second.unchanged, second.removed) == (0, 1, 0, 0)
    assert index.documents["a.txt"].meta.author == "张三, 李四"
    assert load_index(directory).documents["a.txt"].meta.extra == {"type": "R", "section": "产业"}
    _, third = build_index([docs], directory, encoder, None)
    assert (third.updated, third.unchanged) == (0, 1)


def test_api_shows_overridden_metadata_and_citations(tmp_path: Path) -> None:
    docs, directory, encoder = tmp_path / "docs", tmp_path / "index", FakeEncoder()
    docs.mkdir()
    write(docs, "a.txt", NEWS)
    write(docs, "a.txt.meta.yaml", SIDECAR_YAML)
    index, _ = build_index([docs], directory, encoder, None)
    settings = Settings(_env_file=None, index_dir=directory, cache_dir=tmp_path / "cache", model="fake")
    today = datetime.date.today().isoformat()
    gbt7714 = f"张三, 李四. 上清寺互联网产业园年报[R]. 渝中区融媒体中心, 2020-01-08[{today}]. https://example.cn/park."
    apa = "张三 & 李四. (2020, January 8). 上清寺互联网产业园年报. 渝中区融媒体中心. https://example.cn/park"
    with TestClient(create_app(settings, Engine(index, encoder, RetrievalConfig()))) as client:
        detail = client.get("/v1/documents/a.txt").json()
        hits = client.post("/v1/ask", json={"question": "上清寺互联网产业园新增企业多少家？"}).json()["hits"]
    assert detail["title"] == "上清寺互联网产业园年报" and detail["author"] == "张三, 李四"
    assert detail["url"] == "https://example.cn/park" and detail["extra"] == {"type": "R", "section": "产业"}
    assert detail["citation"] == {"gbt7714": gbt7714, "apa": apa, "plain": "a.txt"}
    top = hits[0]
    keys = list(top)
    assert keys.index("citation") == keys.index("scores") + 1
    assert top["line"] == 7
    assert top["citation"] == {"gbt7714": gbt7714, "apa": apa, "plain": "a.txt:7"}
