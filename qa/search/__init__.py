"""Hybrid retrieval, fusion and ranking, hits with citations, extractive answers, follow-up resolution."""

from __future__ import annotations

from qa.search.answerability import AnswerabilityModel, answer_features, load_answerability
from qa.search.answers import NO_ANSWER_COSINE, compose, is_unanswered
from qa.search.citation_styles import STYLES, Citations, check_style, document_type, format_citations
from qa.search.followup import is_follow_up, resolve, resolve_conversation, subject
from qa.search.hits import Hit, Location, build_hits
from qa.search.metadata import MetadataHit, asked_field, metadata_hits, promote_stated
from qa.search.ranker import Ranker, load_ranker
from qa.search.retrieval import Pool, Reranker, RetrievalConfig, Retriever, Scored

__all__ = [
    "NO_ANSWER_COSINE",
    "STYLES",
    "AnswerabilityModel",
    "Citations",
    "Hit",
    "Location",
    "MetadataHit",
    "Pool",
    "Ranker",
    "Reranker",
    "RetrievalConfig",
    "Retriever",
    "Scored",
    "answer_features",
    "asked_field",
    "build_hits",
    "check_style",
    "compose",
    "document_type",
    "format_citations",
    "is_follow_up",
    "is_unanswered",
    "load_answerability",
    "load_ranker",
    "metadata_hits",
    "promote_stated",
    "resolve",
    "resolve_conversation",
    "subject",
]
