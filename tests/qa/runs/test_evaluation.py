"""qa.runs.evaluation scores exactly as the shared judge.py does, and `qa eval` reports it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.cli import app
from qa.engine import Engine
from qa.index import load_index
from qa.runs import Gold, first_correct_rank, read_gold, score
from qa.search import RetrievalConfig
from tests.sample_docs import PARK_TXT, SOLAR_MD

REPO = Path(__file__).resolve().parents[3]
JUDGE = REPO.parent / "shared" / "eval" / "judge.py"

DOCS = {
    "park.txt": PARK_TXT,
    "solar.md": SOLAR_MD,
    "zoo.txt": "动物园公告\n\n熊猫馆周一闭馆维修。长颈鹿每天下午三点喂食。游客请勿投喂动物。\n",
    "cafe.txt": "咖啡馆笔记\n\n这家咖啡馆在解放碑附近。它每天早上八点开门。拿铁售价三十元。\n",
    "long.txt": "长文\n\n" + "这是一段很长的文字，没有句号" * 40 + "。答案就在这里。\n",
}
# (id, question, source, answer substrings: one span each); some are meant to be missed or found low
GOLD = [
    ("g1", "园区的范围西至哪里？", "park.txt", ["西至鹅岭公园"]),
    ("g2", "How many engineers work at the solar farm?", "solar.md", ["45 engineers"]),
    ("g3", "长颈鹿什么时候喂食？", "zoo.txt", ["下午三点喂食"]),
    ("g4", "园区2018年新增多少企业？", "park.txt", ["新增企业300家"]),
    ("g5", "Where is the farm located?", "solar.md", ["near the river", "every spring"]),
    ("g6", "咖啡馆几点开门？", "cafe.txt", ["早上八点开门"]),
    ("g7", "拿铁多少钱？", "cafe.txt", ["拿铁售价三十元"]),
    ("g8", "熊猫馆什么时候关？", "zoo.txt", ["游客请勿投喂动物"]),  # a sentence ranked low (or missed)
    ("g9", "What did the solar farm produce?", "park.txt", ["渝中区。园区"]),  # no sentence holds it: a miss
    ("g10", "园区入驻率是多少？", "park.txt", ["百分之九十"]),  # left out of the results: a miss
    ("g11", "答案在哪里？", "long.txt", ["答案就在这里"]),  # results written by hand, see below
]
SUMMARY = re.compile(r"^summary: n=(\d+) r1=([\d.]+) r5=([\d.]+) r10=([\d.]+) mrr=([\d.]+)", re.MULTILINE)

runner = CliRunner()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(docs folder, index folder, gold file)."""
    root = tmp_path_factory.mktemp("eval")
    docs = root / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    build_index([docs], root / "index", FakeEncoder(), None)
    gold = root / "gold.jsonl"
    with gold.open("w", encoding="utf-8") as handle:
        for qid, question, source, answers in GOLD:
            text = DOCS[source]
            spans = [[text.index(a), text.index(a) + len(a)] for a in answers]
            row: dict[str, object] = {"id": qid, "question": question, "source": source}
            if len(spans) == 1:
                row.update(start=spans[0][0], end=spans[0][1], answer=answers[0])
            else:
                row["spans"] = spans
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return docs, root / "index", gold


