"""Small documents shared by the index, indexing and evaluation tests."""

from pathlib import Path

PARK_TXT = (
    "上清寺园区简介\n\n"
    "上清寺互联网产业园位于重庆市渝中区。园区2018年新增企业300家。该园区入驻率达到百分之九十。\n\n"
    "园区的范围西至鹅岭公园，东至人民大礼堂。\n"
)
SOLAR_MD = (
    "# Solar Power Report\n\n"
    "The solar farm produced 120 megawatts in 2020. It employs 45 engineers.\n\n"
    "Maintenance happens every spring. The farm is located near the river.\n"
)


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    """Write ``docs`` (name -> text, names may hold folders) under ``folder``; return ``folder``."""
    for name, text in docs.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder
