"""``POST /v1/cite``: the sources of a writer's claim, each with a verdict and the differing details."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentEngine, State, check_question, check_top_k
from api.errors import error_responses
from api.schemas import CiteRequest, CiteResponse

router = APIRouter(prefix="/v1", tags=["claims"])


@router.post(
    "/cite",
    response_model=CiteResponse,
    summary="Check a claim: its source sentences and how faithfully it renders them",
    responses=error_responses(400, 413, 422, 503),
)
def cite(body: CiteRequest, state: State, engine: CurrentEngine) -> CiteResponse:
    """Find the sentences a claim (or quote) comes from and give each a verdict.

    ``verbatim``, ``near-verbatim`` (only punctuation, whitespace, width, 繁/简 or case differ),
    ``paraphrase``, or ``mismatch`` when the claim's figures, dates or names differ from the
    source's; ``differences`` gives each one on both sides (claim offsets, document offsets).
    With no source, ``verdict`` is ``unsupported`` and ``sources`` is empty.
    """
    check_question(state, body.claim, "claim")
    check_top_k(state, body.top_k)
    return CiteResponse.model_validate(engine.cite(body.claim, body.top_k).as_dict())
