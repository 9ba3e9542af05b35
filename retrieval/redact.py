"""Credentials out of anything shown or logged: `http://user:password@host` becomes `http://***@host`,
and secret-looking query parameters (`?api_key=...`) lose their values.

Applied where a URL is put into text (error messages, /readyz, 503 bodies) and, through a log record
factory, to every log line of a serving process: an operator's URL may carry credentials, and neither an
anonymous caller nor a log reader should see them.
"""

from __future__ import annotations

import logging
import re

_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@?#]+@")
_SECRET_PARAM = re.compile(
    r"(?P<name>[?&](?:api[_-]?key|key|token|access[_-]?token|password|secret)=)[^&#\s]+", re.IGNORECASE
)


def redact(text: str) -> str:
    """`text` with the userinfo of every URL in it and secret query values replaced by ***."""
    text = _USERINFO.sub(r"\g<scheme>***@", text)
    return _SECRET_PARAM.sub(r"\g<name>***", text)


class _RedactedRecord(logging.LogRecord):
    def getMessage(self) -> str:  # noqa: N802 (logging's name)
        return redact(super().getMessage())


def redact_logs() -> None:
    """Make every log record of this process redact its message (idempotent).

    Tracebacks are not rewritten: messages of our own exceptions that name a URL are redacted where they
    are raised.
    """
    if logging.getLogRecordFactory() is not _RedactedRecord:
        logging.setLogRecordFactory(_RedactedRecord)
