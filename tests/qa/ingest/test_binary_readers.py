"""PDF and Word readers: reading order, wrapped lines, running headers, headings, tables, pages, errors."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement

from qa.errors import InputError
from qa.ingest import iter_documents, read_file, segment
from qa.ingest.binary import parse_binary
from qa.ingest.pdf import read_pdf_content
from qa.text import HAN
from qa.types import Chunk, Document
from tests import binary_docs
from tests.binary_docs import BinarySamples

_CJK_SPACE_CJK = re.compile(f"[{HAN}，。、；：] +[{HAN}，。、；：]")


def check_citations(doc: Document, chunks: list[Chunk]) -> None:
    for chunk in chunks:
        assert doc.original[chunk.start : chunk.end] == chunk.cited == chunk.text
        assert chunk.page == doc.page_of(chunk.start)


def test_pdf_sentence_across_a_page_break_is_one_chunk_on_its_first_page(binary_samples: BinarySamples) -> None:
    doc = read_file(binary_samples.feature_pdf, "sample.pdf")
    chunks = segment(doc)
    check_citations(doc, chunks)
    spanning = [c for c in chunks if c.cited == binary_docs.SPANNING]
    assert len(spanning) == 1
    assert spanning[0].page == 1
    assert doc.page_of(spanning[0].end - 1) == 2
    assert len(doc.pages) == 3
    assert doc.pages[2] == len(doc.original), "the scanned third page holds no text"


def test_pdf_wrapped_lines_join_without_spaces_between_chinese_and_with_one_between_words(
    binary_samples: BinarySamples,
) -> None:
    doc = read_file(binary_samples.feature_pdf, "sample.pdf")
    body = [doc.original[b.start : b.end] for b in doc.blocks if b.kind == "text"]
    assert not [text for text in body if _CJK_SPACE_CJK.search(text)]
    assert binary_docs.ENGLISH in doc.original
    assert binary_docs.FILLER * 3 in doc.original


def test_pdf_running_header_and_page_numbers_are_left_out(binary_samples: BinarySamples) -> None:
    doc = read_file(binary_samples.feature_pdf, "sample.pdf")
    assert binary_docs.HEADER not in doc.original
    assert not re.search(r"-\s*\d+\s*-", doc.original)
    assert all(not re.fullmatch(r"[\d\s\-]+", c.cited) for c in segment(doc))


def test_pdf_heading_table_cells_and_metadata(binary_samples: BinarySamples) -> None:
    doc = read_file(binary_samples.feature_pdf, "sample.pdf")
    headings = [doc.original[b.start : b.end] for b in doc.blocks if b.kind == "heading"]
    assert headings == ["第一章 总体情况", binary_docs.BOLD_HEADING]
    assert [b.level for b in doc.blocks if b.kind == "heading"] == [1, 2]
    chunks = segment(doc)
    cells = [c.cited for c in chunks if c.page == 2 and c.cited in {cell for row in binary_docs.TABLE for cell in row}]
    assert cells == [cell for row in binary_docs.TABLE for cell in row]
    assert "U创空间\t1.2亿元\t3亿元\n" in doc.original
    english = next(c for c in chunks if c.cited == binary_docs.ENGLISH)
    assert english.heading == ("第一章 总体情况", binary_docs.BOLD_HEADING)
    assert all(c.heading == ("第一章 总体情况",) for c in chunks[1 : chunks.index(english) - 1])
    assert (doc.meta.title, doc.meta.author) == ("数字经济样本", "渝中区统计局")


def test_pdf_characters_map_to_page_and_box(binary_samples: BinarySamples) -> None:
    paged = read_pdf_content(binary_samples.feature_pdf.read_bytes(), "sample.pdf").paged
    start = paged.text.index(binary_docs.SPANNING)
    first, last = paged.locate(start), paged.locate(start + len(binary_docs.SPANNING) - 1)
    assert first is not None and last is not None
    assert (first.page, last.page) == (1, 2)
    assert first.box is not None and first.box[1] > last.box[1] if last.box else False
    kept = sum(p.end - p.start for p in paged.placed)
    separators = sum(1 for i in range(len(paged.text)) if paged.locate(i) is None)
    assert kept + separators == len(paged.text)


def test_pdf_page_without_text_layer_warns(binary_samples: BinarySamples, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        read_file(binary_samples.feature_pdf, "sample.pdf")
    assert "page 3 has no text layer; OCR is not supported" in caplog.text
    assert "sample.pdf" in caplog.text


def test_scanned_pdf_is_skipped_with_a_warning_naming_it(
    binary_samples: BinarySamples, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "scan.pdf").write_bytes(binary_samples.scanned_pdf.read_bytes())
    (folder / "note.txt").write_text("园区2021年税收约2200万元。", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        docs = list(iter_documents([folder]))
    assert [d.id for d in docs] == ["note.txt"]
    assert "scan.pdf: no text layer; OCR is not supported" in caplog.text


def test_encrypted_pdf_is_a_clear_error(binary_samples: BinarySamples) -> None:
    with pytest.raises(InputError, match=r"locked\.pdf: the PDF is encrypted .*decrypt it first"):
        read_file(binary_samples.encrypted_pdf, "locked.pdf")


def test_damaged_pdf_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nnot really a pdf")
    with caplog.at_level(logging.WARNING):
        assert list(iter_documents([tmp_path])) == []
    assert "broken.pdf: not a readable PDF" in caplog.text


def test_binary_checksum_is_of_the_file_bytes(binary_samples: BinarySamples) -> None:
    doc = read_file(binary_samples.feature_pdf, "sample.pdf")
    assert doc.checksum == hashlib.sha256(binary_samples.feature_pdf.read_bytes()).hexdigest()
    assert doc.file is not None and doc.file.kind == "pdf"


def test_sidecar_overrides_the_pdf_information_dictionary(binary_samples: BinarySamples, tmp_path: Path) -> None:
    path = tmp_path / "sample.pdf"
    path.write_bytes(binary_samples.feature_pdf.read_bytes())
    (tmp_path / "sample.pdf.meta.yaml").write_text("title: 样本报告\ndate: 2021-06-30\n", encoding="utf-8")
    meta = read_file(path, path.name).meta
    assert (meta.title, meta.date, meta.author) == ("样本报告", "2021-06-30", "渝中区统计局")


def _squeeze(text: str) -> str:
    """Text without whitespace and without the glyphs STSong-Light lacks (reportlab drops them)."""
    return re.sub(r"[\s·©]", "", text)


def test_seed_pdfs_keep_the_text_and_nearly_every_paragraph_whole(binary_samples: BinarySamples) -> None:
    """All of a typeset seed's text comes back in order, and its paragraphs as the seed's lines."""
    whole = total = 0
    for seed in binary_docs.seed_paths():
        blocks = [text for _, _, text in binary_docs.seed_blocks(seed)]
        doc = read_file(binary_samples.seeds_pdf / f"{seed.stem}.pdf", seed.stem)
        assert _squeeze(doc.original) == _squeeze("".join(blocks)), seed.name
        lines = {re.sub(r"\s+", " ", text) for text in blocks}  # reportlab also folds runs of spaces
        found = [doc.original[b.start : b.end] for b in doc.blocks]
        whole += sum(1 for text in found if re.sub(r"[·©]", "", text) in {re.sub(r"[·©]", "", x) for x in lines})
        total += len(found)
        assert len(doc.pages) > 1 or len(doc.original) < 1500
    assert whole / total >= 0.97, f"{whole} of {total} paragraphs whole"


def test_docx_headings_table_cells_and_properties(binary_samples: BinarySamples) -> None:
    doc = read_file(binary_samples.feature_docx, "sample.docx")
    chunks = segment(doc)
    check_citations(doc, chunks)
    assert doc.pages == () and all(c.page is None for c in chunks)
    spanning = next(c for c in chunks if c.cited == binary_docs.SPANNING)
    assert spanning.heading == ("数字经济样本", "第一章 总体情况")
    cell = next(c for c in chunks if c.cited == "1.2亿元")
    assert cell.heading == ("数字经济样本", "第一章 总体情况", "第一节 园区")
    assert "U创空间\t1.2亿元\t3亿元\n" in doc.original
    assert any(c.cited == binary_docs.ENGLISH for c in chunks)
    assert (doc.meta.title, doc.meta.author, doc.meta.date) == ("数字经济样本", "渝中区统计局", "2021-05-10")


def test_docx_pages_come_from_the_page_breaks_word_recorded(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("第一页的段落。")
    paragraph = document.add_paragraph("第二页开始")
    run = paragraph.add_run("，这一段跨到第二页。")
    run._r.insert(0, OxmlElement("w:lastRenderedPageBreak"))
    document.add_paragraph("还在第二页。")
    path = tmp_path / "paged.docx"
    document.save(str(path))
    doc = read_file(path, path.name)
    assert doc.pages == (0, doc.original.index("，这一段"))
    assert [(c.cited, c.page) for c in segment(doc)] == [
        ("第一页的段落。", 1),
        ("第二页开始，这一段跨到第二页。", 1),
        ("还在第二页。", 2),
    ]


def test_doc_files_ask_to_be_converted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with caplog.at_level(logging.WARNING):
        assert list(iter_documents([tmp_path])) == []
    assert "old.doc: binary Word (.doc) files are not supported; convert it to .docx" in caplog.text


def test_not_a_docx_is_a_clear_error() -> None:
    with pytest.raises(InputError, match=r"x\.docx: not a readable \.docx file"):
        parse_binary("x.docx", b"plain text", "docx")


def test_libreoffice_docx(tmp_path: Path) -> None:
    seed = binary_docs.seed_paths()[0]
    made = binary_docs.libreoffice_docx(seed, tmp_path)
    if made is None:
        pytest.skip("libreoffice is not installed (apt-get install libreoffice-writer-nogui)")
    doc = read_file(made, made.name)
    lines = {line.strip() for line in seed.read_text(encoding="utf-8").splitlines() if line.strip()}
    assert {doc.original[b.start : b.end] for b in doc.blocks} == lines


@pytest.mark.browser
def test_chromium_printed_seeds_read_back_exactly(chromium_seeds: Path) -> None:
    """Chromium's print-to-PDF (with its own date/title header and url/page footer) reads back as the seed.

    A paragraph may come back cut where a line ends short before an unbreakable URL.
    """
    whole = total = 0
    for seed in binary_docs.seed_paths():
        blocks = [text for _, _, text in binary_docs.seed_blocks(seed)]
        doc = read_file(chromium_seeds / f"{seed.stem}.pdf", seed.stem)
        assert re.sub(r"\s", "", doc.original) == re.sub(r"\s", "", "".join(blocks)), seed.name
        assert "file://" not in doc.original and not re.search(r"\d+/\d+\s*$", doc.original)
        found = [doc.original[b.start : b.end] for b in doc.blocks]
        whole += sum(1 for text in found if text in blocks)
        total += len(found)
        assert len(doc.pages) >= 2
    assert whole / total >= 0.95, f"{whole} of {total} paragraphs whole"


def test_docx_footnotes_come_after_the_body(tmp_path: Path) -> None:
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part

    document = docx.Document()
    document.add_paragraph("正文一句。")
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    notes = (
        f'<w:footnotes xmlns:w="{w}"><w:footnote w:id="0"><w:p><w:r><w:t>-</w:t></w:r></w:p></w:footnote>'
        '<w:footnote w:id="1"><w:p><w:r><w:t>数据来源：渝中区统计局。</w:t></w:r></w:p></w:footnote></w:footnotes>'
    )
    content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
    part = Part(PackURI("/word/footnotes.xml"), content_type, notes.encode("utf-8"), document.part.package)
    document.part.relate_to(part, RELATIONSHIP_TYPE.FOOTNOTES)
    path = tmp_path / "notes.docx"
    document.save(str(path))
    doc = read_file(path, path.name)
    assert [c.cited for c in segment(doc)] == ["正文一句。", "数据来源：渝中区统计局。"]
