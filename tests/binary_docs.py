"""Build the PDF and Word test documents (nothing is downloaded): seeds and a feature sample.

Producers: reportlab (the CID font STSong-Light), Chromium's print-to-PDF of the seeds as HTML,
python-docx, and LibreOffice when it is installed.
"""

from __future__ import annotations

import datetime
import html
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from qa.ingest import read_file
from qa.types import Document


@dataclass(frozen=True)
class BinarySamples:
    """Feature samples and the seeds as PDF (reportlab) and DOCX (python-docx), each set in its own folder."""

    feature_pdf: Path
    encrypted_pdf: Path
    scanned_pdf: Path
    feature_docx: Path
    seeds_pdf: Path
    seeds_docx: Path


ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
CHROMIUM = Path("/usr/bin/chromium")
FONT = "STSong-Light"
HEADER = "渝中区数字经济报告（内部资料）"

#: The feature sample: a sentence cut by the page break, a table, English text, a scanned page.
SPANNING = "这一句话从第一页的最后一行开始，一直写到第二页的第一行才结束，中间被分页切开了。"
TABLE = [["园区", "2017年产值", "2018年产值"], ["U创空间", "1.2亿元", "3亿元"], ["名流公馆", "0.8亿元", "2.1亿元"]]
ENGLISH = (
    "The district attracted many internet companies in 2018, and the park now hosts more than three hundred "
    "firms working on digital services."
)
BOLD_HEADING = "Parks and firms"
FILLER = "渝中区持续推进数字经济发展，楼宇经济和互联网产业集聚效应明显增强。"


def seed_paths() -> list[Path]:
    """The seed documents, in order."""
    return sorted(SEEDS.glob("*.txt"))


