"""Verdict accuracy of claim checking against a gold file of claims."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.claims import CLAIM_VERDICTS, FAITHFUL, ClaimCheck
from qa.errors import InputError
from qa.ingest import iter_json_objects


@dataclass(frozen=True)
class ClaimGold:
    """A claim, the verdicts that are right for it, and the span its first source must contain (if any)."""

    id: str
    claim: str
    verdicts: frozenset[str]
    source: str | None = None
    start: int | None = None
    end: int | None = None


def _verdicts(row: dict[str, object]) -> frozenset[str]:
    if "verdict" in row:
        if row["verdict"] not in CLAIM_VERDICTS:
            raise ValueError(f"unknown verdict {row['verdict']!r}")
        return frozenset({str(row["verdict"])})
    return FAITHFUL if row["faithful"] else frozenset({"mismatch"})


def read_claim_gold(path: Path) -> list[ClaimGold]:
    """Gold claims: id, question (the claim), faithful or verdict, and optionally source, start, end."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read gold file ({exc})") from None
    items = []
    for number, row in iter_json_objects(lines, str(path)):
        try:
            start, end = row.get("start"), row.get("end", row.get("start"))
            items.append(
                ClaimGold(
                    str(row["id"]),
                    str(row["question"]),
                    _verdicts(row),
                    row.get("source"),
                    None if start is None else int(start),
                    None if end is None else int(end),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"{path}:{number}: a gold claim needs id, question and faithful or a known verdict ({exc})"
            ) from None
    return items


def judge(gold: ClaimGold, check: ClaimCheck) -> bool:
    """Right verdict, and (where the gold names one) the first source holds the gold span."""
    if check.verdict not in gold.verdicts:
        return False
    if gold.source is None or gold.start is None or gold.end is None:
        return True
    first = check.sources[0].hit.chunk
    return first.source == gold.source and first.start <= gold.start and gold.end <= first.end


@dataclass(frozen=True)
class ClaimScores:
    """How many claims got a right verdict, and the ones that did not."""

    n: int
    correct: int
    wrong: tuple[tuple[str, str, str], ...]  # (id, expected verdicts, verdict given)

    def describe(self) -> str:
        """Lines for people."""
        lines = [f"verdict accuracy: {self.correct / max(self.n, 1):.3f} ({self.correct}/{self.n})"]
        lines += [f"wrong: {i} expected {expected}, got {got}" for i, expected, got in self.wrong]
        return "\n".join(lines)


def score_claims(gold: Sequence[ClaimGold], checks: Sequence[ClaimCheck]) -> ClaimScores:
    """Score each gold claim's check (same order)."""
    wrong = tuple(
        (g.id, "|".join(sorted(g.verdicts)), c.verdict) for g, c in zip(gold, checks, strict=True) if not judge(g, c)
    )
    return ClaimScores(len(gold), len(gold) - len(wrong), wrong)
