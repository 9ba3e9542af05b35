"""The assistant pane: the profile's conversation, a streamed reply, and its picks as cards.

The reply is the assistant's text shown as plain markdown (never as HTML). The API's `marquee` extension
names the conversation, the mode (offline policy or LLM) and the titles, which become cards with the
same buttons as the homepage.
"""

from __future__ import annotations

from collections.abc import Iterator

import streamlit as st

from ui import cards, panel, state
from ui.client import ApiError, ChatMeta, MarqueeClient

OFFLINE_NOTE = "Offline assistant: answers come from Marquee's built-in dialogue policy, not an LLM."
PROMPT = "Ask for something to watch…"


def render(client: MarqueeClient, pid: str, *, height: int = 640) -> None:
    convo = state.conversation(pid)
    st.subheader("Ask Marquee", anchor=False)
    history = st.container(height=height, border=True, key="chat-history")
    with history:
        if not convo.messages:
            st.caption('Try "a funny animated movie for tonight" or "something like Heat, but shorter".')
        for i, message in enumerate(convo.messages):
            show(client, message, i)
    prompt = st.chat_input(PROMPT, key="chat-input", max_chars=2000)
    if prompt:
        with history:
            turn(client, pid, convo, prompt)


def show(client: MarqueeClient, message: state.Message, index: int) -> None:
    with st.chat_message(message.role):
        st.markdown(message.content)
        extras(client, message.meta, index)


def extras(client: MarqueeClient, meta: ChatMeta | None, index: int) -> None:
    if meta is None:
        return
    if meta.titles:
        surface = cards.Surface(f"chat.{index}", "chat")
        cards.strip(client, meta.titles, surface, width=cards.NARROW_CARD_WIDTH)
        panel.below(client, surface.key, narrow=True)
    if meta.mode == "offline":
        st.caption(f":material/cloud_off: {OFFLINE_NOTE}")
    if meta.notice:
        st.caption(f":material/info: {meta.notice}")


def turn(client: MarqueeClient, pid: str, convo: state.Conversation, prompt: str) -> None:
    """Send one user message, stream the answer into the pane, keep both in the conversation."""
    convo.messages.append(state.Message("user", prompt))
    with st.chat_message("user"):
        st.markdown(prompt)
    # After the first turn the API holds the history; the new message is all it needs.
    history = [{"role": "user", "content": prompt}]
    if convo.conversation_id is None:
        history = [{"role": m.role, "content": m.content} for m in convo.messages]
    found: list[ChatMeta] = []

    def pieces() -> Iterator[str]:
        for piece in client.chat_stream(
            pid, history, conversation_id=convo.conversation_id, model=_model(client)
        ):
            if isinstance(piece, ChatMeta):
                found.append(piece)
            else:
                yield piece

    with st.chat_message("assistant"):
        try:
            text = st.write_stream(pieces())
        except ApiError as exc:
            convo.messages.pop()  # not answered: let the user send it again
            st.error(_failure(exc))
            return
        text = text if isinstance(text, str) else "".join(str(t) for t in text)
        meta = found[-1] if found else None
        extras(client, meta, len(convo.messages))
    convo.messages.append(state.Message("assistant", text, meta=meta))
    if meta is not None:
        convo.conversation_id = meta.conversation_id or convo.conversation_id
        convo.mode, convo.notice = meta.mode, meta.notice
    state.invalidate()  # the assistant may have recorded feedback ("seen it", "not that")


def _model(client: MarqueeClient) -> str:
    """The first model the API lists (looked up once per session)."""
    if "chat-model" not in st.session_state:
        listed = client.models()
        st.session_state["chat-model"] = listed[0] if listed else "marquee-offline"
    return str(st.session_state["chat-model"])


def _failure(exc: ApiError) -> str:
    if exc.status == 404 and exc.field is None:
        return "The assistant is not available on this API (POST /v1/chat/completions answered 404)."
    return f"The assistant could not answer: {exc.message}"