def seed_blocks(path: Path) -> list[tuple[str, int, str]]:
    """(kind, level, text) of each block of a seed, as the text reader sees it."""
    doc: Document = read_file(path, path.name)
    return [(b.kind, b.level, doc.clean[b.start : b.end].strip()) for b in doc.blocks]


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def reportlab_seed_pdf(seed: Path, out: Path) -> Path:
    """A seed typeset by reportlab: running header, page numbers "- n -", headings by size."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    _register_font()
    body = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=17, wordWrap="CJK", spaceAfter=6)
    styles = {
        1: ParagraphStyle("h1", fontName=FONT, fontSize=18, leading=26, spaceAfter=10),
        2: ParagraphStyle("h2", fontName=FONT, fontSize=14, leading=20, spaceBefore=6, spaceAfter=6),
    }

    def decorate(canvas: object, doc: object) -> None:
        canvas.saveState()  # type: ignore[attr-defined]
        canvas.setFont(FONT, 9)  # type: ignore[attr-defined]
        canvas.drawString(72, A4[1] - 40, HEADER)  # type: ignore[attr-defined]
        canvas.drawCentredString(A4[0] / 2, 30, f"- {doc.page} -")  # type: ignore[attr-defined]
        canvas.restoreState()  # type: ignore[attr-defined]

    story = [
        Paragraph(html.escape(text), styles[min(level, 2)] if kind == "heading" else body)
        for kind, level, text in seed_blocks(seed)
    ]
    SimpleDocTemplate(str(out), pagesize=A4, title=seed_blocks(seed)[0][2]).build(
        story, onFirstPage=decorate, onLaterPages=decorate
    )
    return out


def seed_html(seed: Path) -> str:
    """A seed as an HTML page (title h1, section headings h2, paragraphs p)."""
    blocks = seed_blocks(seed)
    parts = [
        f"<h{min(level, 2)}>{html.escape(text)}</h{min(level, 2)}>"
        if kind == "heading"
        else f"<p>{html.escape(text)}</p>"
        for kind, level, text in blocks
    ]
    style = "body{font-family:'WenQuanYi Micro Hei',sans-serif;font-size:12pt;line-height:1.6}p{margin:0 0 .6em}"
    title = html.escape(blocks[0][2])
    return (
        f'<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{style}</style></head><body>{''.join(parts)}</body></html>"
    )


def chromium_pdf(html_file: Path, out: Path) -> Path:
    """Chromium's own print-to-PDF of an HTML file (its default header and footer included)."""
    subprocess.run(
        [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", f"--print-to-pdf={out}", html_file.as_uri(),
        ],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return out


def docx_seed(seed: Path, out: Path) -> Path:
    """A seed as a Word file by python-docx: Title and Heading styles, body paragraphs."""
    import docx

    document = docx.Document()
    blocks = seed_blocks(seed)
    document.core_properties.title = blocks[0][2]
    document.core_properties.author = "渝中区融媒体中心"
    for kind, level, text in blocks:
        if kind == "heading":
            document.add_heading(text, level=min(level, 2))
        else:
            document.add_paragraph(text)
    document.save(str(out))
    return out


def libreoffice_docx(seed: Path, folder: Path) -> Path | None:
    """A seed converted to .docx by LibreOffice, or None when it is not installed."""
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        return None
    source = folder / seed.name
    source.write_text("\n".join(text for _, _, text in seed_blocks(seed)), encoding="utf-8")
    subprocess.run(
        [office, "--headless", "--convert-to", "docx", "--outdir", str(folder), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    source.unlink()
    return folder / (seed.stem + ".docx")


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)]


def feature_pdf(out: Path, *, password: str | None = None) -> Path:
    """Three pages drawn line by line: a large heading, a bold heading, paragraphs, a sentence cut
    by the page break, English text, a ruled table, a running header and page numbers; the third
    page is an image only (a scan without text). With ``password``, the file is encrypted.
    """
    from PIL import Image, ImageDraw
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    _register_font()
    width, height = A4
    canvas = Canvas(str(out), pagesize=A4, encrypt=password)
    canvas.setTitle("数字经济样本")
    canvas.setAuthor("渝中区统计局")

    def frame(number: int) -> None:
        canvas.setFont(FONT, 9)
        canvas.drawString(72, height - 40, HEADER)
        canvas.drawCentredString(width / 2, 30, f"- {number} -")

    frame(1)
    canvas.setFont(FONT, 18)
    canvas.drawString(72, height - 100, "第一章 总体情况")
    first = _wrap(FILLER * 3, 38)
    second = _wrap(FILLER * 25 + SPANNING, 38)
    cut = (len(FILLER * 25) + 10) // 38 + 1  # the page breaks inside SPANNING
    y = height - 130
    canvas.setFont(FONT, 11)
    for i, line in enumerate([*first, *second[:cut]]):
        canvas.drawString(72 + (22 if i in (0, len(first)) else 0), y, line)
        y -= 17
    canvas.showPage()
    frame(2)
    canvas.setFont(FONT, 11)
    y = height - 80
    for line in second[cut:]:
        canvas.drawString(72, y, line)
        y -= 17
    y -= 17
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(72, y, BOLD_HEADING)
    y -= 24
    canvas.setFont("Helvetica", 11)
    for line in ("The district attracted many internet companies in 2018, and the park now hosts",
                 "more than three hundred firms working on digital services."):  # fmt: skip
        canvas.drawString(72, y, line)
        y -= 17
    y -= 20
    canvas.setFont(FONT, 11)
    for r, row in enumerate(TABLE):
        for c, cell in enumerate(row):
            canvas.rect(72 + 140 * c, y - 6 - 24 * r, 140, 24)
            canvas.drawString(78 + 140 * c, y - 24 * r, cell)
    canvas.showPage()
    scan = Image.new("RGB", (600, 800), "white")
    ImageDraw.Draw(scan).rectangle((80, 80, 520, 120), fill="black")
    canvas.drawImage(ImageReader(scan), 72, 100, width - 144, height - 200)
    canvas.showPage()
    canvas.save()
    return out


def scanned_pdf(out: Path) -> Path:
    """A PDF whose only page is an image: no text layer at all."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(out))
    canvas.drawImage(ImageReader(Image.new("RGB", (300, 400), "gray")), 72, 72, 300, 400)
    canvas.showPage()
    canvas.save()
    return out


def feature_docx(out: Path) -> Path:
    """A Word file with a title, headings, a long paragraph and a table (one merged cell)."""
    import docx

    document = docx.Document()
    document.core_properties.title = "数字经济样本"
    document.core_properties.author = "渝中区统计局"
    document.core_properties.created = datetime.datetime(2021, 5, 10, 9, 0)
    document.add_heading("数字经济样本", level=0)
    document.add_heading("第一章 总体情况", level=1)
    document.add_paragraph(FILLER * 12 + SPANNING)
    document.add_heading("第一节 园区", level=2)
    table = document.add_table(rows=len(TABLE), cols=3)
    for r, row in enumerate(TABLE):
        for c, cell in enumerate(row):
            table.cell(r, c).text = cell
    document.add_paragraph(ENGLISH)
    document.save(str(out))
    return out
