"""Readers: encodings, line endings, markup detection, offset maps, JSONL corpora and metadata."""

from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path

import pytest

from qa.errors import InputError
from qa.ingest import author_names, iter_documents, parse_document, read_file, segment
from qa.types import Chunk, Document


def text_mode(path: Path) -> str:
    with path.open(encoding="utf-8") as handle:
        return handle.read()


def check_offsets(doc: Document, chunks: list[Chunk]) -> None:
    for chunk in chunks:
        assert doc.original[chunk.start : chunk.end] == chunk.cited
        assert chunk.cited.strip(), "empty citation"


def without_markup(cited: str) -> str:
    """A cited HTML span as clean text: tags dropped, entities decoded, whitespace folded."""
    text = html.unescape(re.sub(r"<[^>]*>", "", cited)).replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip()


def texts(chunks: list[Chunk]) -> list[str]:
    return [c.text for c in chunks]


FRONT_MATTER_HTML = """---
layout: post
title: "西湖区加快培育数字经济生态圈"
date: 2022-03-17 09:04:04 +0800
categories: jiangxiribao
---
<p>当前，全省上下正在掀起热潮。南昌市西湖区如何才能立于浪尖？</p>
 <p>创新机制</p>
 <p>截至目前，西湖区共有数字经济企业&nbsp;1200余家，营收约12亿元。（文章来源：江西日报）</p>
"""


def test_front_matter_and_html_in_txt_detected_by_content(tmp_path: Path) -> None:
    path = tmp_path / "001_news.txt"
    path.write_text(FRONT_MATTER_HTML, encoding="utf-8")
    doc = read_file(path, path.name)
    assert doc.original == text_mode(path)
    assert doc.meta.title == "西湖区加快培育数字经济生态圈"
    assert doc.meta.date == "2022-03-17"
    assert doc.meta.publisher == "江西日报"
    assert doc.meta.extra["categories"] == "jiangxiribao"
    assert "layout" in doc.meta.extra
    chunks = segment(doc)
    check_offsets(doc, chunks)
    assert texts(chunks) == [
        "当前，全省上下正在掀起热潮。",
        "南昌市西湖区如何才能立于浪尖？",
        "创新机制",
        "截至目前，西湖区共有数字经济企业 1200余家，营收约12亿元。",
        "（文章来源：江西日报）",
    ]
    for chunk in chunks:
        assert "<p>" not in chunk.text and "layout" not in chunk.text
        assert without_markup(chunk.cited) == chunk.text
    first = chunks[0]
    assert first.cited == "当前，全省上下正在掀起热潮。"
    assert first.start == FRONT_MATTER_HTML.index("当前")
    assert first.line == 7
    assert "&nbsp;" in chunks[3].cited


def test_markdown_headings_and_inline_marks(tmp_path: Path) -> None:
    source = (
        "# 数字经济发展报告\n"
        "\n"
        "前言部分，**重要**内容在此。详见[官方网站](https://example.com/a.html)说明。\n"
        "\n"
        "## 第一章 总体要求\n"
        "\n"
        "- 坚持*创新*驱动。\n"
        "- 运行 `qa chunks` 命令。\n"
        "\n"
        "### 第一节 目标\n"
        "\n"
        "到2027年实现目标。\n"
        "\n"
        "## 第二章 保障措施\n"
        "\n"
        "> 加强组织领导。\n"
    )
    path = tmp_path / "report.md"
    path.write_text(source, encoding="utf-8")
    doc = read_file(path, path.name)
    assert doc.meta.title == "数字经济发展报告"
    chunks = segment(doc)
    check_offsets(doc, chunks)
    by_text = {c.text: c for c in chunks}
    assert texts(chunks) == [
        "数字经济发展报告",
        "前言部分，重要内容在此。",
        "详见官方网站说明。",
        "第一章 总体要求",
        "坚持创新驱动。",
        "运行 qa chunks 命令。",
        "第一节 目标",
        "到2027年实现目标。",
        "第二章 保障措施",
        "加强组织领导。",
    ]
    assert by_text["前言部分，重要内容在此。"].heading == ("数字经济发展报告",)
    assert by_text["坚持创新驱动。"].heading == ("数字经济发展报告", "第一章 总体要求")
    assert by_text["到2027年实现目标。"].heading == ("数字经济发展报告", "第一章 总体要求", "第一节 目标")
    # a new level-2 heading closes the level-3 one
    assert by_text["加强组织领导。"].heading == ("数字经济发展报告", "第二章 保障措施")
    assert by_text["第一章 总体要求"].heading == ("数字经济发展报告",)
    for chunk in chunks:
        for mark in ("**", "](", "`", "# ", "> "):
            assert mark not in chunk.text
        # the cited span, with the Markdown marks taken out, is the clean sentence
        unmarked = re.sub(r"\]\([^)]*\)|\*\*|\*|`|\[", "", chunk.cited)
        assert unmarked == chunk.text
    link = by_text["详见官方网站说明。"]
    assert link.cited == "详见[官方网站](https://example.com/a.html)说明。"
    assert source[link.start : link.end] == link.cited


def test_markdown_detected_by_content_in_txt(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("# 标题\n\n正文**加粗**句子。\n", encoding="utf-8")
    doc = read_file(path, path.name)
    assert doc.meta.title == "标题"
    assert texts(segment(doc)) == ["标题", "正文加粗句子。"]


def test_html_entities_decoded(tmp_path: Path) -> None:
    source = (
        "<html><head><title>Q&amp;A 指南</title><script>var x = '<p>不要</p>';</script></head>\n"
        "<body><h1>研发 &amp; 创新</h1>\n"
        "<p>价格&lt;100元&gt;50元，&quot;优惠&quot;&#x4E2D;&#25991;版。</p><!-- 注释。 -->\n"
        "<p>R&amp;D投入增长&nbsp;5%。</p></body></html>\n"
    )
    path = tmp_path / "page.html"
    path.write_text(source, encoding="utf-8")
    doc = read_file(path, path.name)
    chunks = segment(doc)
    check_offsets(doc, chunks)
    got = texts(chunks)
    assert '价格<100元>50元，"优惠"中文版。' in got
    assert "R&D投入增长 5%。" in got
    assert "研发 & 创新" in got
    assert not any("不要" in t or "注释" in t or "var x" in t for t in got)
    for chunk in chunks:
        assert without_markup(chunk.cited) == chunk.text
    rd = next(c for c in chunks if c.text.startswith("R&D"))
    assert rd.cited == "R&amp;D投入增长&nbsp;5%。"
    heading_chunk = next(c for c in chunks if c.text == '价格<100元>50元，"优惠"中文版。')
    assert "研发 & 创新" in heading_chunk.heading


def test_gb18030_file(tmp_path: Path) -> None:
    text = (
        "重庆市渝中区人民政府办公室\n关于印发实施方案的通知\n"
        "各有关单位：现印发给你们，请认真组织实施。\n2024年11月25日\n"
    )
    path = tmp_path / "gb.txt"
    path.write_bytes(text.encode("gb18030"))
    doc = read_file(path, path.name)
    assert doc.original == text
    chunks = segment(doc)
    check_offsets(doc, chunks)
    assert "各有关单位：现印发给你们，请认真组织实施。" in texts(chunks)
    assert doc.meta.date == "2024-11-25"
    assert doc.meta.title == "关于印发实施方案的通知"


def test_utf8_bom_counts_as_one_character(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeff标题行\n正文第一句。第二句。\n".encode())
    original = text_mode(path)
    assert original[0] == "\ufeff"
    doc = read_file(path, path.name)
    assert doc.original == original
    chunks = segment(doc)
    check_offsets(doc, chunks)
    assert [(c.start, c.end) for c in chunks] == [(1, 4), (5, 11), (11, 15)]
    assert all(not c.cited.startswith("\ufeff") for c in chunks)
    assert doc.meta.title == "标题行"
    assert chunks[1].heading == ("标题行",)


def test_utf8_bom_markdown_heading(tmp_path: Path) -> None:
    path = tmp_path / "bom.md"
    path.write_bytes("\ufeff# 大标题\n\n正文。\n".encode())
    doc = read_file(path, path.name)
    assert doc.original == text_mode(path)
    chunks = segment(doc)
    check_offsets(doc, chunks)
    assert texts(chunks) == ["大标题", "正文。"]
    assert doc.meta.title == "大标题"
    assert chunks[1].heading == ("大标题",)


def test_utf8_bom_with_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "bomfm.txt"
    path.write_bytes('\ufeff---\ntitle: "前置标题"\ndate: 2025-03-21\n---\n正文。\n'.encode())
    doc = read_file(path, path.name)
    assert doc.original == text_mode(path)
    assert (doc.meta.title, doc.meta.date) == ("前置标题", "2025-03-21")
    assert texts(segment(doc)) == ["正文。"]


def test_crlf_file(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes("第一行标题\r\n第一句。第二句！\r\n\r\nLast line here.\r\n".encode())
    original = text_mode(path)
    assert "\r" not in original
    doc = read_file(path, path.name)
    assert doc.original == original
    chunks = segment(doc)
    check_offsets(doc, chunks)
    assert texts(chunks) == ["第一行标题", "第一句。", "第二句！", "Last line here."]
    assert [c.line for c in chunks] == [1, 2, 2, 4]
    assert chunks[-1].start == original.index("Last")


def test_binary_file_skipped_with_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "a_good.txt").write_text("好的句子。\n", encoding="utf-8")
    (tmp_path / "b_binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01")
    (tmp_path / "c_good.md").write_text("# 标题\n\n另一句。\n", encoding="utf-8")
    (tmp_path / "ignored.bin").write_bytes(b"\x00\x01")
    with caplog.at_level(logging.WARNING):
        docs = list(iter_documents([tmp_path]))
    assert [d.id for d in docs] == ["a_good.txt", "c_good.md"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "b_binary.txt" in warnings[0]


def test_missing_path_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nope"):
        list(iter_documents([tmp_path / "nope"]))


def test_folder_ids_are_relative_and_hidden_files_skipped(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.txt").write_text("子目录。\n", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("隐藏。\n", encoding="utf-8")
    assert [d.id for d in iter_documents([tmp_path])] == ["sub/x.txt"]


def test_jsonl_corpus(tmp_path: Path) -> None:
    rows = [
        {"id": "doc-1", "title": "第一篇", "text": "第一句。第二句。", "url": "https://a.cn/1", "category": "news"},
        {"id": "doc-2", "text": "# 标记标题\n\n正文**内容**。", "date": "2025-03-21", "rank": 3},
    ]
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n", encoding="utf-8")
    docs = list(iter_documents([path]))
    assert [d.id for d in docs] == ["doc-1", "doc-2"]
    first, second = docs
    assert first.meta.title == "第一篇"
    assert first.meta.url == "https://a.cn/1"
    assert dict(first.meta.extra) == {"category": "news"}
    assert first.original == "第一句。第二句。"
    assert texts(segment(first)) == ["第一句。", "第二句。"]
    assert second.meta.title == "标记标题"
    assert second.meta.date == "2025-03-21"
    assert dict(second.meta.extra) == {"rank": "3"}
    chunks = segment(second)
    check_offsets(second, chunks)
    assert texts(chunks) == ["标记标题", "正文内容。"]


def test_jsonl_bad_line_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text('{"id": "a", "text": "好。"}\n{"id": "b", "text": \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"corpus\.jsonl:2\b"):
        list(iter_documents([path]))


def test_jsonl_line_without_text(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text('{"id": "a", "title": "无正文"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r":1\b"):
        list(iter_documents([path]))


@pytest.mark.parametrize(
    ("line", "iso"),
    [
        ("2024年11月25日", "2024-11-25"),
        ("发布时间：2024年 1月 5日 10:00", "2024-01-05"),
        ("2025-03-21", "2025-03-21"),
        ("日期：2025/3/1", "2025-03-01"),
    ],
)
def test_dates_normalized(line: str, iso: str) -> None:
    doc = parse_document("d.txt", f"某某新闻标题\n{line}\n正文句子很长很长很长很长。\n")
    assert doc.meta.date == iso


def test_publisher_from_source_note() -> None:
    doc = parse_document("p.txt", "新闻标题\n正文第一句。正文第二句。（文章来源：江西日报）\n")
    assert doc.meta.publisher == "江西日报"


def test_missing_metadata_stays_none() -> None:
    doc = parse_document("plain.txt", "今天的天气很好。我们去公园散步，看到很多花。\n")
    assert doc.meta.date is None
    assert doc.meta.publisher is None
    assert doc.meta.author is None
    assert doc.meta.url is None
    assert dict(doc.meta.extra) == {}
    assert doc.meta.title  # a title is always given (first line or file name)


def test_no_date_invented_from_version_or_numbers() -> None:
    doc = parse_document("v.txt", "版本说明\n升级到3.0版本后，2.5亿元的项目于第13号楼启动。\n")
    assert doc.meta.date is None


def test_title_falls_back_to_file_stem_for_punctuation_only_text() -> None:
    doc = parse_document("folder/empty_doc.txt", "。。。\n")
    assert doc.meta.title == "empty_doc"


@pytest.mark.parametrize("text", ["截至2023-02-30的数据。", "2024年13月1日", "2024年2月30日发布。"])
def test_impossible_dates_are_not_dates(text: str) -> None:
    doc = parse_document("x.txt", f"标题\n{text}\n")
    assert doc.meta.date is None


@pytest.mark.parametrize(
    ("author", "names"),
    [
        ("记者 张三", ["张三"]),
        ("文/李四", ["李四"]),
        ("王祥明 杨涛 久万 本报记者 左朝胜", ["王祥明", "杨涛", "久万", "左朝胜"]),
        ("张三、李四，王五", ["张三", "李四", "王五"]),
        ("Jane Doe and John Smith", ["Jane Doe", "John Smith"]),
        ("Ann Lee; Bo  Chen", ["Ann Lee", "Bo Chen"]),
        ("阿卜杜拉·买买提", ["阿卜杜拉·买买提"]),
        ("", []),
    ],
)
def test_author_names_without_role_labels(author: str, names: list[str]) -> None:
    assert author_names(author) == names
