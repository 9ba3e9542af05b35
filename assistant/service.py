"""The assistant: one entry point over both dialogue drivers, with persisted conversations.

An LLM driver answers when one is configured and the client did not ask for `marquee-offline`; the
offline policy answers otherwise, and takes over any turn the LLM fails (the reply then says it is
degraded), at once while the circuit breaker is open. A reply whose picks came from the engine's
fallback (the title index away: popular titles under the same filters) says it is degraded too. Either
way the reply's titles are grounded in the catalog and never repeat what the viewer has seen or turned
down. The reply's text goes to `emit` as it is written; a turn whose client went away (`cancel`) stops
and saves nothing.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable, Sequence

from assistant.agent import LLMAgent
from assistant.comentions import CoMentions
from assistant.dialogue_ranking import DialogueRanker, Turn
from assistant.lexicon import Lexicon
from assistant.llm_client import ChatClient, Deadline, LLMUnavailable, breaker_for, skipped
from assistant.llm_plan import PlanDriver
from assistant.llm_style import PLAIN, Style
from assistant.policy import OfflinePolicy
from assistant.reply import Emit, Reply
from assistant.search_reading import search_intent
from assistant.state import ConversationStore, DialogueState
from assistant.tools import Toolbox, Viewer
from assistant.understanding import Understanding
from engine import Engine, LLMSettings

OFFLINE_MODEL = "marquee-offline"
CONVERSATION_LOCKS = 64
OFFLINE_RESERVE_S = 2.0  # of the turn budget, kept for the offline policy when the LLM fails
# A client's earlier messages are read into a new conversation newest first, up to this many characters in
# all: the latest say the most, and a 100-message history costs a turn about what one long message does.
EARLIER_CHARS = 2400
ENGINE_NOTICE = "Part of the recommender is unavailable; these picks are popular titles that fit."
log = logging.getLogger("marquee.assistant")


class Assistant:
    def __init__(
        self,
        engine: Engine,
        store: ConversationStore,
        *,
        llm: LLMSettings | None = None,
        comentions: CoMentions | None = None,
    ) -> None:
        self.engine = engine
        self.store = store
        self.lexicon = Lexicon.for_engine(engine)
        self.understanding = Understanding(self.lexicon, dict(engine.titles()), engine)
        self.policy = OfflinePolicy(self.understanding)
        # What real recommenders suggest after the titles a conversation names (ReDial, when present).
        known = engine.titles()
        self.ranking = DialogueRanker(
            engine,
            self.lexicon.titles,
            comentions if comentions is not None else CoMentions.for_settings(engine.settings(), known),
        )
        self.agent: LLMAgent | PlanDriver | None = None
        self.llm: LLMSettings | None = None
        if llm is not None and llm.base_url:
            self.connect(llm)
        # Striped: a fixed set of locks, so serving many conversations does not grow a lock per id.
        self._locks = [threading.Lock() for _ in range(CONVERSATION_LOCKS)]

    @classmethod
    def open(cls, engine: Engine) -> Assistant:
        """The assistant for a loaded engine, its conversations beside the engine's other state (in
        PostgreSQL, where every replica continues them, when the engine's state is there)."""
        return cls(engine, ConversationStore(engine.conversations()), llm=engine.settings().llm)

    def connect(self, llm: LLMSettings | None) -> None:
        """Answer with this LLM from now on (None: the offline policy only); one breaker per endpoint."""
        self.llm = llm
        if llm is None:
            self.agent = None
        elif llm.driver == "react":
            self.agent = LLMAgent(llm, breaker_for(llm))
        else:
            self.agent = PlanDriver(ChatClient(llm, breaker_for(llm)), self.policy, reply=llm.reply)

    @property
    def models(self) -> list[str]:
        """Model ids a chat client may ask for; each is answered by this assistant."""
        return [OFFLINE_MODEL] + ([self.llm.model] if self.agent and self.llm else [])

    def warm_up(self) -> None:
        """Load the text model and the mood vocabulary now, not on the first viewer's turn."""
        self.understanding.read("something dark and funny")

    def rank(self, viewer: Viewer, messages: Sequence[Turn], k: int = 10) -> list[int]:
        """The catalog ranked for a conversation so far (user and assistant messages, oldest first):
        title ids, best first, none the conversation named or the viewer has seen."""
        return self.ranking.rank(messages, viewer.context(), k)

    def respond(
        self,
        viewer: Viewer,
        text: str,
        *,
        conversation_id: str | None = None,
        earlier: Sequence[str] = (),
        model: str | None = None,
        style: Style = PLAIN,
        cancel: threading.Event | None = None,
        emit: Callable[[str], None] | None = None,
    ) -> Reply:
        """Answer one user message. `earlier` are previous user messages of a client that keeps no
        conversation id: their preferences are read into a new conversation before this turn. `model`
        OFFLINE_MODEL always means the offline policy. Raises TurnCancelled when `cancel` is set."""
        budget = self.llm.turn_budget_s if self.llm else 0.0
        deadline = Deadline(max(1.0, budget - OFFLINE_RESERVE_S), cancel or threading.Event())
        with self._conversation_lock(conversation_id):
            state = self._state(viewer, conversation_id, earlier)
            state, reply = self._answer(viewer, state, text, model, style, deadline, emit or _ignore)
            deadline.check()  # the client left while the turn was answered: keep nothing of it
            state.show([card.title_id for card in reply.titles])
            state.turns += 1
            state.remember("user", text)
            state.remember("assistant", reply.text)
            self.store.save(state)
        return reply.model_copy(update={"conversation_id": state.id})

    def _answer(
        self,
        viewer: Viewer,
        state: DialogueState,
        text: str,
        model: str | None,
        style: Style,
        deadline: Deadline,
        emit: Callable[[str], None],
    ) -> tuple[DialogueState, Reply]:
        """The state after the turn and the reply; a failed LLM turn leaves no half-applied tool calls."""
        if self.agent is None or model == OFFLINE_MODEL:
            return state, self._offline(viewer, state, text, emit)
        before = state.model_copy(deep=True)
        tools = self.toolbox(viewer, state)
        try:
            if wait := self.agent.breaker.open_for():
                raise skipped(wait)  # before any reading: an open breaker answers at offline speed
            if isinstance(self.agent, PlanDriver):
                if state.offer:  # an answer to "Shall I drop ...?" is the policy's to read
                    reply = self.policy.turn(text, tools, emit)
                else:
                    reading = self.understanding.read(text, shown=state.last_shown)
                    reply = self.agent.turn(
                        text, tools, reading, deadline=deadline, transcript=state.transcript,
                        style=style, emit=emit,
                    )  # fmt: skip
            else:
                reply = self.agent.turn(
                    text, tools, deadline=deadline, transcript=state.transcript, style=style, emit=emit
                )
            return state, _flagged(reply.model_copy(update={"tool_calls": tools.calls}), tools)
        except LLMUnavailable as exc:
            log.warning("LLM turn failed, offline policy answers: %s", exc, exc_info=exc.__cause__)
            notice = f"The language model is unavailable ({exc}); the offline assistant answered."
            said = f"_{notice}_\n\n"  # plain clients read only the text: it says so too
            emit(said)
            reply = self._offline(viewer, before, text, emit)
            return before, reply.model_copy(
                update={"degraded": True, "notice": notice, "text": said + reply.text}
            )

    def _offline(self, viewer: Viewer, state: DialogueState, text: str, emit: Emit) -> Reply:
        tools = self.toolbox(viewer, state)
        reply = self.policy.turn(text, tools, emit)
        return _flagged(reply.model_copy(update={"tool_calls": tools.calls}), tools)

    def toolbox(self, viewer: Viewer, state: DialogueState) -> Toolbox:
        """The turn's tools; their search reads a query as the search box does, for both drivers."""
        return Toolbox(
            self.engine,
            viewer,
            state,
            self.lexicon,
            self.ranking,
            read_query=lambda query: search_intent(self.understanding, query),
        )

    def _state(self, viewer: Viewer, conversation_id: str | None, earlier: Sequence[str]) -> DialogueState:
        if conversation_id is not None:
            state = self.store.get(conversation_id, viewer.profile_id)
            if state is not None:
                return state
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


def _flagged(reply: Reply, tools: Toolbox) -> Reply:
    """The reply marked degraded when an engine answer it drew on came from a fallback."""
    if not tools.degraded or reply.degraded:
        return reply
    return reply.model_copy(update={"degraded": True, "notice": ENGINE_NOTICE})


def _ignore(piece: str) -> None:
    """The default `emit`: a caller that wants the reply whole reads it from the Reply."""


def _latest(messages: Sequence[str], budget: int) -> list[str]:
    """The latest messages whose length fits the budget (the oldest of them cut to fit), oldest first."""
    kept: list[str] = []
    for said in reversed(messages):
        if budget <= 0:
            break
        kept.append(said[-budget:])
        budget -= len(said)
    return kept[::-1]
