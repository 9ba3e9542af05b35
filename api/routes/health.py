"""Liveness, readiness and Prometheus metrics: unversioned, no key, for orchestrators and scrapers."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.models import Health
from api.runtime import RuntimeDep
from engine import redact

router = APIRouter(tags=["health"])


@router.get("/livez", response_model=Health)
def livez() -> Health:
    """The process is up and answering."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(rt: RuntimeDep) -> Health | JSONResponse:
    """Artifacts loaded: 200, with `degraded` and its reason while the ranker or the title index is away
    (rows, search and chat then come from in-memory popularity); 503 with what is loading or what failed."""
    eng = rt.engine
    if eng is None:
        body = Health(status="unavailable", reason=redact(rt.not_ready_reason())).model_dump()
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
    health = eng.health()
    return Health(
        status="ok",
        reason=redact("; ".join(health.reasons)) or None,
        dataset=health.dataset,
        degraded=health.degraded,
        page_workers=health.page_workers,
    )


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(rt: RuntimeDep) -> Response:
    return Response(generate_latest(rt.metrics.registry), media_type=CONTENT_TYPE_LATEST)
