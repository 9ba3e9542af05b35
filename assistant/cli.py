"""`marquee chat`: talk to the assistant in a terminal as one of the data set's users."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from assistant.reply import Reply
from assistant.service import Assistant
from assistant.state import ConversationStore
from assistant.tools import Viewer
from engine import assemble, checked_dataset, clean_errors
from engine import settings_from_env as settings


def register(app: typer.Typer) -> None:
    @app.command("chat")
    @clean_errors
    def chat(
        dataset: Annotated[str, typer.Option("--dataset", "-d")] = "ml-latest-small",
        user: Annotated[int, typer.Option("--user", "-u", help="a user id of the data set")] = 1,
        message: Annotated[
            list[str] | None, typer.Option("--message", "-m", help="say this and exit (repeatable)")
        ] = None,
    ) -> None:
        """Chat with the assistant (offline policy, or the LLM set by MARQUEE_LLM__BASE_URL)."""
        engine = assemble(settings(), checked_dataset(dataset))
        engine.history(user)  # an unknown user fails here, with the valid range
        # A terminal chat is a scratch conversation: it is kept for this run only.
        with tempfile.TemporaryDirectory() as scratch:
            helper = Assistant(
                engine, ConversationStore(Path(scratch) / "chat.sqlite"), llm=engine.settings().llm
            )
            viewer = Viewer(str(user), lambda: engine.context_for(user))
            driver = f"LLM {engine.settings().llm.model}" if helper.agent else "offline policy"
            print(f"Marquee assistant ({driver}) for user {user} of {dataset}. Empty line or Ctrl-D ends.")
            conversation = None
            for text in message or _lines():
                reply = helper.respond(viewer, text, conversation_id=conversation)
                conversation = reply.conversation_id
                _show(text, reply, echo=message is not None)
            helper.close()
            engine.close()


def _lines() -> Iterator[str]:
    while True:
        try:
            text = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if not text:
            return
        yield text


def _show(text: str, reply: Reply, *, echo: bool) -> None:
    if echo:
        print(f"you> {text}")
    if reply.notice:
        print(f"[{reply.notice}]", file=sys.stderr)
    print(f"marquee> {reply.text}\n", flush=True)
