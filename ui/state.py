"""What one browser session keeps in `st.session_state`: its API client and key, the chosen profile, the
homepage it was shown, the open panel and one conversation per profile. Nothing per-user lives anywhere
else (no `st.cache_resource`), so two people on one server never see each other's state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from ui.client import Card, ChatMeta, MarqueeClient, Page


@dataclass
class Message:
    role: str  # "user" or "assistant"
    content: str
    titles: tuple[Card, ...] = ()
    meta: ChatMeta | None = None


@dataclass
class Conversation:
    """One profile's chat: the id the API gave it and what was said, for redrawing the pane."""

    conversation_id: str | None = None
    messages: list[Message] = field(default_factory=list)
    mode: str | None = None
    notice: str | None = None


@dataclass
class Panel:
    """What a card's "more like this" or "details" opens, right under the strip of cards it came from."""

    kind: str  # "similar" | "details"
    heading: str
    anchor: str  # the key of that strip's surface ("row.top_picks", "search", "chat.3")
    cards: tuple[Card, ...] = ()
    details: Any = None


def _slot(name: str, default: Any) -> Any:
    if name not in st.session_state:
        st.session_state[name] = default
    return st.session_state[name]


def client() -> MarqueeClient | None:
    return st.session_state.get("client")


def set_client(new: MarqueeClient) -> None:
    old = st.session_state.get("client")
    if old is not None and old is not new:
        old.close()
    st.session_state["client"] = new


def profile_id() -> str | None:
    return st.session_state.get("profile_id")


def choose_profile(pid: str | None, name: str = "", *, onboarding: bool = False) -> None:
    st.session_state["profile_id"] = pid
    if pid is None or name:
        st.session_state["profile_name"] = name
    st.session_state["onboarding"] = onboarding
    st.session_state.pop("panel", None)
    invalidate()


def profile_name() -> str:
    return str(st.session_state.get("profile_name") or "")


def onboarding() -> bool:
    return bool(st.session_state.get("onboarding"))


def conversation(pid: str) -> Conversation:
    conversations: dict[str, Conversation] = _slot("conversations", {})
    return conversations.setdefault(pid, Conversation())


def page() -> tuple[Page | None, str | None]:
    """The homepage last fetched and its id (fresh per fetch, so impressions go out once per page)."""
    return st.session_state.get("page"), st.session_state.get("page_id")


def set_page(new: Page, page_id: str) -> None:
    st.session_state["page"] = new
    st.session_state["page_id"] = page_id


def invalidate() -> None:
    """Something changed what the profile should see: fetch rows and search results again."""
    st.session_state.pop("page", None)
    st.session_state.pop("page_id", None)
    st.session_state["version"] = st.session_state.get("version", 0) + 1


def version() -> int:
    return int(st.session_state.get("version", 0))


def impressions_sent(page_id: str) -> bool:
    return page_id in _slot("impressed", set())


def mark_impressions_sent(page_id: str) -> None:
    _slot("impressed", set()).add(page_id)


def panel() -> Panel | None:
    return st.session_state.get("panel")


def set_panel(new: Panel | None) -> None:
    st.session_state["panel"] = new


def flash(message: str, kind: str = "success") -> None:
    """A message for the next render (callbacks run before it): "success", "info" or "error"."""
    _slot("flashes", []).append((kind, message))


def pop_flashes() -> list[tuple[str, str]]:
    out = list(st.session_state.get("flashes", []))
    st.session_state["flashes"] = []
    return out
