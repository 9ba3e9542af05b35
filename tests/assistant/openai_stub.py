"""A scripted OpenAI-compatible chat server on 127.0.0.1, for driving the LLM path over real HTTP.

Each test gives the server a script: a function from the request it received (messages, tools) to the
next answer, so a scripted model can read the tool results it was sent and name a title from them. Every
request is recorded for assertions on what the model was shown. `POST /v1/chat/completions` answers as
OpenAI does, as one JSON body or, when the client asks with `"stream": true`, as `chat.completion.chunk`
server-sent events ending with `data: [DONE]`.

It also plays the failures seen with real models: tool calls written as text (`text_call`, in the forms
llama.cpp's default chat format and small models produce), JSON where prose belongs, calls copied from an
example whatever the viewer said, a first token that takes long, a stream that trickles, a server that
hangs (released when the stub stops), and a server that refuses `response_format` with a 400.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion request as the server received it."""

    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    @property
    def tools(self) -> list[str]:
        """Names of the tools the client offered with this request."""
        return [t["function"]["name"] for t in self.body.get("tools", [])]

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def response_format(self) -> dict[str, Any] | None:
        return self.body.get("response_format")

    @property
    def system(self) -> str:
        return "\n".join(m["content"] for m in self.messages if m["role"] == "system")

    @property
    def user(self) -> str:
        """The latest user message."""
        return next(m["content"] for m in reversed(self.messages) if m["role"] == "user")

    def turn_messages(self) -> list[dict[str, Any]]:
        """The messages after the latest user message: this turn's tool calls and results."""
        last = max(i for i, m in enumerate(self.messages) if m["role"] == "user")
        return self.messages[last + 1 :]

    def tool_results(self) -> list[dict[str, Any]]:
        """This turn's tool messages, contents parsed from JSON, oldest first."""
        return [
            {"tool_call_id": m["tool_call_id"], **json.loads(m["content"])}
            for m in self.turn_messages()
            if m["role"] == "tool"
        ]

    def calls_so_far(self) -> int:
        """Tool calls the model made in this turn before this request."""
        return sum(len(m.get("tool_calls") or []) for m in self.turn_messages() if m["role"] == "assistant")


@dataclass(frozen=True)
class Answer:
    """The model's next message: text, tool calls, or both."""

    content: str | None = None
    calls: tuple[tuple[str, str], ...] = ()  # (name, raw JSON arguments): sent as is, valid or not
    delay_s: float = 0.0  # wait this long before answering (a slow or hung model)
    piece_delay_s: float = 0.0  # streamed: wait this long before each piece of text (a slow model)
    piece_chars: int = 16  # streamed: characters per piece


def say(text: str) -> Answer:
    return Answer(content=text)


def call(*calls: tuple[str, dict[str, Any] | str]) -> Answer:
    """Tool calls; a str argument is sent verbatim, so a script can send malformed JSON."""
    return Answer(calls=tuple((name, a if isinstance(a, str) else json.dumps(a)) for name, a in calls))


def hang() -> Answer:
    """A model server that takes the request and never answers (until the stub stops)."""
    return Answer(content="too late", delay_s=3600)


def text_call(name: str, arguments: dict[str, Any], form: str) -> Answer:
    """A tool call written as the reply's text instead of made, in one of the forms models use."""
    body = json.dumps({"name": name, "arguments": arguments})
    written = {
        "json_block": f"I'll look that up.\n```json\n{body}\n```",
        "bare_json": body,
        "functions": f"functions.{name}:{json.dumps(arguments)}",
        "tool_call_tag": f"<tool_call>\n{body}\n</tool_call>",
    }
    return say(written[form])


TEXT_CALL_FORMS = ("json_block", "bare_json", "functions", "tool_call_tag")


def plan(request: ChatRequest, **fields: Any) -> Answer:
    """A plan as the client asked for it: JSON content under `response_format`, else the forced call."""
    if request.response_format is not None:
        return say(json.dumps(fields))
    return call(("plan", fields))


Script = Callable[[ChatRequest], Answer]


