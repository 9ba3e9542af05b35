"""Marquee's Streamlit app: pick a profile, then its home screen beside the assistant.

Run it with `marquee ui` (or `streamlit run ui/app.py`). It is a client of the HTTP API only: the API's
address and key come from `MARQUEE_UI__API_URL` / `MARQUEE_UI__API_KEY` or the sidebar; without a key
it creates an account for this browser session.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

if __package__ in (None, ""):  # `streamlit run ui/app.py` runs this file as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ui import cards, chat, home, profiles, state  # noqa: E402
from ui.client import ApiError, MarqueeClient  # noqa: E402
from ui.config import UiSettings  # noqa: E402

FLASH = {
    "success": lambda m: st.toast(m, icon=":material/check_circle:"),
    "info": lambda m: st.toast(m, icon=":material/info:"),
    "error": st.error,
}
PANE_HEIGHT = 640  # px: the rows and the chat scroll inside panes this tall, side by side


def connect(settings: UiSettings) -> MarqueeClient | None:
    """This session's client; an account is created once when no key is configured."""
    with st.sidebar:
        st.header("Marquee", anchor=False)
        url = st.text_input("API URL", value=settings.api_url, key="api-url").strip().rstrip("/")
        configured = settings.api_key.get_secret_value() if settings.api_key else ""
        typed = st.text_input("API key", value=configured, key="api-key", type="password").strip()
    key = typed or st.session_state.get("created-key")
    current = state.client()
    if current is None or current.base_url != url or (key and current.api_key != key):
        state.set_client(MarqueeClient(url, key or None, timeout=settings.timeout_s))
        state.choose_profile(None)
        current = state.client()
    assert current is not None
    if current.api_key is None:
        try:
            st.session_state["created-key"] = current.create_account("Marquee UI")
        except ApiError as exc:
            st.error(f"{exc.message}. Start the API with `marquee serve` or set MARQUEE_UI__API_URL.")
            return None
    return current


def sidebar(client: MarqueeClient) -> None:
    with st.sidebar:
        asked = f"api-version:{client.base_url}"  # asked once per API: it changes only on a restart
        if asked not in st.session_state:
            st.session_state[asked] = client.version()
        st.caption(f"API version {st.session_state[asked] or 'unknown'}")
        if "created-key" in st.session_state and not st.session_state.get("api-key"):
            with st.expander("This session's API key"):
                st.caption("Created for this browser session. Paste it above to come back to its profiles.")
                st.code(st.session_state["created-key"], language=None)


def header() -> str:
    """The bar above the home screen: brand, who is watching, search; returns the search query."""
    with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
        st.markdown("### :red[MARQUEE]")
        query = home.search_box()
        st.button(
            cards.escape(state.profile_name() or "Profile"),
            key="switch-profile",
            icon=":material/account_circle:",
            help="Switch profile",
            on_click=state.choose_profile,
            args=(None,),
        )
        st.button(":material/refresh:", key="refresh-rows", help="Refresh rows", on_click=state.invalidate)
    return query


def main() -> None:
    st.set_page_config(
        page_title="Marquee", page_icon=":material/movie:", layout="wide", initial_sidebar_state="collapsed"
    )
    settings = UiSettings()
    client = connect(settings)
    if client is None:
        return
    sidebar(client)
    for kind, message in state.pop_flashes():
        FLASH[kind](message)
    pid = state.profile_id()
    if pid is None:
        profiles.picker(client)
        return
    if state.onboarding():
        profiles.onboarding(client, pid)
        return
    query = header()
    rows_pane, chat_pane = st.columns([2, 1], gap="medium")
    with chat_pane:  # first: a chat turn may change what the rows should show
        chat.render(client, pid, height=PANE_HEIGHT - 130)
    with rows_pane, st.container(height=PANE_HEIGHT, border=False, key="rows-pane"):
        home.render(client, pid, query=query, items_per_row=settings.items_per_row, device=settings.device)


main()
