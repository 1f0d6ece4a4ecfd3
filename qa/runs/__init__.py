"""Question sets in, ranked citations out: question files, batch runs, evaluation against gold files."""

from __future__ import annotations

from qa.runs.batch import completed_ids, run_batch
from qa.runs.claim_eval import read_claim_gold, score_claims
from qa.runs.evaluation import Gold, first_correct_rank, read_gold, score
from qa.runs.questions import MAX_QUESTION_CHARS, Question, parse_questions, read_questions
from qa.runs.records import answer_records

__all__ = [
    "MAX_QUESTION_CHARS",
    "Gold",
    "Question",
    "answer_records",
    "completed_ids",
    "first_correct_rank",
    "parse_questions",
    "read_claim_gold",
    "read_gold",
    "read_questions",
    "run_batch",
    "score",
    "score_claims",
]
