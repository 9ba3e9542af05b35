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
    """Artifacts loaded and the title index reachable; 503 with the reason otherwise."""
    eng = rt.engine
    if eng is None:
        reason = rt.load_error or "the engine is still loading"
        body = Health(status="unavailable", reason=redact(reason)).model_dump()
        return JSONResponse(body, status_code=503)
    try:
        eng.index.count()  # cheap, and touches the index the way a request would
    except Exception as exc:  # any failure here means "not ready", and the reason is the point
        body = Health(
            status="unavailable", reason=redact(f"title index unreachable: {exc}"), dataset=eng.dataset.name
        )
        return JSONResponse(body.model_dump(), status_code=503)
    reason = "ranker unavailable: rows in candidate order" if eng.degraded else None
    workers = eng.pages.status if eng.pages is not None else None
    return Health(
        status="ok", reason=reason, dataset=eng.dataset.name, degraded=eng.degraded, page_workers=workers
    )


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(rt: RuntimeDep) -> Response:
    return Response(generate_latest(rt.metrics.registry), media_type=CONTENT_TYPE_LATEST)
