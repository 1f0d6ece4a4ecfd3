"""Text helpers shared by every stage: which characters are Chinese, folding for comparison, valid Unicode."""

from __future__ import annotations

from qa.text.cjk import HAN, HAN_RUN, has_han
from qa.text.fold import Folded, content_units, fold, fold_text, fold_width
from qa.text.unicode import check_text, repair_text

__all__ = [
    "HAN",
    "HAN_RUN",
    "Folded",
    "check_text",
    "content_units",
    "fold",
    "fold_text",
    "fold_width",
    "has_han",
    "repair_text",
]
