"""One OpenAI-compatible chat endpoint, called within a turn's deadline and cancellable.

Every call gets what is left of the turn's budget (capped by the per-call timeout) as its read timeout,
and a streamed call also checks the deadline and the cancel flag between chunks, closing the connection
when either trips. A timeout is never retried: a slow single-slot server would only queue the retry
behind the request it is still working on. Refused connections and 5xx answers are retried while the
budget lasts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai

from engine import CircuitBreaker, LLMSettings


class LLMUnavailable(RuntimeError):
    """The model could not answer this turn. `outage` marks failures of the endpoint itself (refused,
    timed out, 5xx), which count against the circuit breaker; a model that answered badly is not one."""

    def __init__(
        self, message: str, *, outage: bool = False, status: int | None = None, retryable: bool = False
    ) -> None:
        super().__init__(message)
        self.outage = outage
        self.retryable = retryable  # refused or 5xx: worth another try; a timeout never is
        self.timeout = outage and not retryable  # the server took the whole wait
        self.status = status  # the HTTP status the server answered with, if it answered


class TurnCancelled(RuntimeError):
    """The client went away: the turn's remaining work is dropped."""


@dataclass
class Deadline:
    """One turn's time budget, shared by every model call and the offline fallback."""

    budget_s: float
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        return self.budget_s - (time.monotonic() - self.started)

    def check(self) -> None:
        if self.cancel.is_set():
            raise TurnCancelled("the client disconnected")


class ChatClient:
    def __init__(self, settings: LLMSettings, breaker: CircuitBreaker | None = None) -> None:
        if not settings.base_url:
            raise ValueError("an LLM driver needs MARQUEE_LLM__BASE_URL (or OPENAI_BASE_URL)")
        self.settings = settings
        self.breaker = breaker or breaker_for(settings)
        key = settings.api_key.get_secret_value() if settings.api_key else "not-needed"
        # Retries are ours (below): the client's own would retry timeouts too.
        self._client = openai.OpenAI(base_url=settings.base_url, api_key=key, max_retries=0)

    def complete(
        self, messages: list[dict[str, Any]], deadline: Deadline, *, optional: bool = False, **options: Any
    ) -> Any:
        """One chat completion (the `choices[0].message`), retried only on refusals and 5xx.

        `optional` marks a request the server may not support (a feature probe): it is tried once, and
        an HTTP answer, whatever its status, is the server refusing the feature, not an outage. Counted
        as outages, llama-cpp-python's 500 to `json_schema` and its retry opened the breaker before the
        supported form was ever sent."""
        attempts = 1 if optional else self.settings.retries + 1
        for attempt in range(attempts):
            try:
                with self.guarded(deadline):
                    try:
                        response = self._client.chat.completions.create(
                            model=self.settings.model,
                            messages=messages,  # type: ignore[arg-type]
                            timeout=self._timeout(deadline),
                            **options,
                        )
                    except openai.APIError as exc:
                        failure = _unavailable(exc)
                        if optional and failure.status is not None:
                            failure = LLMUnavailable(str(failure), status=failure.status)
                        raise failure from exc
                    return response.choices[0].message
            except LLMUnavailable as exc:
                if not exc.retryable or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def stream(self, messages: list[dict[str, Any]], deadline: Deadline, **options: Any) -> Iterator[str]:
        """The reply's text as the model writes it; closes the connection on cancel or deadline."""
        with self.guarded(deadline):
            try:
                chunks = self._client.chat.completions.create(
                    model=self.settings.model,
                    messages=messages,  # type: ignore[arg-type]
                    stream=True,
                    timeout=self._timeout(deadline),
                    **options,
                )
            except openai.APIError as exc:
                raise _unavailable(exc) from exc
            with chunks:
                try:
                    for chunk in chunks:
                        deadline.check()
                        if deadline.left() <= 0:
                            raise LLMUnavailable(self._over_budget(), outage=True)
                        if chunk.choices and chunk.choices[0].delta.content:
                            yield chunk.choices[0].delta.content
                except (openai.APIError, httpx.HTTPError) as exc:
                    raise _unavailable(exc) from exc

    @contextmanager
    def guarded(self, deadline: Deadline) -> Iterator[None]:
        """One call to the endpoint under the circuit breaker: refused at once while it is open, and
        its outcome recorded (an outage opens it; any answer, even a bad one, shows the server is up)."""
        deadline.check()
        if deadline.left() <= 0:  # spent before the call: no verdict on the server
            raise LLMUnavailable(self._over_budget())
        admission = self.breaker.admit()
        if not admission.allowed:
            raise skipped(admission.retry_in_s)
        try:
            yield
        except LLMUnavailable as exc:
            if exc.outage:  # a timeout opens it at once: the next turn must not wait as long again
                self.breaker.failure(trip=exc.timeout)
            else:
                self.breaker.success()
            raise
        except BaseException:  # cancelled, or the caller stopped reading: no verdict on the server
            self.breaker.release()
            raise
        self.breaker.success()

    def _timeout(self, deadline: Deadline) -> httpx.Timeout:
        left = deadline.left()
        if left <= 0:
            raise LLMUnavailable(self._over_budget(), outage=True)
        read = min(left, self.settings.timeout_s)
        return httpx.Timeout(read, connect=min(read, 3.0))

    def _over_budget(self) -> str:
        return f"no answer within the turn budget of {self.settings.turn_budget_s:g} s"


def _unavailable(exc: Exception) -> LLMUnavailable:
    # The class names the failure (APITimeoutError, APIConnectionError); its text may hold URLs and
    # server bodies that are not the viewer's to read, so it stays in the chained exception.
    outage = isinstance(exc, (openai.APIConnectionError, openai.InternalServerError, httpx.HTTPError))
    status = getattr(exc, "status_code", None)
    retryable = outage and not isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException))
    return LLMUnavailable(
        f"the model call failed: {type(exc).__name__}", outage=outage, status=status, retryable=retryable
    )


def breaker_for(settings: LLMSettings) -> CircuitBreaker:
    return CircuitBreaker("llm", failures=settings.breaker_failures, cool_down_s=settings.breaker_cool_down_s)


def skipped(wait_s: float) -> LLMUnavailable:
    """The turn's failure while the breaker is open."""
    return LLMUnavailable(f"it failed repeatedly and is skipped for another {max(1, round(wait_s))} s")
