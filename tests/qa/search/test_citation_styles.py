"""Citation styles: GB/T 7714-2015, APA 7 and plain, from full and partial metadata (strings written by hand)."""

from __future__ import annotations

import datetime
from dataclasses import replace

import pytest

from qa.search import document_type, format_citations
from qa.types import DocumentMeta

ACCESSED = datetime.date(2024, 5, 1)
URL = "https://www.jxnews.com.cn/a.html"
TITLE = "西湖区加快培育数字经济生态圈"
FULL = DocumentMeta(title=TITLE, date="2022-03-17", publisher="江西日报", author="张三", url=URL)


def test_full_metadata_in_every_style() -> None:
    citations = format_citations(FULL, "news/a.html", 20, accessed=ACCESSED)
    assert citations.as_dict() == {
        "gbt7714": f"张三. 西湖区加快培育数字经济生态圈[EB/OL]. 江西日报, 2022-03-17[2024-05-01]. {URL}.",
        "apa": f"张三. (2022, March 17). 西湖区加快培育数字经济生态圈. 江西日报. {URL}",
        "plain": "news/a.html:20",
    }


@pytest.mark.parametrize(
    ("missing", "gbt7714", "apa"),
    [
        (
            "author",
            f"西湖区加快培育数字经济生态圈[EB/OL]. 江西日报, 2022-03-17[2024-05-01]. {URL}.",
            f"西湖区加快培育数字经济生态圈. (2022, March 17). 江西日报. {URL}",
        ),
        (
            "date",
            f"张三. 西湖区加快培育数字经济生态圈[EB/OL]. 江西日报[2024-05-01]. {URL}.",
            f"张三. (n.d.). 西湖区加快培育数字经济生态圈. 江西日报. {URL}",
        ),
        (
            "publisher",
            f"张三. 西湖区加快培育数字经济生态圈[EB/OL]. (2022-03-17)[2024-05-01]. {URL}.",
            f"张三. (2022, March 17). 西湖区加快培育数字经济生态圈. {URL}",
        ),
        (
            "url",
            "张三. 西湖区加快培育数字经济生态圈[N]. 江西日报, 2022-03-17.",
            "张三. (2022, March 17). 西湖区加快培育数字经济生态圈. 江西日报.",
        ),
    ],
)
def test_a_missing_field_is_left_out(missing: str, gbt7714: str, apa: str) -> None:
    citations = format_citations(replace(FULL, **{missing: None}), "news/a.html", 20, accessed=ACCESSED)
    assert citations.gbt7714 == gbt7714
    assert citations.apa == apa


def test_title_only_invents_nothing() -> None:
    citations = format_citations(DocumentMeta(TITLE), "a.txt", accessed=ACCESSED)
    assert citations.as_dict() == {
        "gbt7714": "西湖区加快培育数字经济生态圈[Z].",
        "apa": "西湖区加快培育数字经济生态圈. (n.d.).",
        "plain": "a.txt",
    }


def test_online_without_publisher_or_date_keeps_the_access_date() -> None:
    meta = DocumentMeta("About the park", url="https://example.org/park")
    citations = format_citations(meta, "park.html", 3, accessed=ACCESSED)
    assert citations.gbt7714 == "About the park[EB/OL]. [2024-05-01]. https://example.org/park."
    assert citations.apa == "About the park. (n.d.). https://example.org/park"


def test_no_access_date_without_url_or_when_not_given() -> None:
    offline = replace(FULL, url=None, publisher=None)
    assert (
        format_citations(offline, "a.txt", accessed=ACCESSED).gbt7714
        == "张三. 西湖区加快培育数字经济生态圈[Z]. 2022-03-17."
    )
    assert (
        format_citations(FULL, "a.txt").gbt7714
        == f"张三. 西湖区加快培育数字经济生态圈[EB/OL]. 江西日报, 2022-03-17. {URL}."
    )


def test_english_title_and_two_authors() -> None:
    meta = DocumentMeta(
        "Digital economy parks in Nanchang",
        date="2021-05-10",
        publisher="Example News",
        author="Jane Doe and John Smith",
        url="https://example.org/parks",
    )
    citations = format_citations(meta, "parks.md", 7, accessed=ACCESSED)
    assert citations.gbt7714 == (
        "Jane Doe, John Smith. Digital economy parks in Nanchang[EB/OL]. "
        "Example News, 2021-05-10[2024-05-01]. https://example.org/parks."
    )
    assert citations.apa == (
        "Jane Doe & John Smith. (2021, May 10). Digital economy parks in Nanchang. "
        "Example News. https://example.org/parks"
    )
    assert citations.plain == "parks.md:7"


