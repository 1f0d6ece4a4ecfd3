"""Checking a writer's claim against its sources: verdicts, figures, names."""

from __future__ import annotations

from qa.claims.figures import Figure, chinese_numeral_value, find_figures
from qa.claims.names import Name, proper_names
from qa.claims.verdicts import ClaimCheck, Difference, Span, check_claim, check_source, claim_core

__all__ = [
    "ClaimCheck",
    "Difference",
    "Figure",
    "Name",
    "Span",
    "check_claim",
    "check_source",
    "chinese_numeral_value",
    "claim_core",
    "find_figures",
    "proper_names",
]
