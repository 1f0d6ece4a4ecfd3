"""Checking claims: verdicts, matches and differences, in the library, the ``qa cite`` command and ``POST /v1/cite``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from embeddings.encoders import load_encoder
from qa.building import build_index
from qa.claims import ClaimCheck, Difference, Span, check_claim, check_source, claim_core
from qa.engine import Engine
from qa.index import load_index
from qa.search import RetrievalConfig
from qa.settings import Settings

DOCS = {
    "street.txt": (
        "梦想小街产业园年报\n"
        "2021年，梦想小街产业园实现营业收入约12亿元、税收约2200万元。园区聚集创业团队40余名，举办活动近百场。\n"
        "園區入駐企業達到１３００家，入驻率为百分之九十。\n"
    ),
    "news.txt": "转载新闻\n2021年梦想小街产业园税收约2500万元。\n",
    "compute.txt": "渝中区算力发展规划\n到2027年，渝中区全区算力规模达到2100PFLOPS。全区建成数据中心3个。\n",
    "zoo.txt": "动物园公告\n熊猫馆周一闭馆维修。长颈鹿每天下午三点喂食。\n",
}
STREET = DOCS["street.txt"]
REVENUE = "2021年，梦想小街产业园实现营业收入约12亿元、税收约2200万元"  # street.txt [10:44]
UNKNOWN = "月球上有一座图书馆"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("claims")
    for name, text in DOCS.items():
        (root / "docs" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "docs" / name).write_text(text, encoding="utf-8")
    build_index([root / "docs"], root / "index", load_encoder("fake"), None)
    return root / "index"


@pytest.fixture(scope="module")
def engine(index_dir: Path) -> Engine:
    encoder = load_encoder("fake")
    return Engine(load_index(index_dir, model_id=encoder.model_id), encoder, RetrievalConfig())


def only_source(check: ClaimCheck, verdict: str) -> Span | None:
    assert check.verdict == verdict
    assert len(check.sources) == 1, [s.hit.chunk.source for s in check.sources]
    return check.sources[0].match


def test_the_offsets_written_here_hold() -> None:
    assert STREET[10:44] == REVENUE
    assert STREET[38:44] == "2200万元" and STREET[10:15] == "2021年"
    assert STREET[45:57] == "园区聚集创业团队40余名"
    assert STREET[67:80] == "園區入駐企業達到１３００家"


@pytest.mark.parametrize("claim", [REVENUE + "。", f"“{REVENUE}。”", f"  {REVENUE}  "])
def test_verbatim(engine: Engine, claim: str) -> None:
    check = engine.cite(claim)
    assert only_source(check, "verbatim") == Span(10, 44, REVENUE)
    assert check.supported
    assert check.sources[0].differences == ()
    assert check.sources[0].hit.chunk.source == "street.txt"


@pytest.mark.parametrize(
    ("claim", "start", "end"),
    [
        ("2021年梦想小街产业园实现营业收入约１２億元，税收约2200萬元", 10, 44),
        ("2021 年, 梦想小街产业园实现营业收入约12亿元; 税收约2200万元!", 10, 44),
        ("园区入驻企业达到1300家", 67, 80),
    ],
)
def test_near_verbatim(engine: Engine, claim: str, start: int, end: int) -> None:
    check = engine.cite(claim)
    match = only_source(check, "near-verbatim")
    assert match == Span(start, end, STREET[start:end])
    assert match.text != claim
    assert check.supported and check.sources[0].differences == ()


def test_mismatch_on_a_number(engine: Engine) -> None:
    claim = "2021年，梦想小街产业园实现营业收入约12亿元、税收约3300万元。"
    check = engine.cite(claim)
    assert check.verdict == "mismatch" and not check.supported
    first = check.sources[0]
    assert first.hit.chunk.source == "street.txt"
    assert first.match == Span(10, 44, REVENUE)
    assert first.differences == (Difference("number", Span(28, 34, "3300万元"), Span(38, 44, "2200万元")),)
    assert claim[28:34] == "3300万元"


def test_mismatch_pairs_each_figure_with_the_closest_one(engine: Engine) -> None:
    check = engine.cite("2021年，梦想小街产业园实现营业收入约12亿元、税收约3300万元。")
    news = next(s for s in check.sources if s.hit.chunk.source == "news.txt")
    assert news.differences == (
        Difference("number", Span(20, 24, "12亿元"), None),
        Difference("number", Span(28, 34, "3300万元"), Span(20, 26, "2500万元")),
    )


def test_mismatch_on_a_year(engine: Engine) -> None:
    check = engine.cite("2022年，梦想小街产业园实现营业收入约12亿元、税收约2200万元。")
    assert only_source(check, "mismatch") == Span(16, 44, STREET[16:44])
    assert check.sources[0].differences == (Difference("date", Span(0, 5, "2022年"), Span(10, 15, "2021年")),)
    assert not check.supported


def test_paraphrase_reads_figures_as_values(engine: Engine) -> None:
    check = engine.cite("梦想小街产业园聚集了四十多名创业团队")
    assert only_source(check, "paraphrase") == Span(45, 57, "园区聚集创业团队40余名")
    assert check.sources[0].differences == () and check.supported
    assert engine.cite("梦想小街产业园聚集了四十多名创业团队").as_dict() == check.as_dict()


def test_unsupported(engine: Engine) -> None:
    check = engine.cite(UNKNOWN)
    assert check.sources == ()
    assert check.verdict == "unsupported" and check.supported is False
    assert check.as_dict() == {"claim": UNKNOWN, "verdict": "unsupported", "supported": False, "sources": []}


def test_a_supporting_source_comes_before_a_mismatching_one(engine: Engine) -> None:
    claim = "2021年梦想小街产业园税收约2200万元"
    hits = engine.ask(claim, 10)
    assert hits[0].chunk.source == "news.txt"  # the mismatching sentence ranks first
    check = check_claim(engine.index, claim, hits)
    assert [(s.hit.chunk.source, s.verdict) for s in check.sources] == [
        ("street.txt", "paraphrase"),
        ("news.txt", "mismatch"),
    ]
    assert check.verdict == "paraphrase" and check.supported
    assert check.sources[1].differences == (Difference("number", Span(15, 21, "2200万元"), Span(20, 26, "2500万元")),)
    assert DOCS["news.txt"][20:26] == "2500万元"
    assert check_claim(engine.index, claim, hits, k=1).sources == check.sources[:1]


def test_as_dict_shape(engine: Engine) -> None:
    claim = "2021年，梦想小街产业园实现营业收入约12亿元、税收约3300万元。"
    data = engine.cite(claim, 1).as_dict()
    assert list(data) == ["claim", "verdict", "supported", "sources"]
    assert (data["claim"], data["verdict"], data["supported"]) == (claim, "mismatch", False)
    sources = data["sources"]
    assert isinstance(sources, list) and len(sources) == 1
    source = sources[0]
    assert list(source)[:10] == "rank score source start end text title line paragraph heading".split()
    assert list(source)[-3:] == ["verdict", "match", "differences"]
    assert (source["source"], source["start"], source["end"]) == ("street.txt", 10, 45)
    assert source["match"] == {"start": 10, "end": 44, "text": REVENUE}
    assert source["differences"] == [
        {
            "kind": "number",
            "claim": {"start": 28, "end": 34, "text": "3300万元"},
            "source": {"start": 38, "end": 44, "text": "2200万元"},
        }
    ]


@pytest.mark.parametrize(
    ("claim", "core"),
    [
        ("“到2027年。”", "到2027年"),
        ("  引用的话！？ ", "引用的话"),
        ("「原文」", "原文"),
        ("He said so...", "He said so"),
        ("税收约2200万元，", "税收约2200万元"),
        ("。", ""),
        ("中间，标点。保留", "中间，标点。保留"),
    ],
)
def test_claim_core(claim: str, core: str) -> None:
    assert claim_core(claim) == core


def test_cross_lingual_claim_is_decided_by_the_cosine(engine: Engine) -> None:
    hit = engine.ask("到2027年，渝中区全区算力规模达到2100PFLOPS。", 1)[0]
    assert hit.chunk.source == "compute.txt" and hit.chunk.start == 10
    same = "By 2027, Yuzhong's computing power will reach 2,100 PFLOPS."
    other = "By 2027, Yuzhong's computing power will reach 1,200 PFLOPS."
    close, far = replace(hit, dense=0.95), replace(hit, dense=0.5)
    checked = check_source(engine.index, same, close)
    assert checked is not None and checked.verdict == "paraphrase" and checked.differences == ()
    assert check_source(engine.index, same, far) is None
    differs = check_source(engine.index, other, close)
    assert differs is not None and differs.verdict == "mismatch"
    assert differs.differences == (Difference("number", Span(46, 58, "1,200 PFLOPS"), Span(28, 38, "2100PFLOPS")),)
    assert check_source(engine.index, other, far) is None


# ---- the command line ----

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))


def cite_cli(index_dir: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["cite", *args, "--index", str(index_dir), "--model", "fake"], input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.usefixtures("cli_env")
def test_cli_marks_the_differing_figure(index_dir: Path) -> None:
    code, out, _ = cite_cli(index_dir, "2021年，梦想小街产业园实现营业收入约12亿元、税收约3300万元。", UNKNOWN)
    assert code == 0, out
    lines = out.splitlines()
    assert lines[:2] == ["claim: 2021年，梦想小街产业园实现营业收入约12亿元、税收约3300万元。", "verdict: mismatch"]
    assert lines[2].endswith("≠ mismatch: 2021年，梦想小街产业园实现营业收入约12亿元、税收约⟦2200万元⟧。")
    assert lines[3] == "    number: the claim says “3300万元”, the source says “2200万元”"
    assert "street.txt:2 [10:45]" in lines[4]
    assert lines[-2:] == [f"claim: {UNKNOWN}", f"unsupported: no sentence of the index supports “{UNKNOWN}”"]


@pytest.mark.usefixtures("cli_env")
def test_cli_json_and_stdin(index_dir: Path) -> None:
    code, out, _ = cite_cli(index_dir, "--json", "-", stdin=f"{REVENUE}。\n\n{UNKNOWN}\n")
    assert code == 0, out
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["claim"], r["verdict"], r["supported"]) for r in rows] == [
        (f"{REVENUE}。", "verbatim", True),
        (UNKNOWN, "unsupported", False),
    ]
    assert rows[0]["sources"][0]["match"] == {"start": 10, "end": 44, "text": REVENUE}
    assert rows[1]["sources"] == []


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--style", "mla", REVENUE], "error: unknown citation style 'mla'"),
        (["  "], "error: no claim given"),
        (["-"], "error: no claim given"),
    ],
)
def test_cli_errors(index_dir: Path, args: list[str], message: str) -> None:
    code, out, err = cite_cli(index_dir, *args, stdin="\n \n")
    assert code == 2
    assert err.startswith(message) and out == ""
    assert "Traceback" not in err


# ---- the HTTP API ----


@pytest.fixture(scope="module")
def client(engine: Engine, index_dir: Path) -> Iterator[TestClient]:
    settings = Settings(
        _env_file=None, index_dir=index_dir, cache_dir=index_dir.parent / "cache", model="fake", max_top_k=5
    )
    with TestClient(create_app(settings, engine)) as test_client:
        yield test_client


def test_api_cite(client: TestClient) -> None:
    claim = "到2027年，渝中区全区算力规模达到1200PFLOPS。"
    response = client.post("/v1/cite", json={"claim": claim, "top_k": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["claim", "verdict", "supported", "sources"]
    assert (body["claim"], body["verdict"], body["supported"]) == (claim, "mismatch", False)
    source = body["sources"][0]
    assert (source["source"], source["verdict"]) == ("compute.txt", "mismatch")
    original = client.get("/v1/documents/compute.txt").json()["text"]
    assert original == DOCS["compute.txt"]
    assert original[source["start"] : source["end"]] == source["text"]
    assert original[source["match"]["start"] : source["match"]["end"]] == source["match"]["text"]
    (difference,) = source["differences"]
    assert difference == {
        "kind": "number",
        "claim": {"start": 18, "end": 28, "text": "1200PFLOPS"},
        "source": {"start": 28, "end": 38, "text": "2100PFLOPS"},
    }
    assert claim[18:28] == "1200PFLOPS" and original[28:38] == "2100PFLOPS"


def test_api_cite_unsupported(client: TestClient) -> None:
    response = client.post("/v1/cite", json={"claim": UNKNOWN})
    assert response.status_code == 200
    assert response.json() == {"claim": UNKNOWN, "verdict": "unsupported", "supported": False, "sources": []}


@pytest.mark.parametrize(
    "body",
    [
        {"claim": ""},
        {"claim": "   "},
        {"claim": REVENUE, "top_k": 6},
        {"claim": REVENUE, "top_k": 0},
        {"claim": REVENUE, "x": 1},
    ],
)
def test_api_cite_refuses_bad_requests(client: TestClient, body: dict[str, object]) -> None:
    response = client.post("/v1/cite", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
