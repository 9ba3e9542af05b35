"""Property-based run over the OpenAPI spec: whatever a client sends, the server never answers 5xx.

Driven through schemathesis's strategies with plain hypothesis rather than its pytest plugin, whose
fixture integration does not work with the pytest installed here.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import create_app
from engine import Engine

pytestmark = [pytest.mark.realdata, pytest.mark.slow]
EXAMPLES = 20  # per operation: bounded, so the run takes seconds


def test_no_operation_answers_5xx(engine: Engine) -> None:
    # A generous limit: the run makes hundreds of calls with one key, and 429 is not what it tests.
    s = engine.settings().model_copy(
        update={"api": engine.settings().api.model_copy(update={"rate_limit_per_minute": 1_000_000})}
    )
    app = create_app(s, engine)
    with TestClient(app) as client:
        key = client.post("/v1/accounts", json={}).json()["api_key"]
        profile = client.post("/v1/profiles", json={"name": "fuzz"}, headers={"X-API-Key": key}).json()["id"]
    headers = {"X-API-Key": key}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    raw = TestClient(app)  # the app's engine is loaded: no lifespan needed
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures: list[str] = []
    seen: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy(), real=st.booleans(), abuse=st.booleans())
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def check(case: schemathesis.Case, real: bool, abuse: bool) -> None:
            params = case.path_parameters or {}
            # Half the time aim at real ids, so the deep paths run, not only their 404s; never delete
            # the shared profile, which the other operations need.
            if real and "profile_id" in params and case.method != "DELETE":
                params["profile_id"] = profile
            if real and "title_id" in params:
                params["title_id"] = 1
            if abuse and isinstance(case.body, dict):
                # The abuse case: text no encoder takes, sent past schemathesis's own checks of the body.
                response = raw.request(
                    case.method,
                    case.formatted_path,
                    params=case.query,
                    content=json.dumps(_with_lone_surrogates(case.body)),
                    headers=headers | {"Content-Type": "application/json"},
                )
            else:
                response = case.call(headers=headers)
            seen.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{response.status_code} {case.as_curl_command()}: {response.text[:300]}")

        check()
    assert not failures, "\n".join(failures[:10])
    assert seen.count(200) > len(operations)  # the real ids were reached


def _with_lone_surrogates(body: object) -> object:
    """`body` with a lone surrogate appended to each of its strings."""
    if isinstance(body, str):
        return body + "\ud800"
    if isinstance(body, dict):
        return {k: _with_lone_surrogates(v) for k, v in body.items()}
    if isinstance(body, list):
        return [_with_lone_surrogates(v) for v in body]
    return body
