"""One JSON error shape for every 4xx/5xx: `{"error": {"type", "message", "field"?}}`.

Clients branch on `type`; `field` names the offending input (e.g. `events.3.title_id`) so a form or a
batch can point at it. Known failures of the layers below map to 4xx/503 here, never to a bare 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine import (
    ArtifactsMissingError,
    CatalogError,
    EngineError,
    EventConflictError,
    IndexUnavailableError,
    StaleArtifactsError,
    StoreUnavailableError,
    UnknownProfileError,
    UnknownTitleError,
    redact,
)

log = logging.getLogger("marquee.api")

_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
}
_TYPES |= {413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_error"}
_TYPES |= {408: "request_timeout", 409: "conflict", 429: "rate_limited", 503: "unavailable"}


class ApiError(Exception):
    """An error the API raises on purpose; the handler below renders it."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type or _TYPES.get(status, "error")
        self.field = field
        self.headers = headers


def not_found(what: str, ident: object) -> ApiError:
    # The same answer for "does not exist" and "belongs to someone else": nothing leaks either way.
    return ApiError(404, f"unknown {what} {ident!r}", field=f"{what}_id")


def error_body(type: str, message: str, field: str | None = None) -> dict[str, Any]:
    # `param` and `code` make this OpenAI's error shape too, so OpenAI clients read our errors.
    error: dict[str, Any] = {"type": type, "message": message, "param": field, "code": type}
    if field is not None:
        error["field"] = field
    return {"error": error}


def error_response(
    status: int,
    message: str,
    *,
    type: str | None = None,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    # Texts of lower layers may quote a configured URL; its credentials never reach a caller.
    body = error_body(type or _TYPES.get(status, "error"), redact(message), field)
    return JSONResponse(body, status_code=status, headers=headers)


def field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """Pydantic's location without its "body"/"query"/"path" root: ("body", "events", 3, "kind")
    becomes "events.3.kind"."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "body"


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the same JSON shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, type=exc.type, field=exc.field, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = field_name(first.get("loc", ()))
        message = f"{field}: {first.get('msg', 'invalid value')}"
        return error_response(422, message, field=field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, str(exc.detail), headers=headers)

    @app.exception_handler(UnknownProfileError)
    async def _profile(_: Request, exc: UnknownProfileError) -> JSONResponse:
        return error_response(404, str(exc), field="profile_id")

    @app.exception_handler(UnknownTitleError)
    async def _title(_: Request, exc: UnknownTitleError) -> JSONResponse:
        return error_response(404, str(exc), field="title_id")

    @app.exception_handler(EventConflictError)
    async def _conflict(_: Request, exc: EventConflictError) -> JSONResponse:
        field = f"events.{exc.position}.{exc.field}"
        return error_response(409, f"{field}: {exc}", field=field)

    @app.exception_handler(IndexUnavailableError)
    async def _index(_: Request, exc: IndexUnavailableError) -> JSONResponse:
        return error_response(503, f"title index unavailable: {exc}", headers={"Retry-After": "5"})

    @app.exception_handler(StoreUnavailableError)
    async def _store(_: Request, exc: StoreUnavailableError) -> JSONResponse:
        return error_response(503, str(exc), headers={"Retry-After": "5"})

    @app.exception_handler(ArtifactsMissingError)
    @app.exception_handler(StaleArtifactsError)
    async def _artifacts(_: Request, exc: EngineError) -> JSONResponse:
        return error_response(503, str(exc))

    @app.exception_handler(CatalogError)
    @app.exception_handler(EngineError)
    async def _known(_: Request, exc: Exception) -> JSONResponse:
        return error_response(400, str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal error; the request was not applied", type="internal")
