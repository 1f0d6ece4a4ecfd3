"""Figures read from Chinese and English text: values, units, kinds and offsets into the original string."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.claims import Figure, chinese_numeral_value, find_figures


def read(text: str) -> list[tuple[str, float, str, str]]:
    """Each figure as (its words in ``text``, value, unit, kind)."""
    return [(text[f.start : f.end], f.value, f.unit, f.kind) for f in find_figures(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # arabic numbers with 万/亿 multipliers, separators and decimals
        ("营业收入约12亿元", [("12亿元", 1_200_000_000, "元", "number")]),
        ("税收约2200万元。", [("2200万元", 22_000_000, "元", "number")]),
        ("产值约2.5亿元", [("2.5亿元", 250_000_000, "元", "number")]),
        ("营收12.5亿美元", [("12.5亿美元", 1_250_000_000, "元", "number")]),
        ("总额1,234,567.89元", [("1,234,567.89元", 1_234_567.89, "元", "number")]),
        ("共2,100", [("2,100", 2100, "", "number")]),
        ("5万多人", [("5万多人", 50_000, "人", "number")]),
        ("1.5万亿元", [("1.5万亿元", 1_500_000_000_000, "元", "number")]),
        ("约3万平方米", [("3万平方米", 30_000, "平方米", "number")]),
        # Latin units and English scale words
        ("算力达到2,100 PFLOPS", [("2,100 PFLOPS", 2100, "pflops", "number")]),
        ("规模达到1200PFLOPS。", [("1200PFLOPS", 1200, "pflops", "number")]),
        ("home to 1.5 million people", [("1.5 million", 1_500_000, "", "number")]),
        # approximations: the number without the 余/多/来/近
        ("创业团队40余名", [("40余名", 40, "名", "number")]),
        ("创业团队四十多名", [("四十多名", 40, "名", "number")]),
        ("企业1300余个", [("1300余个", 1300, "个", "number")]),
        ("企业一千三百多个", [("一千三百多个", 1300, "个", "number")]),
        ("二十来个", [("二十来个", 20, "个", "number")]),
        ("举办活动近百场", [("百场", 100, "场", "number")]),
        # percentages
        ("入驻率为百分之五十", [("百分之五十", 50, "%", "number")]),
        ("百分之12.5", [("百分之12.5", 12.5, "%", "number")]),
        ("增长50%", [("50%", 50, "%", "number")]),
        ("grew 50 percent", [("50 percent", 50, "%", "number")]),
        ("a 3 per cent rise", [("3 per cent", 3, "%", "number")]),
        ("提高3个百分点", [("3个百分点", 3, "%", "number")]),
        # dates
        ("到2027年，", [("2027年", 2027, "年", "date")]),
        ("二〇二七年", [("二〇二七年", 2027, "年", "date")]),
        ("by 2027 the district", [("2027", 2027, "", "date")]),
        ("5月10日", [("5月", 5, "月", "date"), ("10日", 10, "日", "date")]),
        ("300年历史", [("300年", 300, "年", "number")]),
        # traditional multipliers
        ("營收12億元", [("12億元", 1_200_000_000, "元", "number")]),
        ("3萬人", [("3萬人", 30_000, "人", "number")]),
        # ordinals and small Chinese numerals with a measure word
        ("第一批企业", [("第一批", 1, "批", "number")]),
        ("第三届", [("第三届", 3, "届", "number")]),
        ("两个园区", [("两个", 2, "个", "number")]),
        ("十二个", [("十二个", 12, "个", "number")]),
        ("约有一万二千人", [("一万二千人", 12_000, "人", "number")]),
        # words, not figures
        ("一流的园区", []),
        ("全国统一大市场", []),
        ("千万不要迟到", []),
        ("一个园区", []),
        ("十分重要", []),
        ("没有数字。", []),
    ],
)
def test_find_figures(text: str, expected: list[tuple[str, float, str, str]]) -> None:
    assert read(text) == expected


def test_several_figures_in_order_with_offsets() -> None:
    text = "2021年，梦想小街产业园实现营业收入约12亿元、税收约2200万元。"
    figures = find_figures(text)
    assert figures == [
        Figure(0, 5, 2021, "年", "date"),
        Figure(20, 24, 1_200_000_000, "元", "number"),
        Figure(28, 34, 22_000_000, "元", "number"),
    ]


def test_full_width_digits_keep_offsets_into_the_original() -> None:
    text = "营收１２亿元，增长５０％，入驻１３００家"
    assert read(text) == [
        ("１２亿元", 1_200_000_000, "元", "number"),
        ("５０％", 50, "%", "number"),
        ("１３００家", 1300, "家", "number"),
    ]
    assert [(f.start, f.end) for f in find_figures(text)] == [(2, 6), (9, 12), (15, 20)]


def test_chinese_and_english_forms_have_the_same_value() -> None:
    (cn,) = find_figures("12亿元")
    (en,) = find_figures("1.2 billion")
    (approx_cn,) = find_figures("四十多名")
    (approx_ar,) = find_figures("40余名")
    assert cn.same_value(en) and approx_cn.same_value(approx_ar)
    assert not cn.same_value(find_figures("13亿元")[0])


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("两亿五千万", 250_000_000),
        ("一万二千", 12_000),
        ("三千零五", 3005),
        ("二〇二七", 2027),
        ("十二", 12),
        ("十", 10),
        ("一百零八", 108),
        ("一千三百", 1300),
        ("一千零一十", 1010),
        ("五十万", 500_000),
        ("二十一亿", 2_100_000_000),
        ("一亿零五百万", 105_000_000),
        ("五亿三千万零二百", 530_000_200),
        ("一二三", 123),
        ("零", 0),
        ("七", 7),
        ("一流", None),
        ("abc", None),
        ("12", None),
    ],
)
def test_chinese_numeral_value(numeral: str, value: int | None) -> None:
    assert chinese_numeral_value(numeral) == value


def test_chinese_numeral_value_of_nothing() -> None:
    assert chinese_numeral_value("") is None


def test_abbreviated_numerals() -> None:
    assert [chinese_numeral_value(n) for n in ("两千五", "三万五", "一百二")] == [2500, 35_000, 120]
    assert read("两千五人") == [("两千五人", 2500, "人", "number")]


def test_capitalised_english_words() -> None:
    assert read("5 Million people") == [("5 Million", 5_000_000, "", "number")]
    assert read("50 Percent") == [("50 Percent", 50, "%", "number")]


def test_space_before_the_multiplier() -> None:
    assert read("约12 亿元") == [("12 亿元", 1_200_000_000, "元", "number")]


_PIECES = [
    *"0123456789０１２３零〇一二两三四五六七八九十百千万亿億萬兩余多几来近第",
    *"年月日号元名个场批家人%‰.,，。、 -",
    "百分之",
    "per cent",
    "percent",
    " million",
    "PFLOPS",
    " MW",
    "平方米",
    "个百分点",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_figures_of_any_text_are_ordered_disjoint_spans(text: str) -> None:
    figures = find_figures(text)
    end = 0
    for figure in figures:
        assert end <= figure.start < figure.end <= len(text)
        assert figure.kind in {"number", "date"}
        assert figure.value >= 0
        end = figure.end
