"""Figures stated in a text: numbers, amounts and dates with their values, units and offsets.

Chinese and English forms are read to the same value, so that a claim and its source can be
compared whatever way each writes a figure: ``40余名`` and ``四十多名`` are both 40 名,
``12亿元`` is 1.2 billion 元, ``1,300`` is 1300, ``百分之五十`` is 50 %.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from qa.text import fold_width

FigureKind = Literal["number", "date"]

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10**4, "亿": 10**8}
_ENGLISH_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_CJK_NUMERAL = "零〇一二两三四五六七八九十百千万亿"

#: Measure words and units that make a run of Chinese numerals a figure (一流, 万一 are not figures).
_UNITS = (
    "平方公里|平方千米|平方米|公顷|亩|公里|千米|米|吨|千瓦时|千瓦|兆瓦|瓦|个百分点|百分点|倍|"
    "亿元|万元|千元|元|美元|欧元|港元|块|"
    "家|名|人|位|户|个|场|次|项|件|条|款|栋|座|层|所|批|类|种|期|届|台|辆|架|艘|套|张|部|本|篇|份|处|"
    "年|月|日|号|天|小时|分钟|秒|周|岁|%|‰"
)
_LATIN_UNIT = r"[A-Za-z][A-Za-z/]{0,11}|\s[A-Z]{2,}[A-Za-z]*\b"
_TRADITIONAL = str.maketrans("億萬兩", "亿万两")
_APPROX = r"[余多几来]?"
_ARABIC = re.compile(
    rf"(?<![\d.])(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    rf"(?P<mult>\s?[万亿]+|\s(?i:thousand|million|billion|trillion)\b)?{_APPROX}"
    rf"(?P<unit>{_UNITS}|\s?(?i:per\s?cent|percent)\b|{_LATIN_UNIT})?"
)
_CHINESE = re.compile(rf"(?P<ord>第)?(?P<num>[{_CJK_NUMERAL}]+){_APPROX}(?P<unit>{_UNITS})?")
_PERCENT_CN = re.compile(r"百分之(?P<num>[\d.]+|[零〇一二两三四五六七八九十百千]+)")
_YEAR = re.compile(r"^(?:19|20)\d{2}$")


@dataclass(frozen=True)
class Figure:
    """A figure of a text: ``text[start:end]`` states ``value`` (in ``unit``, "" when none)."""

    start: int
    end: int
    value: float
    unit: str
    kind: FigureKind

    def same_value(self, other: Figure) -> bool:
        """Whether both state the same amount (units aside: ``12亿元`` and ``1.2 billion`` agree)."""
        return abs(self.value - other.value) <= 1e-9 * max(abs(self.value), abs(other.value), 1.0)

    def agrees(self, other: Figure) -> bool:
        """Whether both state the same amount of the same thing (a bare number agrees with any unit)."""
        return self.same_value(other) and (self.unit == other.unit or not self.unit or not other.unit)


def chinese_numeral_value(numeral: str) -> int | None:
    """The value of a Chinese numeral (``一千三百`` → 1300, ``两千五`` → 2500, ``二〇二七`` → 2027), or None."""
    if not numeral or any(ch not in _DIGITS and ch not in _SMALL_UNITS and ch not in _BIG_UNITS for ch in numeral):
        return None
    if all(ch in _DIGITS for ch in numeral):  # digit by digit, as years are written
        return int("".join(str(_DIGITS[ch]) for ch in numeral))
    total, below_yi, section, digit = 0, 0, 0, None
    last_unit, zero = 1, False  # the unit just read, and whether a 零 stood since
    for ch in numeral:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
            zero = zero or digit == 0
        elif ch in _SMALL_UNITS:
            section += (1 if digit is None else digit) * _SMALL_UNITS[ch]
            digit, last_unit, zero = None, _SMALL_UNITS[ch], False
        elif ch == "万":
            below_yi += (section + (digit or 0) or 1) * _BIG_UNITS[ch]
            section, digit, last_unit, zero = 0, None, _BIG_UNITS[ch], False
        else:  # 亿
            total += (below_yi + section + (digit or 0) or 1) * _BIG_UNITS[ch]
            below_yi, section, digit, last_unit, zero = 0, 0, None, _BIG_UNITS[ch], False
    if digit and not zero and last_unit >= 100:  # 两千五 is 2500: a last digit right after a unit counts one unit down
        digit *= last_unit // 10
    return total + below_yi + section + (digit or 0)


def _multiplier(mult: str | None) -> float:
    if not mult:
        return 1.0
    word = mult.strip().lower()
    if word in _ENGLISH_SCALES:
        return _ENGLISH_SCALES[word]
    factor = 1.0
    for ch in word:
        factor *= _BIG_UNITS[ch]
    return factor


def _unit(raw: str | None) -> str:
    """A unit folded to a comparable form: money as 元, percentages as %."""
    unit = (raw or "").strip().lower()
    if unit in {"percent", "per cent", "percentage", "个百分点", "百分点"}:
        return "%"
    if unit.endswith("元"):
        return "元"
    return unit


def _kind(value: float, unit: str, number: str) -> FigureKind:
    if unit in {"月", "日", "号"} or (unit in {"年", ""} and _YEAR.match(number)) or (unit == "年" and value >= 1000):
        return "date"
    return "number"


def find_figures(text: str) -> list[Figure]:
    """Every figure in ``text`` in order, with offsets into ``text`` itself."""
    folded = fold_width(text).translate(_TRADITIONAL)  # one character for one: offsets hold
    found: list[Figure] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, value: float, unit: str, number: str) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        found.append(Figure(start, end, value, unit, _kind(value, unit, number)))

    for m in _PERCENT_CN.finditer(folded):
        number = m.group("num")
        value = float(number) if number[0].isdigit() else chinese_numeral_value(number)
        if value is not None:
            add(m.start(), m.end(), float(value), "%", number)
    for m in _ARABIC.finditer(folded):
        number = m.group("num").replace(",", "")
        value = float(number) * _multiplier(m.group("mult"))
        end = m.end("unit") if m.group("unit") else m.end()
        add(m.start(), end, value, _unit(m.group("unit")), number)
    for m in _CHINESE.finditer(folded):
        numeral = m.group("num")
        value = chinese_numeral_value(numeral)
        if value is None or (numeral in {"万", "亿", "千", "百"} and not m.group("unit")):
            continue
        if not (m.group("unit") or m.group("ord")) or (value == 1 and not m.group("ord")):
            continue  # 一流, 统一, 一个: words, not figures
        add(m.start(), m.end(), float(value), _unit(m.group("unit")), numeral)
    return sorted(found, key=lambda f: f.start)
