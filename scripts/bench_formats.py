"""Seeds as .txt, PDF (reportlab, Chromium) and DOCX: recall, pages, chunks and time per page, in one run.

Usage: python scripts/bench_formats.py [--rounds N]

Builds the PDF and DOCX versions of the seeds (as the tests do), then for each format: the
median time to read and segment the files (--rounds runs), a cold index build with the
default model and no embedding cache (every sentence embedded alone and in context), chunks
per page, and Recall@5 of the seed dev questions with the page of every answering PDF hit
checked against pdfium's reading of the file. Per-page figures of .txt and DOCX use the page
count of the Chromium PDF of the same seeds (those files have no pages of their own).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import binary_docs  # noqa: E402
from format_recall import load_gold, score_format  # noqa: E402

from qa.building import build_index, open_encoder  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.ingest import iter_documents, segment  # noqa: E402
from qa.search import RetrievalConfig  # noqa: E402
from qa.settings import Settings  # noqa: E402


def make_formats(root: Path) -> dict[str, Path]:
    """One folder of seeds per format."""
    folders = {name: root / name for name in ("txt", "pdf-reportlab", "pdf-chromium", "docx")}
    for folder in folders.values():
        folder.mkdir()
    for seed in binary_docs.seed_paths():
        shutil.copy(seed, folders["txt"] / seed.name)
        binary_docs.reportlab_seed_pdf(seed, folders["pdf-reportlab"] / f"{seed.stem}.pdf")
        binary_docs.docx_seed(seed, folders["docx"] / f"{seed.stem}.docx")
        page = root / f"{seed.stem}.html"
        page.write_text(binary_docs.seed_html(seed), encoding="utf-8")
        binary_docs.chromium_pdf(page, folders["pdf-chromium"] / f"{seed.stem}.pdf")
    return folders


def read_seconds(folder: Path, rounds: int) -> tuple[float, int, int]:
    """Median seconds to read and segment the folder; its pages and chunks."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        docs = list(iter_documents([folder]))
        chunks = sum(len(segment(d)) for d in docs)
        times.append(time.perf_counter() - started)
    return statistics.median(times), sum(len(d.pages) for d in docs), chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    encoder = open_encoder(Settings())
    gold = load_gold()
    with tempfile.TemporaryDirectory() as tmp:
        folders = make_formats(Path(tmp))
        rows = []
        for name, folder in folders.items():
            read_s, pages, chunks = read_seconds(folder, args.rounds)
            started = time.perf_counter()
            index, _ = build_index([folder], Path(tmp) / f"index-{name}", encoder, None)
            index_s = time.perf_counter() - started
            score = score_format(Engine(index, encoder, RetrievalConfig()), gold, folder)
            rows.append((name, pages, chunks, read_s, index_s, score))
        reference_pages = next(r[1] for r in rows if r[0] == "pdf-chromium")
    print("| format | pages | chunks | chunks/page | read+segment ms/page | index s/page | R@5 | PDF pages right |")
    print("|---|---|---|---|---|---|---|---|")
    for name, pages, chunks, read_s, index_s, score in rows:
        per = pages or reference_pages
        right = f"{score.pages_checked - len(score.problems)}/{score.pages_checked}" if score.pages_checked else "-"
        print(
            f"| {name} | {pages or '-'} | {chunks} | {chunks / per:.1f} | {1000 * read_s / per:.0f} | "
            f"{index_s / per:.2f} | {score.recall:.3f} ({score.found}/{score.total}) | {right} |"
        )
        for problem in score.problems:
            print(f"  {name}: {problem}")


if __name__ == "__main__":
    main()
