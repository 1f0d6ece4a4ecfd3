"""``GET /healthz`` (the process answers) and ``GET /readyz`` (the index is loaded)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import State
from api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness: the server answers")
def healthz() -> Health:
    """Always ``{"status": "ok"}`` while the process serves requests."""
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: the model and index are loaded",
    responses={503: {"model": Readiness, "description": "Still loading"}},
)
def readyz(state: State, response: Response) -> Readiness:
    """The model id, vector dimension and corpus size once loaded; 503 before."""
    if not state.ready:
        response.status_code = 503
        return Readiness(status="loading")
    engine = state.engine
    return Readiness(
        status="ready",
        model=engine.encoder.model_id,
        dim=engine.index.dim,
        documents=len(engine.index.documents),
        sentences=len(engine.index.chunks),
    )