@dataclass
class ScriptedModel:
    """The server's state: the current script and every request received, in order."""

    script: Script = field(default=lambda request: say("Hello."))
    requests: list[ChatRequest] = field(default_factory=list)
    # The status answered to requests that carry one (0: accepted): 400 as older servers do, 500 as
    # llama-cpp-python's server does for `json_schema` (its request validation fails inside the route).
    refuse_response_format: int = 0
    stopped: threading.Event = field(default_factory=threading.Event)  # wakes hung answers on shutdown
    sent: list[float] = field(default_factory=list)  # when each streamed text piece was written
    aborted: int = 0  # streams the client closed before the end
    _ids: Iterator[int] = field(default_factory=count)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, body: dict[str, Any]) -> tuple[Answer, int]:
        request = ChatRequest(body)
        with self.lock:
            self.requests.append(request)
            n = next(self._ids)
            script = self.script
        return script(request), n

    def reset(self, script: Script, *, refuse_response_format: int = 0) -> None:
        with self.lock:
            self.script = script
            self.requests = []
            self.refuse_response_format = refuse_response_format
            self.sent = []
            self.aborted = 0


class OpenAIStub:
    """The server, started on a free loopback port; `base_url` is what an OpenAI client is given."""

    def __init__(self) -> None:
        self.model = ScriptedModel()
        handler = type("Handler", (_Handler,), {"model": self.model})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="openai-stub", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def requests(self) -> list[ChatRequest]:
        """The requests received since the script was set, oldest first (a copy)."""
        with self.model.lock:
            return list(self.model.requests)

    def run(self, script: Script, *, refuse_response_format: int = 0) -> None:
        """Answer the next requests with `script`, forgetting earlier requests."""
        self.model.reset(script, refuse_response_format=refuse_response_format)

    def __enter__(self) -> OpenAIStub:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.model.stopped.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the openai client expects
    model: ScriptedModel

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet test output

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
        else:
            self._json(404, _error(f"no route GET {self.path}"))

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._json(404, _error(f"no route POST {self.path}; this stub serves /v1/chat/completions"))
            return
        if self.model.refuse_response_format and "response_format" in body:
            with self.model.lock:
                self.model.requests.append(ChatRequest(body))
            self._json(self.model.refuse_response_format, _error("response_format is not supported here"))
            return
        try:
            answer, n = self.model.answer(body)
        except Exception as exc:  # a broken script is a 500, as a broken model server would give
            self._json(500, _error(f"script failed: {type(exc).__name__}: {exc}"))
            return
        if answer.delay_s and self.model.stopped.wait(answer.delay_s):
            return  # the stub is stopping: a hung answer ends unanswered
        try:
            if body.get("stream"):
                self._stream(answer, n, str(body.get("model", "scripted")))
            else:
                self._json(200, _completion(answer, n, str(body.get("model", "scripted"))))
        except (BrokenPipeError, ConnectionResetError):
            with self.model.lock:
                self.model.aborted += 1  # the client gave up (a timeout, or a cancelled turn)

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, answer: Answer, n: int, model: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")  # no length: the body ends when the connection does
        self.end_headers()
        self.close_connection = True
        for chunk in _chunks(answer, n, model):
            text = chunk["choices"][0]["delta"].get("content")
            if text and answer.piece_delay_s and self.model.stopped.wait(answer.piece_delay_s):
                return
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            if text:
                with self.model.lock:
                    self.model.sent.append(time.monotonic())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def _tool_calls(answer: Answer, n: int) -> list[dict[str, Any]]:
    return [
        {"id": f"call_{n}_{i}", "type": "function", "function": {"name": name, "arguments": args}}
        for i, (name, args) in enumerate(answer.calls)
    ]


def _completion(answer: Answer, n: int, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": answer.content}
    if answer.calls:
        message["tool_calls"] = _tool_calls(answer, n)
    return {
        "id": f"chatcmpl-{n}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if answer.calls else "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunks(answer: Answer, n: int, model: str) -> Iterator[dict[str, Any]]:
    """The answer as OpenAI streams it: role first, text in pieces, each tool call's name then its
    arguments in two pieces, and a last chunk with the finish reason."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }

    yield chunk({"role": "assistant", "content": ""})
    text = answer.content or ""
    for start in range(0, len(text), answer.piece_chars):
        yield chunk({"content": text[start : start + answer.piece_chars]})
    for i, tc in enumerate(_tool_calls(answer, n)):
        args = tc["function"]["arguments"]
        half = len(args) // 2
        head = {"index": i, "id": tc["id"], "type": "function"}
        yield chunk({"tool_calls": [{**head, "function": {"name": tc["function"]["name"], "arguments": ""}}]})
        yield chunk({"tool_calls": [{"index": i, "function": {"arguments": args[:half]}}]})
        yield chunk({"tool_calls": [{"index": i, "function": {"arguments": args[half:]}}]})
    yield chunk({}, "tool_calls" if answer.calls else "stop")


def _error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}
