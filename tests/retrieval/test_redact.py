"""Credentials in URLs never reach a message or a log line."""

from __future__ import annotations

import logging

import pytest

from retrieval import redact, redact_logs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Qdrant at http://user:pa55@db:6333 failed", "Qdrant at http://***@db:6333 failed"),
        ("https://token@host/x and grpc://a:b@h2", "https://***@host/x and grpc://***@h2"),
        ("http://host:6333/collections?api_key=s3cret&x=1", "http://host:6333/collections?api_key=***&x=1"),
        ("no url here: a@b.c", "no url here: a@b.c"),
        ("http://host:6333/path@not-userinfo", "http://host:6333/path@not-userinfo"),
    ],
)
def test_redact_strips_userinfo_and_secret_params(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_log_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    redact_logs()
    redact_logs()  # idempotent
    with caplog.at_level(logging.INFO, logger="marquee.test"):
        logging.getLogger("marquee.test").info("connecting to %s", "http://user:password@q:6333")
    assert "password" not in caplog.text and "http://***@q:6333" in caplog.text
