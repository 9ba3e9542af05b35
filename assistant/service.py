"""The assistant: one entry point over both dialogue drivers, with persisted conversations.

An LLM agent answers when one is configured; the offline policy answers otherwise, and takes over any
turn the LLM fails (the reply then says it is degraded). Either way the reply's titles are grounded in
the catalog and never repeat what the viewer has seen or turned down.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Sequence
from pathlib import Path

from assistant.agent import LLMAgent, LLMUnavailable
from assistant.grounding import ground
from assistant.lexicon import Lexicon
from assistant.policy import OfflinePolicy
from assistant.reply import Reply
from assistant.state import ConversationStore, DialogueState
from assistant.tools import Toolbox, Viewer
from assistant.understanding import Understanding
from engine import Engine
from engine.config import LLMSettings

CONVERSATIONS_FILE = "conversations.sqlite"
OFFLINE_MODEL = "marquee-offline"
CONVERSATION_LOCKS = 64
# A client's earlier messages are read into a new conversation newest first, up to this many characters in
# all: the latest say the most, and a 100-message history costs a turn about what one long message does.
EARLIER_CHARS = 2400
log = logging.getLogger("marquee.assistant")


class UnknownConversationError(LookupError):
    """A conversation id that does not exist for this profile (it may exist for another)."""


class Assistant:
    def __init__(
        self,
        engine: Engine,
        store: ConversationStore,
        *,
        llm: LLMSettings | None = None,
        agent: LLMAgent | None = None,
    ) -> None:
        self.engine = engine
        self.store = store
        self.lexicon = Lexicon.for_engine(engine)
        self.understanding = Understanding(self.lexicon, dict(engine.dataset.titles), engine.embedder)
        self.policy = OfflinePolicy(self.understanding)
        self.agent = agent or (LLMAgent(llm) if llm is not None and llm.base_url else None)
        # Striped: a fixed set of locks, so serving many conversations does not grow a lock per id.
        self._locks = [threading.Lock() for _ in range(CONVERSATION_LOCKS)]

    @classmethod
    def open(cls, engine: Engine) -> Assistant:
        """The assistant for a loaded engine, its conversations beside the engine's other state."""
        folder = engine.settings.dataset_state(engine.dataset.name)
        folder.mkdir(parents=True, exist_ok=True)
        return cls(engine, ConversationStore(Path(folder) / CONVERSATIONS_FILE), llm=engine.settings.llm)

    @property
    def models(self) -> list[str]:
        """Model ids a chat client may ask for; each is answered by this assistant."""
        return [OFFLINE_MODEL] + ([self.agent.model_name] if self.agent else [])

    def warm_up(self) -> None:
        """Load the text model and the mood vocabulary now, not on the first viewer's turn."""
        self.understanding.read("something dark and funny")

    def respond(
        self,
        viewer: Viewer,
        text: str,
        *,
        conversation_id: str | None = None,
        earlier: Sequence[str] = (),
    ) -> Reply:
        """Answer one user message. `earlier` are previous user messages of a client that keeps no
        conversation id: their preferences are read into a new conversation before this turn."""
        with self._conversation_lock(conversation_id):
            state, reply = self._answer(viewer, self._state(viewer, conversation_id, earlier), text)
            state.show([card.title_id for card in reply.titles])
            state.turns += 1
            state.remember("user", text)
            state.remember("assistant", reply.text)
            self.store.save(state)
        return reply.model_copy(update={"conversation_id": state.id})

    def _answer(self, viewer: Viewer, state: DialogueState, text: str) -> tuple[DialogueState, Reply]:
        """The state after the turn and the reply; a failed LLM turn leaves no half-applied tool calls."""
        if self.agent is not None:
            before = state.model_copy(deep=True)
            tools = Toolbox(self.engine, viewer, state, self.lexicon)
            try:
                answer = self.agent.turn(text, tools, transcript=state.transcript)
                grounded = ground(answer, tools)
                reply = Reply(
                    text=grounded.text,
                    titles=grounded.titles,
                    mode="llm",
                    invented=grounded.invented,
                    tool_calls=tools.calls,
                )
                return state, reply
            except LLMUnavailable as exc:
                log.warning("LLM turn failed, offline policy answers: %s", exc, exc_info=exc.__cause__)
                reply = self._offline(viewer, before, text)
                notice = f"The language model is unavailable ({exc}); the offline assistant answered."
                said = f"_{notice}_\n\n{reply.text}"  # plain clients read only the text: it says so too
                return before, reply.model_copy(update={"degraded": True, "notice": notice, "text": said})
        return state, self._offline(viewer, state, text)

    def _offline(self, viewer: Viewer, state: DialogueState, text: str) -> Reply:
        tools = Toolbox(self.engine, viewer, state, self.lexicon)
        reply = self.policy.turn(text, tools)
        return reply.model_copy(update={"tool_calls": tools.calls})

    def _state(self, viewer: Viewer, conversation_id: str | None, earlier: Sequence[str]) -> DialogueState:
        if conversation_id is not None:
            state = self.store.get(conversation_id, viewer.profile_id)
            if state is not None:
                return state
            if self.store.owner(conversation_id) is not None:
                raise UnknownConversationError(f"unknown conversation {conversation_id!r}")
            state = DialogueState(id=conversation_id, profile_id=viewer.profile_id)
        else:
            state = DialogueState(profile_id=viewer.profile_id)
        for said in _latest(earlier, EARLIER_CHARS):
            state.preferences = state.preferences.merged(self.understanding.read(said).update)
            state.remember("user", said)
        return state

    def _conversation_lock(self, conversation_id: str | None) -> threading.Lock:
        """Turns of one conversation take turns; different conversations run side by side."""
        if conversation_id is None:
            return threading.Lock()  # a new conversation: nobody else can know its id yet
        return self._locks[zlib.crc32(conversation_id.encode()) % len(self._locks)]

    def close(self) -> None:
        self.store.close()


def _latest(messages: Sequence[str], budget: int) -> list[str]:
    """The latest messages whose length fits the budget (the oldest of them cut to fit), oldest first."""
    kept: list[str] = []
    for said in reversed(messages):
        if budget <= 0:
            break
        kept.append(said[-budget:])
        budget -= len(said)
    return kept[::-1]
