"""Checking a writer's claim against its sources: verdicts, figures, names."""

from __future__ import annotations

from qa.claims.details import Difference, Span
from qa.claims.figures import Figure, chinese_numeral_value, find_figures
from qa.claims.names import Name, proper_names
from qa.claims.report import check_lines
from qa.claims.verdicts import ClaimCheck, SourceCheck, check_claim, check_source, claim_core
from qa.claims.vocabulary import CLAIM_VERDICTS, FAITHFUL, UNSUPPORTED, VERDICTS, ClaimVerdict, DifferenceKind, Verdict

__all__ = [
    "CLAIM_VERDICTS",
    "FAITHFUL",
    "UNSUPPORTED",
    "VERDICTS",
    "ClaimCheck",
    "ClaimVerdict",
    "Difference",
    "DifferenceKind",
    "Figure",
    "Name",
    "SourceCheck",
    "Span",
    "Verdict",
    "check_claim",
    "check_lines",
    "check_source",
    "chinese_numeral_value",
    "claim_core",
    "find_figures",
    "proper_names",
]
