"""Which characters count as Chinese: one definition for every module that asks.

``HAN`` covers the CJK Unified Ideographs, Extension A and the Compatibility Ideographs (the
blocks jieba, OpenCC and the seed corpus use); it is a character-class body, to be wrapped in
``[...]`` together with whatever else a pattern needs.
"""

from __future__ import annotations

import re

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_CHAR = re.compile(f"[{HAN}]")
HAN_RUN = re.compile(f"[{HAN}]+")


def has_han(text: str) -> bool:
    """Whether ``text`` holds at least one Chinese character."""
    return HAN_CHAR.search(text) is not None