def test_several_chinese_authors_with_role_labels() -> None:
    meta = DocumentMeta("重庆天安数码城构筑创新企业生态圈", author="王祥明 杨涛 久万 本报记者 左朝胜")
    citations = format_citations(meta, "b.txt", 1)
    assert citations.gbt7714 == "王祥明, 杨涛, 久万, 等. 重庆天安数码城构筑创新企业生态圈[Z]."
    assert citations.apa == "王祥明, 杨涛, 久万, & 左朝胜. (n.d.). 重庆天安数码城构筑创新企业生态圈."
    three = format_citations(replace(meta, author="文/王祥明、杨涛、久万"), "b.txt")
    assert three.gbt7714 == "王祥明, 杨涛, 久万. 重庆天安数码城构筑创新企业生态圈[Z]."
    assert three.apa == "王祥明, 杨涛, & 久万. (n.d.). 重庆天安数码城构筑创新企业生态圈."


def test_several_english_authors() -> None:
    meta = DocumentMeta("Harbour traffic", date="2020", author="Ann Lee; Bo Chen; Cy Wu; Di Ng")
    citations = format_citations(meta, "h.txt")
    assert citations.gbt7714 == "Ann Lee, Bo Chen, Cy Wu, et al. Harbour traffic[Z]. 2020."
    assert citations.apa == "Ann Lee, Bo Chen, Cy Wu, & Di Ng. (2020). Harbour traffic."


def test_apa_over_twenty_authors_keeps_the_first_nineteen_and_the_last() -> None:
    names = [f"李{chr(0x4E00 + i)}" for i in range(22)]
    apa = format_citations(DocumentMeta("题", author="、".join(names)), "x.txt").apa
    assert apa == ", ".join([*names[:19], ". . .", names[21]]) + ". (n.d.). 题."


def test_apa_leaves_out_a_publisher_that_is_the_author() -> None:
    office = "重庆市渝中区人民政府办公室"
    meta = DocumentMeta("关于印发实施方案的通知", date="2024-11-25", publisher=office, author=office)
    citations = format_citations(meta, "c.txt", 5)
    assert citations.apa == "重庆市渝中区人民政府办公室. (2024, November 25). 关于印发实施方案的通知."
    assert citations.gbt7714 == (
        "重庆市渝中区人民政府办公室. 关于印发实施方案的通知[Z]. 重庆市渝中区人民政府办公室, 2024-11-25."
    )


def test_title_ending_a_sentence_gets_no_extra_period() -> None:
    meta = DocumentMeta("谁在领跑？", date="2021-05-10", publisher="重庆晨报")
    citations = format_citations(meta, "d.txt")
    assert citations.apa == "谁在领跑？ (2021, May 10). 重庆晨报."
    assert citations.gbt7714 == "谁在领跑？[N]. 重庆晨报, 2021-05-10."


@pytest.mark.parametrize(
    ("date", "gbt_date", "apa_date"),
    [("2021-05", "2021-05", "(2021, May)"), ("2021", "2021", "(2021)"), ("2021-13-01", None, "(n.d.)")],
)
def test_partial_and_impossible_dates(date: str, gbt_date: str | None, apa_date: str) -> None:
    citations = format_citations(DocumentMeta("题名", date=date), "e.txt")
    assert citations.gbt7714 == ("题名[Z]." if gbt_date is None else f"题名[Z]. {gbt_date}.")
    assert citations.apa == f"题名. {apa_date}."


@pytest.mark.parametrize(
    ("meta", "code"),
    [
        (DocumentMeta("t", publisher="重庆日报"), "N"),
        (DocumentMeta("t", publisher="新民晚报"), "N"),
        (DocumentMeta("t", publisher="北京大学学报"), "Z"),
        (DocumentMeta("t", publisher="重庆日报", url=URL), "EB/OL"),
        (DocumentMeta("t", publisher="重庆日报", url=URL, extra={"type": "N"}), "N"),
        (DocumentMeta("t", extra={"type": " r "}), "R"),
        (DocumentMeta("t", extra={"type": "S"}), "S"),
        (DocumentMeta("t"), "Z"),
    ],
)
def test_document_type_code(meta: DocumentMeta, code: str) -> None:
    assert document_type(meta) == code
    assert f"[{code}]" in format_citations(meta, "f.txt").gbt7714


def test_type_override_in_full_citation() -> None:
    citations = format_citations(replace(FULL, extra={"type": "N"}), "news/a.html", 20, accessed=ACCESSED)
    assert citations.gbt7714 == f"张三. 西湖区加快培育数字经济生态圈[N]. 江西日报, 2022-03-17[2024-05-01]. {URL}."
