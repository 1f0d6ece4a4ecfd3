"""The words of claim checking, defined once: the verdicts, most faithful first, and the kinds of difference."""

from __future__ import annotations

from typing import Final, Literal, get_args

Verdict = Literal["verbatim", "near-verbatim", "paraphrase", "mismatch"]
ClaimVerdict = Literal[Verdict, "unsupported"]
DifferenceKind = Literal["number", "date", "name"]

#: Source verdicts in order of faithfulness: sources are ranked by their place here.
VERDICTS: Final[tuple[Verdict, ...]] = get_args(Verdict)
#: Verdicts under which a source says what the claim says.
FAITHFUL: Final[frozenset[Verdict]] = frozenset(VERDICTS[:3])
#: The verdict of a claim that no sentence of the index is a source of.
UNSUPPORTED: Final = "unsupported"
#: Every verdict a claim can get.
CLAIM_VERDICTS: Final[tuple[ClaimVerdict, ...]] = (*VERDICTS, UNSUPPORTED)
