"""Text helpers shared by every stage: which characters are Chinese, folding for comparison."""

from __future__ import annotations

from qa.text.cjk import HAN, HAN_RUN, has_han
from qa.text.fold import Folded, content_units, fold, fold_text, fold_width

__all__ = ["HAN", "HAN_RUN", "Folded", "content_units", "fold", "fold_text", "fold_width", "has_han"]
