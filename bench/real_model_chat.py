"""One conversation with a real OpenAI-compatible model (e.g. llama-cpp-python's server on 127.0.0.1):
per turn, the mode (llm or offline), whether it was degraded, the time and the titles. Asserts nothing;
the real-model test tier (tests/assistant/test_llm_real.py) holds the promises.

    MARQUEE_ARTIFACTS_DIR=... .venv/bin/python bench/real_model_chat.py --url http://127.0.0.1:8088/v1 \
        [--driver plan|react] [--timeout 120]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from assistant.service import Assistant
from assistant.state import ConversationStore
from assistant.tools import Viewer
from engine import LLMSettings, assemble, checked_dataset, settings_from_env

CONVERSATION = (
    "hi! I want something funny tonight but nothing with horror",
    "I loved Toy Story, anything like that?",
    "seen those, something older please",
    "why the second one?",
    "I can't stand Adam Sandler, give me 3 comedies from the 90s",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the model's OpenAI-compatible base URL")
    parser.add_argument("--model", default="local")
    parser.add_argument("--driver", choices=("plan", "react"), default="plan")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per model call (<= 120)")
    parser.add_argument("--user", type=int, default=1)
    args = parser.parse_args()
    engine = assemble(settings_from_env(), checked_dataset("ml-latest-small"))
    llm = LLMSettings(
        base_url=args.url, model=args.model, driver=args.driver, timeout_s=args.timeout,
        turn_budget_s=args.timeout,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        assistant = Assistant(engine, ConversationStore(Path(scratch) / "chat.sqlite"), llm=llm)
        viewer = Viewer(str(args.user), lambda: engine.context_for(args.user))
        conversation = None
        for text in CONVERSATION:
            started = time.monotonic()
            reply = assistant.respond(viewer, text, conversation_id=conversation)
            conversation = reply.conversation_id
            print(f"{text!r}: {reply.mode}, degraded={reply.degraded}, {time.monotonic() - started:.1f} s")
            print("   ", reply.text.replace("\n", " | ")[:300])
            print("    titles:", [card.name for card in reply.titles])
        assistant.close()
    engine.close()


if __name__ == "__main__":
    main()
