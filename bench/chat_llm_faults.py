"""Chat turn times when the language model misbehaves, against the offline policy in the same run.

Runs the assistant on built artifacts with the scripted OpenAI-compatible server of the tests
(tests/assistant/openai_stub.py) on 127.0.0.1 playing: a model that hangs, and a model that writes its
reply slowly. Prints p50 per case and its ratio to a plain offline turn; asserts nothing.

    MARQUEE_ARTIFACTS_DIR=... .venv/bin/python bench/chat_llm_faults.py [--turns 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from assistant import Assistant, Viewer  # noqa: E402
from assistant.state import ConversationStore  # noqa: E402
from engine import (  # noqa: E402
    LLMSettings,  # noqa: E402
    Settings,
    assemble,
)
from tests.assistant.openai_stub import Answer, ChatRequest, OpenAIStub, hang, plan  # noqa: E402

ASKS = ("a comedy please", "something darker", "a thriller from the 90s", "more like Heat", "a drama")


def slow_reply(request: ChatRequest) -> Answer:
    if not request.stream:
        return plan(request, action="recommend", genres=["Comedy"])
    return Answer(
        content="Here are a few comedies for tonight, each one a fine choice. " * 4, piece_delay_s=0.02
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="ml-latest-small")
    parser.add_argument("--turns", type=int, default=5)
    args = parser.parse_args()
    engine = assemble(Settings(), args.dataset)
    with tempfile.TemporaryDirectory() as scratch, OpenAIStub() as stub:
        helper = Assistant(engine, ConversationStore(Path(scratch) / "chat.sqlite"))
        helper.warm_up()
        viewer = Viewer("bench", lambda: engine.context_for(1))

        def turns(model: str | None = None) -> list[float]:
            times, conversation = [], None
            for i in range(args.turns):
                started = time.perf_counter()
                reply = helper.respond(viewer, ASKS[i % len(ASKS)], conversation_id=conversation, model=model)
                times.append(time.perf_counter() - started)
                conversation = reply.conversation_id
            return times

        offline = statistics.median(turns())
        print(f"offline policy, no LLM            p50 {offline * 1000:8.1f} ms   1.00x")
        llm = LLMSettings(base_url=stub.base_url, model="scripted")  # the defaults: 10 s timeout, 15 s budget
        helper.connect(llm)
        stub.run(lambda request: hang())
        chosen = statistics.median(turns(model="marquee-offline"))
        print(f"marquee-offline, LLM hung         p50 {chosen * 1000:8.1f} ms   {chosen / offline:.2f}x")
        hung = turns()
        first, later = hung[0], statistics.median(hung[1:])
        print(f"hung LLM, first turn                  {first * 1000:8.1f} ms   {first / offline:.2f}x")
        print(f"hung LLM, later turns (breaker)   p50 {later * 1000:8.1f} ms   {later / offline:.2f}x")
        helper.connect(llm)  # a fresh breaker
        stub.run(slow_reply)
        firsts, wholes = [], []
        for i in range(args.turns):
            at: list[float] = []
            started = time.perf_counter()
            helper.respond(
                viewer, ASKS[i % len(ASKS)], emit=lambda piece, at=at: at.append(time.perf_counter())
            )
            firsts.append(at[0] - started)
            wholes.append(at[-1] - started)
        first_piece, whole = statistics.median(firsts), statistics.median(wholes)
        ratio = first_piece / whole
        print(f"slow LLM reply, first piece out   p50 {first_piece * 1000:8.1f} ms   {ratio:.2f}x of last")
        print(f"slow LLM reply, last piece out    p50 {whole * 1000:8.1f} ms")
        helper.close()
    engine.close()


if __name__ == "__main__":
    main()
