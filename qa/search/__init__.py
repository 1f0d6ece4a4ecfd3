"""Hybrid retrieval, fusion and ranking, hits with citations, extractive answers, follow-up resolution."""

from __future__ import annotations

from qa.search.answers import NO_ANSWER_COSINE, compose, is_unanswered
from qa.search.citation_styles import STYLES, Citations, check_style, document_type, format_citations
from qa.search.followup import is_follow_up, resolve, resolve_conversation, subject
from qa.search.hits import Hit, build_hits
from qa.search.retrieval import RetrievalConfig, Retriever, Scored

__all__ = [
    "NO_ANSWER_COSINE",
    "STYLES",
    "Citations",
    "Hit",
    "RetrievalConfig",
    "Retriever",
    "Scored",
    "build_hits",
    "check_style",
    "compose",
    "document_type",
    "format_citations",
    "is_follow_up",
    "is_unanswered",
    "resolve",
    "resolve_conversation",
    "subject",
]
