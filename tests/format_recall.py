"""Seed dev questions asked of the seeds in another format: Recall@5, pages and offsets checked.

A hit answers a gold item when it is in the same seed (same file stem) and its sentence holds
the gold answer (compared without whitespace and without the glyphs a CJK font may lack), so
the .txt, PDF and DOCX versions are scored alike. For a PDF, the page of each answering hit is
checked against an independent reading of the file (pdfium's text of each page).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2

from qa.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
#: The shared checkout beside the repository (or beside the folder of worktrees holding it).
GOLD = next(
    (p for p in (d / "shared" / "eval" / "seed_questions_dev.jsonl" for d in ROOT.parents[:2]) if p.is_file()),
    ROOT.parent / "shared" / "eval" / "seed_questions_dev.jsonl",
)


@dataclass(frozen=True)
class Gold:
    """A dev question and its answer span in a seed."""

    id: str
    question: str
    stem: str
    answer: str


@dataclass
class FormatScore:
    """Recall@5 of one format, and what went wrong with the hits that answer."""

    found: int = 0
    total: int = 0
    pages_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        """Share of the questions answered in the top five."""
        return self.found / self.total if self.total else 0.0


def squeeze(text: str) -> str:
    """Text without whitespace and without ``·``/``©`` (missing from STSong-Light)."""
    return re.sub(r"[\s·©]", "", text)


def load_gold(path: Path = GOLD) -> list[Gold]:
    """The dev questions with the text of their answer spans (read from the seed)."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            text = (ROOT / "seeds" / row["source"]).read_text(encoding="utf-8")
            answer = text[row["start"] : row["end"]]
            items.append(Gold(row["id"], row["question"], Path(row["source"]).stem, answer))
    return items


def pdf_pages(path: Path) -> list[str]:
    """The squeezed text of each page as pdfium reads it."""
    document = pypdfium2.PdfDocument(str(path))
    try:
        return [squeeze(document[i].get_textpage().get_text_range()) for i in range(len(document))]
    finally:
        document.close()


def score_format(engine: Engine, gold: list[Gold], folder: Path | None = None) -> FormatScore:
    """Recall@5 of ``gold`` over the engine's index; pages checked against the PDFs in ``folder``."""
    score = FormatScore(total=len(gold))
    pages: dict[str, list[str]] = {}
    for item, hits in zip(gold, engine.ask_many([g.question for g in gold], 5), strict=True):
        answering = [
            h for h in hits if Path(h.chunk.source).stem == item.stem and squeeze(item.answer) in squeeze(h.chunk.text)
        ]
        if not answering:
            continue
        score.found += 1
        hit = answering[0]
        doc = engine.index.document(hit.chunk.source)
        if doc.original[hit.chunk.start : hit.chunk.end] != hit.chunk.cited:
            score.problems.append(f"{item.id}: cited text is not the extracted text at its offsets")
        if folder is not None and hit.chunk.source.endswith(".pdf"):
            texts = pages.setdefault(hit.chunk.source, pdf_pages(folder / hit.chunk.source))
            head = squeeze(hit.chunk.cited)[:6]
            score.pages_checked += 1
            if hit.chunk.page is None or head not in texts[hit.chunk.page - 1]:
                score.problems.append(f"{item.id}: page {hit.chunk.page}, but pdfium finds {head!r} elsewhere")
    return score
