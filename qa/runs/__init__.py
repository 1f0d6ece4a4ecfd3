"""Question sets in, ranked citations out: question files, batch runs, evaluation against gold files."""

from __future__ import annotations

from qa.runs.batch import (
    AskMany,
    BatchRecord,
    BatchSummary,
    answer_records,
    batch_record,
    completed_ids,
    run_batch,
    write_records,
)
from qa.runs.claim_eval import read_claim_gold, score_claims
from qa.runs.evaluation import Gold, first_correct_rank, read_gold, score
from qa.runs.formats import FORMATS, OutputFormat, open_output, output_format, read_results
from qa.runs.questions import Question, parse_questions, read_questions
from qa.runs.trec import docno, qrels

__all__ = [
    "FORMATS",
    "AskMany",
    "BatchRecord",
    "BatchSummary",
    "Gold",
    "OutputFormat",
    "Question",
    "answer_records",
    "batch_record",
    "completed_ids",
    "docno",
    "first_correct_rank",
    "open_output",
    "output_format",
    "parse_questions",
    "qrels",
    "read_claim_gold",
    "read_gold",
    "read_questions",
    "read_results",
    "run_batch",
    "score",
    "score_claims",
    "write_records",
]