def judge(gold: Path, results: Path, corpus: Path) -> tuple[int, dict[str, float], str]:
    proc = subprocess.run(
        [sys.executable, str(JUDGE), str(gold), str(results), "--corpus", str(corpus)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    m = SUMMARY.search(proc.stdout)
    assert m, proc.stdout
    n, *values = m.groups()
    return int(n), dict(zip(("r1", "r5", "r10", "mrr"), map(float, values), strict=True)), proc.stdout


@pytest.mark.skipif(not JUDGE.is_file(), reason=f"shared judge not found at {JUDGE}")
def test_score_agrees_with_judge(setup: tuple[Path, Path, Path], tmp_path: Path) -> None:
    docs, index_dir, gold_path = setup
    engine = Engine(load_index(index_dir), FakeEncoder(), RetrievalConfig())
    gold = read_gold(gold_path)
    assert [g.id for g in gold] == [g[0] for g in GOLD]
    assert gold[4].spans == (
        (DOCS["solar.md"].index("near the river"), DOCS["solar.md"].index("near the river") + 14),
        (DOCS["solar.md"].index("every spring"), DOCS["solar.md"].index("every spring") + 12),
    )
    answered = [g for g in gold if g.id not in {"g10", "g11"}]
    results = {
        g.id: [h.as_dict() for h in hits]
        for g, hits in zip(answered, engine.ask_many([g.question for g in answered], 10), strict=True)
    }
    # g11: a page-long hit that holds the answer (over 400 chars: wrong), a hit from another source,
    # then the right sentence at rank 3
    long_text = DOCS["long.txt"]
    sentence = next(c for c in engine.index.document_chunks("long.txt") if "答案就在这里" in c.cited)
    page = {"source": "long.txt", "start": 4, "end": len(long_text) - 1, "text": long_text[4:-1]}
    assert page["end"] - page["start"] > 400  # type: ignore[operator]
    results["g11"] = [
        page,
        {**results["g1"][0], "rank": 2},
        {"rank": 3, "source": "long.txt", "start": sentence.start, "end": sentence.end, "text": sentence.cited},
    ]
    results_path = tmp_path / "results.jsonl"
    with results_path.open("w", encoding="utf-8") as handle:
        for qid, hits in reversed(results.items()):  # any order
            handle.write(json.dumps({"id": qid, "hits": hits}, ensure_ascii=False) + "\n")

    ours = score(gold, results)
    n, theirs, stdout = judge(gold_path, results_path, docs)
    assert n == ours.n == len(GOLD)
    assert "unfaithful=0" in stdout and "missing=1" in stdout
    for k in (1, 5, 10):
        assert f"{ours.recall[k]:.3f}" == f"{theirs[f'r{k}']:.3f}"
    assert f"{ours.mrr:.3f}" == f"{theirs['mrr']:.3f}"
    # the corpus is built so that the metrics are not degenerate
    assert 0 < ours.recall[1] < ours.recall[10] < 1
    assert ours.recall[1] <= ours.mrr <= ours.recall[10]
    assert first_correct_rank(gold[8], results["g9"]) is None
    assert first_correct_rank(gold[10], results["g11"]) == 3
    assert "too_long=1" in stdout


def hit(source: str, start: int, end: int) -> dict[str, object]:
    return {"source": source, "start": start, "end": end, "text": "x" * (end - start)}


def test_first_correct_rank_rules() -> None:
    gold = Gold("q", "?", "doc.txt", ((100, 110), (900, 905)))
    assert first_correct_rank(gold, [hit("doc.txt", 95, 120)]) == 1
    assert first_correct_rank(gold, [hit("doc.txt", 101, 120)]) is None  # a span only partly inside
    assert first_correct_rank(gold, [hit("other.txt", 95, 120), hit("doc.txt", 100, 110)]) == 2
    # a hit over 400 characters is a page, not a citation: skipped, but it keeps its rank slot
    too_long = hit("doc.txt", 0, 401)
    assert first_correct_rank(gold, [too_long, hit("doc.txt", 890, 910)]) == 2
    assert first_correct_rank(gold, [hit("doc.txt", 0, 400)]) == 1  # exactly 400 is allowed
    assert first_correct_rank(gold, [too_long]) is None
    # only the top 10 count
    assert first_correct_rank(gold, [hit("x", 0, 1)] * 9 + [hit("doc.txt", 100, 110)]) == 10
    assert first_correct_rank(gold, [hit("x", 0, 1)] * 10 + [hit("doc.txt", 100, 110)]) is None

    scores = score([gold, Gold("r", "?", "doc.txt", ((0, 1),))], {"q": [hit("x", 0, 1), hit("doc.txt", 100, 110)]})
    assert (scores.n, scores.recall[1], scores.recall[5], scores.mrr) == (2, 0.0, 0.5, 0.25)


def test_cli_eval_prints_metrics(
    setup: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, index_dir, gold_path = setup
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    result = runner.invoke(app, ["eval", str(gold_path), "--index", str(index_dir), "--model", "fake"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["recall@1", "recall@5", "recall@10", "mrr@10", "questions"]

    engine = Engine(load_index(index_dir), FakeEncoder(), RetrievalConfig())
    gold = read_gold(gold_path)
    results = {
        g.id: [h.as_dict() for h in hits]
        for g, hits in zip(gold, engine.ask_many([g.question for g in gold], 10), strict=True)
    }
    assert result.stdout.strip() == score(gold, results).describe()
    assert f"questions: {len(GOLD)}" in result.stdout


def test_cli_eval_bad_gold_is_a_one_line_error(setup: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, index_dir, _ = setup
    bad = tmp_path / "gold.jsonl"
    bad.write_text('{"id": "a", "question": "q", "source": "s", "start": 1, "end": 2}\n{"id": "b"}\n', "utf-8")
    result = runner.invoke(app, ["eval", str(bad), "--index", str(index_dir), "--model", "fake"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {bad}:2: a gold line needs id, question, source and start/end or spans"
    ]

    missing = tmp_path / "missing.jsonl"
    result = runner.invoke(app, ["eval", str(missing), "--index", str(index_dir), "--model", "fake"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {missing}: cannot read gold file")
