"""Prometheus metrics, one registry per app so several apps (tests) never collide.

Latency is labelled by route template (`/v1/profiles/{profile_id}/rows`), never by raw path: raw ids would
make one time series per profile.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.latency = Histogram(
            "marquee_request_seconds",
            "Request latency by route",
            ["method", "route", "status"],
            registry=r,
            buckets=_BUCKETS,
        )
        self.events = Counter(
            "marquee_events_ingested", "Events stored (duplicates excluded)", ["kind"], registry=r
        )
        self.duplicates = Counter("marquee_events_duplicate", "Events re-sent with a known id", registry=r)
        self.fallbacks = Counter(
            "marquee_fallbacks", "Responses served in a degraded mode", ["reason"], registry=r
        )
        self.cache = Counter("marquee_cache", "Per-profile rows cache lookups", ["result"], registry=r)
        self.chat_turns = Counter(
            "marquee_chat_turns", "Assistant turns by driver", ["mode", "degraded"], registry=r
        )


class LatencyMiddleware:
    """Times every HTTP request and labels it with the route template the router matched."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        # (method, route, status) -> its histogram: `labels()` costs a lock and three str() calls a request.
        # No more entries than the histogram has series anyway.
        self._series: dict[tuple[str, str, int], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - started
            template = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            series = self._series.get((method, template, status))
            if series is None:
                series = self.metrics.latency.labels(method, template, str(status))
                self._series[(method, template, status)] = series
            series.observe(elapsed)
