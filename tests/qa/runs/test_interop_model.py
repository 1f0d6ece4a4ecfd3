"""Other tools over the seeds with the real default model: the openai client, and ir_measures on a TREC run."""

from __future__ import annotations

from pathlib import Path

import ir_measures
import openai
import pytest
from fastapi.testclient import TestClient
from ir_measures import RR, R, Success
from typer.testing import CliRunner

from qa.cli import app
from qa.settings import Settings

REPO = Path(__file__).resolve().parents[3]
SEEDS = REPO / "seeds"
SHARED = next((p for p in (REPO.parent / "shared", REPO.parents[1] / "shared") if p.is_dir()), REPO.parent / "shared")
SEED_DEV = SHARED / "eval" / "seed_questions_dev.jsonl"

pytestmark = pytest.mark.model
runner = CliRunner()


@pytest.fixture(scope="module")
def client(seed_client: TestClient) -> openai.OpenAI:
    """The official client, talking to the app over the real-model seeds index."""
    return openai.OpenAI(
        base_url=f"{seed_client.base_url}/v1", api_key="unused", http_client=seed_client, max_retries=0
    )


def test_follow_up_conversation_cites_the_tax_figure(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "梦想小街产业园的主体建筑面积是多少？"}]
    first = client.chat.completions.create(model="chuchu", messages=messages)  # type: ignore[arg-type]
    assert "10640平方米" in (first.choices[0].message.content or "")
    messages += [
        {"role": "assistant", "content": first.choices[0].message.content or ""},
        {"role": "user", "content": "它2021年的税收是多少？"},
    ]
    chunks = list(client.chat.completions.create(model="chuchu", messages=messages, stream=True))  # type: ignore[arg-type]
    content = "".join(c.choices[0].delta.content or "" for c in chunks)
    top = (chunks[0].model_extra or {})["citations"][0]
    assert "税收约2200万元" in top["text"] and top["source"] == "001_78f4f1f7e179c4c7.txt"
    assert content.startswith(top["text"]) and "[1]" in content.split("\n\n")[0]
    assert f"[1] {top['title']} ({top['source']}:{top['line']}): {top['text']}" in content
    original = (SEEDS / top["source"]).read_text(encoding="utf-8")
    assert original[top["start"] : top["end"]] == top["text"]


@pytest.mark.skipif(not SEED_DEV.is_file(), reason=f"seed dev questions not found at {SEED_DEV}")
def test_ir_measures_agrees_with_qa_eval_on_seed_dev(seed_settings: Settings, tmp_path: Path) -> None:
    index_dir = seed_settings.index_dir
    run, qrels = tmp_path / "seed_dev.trec", tmp_path / "seed_dev.qrels"
    result = runner.invoke(app, ["batch", str(SEED_DEV), "-o", str(run), "--index", str(index_dir), "-f", "trec", "-q"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["eval", str(SEED_DEV), "--index", str(index_dir), "--qrels", str(qrels)])
    assert result.exit_code == 0, result.output
    ours = dict(line.split(": ") for line in result.stdout.splitlines())
    theirs = ir_measures.calc_aggregate(
        [R @ 1, R @ 5, RR @ 10, Success @ 10],
        list(ir_measures.read_trec_qrels(str(qrels))),
        list(ir_measures.read_trec_run(str(run))),
    )
    assert {
        "recall@1": f"{theirs[R @ 1]:.3f}",
        "recall@5": f"{theirs[R @ 5]:.3f}",
        "recall@10": f"{theirs[Success @ 10]:.3f}",
        "mrr@10": f"{theirs[RR @ 10]:.3f}",
    } == {k: ours[k] for k in ("recall@1", "recall@5", "recall@10", "mrr@10")}
    assert float(ours["recall@5"]) >= 0.9  # the real model finds most seed answers
