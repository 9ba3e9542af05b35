"""The app's one assistant, shared by the routes that read language (chat and search)."""

from __future__ import annotations

import threading

from fastapi import Request

from api.runtime import Runtime
from assistant import Assistant

_lock = threading.Lock()


def assistant(request: Request, rt: Runtime) -> Assistant:
    """The app's assistant, made on first use: apps that never chat or search never load its text model.
    A reloaded engine (a title added while serving) gets a new assistant over it."""
    with _lock:
        found: Assistant | None = getattr(request.app.state, "assistant", None)
        if found is None or found.engine is not rt.ready_engine():
            found = Assistant.open(rt.ready_engine())
            request.app.state.assistant = found
        return found
